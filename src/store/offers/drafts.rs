//! The create-offer wizard's drafts, and the specific-customers lists of drafts and offers.

use super::super::dyntx::Arg;
use super::super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::ids::{OfferId, OrgId, UserId};
use crate::domain::masters::IdentifierType;
use crate::domain::offer::form::OfferForm;
use crate::domain::user::Actor;
use chrono::Utc;

impl Store {
    /// Replaces the customer list of the user's wizard draft.
    pub async fn replace_draft_audience(
        &self,
        user_id: UserId,
        rows: &[(IdentifierType, String)],
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "DELETE FROM draft_audience WHERE user_id = $1",
            &[user_id.into()],
        )
        .await?;
        for (kind, value) in rows {
            tx.execute(
                "INSERT INTO draft_audience (user_id, identifier_type, identifier) VALUES ($1, $2, $3)",
                &[user_id.into(), kind.as_str().into(), value.as_str().into()],
            )
            .await?;
        }
        tx.commit().await
    }

    pub async fn draft_audience_count(&self, user_id: UserId) -> StoreResult<i64> {
        let (n,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM draft_audience WHERE user_id = $1",
                &[user_id.into()],
            )
            .await?;
        Ok(n)
    }

    /// Replaces an offer's specific-customers list (audited).
    pub async fn replace_offer_audience(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        rows: &[(IdentifierType, String)],
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let owned: Option<(i64,)> = tx
            .fetch_optional(
                "SELECT id FROM offers WHERE org_id = $1 AND id = $2",
                &[org_id.into(), offer_id.into()],
            )
            .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "DELETE FROM offer_audience WHERE offer_id = $1",
            &[offer_id.into()],
        )
        .await?;
        for (kind, value) in rows {
            tx.execute(
                "INSERT INTO offer_audience (offer_id, identifier_type, identifier) VALUES ($1, $2, $3)",
                &[offer_id.into(), kind.as_str().into(), value.as_str().into()],
            )
            .await?;
        }
        super::super::audit::record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "offer.audience",
                entity_type: "offer",
                entity_id: Some(offer_id.get()),
                summary: format!(
                    "Replaced the customer list: {}",
                    crate::domain::money::plural(rows.len() as i64, "customer", "customers")
                ),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Customers in an offer's specific-customers list (the offer is the org's, checked by the caller).
    pub async fn offer_audience_count(&self, offer_id: OfferId) -> StoreResult<i64> {
        let (n,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM offer_audience WHERE offer_id = $1",
                &[offer_id.into()],
            )
            .await?;
        Ok(n)
    }

    /// The user's half-filled create-offer wizard, if any.
    pub async fn get_draft(
        &self,
        user_id: UserId,
    ) -> StoreResult<Option<(OfferForm, Option<i64>)>> {
        let row: Option<(String, Option<i64>)> = self
            .fetch_optional_read(
                "SELECT form, consumer_id FROM offer_drafts WHERE user_id = $1",
                &[user_id.into()],
            )
            .await?;
        Ok(
            row.and_then(|(json, consumer)| {
                serde_json::from_str(&json).ok().map(|f| (f, consumer))
            }),
        )
    }

    pub async fn save_draft(
        &self,
        user_id: UserId,
        form: &OfferForm,
        consumer_id: Option<i64>,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(form)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?;
        self.execute_autocommit(
            "INSERT INTO offer_drafts (user_id, consumer_id, form, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET consumer_id = excluded.consumer_id, form = excluded.form, updated_at = excluded.updated_at",
            &[user_id.into(), Arg::OptI64(consumer_id), json.into(), Utc::now().into()],
        )
        .await?;
        Ok(())
    }

    pub async fn delete_draft(&self, user_id: UserId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "DELETE FROM draft_audience WHERE user_id = $1",
            &[user_id.into()],
        )
        .await?;
        tx.execute(
            "DELETE FROM offer_drafts WHERE user_id = $1",
            &[user_id.into()],
        )
        .await?;
        tx.commit().await
    }
}
