//! Orgs, users and login throttling.

use super::audit::record_dyn;
use super::dyntx::conflict_as;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::org::{Brand, BrandSettings, Currency, OrgSettings, OrgTz, PREFIX_ALPHABET};
use crate::domain::user::{Actor, Email, Role};
use chrono::{DateTime, Utc};
use rand::RngExt;

/// An org as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub currency: Currency,
    pub time_zone: OrgTz,
    pub code_prefix: String,
    pub created_at: DateTime<Utc>,
    /// Live promotions the org may have at once.
    pub live_promotion_cap: i64,
    /// Moves on every write of the org's promotions (`app::cart`'s cache key).
    pub promotions_version: i64,
    /// Moves on every write of the org's products, stores or zones (a trigger's; the key of
    /// `app::cart`'s catalogue cache).
    pub catalogue_version: i64,
}

/// What login needs of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserCredentials {
    pub id: UserId,
    pub password_hash: String,
    pub active: bool,
    pub session_version: i64,
}

/// The signed-in user with their org, loaded on every console request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub org_name: String,
    pub currency: Currency,
    pub time_zone: OrgTz,
    pub session_version: i64,
}

/// A user as listed on the users page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
}

fn random_prefix(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| PREFIX_ALPHABET[rng.random_range(0..PREFIX_ALPHABET.len())] as char)
        .collect()
}

/// Recent failed sign-ins that bear on one attempt.
#[derive(Debug, Clone, Copy)]
pub struct LoginFailures {
    /// Against the account, from anywhere.
    pub by_email: i64,
    /// Against the account from this address.
    pub by_email_and_address: i64,
    /// From this address, against any account.
    pub by_address: i64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn find_org_by_name(&self, name: &str) -> StoreResult<Option<Org>> {
        self.fetch_optional_read(
            "SELECT id, name, currency, time_zone, code_prefix, created_at, live_promotion_cap, promotions_version, catalogue_version FROM orgs WHERE name = $1",
            &[name.into()],
        )
        .await
    }

    pub async fn get_org(&self, id: OrgId) -> StoreResult<Org> {
        self.fetch_optional_read(
            "SELECT id, name, currency, time_zone, code_prefix, created_at, live_promotion_cap, promotions_version, catalogue_version FROM orgs WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Creates an org with a fresh unique code prefix (ORG-1).
    pub async fn create_org(&self, settings: &OrgSettings, actor: &Actor) -> StoreResult<Org> {
        for attempt in 0..20 {
            // Three letters give 13,824 prefixes; grow if an org is unlucky.
            let prefix = random_prefix(if attempt < 10 { 3 } else { 4 });
            let now = Utc::now();
            let result: StoreResult<OrgId> = async {
                let mut tx = self.begin().await?;
                let (id,): (OrgId,) = tx
                    .fetch_one(
                        "INSERT INTO orgs (name, currency, time_zone, code_prefix, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                        &[
                            settings.name.as_str().into(),
                            settings.currency.code().into(),
                            settings.time_zone.name().into(),
                            prefix.as_str().into(),
                            now.into(),
                        ],
                    )
                    .await?;
                record_dyn(
                    &mut tx,
                    AuditEntry {
                        org_id: id,
                        actor,
                        action: "org.created",
                        entity_type: "org",
                        entity_id: Some(id.get()),
                        summary: format!("Created org {}", settings.name),
                        details: None,
                    },
                )
                .await?;
                tx.commit().await?;
                Ok(id)
            }
            .await;
            match result {
                Ok(id) => return self.get_org(id).await,
                Err(StoreError::Db(e)) => {
                    let unique = e
                        .as_database_error()
                        .is_some_and(|d| d.is_unique_violation());
                    if unique && e.to_string().contains("name") {
                        return Err(StoreError::Conflict(format!(
                            "an org named {} exists",
                            settings.name
                        )));
                    }
                    if !unique {
                        return Err(StoreError::Db(e));
                    }
                    // The prefix was taken: try another.
                }
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Conflict(
            "could not find a free org code prefix".into(),
        ))
    }

    /// Changes name, currency and time zone; audited with before/after.
    pub async fn update_org_settings(
        &self,
        org_id: OrgId,
        s: &OrgSettings,
        actor: &Actor,
    ) -> StoreResult<()> {
        let before = self.get_org(org_id).await?;
        let details = serde_json::json!({
            "before": {"name": before.name, "currency": before.currency.code(), "time_zone": before.time_zone.name()},
            "after": {"name": s.name, "currency": s.currency.code(), "time_zone": s.time_zone.name()},
        });
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE orgs SET name = $1, currency = $2, time_zone = $3, updated_at = $4 WHERE id = $5",
            &[
                s.name.as_str().into(),
                s.currency.code().into(),
                s.time_zone.name().into(),
                Utc::now().into(),
                org_id.into(),
            ],
        )
        .await
        .map_err(|e| conflict_as(e, "is already used by another organisation"))?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "org.updated",
                entity_type: "org",
                entity_id: Some(org_id.get()),
                summary: "Changed org settings".into(),
                details: Some(details.to_string()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The org's brand settings as chosen (`None` where it keeps the default).
    pub async fn brand_settings(&self, org_id: OrgId) -> StoreResult<BrandSettings> {
        let (_, settings) = self.brand_row(org_id).await?;
        Ok(settings)
    }

    /// What customers' pages show of the org's brand, defaults filled in (the org's name, no
    /// logo, the default accent colour).
    pub async fn org_brand(&self, org_id: OrgId) -> StoreResult<Brand> {
        let (name, settings) = self.brand_row(org_id).await?;
        Ok(settings.brand(&name))
    }

    /// The org's name and brand columns, parsed (a stored value the rules refuse fails the
    /// read, as decoded columns do).
    async fn brand_row(&self, org_id: OrgId) -> StoreResult<(String, BrandSettings)> {
        let (name, brand_name, logo, accent): (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = self
            .fetch_optional_read(
                "SELECT name, brand_name, brand_logo_url, brand_accent FROM orgs WHERE id = $1",
                &[org_id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let settings = BrandSettings::parse(
            brand_name.as_deref().unwrap_or(""),
            logo.as_deref().unwrap_or(""),
            accent.as_deref().unwrap_or(""),
        )
        .map_err(|e| {
            StoreError::Db(sqlx::Error::Decode(
                format!("org {org_id} has brand settings the rules refuse: {e}").into(),
            ))
        })?;
        Ok((name, settings))
    }

    /// Sets the brand of the org's customers' pages; audited with what changed (nothing is
    /// written or recorded when nothing changed).
    pub async fn set_org_brand(
        &self,
        org_id: OrgId,
        brand: &BrandSettings,
        actor: &Actor,
    ) -> StoreResult<()> {
        let before = self.brand_settings(org_id).await?;
        if before == *brand {
            return Ok(());
        }
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(default)".into());
        let mut details = serde_json::Map::new();
        for (key, b, a) in [
            ("display_name", &before.name, &brand.name),
            ("logo_url", &before.logo_url, &brand.logo_url),
            ("accent_colour", &before.accent, &brand.accent),
        ] {
            if b != a {
                details.insert(
                    key.into(),
                    serde_json::json!({"before": shown(b), "after": shown(a)}),
                );
            }
        }
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE orgs SET brand_name = $1, brand_logo_url = $2, brand_accent = $3, updated_at = $4 WHERE id = $5",
            &[
                brand.name.clone().into(),
                brand.logo_url.clone().into(),
                brand.accent.clone().into(),
                Utc::now().into(),
                org_id.into(),
            ],
        )
        .await?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "org.brand_updated",
                entity_type: "org",
                entity_id: Some(org_id.get()),
                summary: "Changed the brand of customers' pages".into(),
                details: Some(serde_json::Value::Object(details).to_string()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        let (n,): (i64,) = self
            .fetch_one_read("SELECT COUNT(*) FROM users", &[])
            .await?;
        Ok(n)
    }

    /// Creates a user; the email must be free across all orgs (people log in by email alone).
    pub async fn create_user(
        &self,
        org_id: OrgId,
        u: &NewUser,
        actor: &Actor,
    ) -> StoreResult<UserId> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let (id,): (UserId,) = tx
            .fetch_one(
                "INSERT INTO users (org_id, email, name, password_hash, role, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                &[
                    org_id.into(),
                    u.email.as_str().into(),
                    u.name.as_str().into(),
                    u.password_hash.as_str().into(),
                    u.role.as_str().into(),
                    true.into(),
                    now.into(),
                ],
            )
            .await
            .map_err(|e| conflict_as(e, "is already used by another user"))?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "user.created",
                entity_type: "user",
                entity_id: Some(id.get()),
                summary: format!("Added user {} as {}", u.email, u.role.label()),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn find_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
        self.fetch_optional_read(
            "SELECT id, password_hash, active, session_version FROM users WHERE email = $1",
            &[email.into()],
        )
        .await
    }

    pub async fn session_user(&self, user_id: UserId) -> StoreResult<Option<SessionUser>> {
        self.fetch_optional_read(
            "SELECT u.id, u.org_id, u.email, u.name, u.role, u.active, o.name AS org_name, o.currency, o.time_zone, u.session_version \
             FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1",
            &[user_id.into()],
        )
        .await
    }

    pub async fn list_users(&self, org_id: OrgId) -> StoreResult<Vec<UserRow>> {
        self.fetch_all_read(
            "SELECT id, email, name, role, active, created_at FROM users WHERE org_id = $1 ORDER BY email",
            &[org_id.into()],
        )
        .await
    }

    pub async fn get_user(&self, org_id: OrgId, user_id: UserId) -> StoreResult<UserRow> {
        self.fetch_optional_read(
            "SELECT id, email, name, role, active, created_at FROM users WHERE org_id = $1 AND id = $2",
            &[org_id.into(), user_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Changes a user's role and/or active flag. Refuses to leave the org without an active
    /// admin (checked inside the write transaction, so two admins cannot demote each other).
    pub async fn update_user_access(
        &self,
        org_id: OrgId,
        user_id: UserId,
        role: Role,
        active: bool,
        actor: &Actor,
    ) -> StoreResult<()> {
        let before = self.get_user(org_id, user_id).await?;
        let mut tx = self.begin().await?;
        // Lock the org row first: on PostgreSQL two admins demoting each other at once would
        // otherwise each still count the other.
        tx.execute(
            "UPDATE orgs SET updated_at = updated_at WHERE id = $1",
            &[org_id.into()],
        )
        .await?;
        tx.execute(
            "UPDATE users SET role = $1, active = $2, updated_at = $3 WHERE org_id = $4 AND id = $5",
            &[
                role.as_str().into(),
                active.into(),
                Utc::now().into(),
                org_id.into(),
                user_id.into(),
            ],
        )
        .await?;
        let (admins,): (i64,) = tx
            .fetch_one(
                "SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'admin' AND active = $2",
                &[org_id.into(), true.into()],
            )
            .await?;
        if admins == 0 {
            return Err(StoreError::Conflict(
                "the org must keep at least one active admin".into(),
            ));
        }
        if !active {
            // Deactivation ends the user's sessions at once, on every instance: a copied cookie
            // does not come back to life with a reactivation.
            tx.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()])
                .await?;
        }
        let summary = if before.active != active {
            format!(
                "{} user {}",
                if active { "Reactivated" } else { "Deactivated" },
                before.email
            )
        } else {
            format!(
                "Changed role of {} from {} to {}",
                before.email,
                before.role,
                role.as_str()
            )
        };
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "user.updated",
                entity_type: "user",
                entity_id: Some(user_id.get()),
                summary,
                details: Some(
                    serde_json::json!({
                        "before": {"role": before.role, "active": before.active},
                        "after": {"role": role.as_str(), "active": active},
                    })
                    .to_string(),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password hash and ends the user's other sessions; returns the new session
    /// version for the session that made the change.
    pub async fn set_password_hash(&self, user_id: UserId, hash: &str) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (version,): (i64,) = tx
            .fetch_one(
                "UPDATE users SET password_hash = $1, session_version = session_version + 1, updated_at = $2 WHERE id = $3 RETURNING session_version",
                &[hash.into(), Utc::now().into(), user_id.into()],
            )
            .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Failed logins since `since`: (for this email, from this address, oldest for this email).
    pub async fn recent_login_failures(
        &self,
        email: &str,
        ip: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<LoginFailures> {
        let (by_email, by_pair, oldest): (i64, i64, Option<DateTime<Utc>>) = self
            .fetch_one_read(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN ip = $3 THEN 1 ELSE 0 END), 0), MIN(attempted_at) \
                 FROM login_failures WHERE email = $1 AND attempted_at > $2",
                &[email.into(), since.into(), ip.into()],
            )
            .await?;
        let (by_ip,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM login_failures WHERE ip = $1 AND attempted_at > $2",
                &[ip.into(), since.into()],
            )
            .await?;
        Ok(LoginFailures {
            by_email,
            by_email_and_address: by_pair,
            by_address: by_ip,
            oldest,
        })
    }

    pub async fn record_login_failure(&self, email: &str, ip: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO login_failures (email, ip, attempted_at) VALUES ($1, $2, $3)",
            &[email.into(), ip.into(), Utc::now().into()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets an email's failures after a successful login, and old failures of anyone.
    pub async fn clear_login_failures(
        &self,
        email: &str,
        older_than: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "DELETE FROM login_failures WHERE email = $1 OR attempted_at < $2",
            &[email.into(), older_than.into()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Moves the org's `catalogue_version` (carts read its products' facts and stores' zones
/// again) as the first statement of a transaction writing its products or stores: on
/// PostgreSQL the org's row is then held before any product or store row, in the order promotion
/// writes and `lock_org` take it, so two catalogue writes cannot deadlock (the triggers of
/// migration 21 move it too, for any other path, once per transaction). SQLite's one writer
/// needs no order; its triggers move the version.
pub(super) async fn move_catalogue(tx: &mut super::dyntx::DynTx, org_id: OrgId) -> StoreResult<()> {
    if tx.is_postgres() {
        tx.execute("SELECT bump_catalogue($1)", &[org_id.into()])
            .await?;
    }
    Ok(())
}

/// Takes the org's row for the rest of the transaction (PostgreSQL), as promotion writes do
/// (`FOR NO KEY UPDATE`: concurrent inserts' foreign-key checks on the org do not wait for it).
pub(super) async fn lock_org(tx: &mut super::dyntx::DynTx, org_id: OrgId) -> StoreResult<()> {
    let lock = tx.dialect().lock(super::dialect::Lock::NoKeyUpdate);
    let _: (i64,) = tx
        .fetch_one(
            &format!("SELECT id FROM orgs WHERE id = $1{lock}"),
            &[org_id.into()],
        )
        .await?;
    Ok(())
}
