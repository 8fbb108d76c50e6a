//! Whether a promotion's shape is one the seed allows, with errors keyed by the field a
//! wizard step or a JSON body names; and which limits an edit of a live promotion changes.

use super::benefit::MAX_APPLICATIONS;
use super::model::{Condition, Kind, Limits, Promotion, Recurrence, Target, Value};
use super::period::Period;
use super::products::Criteria;
use std::fmt;

/// The most product conditions (amount or quantity of selected products) one promotion may
/// combine; the console's wizard has as many slots.
pub const MAX_PRODUCT_CONDITIONS: usize = 4;

macro_rules! promotion_fields {
    ($($field:ident => $api:literal;)*) => {
        /// A field of a promotion: the key of its errors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PromotionField { $($field),* }

        impl PromotionField {
            /// Every field, in wizard order.
            pub const ALL: &[PromotionField] = &[$(PromotionField::$field),*];

            /// The name in the JSON API's body (`customerValue`).
            pub fn api(self) -> &'static str {
                match self { $(PromotionField::$field => $api),* }
            }
        }
    };
}

promotion_fields! {
    Name => "name";
    Holding => "holding";
    Codes => "codes";
    Validity => "validity";
    Stores => "stores";
    Hours => "hours";
    Weekdays => "weekdays";
    Customers => "customers";
    Conditions => "conditions";
    Target => "target";
    Criteria => "criteria";
    RewardQuantity => "quantity";
    Value => "value";
    Recurrence => "recurrence";
    PerCart => "perCart";
    GlobalUses => "globalUses";
    GlobalReset => "globalReset";
    CustomerUses => "customerUses";
    CustomerValue => "customerValue";
    CustomerReset => "customerReset";
}

impl fmt::Display for PromotionField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api())
    }
}

/// One problem with a promotion: which field, and a message a person understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionError {
    pub field: PromotionField,
    pub message: String,
}

/// All the problems of one promotion, in field order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PromotionErrors(pub Vec<PromotionError>);

impl PromotionErrors {
    fn push(&mut self, field: PromotionField, message: impl Into<String>) {
        self.0.push(PromotionError {
            field,
            message: message.into(),
        });
    }

    /// The first message about `field`, if any.
    pub fn of(&self, field: PromotionField) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl fmt::Display for PromotionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{} {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for PromotionErrors {}

/// What a condition is called in messages.
fn condition_name(c: &Condition) -> &'static str {
    match c {
        Condition::CartAmount { .. } => "a cart amount condition",
        Condition::DistinctItems { .. } => "a count of items condition",
        Condition::ProductAmount { .. } => "a product amount condition",
        Condition::ProductQuantity { .. } => "a product quantity condition",
        Condition::PaymentMode { .. } => "a payment mode condition",
        Condition::GiftVoucher { .. } => "a gift voucher condition",
    }
}

fn period_problem(p: &Period) -> Option<&'static str> {
    match *p {
        Period::EveryDays { days, .. } | Period::LastDays { days }
            if !(1..=3660).contains(&days) =>
        {
            Some("must count between 1 and 3660 days")
        }
        Period::EveryWeeks { weeks, .. } | Period::LastWeeks { weeks }
            if !(1..=520).contains(&weeks) =>
        {
            Some("must count between 1 and 520 weeks")
        }
        _ => None,
    }
}

fn code_problem(code: &str) -> Option<&'static str> {
    let c = code.trim();
    if c.is_empty() || c.len() > 40 {
        Some("each code must have 1 to 40 characters")
    } else if !c
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        Some("codes may contain only letters, digits, - and _")
    } else {
        None
    }
}

impl Promotion {
    /// Every problem with the promotion's shape, keyed by field; Ok when the seed allows it.
    pub fn validate(&self) -> Result<(), PromotionErrors> {
        use PromotionField as F;
        let mut e = PromotionErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            e.push(F::Name, "is required");
        } else if name.chars().count() > 120 || name.chars().any(char::is_control) {
            e.push(F::Name, "must be at most 120 characters on one line");
        }
        if let Kind::CodeLinked { codes } = &self.kind {
            if codes.is_empty() {
                e.push(F::Codes, "a code-linked promotion needs at least one code");
            }
            if let Some(problem) = codes.iter().find_map(|c| code_problem(c)) {
                e.push(F::Codes, problem);
            }
            let dup = codes.iter().enumerate().any(|(i, a)| {
                codes[..i]
                    .iter()
                    .any(|b| a.trim().eq_ignore_ascii_case(b.trim()))
            });
            if dup {
                e.push(F::Codes, "each code may appear once");
            }
        }
        if let Some(problem) = holding_problem(&self.kind, &self.holding) {
            e.push(F::Holding, problem);
        }
        if self
            .validity
            .ends
            .is_some_and(|end| end <= self.validity.starts)
        {
            e.push(F::Validity, "must end after it starts");
        }
        let el = &self.eligibility;
        if el
            .stores
            .iter()
            .chain(&el.zones)
            .any(|s| s.trim().is_empty())
        {
            e.push(F::Stores, "store and zone codes must not be blank");
        }
        if el.hours.iter().any(|w| w.start >= 1440 || w.end >= 1440) {
            e.push(F::Hours, "times must be between 00:00 and 23:59");
        } else if el.hours.iter().any(|w| w.start == w.end) {
            e.push(
                F::Hours,
                "a time window must end at another time than it starts",
            );
        }
        if el.weekdays.0 & 0x80 != 0 {
            e.push(F::Weekdays, "names an unknown day");
        }
        if el
            .tiers
            .iter()
            .chain(&el.segments)
            .any(|s| s.trim().is_empty())
        {
            e.push(F::Customers, "tiers and segments must not be blank");
        }
        self.check_conditions(&mut e);
        self.check_benefit(&mut e);
        check_limits(&self.limits, &mut e);
        e.0.sort_by_key(|x| x.field);
        if e.0.is_empty() { Ok(()) } else { Err(e) }
    }

    fn check_conditions(&self, e: &mut PromotionErrors) {
        let conditions = &self.conditions;
        if conditions.len() > 1
            && let Some(alone) = conditions.iter().find(|c| c.is_standalone_only())
        {
            e.push(
                PromotionField::Conditions,
                format!(
                    "{} is standalone only: it cannot be combined with other conditions",
                    condition_name(alone)
                ),
            );
        }
        let products = conditions.iter().filter(|c| c.products().is_some()).count();
        if products > MAX_PRODUCT_CONDITIONS {
            e.push(
                PromotionField::Conditions,
                format!(
                    "must have at most {MAX_PRODUCT_CONDITIONS} product conditions (it has \
                     {products})"
                ),
            );
        }
        let modes = conditions
            .iter()
            .filter(|c| matches!(c, Condition::PaymentMode { .. }))
            .count();
        if modes > 1 {
            e.push(
                PromotionField::Conditions,
                "the payment mode can be set once",
            );
        }
        for (i, c) in conditions.iter().enumerate() {
            let n = i + 1;
            let problem = match c {
                Condition::CartAmount { at_least }
                | Condition::DistinctItems { at_least }
                | Condition::ProductAmount { at_least, .. }
                | Condition::ProductQuantity { at_least, .. }
                    if *at_least <= 0 =>
                {
                    Some("must have a threshold more than zero")
                }
                Condition::ProductAmount { products, .. }
                | Condition::ProductQuantity { products, .. }
                    if !products.selects() =>
                {
                    Some("must select products to include or exclude")
                }
                Condition::PaymentMode { modes } if modes.iter().all(|m| m.trim().is_empty()) => {
                    Some("must name a payment mode")
                }
                Condition::GiftVoucher { codes } if codes.iter().all(|m| m.trim().is_empty()) => {
                    Some("must name a gift voucher")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                e.push(
                    PromotionField::Conditions,
                    format!("condition {n} {problem}"),
                );
            }
        }
    }

    fn check_benefit(&self, e: &mut PromotionErrors) {
        use PromotionField as F;
        let b = &self.benefit;
        let has_quantity_condition = self
            .conditions
            .iter()
            .any(|c| matches!(c, Condition::ProductQuantity { .. }));
        match b.value {
            Value::Amount { amount } if amount <= 0 => {
                e.push(F::Value, "the amount off must be more than zero")
            }
            Value::Percent { basis_points } if !(1..=10_000).contains(&basis_points) => e.push(
                F::Value,
                "the percentage must be more than 0 and at most 100",
            ),
            Value::FixedPrice { price } if price < 0 => {
                e.push(F::Value, "the bundle price must not be negative")
            }
            _ => {}
        }
        match (&b.target, b.value) {
            (Target::Cart, Value::Free) | (Target::ConditionItems, Value::Free) => e.push(
                F::Value,
                "a free product is given over and above the condition, to a chosen SKU",
            ),
            (Target::Cart, Value::FixedPrice { .. }) => {
                e.push(F::Value, "a bundle price applies to selected products")
            }
            (Target::ConditionItems, Value::FixedPrice { .. })
                if !has_quantity_condition
                    && !matches!(b.recurrence, Some(Recurrence::Items { .. })) =>
            {
                e.push(
                    F::Value,
                    "a bundle price needs the bundle size: a product quantity condition or a \
                     recurrence per items",
                )
            }
            (Target::Products { quantity: None, .. }, Value::FixedPrice { .. } | Value::Free) => e
                .push(
                    F::RewardQuantity,
                    "how many units each application rewards is required for a free product or \
                     a bundle price",
                ),
            _ => {}
        }
        if b.target == Target::ConditionItems
            && !self.conditions.iter().any(|c| c.products().is_some())
        {
            e.push(
                F::Target,
                "\"selected in condition\" needs a condition on selected products",
            );
        }
        if let Target::Products { criteria, quantity } = &b.target {
            let problem = match criteria {
                Criteria::Sku { sku } if sku.trim().is_empty() => Some("the SKU is required"),
                Criteria::AllOf { skus }
                    if skus.iter().filter(|s| !s.trim().is_empty()).count() < 2 =>
                {
                    Some("name at least two SKUs that must be bought together")
                }
                Criteria::Filter { products } if !products.selects() => {
                    Some("must select products to include or exclude")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                e.push(F::Criteria, problem);
            }
            if quantity.is_some_and(|q| q <= 0) {
                e.push(F::RewardQuantity, "must be at least 1");
            }
        }
        match (b.recurrence, b.value, &b.target) {
            (Some(Recurrence::Items { every } | Recurrence::Amount { every }), _, _)
                if every <= 0 =>
            {
                e.push(F::Recurrence, "the step must be more than zero")
            }
            (
                Some(Recurrence::Amount { .. }),
                Value::Percent { .. } | Value::FixedPrice { .. },
                _,
            ) => e.push(
                F::Recurrence,
                "a percentage or a bundle price cannot repeat per amount spent",
            ),
            (Some(_), Value::Percent { .. }, Target::Cart) => e.push(
                F::Recurrence,
                "a percentage of the whole cart cannot repeat",
            ),
            _ => {}
        }
    }

    /// The limit fields an edit changes. The seed makes redemption restrictions immutable
    /// once a promotion is live: the caller refuses an edit of a live promotion when this is
    /// not empty.
    pub fn limit_changes(&self, edited: &Promotion) -> Vec<PromotionField> {
        use PromotionField as F;
        let (a, b) = (&self.limits, &edited.limits);
        [
            (F::PerCart, a.per_cart != b.per_cart),
            (F::GlobalUses, a.global_uses != b.global_uses),
            (F::GlobalReset, a.global_reset != b.global_reset),
            (F::CustomerUses, a.customer_uses != b.customer_uses),
            (F::CustomerValue, a.customer_value != b.customer_value),
            (F::CustomerReset, a.customer_reset != b.customer_reset),
        ]
        .into_iter()
        .filter_map(|(f, changed)| changed.then_some(f))
        .collect()
    }
}

fn check_limits(l: &Limits, e: &mut PromotionErrors) {
    use PromotionField as F;
    for (field, value) in [
        (F::PerCart, l.per_cart),
        (F::GlobalUses, l.global_uses),
        (F::CustomerUses, l.customer_uses),
        (F::CustomerValue, l.customer_value),
    ] {
        if value.is_some_and(|v| v <= 0) {
            e.push(field, "must be more than zero");
        }
    }
    if l.per_cart.is_some_and(|v| v > MAX_APPLICATIONS) {
        e.push(F::PerCart, "must be at most 10,000");
    }
    for (field, period, limited) in [
        (F::GlobalReset, l.global_reset, l.global_uses.is_some()),
        (F::CustomerReset, l.customer_reset, l.per_customer()),
    ] {
        let Some(period) = period else { continue };
        if !limited {
            e.push(field, "a reset period needs a limit to reset");
        } else if let Some(problem) = period_problem(&period) {
            e.push(field, problem);
        }
    }
}

/// What is wrong with an earned or reward promotion's holding, if anything: an earned one needs
/// what earns it; only earned ones are earned; windows and targets are positive.
fn holding_problem(kind: &Kind, h: &super::holding::Holding) -> Option<&'static str> {
    let earned = matches!(kind, Kind::Earned);
    match &h.earning {
        None if earned => {
            return Some("an earned promotion needs `earning`: the event that earns it");
        }
        Some(_) if !earned => return Some("only an earned promotion has `earning`"),
        Some(e) => {
            let name_ok = !e.event.is_empty()
                && e.event.len() <= 40
                && e.event
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !name_ok {
                return Some("`earning.event` must be 1 to 40 lower-case letters, digits or _");
            }
            if e.min_amount.is_some_and(|m| m < 0) || e.milestone.is_some_and(|m| m.target <= 0) {
                return Some("amounts and targets must be positive");
            }
        }
        None => {}
    }
    if h.window_days.is_some_and(|d| d == 0 || d > 3650) {
        return Some("`windowDays` must be 1 to 3650");
    }
    if h.max_per_customer == Some(0) {
        return Some("`maxPerCustomer` must be at least 1");
    }
    if let Some(reset) = &h.max_per_customer_reset {
        if h.max_per_customer.is_none() {
            return Some("`maxPerCustomerReset` needs `maxPerCustomer` to reset");
        }
        if let Some(problem) = period_problem(reset) {
            return Some(problem);
        }
    }
    let m = &h.messages;
    let holds = matches!(kind, Kind::Earned | Kind::Reward);
    if !holds && (m.on_earning.is_some() || m.reminder.is_some()) {
        return Some("only earned and reward promotions send `messages`");
    }
    if m.reminder.as_ref().is_some_and(|r| r.days_before > 365) {
        return Some("a reminder goes at most 365 days before the window ends");
    }
    if let (Some(r), Some(days)) = (&m.reminder, h.window_days)
        && r.days_before >= days
    {
        return Some("a reminder must come within the window: `daysBefore` below `windowDays`");
    }
    let texts = m
        .on_earning
        .iter()
        .chain(m.reminder.iter().map(|r| &r.text));
    texts.filter_map(|t| super::holding::text_problem(t)).next()
}
