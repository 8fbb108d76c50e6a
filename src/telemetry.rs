//! Structured logs with `tracing`; level from `RUST_LOG` (default `info`), format from
//! `OFFERDESK_LOG_FORMAT` (`text`, the default, or `json`: one JSON object per line with the
//! span fields — the request id among them — for a log pipeline).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("OFFERDESK_LOG_FORMAT")
        .map(|f| f.trim().eq_ignore_ascii_case("json"))
        .unwrap_or(false);
    // Logs go to stderr: stdout carries what commands print for scripts (an API key).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
