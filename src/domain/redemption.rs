//! Redeeming a request's codes together (RED-1, RED-2): the request and its answers, what a
//! decision needs as plain values, and `decide_all`, which runs `redeem::decide` on each code
//! with the codes before it counted (the bill they used, the customer's uses, the offer's cap).
//! No I/O: `app::redeem` loads the inputs and `store::redeem` writes the outcome.

use super::issue::CustomerRef;
use super::offer::{Generation, OfferRules};
use super::redeem::*;
use crate::domain::coupon::{CouponCode, normalise_code};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many codes in one redeem or validate call (RED-2).
pub const MAX_CODES: usize = 50;
/// Stands for a customer the request names who is not in the database yet.
const NEW_CUSTOMER: CustomerId = CustomerId(-1);

/// What redeeming coupons of one offer needs that rarely changes: loaded once, cached per
/// instance, and reloaded when the offer's `updated_at` moves (an edit) or after a short TTL.
#[derive(Debug, Clone)]
pub struct RedeemOffer {
    pub id: OfferId,
    pub org_id: OrgId,
    pub offer_code: String,
    pub name: String,
    pub rules: OfferRules,
    pub ends_on: Option<NaiveDate>,
    pub tz: Tz,
    pub claimed_by: Option<(i64, String)>,
    /// The org's currency and its minor digits, for amounts in messages.
    pub currency: String,
    pub digits: u32,
    /// The offer's `updated_at` when loaded (a cached copy is used while it is unchanged).
    pub version: DateTime<Utc>,
    pub loaded_at: DateTime<Utc>,
}

impl RedeemOffer {
    pub fn common(&self) -> bool {
        matches!(self.rules.generation, Generation::Common { .. })
    }

    /// Whether redeeming this offer keeps the customer's count and last day: where a
    /// per-customer rule can apply (multiple redemption, or a common code); a single-use
    /// unique coupon has none.
    pub fn keeps_customer_row(&self) -> bool {
        self.common() || self.rules.redemption.multiple.is_some()
    }
}

/// A cart line as an integration sends it (category and brand by code).
#[derive(Debug, Clone, Default)]
pub struct LineInput {
    pub sku: String,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub quantity: i64,
    pub unit_price: i64,
    pub on_sale: bool,
}

/// A validate or redeem call, as parsed from the API.
#[derive(Debug, Clone, Default)]
pub struct RedeemRequest {
    pub org_id: OrgId,
    /// Empty for a validation.
    pub transaction_number: String,
    pub bill_amount: i64,
    /// Only redeemability is asked, with no bill (`is_redeemable` without `billAmount`).
    pub bill_unknown: bool,
    pub store_code: Option<String>,
    pub till_code: Option<String>,
    pub customer: Option<CustomerRef>,
    /// Normalised codes, at most `MAX_CODES`, no repeats.
    pub codes: Vec<CouponCode>,
    pub lines: Vec<LineInput>,
    pub api_key_id: Option<i64>,
    /// The consumer the calling key is bound to, for the claim rule.
    pub consumer_id: Option<i64>,
}

/// Why a code may not be used: a rule of the offer, or the claim of another consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Rule(RedeemRefusal),
    /// The offer is claimed by another consumer than the calling key's.
    ClaimedByOther(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Rule(r) => r.code(),
            Refusal::ClaimedByOther(_) => "claimed_by_other_consumer",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Rule(r) => r.to_string(),
            Refusal::ClaimedByOther(name) => {
                format!("the offer is claimed by {name}; this key may not use it")
            }
        }
    }
}

/// One code's answer.
#[derive(Debug, Clone)]
pub struct CodeOutcome {
    pub code: CouponCode,
    pub offer: Option<Arc<RedeemOffer>>,
    pub valid_till: Option<NaiveDate>,
    pub result: Result<i64, Refusal>,
}

impl CodeOutcome {
    /// The refusal in words, amounts in the org's currency.
    pub fn message(&self) -> String {
        match (&self.result, &self.offer) {
            (Err(Refusal::Rule(r)), Some(o)) => {
                r.message_in(&|m| crate::domain::money::format_amount(m, &o.currency, o.digits))
            }
            (Err(r), _) => r.message(),
            (Ok(_), _) => String::new(),
        }
    }
}

/// A redeem call's answer.
#[derive(Debug, Clone)]
pub enum Redeemed {
    /// Every code redeemed (or, `replay`, the same transaction was redeemed before and this is
    /// its first result).
    Done {
        /// Code, its offer, the discount.
        codes: Vec<(CouponCode, OfferId, i64)>,
        redeemed_at: DateTime<Utc>,
        replay: bool,
    },
    /// Nothing redeemed: the first code refused and why.
    Refused(Box<CodeOutcome>),
    /// The transaction number was used before with other codes.
    TransactionMismatch(Vec<String>),
    /// The transaction was redeemed and then reversed: a retry must not report its discount.
    TransactionReversed(Vec<String>),
}

/// What a reversal did.
#[derive(Debug, Clone)]
pub struct Reversed {
    pub codes: Vec<String>,
    pub already: bool,
}

/// A coupon as a decision needs it.
#[derive(Debug, Clone)]
pub struct CouponState {
    pub id: i64,
    pub status: CouponStatus,
    pub customer_id: Option<CustomerId>,
    pub issued_at: Option<DateTime<Utc>>,
    pub valid_till: Option<NaiveDate>,
    pub redeem_count: i64,
    /// Redemptions of its offer so far (capped offers; 0 otherwise).
    pub redeemed: i64,
}

/// Everything a decision needs for the codes of one request.
#[derive(Debug, Clone, Default)]
pub struct RedeemInputs {
    pub transaction_used: bool,
    pub coupons: HashMap<CouponCode, (CouponState, Arc<RedeemOffer>)>,
    pub customer_id: Option<CustomerId>,
    pub place: Place,
    pub lines: Vec<CartLine>,
    /// Offer → the customer's count and last day.
    pub history: HashMap<OfferId, CustomerRedemptions>,
    /// Common-code offers: this customer's latest issual (issued at, valid till).
    pub issuals: HashMap<OfferId, (DateTime<Utc>, Option<NaiveDate>)>,
}

/// The guard in a write that refused: another request got there first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The coupon's use (or a repeated transaction and code).
    Coupon,
    /// The customer's per-offer count or gap.
    Customer,
    /// The offer's total cap.
    Cap,
}

/// The refusal a lost race stands for, when a fresh read cannot see it yet (the winner is
/// still committing).
pub fn refusal_for(guard: Guard, offer: Option<&RedeemOffer>, today: NaiveDate) -> RedeemRefusal {
    let rules = offer.map(|o| (&o.rules, o.common()));
    match (guard, rules) {
        (Guard::Customer, Some((rules, common))) => match per_customer_limit(rules, common) {
            Some(max) => RedeemRefusal::PerCustomerLimit(max),
            None => match rules.redemption.multiple.and_then(|m| m.gap_days) {
                Some(gap) => RedeemRefusal::GapNotElapsed {
                    gap,
                    next: today + Duration::days(i64::from(gap)),
                },
                None => RedeemRefusal::AlreadyRedeemed,
            },
        },
        (Guard::Cap, Some((rules, _))) => match rules.redemption.total_cap {
            Some(cap) => RedeemRefusal::TotalCap(cap),
            None => RedeemRefusal::AlreadyRedeemed,
        },
        _ => RedeemRefusal::AlreadyRedeemed,
    }
}

/// Decides every code of a request in order; for a redemption, each code's discount is taken
/// from what is left of the bill after the codes before it, so a batch never discounts more
/// than the bill.
pub fn decide_all(
    req: &RedeemRequest,
    loaded: &RedeemInputs,
    now: DateTime<Utc>,
) -> Vec<CodeOutcome> {
    let mut left = req.bill_amount;
    let mut out = Vec::with_capacity(req.codes.len());
    // Codes of one offer earlier in the batch count against the customer's max, gap and the
    // offer's cap for the codes after them, so a batch is refused for the rule it breaks.
    let mut in_batch: HashMap<OfferId, u32> = HashMap::new();
    for code in &req.codes {
        let Some((coupon, offer)) = loaded.coupons.get(code) else {
            out.push(CodeOutcome {
                code: code.clone(),
                offer: None,
                valid_till: None,
                result: Err(Refusal::Rule(RedeemRefusal::UnknownCode)),
            });
            continue;
        };
        let local = now.with_timezone(&offer.tz);
        let common = offer.common();
        let (issued_to, issued_at, valid_till) = if common {
            match loaded.issuals.get(&offer.id) {
                Some((at, till)) => (loaded.customer_id, Some(*at), *till),
                None => (None, None, None),
            }
        } else {
            (coupon.customer_id, coupon.issued_at, coupon.valid_till)
        };
        let facts = CouponFacts {
            status: coupon.status,
            common,
            issued_to,
            issued_on: issued_at.map(|t| t.with_timezone(&offer.tz).date_naive()),
            valid_till,
            redeem_count: coupon.redeem_count,
        };
        let earlier = in_batch.get(&offer.id).copied().unwrap_or(0);
        let offer_facts = OfferFacts {
            rules: &offer.rules,
            ends_on: offer.ends_on,
            redeemed: coupon.redeemed + i64::from(earlier),
        };
        let mut history = loaded.history.get(&offer.id).copied().unwrap_or_default();
        if earlier > 0 {
            history.count += earlier;
            history.last_on = Some(local.date_naive());
        }
        // Every code is checked against the whole bill; its discount is then at most what the
        // codes before it left of the bill, so a batch never discounts more than the bill.
        let attempt = RedeemAttempt {
            // A customer named in the request but not yet known is someone with no history (and
            // no coupon issued): created when the redemption is written.
            customer: loaded
                .customer_id
                .or(req.customer.as_ref().map(|_| NEW_CUSTOMER)),
            place: loaded.place,
            at: local.naive_local(),
            cart: (!req.bill_unknown).then(|| Cart {
                bill_amount: req.bill_amount,
                lines: loaded.lines.clone(),
            }),
        };
        let result = match (&offer.claimed_by, req.consumer_id) {
            (Some((owner, name)), Some(c)) if *owner != c => {
                Err(Refusal::ClaimedByOther(name.clone()))
            }
            _ => decide(&offer_facts, &facts, &history, &attempt)
                .map(|d| {
                    if req.bill_unknown {
                        d
                    } else {
                        d.min(left.max(0))
                    }
                })
                .map_err(Refusal::Rule),
        };
        if let Ok(d) = &result {
            left -= d;
            *in_batch.entry(offer.id).or_default() += 1;
        }
        out.push(CodeOutcome {
            code: code.clone(),
            offer: Some(offer.clone()),
            valid_till,
            result,
        });
    }
    out
}

/// Normalises the codes of a request: trimmed, upper case, no repeats; `Err` names the bad one.
pub fn parse_codes(raw: &[String]) -> Result<Vec<CouponCode>, String> {
    let mut out: Vec<CouponCode> = Vec::with_capacity(raw.len());
    for r in raw {
        let code =
            normalise_code(r).ok_or_else(|| format!("`{}` is not a coupon code", r.trim()))?;
        if out.contains(&code) {
            return Err(format!("{code} is given twice"));
        }
        out.push(code);
    }
    if out.is_empty() {
        return Err("give at least one code".into());
    }
    if out.len() > MAX_CODES {
        return Err(format!("at most {MAX_CODES} codes at once"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::masters::IdentifierType;
    use crate::domain::offer::tests::sample_rules;
    use crate::domain::offer::{Discount, MultipleRedemption, Weekdays};

    /// A fixed ₹500 (50000) offer anyone may redeem, anywhere, any time.
    fn rules() -> OfferRules {
        let mut r = sample_rules();
        r.discount = Discount::Fixed { amount: 50_000 };
        r.redemption.anyone_can_redeem = true;
        r.redemption.scope.clear();
        r.redemption.weekdays = Weekdays::default();
        r.redemption.time_slots.clear();
        r.redemption.dates.clear();
        r.redemption.min_bill = None;
        r.redemption.max_bill = None;
        r.redemption.total_cap = None;
        r.redemption.multiple = None;
        r
    }

    fn offer(id: i64, rules: OfferRules, claimed_by: Option<i64>) -> Arc<RedeemOffer> {
        Arc::new(RedeemOffer {
            id: OfferId(id),
            org_id: OrgId(1),
            offer_code: format!("OF-{id}"),
            name: format!("Offer {id}"),
            rules,
            ends_on: None,
            tz: chrono_tz::UTC,
            claimed_by: claimed_by.map(|c| (c, "Club".to_string())),
            currency: "INR".into(),
            digits: 2,
            version: Utc::now(),
            loaded_at: Utc::now(),
        })
    }

    fn coupon(id: i64, redeemed: i64) -> CouponState {
        CouponState {
            id,
            status: CouponStatus::Issued,
            customer_id: Some(CustomerId(1)),
            issued_at: Some(Utc::now()),
            valid_till: None,
            redeem_count: 0,
            redeemed,
        }
    }

    fn request(codes: &[&str], bill: i64) -> RedeemRequest {
        RedeemRequest {
            org_id: OrgId(1),
            transaction_number: "T1".into(),
            bill_amount: bill,
            customer: Some(CustomerRef::parse(IdentifierType::Mobile, "9800000001").unwrap()),
            codes: codes.iter().filter_map(|c| normalise_code(c)).collect(),
            ..Default::default()
        }
    }

    fn inputs(coupons: Vec<(&str, CouponState, Arc<RedeemOffer>)>) -> RedeemInputs {
        RedeemInputs {
            coupons: coupons
                .into_iter()
                .map(|(code, c, o)| (normalise_code(code).unwrap(), (c, o)))
                .collect(),
            customer_id: Some(CustomerId(1)),
            ..Default::default()
        }
    }

    fn results(out: &[CodeOutcome]) -> Vec<Result<i64, String>> {
        out.iter()
            .map(|o| o.result.clone().map_err(|r| r.code().to_string()))
            .collect()
    }

    #[test]
    fn a_batch_shares_the_bill_in_order() {
        let (a, b) = (offer(1, rules(), None), offer(2, rules(), None));
        let i = inputs(vec![("A", coupon(10, 0), a), ("B", coupon(11, 0), b)]);
        // ₹700 bill: the first ₹500 coupon takes ₹500, the second what is left, ₹200.
        let out = decide_all(&request(&["A", "B"], 70_000), &i, Utc::now());
        assert_eq!(results(&out), vec![Ok(50_000), Ok(20_000)]);
    }

    #[test]
    fn unknown_codes_and_other_consumers_offers_are_named() {
        let claimed = offer(1, rules(), Some(7));
        let i = inputs(vec![("A", coupon(10, 0), claimed)]);
        let mut req = request(&["A", "NOPE"], 70_000);
        req.consumer_id = Some(9);
        let out = decide_all(&req, &i, Utc::now());
        assert_eq!(
            results(&out),
            vec![
                Err("claimed_by_other_consumer".into()),
                Err("unknown_code".into())
            ]
        );
        // A key bound to no consumer (a till) may redeem it.
        req.consumer_id = None;
        let out = decide_all(&req, &i, Utc::now());
        assert_eq!(out[0].result, Ok(50_000));
    }

    #[test]
    fn codes_earlier_in_the_batch_count_against_the_customer_and_the_cap() {
        // Several coupons of one offer, each customer may redeem it once.
        let mut once = rules();
        once.redemption.multiple = Some(MultipleRedemption {
            per_customer_max: Some(1),
            gap_days: None,
        });
        let o = offer(1, once, None);
        let i = inputs(vec![
            ("A", coupon(10, 0), o.clone()),
            ("B", coupon(11, 0), o),
        ]);
        let out = decide_all(&request(&["A", "B"], 200_000), &i, Utc::now());
        assert_eq!(
            results(&out),
            vec![Ok(50_000), Err("per_customer_limit".into())]
        );

        // One redemption left before the cap.
        let mut capped = rules();
        capped.redemption.total_cap = Some(10);
        let o = offer(2, capped, None);
        let i = inputs(vec![
            ("C", coupon(12, 9), o.clone()),
            ("D", coupon(13, 9), o),
        ]);
        let out = decide_all(&request(&["C", "D"], 200_000), &i, Utc::now());
        assert_eq!(
            results(&out),
            vec![Ok(50_000), Err("total_cap_reached".into())]
        );
    }

    #[test]
    fn a_lost_race_is_named_for_its_guard() {
        let mut once = rules();
        once.redemption.multiple = Some(MultipleRedemption {
            per_customer_max: Some(2),
            gap_days: None,
        });
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let o = offer(1, once, None);
        assert_eq!(
            refusal_for(Guard::Customer, Some(&o), today),
            RedeemRefusal::PerCustomerLimit(2)
        );
        assert_eq!(
            refusal_for(Guard::Coupon, Some(&o), today),
            RedeemRefusal::AlreadyRedeemed
        );
        let mut capped = rules();
        capped.redemption.total_cap = Some(1000);
        assert_eq!(
            refusal_for(Guard::Cap, Some(&offer(2, capped, None)), today),
            RedeemRefusal::TotalCap(1000)
        );
    }

    #[test]
    fn codes_are_trimmed_upper_cased_and_not_repeated() {
        assert_eq!(
            parse_codes(&[" ab-1 ".into(), "Cd_2".into()]),
            Ok(vec![
                CouponCode::stored("AB-1".into()),
                CouponCode::stored("CD_2".into())
            ])
        );
        assert!(parse_codes(&["ab".into(), "AB".into()]).is_err());
    }
}
