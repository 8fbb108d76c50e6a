//! Customers' contacts and channel preference (issue #18, item 6) in SQL: set by the console's
//! CSV and the API (all or nothing, audited), read for a chunk of issued coupons to deliver
//! them (`app::issue`), and looked up for one customer on the console page. The rule that
//! chooses the channel is `domain::contacts::Reach`.

use super::audit::{AuditEntry, record_dyn};
use super::dyntx::{Arg, DynTx, placeholders};
use super::{Store, StoreError, StoreResult};
use crate::domain::contacts::{CustomerContacts, Reach};
use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::masters::IdentifierType;
use crate::domain::offer::Channel;
use crate::domain::user::Actor;
use chrono::Utc;
use std::collections::HashMap;

/// Rows per statement (bound parameters stay well under both databases' limits).
const CHUNK: usize = 500;

/// A customer as a message to them needs them: how they are reached and their first name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerReach {
    pub reach: Reach,
    pub first_name: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReachRow {
    id: CustomerId,
    identifier_type: String,
    identifier: String,
    mobile: Option<String>,
    email: Option<String>,
    preferred_channel: Option<Channel>,
    first_name: Option<String>,
}

const REACH_COLUMNS: &str =
    "id, identifier_type, identifier, mobile, email, preferred_channel, first_name";

impl ReachRow {
    pub(crate) fn into_reach(self) -> StoreResult<(CustomerId, CustomerReach)> {
        let kind = IdentifierType::parse(&self.identifier_type).ok_or_else(|| {
            StoreError::Db(sqlx::Error::Decode(
                format!("unknown identifier type {:?}", self.identifier_type).into(),
            ))
        })?;
        Ok((
            self.id,
            CustomerReach {
                reach: Reach {
                    identifier: CustomerRef {
                        kind,
                        value: self.identifier,
                    },
                    mobile: self.mobile,
                    email: self.email,
                    preferred: self.preferred_channel,
                },
                first_name: self.first_name,
            },
        ))
    }
}

/// Of the customers `ids`, those with a contact or a preference set — and with
/// `with_first_name`, a first name — and how they are reached, inside `tx` (a chunk of an
/// issue). The others are reached by their identifier alone, which the caller knows: a bulk
/// issue of customers without contacts reads no rows here.
pub(crate) async fn customers_with_contacts(
    tx: &mut DynTx,
    ids: &[CustomerId],
    with_first_name: bool,
) -> StoreResult<HashMap<CustomerId, CustomerReach>> {
    let mut unique: Vec<CustomerId> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let named = if with_first_name {
        " OR first_name IS NOT NULL"
    } else {
        ""
    };
    let mut found = HashMap::new();
    for chunk in unique.chunks(super::issue::ISSUE_CHUNK) {
        let mut args: Vec<Arg> = chunk.iter().map(|id| Arg::from(*id)).collect();
        // The ids' range keeps PostgreSQL on the primary key as the table grows in a bulk
        // issue (`Dialect::id_range`); `unique` is sorted.
        let range = tx
            .dialect()
            .id_range("id", chunk.len() + 1, chunk.len() + 2);
        args.push(chunk[0].into());
        args.push(chunk[chunk.len() - 1].into());
        let rows: Vec<ReachRow> = tx
            .fetch_all(
                &format!(
                    "SELECT {REACH_COLUMNS} FROM customers WHERE id IN ({}){range} \
                     AND (mobile IS NOT NULL OR email IS NOT NULL OR preferred_channel IS NOT NULL{named})",
                    placeholders(1, chunk.len())
                ),
                &args,
            )
            .await?;
        for row in rows {
            let (id, reach) = row.into_reach()?;
            found.insert(id, reach);
        }
    }
    Ok(found)
}

/// What the org knows of its customers' contacts, for the console page.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactCounts {
    pub with_mobile: i64,
    pub with_email: i64,
    pub prefer_sms: i64,
    pub prefer_email: i64,
}

impl Store {
    /// Sets the contacts and channel preference of each row's customer, replacing what they
    /// had (customers new to the org are added), and the first names given, in one
    /// transaction, audited. How many customers were written.
    pub async fn set_customer_contacts(
        &self,
        org_id: OrgId,
        rows: &[CustomerContacts],
        first_names: &[(CustomerRef, String)],
        actor: &Actor,
    ) -> StoreResult<usize> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        for chunk in rows.chunks(CHUNK) {
            let refs: Vec<CustomerRef> = chunk.iter().map(|r| r.customer.clone()).collect();
            let ids = super::customers::customer_ids(&mut tx, org_id, &refs, now).await?;
            let mut args: Vec<Arg> = vec![org_id.into()];
            let mut tuples = Vec::with_capacity(chunk.len());
            for r in chunk {
                let id = *ids.get(&r.customer).ok_or(StoreError::NotFound)?;
                let n = args.len();
                tuples.push(format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4));
                args.extend([
                    id.into(),
                    Arg::OptText(r.mobile.clone()),
                    Arg::OptText(r.email.clone()),
                    Arg::OptText(r.preferred.map(|c| c.as_str().to_string())),
                ]);
            }
            tx.execute(
                &format!(
                    "WITH v(id, mobile, email, preferred) AS (VALUES {}) UPDATE customers SET mobile = v.mobile, \
                     email = v.email, preferred_channel = v.preferred FROM v WHERE customers.id = v.id AND customers.org_id = $1",
                    tuples.join(",")
                ),
                &args,
            )
            .await?;
        }
        super::customers::set_first_names_in(&mut tx, org_id, first_names, now).await?;
        if !rows.is_empty() {
            record_dyn(
                &mut tx,
                AuditEntry {
                    org_id,
                    actor,
                    action: "customer.contacts_set",
                    entity_type: "customer",
                    entity_id: None,
                    summary: match rows {
                        [one] => format!("Set the contacts of {}", one.customer.label()),
                        many => format!("Set the contacts of {} customers", many.len()),
                    },
                    details: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// How one customer of the org is reached, if the org knows them.
    pub async fn customer_reach_of(
        &self,
        org_id: OrgId,
        customer: &CustomerRef,
    ) -> StoreResult<Option<CustomerReach>> {
        let row: Option<ReachRow> = self
            .fetch_optional_read(
                &format!(
                    "SELECT {REACH_COLUMNS} FROM customers WHERE org_id = $1 AND identifier_type = $2 AND identifier = $3"
                ),
                &[
                    org_id.into(),
                    customer.kind.as_str().into(),
                    customer.value.as_str().into(),
                ],
            )
            .await?;
        row.map(|r| r.into_reach().map(|(_, reach)| reach))
            .transpose()
    }

    /// How many of the org's customers have a mobile or an email set, and prefer each channel.
    pub async fn contact_counts(&self, org_id: OrgId) -> StoreResult<ContactCounts> {
        Ok(self
            .fetch_optional_read(
                "SELECT COALESCE(SUM(CASE WHEN mobile IS NOT NULL THEN 1 ELSE 0 END), 0) AS with_mobile, \
                 COALESCE(SUM(CASE WHEN email IS NOT NULL THEN 1 ELSE 0 END), 0) AS with_email, \
                 COALESCE(SUM(CASE WHEN preferred_channel = 'sms' THEN 1 ELSE 0 END), 0) AS prefer_sms, \
                 COALESCE(SUM(CASE WHEN preferred_channel = 'email' THEN 1 ELSE 0 END), 0) AS prefer_email \
                 FROM customers WHERE org_id = $1",
                &[org_id.into()],
            )
            .await?
            .unwrap_or_default())
    }
}

/// How the customer `id` is reached, read in `tx`.
pub async fn reach_of(tx: &mut DynTx, id: CustomerId) -> StoreResult<Option<CustomerReach>> {
    let row: Option<ReachRow> = tx
        .fetch_optional(
            &format!("SELECT {REACH_COLUMNS} FROM customers WHERE id = $1"),
            &[id.into()],
        )
        .await?;
    row.map(|r| r.into_reach().map(|(_, reach)| reach))
        .transpose()
}
