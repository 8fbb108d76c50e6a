//! Claims (CLM-1) in SQL: the inputs a claim is decided on, read under the consumer's row lock,
//! and the guarded write. The flow is `app::claim`; the rules are `domain::claim`.
//!
//! Race safety: the `UPDATE` only takes an unclaimed offer (or one this consumer holds), so of
//! concurrent claims exactly one wins and the others are answered with the winner. The outbound
//! one-offer count is made after locking the consumer's row (PostgreSQL `FOR NO KEY UPDATE`;
//! SQLite's `BEGIN IMMEDIATE` already makes write transactions one at a time), so two offers
//! claimed at once by one outbound campaign cannot both pass the count.

use super::dialect::Lock;
use super::dyntx::DynTx;
use super::offers::OfferRecord;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::claim::{ClaimConsumer, ClaimOffer};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::masters::ConsumerKind;
use crate::domain::offer::OfferExpiry;
use crate::domain::user::Actor;
use chrono::{NaiveDate, Utc};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct ClaimOfferRow {
    id: OfferId,
    name: String,
    offer_code: String,
    expiry_type: String,
    claimed_by: Option<i64>,
    owner_name: Option<String>,
    owner_kind: Option<ConsumerKind>,
}

/// The offer's claim facts from an offer already read.
pub fn claim_offer_of(o: &OfferRecord) -> ClaimOffer {
    ClaimOffer {
        id: o.id,
        name: o.rules.name.clone(),
        offer_code: o.offer_code.clone(),
        ends_with_campaign: o.rules.expiry == OfferExpiry::WithCampaign,
        claimed_by: o
            .claimed_by
            .as_ref()
            .map(|(id, name, kind)| (*id, format!("{}: {name}", kind.label()))),
    }
}

fn offer_of(r: ClaimOfferRow) -> ClaimOffer {
    let claimed_by = match (r.claimed_by, r.owner_kind) {
        (Some(id), Some(kind)) => Some((
            id,
            format!("{}: {}", kind.label(), r.owner_name.unwrap_or_default()),
        )),
        _ => None,
    };
    ClaimOffer {
        id: r.id,
        name: r.name,
        offer_code: r.offer_code,
        ends_with_campaign: r.expiry_type == "campaign",
        claimed_by,
    }
}

const OFFER_SQL: &str = "SELECT o.id, o.name, o.offer_code, o.expiry_type, o.claimed_by, \
     c.name AS owner_name, c.kind AS owner_kind \
     FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by WHERE o.org_id = $1 AND o.id = $2";

const CONSUMER_SQL: &str =
    "SELECT id, name, kind, starts_on, ends_on FROM consumers WHERE org_id = $1 AND id = $2";

/// Another offer the consumer holds (the outbound rule), by name.
const HELD_SQL: &str = "SELECT name FROM offers WHERE org_id = $1 AND claimed_by = $2 AND id <> $3 \
     ORDER BY id LIMIT 1";

/// What a claim of `offer_id` by `consumer_id` is decided on: the consumer (its row locked
/// until the transaction ends), the offer, and for an outbound campaign another offer it holds.
/// `NotFound` when either is not the org's.
pub async fn claim_inputs(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    consumer_id: i64,
) -> StoreResult<(ClaimOffer, ClaimConsumer, Option<String>)> {
    // NO KEY UPDATE: serialises claims by this consumer without blocking the foreign-key
    // checks of issues and redemptions that name it.
    let consumer_sql = format!("{CONSUMER_SQL}{}", tx.dialect().lock(Lock::NoKeyUpdate));
    let consumer: ClaimConsumer = tx
        .fetch_optional(&consumer_sql, &[org_id.into(), consumer_id.into()])
        .await?
        .ok_or(StoreError::NotFound)?;
    let offer = claim_offer_in(tx, org_id, offer_id).await?;
    let held: Option<String> = if consumer.kind == ConsumerKind::Outbound {
        tx.fetch_optional::<(String,)>(
            HELD_SQL,
            &[org_id.into(), consumer_id.into(), offer_id.into()],
        )
        .await?
        .map(|(name,)| name)
    } else {
        None
    };
    Ok((offer, consumer, held))
}

/// The offer's claim facts as they are now in `tx`.
pub async fn claim_offer_in(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
) -> StoreResult<ClaimOffer> {
    Ok(offer_of(
        tx.fetch_optional::<ClaimOfferRow>(OFFER_SQL, &[org_id.into(), offer_id.into()])
            .await?
            .ok_or(StoreError::NotFound)?,
    ))
}

/// Takes the offer for the consumer, guarded: only an unclaimed offer (or one this consumer
/// holds) is taken. `updated_at` moves so per-instance offer caches (redemption) read the new
/// owner. Whether it was taken; audited when it was.
pub async fn take_offer(
    tx: &mut DynTx,
    org_id: OrgId,
    offer: &ClaimOffer,
    consumer: &ClaimConsumer,
    actor: &Actor,
) -> StoreResult<bool> {
    let taken = tx
        .execute(
            "UPDATE offers SET claimed_by = $1, updated_at = $2, updated_by = $3 \
             WHERE id = $4 AND org_id = $5 AND (claimed_by IS NULL OR claimed_by = $1)",
            &[
                consumer.id.into(),
                Utc::now().into(),
                actor.user_id.into(),
                offer.id.into(),
                org_id.into(),
            ],
        )
        .await?;
    if taken == 0 {
        return Ok(false);
    }
    super::audit::record_dyn(
        tx,
        AuditEntry {
            org_id,
            actor,
            action: "offer.claimed",
            entity_type: "offer",
            entity_id: Some(offer.id.get()),
            summary: format!(
                "Offer {} ({}) claimed by {} {}",
                offer.name,
                offer.offer_code,
                in_sentence(consumer.kind.label()),
                consumer.name
            ),
            details: Some(
                serde_json::json!({
                    "claimed_by": {"before": null, "after": consumer.label()},
                })
                .to_string(),
            ),
        },
    )
    .await?;
    Ok(true)
}

/// A label inside a sentence: "Loyalty program" → "loyalty program"; an acronym stays
/// ("DVS (bounce-back) campaign").
fn in_sentence(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if second.is_lowercase() => first
            .to_lowercase()
            .chain(label[first.len_utf8()..].chars())
            .collect(),
        _ => label.to_string(),
    }
}

impl Store {
    /// The org's consumers by name, and the first other offer each outbound campaign holds
    /// (for the one-offer rule), as the claim picker decides on them.
    pub async fn claim_consumers(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
    ) -> StoreResult<(Vec<ClaimConsumer>, HashMap<i64, String>)> {
        let consumers: Vec<ClaimConsumer> = self
            .fetch_all_read(
                "SELECT id, name, kind, starts_on, ends_on FROM consumers WHERE org_id = $1 ORDER BY name",
                &[org_id.into()],
            )
            .await?;
        let held: Vec<(i64, String)> = self
            .fetch_all_read(
                "SELECT o.claimed_by, o.name FROM offers o JOIN consumers c ON c.id = o.claimed_by \
                 WHERE o.org_id = $1 AND c.kind = 'outbound' AND o.id <> $2 ORDER BY o.id",
                &[org_id.into(), offer_id.into()],
            )
            .await?;
        let mut held_by: HashMap<i64, String> = HashMap::new();
        for (consumer, name) in held {
            held_by.entry(consumer).or_insert(name);
        }
        Ok((consumers, held_by))
    }

    /// The org's calendar day now.
    pub async fn org_today(&self, org_id: OrgId) -> StoreResult<NaiveDate> {
        let org = self.get_org(org_id).await?;
        Ok(Utc::now().with_timezone(&org.time_zone.0).date_naive())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_read_in_a_sentence_and_acronyms_stay() {
        assert_eq!(super::in_sentence("Loyalty program"), "loyalty program");
        assert_eq!(
            super::in_sentence("DVS (bounce-back) campaign"),
            "DVS (bounce-back) campaign"
        );
    }
}
