//! Editing an offer (OFF-4): what may not change once it exists, its offer code, and what an
//! edit changed, for the audit log.

use super::form::OfferForm;
use super::{Generation, OfferRules};
use crate::domain::{FieldError, FieldErrors};

/// Refuses changes to what OFF-4 and COD-4 make immutable.
pub fn check_immutables(before: &OfferRules, after: &OfferRules, errors: &mut FieldErrors) {
    if std::mem::discriminant(&before.expiry) != std::mem::discriminant(&after.expiry) {
        errors.push(
            "expiry_type",
            "cannot be changed after the offer is created",
        );
    }
    if before.generation.kind() != after.generation.kind() {
        errors.push("generation", "cannot be changed after the offer is created");
    }
    if let (Generation::Randomized { sample: a }, Generation::Randomized { sample: b }) =
        (&before.generation, &after.generation)
        && a != b
    {
        errors.push(
            "sample_code",
            "cannot be changed after the offer is created",
        );
    }
}

/// Parses the offer code typed on the edit page (COD-5 style: trimmed, upper case).
pub fn parse_offer_code(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim().to_ascii_uppercase();
    if s.len() < 3 || s.len() > 30 {
        return Err(FieldError::new("offer_code", "must be 3 to 30 characters"));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FieldError::new(
            "offer_code",
            "may contain only letters, digits, '-' and '_'",
        ));
    }
    Ok(s)
}

/// The changed form fields as `{"field": {"before": …, "after": …}}`.
pub fn changes(before: &OfferForm, after: &OfferForm) -> serde_json::Value {
    let (b, a) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    );
    let mut out = serde_json::Map::new();
    if let (Some(b), Some(a)) = (b.as_object(), a.as_object()) {
        for (k, av) in a {
            let bv = b.get(k).cloned().unwrap_or_default();
            if &bv != av {
                out.insert(k.clone(), serde_json::json!({"before": bv, "after": av}));
            }
        }
    }
    serde_json::Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::offer::OfferExpiry;
    use crate::domain::offer::tests::sample_rules;

    #[test]
    fn the_expiry_type_the_way_codes_are_made_and_the_sample_cannot_change() {
        let before = sample_rules();
        let mut after = before.clone();
        after.expiry = OfferExpiry::WithCampaign;
        after.generation = Generation::Randomized {
            sample: "TEST12345".into(),
        };
        let mut errors = FieldErrors::default();
        check_immutables(&before, &after, &mut errors);
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["expiry_type", "generation"]);
        let mut sample = before.clone();
        sample.generation = Generation::Randomized {
            sample: "TEST12345".into(),
        };
        let mut other = sample.clone();
        other.generation = Generation::Randomized {
            sample: "ABCD12345".into(),
        };
        let mut errors = FieldErrors::default();
        check_immutables(&sample, &other, &mut errors);
        assert_eq!(errors.0[0].field, "sample_code");
        let mut errors = FieldErrors::default();
        check_immutables(&before, &before.clone(), &mut errors);
        assert!(errors.is_empty());
    }

    #[test]
    fn offer_codes_are_trimmed_upper_case_and_plain() {
        assert_eq!(parse_offer_code(" diwali-15 ").unwrap(), "DIWALI-15");
        assert!(parse_offer_code("ab").is_err());
        assert!(
            parse_offer_code("DIWALI 15")
                .unwrap_err()
                .message
                .contains("only letters")
        );
    }

    #[test]
    fn the_audit_keeps_only_changed_fields_with_before_and_after() {
        let before = OfferForm::from_rules(&sample_rules(), 2);
        let mut after = before.clone();
        after.name = "Renamed".into();
        let diff = changes(&before, &after);
        let obj = diff.as_object().unwrap();
        assert_eq!(obj.len(), 1);
        assert_eq!(obj["name"]["after"], "Renamed");
    }
}
