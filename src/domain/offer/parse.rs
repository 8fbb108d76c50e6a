//! Parsing the offer form into `OfferRules`, one small parser per section — basics, discount,
//! products, codes, issual, redemption, POC reminder — each reporting every problem under its
//! field's name.

use super::fields::*;
use super::form::OfferForm;
use super::*;
use crate::domain::money::{parse_amount, parse_percent};
use crate::domain::{FieldError, FieldErrors, parse_name};
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

/// Parses the whole form, section by section. Every problem is reported, each under its
/// field's name (the form's input name), so errors land next to their inputs and each wizard
/// step can show the errors of its own fields.
pub fn parse(f: &OfferForm, ctx: &OfferContext) -> Result<OfferRules, FieldErrors> {
    let mut e = FieldErrors::default();
    let on = OfferForm::is_on;
    let basics = basics(f, &mut e);
    let expiry = expiry(f, ctx, &mut e);
    let discount = discount(f, ctx, &mut e);
    let applicability = applicability(f, ctx, &mut e);
    let specific_customers_only = on(&f.specific_customers_only);
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
            include_sale_items: on(&f.include_sale),
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
        let mut e = FieldErrors::default();
        e.push("name", "the form could not be read");
        e
    })
}

/// Step 1: the name and the POS code.
pub fn basics(f: &OfferForm, e: &mut FieldErrors) -> Option<(String, Option<String>)> {
    let name = e.take(parse_name("name", &f.name, 120));
    let pos_code = e.take(optional(&f.pos_code, |s| code("pos_code", s, 1, 40)));
    Some((name?, pos_code?))
}

/// Step 1: when the offer ends — a fixed date not in the past, or along with the campaign
/// that claims it.
pub fn expiry(f: &OfferForm, ctx: &OfferContext, e: &mut FieldErrors) -> Option<OfferExpiry> {
    match f.expiry_type.as_str() {
        "fixed" => e.take(date("expires_on", &f.expires_on).and_then(|d| {
            if d < ctx.today {
                Err(FieldError::new("expires_on", "must be today or later"))
            } else {
                Ok(OfferExpiry::Fixed(d))
            }
        })),
        "campaign" => Some(OfferExpiry::WithCampaign),
        _ => e.take(Err(FieldError::new(
            "expiry_type",
            "choose a fixed date or along with the campaign",
        ))),
    }
}

/// Step 2: a fixed amount, or a percentage with an optional cap (the cap only with a
/// percentage).
pub fn discount(f: &OfferForm, ctx: &OfferContext, e: &mut FieldErrors) -> Option<Discount> {
    match f.discount_type.as_str() {
        "ABS" => {
            if !f.discount_cap.trim().is_empty() {
                e.push(
                    "discount_cap",
                    "applies only to percentage discounts; leave it empty",
                );
            }
            e.take(parse_amount(
                "discount_value",
                &f.discount_value,
                ctx.digits,
            ))
            .map(|amount| Discount::Fixed { amount })
        }
        "PERC" => {
            let bp = e.take(parse_percent("discount_value", &f.discount_value));
            let cap = e.take(optional(&f.discount_cap, |s| {
                parse_amount("discount_cap", s, ctx.digits)
            }));
            match (bp, cap) {
                (Some(basis_points), Some(cap)) => Some(Discount::Percent { basis_points, cap }),
                _ => None,
            }
        }
        _ => e.take(Err(FieldError::new(
            "discount_type",
            "choose a fixed amount or a percentage",
        ))),
    }
}

/// Step 2: all products, or the selected categories and brands of the org (at least one).
pub fn applicability(
    f: &OfferForm,
    ctx: &OfferContext,
    e: &mut FieldErrors,
) -> Option<Applicability> {
    match f.applies_to.as_str() {
        "all" => Some(Applicability::All),
        "selected" => {
            let cats = e.take(ids(
                "categories",
                &f.categories,
                &ctx.categories,
                "category",
            ));
            let brands = e.take(ids("brands", &f.brands, &ctx.brands, "brand"));
            match (cats, brands) {
                (Some(c), Some(b)) if c.is_empty() && b.is_empty() => {
                    e.push(
                        "categories",
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
            "applies_to",
            "choose all products or selected products",
        ))),
    }
}

/// Step 3: how coupons reach customers, how codes are made (COD-1..4) and when coupons
/// expire (ISS-3).
pub fn codes(
    f: &OfferForm,
    ctx: &OfferContext,
    specific_customers_only: bool,
    e: &mut FieldErrors,
) -> Option<(Delivery, Generation, CouponExpiry)> {
    let on = OfferForm::is_on;
    let delivery = match f.delivery.as_str() {
        "system" => Some(Delivery::ThisSystem),
        "third_party" => Some(Delivery::ThirdParty),
        _ => e.take(Err(FieldError::new(
            "delivery",
            "choose through this system or through a third party",
        ))),
    };
    if specific_customers_only && ctx.audience_size == 0 && f.generation != "randomized" {
        e.push(
            "specific_customers_only",
            "needs the customer list: upload it below (CSV with header type,value)",
        );
    }
    let generation = match f.generation.as_str() {
        "unique" => {
            let charset = Charset::parse(&f.code_charset);
            if charset.is_none() {
                e.push(
                    "code_charset",
                    "choose numeric, alphanumeric or alphanumeric without look-alikes",
                );
            }
            let length = e.take(count("code_length", &f.code_length, 4, 20).map(|n| n as u32));
            let prefix = if f.code_prefix.trim().is_empty() {
                Some(String::new())
            } else {
                e.take(code("code_prefix", &f.code_prefix, 1, 10))
            };
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
            .take(code("common_code", &f.common_code, 3, 30))
            .map(|code| Generation::Common { code }),
        "upload" => Some(Generation::Upload {
            with_customers: on(&f.upload_with_customers),
        }),
        "randomized" => {
            let sample = f.sample_code.trim().to_ascii_uppercase();
            let ok = e.take(if !(5..=10).contains(&sample.len()) {
                Err(FieldError::new("sample_code", "must be 5 to 10 characters"))
            } else if !sample.chars().all(|c| c.is_ascii_alphanumeric()) {
                Err(FieldError::new(
                    "sample_code",
                    "may contain only letters and digits",
                ))
            } else {
                Ok(())
            });
            if specific_customers_only {
                e.push(
                    "specific_customers_only",
                    "is not available with randomized common codes (no customer uploads)",
                );
            }
            ok.map(|_| Generation::Randomized { sample })
        }
        _ => e.take(Err(FieldError::new(
            "generation",
            "choose how codes are made",
        ))),
    };
    let coupon_expiry = match f.coupon_expiry.as_str() {
        "offer" => Some(CouponExpiry::WithOffer),
        "days" => e
            .take(count("coupon_expiry_n", &f.coupon_expiry_n, 1, 3650))
            .map(|n| CouponExpiry::DaysFromIssue(n as u32)),
        "month_ends" => e
            .take(count("coupon_expiry_n", &f.coupon_expiry_n, 1, 120))
            .map(|n| CouponExpiry::MonthEndsFromIssue(n as u32)),
        _ => e.take(Err(FieldError::new(
            "coupon_expiry",
            "choose when coupons expire",
        ))),
    };

    Some((delivery?, generation?, coupon_expiry?))
}

/// Step 4: who may be issued a coupon and how often (ISS-2), the resend text and the customer
/// reminders with their placeholders checked.
pub fn issual(f: &OfferForm, ctx: &OfferContext, e: &mut FieldErrors) -> Option<IssualRules> {
    let past_issual_offers = e.take(ids(
        "past_issual_offers",
        &f.past_issual_offers,
        &ctx.offers,
        "offer",
    ));
    let max_per_customer = e.take(optional(&f.max_per_customer, |s| {
        count("max_per_customer", s, 1, 1000).map(|n| n as u32)
    }));
    let min_gap_days = e.take(optional(&f.min_issual_gap_days, |s| {
        count("min_issual_gap_days", s, 1, 3650).map(|n| n as u32)
    }));
    if min_gap_days.flatten().is_some() && !matches!(max_per_customer, Some(Some(n)) if n >= 2) {
        e.push(
            "min_issual_gap_days",
            "needs at most 2 or more issuals per customer (a gap is between two issues)",
        );
    }
    let total_issual_cap = e.take(optional(&f.total_issual_cap, |s| {
        count("total_issual_cap", s, 1, 1_000_000_000).map(|n| n as i64)
    }));
    let resend_text = e.take(optional(&f.resend_text, |s| {
        check_text("resend_text", s, 320)
    }));
    let mut reminders = Vec::new();
    for i in 0..f.reminder_days.len().max(f.reminder_text.len()) {
        let days = f.reminder_days.get(i).map(String::as_str).unwrap_or("");
        let text = f.reminder_text.get(i).map(String::as_str).unwrap_or("");
        let channel = f.reminder_channel.get(i).map(String::as_str).unwrap_or("");
        if days.trim().is_empty() && text.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let parsed = count("reminders", days, 1, 365)
            .map_err(|er| {
                FieldError::new(
                    "reminders",
                    format!("reminder {n}: days before expiry {}", er.message),
                )
            })
            .and_then(|days_before| {
                let channel = match channel {
                    "sms" => Channel::Sms,
                    "email" => Channel::Email,
                    _ => {
                        return Err(FieldError::new(
                            "reminders",
                            format!("reminder {n}: choose SMS or email"),
                        ));
                    }
                };
                let text = check_text("reminders", text, 500).map_err(|er| {
                    FieldError::new("reminders", format!("reminder {n}: text {}", er.message))
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

    Some(IssualRules {
        past_issual_offers: past_issual_offers?,
        max_per_customer: max_per_customer?,
        min_gap_days: min_gap_days?,
        total_cap: total_issual_cap?,
        resend_text: resend_text?,
        reminders,
    })
}

/// Step 4: who may redeem, from when, how often, where, for which bills and when (RED-1).
/// `expiry` is the offer's end as parsed (a start date may not be after it).
pub fn redemption(
    f: &OfferForm,
    ctx: &OfferContext,
    expiry: Option<&OfferExpiry>,
    e: &mut FieldErrors,
) -> Option<RedemptionRules> {
    let on = OfferForm::is_on;
    let start = match f.redemption_start.as_str() {
        "issue" => Some(RedemptionStart::OnIssue),
        "days" => e
            .take(count(
                "redemption_start_days",
                &f.redemption_start_days,
                1,
                3650,
            ))
            .map(|n| RedemptionStart::DaysAfterIssue(n as u32)),
        "date" => e.take(
            date("redemption_start_date", &f.redemption_start_date).and_then(|d| match expiry {
                Some(OfferExpiry::Fixed(end)) if d > *end => Err(FieldError::new(
                    "redemption_start_date",
                    "must not be after the offer's expiry date",
                )),
                _ => Ok(RedemptionStart::OnDate(d)),
            }),
        ),
        _ => e.take(Err(FieldError::new(
            "redemption_start",
            "choose when redemption can start",
        ))),
    };
    let multiple = if on(&f.multiple_redemption) {
        let per_customer_max = e.take(optional(&f.max_redemptions_per_customer, |s| {
            count("max_redemptions_per_customer", s, 1, 1000).map(|n| n as u32)
        }));
        let gap_days = e.take(optional(&f.redemption_gap_days, |s| {
            count("redemption_gap_days", s, 1, 3650).map(|n| n as u32)
        }));
        match (per_customer_max, gap_days) {
            (Some(per_customer_max), Some(gap_days)) => Some(Some(MultipleRedemption {
                per_customer_max,
                gap_days,
            })),
            _ => None,
        }
    } else {
        if !f.redemption_gap_days.trim().is_empty() {
            e.push(
                "redemption_gap_days",
                "applies only when a coupon may be redeemed more than once",
            );
        }
        if !f.max_redemptions_per_customer.trim().is_empty() {
            e.push(
                "max_redemptions_per_customer",
                "applies only when a coupon may be redeemed more than once",
            );
        }
        Some(None)
    };
    let mut scope = Vec::new();
    for (kind, raw, allowed) in [
        (ScopeKind::Store, &f.stores, &ctx.stores),
        (ScopeKind::Till, &f.tills, &ctx.tills),
        (ScopeKind::Zone, &f.zones, &ctx.zones),
        (ScopeKind::Concept, &f.concepts, &ctx.concepts),
    ] {
        if let Some(list) = e.take(ids("scope", raw, allowed, kind.noun(1))) {
            scope.extend(list.into_iter().map(|id| (kind, id)));
        }
    }
    scope.sort_unstable();
    let min_bill = e.take(optional(&f.min_bill, |s| {
        parse_amount("min_bill", s, ctx.digits)
    }));
    let max_bill = e.take(optional(&f.max_bill, |s| {
        parse_amount("max_bill", s, ctx.digits)
    }));
    if let (Some(Some(lo)), Some(Some(hi))) = (min_bill, max_bill)
        && lo > hi
    {
        e.push("max_bill", "must not be less than the minimum bill amount");
    }
    let mut weekdays = 0u8;
    for w in &f.weekdays {
        match WEEKDAY_NAMES.iter().position(|(k, _)| k == w) {
            Some(i) => weekdays |= 1 << i,
            None => e.push("weekdays", "must be days of the week"),
        }
    }
    let mut dates = Vec::new();
    for part in f
        .dates
        .split([',', ';', '\n', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match e.take(date("dates", part)) {
            Some(d) => dates.push(d),
            None => break,
        }
    }
    dates.sort();
    dates.dedup();
    let time_slots = e.take(parse_time_slots("time_slots", &f.time_slots));
    let total_redemption_cap = e.take(optional(&f.total_redemption_cap, |s| {
        count("total_redemption_cap", s, 1, 1_000_000_000).map(|n| n as i64)
    }));

    Some(RedemptionRules {
        anyone_can_redeem: on(&f.anyone_can_redeem),
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
    f: &OfferForm,
    ctx: &OfferContext,
    e: &mut FieldErrors,
) -> Option<Option<PocReminder>> {
    let on = OfferForm::is_on;
    if on(&f.poc_reminder) {
        let pocs = e.take(ids("poc_ids", &f.poc_ids, &ctx.pocs, "POC"));
        if matches!(&pocs, Some(p) if p.is_empty()) {
            e.push("poc_ids", "choose at least one POC to remind");
        }
        let days = e.take(count("poc_reminder_days", &f.poc_reminder_days, 1, 365));
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

    fn ctx() -> OfferContext {
        OfferContext {
            digits: 2,
            today: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            pocs: HashSet::from([500]),
            ..OfferContext::default()
        }
    }

    /// The fields a section reported, in order.
    fn fields(e: &FieldErrors) -> Vec<&'static str> {
        e.0.iter().map(|x| x.field).collect()
    }

    #[test]
    fn discount_section_reads_amounts_percentages_and_caps() {
        let mut e = FieldErrors::default();
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
        let mut e = FieldErrors::default();
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
        let mut e = FieldErrors::default();
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
        let mut e = FieldErrors::default();
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
        let mut e = FieldErrors::default();
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
