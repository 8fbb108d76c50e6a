//! Claiming an offer for a consumer (CLM-1): load the offer and the consumer (its row locked)
//! → `domain::claim::check_claim` → the guarded write, audited, in one transaction; a claim
//! that loses the race is answered with the winner.

use crate::domain::claim::{
    ClaimCandidate, ClaimOffer, ClaimRefusal, Claimed, candidates as verdicts, check_claim,
};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::user::Actor;
use crate::store::claims::{claim_inputs, claim_offer_in, take_offer};
use crate::store::{Store, StoreError, StoreResult};

/// Every consumer of the org with whether it may claim the offer now, by name.
pub async fn candidates(
    store: &Store,
    org_id: OrgId,
    offer: &ClaimOffer,
) -> StoreResult<Vec<ClaimCandidate>> {
    let today = store.org_today(org_id).await?;
    let (consumers, held_by) = store.claim_consumers(org_id, offer.id).await?;
    Ok(verdicts(offer, consumers, &held_by, today))
}

/// Whether an offer with these rules may be created claimed by `consumer` (the claim rules:
/// an outbound campaign holds one offer, an ended campaign none, …). Used by API-0 with a
/// consumer's key and by "Create offer for …" on a consumer's page.
pub async fn may_create_for(
    store: &Store,
    org_id: OrgId,
    name: &str,
    ends_with_campaign: bool,
    consumer: i64,
) -> StoreResult<Result<(), ClaimRefusal>> {
    let offer = ClaimOffer {
        id: OfferId(0),
        name: name.to_string(),
        offer_code: String::new(),
        ends_with_campaign,
        claimed_by: None,
    };
    match candidates(store, org_id, &offer)
        .await?
        .into_iter()
        .find(|c| c.consumer.id == consumer)
    {
        Some(c) => Ok(c.verdict),
        None => Err(StoreError::NotFound),
    }
}

/// Claims offer `offer_id` of the org for consumer `consumer_id`, audited. `NotFound` when
/// either is not the org's; `Ok(Err(_))` names the rule that refused.
#[tracing::instrument(name = "app.claim", skip_all, fields(org = org_id.get(), offer = offer_id.get(), consumer = consumer_id))]
pub async fn claim(
    store: &Store,
    org_id: OrgId,
    offer_id: OfferId,
    consumer_id: i64,
    actor: &Actor,
) -> StoreResult<Result<Claimed, ClaimRefusal>> {
    let today = store.org_today(org_id).await?;
    let mut tx = store.begin().await?;
    let (offer, consumer, held) = claim_inputs(&mut tx, org_id, offer_id, consumer_id).await?;
    let already = match check_claim(&offer, &consumer, held.as_deref(), today) {
        Ok(already) => already,
        // A refusal wrote nothing; dropping the transaction rolls it back.
        Err(refusal) => return Ok(Err(refusal)),
    };
    if !already && !take_offer(&mut tx, org_id, &offer, &consumer, actor).await? {
        // Another consumer claimed it since it was read: answer with the winner.
        let now = claim_offer_in(&mut tx, org_id, offer_id).await?;
        let owner = now
            .claimed_by
            .map(|(_, label)| label)
            .unwrap_or_else(|| "another consumer".into());
        return Ok(Err(ClaimRefusal::AlreadyClaimed(owner)));
    }
    tx.commit().await?;
    Ok(Ok(Claimed {
        offer_id,
        consumer,
        already,
    }))
}
