//! The product catalogue and customers' tiers and segments as the console reads and writes
//! them (PRM-1): a searchable page of products, one product, writes of a form or a whole CSV in
//! one transaction with its audit record, a product's deletion (refused while a live or paused
//! promotion names its SKU), and the tiers and segments in use. The API's writes and the cart's
//! look-ups by SKU and customer are in `catalogue.rs`.

use super::audit::{AuditEntry, record_dyn};
use super::dyntx::{Arg, DynTx, conflict_as, placeholders};
use super::masters::UpsertCounts;
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, OrgId, PromotionId};
use crate::domain::issue::CustomerRef;
use crate::domain::products::{CustomerTags, DeleteRefusal, Product, PromotionUse, names_sku};
use crate::domain::promotion::Status;
use crate::domain::user::Actor;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashSet};

/// Rows written per statement: a products row binds 8 values, so a statement stays far below
/// SQLite's and PostgreSQL's limits on bound parameters.
const CHUNK: usize = 500;

/// A product as the console lists it; `price` in minor units, `attributes` a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductRecord {
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub attributes: String,
    pub updated_at: DateTime<Utc>,
}

impl ProductRecord {
    /// The attributes, key → value.
    pub fn attribute_map(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.attributes).unwrap_or_default()
    }
}

/// A page of the catalogue: products whose SKU, name, category or brand contains `search`
/// (any case), by SKU.
#[derive(Debug, Clone, Default)]
pub struct ProductQuery {
    pub search: String,
    pub limit: i64,
    pub offset: i64,
}

/// How a product form is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveProduct {
    /// A new SKU: one the catalogue has answers `Conflict`.
    Add,
    /// The product of that SKU, replaced.
    Edit,
}

/// How many customers carry a tier or a segment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TagCount {
    /// `tier` or `segment`.
    pub kind: String,
    pub value: String,
    pub customers: i64,
}

/// The org's live and paused promotions that name `sku`, by id.
async fn promotions_naming(
    tx: &mut DynTx,
    org_id: OrgId,
    sku: &str,
) -> StoreResult<Vec<PromotionUse>> {
    let held =
        super::promotions::promotions_in(tx, org_id, &[Status::Live, Status::Paused]).await?;
    Ok(held
        .into_iter()
        .filter(|r| names_sku(&r.promotion, sku))
        .map(|r| PromotionUse {
            id: PromotionId(r.promotion.id),
            name: r.promotion.name,
            status: r.status,
        })
        .collect())
}

const PRODUCT_COLUMNS: &str = "sku, name, price, category, brand, attributes, updated_at";

/// `LIKE` pattern of "contains `search`", lower case, with `%`, `_` and `\` taken literally.
fn contains_pattern(search: &str) -> String {
    let mut p = String::from("%");
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn json_of(attributes: &BTreeMap<String, String>) -> StoreResult<String> {
    serde_json::to_string(attributes)
        .map_err(|e| super::StoreError::Db(sqlx::Error::Encode(Box::new(e))))
}

/// Inserts `products`, replacing those of the same SKU when `replace` (a plain insert
/// otherwise, so that a SKU taken meanwhile is refused by the statement itself).
async fn write_products(
    tx: &mut DynTx,
    org_id: OrgId,
    products: &[Product],
    replace: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for chunk in products.chunks(CHUNK) {
        let mut args: Vec<Arg> = vec![org_id.into(), now.into()];
        let mut tuples = Vec::with_capacity(chunk.len());
        for p in chunk {
            let n = args.len();
            tuples.push(format!(
                "($1, ${}, ${}, ${}, ${}, ${}, ${}, $2)",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
            args.extend([
                p.sku.as_str().into(),
                p.name.as_str().into(),
                p.price.into(),
                p.category.clone().into(),
                p.brand.clone().into(),
                json_of(&p.attributes)?.into(),
            ]);
        }
        let on_conflict = if replace {
            " ON CONFLICT (org_id, sku) DO UPDATE SET name = excluded.name, price = excluded.price, \
             category = excluded.category, brand = excluded.brand, \
             attributes = excluded.attributes, updated_at = excluded.updated_at"
        } else {
            ""
        };
        tx.execute(
            &format!(
                "INSERT INTO products (org_id, sku, name, price, category, brand, attributes, updated_at) \
                 VALUES {}{on_conflict}",
                tuples.join(", ")
            ),
            &args,
        )
        .await?;
    }
    Ok(())
}

/// How many of `skus` (distinct) the org's catalogue has.
async fn existing_skus(tx: &mut DynTx, org_id: OrgId, skus: &[&str]) -> StoreResult<usize> {
    let mut found = HashSet::new();
    for chunk in skus.chunks(CHUNK) {
        let mut args: Vec<Arg> = vec![org_id.into()];
        args.extend(chunk.iter().map(|s| Arg::from(*s)));
        let rows: Vec<(String,)> = tx
            .fetch_all(
                &format!(
                    "SELECT sku FROM products WHERE org_id = $1 AND sku IN ({})",
                    placeholders(2, chunk.len())
                ),
                &args,
            )
            .await?;
        found.extend(rows.into_iter().map(|r| r.0));
    }
    Ok(found.len())
}

impl Store {
    /// A page of the org's products and how many match in all.
    pub async fn list_products(
        &self,
        org_id: OrgId,
        q: &ProductQuery,
    ) -> StoreResult<(Vec<ProductRecord>, i64)> {
        let mut filter = String::from("org_id = $1");
        let mut args: Vec<Arg> = vec![org_id.into()];
        if !q.search.trim().is_empty() {
            filter.push_str(
                " AND (LOWER(sku) LIKE $2 ESCAPE '\\' OR LOWER(name) LIKE $2 ESCAPE '\\' \
                 OR LOWER(category) LIKE $2 ESCAPE '\\' OR LOWER(brand) LIKE $2 ESCAPE '\\')",
            );
            args.push(contains_pattern(&q.search).into());
        }
        let (total,): (i64,) = self
            .fetch_one_read(
                &format!("SELECT COUNT(*) FROM products WHERE {filter}"),
                &args,
            )
            .await?;
        let n = args.len();
        args.extend([q.limit.into(), q.offset.into()]);
        let rows = self
            .fetch_all_read(
                &format!(
                    "SELECT {PRODUCT_COLUMNS} FROM products WHERE {filter} ORDER BY sku LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2
                ),
                &args,
            )
            .await?;
        Ok((rows, total))
    }

    /// The org's product of `sku`, if the catalogue has it.
    pub async fn get_product(
        &self,
        org_id: OrgId,
        sku: &str,
    ) -> StoreResult<Option<ProductRecord>> {
        self.fetch_optional_read(
            &format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE org_id = $1 AND sku = $2"),
            &[org_id.into(), sku.into()],
        )
        .await
    }

    /// Saves one product typed in the console. Adding a SKU the catalogue has answers
    /// `Conflict("is already in the catalogue …")`.
    pub async fn save_product(
        &self,
        org_id: OrgId,
        product: &Product,
        how: SaveProduct,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        super::orgs::move_catalogue(&mut tx, org_id).await?;
        write_products(
            &mut tx,
            org_id,
            std::slice::from_ref(product),
            how == SaveProduct::Edit,
            Utc::now(),
        )
        .await
        .map_err(|e| {
            conflict_as(
                e,
                "is already in the catalogue; use Edit on its row to change it",
            )
        })?;
        let (action, verb) = match how {
            SaveProduct::Add => ("product.created", "Added"),
            SaveProduct::Edit => ("product.updated", "Edited"),
        };
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action,
                entity_type: "product",
                entity_id: None,
                summary: format!("{verb} product {} ({})", product.sku.as_str(), product.name),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Deletes the org's product of `sku`, with its audit record, unless a live or paused
    /// promotion names the SKU. The org's row is held first, as promotion writes hold it, so a
    /// promotion cannot go live naming the SKU between the check and the delete.
    pub async fn delete_product(
        &self,
        org_id: OrgId,
        sku: &str,
        actor: &Actor,
    ) -> StoreResult<Result<ProductRecord, DeleteRefusal>> {
        let mut tx = self.begin().await?;
        super::orgs::lock_org(&mut tx, org_id).await?;
        let product: Option<ProductRecord> = tx
            .fetch_optional(
                &format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE org_id = $1 AND sku = $2"),
                &[org_id.into(), sku.into()],
            )
            .await?;
        let Some(product) = product else {
            return Ok(Err(DeleteRefusal::Unknown));
        };
        let uses = promotions_naming(&mut tx, org_id, sku).await?;
        if !uses.is_empty() {
            return Ok(Err(DeleteRefusal::InUse(uses)));
        }
        tx.execute(
            "DELETE FROM products WHERE org_id = $1 AND sku = $2",
            &[org_id.into(), sku.into()],
        )
        .await?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "product.deleted",
                entity_type: "product",
                entity_id: None,
                summary: format!("Deleted product {} ({})", product.sku, product.name),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(product))
    }

    /// Writes a whole products upload in one transaction: new SKUs added, known ones replaced.
    /// The SKUs are distinct (the CSV parser refuses repeats).
    pub async fn upload_products(
        &self,
        org_id: OrgId,
        products: &[Product],
        actor: &Actor,
    ) -> StoreResult<UpsertCounts> {
        let mut tx = self.begin().await?;
        super::orgs::move_catalogue(&mut tx, org_id).await?;
        let skus: Vec<&str> = products.iter().map(|p| p.sku.as_str()).collect();
        let updated = existing_skus(&mut tx, org_id, &skus).await?;
        write_products(&mut tx, org_id, products, true, Utc::now()).await?;
        let created = products.len() - updated;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "product.uploaded",
                entity_type: "product",
                entity_id: None,
                summary: format!(
                    "Uploaded {} products: {created} created, {updated} updated",
                    products.len()
                ),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(UpsertCounts { created, updated })
    }

    /// Sets the tiers and segments of every customer of `rows` (customers created when new),
    /// replacing what each had, in one transaction; how many customers.
    pub async fn upload_customer_tags(
        &self,
        org_id: OrgId,
        rows: &[CustomerTags],
        actor: &Actor,
    ) -> StoreResult<usize> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let mut tagged: Vec<(CustomerId, &CustomerTags)> = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(CHUNK) {
            let refs: Vec<CustomerRef> = chunk.iter().map(|r| r.customer.clone()).collect();
            let ids = super::customers::customer_ids(&mut tx, org_id, &refs, now).await?;
            for r in chunk {
                let id = *ids.get(&r.customer).ok_or(super::StoreError::NotFound)?;
                tagged.push((id, r));
            }
        }
        for chunk in tagged.chunks(CHUNK) {
            let args: Vec<Arg> = chunk.iter().map(|(id, _)| (*id).into()).collect();
            tx.execute(
                &format!(
                    "DELETE FROM customer_tags WHERE customer_id IN ({})",
                    placeholders(1, chunk.len())
                ),
                &args,
            )
            .await?;
        }
        let tags: Vec<(CustomerId, &str, &str)> = tagged
            .iter()
            .flat_map(|(id, r)| {
                let tiers = r.tiers.iter().map(move |t| (*id, "tier", t.as_str()));
                let segments = r.segments.iter().map(move |s| (*id, "segment", s.as_str()));
                tiers.chain(segments)
            })
            .collect();
        for chunk in tags.chunks(CHUNK) {
            let mut args: Vec<Arg> = Vec::with_capacity(chunk.len() * 3);
            let mut tuples = Vec::with_capacity(chunk.len());
            for (id, kind, value) in chunk {
                let n = args.len();
                tuples.push(format!("(${}, ${}, ${})", n + 1, n + 2, n + 3));
                args.extend([(*id).into(), (*kind).into(), (*value).into()]);
            }
            // A customer's tags are distinct (the parser drops repeats); DO NOTHING is a
            // second guard, not a rule.
            tx.execute(
                &format!(
                    "INSERT INTO customer_tags (customer_id, kind, value) VALUES {} ON CONFLICT DO NOTHING",
                    tuples.join(", ")
                ),
                &args,
            )
            .await?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "customer.tags_uploaded",
                entity_type: "customer",
                entity_id: None,
                summary: format!(
                    "Set the tiers and segments of {} customer{}",
                    rows.len(),
                    if rows.len() == 1 { "" } else { "s" }
                ),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// The tiers and segments the org's customers carry, with how many carry each (tiers
    /// first, then by name).
    pub async fn tag_counts(&self, org_id: OrgId) -> StoreResult<Vec<TagCount>> {
        self.fetch_all_read(
            "SELECT t.kind, t.value, COUNT(*) AS customers FROM customer_tags t \
             JOIN customers c ON c.id = t.customer_id WHERE c.org_id = $1 \
             GROUP BY t.kind, t.value ORDER BY t.kind DESC, t.value",
            &[org_id.into()],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_taken_literally_in_a_like_pattern() {
        assert_eq!(contains_pattern(" Chino "), "%chino%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
