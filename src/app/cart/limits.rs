//! What is left of the limits of the promotions a cart is evaluated against: which uses to
//! count, counting them, evaluating again when a count binds.

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
/// them: evaluates with no limit known, counts the limited promotions it touched, and evaluates
/// again only when a count binds (no use left, or less discount value left than it gave) —
/// limits only take promotions away, so this ends, and an unchanged evaluation stands.
pub(super) async fn usage_for(
    store: &Store,
    p: &Prepared,
    now: DateTime<Utc>,
) -> StoreResult<(Usage, Evaluation)> {
    let mut usage = Usage::new();
    let mut counted: HashSet<i64> = HashSet::new();
    let mut eval = evaluate(&p.cart, &p.promotions, &usage, p.org.tz);
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
        let used = store.promotions_used(&asks).await?;
        remaining(&mut usage, &fresh, &used);
        counted.extend(fresh.iter().map(|q| q.id));
        if fresh.iter().any(|q| binds(&usage, &eval, q.id)) {
            eval = evaluate(&p.cart, &p.promotions, &usage, p.org.tz);
        }
    }
}

/// Whether what is left of promotion `id`'s limits changes `eval`: no use left, or less
/// discount value left than it gave.
pub(super) fn binds(usage: &Usage, eval: &Evaluation, id: i64) -> bool {
    let r = usage.of(id);
    let gave = eval
        .applied
        .iter()
        .find(|a| a.promotion == id)
        .map_or(0, |a| a.discount);
    r.uses == Some(0) || r.customer_uses == Some(0) || r.customer_value.is_some_and(|v| v < gave)
}

/// The limited promotions an evaluation applied or left out with their conditions met.
pub(super) fn candidates<'a>(
    eval: &'a Evaluation,
    promotions: &'a [Promotion],
) -> impl Iterator<Item = &'a Promotion> + 'a {
    let ids: HashSet<i64> = eval
        .applied
        .iter()
        .map(|a| a.promotion)
        .chain(eval.not_applied.iter().map(|n| n.promotion))
        .chain(eval.rejected.iter().filter_map(|r| r.promotion))
        // A hinted promotion whose limit is used up must not be hinted.
        .chain(eval.hints.iter().map(|h| h.promotion))
        .collect();
    promotions
        .iter()
        .filter(move |q| ids.contains(&q.id) && limited(q))
}
