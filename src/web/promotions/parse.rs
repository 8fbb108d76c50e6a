//! The wizard's form read into the engine's `Promotion`: each input parsed (amounts in the
//! org's currency digits, dates in its time zone), then the engine's own `validate()`, each of
//! its problems put on the step and input that holds the field.

use super::form::{DAYS, PRODUCT_SLOTS, Problems, PromotionForm, Step, split_list};
use super::read::{Reader, minute};
use crate::domain::money::parse_percent;
use crate::domain::promotion::{
    Benefit, Condition, Criteria, Eligibility, Kind, Limits, Period, Promotion, PromotionErrors,
    PromotionField, Recurrence, Stacking, Target, TimeWindow, Validity, Value, Weekdays,
};
use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;

/// What reading the form needs besides the form.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub tz: Tz,
    /// The org currency's minor digits.
    pub digits: u32,
    /// Today in the org's time zone (the default anchor of a reset period).
    pub today: NaiveDate,
    /// The promotion's id when editing, 0 when new.
    pub id: i64,
}

/// Where an engine field is in the wizard: its step, the input that shows its errors, and how
/// a person calls it.
pub fn place(field: PromotionField) -> (Step, &'static str, &'static str) {
    use PromotionField as F;
    match field {
        F::Name => (Step::Basics, "name", "Name"),
        F::Codes => (Step::Basics, "codes", "Codes"),
        // The input is chosen by the message (`earning::holding_input`).
        F::Holding => (Step::Earning, "holding", "Earning"),
        F::Validity => (Step::Basics, "ends", "The validity"),
        F::Stores => (Step::Eligibility, "stores", "Stores"),
        F::Hours => (Step::Eligibility, "hours", "Time windows"),
        F::Weekdays => (Step::Eligibility, "days", "Days"),
        F::Customers => (Step::Eligibility, "tiers", "Tiers and segments"),
        F::Conditions => (Step::Conditions, "conditions", "Conditions"),
        F::Target => (Step::Benefit, "target", "Applies to"),
        F::Criteria => (Step::Benefit, "criteria", "Rewarded products"),
        F::RewardQuantity => (Step::Benefit, "reward_quantity", "Units rewarded"),
        F::Value => (Step::Benefit, "value", "Value"),
        F::Recurrence => (Step::Benefit, "recur_every", "Repeat"),
        F::PerCart => (Step::Limits, "per_cart", "Times per cart"),
        F::GlobalUses => (Step::Limits, "global_uses", "Total uses"),
        F::GlobalReset => (Step::Limits, "g_reset", "The reset period"),
        F::CustomerUses => (Step::Limits, "customer_uses", "Uses per customer"),
        F::CustomerValue => (Step::Limits, "customer_value", "Discount per customer"),
        F::CustomerReset => (Step::Limits, "c_reset", "The reset period"),
    }
}

/// The engine's message as a sentence: "Name is required", "A bundle price applies to …".
fn sentence(label: &str, message: &str) -> String {
    if ["must ", "is ", "names "]
        .iter()
        .any(|p| message.starts_with(p))
    {
        format!("{label} {message}")
    } else {
        let mut c = message.chars();
        c.next()
            .map(|first| first.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }
}

/// The engine's problems, each on its step and input (`f` tells which message text a
/// placeholder problem is about).
pub fn engine_problems(errors: &PromotionErrors, f: &PromotionForm) -> Problems {
    let mut out = Problems::default();
    for e in &errors.0 {
        if e.field == PromotionField::Holding {
            let (input, message) = super::earning::holding_input(&e.message, f);
            out.push(Step::Earning, input, message);
            continue;
        }
        let (step, input, label) = place(e.field);
        out.push(step, input, sentence(label, &e.message));
    }
    out
}

/// Reads the form into a promotion, or every problem found (parse problems first; the
/// engine's `validate()` for the steps that parsed).
pub fn parse(f: &PromotionForm, ctx: &Context) -> Result<Promotion, Problems> {
    let mut r = Reader {
        f,
        ctx,
        problems: Problems::default(),
    };
    let (name, kind, validity) = r.basics();
    let eligibility = r.eligibility();
    let conditions = r.conditions();
    let benefit = r.benefit();
    let starts = validity.starts.with_timezone(&ctx.tz).date_naive();
    let holding = r.holding(&kind, starts);
    let (stacking, limits) = r.limits(starts);
    let promotion = Promotion {
        id: ctx.id,
        name,
        kind,
        eligibility,
        validity,
        conditions,
        benefit,
        stacking,
        limits,
        holding,
    };
    let mut problems = r.problems;
    if let Err(errors) = promotion.validate() {
        let parsed_badly: Vec<Step> = problems.0.iter().map(|p| p.step).collect();
        for p in engine_problems(&errors, f).0 {
            if !parsed_badly.contains(&p.step) {
                problems.0.push(p);
            }
        }
    }
    if problems.is_empty() {
        Ok(promotion)
    } else {
        Err(problems)
    }
}
impl Reader<'_> {
    fn basics(&mut self) -> (String, Kind, Validity) {
        let s = Step::Basics;
        let kind = match self.choice(
            s,
            "kind",
            "Kind",
            &["automatic", "code", "earned", "reward"],
        ) {
            "code" => Kind::CodeLinked {
                codes: split_list(self.f.codes.as_str())
                    .into_iter()
                    .flat_map(|c| c.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                    .collect(),
            },
            "earned" => Kind::Earned,
            "reward" => Kind::Reward,
            _ => Kind::Automatic,
        };
        if self.raw("starts").is_empty() {
            self.problems.push(s, "starts", "Starts on is required");
        }
        let first = self.date(s, "starts", "Starts on");
        let last = self.date(s, "ends", "Ends on");
        let validity = Validity::from_dates(first.unwrap_or(self.ctx.today), last, self.ctx.tz);
        (self.f.name.trim().to_string(), kind, validity)
    }

    fn eligibility(&mut self) -> Eligibility {
        let upper = |raw: &str| -> Vec<String> {
            split_list(raw).iter().map(|s| s.to_uppercase()).collect()
        };
        let days: Vec<Weekday> = DAYS
            .iter()
            .filter(|(name, _, _)| self.f.day(name))
            .map(|(_, _, d)| *d)
            .collect();
        Eligibility {
            stores: upper(&self.f.stores),
            zones: upper(&self.f.zones),
            weekdays: Weekdays::of(&days),
            hours: self.hours(),
            tiers: split_list(&self.f.tiers),
            segments: split_list(&self.f.segments),
        }
    }

    fn hours(&mut self) -> Vec<TimeWindow> {
        let mut windows = Vec::new();
        for item in split_list(&self.f.hours) {
            let parts: Vec<&str> = item
                .split(['-', '–', '—'])
                .flat_map(|p| p.split(" to "))
                .map(str::trim)
                .collect();
            let window = match parts.as_slice() {
                [a, b] => minute(a).zip(minute(b)),
                _ => None,
            };
            match window {
                Some((start, end)) if start < 1440 => windows.push(TimeWindow {
                    start,
                    end: end % 1440,
                }),
                _ => self.problems.push(
                    Step::Eligibility,
                    "hours",
                    format!(
                        "Time windows: {item:?} is not a window such as 16:00–18:00 \
                         (24-hour times)"
                    ),
                ),
            }
        }
        windows
    }
    fn conditions(&mut self) -> Vec<Condition> {
        let s = Step::Conditions;
        let mut out = Vec::new();
        if let Some(at_least) = self.amount(s, "cart_amount", "Cart amount") {
            out.push(Condition::CartAmount { at_least });
        }
        if let Some(at_least) = self.count(s, "distinct_items", "Different items") {
            out.push(Condition::DistinctItems { at_least });
        }
        for (i, prefix) in PRODUCT_SLOTS.into_iter().enumerate() {
            let n = i + 1;
            let measure_field = format!("{prefix}_measure");
            let at_least_field = format!("{prefix}_at_least");
            let measure = self.raw(&measure_field).to_string();
            let label = format!("Product condition {n}");
            let at_least = match measure.as_str() {
                "" => {
                    if self.f.slot_used(prefix) {
                        self.problems.push(
                            s,
                            measure_field,
                            format!("{label}: choose what to count (units or amount), or clear its products"),
                        );
                    }
                    continue;
                }
                "quantity" => {
                    self.required_count(s, &at_least_field, &format!("{label}: the units"))
                }
                "amount" => {
                    self.required_amount(s, &at_least_field, &format!("{label}: the amount"))
                }
                _ => {
                    self.problems.push(
                        s,
                        measure_field,
                        format!("{label}: choose one of the options"),
                    );
                    continue;
                }
            };
            let products = self.filter(s, prefix);
            if !products.selects() {
                self.problems.push(
                    s,
                    prefix,
                    format!("{label}: name the products to include or to exclude (a SKU, brand, category or attribute)"),
                );
            }
            let Some(at_least) = at_least else { continue };
            out.push(if measure == "amount" {
                Condition::ProductAmount { products, at_least }
            } else {
                Condition::ProductQuantity { products, at_least }
            });
        }
        let modes: Vec<String> = split_list(&self.f.payment_modes)
            .iter()
            .map(|m| m.to_lowercase())
            .collect();
        if !modes.is_empty() {
            out.push(Condition::PaymentMode { modes });
        }
        let codes = split_list(&self.f.voucher_codes);
        if !codes.is_empty() {
            out.push(Condition::GiftVoucher { codes });
        }
        out
    }

    fn benefit(&mut self) -> Benefit {
        let s = Step::Benefit;
        let target = match self.choice(
            s,
            "target",
            "Applies to",
            &["cart", "condition", "products"],
        ) {
            "condition" => Target::ConditionItems,
            "products" => {
                let criteria = match self.choice(
                    s,
                    "criteria",
                    "Rewarded products",
                    &["filter", "sku", "allof"],
                ) {
                    "sku" => {
                        let skus = split_list(&self.f.crit_sku);
                        if skus.len() > 1 {
                            self.problems.push(
                                s,
                                "crit_sku",
                                "One SKU: name a single SKU (for several bought together, choose \"all of several SKUs\")",
                            );
                        }
                        Criteria::Sku {
                            sku: skus.into_iter().next().unwrap_or_default(),
                        }
                    }
                    "allof" => Criteria::AllOf {
                        skus: split_list(&self.f.crit_skus).into_iter().collect(),
                    },
                    _ => Criteria::Filter {
                        products: self.filter(s, "b"),
                    },
                };
                Target::Products {
                    criteria,
                    quantity: self.count(s, "reward_quantity", "Units rewarded"),
                }
            }
            _ => Target::Cart,
        };
        let value = match self.choice(
            s,
            "value_type",
            "Value",
            &["percent", "amount", "free", "bundle"],
        ) {
            "amount" => Value::Amount {
                amount: self
                    .required_amount(s, "value", "The amount off")
                    .unwrap_or(1),
            },
            "free" => Value::Free,
            "bundle" => Value::FixedPrice {
                price: self
                    .required_amount(s, "value", "The bundle price")
                    .unwrap_or(0),
            },
            _ => {
                let raw = self.raw("value").to_string();
                let bp = match parse_percent("value", &raw) {
                    Ok(bp) => bp,
                    Err(e) => {
                        let message = if raw.is_empty() {
                            "The percentage is required".to_string()
                        } else {
                            format!("The value {}", e.message)
                        };
                        self.problems.push(s, "value", message);
                        1
                    }
                };
                Value::Percent { basis_points: bp }
            }
        };
        let recurrence = match self.choice(s, "recurrence", "Repeat", &["", "items", "amount"]) {
            "items" => self
                .required_count(s, "recur_every", "Repeat every … units")
                .map(|every| Recurrence::Items { every }),
            "amount" => self
                .required_amount(s, "recur_every", "Repeat every … spent")
                .map(|every| Recurrence::Amount { every }),
            _ => None,
        };
        Benefit {
            target,
            value,
            recurrence,
        }
    }

    /// A reset period's inputs `{prefix}…` on `s` (the limits' and the maximum earning's).
    pub(super) fn period(&mut self, s: Step, prefix: &str, starts: NaiveDate) -> Option<Period> {
        let kind = self.choice(
            s,
            prefix,
            "The reset period",
            &[
                "",
                "every_days",
                "every_weeks",
                "calendar_month",
                "last_days",
                "last_weeks",
            ],
        );
        let n_field = format!("{prefix}_n");
        let n = |r: &mut Self, what: &str| -> Option<u32> {
            r.required_count(s, &n_field, &format!("The number of {what}"))
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        let anchor_field = format!("{prefix}_anchor");
        let anchor = |r: &mut Self| -> NaiveDate {
            r.date(s, &anchor_field, "The first cycle's date")
                .unwrap_or(starts)
        };
        match kind {
            "every_days" => {
                let days = n(self, "days")?;
                Some(Period::EveryDays {
                    days,
                    anchor: anchor(self),
                })
            }
            "every_weeks" => {
                let weeks = n(self, "weeks")?;
                let day = self.raw(&format!("{prefix}_weekday")).to_string();
                let weekday = day.parse::<Weekday>().unwrap_or(Weekday::Mon);
                Some(Period::EveryWeeks {
                    weeks,
                    weekday,
                    anchor: anchor(self),
                })
            }
            "calendar_month" => Some(Period::CalendarMonth),
            "last_days" => n(self, "days").map(|days| Period::LastDays { days }),
            "last_weeks" => n(self, "weeks").map(|weeks| Period::LastWeeks { weeks }),
            _ => None,
        }
    }

    fn limits(&mut self, starts: NaiveDate) -> (Stacking, Limits) {
        let s = Step::Limits;
        let stacking = match self.choice(s, "stacking", "Stacking", &["stackable", "exclusive"]) {
            "exclusive" => Stacking::Exclusive,
            _ => Stacking::Stackable,
        };
        let limits = Limits {
            per_cart: self.count(s, "per_cart", "Times per cart"),
            global_uses: self.count(s, "global_uses", "Total uses"),
            global_reset: self.period(s, "g_reset", starts),
            customer_uses: self.count(s, "customer_uses", "Uses per customer"),
            customer_value: self.amount(s, "customer_value", "Discount per customer"),
            customer_reset: self.period(s, "c_reset", starts),
        };
        (stacking, limits)
    }
}
