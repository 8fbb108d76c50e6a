//! Org masters: concepts, zones, stores, tills, categories, brands, POCs, consumers.
//! Every query is scoped by org.

use super::{AuditEntry, Store, StoreError, StoreResult, read, record_audit, transaction};
use crate::domain::masters::{NewCodedName, NewConsumer, NewPoc, StoreRow, TillRow};
use crate::domain::user::Actor;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// The masters that are just a code and a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodedKind {
    Concept,
    Zone,
    Category,
    Brand,
}

impl CodedKind {
    fn table(self) -> &'static str {
        match self {
            CodedKind::Concept => "concepts",
            CodedKind::Zone => "zones",
            CodedKind::Category => "categories",
            CodedKind::Brand => "brands",
        }
    }

    /// The entity name used in the audit log and in messages.
    pub fn noun(self) -> &'static str {
        match self {
            CodedKind::Concept => "concept",
            CodedKind::Zone => "zone",
            CodedKind::Category => "category",
            CodedKind::Brand => "brand",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodedRow {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// A store with its zone, concept and number of tills.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoreListRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub zone_code: String,
    pub zone_name: String,
    pub concept_code: Option<String>,
    pub concept_name: Option<String>,
    pub till_count: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TillListRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub store_code: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PocRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsumerRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

/// What an upload did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: usize,
    pub updated: usize,
}

const STORE_SELECT: &str = "SELECT s.id, s.code, s.name, z.code AS zone_code, z.name AS zone_name, \
     c.code AS concept_code, c.name AS concept_name, \
     (SELECT COUNT(*) FROM tills t WHERE t.store_id = s.id) AS till_count \
     FROM stores s JOIN zones z ON z.id = s.zone_id LEFT JOIN concepts c ON c.id = s.concept_id";

impl Store {
    pub async fn list_coded(&self, org_id: i64, kind: CodedKind) -> StoreResult<Vec<CodedRow>> {
        let sql = format!(
            "SELECT id, code, name FROM {} WHERE org_id = $1 ORDER BY code",
            kind.table()
        );
        read!(self, pool => Ok(sqlx::query_as::<_, CodedRow>(AssertSqlSafe(sql)).bind(org_id).fetch_all(pool).await?))
    }

    /// Code → id of a coded master, for resolving CSV references.
    pub async fn coded_ids(
        &self,
        org_id: i64,
        kind: CodedKind,
    ) -> StoreResult<HashMap<String, i64>> {
        Ok(self
            .list_coded(org_id, kind)
            .await?
            .into_iter()
            .map(|r| (r.code, r.id))
            .collect())
    }

    pub async fn create_coded(
        &self,
        org_id: i64,
        kind: CodedKind,
        new: &NewCodedName,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let sql = format!(
            "INSERT INTO {} (org_id, code, name) VALUES ($1, $2, $3) RETURNING id",
            kind.table()
        );
        Ok(transaction!(self, tx => {
            let id: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(org_id)
                .bind(new.code.as_str())
                .bind(&new.name)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, format!("is already used by another {}", kind.noun())))?;
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: "master.created",
                entity_type: kind.noun(),
                entity_id: Some(id),
                summary: format!("Added {} {} ({})", kind.noun(), new.code.as_str(), new.name),
                details: None,
            });
            id
        }))
    }

    /// Creates or renames coded masters by code, all in one transaction.
    pub async fn upsert_coded(
        &self,
        org_id: i64,
        kind: CodedKind,
        rows: &[NewCodedName],
        actor: &Actor,
    ) -> StoreResult<UpsertCounts> {
        let existing = self.coded_ids(org_id, kind).await?;
        let updated = rows
            .iter()
            .filter(|r| existing.contains_key(r.code.as_str()))
            .count();
        let sql = format!(
            "INSERT INTO {} (org_id, code, name) VALUES ($1, $2, $3) ON CONFLICT (org_id, code) DO UPDATE SET name = excluded.name",
            kind.table()
        );
        transaction!(self, tx => {
            for r in rows {
                sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(org_id)
                    .bind(r.code.as_str())
                    .bind(&r.name)
                    .execute(&mut *tx)
                    .await?;
            }
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: "master.uploaded",
                entity_type: kind.noun(),
                entity_id: None,
                summary: format!("Uploaded {} {} {}: {} created, {} updated", rows.len(), kind.noun(), if rows.len() == 1 { "row" } else { "rows" }, rows.len() - updated, updated),
                details: None,
            });
        });
        Ok(UpsertCounts {
            created: rows.len() - updated,
            updated,
        })
    }

    pub async fn list_stores(&self, org_id: i64) -> StoreResult<Vec<StoreListRow>> {
        let sql = format!("{STORE_SELECT} WHERE s.org_id = $1 ORDER BY s.code");
        read!(self, pool => Ok(sqlx::query_as::<_, StoreListRow>(AssertSqlSafe(sql)).bind(org_id).fetch_all(pool).await?))
    }

    pub async fn get_store(&self, org_id: i64, store_id: i64) -> StoreResult<StoreListRow> {
        let sql = format!("{STORE_SELECT} WHERE s.org_id = $1 AND s.id = $2");
        read!(self, pool => sqlx::query_as::<_, StoreListRow>(AssertSqlSafe(sql))
            .bind(org_id)
            .bind(store_id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound))
    }

    pub async fn store_ids(&self, org_id: i64) -> StoreResult<HashMap<String, i64>> {
        read!(self, pool => {
            let rows: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM stores WHERE org_id = $1")
                .bind(org_id)
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().collect())
        })
    }

    /// Creates or updates stores by code in one transaction. Zone and concept ids must be the
    /// org's own (the caller resolved them from this org's codes).
    pub async fn upsert_stores(
        &self,
        org_id: i64,
        rows: &[StoreRow],
        actor: &Actor,
        upload: bool,
    ) -> StoreResult<UpsertCounts> {
        let existing = self.store_ids(org_id).await?;
        let updated = rows
            .iter()
            .filter(|r| existing.contains_key(r.code.as_str()))
            .count();
        transaction!(self, tx => {
            let mut last_id = 0;
            let sql = if upload {
                "INSERT INTO stores (org_id, code, name, zone_id, concept_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (org_id, code) DO UPDATE SET name = excluded.name, zone_id = excluded.zone_id, concept_id = excluded.concept_id \
                 RETURNING id"
            } else {
                "INSERT INTO stores (org_id, code, name, zone_id, concept_id) VALUES ($1, $2, $3, $4, $5) RETURNING id"
            };
            for r in rows {
                last_id = sqlx::query_scalar(sql)
                .bind(org_id)
                .bind(r.code.as_str())
                .bind(&r.name)
                .bind(r.zone_id)
                .bind(r.concept_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "is already used by another store"))?;
            }
            let summary = if upload {
                format!("Uploaded {}: {} created, {} updated", crate::domain::money::plural(rows.len() as i64, "store", "stores"), rows.len() - updated, updated)
            } else {
                format!("Added store {} ({})", rows[0].code.as_str(), rows[0].name)
            };
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: if upload { "master.uploaded" } else { "master.created" },
                entity_type: "store",
                entity_id: if upload { None } else { Some(last_id) },
                summary,
                details: None,
            });
        });
        Ok(UpsertCounts {
            created: rows.len() - updated,
            updated,
        })
    }

    /// Adds one store; refuses a code that is taken.
    pub async fn create_store(
        &self,
        org_id: i64,
        row: &StoreRow,
        actor: &Actor,
    ) -> StoreResult<()> {
        self.upsert_stores(org_id, std::slice::from_ref(row), actor, false)
            .await
            .map(|_| ())
    }

    pub async fn list_tills(
        &self,
        org_id: i64,
        store_id: Option<i64>,
    ) -> StoreResult<Vec<TillListRow>> {
        read!(self, pool => Ok(sqlx::query_as::<_, TillListRow>(
            "SELECT t.id, t.code, t.name, s.code AS store_code FROM tills t JOIN stores s ON s.id = t.store_id \
             WHERE t.org_id = $1 AND ($2 = 0 OR t.store_id = $2) ORDER BY s.code, t.code",
        )
        .bind(org_id)
        .bind(store_id.unwrap_or(0))
        .fetch_all(pool)
        .await?))
    }

    /// Creates or updates tills by code in one transaction.
    pub async fn upsert_tills(
        &self,
        org_id: i64,
        rows: &[TillRow],
        actor: &Actor,
        upload: bool,
    ) -> StoreResult<UpsertCounts> {
        let existing: std::collections::HashSet<String> = self
            .list_tills(org_id, None)
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect();
        let updated = rows
            .iter()
            .filter(|r| existing.contains(r.code.as_str()))
            .count();
        transaction!(self, tx => {
            let mut last_id: i64 = 0;
            let sql = if upload {
                "INSERT INTO tills (org_id, store_id, code, name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, code) DO UPDATE SET name = excluded.name, store_id = excluded.store_id RETURNING id"
            } else {
                "INSERT INTO tills (org_id, store_id, code, name) VALUES ($1, $2, $3, $4) RETURNING id"
            };
            for r in rows {
                last_id = sqlx::query_scalar(sql)
                .bind(org_id)
                .bind(r.store_id)
                .bind(r.code.as_str())
                .bind(&r.name)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "is already used by another till"))?;
            }
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: if upload { "master.uploaded" } else { "master.created" },
                entity_type: "till",
                entity_id: if upload { None } else { Some(last_id) },
                summary: if upload {
                    format!("Uploaded {}: {} created, {} updated", crate::domain::money::plural(rows.len() as i64, "till", "tills"), rows.len() - updated, updated)
                } else {
                    format!("Added till {} ({})", rows[0].code.as_str(), rows[0].name)
                },
                details: None,
            });
        });
        Ok(UpsertCounts {
            created: rows.len() - updated,
            updated,
        })
    }

    pub async fn list_pocs(&self, org_id: i64) -> StoreResult<Vec<PocRow>> {
        read!(self, pool => Ok(sqlx::query_as::<_, PocRow>(
            "SELECT id, name, email, created_at FROM pocs WHERE org_id = $1 ORDER BY name, email",
        )
        .bind(org_id)
        .fetch_all(pool)
        .await?))
    }

    pub async fn get_poc(&self, org_id: i64, id: i64) -> StoreResult<PocRow> {
        read!(self, pool => sqlx::query_as::<_, PocRow>(
            "SELECT id, name, email, created_at FROM pocs WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound))
    }

    pub async fn create_poc(&self, org_id: i64, poc: &NewPoc, actor: &Actor) -> StoreResult<i64> {
        Ok(transaction!(self, tx => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO pocs (org_id, name, email, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(org_id)
            .bind(&poc.name)
            .bind(poc.email.as_str())
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::conflict_as(e, "is already used by another POC"))?;
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: "poc.created",
                entity_type: "poc",
                entity_id: Some(id),
                summary: format!("Added POC {} <{}>", poc.name, poc.email),
                details: None,
            });
            id
        }))
    }

    /// Removes a POC; refused (naming the offers) while offers send it expiry reminders.
    pub async fn delete_poc(&self, org_id: i64, id: i64, actor: &Actor) -> StoreResult<()> {
        let poc = self.get_poc(org_id, id).await?;
        transaction!(self, tx => {
            let offers: Vec<String> = sqlx::query_scalar(
                "SELECT o.name FROM offer_reminder_pocs r JOIN offers o ON o.id = r.offer_id WHERE r.poc_id = $1 AND o.org_id = $2 ORDER BY o.name",
            )
            .bind(id)
            .bind(org_id)
            .fetch_all(&mut *tx)
            .await?;
            if !offers.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "{} gets the expiry reminders of {}; choose other POCs there first",
                    poc.email,
                    offers.join(", ")
                )));
            }
            sqlx::query("DELETE FROM pocs WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: "poc.deleted",
                entity_type: "poc",
                entity_id: Some(id),
                summary: format!("Removed POC {} <{}>", poc.name, poc.email),
                details: None,
            });
        });
        Ok(())
    }

    pub async fn list_consumers(&self, org_id: i64) -> StoreResult<Vec<ConsumerRow>> {
        read!(self, pool => Ok(sqlx::query_as::<_, ConsumerRow>(
            "SELECT id, name, kind, starts_on, ends_on, created_at FROM consumers WHERE org_id = $1 ORDER BY name",
        )
        .bind(org_id)
        .fetch_all(pool)
        .await?))
    }

    pub async fn get_consumer(&self, org_id: i64, id: i64) -> StoreResult<ConsumerRow> {
        read!(self, pool => sqlx::query_as::<_, ConsumerRow>(
            "SELECT id, name, kind, starts_on, ends_on, created_at FROM consumers WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound))
    }

    pub async fn create_consumer(
        &self,
        org_id: i64,
        c: &NewConsumer,
        actor: &Actor,
    ) -> StoreResult<i64> {
        Ok(transaction!(self, tx => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO consumers (org_id, name, kind, starts_on, ends_on, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(org_id)
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(c.dates.map(|d| d.0))
            .bind(c.dates.map(|d| d.1))
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::conflict_as(e, "is already used by another campaign or program"))?;
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: "consumer.created",
                entity_type: "consumer",
                entity_id: Some(id),
                summary: format!("Added {} {}", c.kind.label(), c.name),
                details: None,
            });
            id
        }))
    }
}

/// Counts shown on the home page.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Overview {
    pub stores: i64,
    pub tills: i64,
    pub categories: i64,
    pub brands: i64,
    pub pocs: i64,
    pub consumers: i64,
    pub users: i64,
}

impl Store {
    pub async fn overview(&self, org_id: i64) -> StoreResult<Overview> {
        read!(self, pool => Ok(sqlx::query_as::<_, Overview>(
            "SELECT (SELECT COUNT(*) FROM stores WHERE org_id = $1) AS stores, \
                    (SELECT COUNT(*) FROM tills WHERE org_id = $1) AS tills, \
                    (SELECT COUNT(*) FROM categories WHERE org_id = $1) AS categories, \
                    (SELECT COUNT(*) FROM brands WHERE org_id = $1) AS brands, \
                    (SELECT COUNT(*) FROM pocs WHERE org_id = $1) AS pocs, \
                    (SELECT COUNT(*) FROM consumers WHERE org_id = $1) AS consumers, \
                    (SELECT COUNT(*) FROM users WHERE org_id = $1 AND active = $2) AS users",
        )
        .bind(org_id)
        .bind(true)
        .fetch_one(pool)
        .await?))
    }
}
