//! `bench soak --minutes M --rate R [--database-url URL]`: M minutes of mixed traffic at a
//! fixed rate of R requests a second (an open loop: a request starts on its tick whether or not
//! the earlier ones have answered), on one server and database — 35% redemptions, 30%
//! validations (`is_redeemable`), 25% issues to new customers (codes made on demand) and 10%
//! console pages (the signed-in offers dashboard). Every minute it prints the minute's requests,
//! errors, p50 and p99 and the process's resident memory; the last line summarises the first
//! and the last minute: flat memory and latency over time is the pass.

use super::redeem::{Conn, serve};
use super::{FreshDb, issue_audience, offer_for, org_and_offer};
use anyhow::{Context, bail};
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::org::{Currency, OrgSettings};
use offerdesk::domain::user::Actor;
use offerdesk::store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EMAIL: &str = "soak@bench.example.com";
const PASSWORD: &str = "soak-bench-password-1";

#[derive(Clone, Copy)]
enum Kind {
    Redeem,
    Validate,
    Issue,
    Console,
}

impl Kind {
    /// The mix: of every 20 requests, 7 redeem, 6 validate, 5 issue, 2 console pages.
    fn of(i: u64) -> Kind {
        match i % 20 {
            0..=6 => Kind::Redeem,
            7..=12 => Kind::Validate,
            13..=17 => Kind::Issue,
            _ => Kind::Console,
        }
    }
}

/// One answered (or failed) request: the minute it started in and its latency.
struct Sample {
    minute: u64,
    ms: f64,
    ok: bool,
}

/// What every request needs.
struct Traffic {
    addr: String,
    key: String,
    cookie: String,
    issue_offer: OfferId,
    pairs: Vec<(String, String)>,
    redeemed: AtomicUsize,
    idle: Mutex<Vec<Conn>>,
    samples: Mutex<Vec<Sample>>,
}

impl Traffic {
    async fn one(&self, i: u64, minute: u64) {
        let pooled = self.idle.lock().map(|mut p| p.pop()).unwrap_or(None);
        let mut conn = match pooled {
            Some(c) => c,
            None => match Conn::open(&self.addr).await {
                Ok(c) => c,
                Err(_) => return self.record(minute, 0.0, false),
            },
        };
        let (method, path, headers, body) = self.request(i);
        let mut t = Instant::now();
        let mut answer = conn.send(method, &path, &headers, &body).await;
        if answer.is_err() {
            // A keep-alive connection the server closed while it sat idle: a client opens a
            // new one and sends again (as HTTP clients do), timed from the new connection.
            match Conn::open(&self.addr).await {
                Ok(fresh) => conn = fresh,
                Err(_) => return self.record(minute, 0.0, false),
            }
            t = Instant::now();
            answer = conn.send(method, &path, &headers, &body).await;
        }
        let ok = matches!(&answer, Ok(a) if a.status == 200);
        self.record(minute, t.elapsed().as_secs_f64() * 1000.0, ok);
        match &answer {
            Ok(a) if a.status != 200 => {
                eprintln!("{method} {path} answered {}: {}", a.status, a.body);
            }
            _ => {}
        }
        if answer.is_ok()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(conn);
        }
    }

    /// Request `i` of the mix: (method, path, headers, body).
    fn request(&self, i: u64) -> (&'static str, String, String, String) {
        let json = format!(
            "Authorization: Bearer {}\r\nContent-Type: application/json\r\n",
            self.key
        );
        match Kind::of(i) {
            Kind::Redeem => {
                let n = self.redeemed.fetch_add(1, Ordering::Relaxed);
                let (code, mobile) = &self.pairs[n % self.pairs.len()];
                let body = format!(
                    r#"{{"transactionNumber":"S{i}","billAmount":150000,"storeCode":"S1","customer":{{"mobile":"{mobile}"}},"codes":["{code}"]}}"#
                );
                ("POST", "/api/v2/coupon/redeem".into(), json, body)
            }
            Kind::Validate => {
                // Codes at the end of the list, which the run does not redeem.
                let (code, mobile) = &self.pairs[self.pairs.len() - 1 - (i as usize % 100)];
                let path = format!(
                    "/api/v2/coupon/is_redeemable?code={code}&mobile={mobile}&storeCode=S1&billAmount=150000"
                );
                ("GET", path, json, String::new())
            }
            Kind::Issue => {
                let body = format!(
                    r#"{{"seriesId":{},"customer":{{"mobile":"8{i:09}"}}}}"#,
                    self.issue_offer
                );
                ("POST", "/api/v2/coupon/issue".into(), json, body)
            }
            Kind::Console => (
                "GET",
                "/offers".into(),
                format!("Cookie: {}\r\n", self.cookie),
                String::new(),
            ),
        }
    }

    fn record(&self, minute: u64, ms: f64, ok: bool) {
        if let Ok(mut s) = self.samples.lock() {
            s.push(Sample { minute, ms, ok });
        }
    }

    /// Takes the samples of `minute`: (requests, errors, p50, p99).
    fn minute(&self, minute: u64) -> (usize, usize, f64, f64) {
        let mut mine: Vec<Sample> = Vec::new();
        if let Ok(mut all) = self.samples.lock() {
            let (taken, kept): (Vec<Sample>, Vec<Sample>) =
                all.drain(..).partition(|s| s.minute == minute);
            *all = kept;
            mine = taken;
        }
        let errors = mine.iter().filter(|s| !s.ok).count();
        let mut ms: Vec<f64> = mine.iter().filter(|s| s.ok).map(|s| s.ms).collect();
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            if ms.is_empty() {
                0.0
            } else {
                ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1]
            }
        };
        (mine.len(), errors, pct(0.50), pct(0.99))
    }
}

/// The process's resident memory now (`VmRSS`), in MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Signs in on the console as a person does (the login page's CSRF token and cookie, then the
/// form); the session cookie.
async fn sign_in(addr: &str) -> anyhow::Result<String> {
    let mut conn = Conn::open(addr).await?;
    let page = conn.send("GET", "/login", "", "").await?;
    let cookie = session_cookie(&page.head).context("a session cookie from /login")?;
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.body.find(marker).context("a CSRF token")? + marker.len();
    let token = page.body[start..].split('"').next().unwrap_or_default();
    let form = serde_urlencoded::to_string([
        ("email", EMAIL),
        ("password", PASSWORD),
        ("csrf_token", token),
    ])?;
    let answer = conn
        .send(
            "POST",
            "/login",
            &format!("Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
            &form,
        )
        .await?;
    if answer.status != 303 {
        bail!("signing in answered {}", answer.status);
    }
    session_cookie(&answer.head).context("a session cookie after signing in")
}

fn session_cookie(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("set-cookie")
            .then(|| v.trim().split(';').next().unwrap_or_default().to_string())
    })
}

pub async fn bench_soak(db: &FreshDb, minutes: u64, rate: u64) -> anyhow::Result<()> {
    let store = Store::open(&db.url).await?;
    let (org, offer) = org_and_offer(&store).await?;
    let total = minutes * 60 * rate;
    // Every redemption gets a code of its own; 100 more are only validated.
    issue_audience(&store, org, offer, total * 7 / 20 + 120).await?;
    let pairs = store.issued_codes(offer).await?;
    let issue_offer = offer_for(&store, org, "Soak issue").await?;
    let (_, key) = store
        .create_api_key(org, "soak", None, 10_000_000, &Actor::system("bench"))
        .await?;
    let settings = OrgSettings {
        name: "Bench".into(),
        currency: Currency::parse("c", "INR").map_err(anyhow::Error::msg)?,
        time_zone: chrono_tz::Asia::Kolkata,
    };
    offerdesk::cli::create_admin(&store, &settings, EMAIL, PASSWORD).await?;
    let addr = serve(&store, &db.url).await?;
    let cookie = sign_in(&addr).await?;
    let traffic = Arc::new(Traffic {
        addr,
        key,
        cookie,
        issue_offer,
        pairs,
        redeemed: AtomicUsize::new(0),
        idle: Mutex::new(Vec::new()),
        samples: Mutex::new(Vec::new()),
    });

    println!(
        "backend={} minutes={minutes} rate={rate}",
        store.backend_name()
    );
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    let mut requests = tokio::task::JoinSet::new();
    let mut reported = 0u64;
    let mut minutes_seen: Vec<(usize, usize, f64, f64, f64)> = Vec::new();
    let mut report = |traffic: &Traffic, m: u64| {
        let (n, errors, p50, p99) = traffic.minute(m);
        let rss = rss_mb();
        println!(
            "minute={} requests={n} errors={errors} p50_ms={p50:.2} p99_ms={p99:.2} rss_mb={rss:.0}",
            m + 1
        );
        minutes_seen.push((n, errors, p50, p99, rss));
    };
    for i in 0..total {
        tick.tick().await;
        let minute = started.elapsed().as_secs() / 60;
        // A minute is reported once the requests started in it have had 5 s to answer.
        if minute > reported && started.elapsed().as_secs() % 60 >= 5 {
            report(&traffic, reported);
            reported += 1;
        }
        let t = traffic.clone();
        requests.spawn(async move { t.one(i, minute).await });
        while requests.try_join_next().is_some() {}
    }
    while requests.join_next().await.is_some() {}
    while reported < minutes.max(started.elapsed().as_secs().div_ceil(60)) {
        report(&traffic, reported);
        reported += 1;
    }
    let first = minutes_seen.first().copied().unwrap_or_default();
    let last = minutes_seen
        .iter()
        .rev()
        .find(|m| m.0 > 0)
        .copied()
        .unwrap_or_default();
    let errors: usize = minutes_seen.iter().map(|m| m.1).sum();
    println!("max_rss_mb={:.0}", super::max_rss_mb());
    println!(
        "soak minutes={minutes} rate={rate} requests={total} errors={errors} p99_first_ms={:.2} p99_last_ms={:.2} rss_first_mb={:.0} rss_last_mb={:.0}",
        first.3, last.3, first.4, last.4
    );
    Ok(())
}
