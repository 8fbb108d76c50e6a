//! Reading the wizard's inputs one by one: amounts in the org's currency digits, counts,
//! dates, choices, lists and product filters; each problem kept on its step and input.

use super::form::{Problems, PromotionForm, Step, split_list};
use super::parse::Context;
use crate::domain::money::parse_amount;
use crate::domain::promotion::{ProductFilter, ProductSet};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// Reads a form, keeping every problem.
pub(super) struct Reader<'a> {
    pub f: &'a PromotionForm,
    pub ctx: &'a Context,
    pub problems: Problems,
}

/// The most units or uses a count input takes.
const MAX_COUNT: i64 = 1_000_000_000;

impl Reader<'_> {
    pub(super) fn raw(&self, field: &str) -> &str {
        self.f.value(field).trim()
    }

    pub(super) fn amount(&mut self, step: Step, field: &str, label: &str) -> Option<i64> {
        let raw = self.raw(field);
        if raw.is_empty() {
            return None;
        }
        match parse_amount(field, raw, self.ctx.digits) {
            Ok(v) => Some(v),
            Err(e) => {
                let message = format!("{label} {}", e.message);
                self.problems.push(step, field, message);
                None
            }
        }
    }

    pub(super) fn required_amount(&mut self, step: Step, field: &str, label: &str) -> Option<i64> {
        if self.raw(field).is_empty() {
            self.problems
                .push(step, field, format!("{label} is required"));
        }
        self.amount(step, field, label)
    }

    pub(super) fn count(&mut self, step: Step, field: &str, label: &str) -> Option<i64> {
        let raw: String = self.raw(field).chars().filter(|c| *c != ',').collect();
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => Some(n),
            _ => {
                self.problems.push(
                    step,
                    field,
                    format!("{label} must be a whole number such as 2, more than zero"),
                );
                None
            }
        }
    }

    pub(super) fn required_count(&mut self, step: Step, field: &str, label: &str) -> Option<i64> {
        if self.raw(field).is_empty() {
            self.problems
                .push(step, field, format!("{label} is required"));
        }
        self.count(step, field, label)
    }

    pub(super) fn date(&mut self, step: Step, field: &str, label: &str) -> Option<NaiveDate> {
        let raw = self.raw(field);
        if raw.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.problems.push(
                    step,
                    field,
                    format!("{label} must be a date such as 2026-06-30"),
                );
                None
            }
        }
    }

    pub(super) fn choice<'c>(
        &mut self,
        step: Step,
        field: &str,
        label: &str,
        allowed: &[&'c str],
    ) -> &'c str {
        let raw = self.raw(field);
        match allowed.iter().find(|a| **a == raw) {
            Some(a) => a,
            None => {
                self.problems
                    .push(step, field, format!("{label}: choose one of the options"));
                allowed[0]
            }
        }
    }

    pub(super) fn product_set(&mut self, step: Step, prefix: &str, side: &str) -> ProductSet {
        let f = self.f;
        let list = |suffix: &str| split_list(f.part(prefix, &format!("{side}_{suffix}")));
        let mut attributes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for pair in list("attributes") {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                    attributes
                        .entry(k.trim().to_string())
                        .or_default()
                        .insert(v.trim().to_string());
                }
                _ => self.problems.push(
                    step,
                    format!("{prefix}_{side}_attributes"),
                    format!("Attributes: {pair:?} is not a pair such as colour=blue"),
                ),
            }
        }
        ProductSet {
            skus: list("skus").into_iter().collect(),
            brands: list("brands").into_iter().collect(),
            categories: list("categories").into_iter().collect(),
            attributes,
        }
    }

    pub(super) fn filter(&mut self, step: Step, prefix: &str) -> ProductFilter {
        ProductFilter {
            include: self.product_set(step, prefix, "inc"),
            exclude: self.product_set(step, prefix, "exc"),
        }
    }
}

/// Minutes after midnight of "16:00", "9:30" or "16"; "24:00" is the midnight that ends a day.
pub(super) fn minute(raw: &str) -> Option<u16> {
    let (h, m) = raw.split_once(':').unwrap_or((raw, "0"));
    let (h, m): (u16, u16) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_read_as_minutes() {
        assert_eq!(minute("16:00"), Some(960));
        assert_eq!(minute("9:30"), Some(570));
        assert_eq!(minute("16"), Some(960));
        assert_eq!(minute("24:00"), Some(1440));
        assert_eq!(minute("25:00"), None);
        assert_eq!(minute("noon"), None);
    }
}
