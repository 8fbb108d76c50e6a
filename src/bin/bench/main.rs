//! Benchmarks that print their figures.
//!
//! `bench generate --count N [--database-url URL]`: a fresh database (a SQLite file in a temp
//! directory, or a new database on the PostgreSQL server of URL, dropped afterwards), one org
//! and one offer, then N unique codes through `Store::generate_codes` — the path the console
//! uses — and a count to verify. Last line: `generate count=N seconds=S codes_per_s=R`.
//!
//! `bench issue --count N [--database-url URL]`: the same fresh database with N generated
//! codes (not timed), then a bulk-issue job of an N-customer CSV audience run by the job
//! worker — the console's path, from the stored upload to the result file — verified by the
//! offer's issued counter. Last line: `issue count=N seconds=S issues_per_s=R`.
//!
//! `bench redeem --count N --concurrency C [--database-url URL]`: a fresh database with an
//! offer of N unique codes issued to N customers (not timed), the app serving on loopback, then
//! N redeem calls (`POST /api/v2/coupon/redeem`, one code each, with the customer and a bill)
//! from C concurrent keep-alive clients, each waiting for its answer before the next (a closed
//! loop). Every call must answer 200 and the offer must count N redemptions. Last line:
//! `redeem count=N concurrency=C seconds=S redeems_per_s=R p50_ms=A p99_ms=B http_floor_per_s=H
//! db_floor_per_s=D` (the two ceilings measured in the same run; see redeem.rs).
//!
//! `bench events --count N --concurrency C [--database-url URL]`: 50 live earned promotions,
//! then N events (`POST /api/v2/events`) of 10,000 customers from C clients; in the same run the
//! HTTP floor (ping) and the database floor (the same events through `app::holds::record_event`
//! from C tasks, no HTTP). Last line: `events count=N concurrency=C seconds=S events_per_s=R
//! p99_ms=B http_floor_per_s=H db_floor_per_s=D` (events.rs).
//!
//! `bench soak --minutes M --rate R [--database-url URL]`: mixed traffic at a fixed rate, p50,
//! p99 and memory per minute (soak.rs).

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use offerdesk::domain::coupon::{CodeFormat, check_code_space, random_codes};
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::domain::offer::Charset;
use offerdesk::domain::offer::form::{OfferContext, OfferForm, parse};
use offerdesk::domain::org::{Currency, OrgSettings};
use offerdesk::domain::user::Actor;
use offerdesk::store::Store;
use rand::RngExt;
use sqlx::Connection;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "bench", about = "offerdesk benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate and persist N unique codes for one offer.
    Generate {
        #[arg(long)]
        count: u64,
        /// A PostgreSQL server (postgres://user@host/db); a fresh database is made on it.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Redeem N issued codes through the HTTP API from C concurrent clients.
    Redeem {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// A PostgreSQL server (postgres://user@host/db); a fresh database is made on it.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Mixed traffic at a fixed rate for M minutes: latency and memory per minute.
    Soak {
        #[arg(long, default_value_t = 10)]
        minutes: u64,
        /// Requests a second.
        #[arg(long, default_value_t = 100)]
        rate: u64,
        /// A PostgreSQL server (postgres://user@host/db); a fresh database is made on it.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// P live promotions, then N open and N closed L-line carts through the cart API from C
    /// concurrent clients.
    Cart {
        #[arg(long, default_value_t = 250)]
        promotions: usize,
        #[arg(long, default_value_t = 20)]
        lines: usize,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Uses recorded earlier this month, spread over the limited promotions (a fifth of
        /// them), for the limits to count.
        #[arg(long, default_value_t = 0)]
        history: u64,
        /// A PostgreSQL server (postgres://user@host/db); a fresh database is made on it.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// 50 live earned promotions, then N customers' events through `POST /api/v2/events`
    /// from C concurrent clients, with the HTTP and database floors of the same run.
    Events {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// A PostgreSQL server (postgres://user@host/db); a fresh database is made on it.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Bulk-issue N generated codes to N customers from a CSV audience.
    Issue {
        #[arg(long)]
        count: u64,
        /// A PostgreSQL server (postgres://user@host/db); a fresh database is made on it.
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// The process's peak resident memory so far (`VmHWM`), in MB; 0 where /proc is missing.
pub fn max_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// A fresh database for one run, removed afterwards.
struct FreshDb {
    url: String,
    drop_pg: Option<(String, String)>,
    _dir: Option<tempfile_dir::Dir>,
}

mod tempfile_dir {
    /// A temporary directory removed on drop (std only, to keep the bench dependency-free).
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn fresh_db(url: Option<&str>) -> anyhow::Result<FreshDb> {
    let suffix: u64 = rand::rng().random();
    match url {
        Some(admin) if admin.starts_with("postgres") => {
            let name = format!("offerdesk_bench_{suffix:016x}");
            let mut conn = sqlx::PgConnection::connect(admin)
                .await
                .context("connecting to --database-url")?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await?;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b)
                .context("--database-url needs a database name")?;
            Ok(FreshDb {
                url: format!("{base}/{name}"),
                drop_pg: Some((admin.to_string(), name)),
                _dir: None,
            })
        }
        Some(other) => {
            bail!("--database-url must be a postgres:// URL (SQLite is the default), got {other}")
        }
        None => {
            let dir = std::env::temp_dir().join(format!("offerdesk-bench-{suffix:016x}"));
            std::fs::create_dir_all(&dir)?;
            Ok(FreshDb {
                url: format!("sqlite:{}", dir.join("bench.db").display()),
                drop_pg: None,
                _dir: Some(tempfile_dir::Dir(dir)),
            })
        }
    }
}

async fn drop_db(db: &FreshDb) -> anyhow::Result<()> {
    if let Some((admin, name)) = &db.drop_pg {
        let mut conn = sqlx::PgConnection::connect(admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
    }
    Ok(())
}

/// One org and one offer of 10-character unique codes; returns (org id, offer id).
async fn org_and_offer(store: &Store) -> anyhow::Result<(OrgId, OfferId)> {
    let actor = Actor::system("bench");
    let org = store
        .create_org(
            &OrgSettings {
                name: "Bench".into(),
                currency: Currency::parse("c", "INR").map_err(anyhow::Error::msg)?,
                time_zone: chrono_tz::Asia::Kolkata,
            },
            &actor,
        )
        .await?;
    let offer = offer_for(store, org.id, "Bench offer").await?;
    Ok((org.id, offer))
}

/// An offer of the org with 10-character unique codes, 10% off; its id.
async fn offer_for(store: &Store, org: OrgId, name: &str) -> anyhow::Result<OfferId> {
    let actor = Actor::system("bench");
    let form = OfferForm {
        name: name.into(),
        expires_on: "2099-12-31".into(),
        discount_value: "10".into(),
        ..OfferForm::defaults()
    };
    let ctx = OfferContext {
        digits: 2,
        today: chrono::Utc::now().date_naive(),
        ..Default::default()
    };
    let rules = parse(&form, &ctx).map_err(anyhow::Error::msg)?;
    Ok(store.create_offer(org, &rules, None, None, &actor).await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate {
            count,
            database_url,
        } => {
            let db = fresh_db(database_url.as_deref()).await?;
            let result = async {
                let store = Store::open(&db.url).await?;
                let (org, offer) = org_and_offer(&store).await?;
                let format = CodeFormat {
                    prefix: String::new(),
                    length: 10,
                    charset: Charset::Unambiguous,
                };
                check_code_space(&format, count, 0)?;
                let started = Instant::now();
                store
                    .generate_codes(org, offer, &format, count, &Actor::system("bench"), None)
                    .await?;
                let seconds = started.elapsed().as_secs_f64();
                // The generation's peak, before the ceiling's run draws its codes in memory.
                let generation_rss = max_rss_mb();
                let stored = store.count_coupons(org, offer).await?;
                if stored as u64 != count {
                    bail!("verification failed: {stored} codes stored, {count} expected");
                }
                store.close().await;
                drop_db(&db).await?;
                // The ceiling, same run: the same number of codes of the same format, drawn
                // beforehand, written raw into a fresh database with the same indexes.
                let raw_db = fresh_db(database_url.as_deref()).await?;
                let raw = async {
                    let store = Store::open(&raw_db.url).await?;
                    let (org, offer) = org_and_offer(&store).await?;
                    let codes = random_codes(&format, count as usize);
                    let started = Instant::now();
                    let written = store.raw_write_codes(org, offer, &format, &codes).await?;
                    let raw_seconds = started.elapsed().as_secs_f64();
                    store.close().await;
                    if written != count {
                        bail!("raw write: {written} codes written, {count} expected");
                    }
                    anyhow::Ok(raw_seconds)
                }
                .await;
                drop_db(&raw_db).await?;
                let raw_seconds = raw?;
                println!("backend={} verified={stored}", store.backend_name());
                println!("max_rss_mb={generation_rss:.0}");
                println!(
                    "generate count={count} seconds={seconds:.2} codes_per_s={:.0} raw_per_s={:.0}",
                    count as f64 / seconds,
                    count as f64 / raw_seconds
                );
                Ok(())
            }
            .await;
            if result.is_err() {
                let _ = drop_db(&db).await;
            }
            result
        }
        Command::Issue {
            count,
            database_url,
        } => {
            let db = fresh_db(database_url.as_deref()).await?;
            let raw_db = fresh_db(database_url.as_deref()).await?;
            let result = bench_issue(&db, &raw_db, count).await;
            drop_db(&db).await?;
            drop_db(&raw_db).await?;
            result
        }
        Command::Soak {
            minutes,
            rate,
            database_url,
        } => {
            let db = fresh_db(database_url.as_deref()).await?;
            let result = soak::bench_soak(&db, minutes.max(1), rate.max(1)).await;
            drop_db(&db).await?;
            result
        }
        Command::Cart {
            promotions,
            lines,
            count,
            concurrency,
            history,
            database_url,
        } => {
            let db = fresh_db(database_url.as_deref()).await?;
            let result = cart::bench_cart(
                &db,
                promotions,
                lines.max(1),
                count.max(1),
                concurrency.max(1),
                history,
            )
            .await;
            drop_db(&db).await?;
            result
        }
        Command::Events {
            count,
            concurrency,
            database_url,
        } => {
            let db = fresh_db(database_url.as_deref()).await?;
            let result = events::bench_events(&db, count.max(1), concurrency.max(1)).await;
            drop_db(&db).await?;
            result
        }
        Command::Redeem {
            count,
            concurrency,
            database_url,
        } => {
            let db = fresh_db(database_url.as_deref()).await?;
            let result = redeem::bench_redeem(&db, count, concurrency.max(1)).await;
            drop_db(&db).await?;
            result
        }
    }
}

async fn bench_issue(db: &FreshDb, raw_db: &FreshDb, count: u64) -> anyhow::Result<()> {
    let store = Store::open(&db.url).await?;
    let (org, offer) = org_and_offer(&store).await?;
    let (issued, summary, seconds) = issue_audience(&store, org, offer, count).await?;
    // The offer is delivered through this system: each issue queued its message, and the
    // ceiling writes those rows too.
    let (queued, message) = store.issued_messages().await?;
    store.close().await;
    // The ceiling, same run: the same rows (customers, issue records, coupons marked issued)
    // written raw into a second fresh database with the same indexes.
    let raw = Store::open(&raw_db.url).await?;
    let (raw_org, raw_offer) = org_and_offer(&raw).await?;
    let format = CodeFormat {
        prefix: String::new(),
        length: 10,
        charset: Charset::Unambiguous,
    };
    raw.generate_codes(
        raw_org,
        raw_offer,
        &format,
        count,
        &Actor::system("bench"),
        None,
    )
    .await?;
    let mobiles: Vec<String> = (0..count).map(|i| format!("9{i:09}")).collect();
    let started = Instant::now();
    let written = raw
        .raw_issue(raw_org, raw_offer, &mobiles, message.as_ref())
        .await?;
    let raw_seconds = started.elapsed().as_secs_f64();
    raw.close().await;
    if written != count {
        bail!("raw issue: {written} written, {count} expected");
    }
    println!(
        "backend={} verified={issued} summary={summary:?} messages_queued={}",
        store.backend_name(),
        queued,
    );
    println!("max_rss_mb={:.0}", max_rss_mb());
    println!(
        "issue count={count} seconds={seconds:.2} issues_per_s={:.0} raw_per_s={:.0}",
        count as f64 / seconds,
        count as f64 / raw_seconds
    );
    Ok(())
}

/// Generates N codes and bulk-issues them to N customers `MOBILE 9000000000 + i` through a
/// bulk-issue job; (issued, job summary, seconds the job took to run).
async fn issue_audience(
    store: &Store,
    org: OrgId,
    offer: OfferId,
    count: u64,
) -> anyhow::Result<(i64, String, f64)> {
    use offerdesk::store::jobs::{CHUNK_BYTES, JobKind};
    let format = CodeFormat {
        prefix: String::new(),
        length: 10,
        charset: Charset::Unambiguous,
    };
    let actor = Actor::system("bench");
    store
        .generate_codes(org, offer, &format, count, &actor, None)
        .await?;
    // The audience upload, stored as the console stores it.
    let job = store
        .create_job(
            org,
            offer,
            JobKind::BulkIssue,
            serde_json::json!({"actor": "bench"}),
            Some("audience.csv"),
            true,
            None,
        )
        .await?;
    let mut csv = String::from("type,value\n");
    let (mut seq, mut bytes) = (0i64, 0usize);
    for i in 0..count {
        csv.push_str(&format!("MOBILE,9{i:09}\n"));
        if csv.len() >= CHUNK_BYTES || i + 1 == count {
            bytes += csv.len();
            store
                .append_job_input(job, seq, std::mem::take(&mut csv).into_bytes())
                .await?;
            seq += 1;
        }
    }
    store.queue_job(job, bytes as i64).await?;
    let worker = offerdesk::app::jobs::Jobs::new(store.clone());
    let started = Instant::now();
    worker.run_once(chrono::Utc::now()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let row = store.get_job(org, job).await?;
    let issued = store.get_offer(org, offer).await?.issued_count;
    if row.status != offerdesk::store::jobs::JobStatus::Done || issued as u64 != count {
        bail!(
            "verification failed: job {} ({:?}), {issued} issued, {count} expected",
            row.status.as_str(),
            row.error
        );
    }
    Ok((issued, row.summary.unwrap_or_default(), seconds))
}

mod cart;
mod events;
mod redeem;
mod soak;
