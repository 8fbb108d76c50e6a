//! Creating and editing offers (OFF-1..6): the rules come parsed and checked (`domain::offer`);
//! here an offer created for a consumer passes the claim rules first, the store writes it with
//! its code rows (a taken common code or offer code is refused, not an error), and an edit is
//! audited with the fields it changed.

use crate::domain::claim::ClaimRefusal;
use crate::domain::ids::{OfferId, OrgId, UserId};
use crate::domain::offer::edit::changes;
use crate::domain::offer::form::OfferForm;
use crate::domain::offer::input::OfferField;
use crate::domain::offer::{Generation, OfferExpiry, OfferRules};
use crate::domain::user::Actor;
use crate::store::offers::OfferRecord;
use crate::store::{Store, StoreError, StoreResult};

/// Why an offer was not created or saved; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferRefusal {
    /// The consumer the offer is created for may not hold it (CLM-1).
    Claim(ClaimRefusal),
    /// Another offer of the org uses this value of the field (the common code, the offer code).
    Taken(OfferField),
    /// Every fixed part for randomized codes of the sample's length is used (COD-4).
    NoFixedPartLeft,
    /// The offer's generated codes could repeat this promotion code of the org (`field` is the
    /// prefix for unique codes, the sample for randomized ones).
    ShapeTaken { field: OfferField, code: String },
    /// Randomized common codes are made only by offers created in Incentives, not from a
    /// campaign's or program's page nor through the API (seed 001, COD-4).
    RandomizedOutsideIncentives,
}

impl OfferRefusal {
    /// The form field it is about, and what to say next to it.
    pub fn field_error(&self) -> (&'static str, String) {
        match self {
            OfferRefusal::Claim(r) => ("consumer", r.to_string()),
            OfferRefusal::Taken(field) => (
                field.form(),
                "is already used by another offer of this organisation".into(),
            ),
            OfferRefusal::RandomizedOutsideIncentives => (
                OfferField::Generation.form(),
                "cannot be randomized common codes here: those are made only by offers created in Incentives (a campaign or program can claim such an offer afterwards)".into(),
            ),
            OfferRefusal::ShapeTaken { field, code } => (
                field.form(),
                format!(
                    "would make codes that could repeat the promotion code {code}: choose another prefix or length"
                ),
            ),
            OfferRefusal::NoFixedPartLeft => (
                OfferField::SampleCode.form(),
                "has no fixed part left: every one for codes of this length is used by another randomized offer of this organisation; choose another length".into(),
            ),
        }
    }
}

fn refusal_of(e: StoreError) -> Result<OfferRefusal, StoreError> {
    match e {
        StoreError::Conflict(f) if f == "common_code" => {
            Ok(OfferRefusal::Taken(OfferField::CommonCode))
        }
        StoreError::Conflict(f) if f == "sample_code" => Ok(OfferRefusal::NoFixedPartLeft),
        StoreError::Conflict(f) if f.starts_with("code_shape:") => {
            let (field, code) = match f
                .split_once(':')
                .map(|x| x.1)
                .and_then(|r| r.split_once(':'))
            {
                Some(("sample", code)) => (OfferField::SampleCode, code),
                Some((_, code)) => (OfferField::CodePrefix, code),
                None => (OfferField::CodePrefix, ""),
            };
            Ok(OfferRefusal::ShapeTaken {
                field,
                code: code.to_string(),
            })
        }
        StoreError::Conflict(_) => Ok(OfferRefusal::Taken(OfferField::OfferCode)),
        e => Err(e),
    }
}

/// Creates an offer of the org with `rules`, claimed by `consumer` when it is created in a
/// consumer's context (OFF-6; the claim rules apply: an outbound campaign holds one offer, an
/// ended campaign none, …). The new offer's id.
#[tracing::instrument(name = "app.create_offer", skip_all, fields(org = org_id.get()))]
pub async fn create(
    store: &Store,
    org_id: OrgId,
    rules: &OfferRules,
    consumer: Option<i64>,
    created_by: Option<UserId>,
    actor: &Actor,
) -> StoreResult<Result<OfferId, OfferRefusal>> {
    if consumer.is_some() && matches!(rules.generation, Generation::Randomized { .. }) {
        return Ok(Err(OfferRefusal::RandomizedOutsideIncentives));
    }
    if let Some(c) = consumer {
        let ends_with_campaign = rules.expiry == OfferExpiry::WithCampaign;
        if let Err(refusal) =
            super::claim::may_create_for(store, org_id, &rules.name, ends_with_campaign, c).await?
        {
            return Ok(Err(OfferRefusal::Claim(refusal)));
        }
    }
    match store
        .create_offer(org_id, rules, consumer, created_by, actor)
        .await
    {
        Ok(id) => Ok(Ok(id)),
        Err(e) => refusal_of(e).map(Err),
    }
}

/// Saves new rules and offer code for an existing offer, audited with the fields that changed
/// (as the edit form names them).
#[tracing::instrument(name = "app.update_offer", skip_all, fields(org = org_id.get(), offer = offer.id.get()))]
pub async fn update(
    store: &Store,
    org_id: OrgId,
    offer: &OfferRecord,
    offer_code: &str,
    rules: &OfferRules,
    digits: u32,
    actor: &Actor,
) -> StoreResult<Result<(), OfferRefusal>> {
    let mut before = OfferForm::from_rules(&offer.rules, digits);
    let mut after = OfferForm::from_rules(rules, digits);
    before.offer_code = offer.offer_code.clone();
    after.offer_code = offer_code.to_string();
    let diff = changes(&before, &after);
    match store
        .update_offer(org_id, offer.id, offer_code, rules, diff, actor)
        .await
    {
        Ok(()) => Ok(Ok(())),
        Err(e) => refusal_of(e).map(Err),
    }
}
