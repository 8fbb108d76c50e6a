//! What is left of the limits of the promotions a cart is evaluated against: which uses to
//! count, counting them, evaluating again when a count bears on the cart.

use super::*;
use std::time::{Duration, Instant};

/// What to count of a promotion's uses at `now`: its global window and the customer's.
pub(super) fn ask(
    p: &Promotion,
    customer: Option<CustomerId>,
    now: DateTime<Utc>,
    tz: Tz,
) -> UsageAsk {
    // Limits without a reset count every use (the bounds are in range for both databases and
    // order as text in SQLite, unlike chrono's MIN/MAX).
    let forever = DateTime::<Utc>::from_timestamp(253_402_214_400, 0).unwrap_or(now); // 9999-12-31
    let always = (DateTime::<Utc>::UNIX_EPOCH, forever);
    let global = p.limits.global_uses.map(|_| {
        p.limits
            .global_reset
            .as_ref()
            .map_or(always, |r| r.window(now, tz))
    });
    let mine = customer.filter(|_| p.limits.per_customer()).map(|c| {
        let (from, to) = p
            .limits
            .customer_reset
            .as_ref()
            .map_or(always, |r| r.window(now, tz));
        (c, from, to)
    });
    UsageAsk {
        promotion: PromotionId(p.id),
        global,
        customer: mine,
        headroom: None,
    }
}

/// A closing cart's ask of `p`, counted side by side with other closes when it is limited by
/// its global uses only (`UsageAsk::headroom`, from the uses left in `counted`) and `shared`.
pub(super) fn close_ask(
    p: &Promotion,
    customer: Option<CustomerId>,
    counted: &Usage,
    shared: bool,
    now: DateTime<Utc>,
    tz: Tz,
) -> UsageAsk {
    let headroom = match (p.limits.global_uses, counted.of(p.id).uses) {
        (Some(limit), Some(left)) if shared && !p.limits.per_customer() => Some((limit, left)),
        _ => None,
    };
    UsageAsk {
        headroom,
        ..ask(p, customer, now, tz)
    }
}

/// Sets what is left of each asked promotion's limits from the uses counted.
pub(super) fn remaining(
    usage: &mut Usage,
    asked: &[&Promotion],
    used: &HashMap<PromotionId, Used>,
) {
    for q in asked {
        let u = used.get(&PromotionId(q.id)).copied().unwrap_or_default();
        usage.set(q.id, Remaining::from_used(&q.limits, u));
    }
}

pub(super) fn limited(p: &Promotion) -> bool {
    p.limits.global_uses.is_some() || p.limits.per_customer()
}

/// How long a promotion's global use count read by a cart of this instance serves the next
/// carts' first counts (`RecentCounts`).
const RECENT: Duration = Duration::from_millis(250);

/// How many uses must be left under the count kept for it to serve: the answer it gives is then
/// the one a fresh count would give unless that one promotion took `FAR` uses in `RECENT` across
/// all instances (4,000 a second; one instance closes ~1,000–2,000 carts a second here, of all
/// promotions together).
const FAR: i64 = 1_000;

/// Counts kept at most; past it the stale ones go, and all of them if that is not enough.
const MAX_COUNTS: usize = 10_000;

/// Per instance, the global use counts of promotions far from their limits as carts read them
/// lately: (promotion, window's end) → (when the read began, window's start, uses). An open's
/// count of a promotion limited by its global uses only (no customer part) is served from here
/// while the count is younger than `RECENT` and left at least `FAR` uses under the promotion's
/// limit: far from a limit, whether a cart gets a promotion does not depend on the exact count.
/// A rolling window ("the last 7 days") starts a little later at every call: a count of the
/// same end from an earlier start serves (it can only count more uses, never fewer left). Near
/// a limit, and for the per-customer limits of a known customer, every count reads the database
/// (a cart without a known customer asks only the global uses). A close's first count
/// may be served too: it only chooses how the close takes the promotion's row, under which the
/// close counts again exactly (`close_in`).
#[derive(Debug, Default)]
pub(super) struct RecentCounts(Mutex<HashMap<(PromotionId, i64), Kept>>);

/// A count kept: when its read began, its window's start (microseconds), the uses counted.
#[derive(Debug, Clone, Copy)]
struct Kept {
    at: Instant,
    from: i64,
    uses: i64,
}

/// Whether `uses` leave at least `FAR` under the global `limit` (none: not limited).
fn far_from(limit: Option<i64>, uses: i64) -> bool {
    limit.is_some_and(|l| l.saturating_sub(uses) >= FAR)
}

/// An ask of a promotion's global uses only: (promotion, window's end), window's start (both
/// in microseconds).
fn recent_key(a: &UsageAsk) -> Option<((PromotionId, i64), i64)> {
    match (a.global, a.customer) {
        (Some((from, to)), None) => Some((
            (a.promotion, to.timestamp_micros()),
            from.timestamp_micros(),
        )),
        _ => None,
    }
}

impl RecentCounts {
    /// The asks served at `now` (with what they count) and the ones left to count; `limit`:
    /// a promotion's global limit.
    fn serve(
        &self,
        asks: Vec<UsageAsk>,
        limit: impl Fn(PromotionId) -> Option<i64>,
        now: Instant,
    ) -> (HashMap<PromotionId, Used>, Vec<UsageAsk>) {
        let mut served = HashMap::new();
        let limits: Vec<Option<i64>> = asks.iter().map(|a| limit(a.promotion)).collect();
        let Ok(kept) = self.0.lock() else {
            return (served, asks);
        };
        let mut rest = Vec::with_capacity(asks.len());
        for (a, limit) in asks.into_iter().zip(limits) {
            let hit = recent_key(&a).and_then(|(key, from)| {
                kept.get(&key).filter(|k| {
                    k.from <= from
                        && now.saturating_duration_since(k.at) < RECENT
                        && far_from(limit, k.uses)
                })
            });
            match hit {
                Some(k) => {
                    served.insert(
                        a.promotion,
                        Used {
                            uses: k.uses,
                            ..Used::default()
                        },
                    );
                }
                None => rest.push(a),
            }
        }
        (served, rest)
    }

    /// Keeps the counts `used` of `asks` read from `began`, those far from their limits.
    fn keep(
        &self,
        asks: &[UsageAsk],
        used: &HashMap<PromotionId, Used>,
        limit: impl Fn(PromotionId) -> Option<i64>,
        began: Instant,
    ) {
        let far: Vec<_> = asks
            .iter()
            .filter_map(|a| {
                let uses = used.get(&a.promotion).map_or(0, |u| u.uses);
                let (key, from) = recent_key(a)?;
                far_from(limit(a.promotion), uses).then_some((key, from, uses))
            })
            .collect();
        if far.is_empty() {
            return;
        }
        let Ok(mut kept) = self.0.lock() else {
            return;
        };
        if kept.len() >= MAX_COUNTS {
            kept.retain(|_, k| began.saturating_duration_since(k.at) < RECENT);
            if kept.len() >= MAX_COUNTS {
                kept.clear();
            }
        }
        for (key, from, uses) in far {
            kept.insert(
                key,
                Kept {
                    at: began,
                    from,
                    uses,
                },
            );
        }
    }
}

/// Counts the uses of the limited promotions that could apply to the cart and evaluates it on
/// them (`settle`: the database counts, but for the promotions far from their limits a cart of
/// this instance counted lately, `RecentCounts`).
pub(super) async fn usage_for(
    store: &Store,
    recent: &RecentCounts,
    p: &Prepared,
    now: DateTime<Utc>,
) -> StoreResult<(Usage, Evaluation)> {
    let limit = |id: PromotionId| {
        p.promotions
            .iter()
            .find(|q| q.id == id.0)
            .and_then(|q| q.limits.global_uses)
    };
    settle(p, now, |asks| async move {
        let began = Instant::now();
        let (mut used, rest) = recent.serve(asks, limit, began);
        if !rest.is_empty() {
            let counted = store.promotions_used(p.org.folded, &rest).await?;
            recent.keep(&rest, &counted, limit, began);
            used.extend(counted);
        }
        Ok(used)
    })
    .await
}

/// Evaluates with no limit known, counts (`count`) the limited promotions it touched, and
/// evaluates again only when what was counted bears on the cart otherwise than what the
/// evaluation was made on (`same_bearing`) — until no new limited promotion appears. The
/// evaluation answered is always the one its usage gives.
pub(super) async fn settle<F, Fut>(
    p: &Prepared,
    now: DateTime<Utc>,
    mut count: F,
) -> StoreResult<(Usage, Evaluation)>
where
    F: FnMut(Vec<UsageAsk>) -> Fut,
    Fut: std::future::Future<Output = StoreResult<HashMap<PromotionId, Used>>>,
{
    let mut usage = Usage::new();
    let mut counted: Vec<i64> = Vec::new();
    let mut eval = evaluate(&p.cart, &p.promotions, &usage, p.org.tz);
    let mut evaluated_on = usage.clone();
    loop {
        let fresh: Vec<&Promotion> = candidates(&eval, &p.promotions)
            .filter(|q| !counted.contains(&q.id))
            .collect();
        if fresh.is_empty() {
            return Ok((usage, eval));
        }
        let asks: Vec<UsageAsk> = fresh
            .iter()
            .map(|q| ask(q, p.customer, now, p.org.tz))
            .collect();
        let used = count(asks).await?;
        remaining(&mut usage, &fresh, &used);
        counted.extend(fresh.iter().map(|q| q.id));
        if !same_bearing(&usage, &evaluated_on) {
            eval = evaluate(&p.cart, &p.promotions, &usage, p.org.tz);
            evaluated_on = usage.clone();
        }
    }
}

/// The limited promotions an evaluation applied or left out with their conditions met.
pub(super) fn candidates<'a>(
    eval: &'a Evaluation,
    promotions: &'a [Promotion],
) -> impl Iterator<Item = &'a Promotion> + 'a {
    // A sorted list: a few dozen ids, looked up once per live promotion (hashing them was ~2%
    // of an open's samples).
    let mut ids: Vec<i64> = eval
        .applied
        .iter()
        .map(|a| a.promotion)
        .chain(eval.not_applied.iter().map(|n| n.promotion))
        .chain(eval.rejected.iter().filter_map(|r| r.promotion))
        // A hinted promotion whose limit is used up must not be hinted.
        .chain(eval.hints.iter().map(|h| h.promotion))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    promotions
        .iter()
        .filter(move |q| limited(q) && ids.binary_search(&q.id).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::Currency;
    use crate::domain::promotion::{Benefit, Kind, Limits, Stacking, Target, Validity, Value};

    fn promotion(id: i64, value: Value, limits: Limits) -> Promotion {
        Promotion {
            id,
            name: format!("P{id}"),
            kind: Kind::Automatic,
            eligibility: Default::default(),
            validity: Validity {
                starts: DateTime::<Utc>::UNIX_EPOCH,
                ends: None,
            },
            conditions: Vec::new(),
            benefit: Benefit {
                target: Target::Cart,
                value,
                recurrence: None,
            },
            stacking: Stacking::Stackable,
            limits,
            holding: Default::default(),
        }
    }

    /// Which asks a count kept at `t0` serves at a later instant: (what, global limit when
    /// kept, when served, uses counted, ms later, customer part, served). Served when at least
    /// 1,000 uses were left under the limit at the time of serving, for 250 ms; never with a
    /// customer part.
    #[test]
    fn a_recent_count_serves_only_far_from_the_limit_and_for_a_quarter_second() {
        let t0 = Instant::now();
        let now = Utc::now();
        let window = (
            now - chrono::Duration::days(3),
            now + chrono::Duration::days(4),
        );
        type Row = (&'static str, Option<i64>, Option<i64>, i64, u64, bool, bool);
        let far = Some(1_000_000);
        let table: &[Row] = &[
            ("far", far, far, 5, 0, false, true),
            ("far, 249 ms later", far, far, 5, 249, false, true),
            ("far, 250 ms later", far, far, 5, 250, false, false),
            (
                "exactly 1,000 left",
                Some(1_600),
                Some(1_600),
                600,
                10,
                false,
                true,
            ),
            ("999 left", Some(1_599), Some(1_599), 600, 10, false, false),
            (
                "over the limit",
                Some(100),
                Some(100),
                600,
                10,
                false,
                false,
            ),
            ("not limited", None, None, 0, 10, false, false),
            (
                "limit lowered to 900 left",
                far,
                Some(1_500),
                600,
                10,
                false,
                false,
            ),
            ("limit gone", far, None, 600, 10, false, false),
            ("with the customer's uses", far, far, 5, 10, true, false),
        ];
        for (i, (what, kept_at, limit, uses, later, mine, served)) in table.iter().enumerate() {
            let recent = RecentCounts::default();
            let ask = UsageAsk {
                promotion: PromotionId(i as i64 + 1),
                global: Some(window),
                customer: mine.then_some((CustomerId(7), window.0, window.1)),
                headroom: None,
            };
            let counted = HashMap::from([(
                ask.promotion,
                Used {
                    uses: *uses,
                    ..Used::default()
                },
            )]);
            recent.keep(&[ask], &counted, |_| *kept_at, t0);
            let at = t0 + Duration::from_millis(*later);
            let (got, rest) = recent.serve(vec![ask], |_| *limit, at);
            assert_eq!(got.contains_key(&ask.promotion), *served, "{what}");
            assert_eq!(rest.is_empty(), *served, "{what}");
            if !*served {
                continue;
            }
            assert_eq!(got[&ask.promotion].uses, *uses, "{what}");
            // Another window of the same promotion (its reset came) is counted again.
            let next = UsageAsk {
                global: Some((window.1, window.1 + chrono::Duration::days(7))),
                ..ask
            };
            let (got, _) = recent.serve(vec![next], |_| *limit, at);
            assert!(got.is_empty(), "{what}: another window");
            // A rolling window ("the last 3 days") starting a little later serves (its count
            // could only be lower); one starting earlier is counted again.
            let slid = |ms: i64| UsageAsk {
                global: Some((window.0 + chrono::Duration::milliseconds(ms), window.1)),
                ..ask
            };
            let (got, _) = recent.serve(vec![slid(100)], |_| *limit, at);
            assert!(got.contains_key(&ask.promotion), "{what}: a later start");
            let (got, _) = recent.serve(vec![slid(-1)], |_| *limit, at);
            assert!(got.is_empty(), "{what}: an earlier start");
        }
    }

    /// A cart of 1,000 and three stackable promotions applied in rank order (the larger
    /// discount first), each on what the earlier left: 800 off, 50% off, 150 off. The customer
    /// has 120 left of the 50%'s discount value: alone it ranks at 120, behind the 150 off, so
    /// the cart gets 800 + 150 + 25 = 975 — not the 800 + 100 + 100 the evaluation made before
    /// the count gives, though the 50% gave only 100 there (within what was left).
    #[tokio::test]
    async fn the_evaluation_answered_is_the_one_its_counted_usage_gives() {
        let limited = Limits {
            customer_value: Some(500),
            ..Limits::default()
        };
        let promotions = vec![
            promotion(1, Value::Amount { amount: 800 }, Limits::default()),
            promotion(2, Value::Percent { basis_points: 5000 }, limited),
            promotion(3, Value::Amount { amount: 150 }, Limits::default()),
        ];
        let now = Utc::now();
        let p = Prepared {
            cart: Cart {
                customer: Some(Customer::default()),
                ..Cart::new(vec![CartLine::new("L1", 1, 1_000)], now)
            },
            customer: Some(CustomerId(7)),
            promotions: Arc::new(promotions),
            org: OrgFacts {
                folded: None,
                tz: chrono_tz::Asia::Kolkata,
                currency: Currency::parse("currency", "INR").unwrap(),
            },
        };
        let (usage, eval) = settle(&p, now, |asks| async move {
            Ok(asks
                .iter()
                .filter(|a| a.promotion == PromotionId(2))
                .map(|a| {
                    let used = Used {
                        customer_value: 380,
                        ..Used::default()
                    };
                    (a.promotion, used)
                })
                .collect())
        })
        .await
        .unwrap();
        let given: Vec<(i64, i64)> = eval
            .applied
            .iter()
            .map(|a| (a.promotion, a.discount))
            .collect();
        assert_eq!(given, vec![(1, 800), (3, 150), (2, 25)], "{eval:#?}");
        assert_eq!(eval.discount, 975);
        assert_eq!(eval, evaluate(&p.cart, &p.promotions, &usage, p.org.tz));
    }
}
