//! Org masters: concepts, zones, stores, tills, categories, brands, POCs, consumers.
//! Every query is scoped by org.

use super::audit::record_dyn;
use super::dyntx::conflict_as;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::ids::OrgId;
use crate::domain::masters::{NewCodedName, NewConsumer, NewPoc, StoreRow, TillRow};
use crate::domain::user::Actor;
use chrono::{DateTime, NaiveDate, Utc};
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
    pub async fn list_coded(&self, org_id: OrgId, kind: CodedKind) -> StoreResult<Vec<CodedRow>> {
        let sql = format!(
            "SELECT id, code, name FROM {} WHERE org_id = $1 ORDER BY code",
            kind.table()
        );
        self.fetch_all_read(&sql, &[org_id.into()]).await
    }

    /// Code → id of a coded master, for resolving CSV references.
    pub async fn coded_ids(
        &self,
        org_id: OrgId,
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
        org_id: OrgId,
        kind: CodedKind,
        new: &NewCodedName,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let sql = format!(
            "INSERT INTO {} (org_id, code, name) VALUES ($1, $2, $3) RETURNING id",
            kind.table()
        );
        let mut tx = self.begin().await?;
        let (id,): (i64,) = tx
            .fetch_one(
                &sql,
                &[
                    org_id.into(),
                    new.code.as_str().into(),
                    new.name.as_str().into(),
                ],
            )
            .await
            .map_err(|e| conflict_as(e, format!("is already used by another {}", kind.noun())))?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "master.created",
                entity_type: kind.noun(),
                entity_id: Some(id),
                summary: format!("Added {} {} ({})", kind.noun(), new.code.as_str(), new.name),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates or renames coded masters by code, all in one transaction.
    pub async fn upsert_coded(
        &self,
        org_id: OrgId,
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
        let mut tx = self.begin().await?;
        for r in rows {
            tx.execute(
                &sql,
                &[
                    org_id.into(),
                    r.code.as_str().into(),
                    r.name.as_str().into(),
                ],
            )
            .await?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "master.uploaded",
                entity_type: kind.noun(),
                entity_id: None,
                summary: format!(
                    "Uploaded {} {} {}: {} created, {} updated",
                    rows.len(),
                    kind.noun(),
                    if rows.len() == 1 { "row" } else { "rows" },
                    rows.len() - updated,
                    updated
                ),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(UpsertCounts {
            created: rows.len() - updated,
            updated,
        })
    }

    pub async fn list_stores(&self, org_id: OrgId) -> StoreResult<Vec<StoreListRow>> {
        let sql = format!("{STORE_SELECT} WHERE s.org_id = $1 ORDER BY s.code");
        self.fetch_all_read(&sql, &[org_id.into()]).await
    }

    pub async fn get_store(&self, org_id: OrgId, store_id: i64) -> StoreResult<StoreListRow> {
        let sql = format!("{STORE_SELECT} WHERE s.org_id = $1 AND s.id = $2");
        self.fetch_optional_read(&sql, &[org_id.into(), store_id.into()])
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn store_ids(&self, org_id: OrgId) -> StoreResult<HashMap<String, i64>> {
        let rows: Vec<(String, i64)> = self
            .fetch_all_read(
                "SELECT code, id FROM stores WHERE org_id = $1",
                &[org_id.into()],
            )
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Creates or updates stores by code in one transaction. Zone and concept ids must be the
    /// org's own (the caller resolved them from this org's codes).
    pub async fn upsert_stores(
        &self,
        org_id: OrgId,
        rows: &[StoreRow],
        actor: &Actor,
        upload: bool,
    ) -> StoreResult<UpsertCounts> {
        let existing = self.store_ids(org_id).await?;
        let updated = rows
            .iter()
            .filter(|r| existing.contains_key(r.code.as_str()))
            .count();
        let mut tx = self.begin().await?;
        super::orgs::move_catalogue(&mut tx, org_id).await?;
        let mut last_id = 0;
        let sql = if upload {
            "INSERT INTO stores (org_id, code, name, zone_id, concept_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, code) DO UPDATE SET name = excluded.name, zone_id = excluded.zone_id, concept_id = excluded.concept_id \
             RETURNING id"
        } else {
            "INSERT INTO stores (org_id, code, name, zone_id, concept_id) VALUES ($1, $2, $3, $4, $5) RETURNING id"
        };
        for r in rows {
            (last_id,) = tx
                .fetch_one(
                    sql,
                    &[
                        org_id.into(),
                        r.code.as_str().into(),
                        r.name.as_str().into(),
                        r.zone_id.into(),
                        r.concept_id.into(),
                    ],
                )
                .await
                .map_err(|e| conflict_as(e, "is already used by another store"))?;
        }
        let summary = if upload {
            format!(
                "Uploaded {}: {} created, {} updated",
                crate::domain::money::plural(rows.len() as i64, "store", "stores"),
                rows.len() - updated,
                updated
            )
        } else {
            format!("Added store {} ({})", rows[0].code.as_str(), rows[0].name)
        };
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: if upload {
                    "master.uploaded"
                } else {
                    "master.created"
                },
                entity_type: "store",
                entity_id: if upload { None } else { Some(last_id) },
                summary,
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(UpsertCounts {
            created: rows.len() - updated,
            updated,
        })
    }

    /// Adds one store; refuses a code that is taken.
    pub async fn create_store(
        &self,
        org_id: OrgId,
        row: &StoreRow,
        actor: &Actor,
    ) -> StoreResult<()> {
        self.upsert_stores(org_id, std::slice::from_ref(row), actor, false)
            .await
            .map(|_| ())
    }

    pub async fn list_tills(
        &self,
        org_id: OrgId,
        store_id: Option<i64>,
    ) -> StoreResult<Vec<TillListRow>> {
        self.fetch_all_read(
            "SELECT t.id, t.code, t.name, s.code AS store_code FROM tills t JOIN stores s ON s.id = t.store_id \
             WHERE t.org_id = $1 AND ($2 = 0 OR t.store_id = $2) ORDER BY s.code, t.code",
            &[org_id.into(), store_id.unwrap_or(0).into()],
        )
        .await
    }

    /// Creates or updates tills by code in one transaction.
    pub async fn upsert_tills(
        &self,
        org_id: OrgId,
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
        let mut tx = self.begin().await?;
        let mut last_id: i64 = 0;
        let sql = if upload {
            "INSERT INTO tills (org_id, store_id, code, name) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, code) DO UPDATE SET name = excluded.name, store_id = excluded.store_id RETURNING id"
        } else {
            "INSERT INTO tills (org_id, store_id, code, name) VALUES ($1, $2, $3, $4) RETURNING id"
        };
        for r in rows {
            (last_id,) = tx
                .fetch_one(
                    sql,
                    &[
                        org_id.into(),
                        r.store_id.into(),
                        r.code.as_str().into(),
                        r.name.as_str().into(),
                    ],
                )
                .await
                .map_err(|e| conflict_as(e, "is already used by another till"))?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: if upload {
                    "master.uploaded"
                } else {
                    "master.created"
                },
                entity_type: "till",
                entity_id: if upload { None } else { Some(last_id) },
                summary: if upload {
                    format!(
                        "Uploaded {}: {} created, {} updated",
                        crate::domain::money::plural(rows.len() as i64, "till", "tills"),
                        rows.len() - updated,
                        updated
                    )
                } else {
                    format!("Added till {} ({})", rows[0].code.as_str(), rows[0].name)
                },
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(UpsertCounts {
            created: rows.len() - updated,
            updated,
        })
    }

    pub async fn list_pocs(&self, org_id: OrgId) -> StoreResult<Vec<PocRow>> {
        self.fetch_all_read(
            "SELECT id, name, email, created_at FROM pocs WHERE org_id = $1 ORDER BY name, email",
            &[org_id.into()],
        )
        .await
    }

    pub async fn get_poc(&self, org_id: OrgId, id: i64) -> StoreResult<PocRow> {
        self.fetch_optional_read(
            "SELECT id, name, email, created_at FROM pocs WHERE org_id = $1 AND id = $2",
            &[org_id.into(), id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn create_poc(&self, org_id: OrgId, poc: &NewPoc, actor: &Actor) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = tx
            .fetch_one(
                "INSERT INTO pocs (org_id, name, email, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    org_id.into(),
                    poc.name.as_str().into(),
                    poc.email.as_str().into(),
                    Utc::now().into(),
                ],
            )
            .await
            .map_err(|e| conflict_as(e, "is already used by another POC"))?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "poc.created",
                entity_type: "poc",
                entity_id: Some(id),
                summary: format!("Added POC {} <{}>", poc.name, poc.email),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Removes a POC; refused (naming the offers) while offers send it expiry reminders.
    pub async fn delete_poc(&self, org_id: OrgId, id: i64, actor: &Actor) -> StoreResult<()> {
        let poc = self.get_poc(org_id, id).await?;
        let mut tx = self.begin().await?;
        let offers: Vec<(String,)> = tx
            .fetch_all(
                "SELECT o.name FROM offer_reminder_pocs r JOIN offers o ON o.id = r.offer_id WHERE r.poc_id = $1 AND o.org_id = $2 ORDER BY o.name",
                &[id.into(), org_id.into()],
            )
            .await?;
        if !offers.is_empty() {
            let offers: Vec<String> = offers.into_iter().map(|(name,)| name).collect();
            return Err(StoreError::Conflict(format!(
                "{} gets the expiry reminders of {}; choose other POCs there first",
                poc.email,
                offers.join(", ")
            )));
        }
        tx.execute(
            "DELETE FROM pocs WHERE org_id = $1 AND id = $2",
            &[org_id.into(), id.into()],
        )
        .await?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "poc.deleted",
                entity_type: "poc",
                entity_id: Some(id),
                summary: format!("Removed POC {} <{}>", poc.name, poc.email),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_consumers(&self, org_id: OrgId) -> StoreResult<Vec<ConsumerRow>> {
        self.fetch_all_read(
            "SELECT id, name, kind, starts_on, ends_on, created_at FROM consumers WHERE org_id = $1 ORDER BY name",
            &[org_id.into()],
        )
        .await
    }

    pub async fn get_consumer(&self, org_id: OrgId, id: i64) -> StoreResult<ConsumerRow> {
        self.fetch_optional_read(
            "SELECT id, name, kind, starts_on, ends_on, created_at FROM consumers WHERE org_id = $1 AND id = $2",
            &[org_id.into(), id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn create_consumer(
        &self,
        org_id: OrgId,
        c: &NewConsumer,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = tx
            .fetch_one(
                "INSERT INTO consumers (org_id, name, kind, starts_on, ends_on, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    org_id.into(),
                    c.name.as_str().into(),
                    c.kind.as_str().into(),
                    c.dates.map(|d| d.0).into(),
                    c.dates.map(|d| d.1).into(),
                    Utc::now().into(),
                ],
            )
            .await
            .map_err(|e| conflict_as(e, "is already used by another campaign or program"))?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "consumer.created",
                entity_type: "consumer",
                entity_id: Some(id),
                summary: format!("Added {} {}", c.kind.label(), c.name),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
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
    pub async fn overview(&self, org_id: OrgId) -> StoreResult<Overview> {
        self.fetch_one_read(
            "SELECT (SELECT COUNT(*) FROM stores WHERE org_id = $1) AS stores, \
                    (SELECT COUNT(*) FROM tills WHERE org_id = $1) AS tills, \
                    (SELECT COUNT(*) FROM categories WHERE org_id = $1) AS categories, \
                    (SELECT COUNT(*) FROM brands WHERE org_id = $1) AS brands, \
                    (SELECT COUNT(*) FROM pocs WHERE org_id = $1) AS pocs, \
                    (SELECT COUNT(*) FROM consumers WHERE org_id = $1) AS consumers, \
                    (SELECT COUNT(*) FROM users WHERE org_id = $1 AND active = $2) AS users",
            &[org_id.into(), true.into()],
        )
        .await
    }
}
