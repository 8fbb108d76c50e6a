//! Integration tests: the real app over HTTP on a random port with a fresh database each,
//! on SQLite by default and on PostgreSQL when `TEST_POSTGRES_URL` is set.

mod admin;
mod api_keys;
mod api_paths;
mod assets;
mod auth;
mod browser;
mod carts;
mod claims;
mod console_cosmetics;
mod console_words;
mod coupons;
mod edit_preview;
mod helpers;
pub mod integration;
mod isolation;
pub mod issuing;
mod migrations;
mod observability;
pub mod offers;
mod outbox;
mod overview;
mod performance;
mod pickers;
mod products_console;
mod promotions_browser;
mod promotions_console;
pub mod reliability;
mod reminders;
mod revoke;
mod revoke_one;
mod roles;
mod sessions;
mod shutdown;
pub mod sinks;
mod words;
