//! Claiming an offer for a consumer (CLM-1), as pure rules: once a campaign, program or
//! integration claims an offer, no other consumer may claim it; an outbound campaign holds at
//! most one offer; an ended campaign claims nothing.
//!
//! Expiry "along with the campaign" (ISS-3, `domain::issue::offer_ends_on`): such an offer ends
//! with the claiming consumer's end date, or never when the consumer has none. A campaign (it
//! has an end date) or a loyalty program (its coupons are meant not to expire) may claim it; a
//! third-party integration may not, since the offer would silently never end.

use super::ids::OfferId;
use super::masters::ConsumerKind;
use chrono::NaiveDate;
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
    pub kind: ConsumerKind,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

impl ClaimConsumer {
    /// "Outbound campaign: Diwali blast".
    pub fn label(&self) -> String {
        format!("{}: {}", self.kind.label(), self.name)
    }
}

/// The offer's facts a claim is decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimOffer {
    pub id: OfferId,
    pub name: String,
    pub offer_code: String,
    /// Expiry "along with the campaign".
    pub ends_with_campaign: bool,
    /// The consumer holding it: (id, "Kind: name").
    pub claimed_by: Option<(i64, String)>,
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
        && consumer.kind != ConsumerKind::Loyalty
    {
        return Err(ClaimRefusal::NoCampaignEnd(consumer.name.clone()));
    }
    if consumer.kind == ConsumerKind::Outbound
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
    pub offer_id: OfferId,
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

/// Every consumer with whether it may claim `offer` on `today`; `held_by` maps an outbound
/// campaign to the (first) other offer it holds.
pub fn candidates(
    offer: &ClaimOffer,
    consumers: Vec<ClaimConsumer>,
    held_by: &HashMap<i64, String>,
    today: NaiveDate,
) -> Vec<ClaimCandidate> {
    consumers
        .into_iter()
        .map(|c| {
            let verdict =
                check_claim(offer, &c, held_by.get(&c.id).map(String::as_str), today).map(|_| ());
            ClaimCandidate {
                consumer: c,
                verdict,
            }
        })
        .collect()
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
            kind: ConsumerKind::parse("kind", kind).unwrap(),
            starts_on: ends_on.map(|_| d(2026, 1, 1)),
            ends_on,
        }
    }

    fn offer(with_campaign: bool, claimed_by: Option<i64>) -> ClaimOffer {
        ClaimOffer {
            id: OfferId(1),
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

    #[test]
    fn the_picker_lists_every_consumer_with_its_verdict() {
        let o = offer(false, None);
        let end = Some(d(2027, 1, 1));
        let held: HashMap<i64, String> = [(1, "Other".to_string())].into();
        let list = candidates(
            &o,
            vec![
                consumer(1, "outbound", end),
                consumer(2, "outbound", end),
                consumer(3, "dvs", Some(d(2026, 1, 2))),
            ],
            &held,
            today(),
        );
        let codes: Vec<(i64, Option<&str>)> = list
            .iter()
            .map(|c| (c.consumer.id, c.verdict.as_ref().err().map(|e| e.code())))
            .collect();
        assert_eq!(
            codes,
            [
                (1, Some("consumer_holds_an_offer")),
                (2, None),
                (3, Some("campaign_ended"))
            ]
        );
    }
}
