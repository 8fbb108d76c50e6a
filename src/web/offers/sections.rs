//! What the offer form's pickers list and how its advanced settings are grouped.
//!
//! A picker is a list of checkboxes (one `name` per picker, so a post repeats the key exactly
//! as a multi-select did); `static/pickers.js` adds a search box and chips when JavaScript
//! runs. The advanced settings are grouped into sections that the page renders closed unless
//! one of their fields holds a value or has an error.

use super::Pickers;
use crate::domain::FieldErrors;
use crate::domain::offer::form::OfferForm;

/// One choice of a picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickOption {
    pub id: i64,
    /// What the chip shows.
    pub label: String,
    /// A second, muted part (code, zone, e-mail …), searched as well.
    pub detail: String,
    pub checked: bool,
}

impl Pickers {
    /// The choices of the picker `field` (a form field name), ticked as in `f`.
    pub fn options(&self, field: &str, f: &OfferForm) -> Vec<PickOption> {
        let opt = |id: i64, label: &str, detail: String| PickOption {
            id,
            label: label.to_string(),
            detail,
            checked: f.selected(field, &id),
        };
        let coded = |rows: &[crate::store::masters::CodedRow]| {
            rows.iter()
                .map(|r| opt(r.id, &r.name, r.code.clone()))
                .collect()
        };
        match field {
            "categories" => coded(&self.categories),
            "brands" => coded(&self.brands),
            "zones" => coded(&self.zones),
            "concepts" => coded(&self.concepts),
            "stores" => self
                .stores
                .iter()
                .map(|s| {
                    let mut detail = format!("{} · {}", s.code, s.zone_name);
                    if let Some(concept) = &s.concept_name {
                        detail.push_str(&format!(" · {concept}"));
                    }
                    opt(s.id, &s.name, detail)
                })
                .collect(),
            "tills" => self
                .tills
                .iter()
                .map(|t| {
                    let detail = if t.name.trim().is_empty() {
                        format!("store {}", t.store_code)
                    } else {
                        format!("{} · store {}", t.name, t.store_code)
                    };
                    opt(t.id, &t.code, detail)
                })
                .collect(),
            "poc_ids" => self
                .pocs
                .iter()
                .map(|c| opt(c.id, &c.name, c.email.clone()))
                .collect(),
            "past_issual_offers" => self
                .offers
                .iter()
                .map(|(id, name)| opt(*id, name, String::new()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// How many of the picker's choices are ticked.
    pub fn chosen(&self, field: &str, f: &OfferForm) -> usize {
        self.options(field, f).iter().filter(|o| o.checked).count()
    }
}

/// The advanced-settings sections: a key (the element id is `adv-KEY`), the form fields inside
/// (as named in `FieldErrors`), and for a section behind a checkbox, that checkbox's field.
pub const SECTIONS: [(&str, &[&str], Option<&str>); 10] = [
    (
        "issual",
        &[
            "past_issual_offers",
            "max_per_customer",
            "min_issual_gap_days",
            "total_issual_cap",
        ],
        None,
    ),
    ("resend", &["resend_text"], None),
    ("reminders", &["reminders"], None),
    (
        "start",
        &[
            "anyone_can_redeem",
            "redemption_start",
            "redemption_start_days",
            "redemption_start_date",
        ],
        None,
    ),
    (
        "multiple",
        &["max_redemptions_per_customer", "redemption_gap_days"],
        Some("multiple_redemption"),
    ),
    ("where", &["scope"], None),
    ("bill", &["min_bill", "max_bill"], None),
    ("when", &["weekdays", "dates", "time_slots"], None),
    ("cap", &["total_redemption_cap"], None),
    (
        "poc",
        &["poc_ids", "poc_reminder_days"],
        Some("poc_reminder"),
    ),
];

fn section(key: &str) -> (&'static [&'static str], Option<&'static str>) {
    SECTIONS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, fields, toggle)| (*fields, *toggle))
        .unwrap_or((&[], None))
}

impl OfferForm {
    /// Whether `field` holds something other than its "nothing set" value.
    pub fn holds_value(&self, field: &str) -> bool {
        let text = |s: &str| !s.trim().is_empty();
        let list = |v: &[String]| v.iter().any(|s| text(s));
        match field {
            "past_issual_offers" => list(&self.past_issual_offers),
            "max_per_customer" => text(&self.max_per_customer),
            "min_issual_gap_days" => text(&self.min_issual_gap_days),
            "total_issual_cap" => text(&self.total_issual_cap),
            "resend_text" => text(&self.resend_text),
            "reminders" => list(&self.reminder_days) || list(&self.reminder_text),
            "anyone_can_redeem" => OfferForm::is_on(&self.anyone_can_redeem),
            "redemption_start" => text(&self.redemption_start) && self.redemption_start != "issue",
            "redemption_start_days" => text(&self.redemption_start_days),
            "redemption_start_date" => text(&self.redemption_start_date),
            "multiple_redemption" => OfferForm::is_on(&self.multiple_redemption),
            "max_redemptions_per_customer" => text(&self.max_redemptions_per_customer),
            "redemption_gap_days" => text(&self.redemption_gap_days),
            "scope" => {
                list(&self.stores) || list(&self.tills) || list(&self.zones) || list(&self.concepts)
            }
            "min_bill" => text(&self.min_bill),
            "max_bill" => text(&self.max_bill),
            "weekdays" => list(&self.weekdays),
            "dates" => text(&self.dates),
            "time_slots" => text(&self.time_slots),
            "total_redemption_cap" => text(&self.total_redemption_cap),
            "poc_reminder" => OfferForm::is_on(&self.poc_reminder),
            "poc_ids" => list(&self.poc_ids),
            "poc_reminder_days" => text(&self.poc_reminder_days),
            _ => false,
        }
    }

    /// Whether the section `key` is in use: its checkbox is ticked, or (a section without
    /// one) a field of it holds a value.
    pub fn section_in_use(&self, key: &str) -> bool {
        match section(key) {
            (_, Some(toggle)) => self.holds_value(toggle),
            (fields, None) => fields.iter().any(|f| self.holds_value(f)),
        }
    }

    /// Whether the section `key` renders open: in use, or one of its fields has an error.
    pub fn section_open(&self, key: &str, errors: &FieldErrors) -> bool {
        let (fields, toggle) = section(key);
        self.section_in_use(key)
            || fields
                .iter()
                .chain(toggle.iter())
                .any(|f| !errors.get(f).is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_form_has_every_section_closed() {
        let f = OfferForm::defaults();
        for (key, _, _) in SECTIONS {
            assert!(!f.section_open(key, &FieldErrors::default()), "{key}");
        }
    }

    #[test]
    fn a_value_or_an_error_opens_its_section_only() {
        let f = OfferForm {
            time_slots: "16:00-18:00".into(),
            ..OfferForm::defaults()
        };
        let none = FieldErrors::default();
        assert!(f.section_open("when", &none));
        assert!(!f.section_open("bill", &none));
        let mut errors = FieldErrors::default();
        errors.push("max_bill", "must be an amount");
        assert!(f.section_open("bill", &errors));
        let mut errors = FieldErrors::default();
        errors.push("redemption_gap_days", "applies only when …");
        assert!(f.section_open("multiple", &errors));
        assert!(!f.section_in_use("multiple"));
    }

    #[test]
    fn a_section_behind_a_checkbox_is_in_use_when_ticked() {
        let mut f = OfferForm::defaults();
        f.poc_ids = vec!["3".into()];
        assert!(
            !f.section_in_use("poc"),
            "a leftover choice without the tick"
        );
        f.poc_reminder = "on".into();
        assert!(f.section_in_use("poc"));
        let start = OfferForm {
            redemption_start: "days".into(),
            ..OfferForm::defaults()
        };
        assert!(start.section_in_use("start"));
    }
}
