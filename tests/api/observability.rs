//! Metrics and logs an operator reads (issue 14.7): `/metrics` in Prometheus' format with
//! request latency per route and redemption counts, guarded by a token when one is set; JSON
//! logs with the request id when `OFFERDESK_LOG_FORMAT=json`.

use crate::helpers::{spawn_app, spawn_app_with};
use crate::integration::Api;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn metrics_count_requests_by_route_and_redemptions_by_outcome() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    let code = api.issue(offer, "9800000001").await;
    let before = reqwest::get(format!("{}/metrics", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let redeemed = |text: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with("offerdesk_redemptions_total{outcome=\"redeemed\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let (status, _) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "M1", "billAmount": 1000, "customer": {"mobile": "9800000001"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "M2", "billAmount": 1000, "customer": {"mobile": "9800000001"}, "codes": ["NOPE"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = reqwest::get(format!("{}/metrics", app.address))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()
            .get("x-request-id")
            .is_some_and(|v| !v.is_empty()),
        "every answer names its request"
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    // The registry is shared by the test binary's apps: compare with before.
    assert!(redeemed(&text) > redeemed(&before), "{text}");
    assert!(text.contains("offerdesk_redemptions_total{outcome=\"unknown_code\"}"));
    assert!(
        text.contains("route=\"/api/v2/coupon/redeem\""),
        "latency per route pattern: {text}"
    );
    assert!(text.contains("offerdesk_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn a_metrics_token_keeps_metrics_private() {
    let app = spawn_app_with(|s| s.metrics_token = Some("s3cret-metrics".into())).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .get(format!("{}/metrics", app.address))
        .bearer_auth("s3cret-metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn json_logs_carry_the_request_id() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_offerdesk"))
        .current_dir(dir.path())
        .env_clear()
        .env("OFFERDESK_BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", "sqlite:logs.db")
        .env("OFFERDESK_SCHEDULER", "false")
        .env("OFFERDESK_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if reqwest::get(format!("{base}/login")).await.is_ok() {
            up = true;
            break;
        }
        // Not a job wait: the child process is still starting to listen.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the binary serves");
    let _ = child.kill();
    let stderr = child.stderr.take().unwrap();
    let lines: Vec<String> = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let _ = child.wait();
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = parsed
        .iter()
        .find(|v| {
            v["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("GET /login"))
        })
        .unwrap_or_else(|| panic!("a line for the request: {lines:?}"));
    assert!(
        request["span"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{request}"
    );
    assert_eq!(request["fields"]["status"], 200);
}
