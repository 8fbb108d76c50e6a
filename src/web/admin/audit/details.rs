//! An audit entry's `details` as people read them: one row per changed field, named with the
//! label its form uses, the values in words (Yes/No, the option chosen, names for ids, dates as
//! the console writes them). No JSON reaches the page.
//!
//! Three shapes are written today:
//! - per field: `{"name": {"before": "A", "after": "B"}, …}` (offer edits, claims);
//! - whole record: `{"before": {…}, "after": {…}}` (org settings, users);
//! - facts without a before: `{"mode": "UNISSUED", "revoked": 3}` (revocations, resends, keys).

use crate::domain::money::format_count;
use crate::domain::offer::WEEKDAY_NAMES;
use crate::domain::revoke::RevokeMode;
use crate::domain::user::Role;
use chrono::NaiveDate;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Lists longer than this show their first items and how many more.
const LIST_SHOWN: usize = 10;

/// One changed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One recorded fact of an entry that has no "before" (what a revocation did, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub field: String,
    pub value: String,
}

/// An entry's details in words: changes, or facts, or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readable {
    pub changes: Vec<FieldChange>,
    pub facts: Vec<Fact>,
}

/// Names for the ids that offer fields hold (categories, stores, POCs, other offers …), by
/// field. Loaded only when a page shows such a field.
#[derive(Debug, Clone, Default)]
pub struct Names(HashMap<&'static str, HashMap<String, String>>);

impl Names {
    pub fn add(&mut self, field: &'static str, id: i64, name: String) {
        self.0
            .entry(field)
            .or_default()
            .insert(id.to_string(), name);
    }

    fn get(&self, field: &str, id: &str) -> Option<&str> {
        self.0.get(field)?.get(id).map(String::as_str)
    }
}

/// Offer fields that hold ids of other records.
const OFFER_ID_FIELDS: &[&str] = &[
    "categories",
    "brands",
    "past_issual_offers",
    "stores",
    "tills",
    "zones",
    "concepts",
    "poc_ids",
];

/// The offer form's labels, in the form's order (`{cur}` is the org's currency). Revocations,
/// resends and claims are recorded on the offer too, so their fields are here as well.
const OFFER_LABELS: &[(&str, &str)] = &[
    ("name", "Offer name"),
    ("offer_code", "Offer (series) code"),
    ("expiry_type", "Offer expires"),
    ("expires_on", "Expiry date"),
    ("pos_code", "Point-of-sale identifier code"),
    ("discount_type", "Discount for each coupon"),
    ("discount_value", "Value (% or {cur})"),
    ("discount_cap", "At most ({cur})"),
    ("applies_to", "Applies to"),
    ("categories", "Categories"),
    ("brands", "Brands"),
    ("include_sale", "Applicable on sale items"),
    ("delivery", "How are coupons sent to customers?"),
    ("generation", "How are codes made?"),
    ("code_length", "Unique codes: length (after the prefix)"),
    ("code_charset", "Characters"),
    ("code_prefix", "Prefix"),
    ("common_code", "Common code"),
    ("sample_code", "Sample code"),
    (
        "upload_with_customers",
        "Uploaded codes come with customer identifiers",
    ),
    (
        "specific_customers_only",
        "Issue to specific customers only",
    ),
    ("coupon_expiry", "When does a coupon expire?"),
    ("coupon_expiry_n", "N (days or month-ends)"),
    (
        "past_issual_offers",
        "Not to recent recipients of these offers",
    ),
    ("max_per_customer", "Max issuals per customer"),
    (
        "min_issual_gap_days",
        "Minimum gap between two issues (days)",
    ),
    ("total_issual_cap", "Limit total issual from the offer"),
    ("resend_text", "SMS text for resending a coupon"),
    (
        "reminder_days",
        "Coupon expiry reminders: days before expiry",
    ),
    ("reminder_channel", "Coupon expiry reminders: channel"),
    ("reminder_text", "Coupon expiry reminders: message"),
    ("anyone_can_redeem", "Allow anyone to redeem it"),
    ("redemption_start", "Redemption can start"),
    (
        "redemption_start_days",
        "Redemption can start: days after issual",
    ),
    ("redemption_start_date", "Redemption can start: date"),
    (
        "multiple_redemption",
        "Allow a coupon to be redeemed more than once",
    ),
    ("max_redemptions_per_customer", "Max times per customer"),
    (
        "redemption_gap_days",
        "Gap between a customer's redemptions (days)",
    ),
    ("stores", "Stores"),
    ("tills", "Tills"),
    ("zones", "Zones"),
    ("concepts", "Concepts"),
    ("min_bill", "Minimum bill ({cur})"),
    ("max_bill", "Maximum bill ({cur})"),
    ("weekdays", "Days of the week"),
    ("dates", "Only on these dates"),
    ("time_slots", "Time slots"),
    (
        "total_redemption_cap",
        "Limit total redemptions in the offer",
    ),
    ("poc_reminder", "Send an offer expiry reminder email"),
    (
        "expiry_notice",
        "Send a notice when a coupon expires unused",
    ),
    ("expiry_notice_channel", "Expiry notice: channel"),
    ("expiry_notice_text", "Expiry notice: message"),
    ("poc_ids", "To these POCs"),
    ("poc_reminder_days", "Days before the offer expires"),
    ("claimed_by", "Claimed by"),
    ("mode", "Which coupons"),
    ("revoked", "Coupons revoked"),
    ("customers_listed", "Customers listed"),
    ("customers", "Customers"),
    ("code", "Coupon code"),
    ("channel", "Channel"),
    ("recipient", "Sent to"),
    ("outbox_message", "Outbox message"),
];

const ORG_LABELS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("currency", "Currency"),
    ("time_zone", "Time zone"),
];

const USER_LABELS: &[(&str, &str)] = &[
    ("email", "Email"),
    ("name", "Name"),
    ("role", "Role"),
    ("active", "Active"),
];

const API_KEY_LABELS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("key_prefix", "Key"),
    ("consumer", "Consumer"),
    ("rate_limit", "Rate limit (requests/s)"),
];

/// Recorded for machines, not shown (the consumer's name is shown instead of its id).
const HIDDEN: &[(&str, &str)] = &[("api_key", "consumer_id")];

const OFFER_CHECKBOXES: &[&str] = &[
    "include_sale",
    "upload_with_customers",
    "specific_customers_only",
    "anyone_can_redeem",
    "multiple_redemption",
    "poc_reminder",
    "expiry_notice",
];

/// The words of the offer form's radio buttons and selects.
const OFFER_CHOICES: &[(&str, &str, &str)] = &[
    ("expiry_notice_channel", "sms", "SMS"),
    ("expiry_notice_channel", "email", "Email"),
    ("expiry_type", "fixed", "On a fixed date"),
    (
        "expiry_type",
        "campaign",
        "Along with the campaign that claims it",
    ),
    ("discount_type", "PERC", "Percentage"),
    ("discount_type", "ABS", "Fixed amount"),
    ("applies_to", "all", "All products"),
    ("applies_to", "selected", "Selected products"),
    ("delivery", "system", "Through this system"),
    ("delivery", "third_party", "Through a third party"),
    ("generation", "unique", "Automatically create unique codes"),
    ("generation", "common", "One common code for everyone"),
    (
        "generation",
        "randomized",
        "Randomized common codes (from a sample)",
    ),
    ("generation", "upload", "Upload existing codes"),
    (
        "code_charset",
        "unambiguous",
        "Letters and digits, no look-alikes (0/O, 1/I)",
    ),
    ("code_charset", "alphanumeric", "Letters and digits"),
    ("code_charset", "numeric", "Digits only"),
    ("coupon_expiry", "offer", "Along with the offer"),
    ("coupon_expiry", "days", "N days from issue"),
    ("coupon_expiry", "month_ends", "N month-ends from issue"),
    ("reminder_channel", "sms", "SMS"),
    ("reminder_channel", "email", "Email"),
    ("channel", "sms", "SMS"),
    ("channel", "email", "Email"),
    ("redemption_start", "issue", "Right after issual"),
    ("redemption_start", "days", "Days after issual"),
    ("redemption_start", "date", "From a date"),
];

const OFFER_DATES: &[&str] = &["expires_on", "redemption_start_date"];

fn labels(entity_type: &str) -> &'static [(&'static str, &'static str)] {
    match entity_type {
        "offer" => OFFER_LABELS,
        "org" => ORG_LABELS,
        "user" => USER_LABELS,
        "api_key" => API_KEY_LABELS,
        _ => &[],
    }
}

/// `snake_case` → "Snake case".
pub fn humanise(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The field's label as its form writes it, else the humanised key.
pub fn label(entity_type: &str, key: &str, currency: &str) -> String {
    labels(entity_type)
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| l.replace("{cur}", currency))
        .unwrap_or_else(|| humanise(key))
}

/// Where the field sits in its form (unknown fields after the known ones, by key).
fn position(entity_type: &str, key: &str) -> usize {
    labels(entity_type)
        .iter()
        .position(|(k, _)| *k == key)
        .unwrap_or(usize::MAX)
}

/// Whether an entry's details name records by id (so the page needs `Names`).
pub fn needs_names(entity_type: &str, details: &str) -> bool {
    entity_type == "offer"
        && OFFER_ID_FIELDS
            .iter()
            .any(|f| details.contains(&format!("\"{f}\"")))
}

/// Reads `details` (as stored) for people.
pub fn read(entity_type: &str, details: &str, names: &Names, currency: &str) -> Readable {
    let cx = Cx {
        entity_type,
        names,
        currency,
    };
    let value: Value = match serde_json::from_str(details) {
        Ok(v) => v,
        Err(_) if details.trim().is_empty() => return Readable::default(),
        Err(_) => {
            return Readable {
                facts: vec![Fact {
                    field: "Details".into(),
                    value: details.to_string(),
                }],
                ..Default::default()
            };
        }
    };
    let Value::Object(map) = value else {
        return Readable {
            facts: vec![Fact {
                field: "Details".into(),
                value: cx.value("", &value),
            }],
            ..Default::default()
        };
    };
    if let Some((before, after)) = whole_record(&map) {
        return Readable {
            changes: cx.record_changes(before, after),
            ..Default::default()
        };
    }
    if !map.is_empty() && map.values().all(is_before_after) {
        let mut changes: Vec<(usize, FieldChange)> = map
            .iter()
            .filter(|(k, _)| !cx.hidden(k))
            .map(|(k, v)| {
                let (b, a) = (&v["before"], &v["after"]);
                (
                    position(entity_type, k),
                    FieldChange {
                        field: label(entity_type, k, currency),
                        before: cx.value(k, b),
                        after: cx.value(k, a),
                    },
                )
            })
            .collect();
        changes.sort_by_key(|(p, _)| *p);
        return Readable {
            changes: changes.into_iter().map(|(_, c)| c).collect(),
            ..Default::default()
        };
    }
    let mut facts: Vec<(usize, Fact)> = map
        .iter()
        .filter(|(k, _)| !cx.hidden(k))
        .map(|(k, v)| {
            (
                position(entity_type, k),
                Fact {
                    field: label(entity_type, k, currency),
                    value: cx.value(k, v),
                },
            )
        })
        .collect();
    facts.sort_by_key(|(p, _)| *p);
    Readable {
        facts: facts.into_iter().map(|(_, f)| f).collect(),
        ..Default::default()
    }
}

/// `{"before": {…}, "after": {…}}` (either side may be null).
fn whole_record(map: &Map<String, Value>) -> Option<(&Value, &Value)> {
    if map.len() != 2 {
        return None;
    }
    let (b, a) = (map.get("before")?, map.get("after")?);
    let side = |v: &Value| v.is_object() || v.is_null();
    (side(b) && side(a) && (b.is_object() || a.is_object())).then_some((b, a))
}

/// `{"before": …, "after": …}` for one field.
fn is_before_after(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| !o.is_empty() && o.keys().all(|k| k == "before" || k == "after"))
}

struct Cx<'a> {
    entity_type: &'a str,
    names: &'a Names,
    currency: &'a str,
}

impl Cx<'_> {
    fn hidden(&self, key: &str) -> bool {
        HIDDEN.contains(&(self.entity_type, key))
    }

    /// The fields that differ between two versions of a record, in form order.
    fn record_changes(&self, before: &Value, after: &Value) -> Vec<FieldChange> {
        let empty = Map::new();
        let b = before.as_object().unwrap_or(&empty);
        let a = after.as_object().unwrap_or(&empty);
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort_by_key(|k| (position(self.entity_type, k), (*k).clone()));
        keys.dedup();
        keys.into_iter()
            .filter(|k| !self.hidden(k))
            .filter_map(|k| {
                let (bv, av) = (
                    b.get(k).unwrap_or(&Value::Null),
                    a.get(k).unwrap_or(&Value::Null),
                );
                (bv != av).then(|| FieldChange {
                    field: label(self.entity_type, k, self.currency),
                    before: self.value(k, bv),
                    after: self.value(k, av),
                })
            })
            .collect()
    }

    /// A value in words; "—" for nothing.
    fn value(&self, key: &str, v: &Value) -> String {
        match v {
            Value::Null => "—".into(),
            Value::Bool(true) => "Yes".into(),
            Value::Bool(false) => "No".into(),
            Value::Number(n) => match n.as_i64() {
                Some(i) => format_count(i),
                None => n.to_string(),
            },
            Value::String(s) => self.text(key, s),
            Value::Array(items) => {
                let words: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => self.item(key, s),
                        other => self.value(key, other),
                    })
                    .filter(|w| !w.is_empty())
                    .collect();
                join(words)
            }
            Value::Object(o) => o
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        label(self.entity_type, k, self.currency),
                        self.value(k, v)
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// A single string value.
    fn text(&self, key: &str, s: &str) -> String {
        if self.entity_type == "offer" && OFFER_CHECKBOXES.contains(&key) {
            return if s == "on" { "Yes" } else { "No" }.into();
        }
        if s.trim().is_empty() {
            return "—".into();
        }
        match (self.entity_type, key) {
            ("user", "role") => {
                return Role::parse("role", s)
                    .map(|r| r.label().to_string())
                    .unwrap_or_else(|_| s.to_string());
            }
            ("offer", "mode") => {
                if let Some(m) = RevokeMode::parse(s) {
                    return revoke_mode_title(m).into();
                }
            }
            ("offer", k) if OFFER_DATES.contains(&k) => {
                if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                    return d.format("%-d %b %Y").to_string();
                }
            }
            _ => {}
        }
        self.item(key, s)
    }

    /// One string of a list (or a single choice): the option's words, the record's name.
    fn item(&self, key: &str, s: &str) -> String {
        if self.entity_type == "offer" {
            if let Some((_, _, words)) = OFFER_CHOICES
                .iter()
                .find(|(k, code, _)| *k == key && *code == s)
            {
                return (*words).into();
            }
            if key == "weekdays"
                && let Some((_, day)) = WEEKDAY_NAMES.iter().find(|(code, _)| *code == s)
            {
                return (*day).into();
            }
            if OFFER_ID_FIELDS.contains(&key) {
                return self
                    .names
                    .get(key, s)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("#{s}"));
            }
        }
        s.to_string()
    }
}

/// The revocation form's titles.
fn revoke_mode_title(m: RevokeMode) -> &'static str {
    match m {
        RevokeMode::AllNotRedeemed => "All coupons not redeemed",
        RevokeMode::Unissued => "Only unissued coupons",
        RevokeMode::Customers => "All active coupons of specific customers",
    }
}

/// "a, b, c", "—" for none, and the first few of a long list.
fn join(words: Vec<String>) -> String {
    match words.len() {
        0 => "—".into(),
        n if n > LIST_SHOWN => format!(
            "{} and {} more",
            words[..LIST_SHOWN].join(", "),
            format_count((n - LIST_SHOWN) as i64)
        ),
        _ => words.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(field: &str, before: &str, after: &str) -> FieldChange {
        FieldChange {
            field: field.into(),
            before: before.into(),
            after: after.into(),
        }
    }

    #[test]
    fn offer_edits_use_the_form_labels_and_words() {
        let mut names = Names::default();
        names.add("stores", 7, "Store S1 (S1)".into());
        let details = r#"{"include_sale":{"before":"","after":"on"},"name":{"before":"Welcome","after":"Welcome back"},
            "expires_on":{"before":"2099-12-31","after":"2100-01-15"},"stores":{"before":[],"after":["7","8"]},
            "min_bill":{"before":"","after":"500.00"},"generation":{"before":"unique","after":"common"},
            "weekdays":{"before":["mon"],"after":["sat","sun"]},"brand_new":{"before":"a","after":"b"}}"#;
        let r = read("offer", details, &names, "INR");
        assert!(r.facts.is_empty());
        assert_eq!(
            r.changes,
            vec![
                change("Offer name", "Welcome", "Welcome back"),
                change("Expiry date", "31 Dec 2099", "15 Jan 2100"),
                change("Applicable on sale items", "No", "Yes"),
                change(
                    "How are codes made?",
                    "Automatically create unique codes",
                    "One common code for everyone"
                ),
                change("Stores", "—", "Store S1 (S1), #8"),
                change("Minimum bill (INR)", "—", "500.00"),
                change("Days of the week", "Mon", "Sat, Sun"),
                change("Brand new", "a", "b"),
            ]
        );
    }

    #[test]
    fn whole_records_show_only_what_changed() {
        let details = r#"{"before":{"role":"marketing","active":true},"after":{"role":"viewer","active":true}}"#;
        let r = read("user", details, &Names::default(), "INR");
        assert_eq!(
            r.changes,
            vec![change("Role", "Marketing manager", "Viewer")]
        );
        let details = r#"{"before":{"name":"Acme","currency":"INR","time_zone":"Asia/Kolkata"},"after":{"name":"Acme","currency":"AED","time_zone":"Asia/Dubai"}}"#;
        let r = read("org", details, &Names::default(), "INR");
        assert_eq!(
            r.changes,
            vec![
                change("Currency", "INR", "AED"),
                change("Time zone", "Asia/Kolkata", "Asia/Dubai")
            ]
        );
    }

    #[test]
    fn facts_read_as_field_and_value() {
        let details = r#"{"mode":"CUSTOMERS","revoked":1200,"customers_listed":2,"customers":["MOBILE 9000000001","EMAIL a@b.c"]}"#;
        let r = read("offer", details, &Names::default(), "INR");
        let facts: Vec<(String, String)> =
            r.facts.into_iter().map(|f| (f.field, f.value)).collect();
        assert_eq!(
            facts,
            vec![
                (
                    "Which coupons".into(),
                    "All active coupons of specific customers".into()
                ),
                ("Coupons revoked".into(), "1,200".into()),
                ("Customers listed".into(), "2".into()),
                ("Customers".into(), "MOBILE 9000000001, EMAIL a@b.c".into()),
            ]
        );
        let key = r#"{"name":"Till","key_prefix":"odk_ab12","consumer_id":null,"consumer":null,"rate_limit":500}"#;
        let r = read("api_key", key, &Names::default(), "INR");
        assert!(r.facts.iter().all(|f| f.field != "Consumer id"), "hidden");
        assert!(
            r.facts
                .iter()
                .any(|f| f.field == "Rate limit (requests/s)" && f.value == "500")
        );
    }

    #[test]
    fn odd_details_never_show_json() {
        let r = read("store", r#"[1, {"a_b": true}]"#, &Names::default(), "INR");
        assert_eq!(r.facts[0].value, "1, A b: Yes");
        let r = read("store", "not json", &Names::default(), "INR");
        assert_eq!(r.facts[0].value, "not json");
        let long: Vec<String> = (0..25).map(|i| i.to_string()).collect();
        assert_eq!(
            join(long),
            "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 15 more".to_string()
        );
        assert_eq!(humanise("customers_listed"), "Customers listed");
    }
}
