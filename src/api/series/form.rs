//! The API body of a new offer mapped onto the wizard's form (codes of the org's records to
//! ids, unknown POC emails to new POCs), and the form's field names back to the API's.

use super::SeriesBody;
use crate::api::ApiError;
use crate::domain::money::amount_input;
use crate::domain::offer::form::OfferForm;
use crate::state::AppState;
use crate::store::masters::CodedKind;
use std::collections::HashMap;

/// The org's POC ids for these emails, adding the unknown ones (named by their address).
pub(super) async fn poc_ids(
    state: &AppState,
    org_id: i64,
    emails: &[String],
    actor: &crate::domain::user::Actor,
) -> Result<Vec<String>, ApiError> {
    use crate::domain::masters::NewPoc;
    let mut known: HashMap<String, i64> = state
        .store
        .list_pocs(org_id)
        .await?
        .into_iter()
        .map(|p| (p.email, p.id))
        .collect();
    let mut ids = Vec::new();
    for (i, raw) in emails.iter().enumerate() {
        let field = format!("expiryReminder.pocEmails[{i}]");
        let name = raw.trim().split('@').next().unwrap_or("").to_string();
        let poc = NewPoc::parse(&name, raw)
            .map_err(|_| ApiError::field(&field, "is not an email address"))?;
        let id = match known.get(poc.email.as_str()) {
            Some(id) => *id,
            None => {
                let id = state.store.create_poc(org_id, &poc, actor).await?;
                known.insert(poc.email.as_str().to_string(), id);
                id
            }
        };
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// The form field's name in the API body.
pub(super) fn api_field(form_field: &str) -> String {
    let special = [
        ("expires_on", "validTill"),
        ("total_redemption_cap", "maxRedeem"),
        ("anyone_can_redeem", "anyUser"),
        ("generation", "codeType"),
        ("include_sale", "includeSaleItems"),
        ("max_per_customer", "maxIssualsPerCustomer"),
        ("coupon_expiry", "couponExpiryType"),
        ("coupon_expiry_n", "couponExpiryValue"),
        ("poc_reminder_days", "expiryReminder.daysBefore"),
        ("poc_ids", "expiryReminder.pocEmails"),
    ];
    if let Some((_, api)) = special.iter().find(|(f, _)| *f == form_field) {
        return api.to_string();
    }
    let mut out = String::new();
    let mut upper = false;
    for c in form_field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Maps codes of the org's records to the ids the form takes; an unknown code is an error.
pub(super) fn ids_of(
    field: &str,
    codes: &[String],
    known: &HashMap<String, i64>,
) -> Result<Vec<String>, ApiError> {
    codes
        .iter()
        .map(|c| {
            known
                .get(&c.trim().to_ascii_uppercase())
                .map(|id| id.to_string())
                .ok_or_else(|| {
                    ApiError::field(
                        field,
                        format!("no record with code `{c}` in this organisation"),
                    )
                })
        })
        .collect()
}

/// The wizard form an API body stands for.
pub(super) async fn form_of(
    state: &AppState,
    org_id: i64,
    b: &SeriesBody,
    digits: u32,
) -> Result<OfferForm, ApiError> {
    let mut f = OfferForm::defaults();
    let lower = |s: &Option<String>, default: &str| {
        s.as_deref().unwrap_or(default).trim().to_ascii_lowercase()
    };
    let num = |n: Option<i64>| n.map(|v| v.to_string()).unwrap_or_default();
    let money = |n: Option<i64>| n.map(|v| amount_input(v, digits)).unwrap_or_default();
    let on = |b: bool| if b { "on".to_string() } else { String::new() };
    f.name = b.name.clone();
    f.pos_code = b.pos_code.clone().unwrap_or_default();
    f.expiry_type = lower(&b.expiry_type, "fixed");
    f.expires_on = b.valid_till.clone().unwrap_or_default();
    f.discount_type = b.discount_type.trim().to_ascii_uppercase();
    f.discount_value = match (&b.discount_value, f.discount_type.as_str()) {
        (None, _) => String::new(),
        (Some(n), "ABS") => match n.as_i64() {
            Some(v) if v > 0 => amount_input(v, digits),
            _ => {
                return Err(ApiError::field(
                    "discountValue",
                    "an ABS discount is a positive whole number of minor units (20000 = 200.00)",
                ));
            }
        },
        (Some(n), _) => n.to_string(),
    };
    f.discount_cap = money(b.discount_cap);
    let coded = |kind| async move {
        state.store.list_coded(org_id, kind).await.map(|rows| {
            rows.into_iter()
                .map(|r| (r.code, r.id))
                .collect::<HashMap<_, _>>()
        })
    };
    if !b.categories.is_empty() || !b.brands.is_empty() {
        f.applies_to = "selected".into();
        f.categories = ids_of(
            "categories",
            &b.categories,
            &coded(CodedKind::Category).await?,
        )?;
        f.brands = ids_of("brands", &b.brands, &coded(CodedKind::Brand).await?)?;
    }
    f.include_sale = on(b.include_sale_items);
    f.delivery = lower(&b.delivery, "system");
    f.generation = lower(&b.code_type, "unique");
    if let Some(n) = b.code_length {
        f.code_length = n.to_string();
    }
    if let Some(c) = &b.code_charset {
        f.code_charset = c.trim().to_ascii_lowercase();
    }
    f.code_prefix = b.code_prefix.clone().unwrap_or_default();
    f.common_code = b.common_code.clone().unwrap_or_default();
    f.sample_code = b.sample_code.clone().unwrap_or_default();
    f.upload_with_customers = on(b.upload_with_customers);
    f.coupon_expiry = lower(&b.coupon_expiry_type, "offer");
    f.coupon_expiry_n = num(b.coupon_expiry_value.map(i64::from));
    f.max_per_customer = num(b.max_issuals_per_customer.map(i64::from));
    f.min_issual_gap_days = num(b.min_issual_gap_days.map(i64::from));
    f.total_issual_cap = num(b.total_issual_cap);
    f.anyone_can_redeem = on(b.any_user);
    f.multiple_redemption = on(b.multiple_redemption);
    f.max_redemptions_per_customer = num(b.max_redemptions_per_customer.map(i64::from));
    f.redemption_gap_days = num(b.redemption_gap_days.map(i64::from));
    f.total_redemption_cap = num(b.max_redeem);
    f.min_bill = money(b.min_bill);
    f.max_bill = money(b.max_bill);
    if !b.stores.is_empty() {
        let known = state.store.store_ids(org_id).await?;
        f.stores = ids_of("stores", &b.stores, &known)?;
    }
    if !b.tills.is_empty() {
        let known: HashMap<String, i64> = state
            .store
            .list_tills(org_id, None)
            .await?
            .into_iter()
            .map(|t| (t.code, t.id))
            .collect();
        f.tills = ids_of("tills", &b.tills, &known)?;
    }
    if !b.zones.is_empty() {
        f.zones = ids_of("zones", &b.zones, &coded(CodedKind::Zone).await?)?;
    }
    if !b.concepts.is_empty() {
        f.concepts = ids_of("concepts", &b.concepts, &coded(CodedKind::Concept).await?)?;
    }
    f.weekdays = b
        .weekdays
        .iter()
        .map(|w| w.trim().to_ascii_lowercase())
        .collect();
    f.time_slots = b.time_slots.clone().unwrap_or_default();
    f.dates = b.dates.join(", ");
    Ok(f)
}
