//! `bench redeem`: N redeem calls over HTTP from C concurrent keep-alive clients, and the two
//! ceilings of the same run (#15): `http_floor_per_s` — the same clients, concurrency and key
//! calling `POST /api/v2/ping`, which answers fixed JSON without the database — and
//! `db_floor_per_s` — C tasks redeeming N other issued codes straight through
//! `app::redeem::redeem` (the same load, decision and guarded statements), no HTTP.
//!
//! The client is a minimal HTTP/1.1 keep-alive loop over a `TcpStream` (one request in flight
//! per connection), so the bench needs no HTTP client crate and measures the server, not a
//! client library.

use super::{FreshDb, issue_audience, offer_for, org_and_offer};
use anyhow::{Context, bail};
use offerdesk::config::Settings;
use offerdesk::domain::coupon::normalise_code;
use offerdesk::domain::ids::OrgId;
use offerdesk::domain::user::Actor;
use offerdesk::startup::Application;
use offerdesk::store::Store;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub async fn bench_redeem(db: &FreshDb, count: u64, concurrency: usize) -> anyhow::Result<()> {
    let store = Store::open(&db.url).await?;
    let (org, offer) = org_and_offer(&store).await?;
    issue_audience(&store, org, offer, count).await?;
    let pairs = store.issued_codes(offer).await?;
    if pairs.len() as u64 != count {
        bail!("setup: {} issued coupons, {count} expected", pairs.len());
    }
    // The database floor's codes: another offer, as many coupons, issued the same way.
    let floor_offer = offer_for(&store, org, "Bench floor").await?;
    issue_audience(&store, org, floor_offer, count).await?;
    let floor_pairs = store.issued_codes(floor_offer).await?;
    let (_, key) = store
        .create_api_key(org, "bench", None, 10_000_000, &Actor::system("bench"))
        .await?;

    let addr = serve(&store, &db.url).await?;

    let pairs = Arc::new(pairs);
    let (seconds, mut latencies) =
        http_run(&addr, &key, &pairs, concurrency, "/api/v2/coupon/redeem").await?;
    let redeemed = store.get_offer(org, offer).await?.redeemed_count;
    if redeemed as u64 != count || store.redemption_count(org, offer).await? as u64 != count {
        bail!("verification failed: {redeemed} redeemed, {count} expected");
    }
    // The ceilings, same run: the HTTP stack alone, then the database path alone.
    let (ping_seconds, _) = http_run(&addr, &key, &pairs, concurrency, "/api/v2/ping").await?;
    let db_seconds = db_run(&store, org, floor_pairs, concurrency).await?;
    let floor_redeemed = store.redemption_count(org, floor_offer).await? as u64;
    if floor_redeemed != count {
        bail!("db floor: {floor_redeemed} redeemed, {count} expected");
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!("backend={} verified={redeemed}", store.backend_name());
    println!("max_rss_mb={:.0}", super::max_rss_mb());
    println!(
        "redeem count={count} concurrency={concurrency} seconds={seconds:.2} redeems_per_s={:.0} p50_ms={:.2} p99_ms={:.2} http_floor_per_s={:.0} db_floor_per_s={:.0}",
        count as f64 / seconds,
        pct(0.50),
        pct(0.99),
        count as f64 / ping_seconds,
        count as f64 / db_seconds,
    );
    Ok(())
}

/// Serves the app on loopback (no scheduler) over `store`; its address.
pub(crate) async fn serve(store: &Store, url: &str) -> anyhow::Result<String> {
    let mut settings = Settings::from_lookup(|_| None).map_err(anyhow::Error::msg)?;
    settings.database_url = url.to_string();
    settings.bind = "127.0.0.1:0".into();
    settings.scheduler = false;
    let app = Application::build_with_store(settings, store.clone()).await?;
    let addr = format!("127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Ok(addr)
}

/// N calls of `path` with each pair's redeem body from `concurrency` keep-alive clients taking
/// the next pair from a shared cursor; (seconds, latencies in ms). Every answer must be 200.
async fn http_run(
    addr: &str,
    key: &str,
    pairs: &Arc<Vec<(String, String)>>,
    concurrency: usize,
    path: &'static str,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (pairs, next, addr, key) = (
            pairs.clone(),
            next.clone(),
            addr.to_string(),
            key.to_string(),
        );
        clients.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await?;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((code, mobile)) = pairs.get(i) else {
                    break;
                };
                let body = redeem_body(&format!("B{i}"), code, mobile);
                let t = Instant::now();
                let (status, answer) = conn.post(path, &key, &body).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                if status != 200 {
                    bail!("{path} for {code} answered {status}: {answer}");
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(pairs.len());
    for c in clients {
        latencies.extend(c.await??);
    }
    Ok((started.elapsed().as_secs_f64(), latencies))
}

/// The redeem call's body for one code and its customer.
fn redeem_body(transaction: &str, code: &str, mobile: &str) -> String {
    format!(
        r#"{{"transactionNumber":"{transaction}","billAmount":150000,"storeCode":"S1","customer":{{"mobile":"{mobile}"}},"codes":["{code}"]}}"#
    )
}

/// The same redemptions straight through the use case by `concurrency` tasks, no HTTP;
/// seconds.
async fn db_run(
    store: &Store,
    org: OrgId,
    pairs: Vec<(String, String)>,
    concurrency: usize,
) -> anyhow::Result<f64> {
    use offerdesk::app::redeem::{OfferCache, redeem};
    use offerdesk::domain::issue::CustomerRef;
    use offerdesk::domain::masters::IdentifierType;
    use offerdesk::domain::redemption::{RedeemRequest, Redeemed};
    let pairs = Arc::new(pairs);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cache = OfferCache::default();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (pairs, next, store, cache) =
            (pairs.clone(), next.clone(), store.clone(), cache.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((code, mobile)) = pairs.get(i) else {
                    break;
                };
                let req = RedeemRequest {
                    org_id: org,
                    transaction_number: format!("D{i}"),
                    bill_amount: 150000,
                    bill_unknown: false,
                    store_code: Some("S1".into()),
                    till_code: None,
                    customer: Some(
                        CustomerRef::parse(IdentifierType::Mobile, mobile)
                            .map_err(anyhow::Error::msg)?,
                    ),
                    codes: vec![normalise_code(code).context("a blank code")?],
                    lines: Vec::new(),
                    api_key_id: None,
                    consumer_id: None,
                };
                let done = redeem(&store, &cache, &req).await?;
                if !matches!(done, Redeemed::Done { replay: false, .. }) {
                    bail!("db floor: {code} was not redeemed: {done:?}");
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// An answer: status, head (status line and headers) and body.
pub(crate) struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Conn {
    pub(crate) async fn open(addr: &str) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends a JSON POST with the API key and reads the whole answer: (status, body).
    async fn post(&mut self, path: &str, key: &str, body: &str) -> anyhow::Result<(u16, String)> {
        let a = self
            .send(
                "POST",
                path,
                &format!("Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"),
                body,
            )
            .await?;
        Ok((a.status, a.body))
    }

    /// Sends a request (`headers`: extra header lines, each ending in CRLF) and reads the
    /// whole answer, which must carry a Content-Length.
    pub(crate) async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> anyhow::Result<Answer> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p + 4;
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("the server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_string();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("an HTTP status line")?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .context("a Content-Length")?;
        while self.buf.len() < head_end + length {
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("the server closed the connection mid-answer");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&self.buf[head_end..head_end + length]).to_string(),
            head,
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
