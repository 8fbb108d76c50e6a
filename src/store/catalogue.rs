//! What a cart is looked up against (PRM-1): the catalogue's facts of a line's SKU, the
//! customer's tiers and segments, the store's zone; and the API's catalogue and tag writes.

use super::audit::{AuditEntry, record_dyn};
use super::dyntx::{Arg, placeholders};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::org::{Currency, OrgTz};
use crate::domain::user::Actor;
use chrono::Utc;
use std::collections::{BTreeMap, HashMap};

/// What the catalogue knows of a product a cart line names by SKU.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductFacts {
    pub sku: String,
    pub category: Option<String>,
    pub brand: Option<String>,
    /// JSON object of attribute → value.
    pub attributes: String,
}

impl ProductFacts {
    pub fn attribute_map(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.attributes).unwrap_or_default()
    }
}

/// What a cart needs of its org: how it reckons time and money, and the versions its cached
/// promotions and catalogue facts are kept under (`app::cart::CartCache`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartOrg {
    pub id: OrgId,
    pub currency: Currency,
    pub time_zone: OrgTz,
    pub promotions_version: i64,
    pub catalogue_version: i64,
    /// Where the org's promotion uses are folded to (migration 24), if anywhere yet, and the
    /// version of its folded counts.
    pub folded_to: Option<chrono::DateTime<Utc>>,
    pub folds_version: Option<i64>,
}

impl CartOrg {
    /// The org's fold as its limits' counts take it.
    pub fn folded(&self) -> Option<super::promotion_limits::FoldPoint> {
        self.folded_to.map(|at| super::promotion_limits::FoldPoint {
            org: self.id,
            at,
            version: self.folds_version.unwrap_or(0),
        })
    }
}

/// A known customer with their tiers and segments.
pub type TaggedCustomer = (CustomerId, Vec<String>, Vec<String>);

#[derive(sqlx::FromRow)]
struct CartContextRow {
    #[sqlx(flatten)]
    org: CartOrg,
    customer_id: Option<CustomerId>,
    kind: Option<String>,
    value: Option<String>,
}

/// A product of the catalogue, as written by the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl Store {
    /// Adds products to the catalogue or replaces them by SKU.
    pub async fn upsert_products(
        &self,
        org_id: OrgId,
        products: &[NewProduct],
        actor: &Actor,
    ) -> StoreResult<()> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        super::orgs::move_catalogue(&mut tx, org_id).await?;
        for p in products {
            let attributes = serde_json::to_string(&p.attributes)
                .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
            tx.execute(
                "INSERT INTO products (org_id, sku, name, price, category, brand, attributes, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (org_id, sku) DO UPDATE SET name = excluded.name, price = excluded.price, \
                 category = excluded.category, brand = excluded.brand, attributes = excluded.attributes, \
                 updated_at = excluded.updated_at",
                &[
                    org_id.into(),
                    p.sku.as_str().into(),
                    p.name.as_str().into(),
                    p.price.into(),
                    p.category.clone().into(),
                    p.brand.clone().into(),
                    attributes.into(),
                    now.into(),
                ],
            )
            .await?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "products.written",
                entity_type: "product",
                entity_id: None,
                summary: format!("Wrote {} products to the catalogue", products.len()),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The catalogue's facts for the given SKUs (those it knows).
    pub async fn products_by_sku(
        &self,
        org_id: OrgId,
        skus: &[&str],
    ) -> StoreResult<HashMap<String, ProductFacts>> {
        if skus.is_empty() {
            return Ok(HashMap::new());
        }
        let mut args: Vec<Arg> = vec![org_id.into()];
        args.extend(skus.iter().map(|s| Arg::from(*s)));
        let rows: Vec<ProductFacts> = self
            .fetch_all_read(
                &format!(
                    "SELECT sku, category, brand, attributes FROM products WHERE org_id = $1 AND sku IN ({})",
                    placeholders(2, skus.len())
                ),
                &args,
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.sku.clone(), r)).collect())
    }

    /// The customer a cart names, if known, with their tiers and segments.
    pub async fn cart_customer(
        &self,
        org_id: OrgId,
        customer: &CustomerRef,
    ) -> StoreResult<Option<TaggedCustomer>> {
        Ok(self.cart_context(org_id, Some(customer)).await?.1)
    }

    /// What a cart reads of its org and of the customer it names (if known, with their tiers and
    /// segments), by one statement; the org missing is `NotFound`.
    pub async fn cart_context(
        &self,
        org_id: OrgId,
        customer: Option<&CustomerRef>,
    ) -> StoreResult<(CartOrg, Option<TaggedCustomer>)> {
        // One row per tag of the customer (one with no tag when they have none or are unknown).
        let rows: Vec<CartContextRow> = self
            .fetch_all_read(
                "SELECT o.id, o.currency, o.time_zone, o.promotions_version, o.catalogue_version, \
                 f.next_at AS folded_to, f.version AS folds_version, \
                 c.id AS customer_id, t.kind, t.value FROM orgs o \
                 LEFT JOIN promotion_use_folds f ON f.org_id = o.id \
                 LEFT JOIN customers c ON c.org_id = o.id AND c.identifier_type = $2 AND c.identifier = $3 \
                 LEFT JOIN customer_tags t ON t.customer_id = c.id \
                 WHERE o.id = $1 \
                 ORDER BY t.kind, t.value",
                &[
                    org_id.into(),
                    customer.map(|c| c.kind.as_str().to_string()).into(),
                    customer.map(|c| c.value.clone()).into(),
                ],
            )
            .await?;
        let first = rows.first().ok_or(StoreError::NotFound)?;
        let org = first.org.clone();
        let Some(id) = first.customer_id else {
            return Ok((org, None));
        };
        let pick = |kind: &str| {
            rows.iter()
                .filter(|r| r.kind.as_deref() == Some(kind))
                .filter_map(|r| r.value.clone())
                .collect()
        };
        Ok((org, Some((id, pick("tier"), pick("segment")))))
    }

    /// Sets a customer's tiers and segments (created when new).
    pub async fn set_customer_tags(
        &self,
        org_id: OrgId,
        customer: &CustomerRef,
        tiers: &[String],
        segments: &[String],
    ) -> StoreResult<CustomerId> {
        let mut tx = self.begin().await?;
        let ids = super::customers::customer_ids(
            &mut tx,
            org_id,
            std::slice::from_ref(customer),
            Utc::now(),
        )
        .await?;
        let id = *ids.get(customer).ok_or(StoreError::NotFound)?;
        tx.execute(
            "DELETE FROM customer_tags WHERE customer_id = $1",
            &[id.into()],
        )
        .await?;
        for (kind, values) in [("tier", tiers), ("segment", segments)] {
            for v in values {
                tx.execute(
                    "INSERT INTO customer_tags (customer_id, kind, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[id.into(), kind.into(), v.trim().into()],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The zone code of a store of the org (promotions may name zones).
    pub async fn store_zone(&self, org_id: OrgId, store_code: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional_read(
                "SELECT z.code FROM stores s JOIN zones z ON z.id = s.zone_id WHERE s.org_id = $1 AND s.code = $2",
                &[org_id.into(), store_code.trim().to_uppercase().into()],
            )
            .await?;
        Ok(row.map(|r| r.0))
    }
}
