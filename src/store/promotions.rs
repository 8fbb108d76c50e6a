//! Cart promotions (PRM-1): the promotions with their codes, the product catalogue and customer
//! tags a cart is looked up against, and the uses limits count.

use super::audit::{AuditEntry, record_dyn};
use super::dialect::Lock;
use super::dyntx::{Arg, DynTx, placeholders};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{CustomerId, OrgId, PromotionId};
use crate::domain::issue::CustomerRef;
use crate::domain::promotion::{Kind, Promotion, Status, Used};
use crate::domain::user::Actor;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// A promotion as stored: its rules (the engine's `Promotion`, id set), status and times.
#[derive(Debug, Clone)]
pub struct PromotionRecord {
    pub promotion: Promotion,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct PromotionRow {
    id: PromotionId,
    status: Status,
    definition: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PromotionRow> for PromotionRecord {
    type Error = StoreError;
    fn try_from(r: PromotionRow) -> StoreResult<PromotionRecord> {
        let mut promotion: Promotion = serde_json::from_str(&r.definition)
            .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
        promotion.id = r.id.get();
        Ok(PromotionRecord {
            promotion,
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

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

const SELECT: &str =
    "SELECT id, status, definition, created_at, updated_at FROM promotions WHERE org_id = $1";

/// The codes of a code-linked promotion, as stored and matched (trimmed, upper case).
fn codes_of(p: &Promotion) -> Vec<String> {
    match &p.kind {
        Kind::CodeLinked { codes } => {
            let mut c: Vec<String> = codes.iter().map(|c| c.trim().to_uppercase()).collect();
            c.sort();
            c.dedup();
            c
        }
        _ => Vec::new(),
    }
}

impl Store {
    /// Creates a promotion with `status` (draft or live). A code another promotion or a coupon
    /// of the org already uses answers `Conflict("codes")`.
    pub async fn create_promotion(
        &self,
        org_id: OrgId,
        promotion: &Promotion,
        status: Status,
        actor: &Actor,
    ) -> StoreResult<PromotionId> {
        let now = Utc::now();
        let definition = serde_json::to_string(promotion)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
        let mut tx = self.begin().await?;
        // First: it also holds the org's row, so the org's promotion writes run one at a time
        // and the live cap counted below holds.
        bump_version(&mut tx, org_id).await?;
        let (id,): (PromotionId,) = tx
            .fetch_one(
                "INSERT INTO promotions (org_id, name, status, definition, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                &[
                    org_id.into(),
                    promotion.name.as_str().into(),
                    status.as_str().into(),
                    definition.into(),
                    now.into(),
                ],
            )
            .await?;
        write_codes(&mut tx, org_id, id, promotion).await?;
        if status == Status::Live {
            within_live_cap(&mut tx, org_id).await?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "promotion.created",
                entity_type: "promotion",
                entity_id: Some(id.get()),
                summary: format!("Created promotion {} ({})", promotion.name, status.as_str()),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a promotion's rules (the caller checked what may change); `NotFound` outside
    /// the org.
    pub async fn update_promotion(
        &self,
        org_id: OrgId,
        promotion: &Promotion,
        status: Status,
        actor: &Actor,
    ) -> StoreResult<()> {
        let id = PromotionId(promotion.id);
        let definition = serde_json::to_string(promotion)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
        let mut tx = self.begin().await?;
        bump_version(&mut tx, org_id).await?;
        let done = tx
            .execute(
                "UPDATE promotions SET name = $1, definition = $2, updated_at = $3 WHERE org_id = $4 AND id = $5 AND status = $6",
                &[
                    promotion.name.as_str().into(),
                    definition.into(),
                    Utc::now().into(),
                    org_id.into(),
                    id.into(),
                    status.as_str().into(),
                ],
            )
            .await?;
        if done == 0 {
            // Gone, or its status moved since the caller read it (it may have gone live).
            return Err(StoreError::Conflict("status".into()));
        }
        write_codes(&mut tx, org_id, id, promotion).await?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "promotion.updated",
                entity_type: "promotion",
                entity_id: Some(id.get()),
                summary: format!("Edited promotion {}", promotion.name),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Sets how many promotions the org may have live at once.
    pub async fn set_live_promotion_cap(
        &self,
        org_id: OrgId,
        cap: i64,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE orgs SET live_promotion_cap = $1 WHERE id = $2",
            &[cap.into(), org_id.into()],
        )
        .await?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "org.promotion_cap",
                entity_type: "org",
                entity_id: Some(org_id.get()),
                summary: format!("Live promotions capped at {cap}"),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Moves a promotion to `status`; `NotFound` outside the org.
    pub async fn set_promotion_status(
        &self,
        org_id: OrgId,
        id: PromotionId,
        from: Status,
        to: Status,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        bump_version(&mut tx, org_id).await?;
        let done = tx
            .execute(
                "UPDATE promotions SET status = $1, updated_at = $2 WHERE org_id = $3 AND id = $4 AND status = $5",
                &[
                    to.as_str().into(),
                    Utc::now().into(),
                    org_id.into(),
                    id.into(),
                    from.as_str().into(),
                ],
            )
            .await?;
        if done == 0 {
            return Err(StoreError::Conflict("status".into()));
        }
        if to == Status::Live {
            within_live_cap(&mut tx, org_id).await?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "promotion.status",
                entity_type: "promotion",
                entity_id: Some(id.get()),
                summary: format!("Promotion {from:?} → {to:?}").to_lowercase(),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn get_promotion(
        &self,
        org_id: OrgId,
        id: PromotionId,
    ) -> StoreResult<PromotionRecord> {
        let row: PromotionRow = self
            .fetch_optional_read(
                &format!("{SELECT} AND id = $2"),
                &[org_id.into(), id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// The org's promotions, newest first.
    pub async fn list_promotions(&self, org_id: OrgId) -> StoreResult<Vec<PromotionRecord>> {
        let rows: Vec<PromotionRow> = self
            .fetch_all_read(&format!("{SELECT} ORDER BY id DESC"), &[org_id.into()])
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The promotions carts are evaluated against.
    pub async fn live_promotions(&self, org_id: OrgId) -> StoreResult<Vec<Promotion>> {
        let rows: Vec<PromotionRow> = self
            .fetch_all_read(
                &format!("{SELECT} AND status = 'live' ORDER BY id"),
                &[org_id.into()],
            )
            .await?;
        rows.into_iter()
            .map(|r| PromotionRecord::try_from(r).map(|p| p.promotion))
            .collect()
    }

    /// How many promotions of the org are live (the org's cap counts them).
    pub async fn count_live_promotions(&self, org_id: OrgId) -> StoreResult<i64> {
        let (n,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM promotions WHERE org_id = $1 AND status = 'live'",
                &[org_id.into()],
            )
            .await?;
        Ok(n)
    }

    /// Adds products to the catalogue or replaces them by SKU.
    pub async fn upsert_products(
        &self,
        org_id: OrgId,
        products: &[NewProduct],
        actor: &Actor,
    ) -> StoreResult<()> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
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
    ) -> StoreResult<Option<(CustomerId, Vec<String>, Vec<String>)>> {
        let id: Option<(CustomerId,)> = self
            .fetch_optional_read(
                "SELECT id FROM customers WHERE org_id = $1 AND identifier_type = $2 AND identifier = $3",
                &[
                    org_id.into(),
                    customer.kind.as_str().into(),
                    customer.value.as_str().into(),
                ],
            )
            .await?;
        let Some((id,)) = id else {
            return Ok(None);
        };
        let tags: Vec<(String, String)> = self
            .fetch_all_read(
                "SELECT kind, value FROM customer_tags WHERE customer_id = $1 ORDER BY kind, value",
                &[id.into()],
            )
            .await?;
        let pick = |kind: &str| {
            tags.iter()
                .filter(|t| t.0 == kind)
                .map(|t| t.1.clone())
                .collect()
        };
        Ok(Some((id, pick("tier"), pick("segment"))))
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
}

/// Refuses (`Conflict("live_cap")`) a write that leaves the org with more live promotions than
/// its cap; the org's row is held by `bump_version`, so concurrent writes cannot both pass.
async fn within_live_cap(tx: &mut DynTx, org_id: OrgId) -> StoreResult<()> {
    let (live, cap): (i64, i64) = tx
        .fetch_one(
            "SELECT (SELECT COUNT(*) FROM promotions WHERE org_id = $1 AND status = 'live'), \
             live_promotion_cap FROM orgs WHERE id = $1",
            &[org_id.into()],
        )
        .await?;
    if live > cap {
        return Err(StoreError::Conflict("live_cap".into()));
    }
    Ok(())
}

/// Marks the org's promotions as changed (instances reload their cached live promotions).
async fn bump_version(tx: &mut DynTx, org_id: OrgId) -> StoreResult<()> {
    tx.execute(
        "UPDATE orgs SET promotions_version = promotions_version + 1 WHERE id = $1",
        &[org_id.into()],
    )
    .await?;
    Ok(())
}

/// Writes a promotion's codes (replacing those it had). A code a coupon or another promotion of
/// the org uses answers `Conflict`.
async fn write_codes(
    tx: &mut DynTx,
    org_id: OrgId,
    id: PromotionId,
    promotion: &Promotion,
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM promotion_codes WHERE org_id = $1 AND promotion_id = $2",
        &[org_id.into(), id.into()],
    )
    .await?;
    let codes = codes_of(promotion);
    if codes.is_empty() {
        return Ok(());
    }
    let mut args: Vec<Arg> = vec![org_id.into()];
    args.extend(codes.iter().map(|c| Arg::from(c.as_str())));
    let taken: Vec<(String,)> = tx
        .fetch_all(
            &format!(
                "SELECT code FROM coupons WHERE org_id = $1 AND code IN ({}) \
                 UNION SELECT code FROM promotion_codes WHERE org_id = $1 AND code IN ({0})",
                placeholders(2, codes.len())
            ),
            &args,
        )
        .await?;
    if !taken.is_empty() {
        let names: Vec<String> = taken.into_iter().map(|t| t.0).collect();
        return Err(StoreError::Conflict(format!(
            "codes: {} already used in this organisation",
            names.join(", ")
        )));
    }
    for code in &codes {
        tx.execute(
            "INSERT INTO promotion_codes (org_id, code, promotion_id) VALUES ($1, $2, $3)",
            &[org_id.into(), code.as_str().into(), id.into()],
        )
        .await
        .map_err(|e| match e {
            StoreError::Db(d) => StoreError::conflict_as(
                d,
                format!("codes: {code} already used in this organisation"),
            ),
            other => other,
        })?;
    }
    Ok(())
}

/// Promotions counted by one statement (SQLite allows 500 terms in a compound SELECT; the
/// statement is padded to a power of two).
const USAGE_CHUNK: usize = 256;

/// What to count of one promotion's uses: all uses inside the global window, and the
/// customer's uses and discount inside theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageAsk {
    pub promotion: PromotionId,
    pub global: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub customer: Option<(CustomerId, DateTime<Utc>, DateTime<Utc>)>,
}

/// One statement counting every asked promotion's uses (one branch per promotion, each an
/// index range of `promotion_uses`).
fn usage_query(asks: &[UsageAsk]) -> (String, Vec<Arg>) {
    let far = DateTime::<Utc>::UNIX_EPOCH;
    // Padded to a power of two with asks that match nothing (promotion 0), so that the
    // statement's text takes a handful of shapes the connections' statement caches keep,
    // instead of a new one (parsed and planned again) for every count.
    let nothing = UsageAsk {
        promotion: PromotionId(0),
        global: None,
        customer: None,
    };
    let padded: Vec<UsageAsk> = asks
        .iter()
        .copied()
        .chain(std::iter::repeat(nothing))
        .take(asks.len().next_power_of_two())
        .collect();
    let mut args = Vec::with_capacity(padded.len() * 6);
    let branches: Vec<String> = padded
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (g_from, g_to) = a.global.unwrap_or((far, far));
            let (c, c_from, c_to) = a.customer.unwrap_or((CustomerId(0), far, far));
            args.extend([
                a.promotion.into(),
                g_from.into(),
                g_to.into(),
                c.into(),
                c_from.into(),
                c_to.into(),
            ]);
            let n = |k: usize| format!("${}", i * 6 + k);
            let (p, gf, gt, cu, cf, ct) = (n(1), n(2), n(3), n(4), n(5), n(6));
            let mine = format!("customer_id = {cu} AND used_at >= {cf} AND used_at < {ct}");
            // PostgreSQL sums a BIGINT column as NUMERIC: each total is cast back.
            format!(
                "SELECT promotion_id, \
                 CAST(COALESCE(SUM(CASE WHEN used_at >= {gf} AND used_at < {gt} THEN 1 ELSE 0 END), 0) AS BIGINT) AS uses, \
                 CAST(COALESCE(SUM(CASE WHEN {mine} THEN 1 ELSE 0 END), 0) AS BIGINT) AS customer_uses, \
                 CAST(COALESCE(SUM(CASE WHEN {mine} THEN discount ELSE 0 END), 0) AS BIGINT) AS customer_value \
                 FROM promotion_uses WHERE promotion_id = {p} AND reversed_at IS NULL \
                 AND ((used_at >= {gf} AND used_at < {gt}) OR ({mine})) GROUP BY promotion_id"
            )
        })
        .collect();
    (branches.join(" UNION ALL "), args)
}

type UsageRow = (PromotionId, i64, i64, i64);

fn used_map(rows: Vec<UsageRow>) -> HashMap<PromotionId, Used> {
    rows.into_iter()
        .map(|(p, uses, customer_uses, customer_value)| {
            (
                p,
                Used {
                    uses,
                    customer_uses,
                    customer_value,
                },
            )
        })
        .collect()
}

impl Store {
    /// The uses of each asked promotion (an open cart's read; a promotion with none is absent).
    pub async fn promotions_used(
        &self,
        asks: &[UsageAsk],
    ) -> StoreResult<HashMap<PromotionId, Used>> {
        let mut all = HashMap::new();
        for chunk in asks.chunks(USAGE_CHUNK) {
            let (sql, args) = usage_query(chunk);
            all.extend(used_map(self.fetch_all_read(&sql, &args).await?));
        }
        Ok(all)
    }
}

/// The same count inside a closing cart's transaction, after `lock_promotions`.
pub async fn promotions_used_in(
    tx: &mut DynTx,
    asks: &[UsageAsk],
) -> StoreResult<HashMap<PromotionId, Used>> {
    let mut all = HashMap::new();
    for chunk in asks.chunks(USAGE_CHUNK) {
        let (sql, args) = usage_query(chunk);
        all.extend(used_map(tx.fetch_all(&sql, &args).await?));
    }
    Ok(all)
}

/// Takes the rows of the limited promotions a closing cart may use, in id order, so that two
/// closes counting the same promotion's uses run one after the other (PostgreSQL; SQLite's one
/// writer already orders them).
pub async fn lock_promotions(tx: &mut DynTx, ids: &[PromotionId]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let lock = tx.dialect().lock(Lock::NoKeyUpdate);
    if lock.is_empty() {
        return Ok(());
    }
    let mut sorted = ids.to_vec();
    sorted.sort();
    let args: Vec<Arg> = sorted.iter().map(|i| Arg::from(*i)).collect();
    let _: Vec<(PromotionId,)> = tx
        .fetch_all(
            &format!(
                "SELECT id FROM promotions WHERE id IN ({}) ORDER BY id{lock}",
                placeholders(1, sorted.len())
            ),
            &args,
        )
        .await?;
    Ok(())
}

impl Store {
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
