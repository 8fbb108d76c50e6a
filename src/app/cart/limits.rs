//! What is left of the limits of the promotions a cart is evaluated against: which uses to
//! count, counting them, evaluating again when a count bears on the cart.

use super::*;

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

/// Counts the uses of the limited promotions that could apply to the cart and evaluates it on
/// them (`settle`, counting in the database).
pub(super) async fn usage_for(
    store: &Store,
    p: &Prepared,
    now: DateTime<Utc>,
) -> StoreResult<(Usage, Evaluation)> {
    settle(p, now, |asks| async move {
        store.promotions_used(p.org.folded, &asks).await
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
