//! Claiming an offer for a consumer (CLM-1): once a campaign, program or integration claims an
//! offer, no other consumer may claim, issue or redeem it; an outbound campaign holds at most
//! one offer. The rules are decided by `check_claim` (pure); the store applies them in one write
//! transaction whose `UPDATE` carries the exclusivity guard, so concurrent claims on any number
//! of instances agree on one owner.
//!
//! Expiry "along with the campaign" (ISS-3, `domain::issue::offer_ends_on`): such an offer ends
//! with the claiming consumer's end date, or never when the consumer has none. A campaign (it
//! has an end date) or a loyalty program (its coupons are meant not to expire) may claim it; a
//! third-party integration may not, since the offer would silently never end.

use super::dyntx::{Arg, DynTx};
use super::offers::OfferRecord;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::masters::ConsumerKind;
use crate::domain::offer::OfferExpiry;
use crate::domain::user::Actor;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

/// Why a consumer may not claim an offer. `code()` is stable (API), `to_string()` is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    /// Another consumer holds the offer; its "Kind: name".
    #[error("the offer is already claimed by {0}")]
    AlreadyClaimed(String),
    /// An outbound campaign holds one offer at most; the offer it holds.
    #[error(
        "{consumer} is an outbound campaign and already holds the offer {offer}; an outbound campaign holds one offer"
    )]
    HoldsAnOffer { consumer: String, offer: String },
    #[error("{consumer} cannot claim offers: the campaign ended on {ended}")]
    CampaignEnded { consumer: String, ended: NaiveDate },
    /// An offer that ends with its campaign, claimed by a consumer without an end date.
    #[error(
        "the offer ends along with the campaign that claims it, and {0} has no end date; claim it for a campaign or a loyalty program"
    )]
    NoCampaignEnd(String),
}

impl ClaimRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ClaimRefusal::AlreadyClaimed(_) => "already_claimed",
            ClaimRefusal::HoldsAnOffer { .. } => "consumer_holds_an_offer",
            ClaimRefusal::CampaignEnded { .. } => "campaign_ended",
            ClaimRefusal::NoCampaignEnd(_) => "consumer_has_no_end_date",
        }
    }

    /// Conflicts with another claim (409) rather than a rule about this consumer (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ClaimRefusal::AlreadyClaimed(_) | ClaimRefusal::HoldsAnOffer { .. }
        )
    }
}

/// A consumer as claiming needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimConsumer {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

impl ClaimConsumer {
    pub fn kind(&self) -> Option<ConsumerKind> {
        ConsumerKind::parse("kind", &self.kind).ok()
    }

    /// "Outbound campaign: Diwali blast".
    pub fn label(&self) -> String {
        let kind = self.kind().map(|k| k.label()).unwrap_or("Consumer");
        format!("{kind}: {}", self.name)
    }
}

/// The offer's facts a claim is decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimOffer {
    pub id: i64,
    pub name: String,
    pub offer_code: String,
    /// Expiry "along with the campaign".
    pub ends_with_campaign: bool,
    /// The consumer holding it: (id, "Kind: name").
    pub claimed_by: Option<(i64, String)>,
}

#[derive(sqlx::FromRow)]
struct ClaimOfferRow {
    id: i64,
    name: String,
    offer_code: String,
    expiry_type: String,
    claimed_by: Option<i64>,
    owner_name: Option<String>,
    owner_kind: Option<String>,
}

impl From<&OfferRecord> for ClaimOffer {
    fn from(o: &OfferRecord) -> ClaimOffer {
        ClaimOffer {
            id: o.id,
            name: o.rules.name.clone(),
            offer_code: o.offer_code.clone(),
            ends_with_campaign: o.rules.expiry == OfferExpiry::WithCampaign,
            claimed_by: o.claimed_by.as_ref().map(|(id, name, kind)| {
                let owner = ClaimConsumer {
                    id: *id,
                    name: name.clone(),
                    kind: kind.clone(),
                    starts_on: None,
                    ends_on: None,
                };
                (*id, owner.label())
            }),
        }
    }
}

impl From<ClaimOfferRow> for ClaimOffer {
    fn from(r: ClaimOfferRow) -> ClaimOffer {
        let claimed_by = r.claimed_by.map(|id| {
            let owner = ClaimConsumer {
                id,
                name: r.owner_name.unwrap_or_default(),
                kind: r.owner_kind.unwrap_or_default(),
                starts_on: None,
                ends_on: None,
            };
            (id, owner.label())
        });
        ClaimOffer {
            id: r.id,
            name: r.name,
            offer_code: r.offer_code,
            ends_with_campaign: r.expiry_type == "campaign",
            claimed_by,
        }
    }
}

/// Decides whether `consumer` may claim `offer` on `today` (org calendar). `held` is another
/// offer the consumer already holds (name), looked at for outbound campaigns only.
/// `Ok(true)`: the consumer already holds this offer (a repeated claim changes nothing).
pub fn check_claim(
    offer: &ClaimOffer,
    consumer: &ClaimConsumer,
    held: Option<&str>,
    today: NaiveDate,
) -> Result<bool, ClaimRefusal> {
    match &offer.claimed_by {
        Some((owner, _)) if *owner == consumer.id => return Ok(true),
        Some((_, label)) => return Err(ClaimRefusal::AlreadyClaimed(label.clone())),
        None => {}
    }
    if let Some(end) = consumer.ends_on
        && end < today
    {
        return Err(ClaimRefusal::CampaignEnded {
            consumer: consumer.name.clone(),
            ended: end,
        });
    }
    if offer.ends_with_campaign
        && consumer.ends_on.is_none()
        && consumer.kind() != Some(ConsumerKind::Loyalty)
    {
        return Err(ClaimRefusal::NoCampaignEnd(consumer.name.clone()));
    }
    if consumer.kind() == Some(ConsumerKind::Outbound)
        && let Some(other) = held
    {
        return Err(ClaimRefusal::HoldsAnOffer {
            consumer: consumer.name.clone(),
            offer: other.to_string(),
        });
    }
    Ok(false)
}

/// A claim that went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub offer_id: i64,
    pub consumer: ClaimConsumer,
    /// The consumer held the offer already; nothing was written.
    pub already: bool,
}

/// One consumer as the claim page's picker shows it.
#[derive(Debug, Clone)]
pub struct ClaimCandidate {
    pub consumer: ClaimConsumer,
    /// `Ok(())`: may claim; otherwise why not.
    pub verdict: Result<(), ClaimRefusal>,
}

const OFFER_SQL: &str = "SELECT o.id, o.name, o.offer_code, o.expiry_type, o.claimed_by, \
     c.name AS owner_name, c.kind AS owner_kind \
     FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by WHERE o.org_id = $1 AND o.id = $2";

const CONSUMER_SQL: &str =
    "SELECT id, name, kind, starts_on, ends_on FROM consumers WHERE org_id = $1 AND id = $2";

/// Another offer the consumer holds (the outbound rule), by name.
const HELD_SQL: &str = "SELECT name FROM offers WHERE org_id = $1 AND claimed_by = $2 AND id <> $3 \
     ORDER BY id LIMIT 1";

impl Store {
    /// The org's calendar day now.
    async fn org_today(&self, org_id: i64) -> StoreResult<NaiveDate> {
        let org = self.get_org(org_id).await?;
        let tz: Tz = org.time_zone.0;
        Ok(Utc::now().with_timezone(&tz).date_naive())
    }

    /// Every consumer of the org with whether it may claim the offer now, by name.
    pub async fn claim_candidates(
        &self,
        org_id: i64,
        offer: &ClaimOffer,
    ) -> StoreResult<Vec<ClaimCandidate>> {
        let today = self.org_today(org_id).await?;
        let consumers: Vec<ClaimConsumer> = self
            .fetch_all_read(
                "SELECT id, name, kind, starts_on, ends_on FROM consumers WHERE org_id = $1 ORDER BY name",
                &[org_id.into()],
            )
            .await?;
        // The offers outbound campaigns hold (first by id), for the one-offer rule.
        let held: Vec<(i64, String)> = self
            .fetch_all_read(
                "SELECT o.claimed_by, o.name FROM offers o JOIN consumers c ON c.id = o.claimed_by \
                 WHERE o.org_id = $1 AND c.kind = 'outbound' AND o.id <> $2 ORDER BY o.id",
                &[org_id.into(), offer.id.into()],
            )
            .await?;
        let mut held_by: HashMap<i64, String> = HashMap::new();
        for (consumer, name) in held {
            held_by.entry(consumer).or_insert(name);
        }
        Ok(consumers
            .into_iter()
            .map(|c| {
                let verdict = check_claim(offer, &c, held_by.get(&c.id).map(String::as_str), today)
                    .map(|_| ());
                ClaimCandidate {
                    consumer: c,
                    verdict,
                }
            })
            .collect())
    }

    /// Whether an offer with these rules may be created claimed by `consumer` (the claim rules:
    /// an outbound campaign holds one offer, an ended campaign none, …). Used by API-0 with a
    /// consumer's key and by "Create offer for …" on a consumer's page.
    pub async fn may_create_for(
        &self,
        org_id: i64,
        name: &str,
        ends_with_campaign: bool,
        consumer: i64,
    ) -> StoreResult<Result<(), ClaimRefusal>> {
        let offer = ClaimOffer {
            id: 0,
            name: name.to_string(),
            offer_code: String::new(),
            ends_with_campaign,
            claimed_by: None,
        };
        let candidates = self.claim_candidates(org_id, &offer).await?;
        match candidates.into_iter().find(|c| c.consumer.id == consumer) {
            Some(c) => Ok(c.verdict),
            None => Err(StoreError::NotFound),
        }
    }

    /// Claims offer `offer_id` of the org for consumer `consumer_id` (CLM-1), audited.
    /// `NotFound` when either is not the org's; `Ok(Err(_))` names the rule that refused.
    ///
    /// Race safety: the `UPDATE` only takes an unclaimed offer (or one this consumer holds),
    /// so of concurrent claims exactly one wins and the others are answered with the winner.
    /// The outbound one-offer count is made after locking the consumer's row (PostgreSQL
    /// `FOR NO KEY UPDATE`; SQLite's `BEGIN IMMEDIATE` already makes write transactions one at a time),
    /// so two offers claimed at once by one outbound campaign cannot both pass the count.
    #[tracing::instrument(name = "store.claim", skip_all, fields(org = org_id, offer = offer_id, consumer = consumer_id))]
    pub async fn claim_offer(
        &self,
        org_id: i64,
        offer_id: i64,
        consumer_id: i64,
        actor: &Actor,
    ) -> StoreResult<Result<Claimed, ClaimRefusal>> {
        let today = self.org_today(org_id).await?;
        let mut tx = self.begin().await?;
        let outcome = claim_in(&mut tx, org_id, offer_id, consumer_id, today, actor).await?;
        // A refusal or a repeated claim wrote nothing; committing is harmless either way.
        tx.commit().await?;
        Ok(outcome)
    }
}

async fn claim_in(
    tx: &mut DynTx,
    org_id: i64,
    offer_id: i64,
    consumer_id: i64,
    today: NaiveDate,
    actor: &Actor,
) -> StoreResult<Result<Claimed, ClaimRefusal>> {
    let consumer_sql = if tx.is_postgres() {
        // NO KEY UPDATE: serialises claims by this consumer without blocking the foreign-key
        // checks of issues and redemptions that name it.
        format!("{CONSUMER_SQL} FOR NO KEY UPDATE")
    } else {
        CONSUMER_SQL.to_string()
    };
    let consumer: ClaimConsumer = tx
        .fetch_optional(&consumer_sql, &[org_id.into(), consumer_id.into()])
        .await?
        .ok_or(StoreError::NotFound)?;
    let offer: ClaimOffer = tx
        .fetch_optional::<ClaimOfferRow>(OFFER_SQL, &[org_id.into(), offer_id.into()])
        .await?
        .ok_or(StoreError::NotFound)?
        .into();
    let held: Option<String> = if consumer.kind() == Some(ConsumerKind::Outbound) {
        tx.fetch_optional::<(String,)>(
            HELD_SQL,
            &[org_id.into(), consumer_id.into(), offer_id.into()],
        )
        .await?
        .map(|(name,)| name)
    } else {
        None
    };
    let already = match check_claim(&offer, &consumer, held.as_deref(), today) {
        Ok(already) => already,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if already {
        return Ok(Ok(Claimed {
            offer_id,
            consumer,
            already: true,
        }));
    }
    // The guard: only an unclaimed offer (or one this consumer holds) is taken. `updated_at`
    // moves so per-instance offer caches (redemption) read the new owner.
    let taken = tx
        .execute(
            "UPDATE offers SET claimed_by = $1, updated_at = $2, updated_by = $3 \
             WHERE id = $4 AND org_id = $5 AND (claimed_by IS NULL OR claimed_by = $1)",
            &[
                consumer_id.into(),
                Utc::now().into(),
                Arg::OptI64(actor.user_id),
                offer_id.into(),
                org_id.into(),
            ],
        )
        .await?;
    if taken == 0 {
        // Another consumer claimed it since it was read: answer with the winner.
        let now: ClaimOffer = tx
            .fetch_optional::<ClaimOfferRow>(OFFER_SQL, &[org_id.into(), offer_id.into()])
            .await?
            .ok_or(StoreError::NotFound)?
            .into();
        let owner = now
            .claimed_by
            .map(|(_, label)| label)
            .unwrap_or_else(|| "another consumer".into());
        return Ok(Err(ClaimRefusal::AlreadyClaimed(owner)));
    }
    super::audit::record_dyn(
        tx,
        AuditEntry {
            org_id,
            actor,
            action: "offer.claimed",
            entity_type: "offer",
            entity_id: Some(offer_id),
            summary: format!(
                "Claimed by {}: offer {} ({})",
                consumer.label(),
                offer.name,
                offer.offer_code
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
    Ok(Ok(Claimed {
        offer_id,
        consumer,
        already: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn consumer(id: i64, kind: &str, ends_on: Option<NaiveDate>) -> ClaimConsumer {
        ClaimConsumer {
            id,
            name: format!("C{id}"),
            kind: kind.into(),
            starts_on: ends_on.map(|_| d(2026, 1, 1)),
            ends_on,
        }
    }

    fn offer(with_campaign: bool, claimed_by: Option<i64>) -> ClaimOffer {
        ClaimOffer {
            id: 1,
            name: "Welcome".into(),
            offer_code: "W1".into(),
            ends_with_campaign: with_campaign,
            claimed_by: claimed_by.map(|id| (id, format!("Loyalty program: C{id}"))),
        }
    }

    fn today() -> NaiveDate {
        d(2026, 11, 23)
    }

    #[test]
    fn the_holder_reclaims_as_a_no_op_and_others_are_refused_naming_it() {
        let o = offer(false, Some(7));
        assert_eq!(
            check_claim(&o, &consumer(7, "loyalty", None), None, today()),
            Ok(true)
        );
        let e =
            check_claim(&o, &consumer(8, "dvs", Some(d(2027, 1, 1))), None, today()).unwrap_err();
        assert_eq!(e.code(), "already_claimed");
        assert!(e.to_string().contains("C7"));
        assert!(e.is_conflict());
    }

    #[test]
    fn an_outbound_campaign_holds_one_offer_others_several() {
        let o = offer(false, None);
        let end = Some(d(2027, 1, 1));
        let e = check_claim(&o, &consumer(1, "outbound", end), Some("Other"), today()).unwrap_err();
        assert_eq!(e.code(), "consumer_holds_an_offer");
        assert!(e.to_string().contains("Other"));
        for kind in ["dvs", "timeline"] {
            assert_eq!(
                check_claim(&o, &consumer(1, kind, end), Some("Other"), today()),
                Ok(false)
            );
        }
        for kind in ["loyalty", "third_party"] {
            assert_eq!(
                check_claim(&o, &consumer(1, kind, None), Some("Other"), today()),
                Ok(false)
            );
        }
    }

    #[test]
    fn an_ended_campaign_may_not_claim_but_one_ending_today_may() {
        let o = offer(false, None);
        let e = check_claim(
            &o,
            &consumer(1, "dvs", Some(d(2026, 11, 22))),
            None,
            today(),
        )
        .unwrap_err();
        assert_eq!(e.code(), "campaign_ended");
        assert!(e.to_string().contains("2026-11-22"));
        assert!(!e.is_conflict());
        assert!(check_claim(&o, &consumer(1, "dvs", Some(today())), None, today()).is_ok());
    }

    #[test]
    fn an_offer_ending_with_its_campaign_needs_an_end_or_a_loyalty_program() {
        let o = offer(true, None);
        assert!(
            check_claim(
                &o,
                &consumer(1, "timeline", Some(d(2027, 1, 1))),
                None,
                today()
            )
            .is_ok()
        );
        assert!(check_claim(&o, &consumer(1, "loyalty", None), None, today()).is_ok());
        let e = check_claim(&o, &consumer(1, "third_party", None), None, today()).unwrap_err();
        assert_eq!(e.code(), "consumer_has_no_end_date");
        // A fixed-date offer may go to an integration.
        assert!(
            check_claim(
                &offer(false, None),
                &consumer(1, "third_party", None),
                None,
                today()
            )
            .is_ok()
        );
    }
}
