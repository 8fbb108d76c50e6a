//! Redeeming (RED-1, RED-3): whether a coupon code may be redeemed by a customer, at a place and
//! time, for a cart, and the discount it gives. It is decided without a database from what the
//! store read about the offer, the coupon and the customer. A refusal names the rule.
//!
//! Amounts are integers in the org currency's minor units. A percentage discount is
//! `eligible * basis_points / 10000` rounded DOWN to the minor unit (never in the customer's
//! favour by a fraction), then capped; no discount is more than the eligible amount.

use super::offer::{Applicability, Discount, OfferRules, RedemptionStart, ScopeKind};
use crate::domain::ids::CustomerId;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

/// One line of a cart sent at validation/redemption; category and brand already resolved to
/// the org's ids (None = unknown/none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CartLine {
    pub sku: String,
    pub category: Option<i64>,
    pub brand: Option<i64>,
    pub quantity: i64,
    pub unit_price: i64,
    pub on_sale: bool,
}

impl CartLine {
    /// quantity × unit price, saturating; a negative quantity or price counts as 0.
    fn amount(&self) -> i64 {
        self.quantity.max(0).saturating_mul(self.unit_price.max(0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cart {
    pub bill_amount: i64,
    pub lines: Vec<CartLine>,
}

/// Where the redemption happens, with the store's zone and concept resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    pub store: Option<i64>,
    pub till: Option<i64>,
    pub zone: Option<i64>,
    pub concept: Option<i64>,
}

impl Place {
    fn id_of(&self, kind: ScopeKind) -> Option<i64> {
        match kind {
            ScopeKind::Store => self.store,
            ScopeKind::Till => self.till,
            ScopeKind::Zone => self.zone,
            ScopeKind::Concept => self.concept,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponStatus {
    Unissued,
    Issued,
    Redeemed,
    Revoked,
}

impl CouponStatus {
    const ALL: [CouponStatus; 4] = [
        CouponStatus::Unissued,
        CouponStatus::Issued,
        CouponStatus::Redeemed,
        CouponStatus::Revoked,
    ];

    pub fn parse(s: &str) -> Option<CouponStatus> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The status a person sees on `today` (org calendar): an issued coupon past its last day
    /// is `expired`; otherwise the stored status.
    pub fn shown(
        self,
        valid_till: Option<chrono::NaiveDate>,
        today: chrono::NaiveDate,
    ) -> &'static str {
        match self {
            CouponStatus::Issued if valid_till.is_some_and(|d| d < today) => "expired",
            other => other.as_str(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CouponStatus::Unissued => "unissued",
            CouponStatus::Issued => "issued",
            CouponStatus::Redeemed => "redeemed",
            CouponStatus::Revoked => "revoked",
        }
    }
}

/// The coupon as the store read it. For a common code, `issued_to`/`issued_on`/`valid_till`
/// are those of THIS customer's issual (None if the customer was never issued it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponFacts {
    pub status: CouponStatus,
    pub common: bool,
    pub issued_to: Option<CustomerId>,
    pub issued_on: Option<NaiveDate>,
    pub valid_till: Option<NaiveDate>,
    pub redeem_count: i64,
}

/// Offer-wide facts: the rules, the last day the offer runs, redemptions so far.
#[derive(Debug, Clone)]
pub struct OfferFacts<'a> {
    pub rules: &'a OfferRules,
    pub ends_on: Option<NaiveDate>,
    pub redeemed: i64,
}

/// This customer's past redemptions of this offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CustomerRedemptions {
    pub count: u32,
    pub last_on: Option<NaiveDate>,
}

/// One attempt: who, where, when (local time in the org's time zone), what cart.
#[derive(Debug, Clone)]
pub struct RedeemAttempt {
    pub customer: Option<CustomerId>,
    pub place: Place,
    pub at: NaiveDateTime,
    /// `None` when only redeemability is asked (no bill known): bill rules are not checked and
    /// the discount is a fixed amount's, or 0 for a percentage.
    pub cart: Option<Cart>,
}

/// Why a code cannot be redeemed. `code()` is stable snake_case (API), `to_string()` is what
/// a person reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedeemRefusal {
    #[error("no coupon has this code")]
    UnknownCode,
    #[error("the coupon has not been issued")]
    NotIssued,
    #[error("the coupon was not issued to this customer")]
    NotIssuedToCustomer,
    #[error("the coupon can be redeemed from {0}")]
    NotStarted(NaiveDate),
    #[error("the coupon expired; its last valid day was {0}")]
    Expired(NaiveDate),
    #[error("the coupon was revoked")]
    Revoked,
    #[error("the coupon has already been redeemed")]
    AlreadyRedeemed,
    #[error("the customer has already redeemed this offer {0} time(s), the most allowed")]
    PerCustomerLimit(u32),
    #[error("redemptions by one customer must be {gap} days apart; next possible on {next}")]
    GapNotElapsed { gap: u32, next: NaiveDate },
    #[error("the offer cannot be redeemed at this store")]
    StoreNotAllowed,
    #[error("the bill amount must be {}", bill_range(*.min, *.max, &|m| m.to_string()))]
    BillOutOfRange { min: Option<i64>, max: Option<i64> },
    #[error("the offer cannot be redeemed on this day")]
    OutsideDays,
    #[error("the offer cannot be redeemed at this time of day")]
    OutsideTimeSlot,
    #[error("the offer's redemption cap of {0} is reached")]
    TotalCap(i64),
    #[error("nothing in the cart is eligible for the offer")]
    NothingEligible,
    #[error("the offer limits redemptions per customer: name the customer")]
    CustomerRequired,
}

/// "between A and B", "at least A", "at most B", amounts written by `money`.
fn bill_range(min: Option<i64>, max: Option<i64>, money: &dyn Fn(i64) -> String) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("between {} and {}", money(a), money(b)),
        (Some(a), None) => format!("at least {}", money(a)),
        (None, Some(b)) => format!("at most {}", money(b)),
        (None, None) => "within the offer's range".to_string(),
    }
}

impl RedeemRefusal {
    /// What a person reads, with amounts in the org's currency (`money` formats minor units)
    /// and dates as the console writes them; `to_string()` is the same without a currency.
    pub fn message_in(&self, money: &dyn Fn(i64) -> String) -> String {
        use crate::domain::offer::describe::date_text;
        match self {
            RedeemRefusal::BillOutOfRange { min, max } => {
                format!("the bill amount must be {}", bill_range(*min, *max, money))
            }
            RedeemRefusal::NotStarted(d) => {
                format!("the coupon can be redeemed from {}", date_text(*d))
            }
            RedeemRefusal::Expired(d) => {
                format!(
                    "the coupon expired; its last valid day was {}",
                    date_text(*d)
                )
            }
            RedeemRefusal::GapNotElapsed { gap, next } => format!(
                "redemptions by one customer must be {gap} days apart; next possible on {}",
                date_text(*next)
            ),
            other => other.to_string(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            RedeemRefusal::UnknownCode => "unknown_code",
            RedeemRefusal::NotIssued => "not_issued",
            RedeemRefusal::NotIssuedToCustomer => "not_issued_to_customer",
            RedeemRefusal::NotStarted(_) => "not_started",
            RedeemRefusal::Expired(_) => "expired",
            RedeemRefusal::Revoked => "revoked",
            RedeemRefusal::AlreadyRedeemed => "already_redeemed",
            RedeemRefusal::PerCustomerLimit(_) => "per_customer_limit",
            RedeemRefusal::GapNotElapsed { .. } => "gap_not_elapsed",
            RedeemRefusal::StoreNotAllowed => "store_not_allowed",
            RedeemRefusal::BillOutOfRange { .. } => "bill_out_of_range",
            RedeemRefusal::OutsideDays => "outside_days",
            RedeemRefusal::OutsideTimeSlot => "outside_time_slot",
            RedeemRefusal::TotalCap(_) => "total_cap_reached",
            RedeemRefusal::NothingEligible => "nothing_eligible",
            RedeemRefusal::CustomerRequired => "customer_required",
        }
    }

    /// true for refusals an integrator should see as a conflict (HTTP 409): AlreadyRedeemed,
    /// TotalCap, PerCustomerLimit.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            RedeemRefusal::AlreadyRedeemed
                | RedeemRefusal::TotalCap(_)
                | RedeemRefusal::PerCustomerLimit(_)
        )
    }
}

/// The most times one coupon may be redeemed in total (the guard the store puts in its
/// UPDATE): Some(1) for a single-use unique coupon, None (unlimited; per-customer rules apply
/// instead) for a common code or an offer with multiple redemption.
pub fn coupon_redeem_limit(rules: &OfferRules, common: bool) -> Option<i64> {
    if rules.redemption.multiple.is_none() && !common {
        Some(1)
    } else {
        None
    }
}

/// The per-customer maximum redemptions of this offer: with multiple redemption, its
/// `per_customer_max`; else Some(1) for a common code and None for a unique one.
pub fn per_customer_limit(rules: &OfferRules, common: bool) -> Option<u32> {
    match &rules.redemption.multiple {
        Some(m) => m.per_customer_max,
        None if common => Some(1),
        None => None,
    }
}

/// Whether one cart line counts towards the offer (sale items, selected categories/brands).
fn line_is_eligible(rules: &OfferRules, line: &CartLine) -> bool {
    if line.on_sale && !rules.include_sale_items {
        return false;
    }
    match &rules.applicability {
        Applicability::All => true,
        Applicability::Selected { categories, brands } => {
            let in_list = |list: &[i64], id: Option<i64>| id.is_some_and(|i| list.contains(&i));
            match (categories.is_empty(), brands.is_empty()) {
                (false, false) => in_list(categories, line.category) && in_list(brands, line.brand),
                (false, true) => in_list(categories, line.category),
                (true, false) => in_list(brands, line.brand),
                // The form refuses this; nothing is selected, so nothing matches.
                (true, true) => false,
            }
        }
    }
}

/// The amount of the cart the offer applies to (RED-3), in minor units, never more than
/// bill_amount and never negative. Without lines, the whole bill for an all-products offer and
/// nothing for a selected-products one.
pub fn eligible_amount(rules: &OfferRules, cart: &Cart) -> i64 {
    let sum = if cart.lines.is_empty() {
        match rules.applicability {
            Applicability::All => cart.bill_amount,
            Applicability::Selected { .. } => 0,
        }
    } else {
        cart.lines
            .iter()
            .filter(|l| line_is_eligible(rules, l))
            .fold(0i64, |acc, l| acc.saturating_add(l.amount()))
    };
    sum.min(cart.bill_amount).max(0)
}

/// The discount for the cart: Fixed → min(amount, eligible); Percent → eligible * bp / 10000
/// rounded DOWN to the minor unit, then min(cap); never more than eligible, never negative.
pub fn discount_for(rules: &OfferRules, cart: &Cart) -> i64 {
    let eligible = eligible_amount(rules, cart);
    let raw = match rules.discount {
        Discount::Fixed { amount } => amount,
        Discount::Percent { basis_points, cap } => {
            let pct = i128::from(eligible) * i128::from(basis_points.max(0)) / 10_000;
            let pct = i64::try_from(pct).unwrap_or(i64::MAX);
            match cap {
                Some(c) => pct.min(c),
                None => pct,
            }
        }
    };
    raw.min(eligible).max(0)
}

/// Every RED-1 rule in order (coupon state, owner, validity window, place, day and time, bill,
/// per-customer limits, offer cap, eligibility); Ok(discount) when redeemable. Gap days count
/// in the org's calendar.
pub fn decide(
    offer: &OfferFacts<'_>,
    coupon: &CouponFacts,
    history: &CustomerRedemptions,
    attempt: &RedeemAttempt,
) -> Result<i64, RedeemRefusal> {
    let rules = offer.rules;
    let red = &rules.redemption;

    // 1. Coupon state.
    if coupon.status == CouponStatus::Revoked {
        return Err(RedeemRefusal::Revoked);
    }
    if coupon.status == CouponStatus::Redeemed
        || coupon_redeem_limit(rules, coupon.common).is_some_and(|l| coupon.redeem_count >= l)
    {
        return Err(RedeemRefusal::AlreadyRedeemed);
    }
    // 2. Issued at all.
    if (!coupon.common && coupon.status == CouponStatus::Unissued)
        || (coupon.common && coupon.issued_to.is_none() && !red.anyone_can_redeem)
    {
        return Err(RedeemRefusal::NotIssued);
    }
    // 3. Issued to this customer.
    if !red.anyone_can_redeem
        && (attempt.customer.is_none() || attempt.customer != coupon.issued_to)
    {
        return Err(RedeemRefusal::NotIssuedToCustomer);
    }
    // 4. Expiry.
    let today = attempt.at.date();
    let last_day = match (coupon.valid_till, offer.ends_on) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(last) = last_day
        && today > last
    {
        return Err(RedeemRefusal::Expired(last));
    }
    // 5. Start.
    let starts_on = match red.start {
        RedemptionStart::OnIssue => None,
        RedemptionStart::DaysAfterIssue(n) => {
            coupon.issued_on.map(|d| d + Duration::days(i64::from(n)))
        }
        RedemptionStart::OnDate(d) => Some(d),
    };
    if let Some(start) = starts_on
        && today < start
    {
        return Err(RedeemRefusal::NotStarted(start));
    }
    // 6. Place.
    if !red.scope.is_empty()
        && !red
            .scope
            .iter()
            .any(|&(kind, id)| attempt.place.id_of(kind) == Some(id))
    {
        return Err(RedeemRefusal::StoreNotAllowed);
    }
    // 7. Days and time of day.
    if !red.dates.is_empty() && !red.dates.contains(&today) {
        return Err(RedeemRefusal::OutsideDays);
    }
    if !red.weekdays.is_every_day()
        && !red
            .weekdays
            .has(today.weekday().num_days_from_monday() as usize)
    {
        return Err(RedeemRefusal::OutsideDays);
    }
    let minute = (attempt.at.hour() * 60 + attempt.at.minute()) as u16;
    if !red.time_slots.is_empty() && !red.time_slots.iter().any(|s| s.contains(minute)) {
        return Err(RedeemRefusal::OutsideTimeSlot);
    }
    // 8. Bill.
    if let Some(cart) = &attempt.cart {
        let bill = cart.bill_amount;
        if red.min_bill.is_some_and(|m| bill < m) || red.max_bill.is_some_and(|m| bill > m) {
            return Err(RedeemRefusal::BillOutOfRange {
                min: red.min_bill,
                max: red.max_bill,
            });
        }
    }
    // 9. Per customer: a per-customer max or gap needs to know who redeems.
    let gap_days = red.multiple.and_then(|m| m.gap_days);
    if (per_customer_limit(rules, coupon.common).is_some() || gap_days.is_some())
        && attempt.customer.is_none()
    {
        return Err(RedeemRefusal::CustomerRequired);
    }
    if let Some(max) = per_customer_limit(rules, coupon.common)
        && history.count >= max
    {
        return Err(RedeemRefusal::PerCustomerLimit(max));
    }
    // 10. Gap between one customer's redemptions.
    if let (Some(gap), Some(last)) = (gap_days, history.last_on) {
        let next = last + Duration::days(i64::from(gap));
        if today < next {
            return Err(RedeemRefusal::GapNotElapsed { gap, next });
        }
    }
    // 11. Offer-wide cap.
    if let Some(cap) = red.total_cap
        && offer.redeemed >= cap
    {
        return Err(RedeemRefusal::TotalCap(cap));
    }
    // 12. Something to discount.
    let Some(cart) = &attempt.cart else {
        return Ok(match rules.discount {
            Discount::Fixed { amount } => amount,
            Discount::Percent { .. } => 0,
        });
    };
    if eligible_amount(rules, cart) == 0 {
        return Err(RedeemRefusal::NothingEligible);
    }
    Ok(discount_for(rules, cart))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::offer::tests::sample_rules;
    use crate::domain::offer::{MultipleRedemption, TimeSlot, Weekdays};
    use CouponStatus as S;
    use RedeemRefusal as R;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn when(day: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
        day.and_hms_opt(h, m, 0).unwrap()
    }

    fn multi(per_customer_max: Option<u32>, gap_days: Option<u32>) -> Option<MultipleRedemption> {
        Some(MultipleRedemption {
            per_customer_max,
            gap_days,
        })
    }

    /// `qty` × `price`; category/brand 0 means none.
    fn line(cat: i64, brand: i64, qty: i64, price: i64, on_sale: bool) -> CartLine {
        CartLine {
            sku: format!("SKU-{cat}-{brand}"),
            category: Some(cat).filter(|&c| c > 0),
            brand: Some(brand).filter(|&b| b > 0),
            quantity: qty,
            unit_price: price,
            on_sale,
        }
    }

    fn bill(bill_amount: i64, lines: Vec<CartLine>) -> Cart {
        Cart { bill_amount, lines }
    }

    /// Customer 1 redeems the unique coupon issued to them on 2026-11-01 (valid till
    /// 2026-12-31) of a 15% offer ending 2027-12-31, for their own use only, at store 100
    /// (till 200, zone 300, concept 400) on Tuesday 2026-11-10 at 12:00, bill 100.00, no lines.
    struct Case {
        rules: OfferRules,
        coupon: CouponFacts,
        history: CustomerRedemptions,
        attempt: RedeemAttempt,
        ends_on: Option<NaiveDate>,
        redeemed: i64,
    }

    impl Case {
        fn new() -> Case {
            let mut rules = sample_rules();
            rules.redemption.anyone_can_redeem = false;
            rules.redemption.start = RedemptionStart::OnIssue;
            let coupon = CouponFacts {
                status: S::Issued,
                common: false,
                issued_to: Some(CustomerId(1)),
                issued_on: Some(d(2026, 11, 1)),
                valid_till: Some(d(2026, 12, 31)),
                redeem_count: 0,
            };
            let (store, till, zone, concept) = (Some(100), Some(200), Some(300), Some(400));
            let attempt = RedeemAttempt {
                customer: Some(CustomerId(1)),
                place: Place {
                    store,
                    till,
                    zone,
                    concept,
                },
                at: when(d(2026, 11, 10), 12, 0),
                cart: Some(bill(10_000, vec![])),
            };
            let history = CustomerRedemptions::default();
            let (ends_on, redeemed) = (Some(d(2027, 12, 31)), 0);
            Case {
                rules,
                coupon,
                history,
                attempt,
                ends_on,
                redeemed,
            }
        }

        fn cart(&mut self) -> &mut Cart {
            self.attempt.cart.get_or_insert_with(Cart::default)
        }

        fn run(&self) -> Result<i64, RedeemRefusal> {
            let (rules, ends_on, redeemed) = (&self.rules, self.ends_on, self.redeemed);
            let offer = OfferFacts {
                rules,
                ends_on,
                redeemed,
            };
            decide(&offer, &self.coupon, &self.history, &self.attempt)
        }

        fn code(&self) -> &'static str {
            self.run()
                .map_err(|e| e.code())
                .expect_err("should be refused")
        }

        fn on(&mut self, day: NaiveDate, h: u32, m: u32) -> &mut Case {
            self.attempt.at = when(day, h, m);
            self
        }
    }

    #[test]
    fn an_issued_coupon_gets_the_percentage_of_the_bill() {
        assert_eq!(Case::new().run(), Ok(1500));
    }

    #[test]
    fn statuses_parse_and_refusals_have_codes() {
        for s in [S::Unissued, S::Issued, S::Redeemed, S::Revoked] {
            assert_eq!(CouponStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CouponStatus::parse("Issued"), None);
        let e = R::BillOutOfRange {
            min: Some(500),
            max: None,
        };
        assert_eq!(e.code(), "bill_out_of_range");
        assert_eq!(e.to_string(), "the bill amount must be at least 500");
        assert_eq!(R::UnknownCode.code(), "unknown_code");
        let conflicts = [R::AlreadyRedeemed, R::TotalCap(5), R::PerCustomerLimit(1)];
        assert!(conflicts.iter().all(R::is_conflict));
        assert!(!R::Expired(d(2026, 1, 1)).is_conflict() && !R::Revoked.is_conflict());
    }

    #[test]
    fn revoked_comes_before_already_redeemed() {
        let mut k = Case::new();
        k.coupon.redeem_count = 1;
        assert_eq!(k.code(), "already_redeemed");
        k.coupon.status = S::Revoked;
        assert_eq!(k.code(), "revoked");
        k.coupon.status = S::Redeemed;
        k.coupon.redeem_count = 0;
        assert_eq!(k.code(), "already_redeemed");
    }

    #[test]
    fn multiple_redemption_lifts_the_single_use_limit() {
        let mut k = Case::new();
        k.coupon.redeem_count = 5;
        k.rules.redemption.multiple = multi(None, None);
        assert!(k.run().is_ok());
        assert_eq!(coupon_redeem_limit(&k.rules, false), None);
        assert_eq!(per_customer_limit(&k.rules, false), None);
        k.rules.redemption.multiple = None;
        assert_eq!(coupon_redeem_limit(&k.rules, false), Some(1));
        assert_eq!(coupon_redeem_limit(&k.rules, true), None);
        assert_eq!(per_customer_limit(&k.rules, true), Some(1));
    }

    #[test]
    fn unissued_codes_are_refused() {
        let mut k = Case::new();
        k.coupon.status = S::Unissued;
        assert_eq!(k.code(), "not_issued");
        k.coupon = Case::new().coupon;
        k.coupon.common = true;
        k.coupon.issued_to = None;
        assert_eq!(k.code(), "not_issued", "a common code never issued to them");
        k.rules.redemption.anyone_can_redeem = true;
        assert!(k.run().is_ok(), "anyone may redeem a common code");
        k.attempt.customer = None;
        assert_eq!(
            k.code(),
            "customer_required",
            "once per customer needs to know who"
        );
    }

    #[test]
    fn only_the_issued_customer_may_redeem_unless_anyone_can() {
        let mut k = Case::new();
        k.attempt.customer = Some(CustomerId(2));
        assert_eq!(k.code(), "not_issued_to_customer");
        k.attempt.customer = None;
        assert_eq!(k.code(), "not_issued_to_customer");
        k.rules.redemption.anyone_can_redeem = true;
        assert!(k.run().is_ok());
        k.attempt.customer = Some(CustomerId(2));
        assert!(k.run().is_ok());
    }

    #[test]
    fn expiry_is_the_earlier_of_coupon_and_offer_end() {
        let mut k = Case::new();
        k.ends_on = Some(d(2026, 12, 15));
        assert!(k.on(d(2026, 12, 15), 23, 59).run().is_ok());
        assert_eq!(
            k.on(d(2026, 12, 16), 0, 0).run(),
            Err(R::Expired(d(2026, 12, 15)))
        );
        k.ends_on = None;
        assert_eq!(
            k.on(d(2027, 1, 1), 0, 0).run(),
            Err(R::Expired(d(2026, 12, 31)))
        );
        k.coupon.valid_till = None;
        assert!(k.on(d(2030, 1, 1), 0, 0).run().is_ok());
    }

    #[test]
    fn redemption_starts_n_days_after_issue_or_on_a_date() {
        let mut k = Case::new();
        k.rules.redemption.start = RedemptionStart::DaysAfterIssue(10);
        assert_eq!(k.run(), Err(R::NotStarted(d(2026, 11, 11))));
        assert!(k.on(d(2026, 11, 11), 0, 0).run().is_ok());
        k.rules.redemption.start = RedemptionStart::OnDate(d(2026, 11, 20));
        assert_eq!(k.on(d(2026, 11, 19), 23, 59).code(), "not_started");
        assert!(k.on(d(2026, 11, 20), 0, 0).run().is_ok());
    }

    #[test]
    fn scope_allows_any_matching_store_till_zone_or_concept() {
        let mut k = Case::new();
        use ScopeKind::*;
        for (kind, id) in [(Store, 100), (Till, 200), (Zone, 300), (Concept, 400)] {
            k.rules.redemption.scope = vec![(Store, 999), (kind, id)];
            assert!(k.run().is_ok(), "{kind:?}");
        }
        k.rules.redemption.scope = vec![(Store, 101), (Zone, 301), (Till, 100)];
        assert_eq!(k.code(), "store_not_allowed");
        k.attempt.place = Place::default();
        assert_eq!(k.code(), "store_not_allowed");
        k.rules.redemption.scope.clear();
        assert!(k.run().is_ok(), "no scope: anywhere");
    }

    #[test]
    fn weekdays_and_dates_limit_the_days() {
        let mut k = Case::new();
        k.rules.redemption.weekdays = Weekdays(0b10); // Tuesday, like 2026-11-10
        assert!(k.run().is_ok());
        k.rules.redemption.weekdays = Weekdays(0b1);
        assert_eq!(k.code(), "outside_days");
        k.rules.redemption.weekdays = Weekdays(0x7f);
        k.rules.redemption.dates = vec![d(2026, 11, 11)];
        assert_eq!(k.code(), "outside_days");
        k.rules.redemption.dates.push(d(2026, 11, 10));
        assert!(k.run().is_ok());
    }

    #[test]
    fn a_time_slot_may_cross_midnight() {
        let mut k = Case::new();
        let (start, end) = (22 * 60, 2 * 60);
        k.rules.redemption.time_slots = vec![TimeSlot { start, end }];
        let day = d(2026, 11, 10);
        assert!(k.on(day, 23, 30).run().is_ok());
        assert!(k.on(day, 1, 0).run().is_ok());
        assert_eq!(k.on(day, 12, 0).run(), Err(R::OutsideTimeSlot));
    }

    #[test]
    fn the_bill_must_be_in_range() {
        let mut k = Case::new();
        let (min, max) = (Some(5_000), Some(20_000));
        (k.rules.redemption.min_bill, k.rules.redemption.max_bill) = (min, max);
        assert!(k.run().is_ok());
        for amount in [4_999, 20_001] {
            k.cart().bill_amount = amount;
            assert_eq!(k.run(), Err(R::BillOutOfRange { min, max }));
        }
    }

    #[test]
    fn refusals_quote_money_in_the_currency_and_dates_as_the_console_does() {
        let rupees = |m: i64| crate::domain::money::format_amount(m, "INR", 2);
        assert_eq!(
            R::BillOutOfRange {
                min: Some(100_000),
                max: None
            }
            .message_in(&rupees),
            "the bill amount must be at least ₹1,000"
        );
        assert_eq!(
            R::BillOutOfRange {
                min: Some(50_000),
                max: Some(250_050)
            }
            .message_in(&rupees),
            "the bill amount must be between ₹500 and ₹2,500.50"
        );
        assert_eq!(
            R::Expired(d(2026, 12, 29)).message_in(&rupees),
            "the coupon expired; its last valid day was 29 Dec 2026"
        );
    }

    #[test]
    fn a_common_code_is_redeemed_once_per_customer() {
        let mut k = Case::new();
        k.coupon.common = true;
        k.coupon.redeem_count = 57;
        assert!(k.run().is_ok());
        k.history.count = 1;
        assert_eq!(k.run(), Err(R::PerCustomerLimit(1)));
    }

    #[test]
    fn multiple_redemption_stops_at_the_per_customer_max() {
        let mut k = Case::new();
        k.rules.redemption.multiple = multi(Some(3), None);
        k.coupon.redeem_count = 9;
        k.history.count = 2;
        k.history.last_on = Some(d(2026, 11, 10));
        assert!(k.run().is_ok());
        k.history.count = 3;
        assert_eq!(k.run(), Err(R::PerCustomerLimit(3)));
        k.rules.redemption.anyone_can_redeem = true;
        k.attempt.customer = None;
        assert_eq!(
            k.run(),
            Err(R::CustomerRequired),
            "a per-customer max needs the customer"
        );
    }

    #[test]
    fn gap_days_count_calendar_days() {
        let mut k = Case::new();
        k.rules.redemption.multiple = multi(None, Some(2));
        k.history.count = 1;
        k.history.last_on = Some(d(2026, 11, 10));
        let next = d(2026, 11, 12);
        let refused = Err(R::GapNotElapsed { gap: 2, next });
        assert_eq!(k.on(d(2026, 11, 11), 23, 59).run(), refused);
        assert!(k.on(next, 0, 0).run().is_ok());
        // Anyone may redeem, but a gap still needs to know who: without the customer the
        // gap could be bypassed by leaving them out.
        k.rules.redemption.anyone_can_redeem = true;
        k.attempt.customer = None;
        assert_eq!(k.run(), Err(R::CustomerRequired));
    }

    #[test]
    fn the_total_cap_stops_redemption() {
        let mut k = Case::new();
        k.rules.redemption.total_cap = Some(100);
        k.redeemed = 99;
        assert!(k.run().is_ok());
        k.redeemed = 100;
        assert_eq!(k.run(), Err(R::TotalCap(100)));
    }

    #[test]
    fn a_cart_without_eligible_lines_is_refused() {
        let mut k = Case::new();
        let (categories, brands) = (vec![1], vec![]);
        k.rules.applicability = Applicability::Selected { categories, brands };
        assert_eq!(k.code(), "nothing_eligible", "selected products, no lines");
        k.cart().lines = vec![line(2, 10, 1, 5_000, false)];
        assert_eq!(k.code(), "nothing_eligible");
        k.cart().lines.push(line(1, 10, 2, 2_000, false));
        assert_eq!(k.run(), Ok(600));
    }

    #[test]
    fn refusals_come_in_rule_order() {
        let mut k = Case::new();
        let red = &mut k.rules.redemption;
        red.scope = vec![(ScopeKind::Store, 999)];
        red.dates = vec![d(2026, 1, 1)];
        red.min_bill = Some(1_000_000);
        red.total_cap = Some(1);
        k.redeemed = 5;
        k.coupon.status = S::Revoked;
        k.coupon.issued_to = Some(CustomerId(2));
        k.on(d(2027, 1, 5), 12, 0);
        assert_eq!(k.code(), "revoked");
        k.coupon.status = S::Issued;
        assert_eq!(k.code(), "not_issued_to_customer");
        k.coupon.issued_to = Some(CustomerId(1));
        assert_eq!(k.code(), "expired");
        k.on(d(2026, 11, 10), 12, 0);
        assert_eq!(k.code(), "store_not_allowed");
        k.attempt.place.store = Some(999);
        assert_eq!(k.code(), "outside_days");
        k.on(d(2026, 1, 1), 12, 0);
        assert_eq!(k.code(), "bill_out_of_range");
        k.cart().bill_amount = 2_000_000;
        assert_eq!(k.code(), "total_cap_reached");
        k.redeemed = 0;
        assert_eq!(k.run(), Ok(300_000));
    }

    #[test]
    fn a_percentage_is_rounded_down_and_capped() {
        let mut k = Case::new();
        let (basis_points, cap) = (1500, Some(1_000));
        k.rules.discount = Discount::Percent { basis_points, cap };
        for (amount, discount) in [(6_666, 999), (10_000, 1_000), (6, 0)] {
            k.cart().bill_amount = amount;
            assert_eq!(k.run(), Ok(discount), "15% of {amount}, at most 1000");
        }
    }

    #[test]
    fn a_fixed_amount_never_exceeds_the_eligible_amount() {
        let mut k = Case::new();
        k.rules.discount = Discount::Fixed { amount: 5_000 };
        for (amount, discount) in [(3_000, 3_000), (8_000, 5_000)] {
            k.cart().bill_amount = amount;
            assert_eq!(k.run(), Ok(discount));
        }
    }

    #[test]
    fn sale_items_count_only_when_allowed() {
        let mut k = Case::new();
        k.rules.include_sale_items = false;
        k.cart().lines = vec![line(1, 10, 1, 4_000, true), line(1, 10, 3, 2_000, false)];
        assert_eq!(k.run(), Ok(900), "15% of the 6000 not on sale");
        k.rules.include_sale_items = true;
        assert_eq!(k.run(), Ok(1_500));
        k.cart().bill_amount = 9_000;
        assert_eq!(
            eligible_amount(&k.rules, k.attempt.cart.as_ref().unwrap()),
            9_000,
            "at most the bill"
        );
    }

    #[test]
    fn categories_and_brands_must_both_match_when_both_are_chosen() {
        let mut r = sample_rules();
        let cart = bill(
            100_000,
            vec![
                line(1, 10, 1, 100, false),
                line(1, 11, 1, 1_000, false),
                line(2, 10, 1, 10_000, false),
                line(0, 10, 1, 50_000, false),
                line(1, 10, -2, 7, false),
            ],
        );
        let sel =
            |categories: Vec<i64>, brands: Vec<i64>| Applicability::Selected { categories, brands };
        r.applicability = sel(vec![1], vec![10]);
        assert_eq!(eligible_amount(&r, &cart), 100);
        r.applicability = sel(vec![1], vec![]);
        assert_eq!(eligible_amount(&r, &cart), 1_100);
        r.applicability = sel(vec![], vec![10]);
        assert_eq!(eligible_amount(&r, &cart), 60_100);
        r.applicability = Applicability::All;
        assert_eq!(eligible_amount(&r, &cart), 61_100);
    }

    /// xorshift64: a tiny deterministic PRNG for the property tests.
    struct Rng(u64);

    impl Rng {
        /// A number in 0..n.
        fn below(&mut self, n: i64) -> i64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as i64
        }

        fn flip(&mut self) -> bool {
            self.below(2) == 1
        }

        fn ids(&mut self) -> Vec<i64> {
            (0..self.below(3)).map(|_| 1 + self.below(3)).collect()
        }

        /// A random offer (discount, products, sale items) on `k`, and a random cart.
        fn shuffle(&mut self, k: &mut Case) {
            k.rules.discount = if self.flip() {
                Discount::Fixed {
                    amount: self.below(50_000),
                }
            } else {
                let (basis_points, cap) = (self.below(10_001), Some(self.below(20_000)));
                let cap = cap.filter(|_| self.flip());
                Discount::Percent { basis_points, cap }
            };
            k.rules.applicability = Applicability::All;
            if self.flip() {
                let (categories, brands) = (self.ids(), self.ids());
                k.rules.applicability = Applicability::Selected { categories, brands };
            }
            k.rules.include_sale_items = self.flip();
            k.cart().bill_amount = self.below(120_000) - 100;
            k.cart().lines = (0..self.below(6))
                .map(|_| {
                    let (cat, brand, qty) = (self.below(4), self.below(4), self.below(6) - 1);
                    line(cat, brand, qty, self.below(20_000) - 100, self.flip())
                })
                .collect();
        }
    }

    #[test]
    fn property_discount_is_bounded_by_eligible_and_bill() {
        let mut g = Rng(0x9E37_79B9_7F4A_7C15);
        let mut k = Case::new();
        for _ in 0..5_000 {
            g.shuffle(&mut k);
            let (r, cart) = (&k.rules, k.attempt.cart.as_ref().unwrap());
            let (eligible, discount) = (eligible_amount(r, cart), discount_for(r, cart));
            assert!(0 <= discount && discount <= eligible, "{r:?} {cart:?}");
            assert!(eligible <= cart.bill_amount.max(0), "{cart:?}");
            if let Discount::Percent { cap: Some(c), .. } = r.discount {
                assert!(discount <= c, "{r:?} {cart:?}");
            }
            if !r.include_sale_items && !cart.lines.is_empty() {
                let lines = cart.lines.iter().filter(|l| !l.on_sale);
                let not_on_sale: i64 = lines.map(CartLine::amount).sum();
                assert!(discount <= not_on_sale, "{r:?} {cart:?}");
            }
        }
    }

    #[test]
    fn property_a_revoked_coupon_is_never_redeemed() {
        let mut g = Rng(0x2545_F491_4F6C_DD1D);
        let mut k = Case::new();
        for _ in 0..5_000 {
            g.shuffle(&mut k);
            k.rules.redemption.anyone_can_redeem = g.flip();
            k.rules.redemption.multiple = multi(None, None).filter(|_| g.flip());
            k.coupon.common = g.flip();
            k.coupon.issued_to = Some(g.below(3)).filter(|&c| c > 0).map(CustomerId);
            k.coupon.redeem_count = g.below(3);
            k.attempt.customer = Some(g.below(3)).filter(|&c| c > 0).map(CustomerId);
            k.coupon.status = S::Revoked;
            assert_eq!(k.run(), Err(R::Revoked));
            k.coupon.status = S::Issued;
            if let Ok(discount) = k.run() {
                assert_eq!(
                    discount,
                    discount_for(&k.rules, k.attempt.cart.as_ref().unwrap())
                );
            }
        }
    }
}
