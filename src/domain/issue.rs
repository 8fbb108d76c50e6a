//! Issuing (ISS-1, ISS-2): who may get a coupon of an offer, decided without a database from
//! what the store read about the offer and the customer. A refusal names the rule.

use super::masters::IdentifierType;
use super::offer::{OfferExpiry, OfferRules};
use crate::domain::ids::CustomerId;
use chrono::{Duration, Months, NaiveDate};
use std::collections::HashMap;

/// A customer as an integration or a CSV names them: one identifier, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerRef {
    pub kind: IdentifierType,
    pub value: String,
}

impl CustomerRef {
    /// Parses an identifier of a kind, normalising it (mobile digits, lower-case email).
    pub fn parse(kind: IdentifierType, raw: &str) -> Result<CustomerRef, String> {
        Ok(CustomerRef {
            kind,
            value: kind.normalise(raw)?,
        })
    }

    /// `MOBILE +919876543210`
    pub fn label(&self) -> String {
        format!("{} {}", self.kind.as_str(), self.value)
    }
}

/// How far back the past-issual restriction looks.
pub const PAST_ISSUAL_MONTHS: u32 = 6;

/// Why an issue was refused. `code()` is stable (API and result files), `to_string()` is
/// what a person reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueRefusal {
    #[error("the offer ended on {0}")]
    OfferExpired(NaiveDate),
    #[error(
        "the offer is claimed by {0}; only {0} issues it (its API keys, or the console from its page)"
    )]
    ClaimedByOther(String),
    #[error(
        "the offer ends with the campaign that claims it and no campaign has claimed it yet, so its coupons would have no expiry"
    )]
    NotClaimed,
    #[error("the offer is for specific customers only and this customer is not on its list")]
    NotInAudience,
    #[error("the customer was issued one of the excluded offers in the last 6 months")]
    PastIssual,
    #[error("the customer already has {0} coupon(s) of this offer, the most allowed")]
    MaxPerCustomer(u32),
    #[error("issues to one customer must be {gap} days apart; next possible on {next}")]
    TooSoon { gap: u32, next: NaiveDate },
    #[error("the offer's issual cap of {0} coupons is reached")]
    TotalCap(i64),
    #[error("{0}")]
    NoCodesLeft(String),
}

impl IssueRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            IssueRefusal::OfferExpired(_) => "offer_expired",
            IssueRefusal::ClaimedByOther(_) => "claimed_by_other_consumer",
            IssueRefusal::NotClaimed => "offer_not_claimed",
            IssueRefusal::NotInAudience => "not_in_audience",
            IssueRefusal::PastIssual => "past_issual",
            IssueRefusal::MaxPerCustomer(_) => "max_per_customer",
            IssueRefusal::TooSoon { .. } => "min_gap",
            IssueRefusal::TotalCap(_) => "issual_cap_reached",
            IssueRefusal::NoCodesLeft(_) => "no_codes_left",
        }
    }
}

/// The offer-wide facts an issue is decided on.
#[derive(Debug, Clone)]
pub struct OfferState<'a> {
    pub rules: &'a OfferRules,
    /// The last day the offer runs (fixed date, or the claiming campaign's end), if any.
    pub ends_on: Option<NaiveDate>,
    /// Coupons issued so far, including earlier rows of the same batch.
    pub issued: i64,
    /// The consumer that claimed the offer: (id, name).
    pub claimed_by: Option<(i64, String)>,
}

/// What the store knows about one customer and this offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerHistory {
    pub in_audience: bool,
    /// Issued one of the past-issual offers within `PAST_ISSUAL_MONTHS`.
    pub had_past_issual: bool,
    /// Coupons of this offer already issued to the customer.
    pub issued: u32,
    /// The org-calendar day of the customer's last issue of this offer.
    pub last_issued_on: Option<NaiveDate>,
}

/// The last day an offer runs: its fixed end, or the claiming campaign's end, whichever is
/// earlier (ISS-3). `None` when neither applies (e.g. an offer used by a loyalty program).
pub fn offer_ends_on(expiry: &OfferExpiry, campaign_end: Option<NaiveDate>) -> Option<NaiveDate> {
    match (expiry, campaign_end) {
        (OfferExpiry::Fixed(d), Some(c)) => Some((*d).min(c)),
        (OfferExpiry::Fixed(d), None) => Some(*d),
        (OfferExpiry::WithCampaign, c) => c,
    }
}

/// The first day from which past issuals count, for an issue on `today`.
pub fn past_issual_since(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_months(Months::new(PAST_ISSUAL_MONTHS))
        .unwrap_or(NaiveDate::MIN)
}

/// Whether `consumer` (None: a key or console user acting for nobody) may issue the offer: a
/// claimed offer is issued by its consumer alone, and an offer that ends with its campaign
/// only once a campaign has claimed it (its coupons would have no expiry before).
pub fn check_issuer(
    claimed_by: &Option<(i64, String)>,
    expiry: &OfferExpiry,
    consumer: Option<i64>,
) -> Result<(), IssueRefusal> {
    match claimed_by {
        Some((owner, name)) if consumer != Some(*owner) => {
            Err(IssueRefusal::ClaimedByOther(name.clone()))
        }
        None if *expiry == OfferExpiry::WithCampaign => Err(IssueRefusal::NotClaimed),
        _ => Ok(()),
    }
}

/// The rules that do not depend on the customer: the offer runs, the issuing consumer may
/// issue it, the cap is not reached.
pub fn check_offer(
    offer: &OfferState<'_>,
    today: NaiveDate,
    consumer: Option<i64>,
) -> Result<(), IssueRefusal> {
    if let Some(end) = offer.ends_on
        && today > end
    {
        return Err(IssueRefusal::OfferExpired(end));
    }
    check_issuer(&offer.claimed_by, &offer.rules.expiry, consumer)?;
    if let Some(cap) = offer.rules.issual.total_cap
        && offer.issued >= cap
    {
        return Err(IssueRefusal::TotalCap(cap));
    }
    Ok(())
}

/// Every ISS-2 rule for one customer, offer rules first; gap days count in the org's calendar.
pub fn check_issue(
    offer: &OfferState<'_>,
    customer: &CustomerHistory,
    today: NaiveDate,
    consumer: Option<i64>,
) -> Result<(), IssueRefusal> {
    check_offer(offer, today, consumer)?;
    let issual = &offer.rules.issual;
    if offer.rules.specific_customers_only && !customer.in_audience {
        return Err(IssueRefusal::NotInAudience);
    }
    if !issual.past_issual_offers.is_empty() && customer.had_past_issual {
        return Err(IssueRefusal::PastIssual);
    }
    if let Some(max) = issual.max_per_customer
        && customer.issued >= max
    {
        return Err(IssueRefusal::MaxPerCustomer(max));
    }
    if let (Some(gap), Some(last)) = (issual.min_gap_days, customer.last_issued_on) {
        let next = last + Duration::days(i64::from(gap));
        if today < next {
            return Err(IssueRefusal::TooSoon { gap, next });
        }
    }
    Ok(())
}

/// A coupon issued to a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub code: String,
    pub valid_till: Option<NaiveDate>,
}

pub type IssueOutcome = Result<Issued, IssueRefusal>;

/// Decides a batch's rows in order (a customer may appear more than once): `customers[i]` is
/// row i's customer, `history` what is known of each. An accepted row counts for the rows after
/// it — the customer's issues and last issue day, the offer's count — so a batch decides as if
/// its rows came one by one. Each row's customer when accepted, or why not.
pub fn decide_batch(
    offer: &mut OfferState<'_>,
    customers: &[CustomerId],
    history: &mut HashMap<CustomerId, CustomerHistory>,
    today: NaiveDate,
    consumer: Option<i64>,
) -> Vec<Result<CustomerId, IssueRefusal>> {
    customers
        .iter()
        .map(|&id| {
            let h = history.entry(id).or_default();
            check_issue(offer, h, today, consumer).map(|_| {
                h.issued += 1;
                h.last_issued_on = Some(today);
                offer.issued += 1;
                id
            })
        })
        .collect()
}

/// Hands the taken coupons `(id, code)` to the accepted rows in order; an accepted row left
/// without one is refused with `shortfall`'s reason. The outcomes, and the (coupon, customer)
/// pairs to write.
pub fn hand_out(
    decisions: Vec<Result<CustomerId, IssueRefusal>>,
    coupons: Vec<(i64, String)>,
    shortfall: Result<(), String>,
    valid_till: Option<NaiveDate>,
) -> (Vec<IssueOutcome>, Vec<(i64, CustomerId)>) {
    let mut coupons = coupons.into_iter();
    let mut pairs = Vec::new();
    let outcomes = decisions
        .into_iter()
        .map(|decision| match decision {
            Err(refusal) => Err(refusal),
            Ok(customer) => match coupons.next() {
                Some((coupon, code)) => {
                    pairs.push((coupon, customer));
                    Ok(Issued { code, valid_till })
                }
                None => Err(IssueRefusal::NoCodesLeft(
                    shortfall
                        .clone()
                        .err()
                        .unwrap_or_else(|| "no codes are left".into()),
                )),
            },
        })
        .collect();
    (outcomes, pairs)
}

/// Where the offer's issue cursor (below which no coupon is unissued) goes after handing out
/// `pairs`: past the highest coupon taken, unless the batch started at a random place or the
/// offer has one common coupon — then coupons may be left unissued behind it, and it stays.
pub fn next_cursor(cursor: i64, pairs: &[(i64, CustomerId)], stays: bool) -> i64 {
    if stays {
        return cursor;
    }
    pairs.iter().map(|(c, _)| *c).max().unwrap_or(0).max(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::offer::tests::sample_rules;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn state(rules: &OfferRules) -> OfferState<'_> {
        OfferState {
            rules,
            ends_on: Some(d(2026, 12, 31)),
            issued: 0,
            claimed_by: None,
        }
    }

    #[test]
    fn an_ended_offer_is_not_issued() {
        let rules = sample_rules();
        let s = state(&rules);
        let fresh = CustomerHistory::default();
        assert!(check_issue(&s, &fresh, d(2026, 12, 31), None).is_ok());
        assert_eq!(
            check_issue(&s, &fresh, d(2027, 1, 1), None),
            Err(IssueRefusal::OfferExpired(d(2026, 12, 31)))
        );
    }

    #[test]
    fn the_claiming_consumer_alone_issues_a_claimed_offer() {
        let rules = sample_rules();
        let mut s = state(&rules);
        s.claimed_by = Some((7, "Diwali SMS".into()));
        let c = CustomerHistory::default();
        let today = d(2026, 11, 1);
        assert!(check_issue(&s, &c, today, Some(7)).is_ok());
        let e = check_issue(&s, &c, today, None).unwrap_err();
        assert_eq!(
            e.code(),
            "claimed_by_other_consumer",
            "nobody acting for the consumer may issue"
        );
        let e = check_issue(&s, &c, today, Some(8)).unwrap_err();
        assert_eq!(e.code(), "claimed_by_other_consumer");
        assert!(e.to_string().contains("Diwali SMS"));
    }

    #[test]
    fn an_offer_ending_with_its_campaign_waits_for_a_claim() {
        let mut rules = sample_rules();
        rules.expiry = OfferExpiry::WithCampaign;
        let mut s = state(&rules);
        s.ends_on = None;
        let c = CustomerHistory::default();
        let today = d(2026, 11, 1);
        assert_eq!(
            check_issue(&s, &c, today, None),
            Err(IssueRefusal::NotClaimed)
        );
        s.claimed_by = Some((3, "Club".into()));
        assert!(check_issue(&s, &c, today, Some(3)).is_ok());
    }

    #[test]
    fn each_customer_rule_names_itself() {
        let mut rules = sample_rules();
        rules.specific_customers_only = true;
        rules.issual.past_issual_offers = vec![3];
        rules.issual.max_per_customer = Some(2);
        rules.issual.min_gap_days = Some(7);
        rules.issual.total_cap = Some(100);
        let today = d(2026, 11, 10);
        let ok = CustomerHistory {
            in_audience: true,
            had_past_issual: false,
            issued: 1,
            last_issued_on: Some(d(2026, 11, 3)),
        };
        let s = state(&rules);
        assert!(
            check_issue(&s, &ok, today, None).is_ok(),
            "7 days later is fine"
        );
        let refusal = |h: CustomerHistory| check_issue(&s, &h, today, None).unwrap_err().code();
        assert_eq!(
            refusal(CustomerHistory {
                in_audience: false,
                ..ok.clone()
            }),
            "not_in_audience"
        );
        assert_eq!(
            refusal(CustomerHistory {
                had_past_issual: true,
                ..ok.clone()
            }),
            "past_issual"
        );
        assert_eq!(
            refusal(CustomerHistory {
                issued: 2,
                ..ok.clone()
            }),
            "max_per_customer"
        );
        let e = check_issue(
            &s,
            &CustomerHistory {
                last_issued_on: Some(d(2026, 11, 4)),
                ..ok.clone()
            },
            today,
            None,
        )
        .unwrap_err();
        assert_eq!(
            e,
            IssueRefusal::TooSoon {
                gap: 7,
                next: d(2026, 11, 11)
            }
        );
        let mut capped = state(&rules);
        capped.issued = 100;
        assert_eq!(
            check_issue(&capped, &ok, today, None).unwrap_err().code(),
            "issual_cap_reached"
        );
    }

    #[test]
    fn without_rules_anyone_may_have_any_number() {
        let rules = sample_rules();
        let h = CustomerHistory {
            in_audience: false,
            had_past_issual: true,
            issued: 40,
            last_issued_on: Some(d(2026, 11, 10)),
        };
        assert!(check_issue(&state(&rules), &h, d(2026, 11, 10), None).is_ok());
    }

    #[test]
    fn the_campaign_end_caps_the_offer_end() {
        let fixed = OfferExpiry::Fixed(d(2026, 12, 31));
        assert_eq!(offer_ends_on(&fixed, None), Some(d(2026, 12, 31)));
        assert_eq!(
            offer_ends_on(&fixed, Some(d(2026, 11, 30))),
            Some(d(2026, 11, 30))
        );
        assert_eq!(offer_ends_on(&OfferExpiry::WithCampaign, None), None);
        assert_eq!(
            offer_ends_on(&OfferExpiry::WithCampaign, Some(d(2027, 1, 5))),
            Some(d(2027, 1, 5))
        );
        assert_eq!(past_issual_since(d(2026, 8, 31)), d(2026, 2, 28));
    }

    #[test]
    fn identifiers_are_normalised() {
        let c = CustomerRef::parse(IdentifierType::Email, " Asha@Example.COM ").unwrap();
        assert_eq!(c.label(), "EMAIL asha@example.com");
        assert!(CustomerRef::parse(IdentifierType::Mobile, "12").is_err());
    }

    #[test]
    fn a_batch_decides_its_rows_as_if_they_came_one_by_one() {
        let mut rules = sample_rules();
        rules.issual.max_per_customer = Some(1);
        rules.issual.total_cap = Some(3);
        let mut offer = OfferState {
            rules: &rules,
            ends_on: None,
            issued: 1,
            claimed_by: None,
        };
        let mut history = HashMap::new();
        let today = d(2026, 11, 30);
        // Customer 7 twice (the second is over the per-customer max), then 8, then 9 past the cap.
        let customers = [7, 7, 8, 9].map(CustomerId);
        let got = decide_batch(&mut offer, &customers, &mut history, today, None);
        let codes: Vec<Result<i64, &str>> = got
            .iter()
            .map(|r| r.as_ref().map(|id| id.get()).map_err(|e| e.code()))
            .collect();
        assert_eq!(
            codes,
            [
                Ok(7),
                Err("max_per_customer"),
                Ok(8),
                Err("issual_cap_reached")
            ]
        );
        assert_eq!(offer.issued, 3);
        assert_eq!(history[&CustomerId(7)].last_issued_on, Some(today));
    }

    #[test]
    fn coupons_go_to_accepted_rows_in_order_and_a_shortfall_refuses_the_rest() {
        let decisions = vec![
            Ok(CustomerId(7)),
            Err(IssueRefusal::NotInAudience),
            Ok(CustomerId(8)),
            Ok(CustomerId(9)),
        ];
        let coupons = vec![(100, "A1".to_string()), (101, "B2".to_string())];
        let till = Some(d(2026, 12, 29));
        let (outcomes, pairs) = hand_out(decisions, coupons, Err("no codes left".into()), till);
        assert_eq!(pairs, [(100, CustomerId(7)), (101, CustomerId(8))]);
        assert_eq!(
            outcomes[0],
            Ok(Issued {
                code: "A1".into(),
                valid_till: till
            })
        );
        assert_eq!(outcomes[1], Err(IssueRefusal::NotInAudience));
        assert_eq!(outcomes[2].as_ref().unwrap().code, "B2");
        assert_eq!(
            outcomes[3],
            Err(IssueRefusal::NoCodesLeft("no codes left".into()))
        );
        assert_eq!(next_cursor(50, &pairs, false), 101);
        assert_eq!(next_cursor(500, &pairs, false), 500);
        assert_eq!(next_cursor(50, &pairs, true), 50);
    }
}
