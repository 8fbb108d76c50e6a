//! What the offer form's pickers list and how its advanced settings are grouped.
//!
//! A picker is a list of checkboxes (one `name` per picker, so a post repeats the key exactly
//! as a multi-select did); `static/pickers.js` adds a search box and chips when JavaScript
//! runs. The advanced settings are grouped into sections that the page renders closed unless
//! one of their fields holds a value or has an error.

use super::Pickers;
use crate::domain::FieldErrors;
use crate::domain::offer::form::OfferForm;
use crate::store::masters::TillListRow;
use std::collections::HashMap;

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
            "tills" => {
                let labels = self.till_labels();
                self.tills
                    .iter()
                    .map(|t| {
                        let label = labels.get(&t.id).map_or(t.code.as_str(), String::as_str);
                        opt(t.id, label, t.code.clone())
                    })
                    .collect()
            }
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

    /// Every till as people name it, by id: "Front counter (Mall Road)", its name and its
    /// store's name. The till's code is added ("Front counter (Mall Road, T1)") only where two
    /// tills of one store share a name; a missing name falls back to the code.
    pub fn till_labels<'a>(&'a self) -> HashMap<i64, String> {
        let store_names: HashMap<&str, &'a str> = self
            .stores
            .iter()
            .filter(|s| !s.name.trim().is_empty())
            .map(|s| (s.code.as_str(), s.name.trim()))
            .collect();
        // (name, store name), each falling back to its code.
        let named = |t: &'a TillListRow| -> (&'a str, &'a str) {
            let name = Some(t.name.trim()).filter(|n| !n.is_empty());
            let store = store_names.get(t.store_code.as_str()).copied();
            (
                name.unwrap_or(t.code.as_str()),
                store.unwrap_or(t.store_code.as_str()),
            )
        };
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for t in &self.tills {
            *seen.entry(named(t)).or_default() += 1;
        }
        self.tills
            .iter()
            .map(|t| {
                let (name, store) = named(t);
                let label = if seen[&(name, store)] > 1 && name != t.code {
                    format!("{name} ({store}, {})", t.code)
                } else {
                    format!("{name} ({store})")
                };
                (t.id, label)
            })
            .collect()
    }

    /// How many of the picker's choices are ticked.
    pub fn chosen(&self, field: &str, f: &OfferForm) -> usize {
        self.options(field, f).iter().filter(|o| o.checked).count()
    }
}

/// The advanced-settings sections: a key (the element id is `adv-KEY`), the form fields inside
/// (as named in `FieldErrors`), and for a section behind a checkbox, that checkbox's field.
pub const SECTIONS: [(&str, &[&str], Option<&str>); 11] = [
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
        "notice",
        &["expiry_notice_channel", "expiry_notice_text"],
        Some("expiry_notice"),
    ),
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
            "expiry_notice" => OfferForm::is_on(&self.expiry_notice),
            "expiry_notice_channel" => text(&self.expiry_notice_channel),
            "expiry_notice_text" => text(&self.expiry_notice_text),
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

    fn pickers(stores: &[(&str, &str)], tills: &[(i64, &str, &str, &str)]) -> Pickers {
        use crate::store::masters::StoreListRow;
        Pickers {
            categories: Vec::new(),
            brands: Vec::new(),
            stores: stores
                .iter()
                .enumerate()
                .map(|(i, (code, name))| StoreListRow {
                    id: i as i64 + 1,
                    code: code.to_string(),
                    name: name.to_string(),
                    zone_code: "NORTH".into(),
                    zone_name: "North".into(),
                    concept_code: None,
                    concept_name: None,
                    till_count: 0,
                })
                .collect(),
            tills: tills
                .iter()
                .map(|(id, code, name, store_code)| TillListRow {
                    id: *id,
                    code: code.to_string(),
                    name: name.to_string(),
                    store_code: store_code.to_string(),
                })
                .collect(),
            zones: Vec::new(),
            concepts: Vec::new(),
            pocs: Vec::new(),
            offers: Vec::new(),
            currency: "INR".into(),
        }
    }

    #[test]
    fn tills_are_named_with_their_stores_name_and_coded_only_when_ambiguous() {
        let p = pickers(
            &[("S1", "Mall Road"), ("S2", "High Street")],
            &[
                (1, "T1", "Front counter", "S1"),
                (2, "T2", "Front counter", "S2"),
                (3, "T3", "Kiosk", "S1"),
                (4, "T4", "Kiosk", "S1"),
                (5, "T5", "", "S1"),
                (6, "T6", "Till six", "S9"),
            ],
        );
        let labels = p.till_labels();
        assert_eq!(labels[&1], "Front counter (Mall Road)");
        assert_eq!(labels[&2], "Front counter (High Street)");
        assert_eq!(labels[&3], "Kiosk (Mall Road, T3)");
        assert_eq!(labels[&4], "Kiosk (Mall Road, T4)");
        assert_eq!(labels[&5], "T5 (Mall Road)", "no name: the code stands in");
        assert_eq!(labels[&6], "Till six (S9)", "no store name: its code");
        let f = OfferForm {
            tills: vec!["2".into()],
            ..OfferForm::defaults()
        };
        let options = p.options("tills", &f);
        assert_eq!(
            options[1],
            PickOption {
                id: 2,
                label: "Front counter (High Street)".into(),
                detail: "T2".into(),
                checked: true,
            }
        );
        assert!(options.iter().all(|o| !o.detail.contains("store")));
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
        let mut notice = OfferForm {
            expiry_notice_text: "Your {code} expired".into(),
            ..OfferForm::defaults()
        };
        assert!(!notice.section_in_use("notice"), "a text without the tick");
        notice.expiry_notice = "on".into();
        assert!(notice.section_in_use("notice"));
        let start = OfferForm {
            redemption_start: "days".into(),
            ..OfferForm::defaults()
        };
        assert!(start.section_in_use("start"));
    }
}
