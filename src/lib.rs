//! offerdesk — an Offer Management System: offers, coupon codes, issuance, redemption,
//! reminders. The binary in `main.rs` is a thin CLI over this library.

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
