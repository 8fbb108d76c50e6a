//! The promotion wizard's form: every input as typed (strings), the step each one is on, the
//! problems found with them, and the form of a stored promotion for editing. The wizard keeps
//! its state in the form itself: each step posts its own inputs and the other steps' as hidden
//! fields, so going back and forth loses nothing and nothing is stored before "Save".

use crate::domain::money::{amount_input, format_percent};
use crate::domain::promotion::{
    Benefit, Condition, Criteria, Kind, MAX_PRODUCT_CONDITIONS, Period, ProductFilter, ProductSet,
    Promotion, Recurrence, Stacking, Target, Value,
};
use chrono::Weekday;
use chrono_tz::Tz;
use std::collections::HashMap;

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Basics = 1,
    /// What earns an earned promotion, how long and how often one is held, its messages
    /// (earned and reward promotions; the others have nothing to set there).
    Earning = 2,
    Eligibility = 3,
    Conditions = 4,
    Benefit = 5,
    Limits = 6,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Basics,
        Step::Earning,
        Step::Eligibility,
        Step::Conditions,
        Step::Benefit,
        Step::Limits,
    ];

    pub fn number(self) -> usize {
        self as usize
    }

    pub fn from_number(n: usize) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.number() == n)
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Basics => "Basics",
            Step::Earning => "Earning",
            Step::Eligibility => "Eligibility",
            Step::Conditions => "Conditions",
            Step::Benefit => "Benefit",
            Step::Limits => "Stacking & limits",
        }
    }
}

macro_rules! promotion_form {
    ($($step:ident: $($name:ident),+;)*) => {
        /// Every input of the wizard, as typed.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct PromotionForm { $($(pub $name: String,)+)* }

        impl PromotionForm {
            /// Every input with its step, in wizard order.
            pub const FIELDS: &[(&'static str, Step)] =
                &[$($((stringify!($name), Step::$step),)+)*];

            /// The value of the input `name` ("" for an unknown name).
            pub fn value(&self, name: &str) -> &str {
                match name { $($(stringify!($name) => &self.$name,)+)* _ => "" }
            }

            fn value_mut(&mut self, name: &str) -> Option<&mut String> {
                match name { $($(stringify!($name) => Some(&mut self.$name),)+)* _ => None }
            }
        }
    };
}

promotion_form! {
    Basics: name, kind, codes, starts, ends;
    Earning: earn_type, earn_event, earn_custom, earn_min, earn_attributes, ms_measure, ms_target,
        ms_window, window_days, max_per_customer, h_reset, h_reset_n, h_reset_weekday,
        h_reset_anchor, msg_channel, msg_earning, msg_reminder_days, msg_reminder_text;
    Eligibility: stores, zones, day_mon, day_tue, day_wed, day_thu, day_fri, day_sat, day_sun,
        hours, tiers, segments;
    Conditions: cart_amount, distinct_items, voucher_codes, payment_modes,
        p1_measure, p1_at_least, p1_inc_skus, p1_inc_brands, p1_inc_categories,
        p1_inc_attributes, p1_exc_skus, p1_exc_brands, p1_exc_categories, p1_exc_attributes,
        p2_measure, p2_at_least, p2_inc_skus, p2_inc_brands, p2_inc_categories,
        p2_inc_attributes, p2_exc_skus, p2_exc_brands, p2_exc_categories, p2_exc_attributes,
        p3_measure, p3_at_least, p3_inc_skus, p3_inc_brands, p3_inc_categories,
        p3_inc_attributes, p3_exc_skus, p3_exc_brands, p3_exc_categories, p3_exc_attributes,
        p4_measure, p4_at_least, p4_inc_skus, p4_inc_brands, p4_inc_categories,
        p4_inc_attributes, p4_exc_skus, p4_exc_brands, p4_exc_categories, p4_exc_attributes;
    Benefit: target, criteria, crit_sku, crit_skus, b_inc_skus, b_inc_brands, b_inc_categories,
        b_inc_attributes, b_exc_skus, b_exc_brands, b_exc_categories, b_exc_attributes,
        reward_quantity, value_type, value, recurrence, recur_every;
    Limits: stacking, per_cart, global_uses, g_reset, g_reset_n, g_reset_weekday,
        g_reset_anchor, customer_uses, customer_value, c_reset, c_reset_n, c_reset_weekday,
        c_reset_anchor;
}

/// The product condition slots of the Conditions step, in order: one per product condition a
/// promotion may have. Each slot's inputs are `{slot}_{part}` for every part of `SLOT_PARTS`
/// (listed in `promotion_form!`; a test checks that every one is there).
pub const PRODUCT_SLOTS: [&str; MAX_PRODUCT_CONDITIONS] = ["p1", "p2", "p3", "p4"];

/// The inputs of a product condition slot, after its prefix.
pub const SLOT_PARTS: [&str; 10] = [
    "measure",
    "at_least",
    "inc_skus",
    "inc_brands",
    "inc_categories",
    "inc_attributes",
    "exc_skus",
    "exc_brands",
    "exc_categories",
    "exc_attributes",
];

/// A product condition slot on the Conditions step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotView {
    pub prefix: &'static str,
    /// 1 for `p1` …
    pub n: usize,
    /// "second" (the summary that opens it: "Add a second product condition").
    pub ordinal: &'static str,
    /// Whether it, or a slot after it, has anything typed in it.
    pub open: bool,
}

/// The earning step's inputs that are redemption restrictions: shown, not edited, once the
/// promotion has been live (seed 003).
pub const FROZEN_HOLDING: [&str; 6] = [
    "window_days",
    "max_per_customer",
    "h_reset",
    "h_reset_n",
    "h_reset_weekday",
    "h_reset_anchor",
];

/// The weekday inputs, Monday first, with their labels.
pub const DAYS: [(&str, &str, Weekday); 7] = [
    ("day_mon", "Mon", Weekday::Mon),
    ("day_tue", "Tue", Weekday::Tue),
    ("day_wed", "Wed", Weekday::Wed),
    ("day_thu", "Thu", Weekday::Thu),
    ("day_fri", "Fri", Weekday::Fri),
    ("day_sat", "Sat", Weekday::Sat),
    ("day_sun", "Sun", Weekday::Sun),
];

/// The weekday choices of a reset period (value, label).
pub const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// One problem with the form: the step, the input (or area) it is about, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub step: Step,
    pub field: String,
    pub message: String,
}

/// Every problem found with a form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, step: Step, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            step,
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems of one step only.
    pub fn of_step(&self, step: Step) -> Problems {
        Problems(self.0.iter().filter(|p| p.step == step).cloned().collect())
    }

    /// The first step with a problem.
    pub fn first_step(&self) -> Option<Step> {
        self.0.iter().map(|p| p.step).min()
    }

    /// The message about `field`, or "" (templates print it unconditionally).
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
            .unwrap_or("")
    }

    /// The message about `{prefix}_{suffix}` (a product filter's input), or "".
    pub fn part(&self, prefix: &str, suffix: &str) -> &str {
        self.get(&format!("{prefix}_{suffix}"))
    }
}

impl PromotionForm {
    /// A new promotion: automatic, from today, a percentage off, stackable; were it earned,
    /// by a single transaction, messages to the customer's preferred channel.
    pub fn defaults(today: chrono::NaiveDate) -> PromotionForm {
        PromotionForm {
            kind: "automatic".into(),
            starts: today.to_string(),
            target: "cart".into(),
            criteria: "filter".into(),
            value_type: "percent".into(),
            stacking: "stackable".into(),
            ..PromotionForm::earning_defaults()
        }
    }

    /// The earning step's choices as a new promotion has them.
    fn earning_defaults() -> PromotionForm {
        PromotionForm {
            earn_type: "single".into(),
            earn_event: "transaction".into(),
            ms_measure: "count".into(),
            ms_window: "life".into(),
            msg_channel: "preferred".into(),
            ..PromotionForm::default()
        }
    }

    /// The form as posted: known inputs only, the others left empty.
    pub fn from_fields(fields: &HashMap<String, String>) -> PromotionForm {
        let mut f = PromotionForm::default();
        for (name, value) in fields {
            if let Some(slot) = f.value_mut(name) {
                *slot = value.clone();
            }
        }
        f
    }

    /// The value of a product filter's input `{prefix}_{suffix}` (`p1`, `inc_skus`).
    pub fn part(&self, prefix: &str, suffix: &str) -> &str {
        self.value(&format!("{prefix}_{suffix}"))
    }

    /// Adds SKUs (from an uploaded CSV) to the list input `name`.
    pub fn add_skus(&mut self, name: &str, skus: &[String]) {
        if let Some(slot) = self.value_mut(name) {
            let mut all: Vec<String> = split_list(slot);
            for s in skus {
                if !all.contains(s) {
                    all.push(s.clone());
                }
            }
            *slot = all.join(", ");
        }
    }

    /// The inputs of every step but `shown` (carried as hidden fields); all of them for the
    /// preview (`None`). `frozen` inputs are always carried hidden: the page shows them as text.
    pub fn hidden(&self, shown: Option<Step>, frozen: bool) -> Vec<(&'static str, &str)> {
        Self::FIELDS
            .iter()
            .filter(|(name, step)| {
                let on_page = Some(*step) == shown;
                let frozen_limit = frozen
                    && ((*step == Step::Limits && *name != "stacking")
                        || FROZEN_HOLDING.contains(name));
                !on_page || frozen_limit
            })
            .map(|(name, _)| (*name, self.value(name)))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Whether the weekday input `name` is ticked.
    pub fn day(&self, name: &str) -> bool {
        self.value(name) == "on"
    }

    /// Whether a product condition slot (`p1` …) has anything typed in it.
    pub fn slot_used(&self, prefix: &str) -> bool {
        SLOT_PARTS
            .iter()
            .any(|s| !self.part(prefix, s).trim().is_empty())
    }

    /// The product condition slots as the Conditions step shows them: each after the first
    /// is folded inside the one before it, and open when it or a later one is used.
    pub fn product_slots(&self) -> Vec<SlotView> {
        const ORDINALS: [&str; MAX_PRODUCT_CONDITIONS] = ["first", "second", "third", "fourth"];
        PRODUCT_SLOTS
            .iter()
            .zip(ORDINALS)
            .enumerate()
            .map(|(i, (prefix, ordinal))| SlotView {
                prefix,
                n: i + 1,
                ordinal,
                open: PRODUCT_SLOTS[i..].iter().any(|p| self.slot_used(p)),
            })
            .collect()
    }
}

/// A list typed by a person: items separated by commas, semicolons or new lines, trimmed,
/// blanks and repeats dropped (order kept).
pub fn split_list(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in raw.split([',', ';', '\n', '\r', '\t']) {
        let item = item.trim();
        if !item.is_empty() && !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

/// Why a stored promotion cannot be shown in the form (it came from the API with a shape the
/// form has no inputs for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInForm(pub String);

fn names<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut v: Vec<&str> = items.into_iter().collect();
    v.sort_unstable();
    v.join(", ")
}

fn attributes_text(set: &ProductSet) -> String {
    set.attributes
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn set_filter(f: &mut PromotionForm, prefix: &str, filter: &ProductFilter) {
    for (side, set) in [("inc", &filter.include), ("exc", &filter.exclude)] {
        for (suffix, text) in [
            ("skus", names(set.skus.iter())),
            ("brands", names(set.brands.iter())),
            ("categories", names(set.categories.iter())),
            ("attributes", attributes_text(set)),
        ] {
            if let Some(slot) = f.value_mut(&format!("{prefix}_{side}_{suffix}")) {
                *slot = text;
            }
        }
    }
}

pub(super) fn set_period(f: &mut PromotionForm, prefix: &str, period: Option<Period>) {
    let Some(p) = period else { return };
    let (kind, n, weekday, anchor) = match p {
        Period::EveryDays { days, anchor } => ("every_days", days, None, Some(anchor)),
        Period::EveryWeeks {
            weeks,
            weekday,
            anchor,
        } => ("every_weeks", weeks, Some(weekday), Some(anchor)),
        Period::CalendarMonth => ("calendar_month", 0, None, None),
        Period::LastDays { days } => ("last_days", days, None, None),
        Period::LastWeeks { weeks } => ("last_weeks", weeks, None, None),
    };
    let put = |f: &mut PromotionForm, suffix: &str, v: String| {
        if let Some(slot) = f.value_mut(&format!("{prefix}{suffix}")) {
            *slot = v;
        }
    };
    put(f, "", kind.into());
    if n > 0 {
        put(f, "_n", n.to_string());
    }
    if let Some(d) = weekday {
        put(
            f,
            "_weekday",
            WEEKDAYS[d.num_days_from_monday() as usize].0.into(),
        );
    }
    if let Some(a) = anchor {
        put(f, "_anchor", a.to_string());
    }
}

pub(super) fn opt(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl PromotionForm {
    /// The form showing a stored promotion, for editing.
    pub fn of_promotion(p: &Promotion, tz: Tz, digits: u32) -> Result<PromotionForm, NotInForm> {
        let money = |m: i64| amount_input(m, digits);
        let mut f = PromotionForm {
            name: p.name.clone(),
            starts: p
                .validity
                .starts
                .with_timezone(&tz)
                .date_naive()
                .to_string(),
            ends: p
                .validity
                .last_day(tz)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            ..PromotionForm::earning_defaults()
        };
        super::earning::set_holding(&mut f, &p.holding, digits)?;
        f.kind = match &p.kind {
            Kind::Automatic => "automatic".into(),
            Kind::CodeLinked { codes } => {
                f.codes = codes.join(", ");
                "code".into()
            }
            Kind::Earned => "earned".into(),
            Kind::Reward => "reward".into(),
        };
        let e = &p.eligibility;
        f.stores = e.stores.join(", ");
        f.zones = e.zones.join(", ");
        for (name, _, day) in DAYS {
            if !e.weekdays.is_every_day() && e.weekdays.has(day) {
                *f.value_mut(name).expect("a day input") = "on".into();
            }
        }
        f.hours = e
            .hours
            .iter()
            .map(|w| {
                let t = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
                format!("{}–{}", t(w.start), t(w.end))
            })
            .collect::<Vec<_>>()
            .join(", ");
        f.tiers = e.tiers.join(", ");
        f.segments = e.segments.join(", ");
        let mut slots = PRODUCT_SLOTS.into_iter();
        for c in &p.conditions {
            match c {
                Condition::CartAmount { at_least } => f.cart_amount = money(*at_least),
                Condition::DistinctItems { at_least } => f.distinct_items = at_least.to_string(),
                Condition::GiftVoucher { codes } => f.voucher_codes = codes.join(", "),
                Condition::PaymentMode { modes } => f.payment_modes = modes.join(", "),
                Condition::ProductAmount { products, at_least }
                | Condition::ProductQuantity { products, at_least } => {
                    let Some(prefix) = slots.next() else {
                        let n = p
                            .conditions
                            .iter()
                            .filter(|c| c.products().is_some())
                            .count();
                        return Err(NotInForm(format!(
                            "it has {n} product conditions, more than the \
                             {MAX_PRODUCT_CONDITIONS} a promotion may have now (it was made \
                             through the API before that limit); give it at most \
                             {MAX_PRODUCT_CONDITIONS} through the API"
                        )));
                    };
                    let amount = matches!(c, Condition::ProductAmount { .. });
                    let (measure, value) = if amount {
                        ("amount", money(*at_least))
                    } else {
                        ("quantity", at_least.to_string())
                    };
                    *f.value_mut(&format!("{prefix}_measure")).expect("slot") = measure.into();
                    *f.value_mut(&format!("{prefix}_at_least")).expect("slot") = value;
                    set_filter(&mut f, prefix, products);
                }
            }
        }
        set_benefit(&mut f, &p.benefit, digits);
        f.stacking = match p.stacking {
            Stacking::Exclusive => "exclusive",
            Stacking::Stackable => "stackable",
        }
        .into();
        let l = &p.limits;
        f.per_cart = opt(l.per_cart);
        f.global_uses = opt(l.global_uses);
        f.customer_uses = opt(l.customer_uses);
        f.customer_value = l.customer_value.map(money).unwrap_or_default();
        set_period(&mut f, "g_reset", l.global_reset);
        set_period(&mut f, "c_reset", l.customer_reset);
        Ok(f)
    }
}

fn set_benefit(f: &mut PromotionForm, b: &Benefit, digits: u32) {
    let money = |m: i64| amount_input(m, digits);
    f.criteria = "filter".into();
    f.target = match &b.target {
        Target::Cart => "cart".into(),
        Target::ConditionItems => "condition".into(),
        Target::Products { criteria, quantity } => {
            f.reward_quantity = opt(*quantity);
            match criteria {
                Criteria::Sku { sku } => {
                    f.criteria = "sku".into();
                    f.crit_sku = sku.clone();
                }
                Criteria::AllOf { skus } => {
                    f.criteria = "allof".into();
                    f.crit_skus = skus.iter().cloned().collect::<Vec<_>>().join(", ");
                }
                Criteria::Filter { products } => set_filter(f, "b", products),
            }
            "products".into()
        }
    };
    let (kind, value) = match b.value {
        Value::Amount { amount } => ("amount", money(amount)),
        Value::Percent { basis_points } => (
            "percent",
            format_percent(basis_points)
                .trim_end_matches('%')
                .to_string(),
        ),
        Value::Free => ("free", String::new()),
        Value::FixedPrice { price } => ("bundle", money(price)),
    };
    f.value_type = kind.into();
    f.value = value;
    match b.recurrence {
        Some(Recurrence::Items { every }) => {
            f.recurrence = "items".into();
            f.recur_every = every.to_string();
        }
        Some(Recurrence::Amount { every }) => {
            f.recurrence = "amount".into();
            f.recur_every = money(every);
        }
        None => {}
    }
}
