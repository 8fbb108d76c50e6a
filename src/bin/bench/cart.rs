//! `bench cart` (#16): P live promotions of mixed kinds over a 200-product catalogue, then N
//! `open` evaluations of random L-line carts through `PUT /api/v2/carts/{id}` from C
//! keep-alive clients, then N closes of other carts; in the same run, the HTTP floor (the same
//! clients and concurrency calling `POST /api/v2/ping`, which answers fixed JSON without the
//! database). Carts send SKUs and prices only: categories and brands come from the catalogue.

use super::org_and_offer;
use super::redeem::{Conn, serve};
use anyhow::bail;
use chrono::Datelike as _;
use offerdesk::domain::promotion::{
    Benefit, Condition, Criteria, Eligibility, Kind, Limits, NameSet, Period, ProductFilter,
    ProductSet, Promotion, Recurrence, Stacking, Status, Target, TimeWindow, Validity, Value,
};
use offerdesk::domain::user::Actor;
use offerdesk::store::Store;
use offerdesk::store::catalogue::NewProduct;
use std::sync::Arc;
use std::time::Instant;

const PRODUCTS: usize = 200;
const CATEGORIES: usize = 20;
const BRANDS: usize = 10;

/// A small deterministic generator (the bench needs repeatable carts, not good randomness).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn sku(i: usize) -> String {
    format!("SKU{i:03}")
}

fn category(i: usize) -> String {
    format!("CAT{:02}", i % CATEGORIES)
}

fn brand(i: usize) -> String {
    format!("BRAND{}", i % BRANDS)
}

fn names(v: Vec<String>) -> NameSet {
    NameSet::from(v)
}

fn of_category(c: usize) -> ProductFilter {
    ProductFilter::only(ProductSet {
        categories: names(vec![category(c)]),
        ..ProductSet::default()
    })
}

/// Promotion `i` of the mix: cart-amount percentages, buy-X-get-Y, recurring per-item and
/// per-amount discounts, bundles, free products, code-linked ones, one in ten exclusive, some
/// with store or hour eligibility, some with use limits (large enough never to run out).
fn promotion(i: usize) -> Promotion {
    let c = i % CATEGORIES;
    let (conditions, benefit) = match i % 7 {
        0 => (
            vec![Condition::CartAmount {
                at_least: 100_000 + (i as i64 % 10) * 50_000,
            }],
            Benefit {
                target: Target::Cart,
                value: Value::Percent {
                    basis_points: 500 + (i as i64 % 5) * 100,
                },
                recurrence: None,
            },
        ),
        1 => (
            vec![Condition::ProductQuantity {
                products: of_category(c),
                at_least: 2,
            }],
            Benefit {
                target: Target::Products {
                    criteria: Criteria::Filter {
                        products: of_category(c + 1),
                    },
                    quantity: Some(1),
                },
                value: Value::Percent { basis_points: 5000 },
                recurrence: None,
            },
        ),
        2 => (
            vec![Condition::ProductQuantity {
                products: of_category(c),
                at_least: 2,
            }],
            Benefit {
                target: Target::ConditionItems,
                value: Value::Amount { amount: 5_000 },
                recurrence: Some(Recurrence::Items { every: 2 }),
            },
        ),
        3 => (
            vec![Condition::ProductAmount {
                products: of_category(c),
                at_least: 100_000,
            }],
            Benefit {
                target: Target::ConditionItems,
                value: Value::Amount { amount: 10_000 },
                recurrence: Some(Recurrence::Amount { every: 100_000 }),
            },
        ),
        4 => (
            vec![Condition::ProductQuantity {
                products: of_category(c),
                at_least: 3,
            }],
            Benefit {
                target: Target::ConditionItems,
                value: Value::FixedPrice { price: 99_900 },
                recurrence: None,
            },
        ),
        5 => (
            vec![Condition::CartAmount { at_least: 50_000 }],
            Benefit {
                target: Target::Products {
                    criteria: Criteria::Sku {
                        sku: sku(i % PRODUCTS),
                    },
                    quantity: Some(1),
                },
                value: Value::Free,
                recurrence: None,
            },
        ),
        _ => (
            vec![Condition::ProductAmount {
                products: ProductFilter::only(ProductSet {
                    brands: names(vec![brand(i)]),
                    ..ProductSet::default()
                }),
                at_least: 20_000,
            }],
            Benefit {
                target: Target::ConditionItems,
                value: Value::Percent { basis_points: 1000 },
                recurrence: None,
            },
        ),
    };
    Promotion {
        id: 0,
        name: format!("Promotion {i}"),
        kind: if i % 11 == 10 {
            Kind::CodeLinked {
                codes: vec![format!("PROMO{i}")],
            }
        } else {
            Kind::Automatic
        },
        eligibility: Eligibility {
            stores: if i.is_multiple_of(13) {
                vec!["S1".into()]
            } else {
                Vec::new()
            },
            hours: if i.is_multiple_of(17) {
                vec![TimeWindow::hours(0, 23)]
            } else {
                Vec::new()
            },
            ..Eligibility::default()
        },
        validity: Validity {
            starts: chrono::DateTime::UNIX_EPOCH,
            ends: None,
        },
        conditions,
        benefit,
        stacking: if i % 10 == 9 {
            Stacking::Exclusive
        } else {
            Stacking::Stackable
        },
        limits: if i.is_multiple_of(5) {
            Limits {
                global_uses: Some(100_000_000),
                global_reset: Some(Period::CalendarMonth),
                ..Limits::default()
            }
        } else {
            Limits::default()
        },
        holding: Default::default(),
    }
}

/// A random cart of `lines` lines (SKUs and prices only) as the API's body.
fn cart_body(rng: &mut Rng, state: &str, lines: usize, promotions: usize) -> String {
    let mut body = format!(
        r#"{{"state":"{state}","storeCode":"S1","customer":{{"mobile":"98{:08}"}},"#,
        rng.below(1_000_000)
    );
    if rng.below(4) == 0 {
        let p = rng.below(promotions as u64) as usize;
        body.push_str(&format!(r#""codes":["PROMO{}"],"#, p - p % 11 + 10));
    }
    body.push_str(r#""lines":["#);
    for l in 0..lines {
        if l > 0 {
            body.push(',');
        }
        let p = rng.below(PRODUCTS as u64) as usize;
        body.push_str(&format!(
            r#"{{"sku":"{}","quantity":{},"unitPrice":{}}}"#,
            sku(p),
            1 + rng.below(3),
            price(p)
        ));
    }
    body.push_str("]}");
    body
}

fn price(p: usize) -> i64 {
    5_000 + (p as i64 * 7_919) % 200_000
}

pub async fn bench_cart(
    db: &super::FreshDb,
    promotions: usize,
    lines: usize,
    count: u64,
    concurrency: usize,
    history: u64,
) -> anyhow::Result<()> {
    let store = Store::open(&db.url).await?;
    let (org, _) = org_and_offer(&store).await?;
    let actor = Actor::system("bench");
    store
        .set_live_promotion_cap(org, promotions as i64 + 1, &actor)
        .await?;
    let catalogue: Vec<NewProduct> = (0..PRODUCTS)
        .map(|p| NewProduct {
            sku: sku(p),
            name: format!("Product {p}"),
            price: price(p),
            category: Some(category(p)),
            brand: Some(brand(p)),
            attributes: Default::default(),
        })
        .collect();
    store.upsert_products(org, &catalogue, &actor).await?;
    let mut limited = Vec::new();
    for i in 0..promotions {
        let p = promotion(i);
        match offerdesk::app::promotions::create(&store, org, &p, Status::Live, &actor).await? {
            Ok(id) if p.limits.global_uses.is_some() => limited.push(id),
            Ok(_) => {}
            Err(r) => bail!("setup: promotion {i} refused: {}", r.message()),
        }
    }
    if history > 0 && !limited.is_empty() {
        // This month's earlier traffic, for the limits' counts to meet: spread from the start
        // of the month in the org's zone (the limits' reset) to a minute ago.
        let now = chrono::Utc::now();
        let local = now.with_timezone(&chrono_tz::Asia::Kolkata).date_naive();
        let month = chrono::NaiveDate::from_ymd_opt(local.year(), local.month(), 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Kolkata).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or_else(|| anyhow::anyhow!("no start of month"))?;
        let per = (history / limited.len() as u64).max(1) as i64;
        store
            .raw_promotion_history(
                org,
                &limited,
                per,
                month,
                now - chrono::Duration::minutes(1),
            )
            .await?;
        // What the scheduler's runs do (a minute behind the clock), here until nothing is left.
        let folding = Instant::now();
        while store
            .fold_promotion_uses(now - chrono::Duration::minutes(1))
            .await?
            > 0
        {}
        println!(
            "history={} uses over {} limited promotions since {month}, folded in {:.1} s",
            per * limited.len() as i64,
            limited.len(),
            folding.elapsed().as_secs_f64()
        );
    }
    let (_, key) = store
        .create_api_key(org, "bench", None, 10_000_000, &actor)
        .await?;
    let addr = serve(&store, &db.url).await?;

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let open: Arc<Vec<(String, String)>> = Arc::new(
        (0..count)
            .map(|i| {
                (
                    format!("/api/v2/carts/O{i}"),
                    cart_body(&mut rng, "open", lines, promotions),
                )
            })
            .collect(),
    );
    let close: Arc<Vec<(String, String)>> = Arc::new(
        (0..count)
            .map(|i| {
                (
                    format!("/api/v2/carts/C{i}"),
                    cart_body(&mut rng, "closed", lines, promotions),
                )
            })
            .collect(),
    );
    let ping: Arc<Vec<(String, String)>> = Arc::new(
        (0..count)
            .map(|_| ("/api/v2/ping".to_string(), String::new()))
            .collect(),
    );
    // Warm-up: a few carts so that caches are filled as in steady traffic.
    let warm: Arc<Vec<(String, String)>> = Arc::new(open.iter().take(50).cloned().collect());
    run(&addr, &key, &warm, concurrency, "PUT").await?;
    let (open_s, mut open_ms) = run(&addr, &key, &open, concurrency, "PUT").await?;
    let (close_s, mut close_ms) = run(&addr, &key, &close, concurrency, "PUT").await?;
    let (ping_s, _) = run(&addr, &key, &ping, concurrency, "POST").await?;
    let closed: (i64,) = store
        .fetch_one_read(
            "SELECT COUNT(*) FROM carts WHERE org_id = $1 AND state = 'closed'",
            &[org.into()],
        )
        .await?;
    if closed.0 as u64 != count {
        bail!(
            "verification failed: {} carts closed, {count} expected",
            closed.0
        );
    }
    let p99 = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1]
    };
    println!(
        "backend={} verified_closed={}",
        store.backend_name(),
        closed.0
    );
    println!("max_rss_mb={:.0}", super::max_rss_mb());
    println!(
        "cart promotions={promotions} lines={lines} count={count} concurrency={concurrency} open_per_s={:.0} open_p99_ms={:.2} close_per_s={:.0} close_p99_ms={:.2} http_floor_per_s={:.0}",
        count as f64 / open_s,
        p99(&mut open_ms),
        count as f64 / close_s,
        p99(&mut close_ms),
        count as f64 / ping_s,
    );
    Ok(())
}

/// Sends every (path, body) with `method` from `concurrency` keep-alive clients taking the
/// next from a shared cursor; (seconds, latencies in ms). Every answer must be 200.
pub(super) async fn run(
    addr: &str,
    key: &str,
    calls: &Arc<Vec<(String, String)>>,
    concurrency: usize,
    method: &'static str,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (calls, next, addr) = (calls.clone(), next.clone(), addr.to_string());
        let headers = format!("Authorization: Bearer {key}\r\nContent-Type: application/json\r\n");
        clients.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await?;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((path, body)) = calls.get(i) else {
                    break;
                };
                let t = Instant::now();
                let a = conn.send(method, path, &headers, body).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                if a.status != 200 {
                    bail!("{method} {path} answered {}: {}", a.status, a.body);
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(calls.len());
    for c in clients {
        latencies.extend(c.await??);
    }
    Ok((started.elapsed().as_secs_f64(), latencies))
}
