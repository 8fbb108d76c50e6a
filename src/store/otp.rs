//! One-time sign-in codes (WAL-1): what the throttles read, the code row written with its
//! message in the outbox (one transaction), and a try recorded under a guard so that two
//! concurrent tries of one code never both sign in. The rules are `domain::otp`.

use super::dyntx::Arg;
use super::outbox::{NewMessage, insert_message};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::otp::{MAX_ATTEMPTS, SendRefusal, SentCode};
use chrono::{DateTime, Utc};

/// A code to store and send.
#[derive(Debug, Clone)]
pub struct NewCode<'a> {
    pub org_id: OrgId,
    pub to: &'a CustomerRef,
    pub code_hash: String,
    pub address: &'a str,
    pub expires_at: DateTime<Utc>,
    pub message: NewMessage,
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    id: i64,
    attempts: i64,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    code_hash: String,
}

impl Store {
    /// Stores a code and queues its message, in one transaction, if `decide` allows it given
    /// when codes were sent to the recipient since `since` and how many the client address
    /// asked for since then. The history is read inside the transaction, one request per
    /// recipient and per address at a time, so requests at once cannot pass the limits
    /// together.
    pub async fn store_code(
        &self,
        code: NewCode<'_>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        decide: impl FnOnce(&[DateTime<Utc>], usize) -> Result<(), SendRefusal>,
    ) -> StoreResult<Result<(), SendRefusal>> {
        let mut tx = self.begin().await?;
        if let Some(serialize) = tx.dialect().serialize_on_key() {
            let recipient = format!(
                "otp:{}:{}:{}",
                code.org_id.get(),
                code.to.kind.as_str(),
                code.to.value
            );
            for key in [recipient, format!("otp-address:{}", code.address)] {
                tx.execute(serialize, &[key.into()]).await?;
            }
        }
        let sent: Vec<(DateTime<Utc>,)> = tx
            .fetch_all(
                "SELECT created_at FROM customer_otps WHERE org_id = $1 AND identifier_type = $2 \
                 AND identifier = $3 AND created_at > $4",
                &[
                    code.org_id.into(),
                    code.to.kind.as_str().into(),
                    code.to.value.as_str().into(),
                    since.into(),
                ],
            )
            .await?;
        let asked: Option<(i64,)> = tx
            .fetch_optional(
                "SELECT COUNT(*) FROM customer_otps WHERE address = $1 AND created_at > $2",
                &[code.address.into(), since.into()],
            )
            .await?;
        let sent: Vec<DateTime<Utc>> = sent.into_iter().map(|(t,)| t).collect();
        if let Err(refusal) = decide(&sent, asked.map_or(0, |(n,)| n as usize)) {
            return Ok(Err(refusal));
        }
        tx.execute(
            "INSERT INTO customer_otps (org_id, identifier_type, identifier, code_hash, attempts, address, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6, $7)",
            &[
                code.org_id.into(),
                code.to.kind.as_str().into(),
                code.to.value.as_str().into(),
                code.code_hash.into(),
                code.address.into(),
                now.into(),
                code.expires_at.into(),
            ],
        )
        .await?;
        insert_message(&mut tx, &code.message, now).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The latest code sent to a recipient and its hash.
    pub async fn latest_code(
        &self,
        org_id: OrgId,
        to: &CustomerRef,
    ) -> StoreResult<Option<(SentCode, String)>> {
        let row: Option<CodeRow> = self
            .fetch_optional_read(
                "SELECT id, attempts, expires_at, used_at, code_hash FROM customer_otps \
                 WHERE org_id = $1 AND identifier_type = $2 AND identifier = $3 ORDER BY id DESC LIMIT 1",
                &[org_id.into(), to.kind.as_str().into(), to.value.as_str().into()],
            )
            .await?;
        Ok(row.map(|r| {
            (
                SentCode {
                    id: r.id,
                    attempts: r.attempts,
                    expires_at: r.expires_at,
                    used: r.used_at.is_some(),
                },
                r.code_hash,
            )
        }))
    }

    /// Records a try of code `id`: a right one uses the code (false when another try used it
    /// or spent its tries first), a wrong one counts an attempt.
    pub async fn record_code_try(
        &self,
        id: i64,
        right: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let n = if right {
            self.execute_autocommit(
                "UPDATE customer_otps SET used_at = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND used_at IS NULL AND attempts < $3",
                &[now.into(), id.into(), MAX_ATTEMPTS.into()],
            )
            .await?
        } else {
            self.execute_autocommit(
                "UPDATE customer_otps SET attempts = attempts + 1 WHERE id = $1 AND used_at IS NULL",
                &[Arg::I64(id)],
            )
            .await?
        };
        Ok(n == 1)
    }

    /// The customer with this identifier, made when new.
    pub async fn ensure_customer(
        &self,
        org_id: OrgId,
        who: &CustomerRef,
        now: DateTime<Utc>,
    ) -> StoreResult<CustomerId> {
        let mut tx = self.begin().await?;
        let ids =
            super::customers::customer_ids(&mut tx, org_id, std::slice::from_ref(who), now).await?;
        tx.commit().await?;
        ids.get(who).copied().ok_or(super::StoreError::NotFound)
    }
}
