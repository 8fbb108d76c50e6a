//! Earned and reward promotions (seed 003, issue #17): a customer's event earns the live
//! earned promotions whose activity it matches (or whose tracker it takes to the target), a
//! reward request makes the customer hold a reward promotion, and the cart applies what the
//! customer holds while its redemption window lasts. Each flow runs in one transaction with
//! the customer's row taken, so one customer's events and requests are decided one at a time;
//! an event id or a request id answers its first result again.

use crate::domain::ids::CustomerId;
use crate::domain::ids::{OrgId, PromotionId};
use crate::domain::issue::CustomerRef;
use crate::domain::promotion::holding::{
    Activity, Earning, HoldRefusal, counted_window, held_until, may_hold,
};
use crate::domain::promotion::{Kind, Promotion, Status};
use crate::store::dyntx::DynTx;
use crate::store::holds::{
    NewEvent, NewHold, advance_trackers, holds_got, insert_event, insert_hold, lock_customer,
    set_event_result, times_held,
};
use crate::store::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A customer's event as the API gives it.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub event_id: String,
    pub kind: String,
    pub customer: CustomerRef,
    pub occurred_at: Option<DateTime<Utc>>,
    pub amount: Option<i64>,
    pub transaction_number: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// A promotion an event earned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Earned {
    pub promotion_id: i64,
    pub name: String,
    /// Held until (exclusive); `None`: until the promotion ends.
    pub valid_till: Option<DateTime<Utc>>,
}

/// What an event came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventOutcome {
    pub event_id: String,
    pub earned: Vec<Earned>,
    /// A retried event: this is the first answer, nothing more was done.
    #[serde(default)]
    pub replayed: bool,
}

/// Records an event and what it earns.
#[tracing::instrument(name = "app.event", skip_all, fields(org = org_id.get()))]
pub async fn record_event(
    store: &Store,
    cache: &crate::app::cart::CartCache,
    org_id: OrgId,
    e: &EventInput,
    now: DateTime<Utc>,
) -> StoreResult<EventOutcome> {
    if let Some(kept) = store.event_result(org_id, &e.event_id).await? {
        return replay(&kept);
    }
    let org = store.get_org(org_id).await?;
    let tz = org.time_zone.0;
    let live = cache.live(store, org_id, org.promotions_version).await?;
    let earning: Vec<&Promotion> = live
        .iter()
        .filter(|p| matches!(p.kind, Kind::Earned) && p.holding.earning.is_some())
        .collect();
    let at = e.occurred_at.unwrap_or(now).min(now);
    let activity = Activity {
        kind: &e.kind,
        amount: e.amount,
        attributes: &e.attributes,
        at,
    };
    let mut tx = store.begin().await?;
    let ids = crate::store::customers::customer_ids(
        &mut tx,
        org_id,
        std::slice::from_ref(&e.customer),
        now,
    )
    .await?;
    let customer_id = *ids.get(&e.customer).ok_or(StoreError::NotFound)?;
    lock_customer(&mut tx, customer_id).await?;
    let attributes = serde_json::to_string(&e.attributes).unwrap_or_else(|_| "{}".into());
    let fresh = insert_event(
        &mut tx,
        &NewEvent {
            org_id,
            event_id: &e.event_id,
            customer_id,
            kind: &e.kind,
            occurred_at: at,
            amount: e.amount,
            transaction_number: e.transaction_number.as_deref(),
            attributes,
        },
        now,
    )
    .await?;
    if !fresh {
        // The same event at the same moment from a retry: its first answer.
        drop(tx);
        let kept = store.event_result(org_id, &e.event_id).await?;
        return replay(kept.as_deref().unwrap_or("{}"));
    }
    // The promotions this event counts for; their trackers move in one statement.
    let matched: Vec<(&Promotion, &Earning)> = earning
        .iter()
        .filter_map(|p| {
            let rule = p.holding.earning.as_ref()?;
            let running = p.validity.starts <= at && p.validity.ends.is_none_or(|end| at < end);
            (running && rule.matches(&activity)).then_some((*p, rule))
        })
        .collect();
    let steps: Vec<(i64, String, i64)> = matched
        .iter()
        .filter_map(|(p, rule)| {
            rule.tracker_step(&activity, tz)
                .map(|(key, step)| (p.id, key, step))
        })
        .collect();
    let progress = advance_trackers(&mut tx, org_id, customer_id, &steps, now).await?;
    let step_of: HashMap<i64, i64> = steps.iter().map(|(id, _, s)| (*id, *s)).collect();
    // Earned by this event: single activities, and milestones whose target it crossed.
    let earns: Vec<&Promotion> = matched
        .iter()
        .filter(|(p, rule)| match step_of.get(&p.id) {
            Some(step) => rule.crossed(progress.get(&p.id).copied().unwrap_or(0), *step),
            None => true,
        })
        .map(|(p, _)| *p)
        .collect();
    let ids: Vec<i64> = earns.iter().map(|p| p.id).collect();
    let got = holds_got(&mut tx, customer_id, &ids).await?;
    let mut earned = Vec::new();
    for p in earns {
        let window = counted_window(&p.holding, at, tz);
        let had = got
            .iter()
            .filter(|(id, when)| {
                *id == p.id && window.is_none_or(|(from, to)| from <= *when && *when < to)
            })
            .count() as i64;
        let grant = Grant {
            org_id,
            customer_id,
            source: "earned",
            reference: &e.event_id,
            at,
            cost: (None, None),
        };
        if let Ok(Some((_, valid_till))) = grant_counted(&mut tx, p, &grant, had, tz, now).await? {
            earned.push(Earned {
                promotion_id: p.id,
                name: p.name.clone(),
                valid_till,
            });
        }
    }
    let outcome = EventOutcome {
        event_id: e.event_id.clone(),
        earned,
        replayed: false,
    };
    let kept = serde_json::to_string(&outcome).unwrap_or_default();
    set_event_result(&mut tx, org_id, &e.event_id, &kept).await?;
    tx.commit().await?;
    Ok(outcome)
}

fn replay(kept: &str) -> StoreResult<EventOutcome> {
    let mut o: EventOutcome = serde_json::from_str(kept)
        .map_err(|e| StoreError::Conflict(format!("a kept event answer could not be read: {e}")))?;
    o.replayed = true;
    Ok(o)
}

/// A reward request as the API gives it.
#[derive(Debug, Clone)]
pub struct RewardInput {
    pub promotion_id: PromotionId,
    pub customer: CustomerRef,
    pub cost_points: Option<i64>,
    pub cost_amount: Option<i64>,
    pub request_id: String,
}

/// A reward the customer now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardHold {
    pub hold_id: i64,
    pub promotion_id: i64,
    pub valid_till: Option<DateTime<Utc>>,
    pub replayed: bool,
}

/// Why a reward is not held; `NotFound` is the store's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewardRefusal {
    #[error("promotion {0} is not a reward promotion; only reward promotions are acquired")]
    NotReward(i64),
    #[error(transparent)]
    Hold(#[from] HoldRefusal),
}

/// Makes the customer hold a reward promotion they acquired in another system (points or
/// money), once per request id.
#[tracing::instrument(name = "app.reward", skip_all, fields(org = org_id.get()))]
pub async fn acquire_reward(
    store: &Store,
    org_id: OrgId,
    r: &RewardInput,
    now: DateTime<Utc>,
) -> StoreResult<Result<RewardHold, RewardRefusal>> {
    let replayed = |(hold_id, promotion_id, valid_till)| RewardHold {
        hold_id,
        promotion_id,
        valid_till,
        replayed: true,
    };
    if let Some(kept) = store.reward_hold(org_id, &r.request_id).await? {
        return Ok(Ok(replayed(kept)));
    }
    let record = store.get_promotion(org_id, r.promotion_id).await?;
    let p = &record.promotion;
    if !matches!(p.kind, Kind::Reward) {
        return Ok(Err(RewardRefusal::NotReward(p.id)));
    }
    if record.status != Status::Live {
        return Ok(Err(HoldRefusal::NotLive.into()));
    }
    if p.validity.ends.is_some_and(|end| now >= end) {
        return Ok(Err(HoldRefusal::Ended.into()));
    }
    let tz = store.get_org(org_id).await?.time_zone.0;
    let mut tx = store.begin().await?;
    let ids = crate::store::customers::customer_ids(
        &mut tx,
        org_id,
        std::slice::from_ref(&r.customer),
        now,
    )
    .await?;
    let customer_id = *ids.get(&r.customer).ok_or(StoreError::NotFound)?;
    lock_customer(&mut tx, customer_id).await?;
    let grant = Grant {
        org_id,
        customer_id,
        source: "reward",
        reference: &r.request_id,
        at: now,
        cost: (r.cost_points, r.cost_amount),
    };
    match grant_hold(&mut tx, p, &grant, tz, now).await? {
        Err(refusal) => Ok(Err(refusal.into())),
        Ok(Some((hold_id, valid_till))) => {
            tx.commit().await?;
            Ok(Ok(RewardHold {
                hold_id,
                promotion_id: p.id,
                valid_till,
                replayed: false,
            }))
        }
        Ok(None) => {
            drop(tx);
            let kept = store
                .reward_hold(org_id, &r.request_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            Ok(Ok(replayed(kept)))
        }
    }
}

/// Why and for whom a hold is granted.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    /// `earned` or `reward`.
    pub source: &'static str,
    /// The event id, the reward request id, or what else made it (unique per source).
    pub reference: &'a str,
    /// When the customer got it: the window and the earning limit's cycle count from here.
    pub at: DateTime<Utc>,
    /// The points and money it cost (rewards).
    pub cost: (Option<i64>, Option<i64>),
}

/// Makes the customer (whose row `tx` holds) hold `p` when its maximum per customer allows,
/// and queues the message on earning in the same transaction. `Ok(None)`: this source's
/// reference holds it already. The hold's id and end.
pub async fn grant_hold(
    tx: &mut DynTx,
    p: &Promotion,
    g: &Grant<'_>,
    tz: Tz,
    now: DateTime<Utc>,
) -> StoreResult<Result<Option<(i64, Option<DateTime<Utc>>)>, HoldRefusal>> {
    let window = counted_window(&p.holding, g.at, tz);
    let had = times_held(tx, p.id, g.customer_id, window).await?;
    grant_counted(tx, p, g, had, tz, now).await
}

/// `grant_hold` for a customer who has had `p` `had` times within its maximum's count.
async fn grant_counted(
    tx: &mut DynTx,
    p: &Promotion,
    g: &Grant<'_>,
    had: i64,
    tz: Tz,
    now: DateTime<Utc>,
) -> StoreResult<Result<Option<(i64, Option<DateTime<Utc>>)>, HoldRefusal>> {
    if let Err(refusal) = may_hold(&p.holding, had) {
        return Ok(Err(refusal));
    }
    let valid_till = held_until(g.at, p.holding.window_days, p.validity.ends, tz);
    let hold = NewHold {
        org_id: g.org_id,
        promotion_id: p.id,
        customer_id: g.customer_id,
        source: g.source,
        reference: g.reference,
        acquired_at: g.at,
        valid_till,
        cost_points: g.cost.0,
        cost_amount: g.cost.1,
    };
    let Some(hold_id) = insert_hold(tx, &hold).await? else {
        return Ok(Ok(None));
    };
    super::hold_messages::queue_on_earning(tx, p, hold_id, &hold, tz, now).await?;
    Ok(Ok(Some((hold_id, valid_till))))
}
