//! `bench events` (#17): 50 live earned promotions of mixed earning rules (single activities
//! with a minimum amount or an attribute, count milestones over the promotion's life, monthly
//! spend milestones; windows, maxima and messages on earning on some), then N transaction
//! events of 10,000 customers through `POST /api/v2/events` from C keep-alive clients. In the
//! same run: the HTTP floor (the same clients and concurrency calling `POST /api/v2/ping`,
//! fixed JSON without the database) and the database floor (N other events through
//! `app::holds::record_event` — the same statements — from C tasks, no HTTP).

use super::cart::{Rng, run};
use super::org_and_offer;
use super::redeem::serve;
use anyhow::bail;
use offerdesk::app::holds::{EventInput, record_event};
use offerdesk::domain::issue::CustomerRef;
use offerdesk::domain::masters::IdentifierType;
use offerdesk::domain::promotion::holding::{
    Earning, HoldMessages, Holding, Measure, Milestone, TrackerWindow,
};
use offerdesk::domain::promotion::{
    Benefit, Eligibility, Kind, Limits, Promotion, Stacking, Status, Target, Validity, Value,
};
use offerdesk::domain::user::Actor;
use offerdesk::store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

const PROMOTIONS: usize = 50;
const CUSTOMERS: u64 = 10_000;

/// Earned promotion `i` of the mix.
fn promotion(i: usize) -> Promotion {
    let earning = match i % 4 {
        0 => Earning {
            event: "transaction".into(),
            min_amount: Some(100_000 + (i as i64 % 5) * 50_000),
            ..Earning::default()
        },
        1 => Earning {
            event: "transaction".into(),
            attributes: BTreeMap::from([("channel".to_string(), "app".to_string())]),
            ..Earning::default()
        },
        2 => Earning {
            event: "transaction".into(),
            milestone: Some(Milestone {
                measure: Measure::Count,
                target: 3 + (i as i64 % 5),
                window: TrackerWindow::Life,
            }),
            ..Earning::default()
        },
        _ => Earning {
            event: "transaction".into(),
            milestone: Some(Milestone {
                measure: Measure::Sum,
                target: 500_000 + (i as i64 % 3) * 250_000,
                window: TrackerWindow::CalendarMonth,
            }),
            ..Earning::default()
        },
    };
    Promotion {
        id: 0,
        name: format!("Earned {i}"),
        kind: Kind::Earned,
        eligibility: Eligibility::default(),
        validity: Validity {
            starts: chrono::DateTime::UNIX_EPOCH,
            ends: None,
        },
        conditions: Vec::new(),
        benefit: Benefit {
            target: Target::Cart,
            value: Value::Percent {
                basis_points: 500 + (i as i64 % 4) * 250,
            },
            recurrence: None,
        },
        stacking: Stacking::Stackable,
        limits: Limits::default(),
        holding: Holding {
            window_days: Some(7 + (i as u32 % 4) * 7),
            // Single activities earn once per customer (the seed's example); milestones up
            // to three times.
            max_per_customer: Some(if i % 4 < 2 { 1 } else { 3 }),
            earning: Some(earning),
            messages: HoldMessages {
                on_earning: i
                    .is_multiple_of(5)
                    .then(|| "Hi {first_name}, {promotion} is yours until {valid_till}.".into()),
                ..HoldMessages::default()
            },
            ..Holding::default()
        },
    }
}

/// Event `i` (id prefixed by `tag`): a transaction of one of the customers, some in the app.
/// Each phase has its own 10,000 customers (`pool`), so the direct phase meets new customers
/// and unearned promotions as the HTTP phase did.
fn event(rng: &mut Rng, tag: &str, pool: u64, i: u64) -> (String, u64, i64, bool) {
    let customer = pool * CUSTOMERS + rng.below(CUSTOMERS);
    let amount = 10_000 + rng.below(300_000) as i64;
    let app = rng.below(3) == 0;
    (format!("{tag}{i}"), customer, amount, app)
}

fn mobile(customer: u64) -> String {
    format!("97{customer:08}")
}

pub async fn bench_events(
    db: &super::FreshDb,
    count: u64,
    concurrency: usize,
) -> anyhow::Result<()> {
    let store = Store::open(&db.url).await?;
    let (org, _) = org_and_offer(&store).await?;
    let actor = Actor::system("bench");
    for i in 0..PROMOTIONS {
        if let Err(r) =
            offerdesk::app::promotions::create(&store, org, &promotion(i), Status::Live, &actor)
                .await?
        {
            bail!("setup: promotion {i} refused: {}", r.message());
        }
    }
    let (_, key) = store
        .create_api_key(org, "bench", None, 10_000_000, &actor)
        .await?;
    let addr = serve(&store, &db.url).await?;

    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let http: Arc<Vec<(String, String)>> = Arc::new(
        (0..count)
            .map(|i| {
                let (id, customer, amount, app) = event(&mut rng, "H", 0, i);
                let channel = if app { "app" } else { "store" };
                (
                    "/api/v2/events".to_string(),
                    format!(
                        r#"{{"type":"transaction","eventId":"{id}","customer":{{"mobile":"{}"}},"amount":{amount},"attributes":{{"channel":"{channel}"}}}}"#,
                        mobile(customer)
                    ),
                )
            })
            .collect(),
    );
    let ping: Arc<Vec<(String, String)>> = Arc::new(
        (0..count)
            .map(|_| ("/api/v2/ping".to_string(), String::new()))
            .collect(),
    );
    let direct: Arc<Vec<EventInput>> = Arc::new(
        (0..count)
            .map(|i| {
                let (id, customer, amount, app) = event(&mut rng, "D", 1, i);
                EventInput {
                    event_id: id,
                    kind: "transaction".into(),
                    customer: CustomerRef {
                        kind: IdentifierType::Mobile,
                        value: mobile(customer),
                    },
                    occurred_at: None,
                    amount: Some(amount),
                    transaction_number: None,
                    attributes: BTreeMap::from([(
                        "channel".to_string(),
                        if app { "app" } else { "store" }.to_string(),
                    )]),
                }
            })
            .collect(),
    );
    // Warm-up: the live promotions' cache and the connections (customers of a third pool).
    let warm: Arc<Vec<(String, String)>> = Arc::new(
        (0..50)
            .map(|i| {
                (
                    "/api/v2/events".to_string(),
                    format!(
                        r#"{{"type":"visit","eventId":"W{i}","customer":{{"mobile":"{}"}}}}"#,
                        mobile(2 * CUSTOMERS + i)
                    ),
                )
            })
            .collect(),
    );
    run(&addr, &key, &warm, concurrency, "POST").await?;
    let (events_s, mut latencies) = run(&addr, &key, &http, concurrency, "POST").await?;
    let (ping_s, _) = run(&addr, &key, &ping, concurrency, "POST").await?;
    let db_s = direct_events(&store, org, &direct, concurrency).await?;

    let (recorded,): (i64,) = store
        .fetch_one_read(
            "SELECT COUNT(*) FROM customer_events WHERE org_id = $1 AND kind = 'transaction'",
            &[org.into()],
        )
        .await?;
    if recorded as u64 != 2 * count {
        bail!(
            "verification failed: {recorded} events recorded, {} expected",
            2 * count
        );
    }
    let (holds,): (i64,) = store
        .fetch_one_read(
            "SELECT COUNT(*) FROM promotion_holds WHERE org_id = $1",
            &[org.into()],
        )
        .await?;
    latencies.sort_by(f64::total_cmp);
    let p99 =
        latencies[((latencies.len() as f64 * 0.99).ceil() as usize).clamp(1, latencies.len()) - 1];
    println!(
        "backend={} promotions={PROMOTIONS} verified_events={recorded} holds={holds}",
        store.backend_name()
    );
    println!("max_rss_mb={:.0}", super::max_rss_mb());
    println!(
        "events count={count} concurrency={concurrency} seconds={events_s:.2} events_per_s={:.0} p99_ms={p99:.2} http_floor_per_s={:.0} db_floor_per_s={:.0}",
        count as f64 / events_s,
        count as f64 / ping_s,
        count as f64 / db_s,
    );
    Ok(())
}

/// Records `events` through the use case from `concurrency` tasks; the seconds it took.
async fn direct_events(
    store: &Store,
    org: offerdesk::domain::ids::OrgId,
    events: &Arc<Vec<EventInput>>,
    concurrency: usize,
) -> anyhow::Result<f64> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cache = offerdesk::app::cart::CartCache::default();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (store, events, next, cache) =
            (store.clone(), events.clone(), next.clone(), cache.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(e) = events.get(i) else {
                    break;
                };
                record_event(&store, &cache, org, e, chrono::Utc::now()).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed().as_secs_f64())
}
