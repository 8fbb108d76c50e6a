//! offerdesk — an Offer Management System: offers, coupon codes, issuance, redemption,
//! reminders. The binary in `main.rs` is a thin CLI over this library.

/// mimalloc instead of the system allocator: a cart evaluation or a redemption allocates many
/// small short-lived values (JSON, rows, SQL text), which glibc malloc served with locks and
/// consolidation (~20% of a cart benchmark's samples).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod edge;
pub mod metrics;
pub mod notify;
pub mod passwords;
pub mod scheduler;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
