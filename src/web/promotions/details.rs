//! The details of a promotion in words, section by section: who and when, conditions,
//! benefit, stacking and limits (with their reset periods).

use super::form::{DAYS, WEEKDAYS};
use super::words::{Words, Writer, any_of, capitalized};
use crate::domain::money::plural;
use crate::domain::offer::describe::date_text;
use crate::domain::promotion::{
    Condition, Criteria, Kind, Limits, Period, Promotion, Stacking, Target, Value,
};

impl Writer<'_> {
    pub(super) fn period(&self, p: &Period) -> String {
        match *p {
            Period::EveryDays { days, anchor } => format!(
                "starting again every {} (cycles counted from {})",
                plural(i64::from(days), "day", "days"),
                date_text(anchor)
            ),
            Period::EveryWeeks {
                weeks,
                weekday,
                anchor,
            } => {
                let day = WEEKDAYS[weekday.num_days_from_monday() as usize].1;
                if weeks == 1 {
                    format!("starting again every {day}")
                } else {
                    format!(
                        "starting again every {weeks} weeks on {day} (cycles aligned on the week of {})",
                        date_text(anchor)
                    )
                }
            }
            Period::CalendarMonth => "starting again on the 1st of every month".into(),
            Period::LastDays { days } => format!(
                "counted over the last {} (a rolling window)",
                plural(i64::from(days), "day", "days")
            ),
            Period::LastWeeks { weeks } => format!(
                "counted over the last {} (Sunday to Saturday weeks, this one included)",
                plural(i64::from(weeks), "week", "weeks")
            ),
        }
    }

    /// The limits, one line each ("No limits" when there are none).
    pub fn limits(&self, l: &Limits) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(n) = l.per_cart {
            out.push(format!(
                "Applies at most {} in one cart",
                plural(n, "time", "times")
            ));
        }
        if let Some(n) = l.global_uses {
            let reset = l
                .global_reset
                .map(|p| format!(", {}", self.period(&p)))
                .unwrap_or_else(|| " in all".into());
            out.push(format!(
                "At most {} across all customers{reset}",
                plural(n, "cart", "carts")
            ));
        }
        let reset = l
            .customer_reset
            .map(|p| format!(", {}", self.period(&p)))
            .unwrap_or_default();
        if let Some(n) = l.customer_uses {
            out.push(format!(
                "At most {} per customer{reset}",
                plural(n, "cart", "carts")
            ));
        }
        if let Some(v) = l.customer_value {
            out.push(format!(
                "At most {} of discount per customer{reset}",
                self.money(v)
            ));
        }
        if out.is_empty() {
            out.push("No limits".into());
        }
        out
    }

    fn who_and_when(&self, p: &Promotion) -> Vec<String> {
        let mut out = vec![match &p.kind {
            Kind::Automatic => "Automatic: applies by itself to every eligible cart".to_string(),
            Kind::CodeLinked { codes } => format!(
                "Code-linked: applies only when the code {} is entered (any letter case)",
                any_of(codes.clone(), "or")
            ),
            Kind::Earned => "Earned: applies while the customer holds it".into(),
            Kind::Reward => {
                "Reward: applies while the customer holds it (bought with points or money)".into()
            }
        }];
        let first = date_text(p.validity.starts.with_timezone(&self.tz).date_naive());
        out.push(match p.validity.last_day(self.tz) {
            Some(last) => format!(
                "From {first} to {} ({} time)",
                date_text(last),
                self.tz.name()
            ),
            None => format!("From {first} ({} time), with no end date", self.tz.name()),
        });
        let e = &p.eligibility;
        let mut places = Vec::new();
        if !e.stores.is_empty() {
            places.push(format!(
                "{} {}",
                if e.stores.len() == 1 {
                    "store"
                } else {
                    "stores"
                },
                any_of(e.stores.clone(), "or")
            ));
        }
        if !e.zones.is_empty() {
            places.push(format!(
                "{} {}",
                if e.zones.len() == 1 { "zone" } else { "zones" },
                any_of(e.zones.clone(), "or")
            ));
        }
        out.push(if places.is_empty() {
            "At every store".into()
        } else {
            format!("Only at {}", places.join(", or in "))
        });
        if !e.weekdays.is_every_day() {
            let days: Vec<&str> = DAYS
                .iter()
                .filter(|(_, _, d)| e.weekdays.has(*d))
                .map(|(_, label, _)| *label)
                .collect();
            out.push(format!("Only on {}", days.join(", ")));
        }
        if !e.hours.is_empty() {
            let t = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            let windows: Vec<String> = e
                .hours
                .iter()
                .map(|w| format!("{}–{}", t(w.start), t(w.end)))
                .collect();
            out.push(format!("Only between {}", any_of(windows, "or")));
        }
        if !e.tiers.is_empty() {
            out.push(format!(
                "Only for customers in tier {}",
                any_of(e.tiers.clone(), "or")
            ));
        }
        if !e.segments.is_empty() {
            out.push(format!(
                "Only for customers in segment {}",
                any_of(e.segments.clone(), "or")
            ));
        }
        out
    }

    fn conditions(&self, p: &Promotion) -> Vec<String> {
        if p.conditions.is_empty() {
            return vec!["None: every eligible cart qualifies".into()];
        }
        let mut out: Vec<String> = p
            .conditions
            .iter()
            .map(|c| capitalized(&self.condition(c)))
            .collect();
        if p.conditions.len() > 1 {
            out.push("All of them must be met".into());
        }
        if p.conditions.iter().any(|c| {
            matches!(
                c,
                Condition::CartAmount { .. } | Condition::ProductAmount { .. }
            )
        }) {
            out.push("Amounts are counted before any discount".into());
        }
        out
    }

    fn benefit_details(&self, p: &Promotion) -> Vec<String> {
        let mut out = vec![capitalized(&self.benefit(p))];
        match &p.benefit.target {
            Target::Cart => out.push("The discount is spread over every line of the cart".into()),
            Target::ConditionItems => {
                out.push("The discount applies to the items that met the condition".into())
            }
            Target::Products { criteria, .. } => {
                out.push(
                    "Over and above the condition: the items that meet the condition stay at \
                     full price; the cheapest rewarded items left get the benefit"
                        .into(),
                );
                if let (
                    Criteria::Sku { sku },
                    Value::Free,
                    Target::Products {
                        quantity: Some(_), ..
                    },
                ) = (criteria, p.benefit.value, &p.benefit.target)
                {
                    out.push(format!(
                        "SKU {sku} is added to the cart at 0 when the cart does not have it"
                    ));
                }
            }
        }
        if p.benefit.recurrence.is_some() {
            out.push("Repeats as many times as the cart allows".into());
        }
        out
    }

    /// The promotion in words.
    pub fn describe(&self, p: &Promotion) -> Words {
        let mut stacking = vec![match p.stacking {
            Stacking::Stackable => {
                "Stackable: other stackable promotions apply with it".to_string()
            }
            Stacking::Exclusive => {
                "Exclusive: when it applies, no other promotion does".to_string()
            }
        }];
        stacking.extend(self.limits(&p.limits));
        let mut sections = vec![("Who and when", self.who_and_when(p))];
        sections.extend(self.holding(p));
        sections.extend([
            ("Conditions", self.conditions(p)),
            ("Benefit", self.benefit_details(p)),
            ("Stacking and limits", stacking),
        ]);
        Words {
            headline: self.headline(p),
            sections,
        }
    }
}
