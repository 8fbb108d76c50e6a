//! Customers as issuing and redemption meet them: created on first sight by their identifier,
//! with the first name some issues bring (for `{first_name}` in messages).

use super::dyntx::{Arg, DynTx};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::masters::IdentifierType;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

impl Store {
    /// Records customers' first names (created when new), for `{first_name}` in messages. A
    /// blank name leaves a known one as it is.
    pub async fn set_first_names(
        &self,
        org_id: OrgId,
        names: &[(CustomerRef, String)],
    ) -> StoreResult<()> {
        if names.iter().all(|(_, n)| n.trim().is_empty()) {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        set_first_names_in(&mut tx, org_id, names, Utc::now()).await?;
        tx.commit().await
    }
}

/// Records first names inside `tx` (customers created when new); blank names are skipped.
pub(crate) async fn set_first_names_in(
    tx: &mut DynTx,
    org_id: OrgId,
    names: &[(CustomerRef, String)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let named: Vec<&(CustomerRef, String)> =
        names.iter().filter(|(_, n)| !n.trim().is_empty()).collect();
    if named.is_empty() {
        return Ok(());
    }
    let refs: Vec<CustomerRef> = named.iter().map(|(c, _)| c.clone()).collect();
    let ids = customer_ids(tx, org_id, &refs, now).await?;
    for (customer, name) in named {
        if let Some(id) = ids.get(customer) {
            tx.execute(
                "UPDATE customers SET first_name = $1 WHERE id = $2",
                &[name.trim().into(), (*id).into()],
            )
            .await?;
        }
    }
    Ok(())
}

/// Creates missing customers and returns the id of each of `rows`' customers.
pub(crate) async fn customer_ids(
    tx: &mut DynTx,
    org_id: OrgId,
    rows: &[CustomerRef],
    now: DateTime<Utc>,
) -> StoreResult<HashMap<CustomerRef, CustomerId>> {
    let mut ids = HashMap::with_capacity(rows.len());
    for kind in [
        IdentifierType::Mobile,
        IdentifierType::Email,
        IdentifierType::ExternalId,
    ] {
        let mut values: Vec<&str> = rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.value.as_str())
            .collect();
        if values.is_empty() {
            continue;
        }
        values.sort_unstable();
        values.dedup();
        let tuples: Vec<String> = (0..values.len())
            .map(|i| format!("($1, $2, $3, ${})", i + 4))
            .collect();
        let mut args: Vec<Arg> = vec![org_id.into(), kind.as_str().into(), now.into()];
        args.extend(values.iter().map(|v| Arg::from(*v)));
        // An upsert that returns every row's id, new or existing, in one statement.
        let found: Vec<(CustomerId, String)> = tx
            .fetch_all(
                &format!(
                    "INSERT INTO customers (org_id, identifier_type, created_at, identifier) VALUES {} \
                     ON CONFLICT (org_id, identifier_type, identifier) DO UPDATE SET identifier = excluded.identifier \
                     RETURNING id, identifier",
                    tuples.join(",")
                ),
                &args,
            )
            .await?;
        for (id, value) in found {
            ids.insert(CustomerRef { kind, value }, id);
        }
    }
    Ok(ids)
}
