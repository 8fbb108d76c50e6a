//! The API body of a new offer as the input of the offer's section parsers: codes of the
//! org's records resolved to ids, unknown POC emails added as POCs, numbers and amounts read
//! as sent (amounts in minor units) — never converted into the wizard's form strings.

use super::SeriesBody;
use crate::api::ApiError;
use crate::domain::ids::OrgId;
use crate::domain::offer::input::{Given, Ids, OfferField, OfferInput, ReminderGiven};
use crate::state::AppState;
use crate::store::masters::CodedKind;
use std::collections::HashMap;

/// The org's POC ids for these emails, adding the unknown ones (named by their address).
pub(super) async fn poc_ids(
    state: &AppState,
    org_id: OrgId,
    emails: &[String],
    actor: &crate::domain::user::Actor,
) -> Result<Vec<i64>, ApiError> {
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
        ids.push(id);
    }
    Ok(ids)
}

/// Maps codes of the org's records to their ids; an unknown code is an error.
pub(super) fn ids_of(
    field: &str,
    codes: &[String],
    known: &HashMap<String, i64>,
) -> Result<Vec<i64>, ApiError> {
    codes
        .iter()
        .map(|c| {
            known
                .get(&c.trim().to_ascii_uppercase())
                .copied()
                .ok_or_else(|| {
                    ApiError::field(
                        field,
                        format!("no record with code `{c}` in this organisation"),
                    )
                })
        })
        .collect()
}

/// An API body read by the offer's section parsers, with the codes of the org's records it
/// names resolved to ids (an unknown code is an error before parsing).
pub(super) struct ApiOffer<'a> {
    body: &'a SeriesBody,
    ids: HashMap<OfferField, Vec<i64>>,
}

impl<'a> ApiOffer<'a> {
    /// Resolves the body's codes (categories, brands, stores, tills, zones, concepts) and POC
    /// emails (unknown ones become POCs of the org).
    pub(super) async fn resolve(
        state: &AppState,
        org_id: OrgId,
        body: &'a SeriesBody,
        actor: &crate::domain::user::Actor,
    ) -> Result<ApiOffer<'a>, ApiError> {
        let coded = |kind| async move {
            state.store.list_coded(org_id, kind).await.map(|rows| {
                rows.into_iter()
                    .map(|r| (r.code, r.id))
                    .collect::<HashMap<_, _>>()
            })
        };
        let mut ids = HashMap::new();
        for (field, codes, kind) in [
            (
                OfferField::Categories,
                &body.categories,
                CodedKind::Category,
            ),
            (OfferField::Brands, &body.brands, CodedKind::Brand),
            (OfferField::Zones, &body.zones, CodedKind::Zone),
            (OfferField::Concepts, &body.concepts, CodedKind::Concept),
        ] {
            if !codes.is_empty() {
                ids.insert(field, ids_of(field.api(), codes, &coded(kind).await?)?);
            }
        }
        if !body.stores.is_empty() {
            let known = state.store.store_ids(org_id).await?;
            ids.insert(OfferField::Stores, ids_of("stores", &body.stores, &known)?);
        }
        if !body.tills.is_empty() {
            let known: HashMap<String, i64> = state
                .store
                .list_tills(org_id, None)
                .await?
                .into_iter()
                .map(|t| (t.code, t.id))
                .collect();
            ids.insert(OfferField::Tills, ids_of("tills", &body.tills, &known)?);
        }
        if let Some(r) = &body.expiry_reminder {
            if r.poc_emails.is_empty() {
                return Err(ApiError::field(
                    "expiryReminder.pocEmails",
                    "give at least one email",
                ));
            }
            ids.insert(
                OfferField::PocIds,
                poc_ids(state, org_id, &r.poc_emails, actor).await?,
            );
        }
        Ok(ApiOffer { body, ids })
    }
}

impl OfferInput for ApiOffer<'_> {
    fn text(&self, field: OfferField) -> &str {
        use OfferField as F;
        let b = self.body;
        fn or<'v>(v: &'v Option<String>, default: &'static str) -> &'v str {
            v.as_deref().unwrap_or(default)
        }
        match field {
            F::Name => &b.name,
            F::PosCode => or(&b.pos_code, ""),
            F::ExpiryType => or(&b.expiry_type, "fixed"),
            F::ExpiresOn => or(&b.valid_till, ""),
            F::DiscountType => &b.discount_type,
            F::AppliesTo if b.categories.is_empty() && b.brands.is_empty() => "all",
            F::AppliesTo => "selected",
            F::Delivery => or(&b.delivery, "system"),
            F::Generation => or(&b.code_type, "unique"),
            F::CodeCharset => or(&b.code_charset, "unambiguous"),
            F::CodePrefix => or(&b.code_prefix, ""),
            F::CommonCode => or(&b.common_code, ""),
            F::SampleCode => or(&b.sample_code, ""),
            F::CouponExpiry => or(&b.coupon_expiry_type, "offer"),
            F::RedemptionStart => "issue",
            F::TimeSlots => or(&b.time_slots, ""),
            F::ExpiryNoticeChannel => b.expiry_notice.as_ref().map_or("", |n| &n.channel),
            F::ExpiryNoticeText => b.expiry_notice.as_ref().map_or("", |n| &n.text),
            _ => "",
        }
    }

    fn number(&self, field: OfferField) -> Given<'_> {
        use OfferField as F;
        let b = self.body;
        match field {
            F::DiscountValue => match &b.discount_value {
                None => Given::Absent,
                Some(n) => n
                    .as_i64()
                    .map(Given::Whole)
                    .or_else(|| n.as_f64().map(Given::Real))
                    .unwrap_or(Given::Absent),
            },
            F::DiscountCap => Given::of(b.discount_cap),
            F::CodeLength => Given::Whole(b.code_length.unwrap_or(10).into()),
            F::CouponExpiryN => Given::of(b.coupon_expiry_value),
            F::MaxPerCustomer => Given::of(b.max_issuals_per_customer),
            F::MinIssualGapDays => Given::of(b.min_issual_gap_days),
            F::TotalIssualCap => Given::of(b.total_issual_cap),
            F::MaxRedemptionsPerCustomer => Given::of(b.max_redemptions_per_customer),
            F::RedemptionGapDays => Given::of(b.redemption_gap_days),
            F::TotalRedemptionCap => Given::of(b.max_redeem),
            F::MinBill => Given::of(b.min_bill),
            F::MaxBill => Given::of(b.max_bill),
            F::PocReminderDays => Given::of(b.expiry_reminder.as_ref().map(|r| r.days_before)),
            _ => Given::Absent,
        }
    }

    fn flag(&self, field: OfferField) -> bool {
        use OfferField as F;
        let b = self.body;
        match field {
            F::IncludeSale => b.include_sale_items,
            F::UploadWithCustomers => b.upload_with_customers,
            F::AnyoneCanRedeem => b.any_user,
            F::MultipleRedemption => b.multiple_redemption,
            F::PocReminder => b.expiry_reminder.is_some(),
            F::ExpiryNotice => b.expiry_notice.is_some(),
            _ => false,
        }
    }

    fn ids(&self, field: OfferField) -> Ids<'_> {
        Ids::Resolved(self.ids.get(&field).map(Vec::as_slice).unwrap_or(&[]))
    }

    fn list(&self, field: OfferField) -> Vec<&str> {
        let list = match field {
            OfferField::Weekdays => &self.body.weekdays,
            OfferField::Dates => &self.body.dates,
            _ => return Vec::new(),
        };
        list.iter().map(String::as_str).collect()
    }

    /// Customer reminders are set in the console.
    fn reminders(&self) -> Vec<ReminderGiven<'_>> {
        Vec::new()
    }
}
