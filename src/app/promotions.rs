//! Promotions' use cases (PRM-1), shared by the console and the API: create, edit (redemption
//! restrictions frozen once live), and moves through their life under the org's cap of live
//! promotions.

use crate::domain::ids::{OrgId, PromotionId};
use crate::domain::promotion::{Promotion, PromotionErrors, PromotionField, Status};
use crate::domain::user::Actor;
use crate::store::{Store, StoreError, StoreResult};

/// Why a promotion was not created, edited or moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromotionRefusal {
    /// Its rules break the seed's shapes; every field at fault.
    Invalid(PromotionErrors),
    /// The org has its cap of live promotions already.
    LiveCap(i64),
    /// One of its codes is a coupon's or another promotion's.
    CodeTaken(String),
    /// It has been live: these restrictions may not change any more.
    Frozen(Vec<PromotionField>),
    /// Its life does not allow the move.
    Move { from: Status, to: Status },
    /// It changed (went live, say) while this edit was being made.
    Changed,
}

impl PromotionRefusal {
    /// The refusal in words.
    pub fn message(&self) -> String {
        match self {
            PromotionRefusal::Invalid(errors) => errors
                .0
                .iter()
                .map(|e| format!("{} {}", e.field.api(), e.message))
                .collect::<Vec<_>>()
                .join("; "),
            PromotionRefusal::LiveCap(cap) => format!(
                "the organisation already has {cap} live promotions; pause or end one first"
            ),
            PromotionRefusal::CodeTaken(m) => m.clone(),
            PromotionRefusal::Frozen(fields) => format!(
                "the promotion has been live: its limits cannot change ({})",
                fields
                    .iter()
                    .map(|f| match f {
                        PromotionField::Holding => {
                            "holding (windowDays, maxPerCustomer, maxPerCustomerReset or earning.milestone)"
                        }
                        other => other.api(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PromotionRefusal::Move { from, to } => format!(
                "a {} promotion cannot become {}",
                from.as_str(),
                to.as_str()
            ),
            PromotionRefusal::Changed => {
                "the promotion changed while it was being edited; open it again".into()
            }
        }
    }
}

type Outcome<T> = StoreResult<Result<T, PromotionRefusal>>;

/// A refusal the store's write found (it holds the org's promotions while it writes).
async fn refusal_of(store: &Store, org_id: OrgId, e: StoreError) -> Outcome<()> {
    match e {
        StoreError::Conflict(m) if m == "live_cap" => {
            let cap = store.get_org(org_id).await?.live_promotion_cap;
            Ok(Err(PromotionRefusal::LiveCap(cap)))
        }
        StoreError::Conflict(m) if m == "status" => Ok(Err(PromotionRefusal::Changed)),
        StoreError::Conflict(m) => Ok(Err(PromotionRefusal::CodeTaken(m))),
        other => Err(other),
    }
}

async fn under_cap(store: &Store, org_id: OrgId) -> StoreResult<Result<(), PromotionRefusal>> {
    let cap = store.get_org(org_id).await?.live_promotion_cap;
    Ok(if store.count_live_promotions(org_id).await? >= cap {
        Err(PromotionRefusal::LiveCap(cap))
    } else {
        Ok(())
    })
}

/// Creates a promotion, live or as a draft.
pub async fn create(
    store: &Store,
    org_id: OrgId,
    promotion: &Promotion,
    status: Status,
    actor: &Actor,
) -> Outcome<PromotionId> {
    if let Err(errors) = promotion.validate() {
        return Ok(Err(PromotionRefusal::Invalid(errors)));
    }
    if status == Status::Live
        && let Err(r) = under_cap(store, org_id).await?
    {
        return Ok(Err(r));
    }
    match store
        .create_promotion(org_id, promotion, status, actor)
        .await
    {
        Ok(id) => Ok(Ok(id)),
        Err(e) => refusal_of(store, org_id, e)
            .await
            .map(|r| r.map(|()| PromotionId(0))),
    }
}

/// Replaces a promotion's rules. Once it has been live its limits, its redemption window and
/// its maximum earning per customer (with its reset) stay as they are (seed 003: redemption
/// restrictions are immutable once live); a crafted edit that changes them is refused, naming
/// each. A milestone neither (trackers hold progress measured by it); the event that earns it and its messages may change.
pub async fn update(
    store: &Store,
    org_id: OrgId,
    edited: &Promotion,
    actor: &Actor,
) -> Outcome<()> {
    let current = store.get_promotion(org_id, PromotionId(edited.id)).await?;
    if let Err(errors) = edited.validate() {
        return Ok(Err(PromotionRefusal::Invalid(errors)));
    }
    if current.status.restrictions_frozen() {
        let mut changed = current.promotion.limit_changes(edited);
        let (was, now) = (&current.promotion.holding, &edited.holding);
        if was.window_days != now.window_days
            || was.max_per_customer != now.max_per_customer
            || was.max_per_customer_reset != now.max_per_customer_reset
            // Trackers hold progress measured by the milestone: a new measure, window or
            // target would misread it (and a raised target would let customers earn again).
            || was.earning.as_ref().and_then(|e| e.milestone)
                != now.earning.as_ref().and_then(|e| e.milestone)
        {
            changed.push(PromotionField::Holding);
        }
        if !changed.is_empty() {
            return Ok(Err(PromotionRefusal::Frozen(changed)));
        }
    }
    // The write holds only if the status is still the one the frozen check read.
    match store
        .update_promotion(org_id, edited, current.status, actor)
        .await
    {
        Ok(()) => Ok(Ok(())),
        Err(e) => refusal_of(store, org_id, e).await,
    }
}

/// Puts a promotion live, pauses or ends it.
pub async fn set_status(
    store: &Store,
    org_id: OrgId,
    id: PromotionId,
    to: Status,
    actor: &Actor,
) -> Outcome<()> {
    let current = store.get_promotion(org_id, id).await?;
    if !current.status.may_become(to) {
        return Ok(Err(PromotionRefusal::Move {
            from: current.status,
            to,
        }));
    }
    if to == Status::Live
        && let Err(r) = under_cap(store, org_id).await?
    {
        return Ok(Err(r));
    }
    match store
        .set_promotion_status(org_id, id, current.status, to, actor)
        .await
    {
        Ok(()) => Ok(Ok(())),
        // Another move got there first.
        Err(StoreError::Conflict(m)) if m == "status" => Ok(Err(PromotionRefusal::Move {
            from: current.status,
            to,
        })),
        Err(e) => refusal_of(store, org_id, e).await,
    }
}
