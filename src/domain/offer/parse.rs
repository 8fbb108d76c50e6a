//! Parsing an offer into `OfferRules`, one small parser per section — basics, discount,
//! products, codes, issual (with the expiry notice, `notice.rs`), redemption, POC reminder —
//! each reading through `OfferInput` (the wizard's form or the API's body) and reporting every
//! problem under its `OfferField`.

use super::fields::*;
use super::input::{Given, OfferErrors, OfferField as F, OfferInput};
use super::*;
use crate::domain::{FieldError, parse_name};
use std::collections::HashSet;

/// What parsing needs to know about the org: currency digits, "today" in its time zone, and
/// the ids of its own records that the form may refer to.
#[derive(Debug, Clone, Default)]
pub struct OfferContext {
    pub digits: u32,
    pub today: NaiveDate,
    pub categories: HashSet<i64>,
    pub brands: HashSet<i64>,
    pub stores: HashSet<i64>,
    pub tills: HashSet<i64>,
    pub zones: HashSet<i64>,
    pub concepts: HashSet<i64>,
    pub pocs: HashSet<i64>,
    /// Other offers of the org (for the past-issual restriction).
    pub offers: HashSet<i64>,
    /// Customers in the uploaded specific-customers list.
    pub audience_size: i64,
}

/// A choice as given, for comparing without regard to case.
fn choice(f: &dyn OfferInput, field: F) -> String {
    f.text(field).trim().to_ascii_lowercase()
}

/// Parses the whole offer, section by section. Every problem is reported, each under its
/// field, so errors land next to their inputs (each wizard step shows the errors of its own
/// fields) or name the API's field.
pub fn parse(f: &dyn OfferInput, ctx: &OfferContext) -> Result<OfferRules, OfferErrors> {
    let mut e = OfferErrors::default();
    let basics = basics(f, &mut e);
    let expiry = expiry(f, ctx, &mut e);
    let discount = discount(f, ctx, &mut e);
    let applicability = applicability(f, ctx, &mut e);
    let specific_customers_only = f.flag(F::SpecificCustomersOnly);
    let codes = codes(f, ctx, specific_customers_only, &mut e);
    let issual = issual(f, ctx, &mut e);
    let redemption = redemption(f, ctx, expiry.as_ref(), &mut e);
    let poc_reminder = poc_reminder(f, ctx, &mut e);
    if !e.is_empty() {
        return Err(e);
    }
    // Every section parsed without an error, so each value is present.
    let built = (|| {
        let (name, pos_code) = basics?;
        let expiry = expiry?;
        let (delivery, generation, coupon_expiry) = codes?;
        Some(OfferRules {
            name,
            pos_code,
            expiry,
            discount: discount?,
            applicability: applicability?,
            include_sale_items: f.flag(F::IncludeSale),
            delivery,
            generation,
            specific_customers_only,
            coupon_expiry,
            issual: issual?,
            redemption: redemption?,
            poc_reminder: poc_reminder?,
        })
    })();
    built.ok_or_else(|| {
        let mut e = OfferErrors::default();
        e.push(F::Name, "the offer could not be read");
        e
    })
}

/// Step 1: the name and the POS code.
pub fn basics(f: &dyn OfferInput, e: &mut OfferErrors) -> Option<(String, Option<String>)> {
    let name = e.take(parse_name(F::Name, f.text(F::Name), 120));
    let pos_code = e.take(optional(f.text(F::PosCode), |s| code(F::PosCode, s, 1, 40)));
    Some((name?, pos_code?))
}

/// Step 1: when the offer ends — a fixed date not in the past, or along with the campaign
/// that claims it.
pub fn expiry(f: &dyn OfferInput, ctx: &OfferContext, e: &mut OfferErrors) -> Option<OfferExpiry> {
    match choice(f, F::ExpiryType).as_str() {
        "fixed" => e.take(date(F::ExpiresOn, f.text(F::ExpiresOn)).and_then(|d| {
            if d < ctx.today {
                Err(FieldError::new(F::ExpiresOn, "must be today or later"))
            } else {
                Ok(OfferExpiry::Fixed(d))
            }
        })),
        "campaign" => Some(OfferExpiry::WithCampaign),
        _ => e.take(Err(FieldError::new(
            F::ExpiryType,
            "choose a fixed date or along with the campaign",
        ))),
    }
}

/// Step 2: a fixed amount, or a percentage with an optional cap (the cap only with a
/// percentage).
pub fn discount(f: &dyn OfferInput, ctx: &OfferContext, e: &mut OfferErrors) -> Option<Discount> {
    let cap = f.number(F::DiscountCap);
    match choice(f, F::DiscountType).as_str() {
        "abs" => {
            if cap != Given::Absent {
                e.push(
                    F::DiscountCap,
                    "applies only to percentage discounts; leave it empty",
                );
            }
            e.take(amount(
                F::DiscountValue,
                f.number(F::DiscountValue),
                ctx.digits,
            ))
            .map(|amount| Discount::Fixed { amount })
        }
        "perc" => {
            let bp = e.take(percent(F::DiscountValue, f.number(F::DiscountValue)));
            let cap = e.take(optional_given(cap, |g| {
                amount(F::DiscountCap, g, ctx.digits)
            }));
            match (bp, cap) {
                (Some(basis_points), Some(cap)) => Some(Discount::Percent { basis_points, cap }),
                _ => None,
            }
        }
        _ => e.take(Err(FieldError::new(
            F::DiscountType,
            "choose a fixed amount or a percentage",
        ))),
    }
}

/// Step 2: all products, or the selected categories and brands of the org (at least one).
pub fn applicability(
    f: &dyn OfferInput,
    ctx: &OfferContext,
    e: &mut OfferErrors,
) -> Option<Applicability> {
    match choice(f, F::AppliesTo).as_str() {
        "all" => Some(Applicability::All),
        "selected" => {
            let cats = e.take(ids(
                F::Categories,
                f.ids(F::Categories),
                &ctx.categories,
                "category",
            ));
            let brands = e.take(ids(F::Brands, f.ids(F::Brands), &ctx.brands, "brand"));
            match (cats, brands) {
                (Some(c), Some(b)) if c.is_empty() && b.is_empty() => {
                    e.push(
                        F::Categories,
                        "choose at least one category or brand for selected products",
                    );
                    None
                }
                (Some(categories), Some(brands)) => {
                    Some(Applicability::Selected { categories, brands })
                }
                _ => None,
            }
        }
        _ => e.take(Err(FieldError::new(
            F::AppliesTo,
            "choose all products or selected products",
        ))),
    }
}

/// Step 3: how coupons reach customers, how codes are made (COD-1..4) and when coupons
/// expire (ISS-3).
pub fn codes(
    f: &dyn OfferInput,
    ctx: &OfferContext,
    specific_customers_only: bool,
    e: &mut OfferErrors,
) -> Option<(Delivery, Generation, CouponExpiry)> {
    let delivery = match choice(f, F::Delivery).as_str() {
        "system" => Some(Delivery::ThisSystem),
        "third_party" => Some(Delivery::ThirdParty),
        _ => e.take(Err(FieldError::new(
            F::Delivery,
            "choose through this system or through a third party",
        ))),
    };
    let generation_kind = choice(f, F::Generation);
    if specific_customers_only && ctx.audience_size == 0 && generation_kind != "randomized" {
        e.push(
            F::SpecificCustomersOnly,
            "needs the customer list: upload it below (CSV with header type,value)",
        );
    }
    let generation = match generation_kind.as_str() {
        "unique" => {
            let charset = Charset::parse(&choice(f, F::CodeCharset));
            if charset.is_none() {
                e.push(
                    F::CodeCharset,
                    "choose numeric, alphanumeric or alphanumeric without look-alikes",
                );
            }
            let length =
                e.take(whole(F::CodeLength, f.number(F::CodeLength), 4, 20).map(|n| n as u32));
            let prefix = e.take(
                optional(f.text(F::CodePrefix), |s| code(F::CodePrefix, s, 1, 10))
                    .map(Option::unwrap_or_default),
            );
            match (charset, length, prefix) {
                (Some(charset), Some(length), Some(prefix)) => Some(Generation::Unique {
                    length,
                    charset,
                    prefix,
                }),
                _ => None,
            }
        }
        "common" => e
            .take(code(F::CommonCode, f.text(F::CommonCode), 3, 30))
            .map(|code| Generation::Common { code }),
        "upload" => Some(Generation::Upload {
            with_customers: f.flag(F::UploadWithCustomers),
        }),
        "randomized" => {
            let sample = f.text(F::SampleCode).trim().to_ascii_uppercase();
            let ok = e.take(if !(5..=10).contains(&sample.len()) {
                Err(FieldError::new(F::SampleCode, "must be 5 to 10 characters"))
            } else if !sample.chars().all(|c| c.is_ascii_alphanumeric()) {
                Err(FieldError::new(
                    F::SampleCode,
                    "may contain only letters and digits",
                ))
            } else {
                Ok(())
            });
            if specific_customers_only {
                e.push(
                    F::SpecificCustomersOnly,
                    "is not available with randomized common codes (no customer uploads)",
                );
            }
            ok.map(|_| Generation::Randomized { sample })
        }
        _ => e.take(Err(FieldError::new(
            F::Generation,
            "choose how codes are made",
        ))),
    };
    let n = f.number(F::CouponExpiryN);
    let coupon_expiry = match choice(f, F::CouponExpiry).as_str() {
        "offer" => Some(CouponExpiry::WithOffer),
        "days" => e
            .take(whole(F::CouponExpiryN, n, 1, 3650))
            .map(|n| CouponExpiry::DaysFromIssue(n as u32)),
        "month_ends" => e
            .take(whole(F::CouponExpiryN, n, 1, 120))
            .map(|n| CouponExpiry::MonthEndsFromIssue(n as u32)),
        _ => e.take(Err(FieldError::new(
            F::CouponExpiry,
            "choose when coupons expire",
        ))),
    };

    Some((delivery?, generation?, coupon_expiry?))
}

/// An optional whole number from `min` to `max`.
fn optional_whole(
    f: &dyn OfferInput,
    field: F,
    min: u64,
    max: u64,
) -> Result<Option<u64>, FieldError<F>> {
    optional_given(f.number(field), |g| whole(field, g, min, max))
}

/// Step 4: who may be issued a coupon and how often (ISS-2), the resend text, the customer
/// reminders with their placeholders checked, and the expiry notice (`notice.rs`).
pub fn issual(f: &dyn OfferInput, ctx: &OfferContext, e: &mut OfferErrors) -> Option<IssualRules> {
    let past_issual_offers = e.take(ids(
        F::PastIssualOffers,
        f.ids(F::PastIssualOffers),
        &ctx.offers,
        "offer",
    ));
    let max_per_customer =
        e.take(optional_whole(f, F::MaxPerCustomer, 1, 1000).map(|n| n.map(|n| n as u32)));
    let min_gap_days =
        e.take(optional_whole(f, F::MinIssualGapDays, 1, 3650).map(|n| n.map(|n| n as u32)));
    if min_gap_days.flatten().is_some() && !matches!(max_per_customer, Some(Some(n)) if n >= 2) {
        e.push(
            F::MinIssualGapDays,
            "needs at most 2 or more issuals per customer (a gap is between two issues)",
        );
    }
    let total_issual_cap =
        e.take(optional_whole(f, F::TotalIssualCap, 1, 1_000_000_000).map(|n| n.map(|n| n as i64)));
    let resend_text = e.take(optional(f.text(F::ResendText), |s| {
        check_text(F::ResendText, s, 320)
    }));
    let mut reminders = Vec::new();
    for (i, (days, channel, text)) in f.reminders().into_iter().enumerate() {
        if days.trim().is_empty() && text.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let parsed = count(F::Reminders, days, 1, 365)
            .map_err(|er| {
                FieldError::new(
                    F::Reminders,
                    format!("reminder {n}: days before expiry {}", er.message),
                )
            })
            .and_then(|days_before| {
                let channel = match channel.trim().to_ascii_lowercase().as_str() {
                    "sms" => Channel::Sms,
                    "email" => Channel::Email,
                    _ => {
                        return Err(FieldError::new(
                            F::Reminders,
                            format!("reminder {n}: choose SMS or email"),
                        ));
                    }
                };
                let text = check_text(F::Reminders, text, 500).map_err(|er| {
                    FieldError::new(F::Reminders, format!("reminder {n}: text {}", er.message))
                })?;
                Ok(CustomerReminder {
                    days_before: days_before as u32,
                    channel,
                    text,
                })
            });
        if let Some(r) = e.take(parsed) {
            reminders.push(r);
        }
    }
    let expiry_notice = super::notice::expiry_notice(f, e);

    Some(IssualRules {
        past_issual_offers: past_issual_offers?,
        max_per_customer: max_per_customer?,
        min_gap_days: min_gap_days?,
        total_cap: total_issual_cap?,
        resend_text: resend_text?,
        reminders,
        expiry_notice: expiry_notice?,
    })
}

/// Step 4: who may redeem, from when, how often, where, for which bills and when (RED-1).
/// `expiry` is the offer's end as parsed (a start date may not be after it).
pub fn redemption(
    f: &dyn OfferInput,
    ctx: &OfferContext,
    expiry: Option<&OfferExpiry>,
    e: &mut OfferErrors,
) -> Option<RedemptionRules> {
    let start = match choice(f, F::RedemptionStart).as_str() {
        "issue" => Some(RedemptionStart::OnIssue),
        "days" => e
            .take(whole(
                F::RedemptionStartDays,
                f.number(F::RedemptionStartDays),
                1,
                3650,
            ))
            .map(|n| RedemptionStart::DaysAfterIssue(n as u32)),
        "date" => e.take(
            date(F::RedemptionStartDate, f.text(F::RedemptionStartDate)).and_then(
                |d| match expiry {
                    Some(OfferExpiry::Fixed(end)) if d > *end => Err(FieldError::new(
                        F::RedemptionStartDate,
                        "must not be after the offer's expiry date",
                    )),
                    _ => Ok(RedemptionStart::OnDate(d)),
                },
            ),
        ),
        _ => e.take(Err(FieldError::new(
            F::RedemptionStart,
            "choose when redemption can start",
        ))),
    };
    let multiple = if f.flag(F::MultipleRedemption) {
        let per_customer_max = e.take(
            optional_whole(f, F::MaxRedemptionsPerCustomer, 1, 1000).map(|n| n.map(|n| n as u32)),
        );
        let gap_days =
            e.take(optional_whole(f, F::RedemptionGapDays, 1, 3650).map(|n| n.map(|n| n as u32)));
        match (per_customer_max, gap_days) {
            (Some(per_customer_max), Some(gap_days)) => Some(Some(MultipleRedemption {
                per_customer_max,
                gap_days,
            })),
            _ => None,
        }
    } else {
        for field in [F::RedemptionGapDays, F::MaxRedemptionsPerCustomer] {
            if f.number(field) != Given::Absent {
                e.push(
                    field,
                    "applies only when a coupon may be redeemed more than once",
                );
            }
        }
        Some(None)
    };
    let mut scope = Vec::new();
    for (kind, field, allowed) in [
        (ScopeKind::Store, F::Stores, &ctx.stores),
        (ScopeKind::Till, F::Tills, &ctx.tills),
        (ScopeKind::Zone, F::Zones, &ctx.zones),
        (ScopeKind::Concept, F::Concepts, &ctx.concepts),
    ] {
        if let Some(list) = e.take(ids(F::Scope, f.ids(field), allowed, kind.noun(1))) {
            scope.extend(list.into_iter().map(|id| (kind, id)));
        }
    }
    scope.sort_unstable();
    let min_bill = e.take(optional_given(f.number(F::MinBill), |g| {
        amount(F::MinBill, g, ctx.digits)
    }));
    let max_bill = e.take(optional_given(f.number(F::MaxBill), |g| {
        amount(F::MaxBill, g, ctx.digits)
    }));
    if let (Some(Some(lo)), Some(Some(hi))) = (min_bill, max_bill)
        && lo > hi
    {
        e.push(F::MaxBill, "must not be less than the minimum bill amount");
    }
    let mut weekdays = 0u8;
    for w in f.list(F::Weekdays) {
        let w = w.trim().to_ascii_lowercase();
        match WEEKDAY_NAMES.iter().position(|(k, _)| *k == w) {
            Some(i) => weekdays |= 1 << i,
            None => e.push(F::Weekdays, "must be days of the week"),
        }
    }
    let mut dates = Vec::new();
    for part in f.list(F::Dates) {
        match e.take(date(F::Dates, part)) {
            Some(d) => dates.push(d),
            None => break,
        }
    }
    dates.sort();
    dates.dedup();
    let time_slots = e.take(parse_time_slots(F::TimeSlots, f.text(F::TimeSlots)));
    let total_redemption_cap = e.take(
        optional_whole(f, F::TotalRedemptionCap, 1, 1_000_000_000).map(|n| n.map(|n| n as i64)),
    );

    Some(RedemptionRules {
        anyone_can_redeem: f.flag(F::AnyoneCanRedeem),
        start: start?,
        multiple: multiple?,
        scope,
        min_bill: min_bill?,
        max_bill: max_bill?,
        weekdays: Weekdays(weekdays),
        dates,
        time_slots: time_slots?,
        total_cap: total_redemption_cap?,
    })
}

/// The offer-expiry reminder to POCs (REM-1): off, or N days before to at least one POC.
pub fn poc_reminder(
    f: &dyn OfferInput,
    ctx: &OfferContext,
    e: &mut OfferErrors,
) -> Option<Option<PocReminder>> {
    if f.flag(F::PocReminder) {
        let pocs = e.take(ids(F::PocIds, f.ids(F::PocIds), &ctx.pocs, "POC"));
        if matches!(&pocs, Some(p) if p.is_empty()) {
            e.push(F::PocIds, "choose at least one POC to remind");
        }
        let days = e.take(whole(
            F::PocReminderDays,
            f.number(F::PocReminderDays),
            1,
            365,
        ));
        match (pocs, days) {
            (Some(poc_ids), Some(days)) => Some(Some(PocReminder {
                poc_ids,
                days_before: days as u32,
            })),
            _ => None,
        }
    } else {
        Some(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::offer::form::OfferForm;

    fn ctx() -> OfferContext {
        OfferContext {
            digits: 2,
            today: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            pocs: HashSet::from([500]),
            ..OfferContext::default()
        }
    }

    /// The fields a section reported, in order.
    fn fields(e: &OfferErrors) -> Vec<&'static str> {
        e.0.iter().map(|x| x.field.form()).collect()
    }

    #[test]
    fn typed_and_typed_in_values_read_the_same() {
        // 500.00 typed in the wizard is 50000 minor units sent by the API.
        assert_eq!(amount(F::MinBill, Given::Text("500"), 2), Ok(50000));
        assert_eq!(amount(F::MinBill, Given::Whole(50000), 2), Ok(50000));
        assert_eq!(amount(F::MinBill, Given::Text("1,000.50"), 2), Ok(100050));
        for refused in [Given::Whole(0), Given::Real(499.5), Given::Absent] {
            assert!(amount(F::MinBill, refused, 2).is_err(), "{refused:?}");
        }
        assert_eq!(percent(F::DiscountValue, Given::Real(12.5)), Ok(1250));
        assert_eq!(percent(F::DiscountValue, Given::Whole(15)), Ok(1500));
        assert_eq!(percent(F::DiscountValue, Given::Text("15%")), Ok(1500));
        assert!(percent(F::DiscountValue, Given::Whole(101)).is_err());
        assert!(percent(F::DiscountValue, Given::Real(12.345)).is_err());
        assert_eq!(whole(F::CodeLength, Given::Whole(8), 4, 20), Ok(8));
        assert_eq!(whole(F::CodeLength, Given::Text("8"), 4, 20), Ok(8));
        assert!(whole(F::CodeLength, Given::Real(8.5), 4, 20).is_err());
        assert_eq!(
            whole(F::CodeLength, Given::Absent, 4, 20)
                .unwrap_err()
                .message,
            "is required"
        );
    }

    #[test]
    fn discount_section_reads_amounts_percentages_and_caps() {
        let mut e = OfferErrors::default();
        let f = OfferForm {
            discount_type: "PERC".into(),
            discount_value: "12.5".into(),
            discount_cap: "500".into(),
            ..OfferForm::defaults()
        };
        assert_eq!(
            discount(&f, &ctx(), &mut e),
            Some(Discount::Percent {
                basis_points: 1250,
                cap: Some(50000)
            })
        );
        let fixed_with_cap = OfferForm {
            discount_type: "ABS".into(),
            discount_value: "200".into(),
            discount_cap: "50".into(),
            ..OfferForm::defaults()
        };
        assert_eq!(
            discount(&fixed_with_cap, &ctx(), &mut e),
            Some(Discount::Fixed { amount: 20000 })
        );
        assert_eq!(fields(&e), ["discount_cap"]);
    }

    #[test]
    fn codes_section_refuses_customer_lists_with_randomized_codes() {
        let mut e = OfferErrors::default();
        let f = OfferForm {
            generation: "randomized".into(),
            sample_code: "test12345".into(),
            ..OfferForm::defaults()
        };
        let (_, generation, _) = codes(&f, &ctx(), false, &mut e).unwrap();
        assert_eq!(
            generation,
            Generation::Randomized {
                sample: "TEST12345".into()
            }
        );
        codes(&f, &ctx(), true, &mut e);
        assert_eq!(fields(&e), ["specific_customers_only"]);
    }

    #[test]
    fn issual_section_needs_two_issues_for_a_gap() {
        let mut e = OfferErrors::default();
        let f = OfferForm {
            max_per_customer: "1".into(),
            min_issual_gap_days: "7".into(),
            ..OfferForm::defaults()
        };
        issual(&f, &ctx(), &mut e);
        assert_eq!(fields(&e), ["min_issual_gap_days"]);
    }

    #[test]
    fn redemption_section_checks_dates_against_the_offer_and_bills_against_each_other() {
        let mut e = OfferErrors::default();
        let f = OfferForm {
            redemption_start: "date".into(),
            redemption_start_date: "2027-02-01".into(),
            min_bill: "1000".into(),
            max_bill: "500".into(),
            ..OfferForm::defaults()
        };
        let ends = OfferExpiry::Fixed(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap());
        assert_eq!(redemption(&f, &ctx(), Some(&ends), &mut e), None);
        assert_eq!(fields(&e), ["redemption_start_date", "max_bill"]);
    }

    #[test]
    fn poc_reminder_section_is_off_or_names_a_poc_of_the_org() {
        let mut e = OfferErrors::default();
        let off = OfferForm::defaults();
        assert_eq!(poc_reminder(&off, &ctx(), &mut e), Some(None));
        let on = OfferForm {
            poc_reminder: "on".into(),
            poc_reminder_days: "3".into(),
            poc_ids: vec!["500".into()],
            ..OfferForm::defaults()
        };
        assert_eq!(
            poc_reminder(&on, &ctx(), &mut e),
            Some(Some(PocReminder {
                poc_ids: vec![500],
                days_before: 3
            }))
        );
        let nobody = OfferForm {
            poc_ids: vec![],
            ..on
        };
        poc_reminder(&nobody, &ctx(), &mut e);
        assert_eq!(fields(&e), ["poc_ids"]);
    }

    #[test]
    fn every_section_reports_even_when_another_fails() {
        // A bad name does not hide that the start date is after the offer's end.
        let f = OfferForm {
            name: " ".into(),
            expires_on: "2027-01-31".into(),
            redemption_start: "date".into(),
            redemption_start_date: "2027-02-01".into(),
            discount_value: "10".into(),
            ..OfferForm::defaults()
        };
        let e = parse(&f, &ctx()).unwrap_err();
        assert_eq!(fields(&e), ["name", "redemption_start_date"]);
    }
}
