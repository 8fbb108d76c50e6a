//! What every handler shares: the store, the settings, the job worker's handle and the API's
//! per-instance state. Its own module, so the console (`web`) and the API (`api`) both use it
//! without importing each other.

use crate::config::Settings;
use crate::store::Store;

/// Shared state of the console and API handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub jobs: crate::app::jobs::Jobs,
    /// Caches and rate limits of the integration API.
    pub api: crate::app::api_access::ApiState,
    /// Wakes this instance's scheduler to deliver the outbox now (a sign-in code should not
    /// wait for the next tick).
    pub outbox_wake: std::sync::Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Asks the scheduler (when this instance runs one) to deliver queued messages now.
    pub fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
    }
}
