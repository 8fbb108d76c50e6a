//! The offer form as typed by a person (every field a string, as posted), its wizard steps,
//! and the form of an existing offer. Parsing it into `OfferRules` is `parse.rs`, section by
//! section.

use super::*;
use crate::domain::money::amount_input;
use serde::{Deserialize, Serialize};

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
    /// The expiry notice: "on" when ticked, its channel (sms, email) and its text.
    pub expiry_notice: String,
    pub expiry_notice_channel: String,
    pub expiry_notice_text: String,
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
            expiry_notice_channel: "sms".into(),
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
        // The channel shows SMS while the notice is off, as a fresh form does.
        f.expiry_notice_channel = "sms".into();
        if let Some(n) = &i.expiry_notice {
            f.expiry_notice = "on".into();
            f.expiry_notice_channel = n.channel.as_str().into();
            f.expiry_notice_text = n.text.clone();
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

pub use super::fields::parse_time_slots;
pub use super::parse::{OfferContext, parse};
