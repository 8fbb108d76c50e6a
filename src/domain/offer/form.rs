//! The offer form as typed by a person (every field a string, as posted) and its parsing into
//! `OfferRules`. Field names are the form's input names, so errors land next to their inputs
//! and each wizard step can show the errors of its own fields.

use super::*;
use crate::domain::money::{amount_input, parse_amount, parse_percent};
use crate::domain::{FieldError, FieldErrors, parse_name};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Every input of the create/edit offer form. Checkboxes are "on" when ticked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OfferForm {
    // Step 1: name & expiry
    pub name: String,
    pub pos_code: String,
    pub expiry_type: String,
    pub expires_on: String,
    // Step 2: discount
    pub discount_type: String,
    pub discount_value: String,
    pub discount_cap: String,
    pub applies_to: String,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    pub include_sale: String,
    // Step 3: coupon details
    pub delivery: String,
    pub generation: String,
    pub code_length: String,
    pub code_charset: String,
    pub code_prefix: String,
    pub common_code: String,
    pub sample_code: String,
    pub upload_with_customers: String,
    pub specific_customers_only: String,
    pub coupon_expiry: String,
    pub coupon_expiry_n: String,
    // Step 4: advanced settings — issual & reminders
    pub past_issual_offers: Vec<String>,
    pub max_per_customer: String,
    pub min_issual_gap_days: String,
    pub total_issual_cap: String,
    pub resend_text: String,
    pub reminder_days: Vec<String>,
    pub reminder_channel: Vec<String>,
    pub reminder_text: Vec<String>,
    // redemption
    pub anyone_can_redeem: String,
    pub redemption_start: String,
    pub redemption_start_days: String,
    pub redemption_start_date: String,
    pub multiple_redemption: String,
    pub max_redemptions_per_customer: String,
    pub redemption_gap_days: String,
    pub stores: Vec<String>,
    pub tills: Vec<String>,
    pub zones: Vec<String>,
    pub concepts: Vec<String>,
    pub min_bill: String,
    pub max_bill: String,
    pub weekdays: Vec<String>,
    pub dates: String,
    pub time_slots: String,
    pub total_redemption_cap: String,
    // offer expiry reminder
    pub poc_reminder: String,
    pub poc_ids: Vec<String>,
    pub poc_reminder_days: String,
    // Edit only: the offer (series) code, generated at creation.
    pub offer_code: String,
}

/// The wizard's sections, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    NameExpiry,
    Discount,
    Coupons,
    Advanced,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::NameExpiry,
        Step::Discount,
        Step::Coupons,
        Step::Advanced,
    ];

    pub fn number(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    pub fn from_number(n: usize) -> Option<Step> {
        Self::ALL.get(n.checked_sub(1)?).copied()
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::NameExpiry => "Offer name & expiry",
            Step::Discount => "Discount details",
            Step::Coupons => "Coupon details",
            Step::Advanced => "Advanced settings",
        }
    }

    /// The form fields this step owns.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Step::NameExpiry => &["name", "pos_code", "expiry_type", "expires_on"],
            Step::Discount => &[
                "discount_type",
                "discount_value",
                "discount_cap",
                "applies_to",
                "categories",
                "brands",
                "include_sale",
            ],
            Step::Coupons => &[
                "delivery",
                "generation",
                "code_length",
                "code_charset",
                "code_prefix",
                "common_code",
                "sample_code",
                "upload_with_customers",
                "specific_customers_only",
                "coupon_expiry",
                "coupon_expiry_n",
            ],
            Step::Advanced => &[
                "past_issual_offers",
                "max_per_customer",
                "min_issual_gap_days",
                "total_issual_cap",
                "resend_text",
                "reminders",
                "anyone_can_redeem",
                "redemption_start",
                "redemption_start_days",
                "redemption_start_date",
                "multiple_redemption",
                "max_redemptions_per_customer",
                "redemption_gap_days",
                "scope",
                "min_bill",
                "max_bill",
                "weekdays",
                "dates",
                "time_slots",
                "total_redemption_cap",
                "poc_reminder",
                "poc_ids",
                "poc_reminder_days",
            ],
        }
    }

    /// The step whose fields include `field`.
    pub fn of_field(field: &str) -> Step {
        Self::ALL
            .into_iter()
            .find(|s| s.fields().contains(&field))
            .unwrap_or(Step::NameExpiry)
    }
}

impl OfferForm {
    /// A form with the choices most offers start from.
    pub fn defaults() -> OfferForm {
        OfferForm {
            expiry_type: "fixed".into(),
            discount_type: "PERC".into(),
            applies_to: "all".into(),
            delivery: "system".into(),
            generation: "unique".into(),
            code_length: "10".into(),
            code_charset: "unambiguous".into(),
            coupon_expiry: "offer".into(),
            redemption_start: "issue".into(),
            poc_reminder_days: "3".into(),
            ..OfferForm::default()
        }
    }

    /// Copies into `self` the fields of `step` from `posted` (a step's form posts only its own
    /// fields; unticked checkboxes are absent and so become "").
    pub fn merge_step(&mut self, step: Step, posted: OfferForm) {
        let p = posted;
        match step {
            Step::NameExpiry => {
                self.name = p.name;
                self.pos_code = p.pos_code;
                self.expiry_type = p.expiry_type;
                self.expires_on = p.expires_on;
            }
            Step::Discount => {
                self.discount_type = p.discount_type;
                self.discount_value = p.discount_value;
                self.discount_cap = p.discount_cap;
                self.applies_to = p.applies_to;
                self.categories = p.categories;
                self.brands = p.brands;
                self.include_sale = p.include_sale;
            }
            Step::Coupons => {
                self.delivery = p.delivery;
                self.generation = p.generation;
                self.code_length = p.code_length;
                self.code_charset = p.code_charset;
                self.code_prefix = p.code_prefix;
                self.common_code = p.common_code;
                self.sample_code = p.sample_code;
                self.upload_with_customers = p.upload_with_customers;
                self.specific_customers_only = p.specific_customers_only;
                self.coupon_expiry = p.coupon_expiry;
                self.coupon_expiry_n = p.coupon_expiry_n;
            }
            Step::Advanced => {
                // Everything the earlier steps own is kept; the rest comes from `posted`.
                let kept = std::mem::replace(self, p);
                for earlier in [Step::NameExpiry, Step::Discount, Step::Coupons] {
                    self.merge_step(earlier, kept.clone());
                }
            }
        }
    }

    /// Whether `id` is chosen in the multi-select `field` (templates).
    pub fn selected(&self, field: &str, id: &i64) -> bool {
        let list = match field {
            "categories" => &self.categories,
            "brands" => &self.brands,
            "stores" => &self.stores,
            "tills" => &self.tills,
            "zones" => &self.zones,
            "concepts" => &self.concepts,
            "poc_ids" => &self.poc_ids,
            "past_issual_offers" => &self.past_issual_offers,
            _ => return false,
        };
        list.iter().any(|v| v.trim() == id.to_string())
    }

    /// The customer-reminder rows to show: those filled in plus empty ones, at least three.
    pub fn reminder_rows(&self) -> Vec<(String, String, String)> {
        let n = self.reminder_days.len().max(self.reminder_text.len());
        let get = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
        let mut rows: Vec<(String, String, String)> = (0..n)
            .map(|i| {
                (
                    get(&self.reminder_days, i),
                    get(&self.reminder_channel, i),
                    get(&self.reminder_text, i),
                )
            })
            .filter(|(d, _, t)| !d.trim().is_empty() || !t.trim().is_empty())
            .collect();
        while rows.len() < 3 {
            rows.push((String::new(), "sms".into(), String::new()));
        }
        rows
    }

    /// The weekday checkboxes (key, label), Monday first.
    pub fn weekday_names(&self) -> &'static [(&'static str, &'static str)] {
        &WEEKDAY_NAMES
    }

    /// Adds a store, till, zone or concept to the redemption restriction (once).
    pub fn add_scope(&mut self, kind: ScopeKind, id: i64) {
        let list = match kind {
            ScopeKind::Store => &mut self.stores,
            ScopeKind::Till => &mut self.tills,
            ScopeKind::Zone => &mut self.zones,
            ScopeKind::Concept => &mut self.concepts,
        };
        let id = id.to_string();
        if !list.contains(&id) {
            list.push(id);
        }
    }

    /// Whether the weekday `key` (mon…sun) is ticked.
    pub fn has_weekday(&self, key: &str) -> bool {
        self.weekdays.iter().any(|w| w == key)
    }

    pub fn is_on(v: &str) -> bool {
        matches!(v, "on" | "true" | "1" | "yes")
    }

    /// The form that shows `rules` (for editing).
    pub fn from_rules(r: &OfferRules, digits: u32) -> OfferForm {
        let on = |b: bool| if b { "on".to_string() } else { String::new() };
        let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
        let opt64 = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        let money = |v: Option<i64>| v.map(|m| amount_input(m, digits)).unwrap_or_default();
        // Id lists in id order, so that the same choice always reads the same (audit diffs).
        let ids = |v: &[i64]| {
            let mut v = v.to_vec();
            v.sort_unstable();
            v.dedup();
            v.iter().map(|i| i.to_string()).collect::<Vec<_>>()
        };
        let mut f = OfferForm {
            name: r.name.clone(),
            pos_code: r.pos_code.clone().unwrap_or_default(),
            ..OfferForm::default()
        };
        match r.expiry {
            OfferExpiry::Fixed(d) => {
                f.expiry_type = "fixed".into();
                f.expires_on = d.to_string();
            }
            OfferExpiry::WithCampaign => f.expiry_type = "campaign".into(),
        }
        match r.discount {
            Discount::Fixed { amount } => {
                f.discount_type = "ABS".into();
                f.discount_value = amount_input(amount, digits);
            }
            Discount::Percent { basis_points, cap } => {
                f.discount_type = "PERC".into();
                f.discount_value = amount_input(basis_points, 2);
                f.discount_cap = money(cap);
            }
        }
        match &r.applicability {
            Applicability::All => f.applies_to = "all".into(),
            Applicability::Selected { categories, brands } => {
                f.applies_to = "selected".into();
                f.categories = ids(categories);
                f.brands = ids(brands);
            }
        }
        f.include_sale = on(r.include_sale_items);
        f.delivery = if r.delivery == Delivery::ThisSystem {
            "system"
        } else {
            "third_party"
        }
        .into();
        f.generation = r.generation.kind().into();
        f.code_length = "10".into();
        f.code_charset = "unambiguous".into();
        match &r.generation {
            Generation::Unique {
                length,
                charset,
                prefix,
            } => {
                f.code_length = length.to_string();
                f.code_charset = charset.as_str().into();
                f.code_prefix = prefix.clone();
            }
            Generation::Common { code } => f.common_code = code.clone(),
            Generation::Upload { with_customers } => f.upload_with_customers = on(*with_customers),
            Generation::Randomized { sample } => f.sample_code = sample.clone(),
        }
        f.specific_customers_only = on(r.specific_customers_only);
        match r.coupon_expiry {
            CouponExpiry::WithOffer => f.coupon_expiry = "offer".into(),
            CouponExpiry::DaysFromIssue(n) => {
                f.coupon_expiry = "days".into();
                f.coupon_expiry_n = n.to_string();
            }
            CouponExpiry::MonthEndsFromIssue(n) => {
                f.coupon_expiry = "month_ends".into();
                f.coupon_expiry_n = n.to_string();
            }
        }
        let i = &r.issual;
        f.past_issual_offers = ids(&i.past_issual_offers);
        f.max_per_customer = opt(i.max_per_customer);
        f.min_issual_gap_days = opt(i.min_gap_days);
        f.total_issual_cap = opt64(i.total_cap);
        f.resend_text = i.resend_text.clone().unwrap_or_default();
        for rem in &i.reminders {
            f.reminder_days.push(rem.days_before.to_string());
            f.reminder_channel.push(rem.channel.as_str().into());
            f.reminder_text.push(rem.text.clone());
        }
        let d = &r.redemption;
        f.anyone_can_redeem = on(d.anyone_can_redeem);
        match d.start {
            RedemptionStart::OnIssue => f.redemption_start = "issue".into(),
            RedemptionStart::DaysAfterIssue(n) => {
                f.redemption_start = "days".into();
                f.redemption_start_days = n.to_string();
            }
            RedemptionStart::OnDate(date) => {
                f.redemption_start = "date".into();
                f.redemption_start_date = date.to_string();
            }
        }
        if let Some(m) = d.multiple {
            f.multiple_redemption = "on".into();
            f.max_redemptions_per_customer = opt(m.per_customer_max);
            f.redemption_gap_days = opt(m.gap_days);
        }
        let mut scope = d.scope.clone();
        scope.sort_unstable();
        for (kind, id) in scope {
            f.add_scope(kind, id);
        }
        f.min_bill = money(d.min_bill);
        f.max_bill = money(d.max_bill);
        f.weekdays = WEEKDAY_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| d.weekdays.has(*i))
            .map(|(_, (k, _))| k.to_string())
            .collect();
        f.dates = d
            .dates
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        f.time_slots = d
            .time_slots
            .iter()
            .map(|t| t.to_text())
            .collect::<Vec<_>>()
            .join(", ");
        f.total_redemption_cap = opt64(d.total_cap);
        f.poc_reminder_days = "3".into();
        if let Some(p) = &r.poc_reminder {
            f.poc_reminder = "on".into();
            f.poc_ids = ids(&p.poc_ids);
            f.poc_reminder_days = p.days_before.to_string();
        }
        f
    }
}

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

fn count(field: &'static str, raw: &str, min: u64, max: u64) -> Result<u64, FieldError> {
    let s = raw.trim().replace(',', "");
    let n: u64 = s
        .parse()
        .map_err(|_| FieldError::new(field, "must be a whole number"))?;
    if n < min || n > max {
        return Err(FieldError::new(
            field,
            format!(
                "must be between {min} and {}",
                crate::domain::money::format_count(max as i64)
            ),
        ));
    }
    Ok(n)
}

fn optional<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

fn ids(
    field: &'static str,
    raw: &[String],
    allowed: &HashSet<i64>,
    what: &str,
) -> Result<Vec<i64>, FieldError> {
    let mut out = Vec::new();
    for r in raw.iter().filter(|r| !r.trim().is_empty()) {
        match r.trim().parse::<i64>() {
            Ok(id) if allowed.contains(&id) => {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            _ => {
                return Err(FieldError::new(
                    field,
                    format!("includes a {what} that is not in this organisation"),
                ));
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    if raw.trim().is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date (YYYY-MM-DD)"))
}

/// A code typed by a person: trimmed, upper-cased (COD-5), letters, digits, `-` and `_`.
fn code(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let s = raw.trim().to_ascii_uppercase();
    if s.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if s.len() < min || s.len() > max {
        return Err(FieldError::new(
            field,
            format!("must be {min} to {max} characters"),
        ));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FieldError::new(
            field,
            "may contain only letters, digits, '-' and '_'",
        ));
    }
    Ok(s)
}

fn time_of_day(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && h.to_string().len() <= 2 && m.to_string().len() <= 2).then_some(h * 60 + m)
}

/// Parses "16:00-18:00, 22:00-02:00" into time slots; a slot may cross midnight.
pub fn parse_time_slots(field: &'static str, raw: &str) -> Result<Vec<TimeSlot>, FieldError> {
    let mut out = Vec::new();
    for part in raw
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let bad = || {
            FieldError::new(
                field,
                format!("`{part}` must look like 16:00-18:00 (24-hour clock)"),
            )
        };
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (start, end) = (
            time_of_day(a).ok_or_else(bad)?,
            time_of_day(b).ok_or_else(bad)?,
        );
        if start == end {
            return Err(FieldError::new(
                field,
                format!("`{part}` starts and ends at the same time"),
            ));
        }
        out.push(TimeSlot { start, end });
    }
    Ok(out)
}

fn check_text(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let text = parse_name(field, raw, max)?;
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| FieldError::new(field, "has a `{` without a closing `}`"))?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(FieldError::new(
                field,
                format!(
                    "uses unknown placeholder {{{name}}}; use {{first_name}}, {{code}}, {{expiry}} or {{discount}}"
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(text)
}

/// Parses the whole form. Every problem is reported, each under its field's name.
pub fn parse(f: &OfferForm, ctx: &OfferContext) -> Result<OfferRules, FieldErrors> {
    let mut e = FieldErrors::default();
    let on = OfferForm::is_on;

    // Step 1
    let name = e.take(parse_name("name", &f.name, 120));
    let pos_code = e.take(optional(&f.pos_code, |s| code("pos_code", s, 1, 40)));
    let expiry = match f.expiry_type.as_str() {
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
    };

    // Step 2
    let discount = match f.discount_type.as_str() {
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
    };
    let applicability = match f.applies_to.as_str() {
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
    };

    // Step 3
    let delivery = match f.delivery.as_str() {
        "system" => Some(Delivery::ThisSystem),
        "third_party" => Some(Delivery::ThirdParty),
        _ => e.take(Err(FieldError::new(
            "delivery",
            "choose through this system or through a third party",
        ))),
    };
    let specific_customers_only = on(&f.specific_customers_only);
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

    // Step 4: issual & reminders
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

    // redemption
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
                Some(OfferExpiry::Fixed(end)) if d > end => Err(FieldError::new(
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

    // offer expiry reminder
    let poc_reminder = if on(&f.poc_reminder) {
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
    };

    if !e.is_empty() {
        return Err(e);
    }
    // Every `take` above succeeded, so each value is present.
    let built = (|| {
        Some(OfferRules {
            name: name?,
            pos_code: pos_code?,
            expiry: expiry?,
            discount: discount?,
            applicability: applicability?,
            include_sale_items: on(&f.include_sale),
            delivery: delivery?,
            generation: generation?,
            specific_customers_only,
            coupon_expiry: coupon_expiry?,
            issual: IssualRules {
                past_issual_offers: past_issual_offers?,
                max_per_customer: max_per_customer?,
                min_gap_days: min_gap_days?,
                total_cap: total_issual_cap?,
                resend_text: resend_text?,
                reminders,
            },
            redemption: RedemptionRules {
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
            },
            poc_reminder: poc_reminder?,
        })
    })();
    built.ok_or_else(|| {
        let mut e = FieldErrors::default();
        e.push("name", "the form could not be read");
        e
    })
}
