//! Prometheus metrics (`GET /metrics`, text format): request latency per route, redemptions,
//! jobs and outbox deliveries. Kept in one process-wide registry; each instance reports its
//! own, and Prometheus sums them.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::sync::OnceLock;

pub struct Metrics {
    registry: Registry,
    /// Seconds per request by method, route pattern (`/offers/{id}`) and status.
    pub http: HistogramVec,
    /// Redeem calls by outcome: `redeemed`, `replayed` or the refusal's code.
    pub redemptions: IntCounterVec,
    /// Finished background jobs by kind and outcome (`done`, `failed`).
    pub jobs: IntCounterVec,
    /// Outbox delivery attempts by channel and outcome (`sent`, `failed`).
    pub outbox: IntCounterVec,
}

pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let registry = Registry::new();
        let http = HistogramVec::new(
            HistogramOpts::new(
                "offerdesk_http_request_duration_seconds",
                "Time to answer a request, by method, route and status",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("a valid histogram");
        let redemptions = IntCounterVec::new(
            Opts::new(
                "offerdesk_redemptions_total",
                "Redeem calls by outcome (redeemed, replayed, or the refusal's code)",
            ),
            &["outcome"],
        )
        .expect("a valid counter");
        let jobs = IntCounterVec::new(
            Opts::new("offerdesk_jobs_total", "Finished background jobs"),
            &["kind", "outcome"],
        )
        .expect("a valid counter");
        let outbox = IntCounterVec::new(
            Opts::new(
                "offerdesk_outbox_deliveries_total",
                "Outbox delivery attempts",
            ),
            &["channel", "outcome"],
        )
        .expect("a valid counter");
        for c in [&redemptions, &jobs, &outbox] {
            let _ = registry.register(Box::new(c.clone()));
        }
        let _ = registry.register(Box::new(http.clone()));
        Metrics {
            registry,
            http,
            redemptions,
            jobs,
            outbox,
        }
    })
}

impl Metrics {
    /// Every metric in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
