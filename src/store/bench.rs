//! Ceilings the benchmarks measure the product against, in the same run (#15): the bare writes
//! of the rows an operation produces, with the same tables and indexes and nothing else — no
//! rules, no drawing, no counters, no audit.

use super::dyntx::DynTx;
use super::{Store, StoreResult};
use crate::domain::ids::{OfferId, OrgId};
use chrono::Utc;
use std::fmt::Write as _;

/// Rows per multi-row statement on SQLite.
const ROWS: usize = 400;

impl Store {
    /// `bench issue`'s `raw_per_s`: the rows a bulk issue of the offer's coupons to customers
    /// `mobiles` writes — the customers, one issue record each, each coupon marked issued to
    /// its customer — in one transaction: multi-row statements on SQLite, `COPY` (and one
    /// joined `UPDATE`) on PostgreSQL — and, when the offer is delivered through this system,
    /// one queued `issued` message per issue record with the product's text (`message`). The
    /// offer must have at least as many coupons, none issued. The number of coupons issued.
    pub async fn raw_issue(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        mobiles: &[String],
        message: Option<&RawMessage>,
    ) -> StoreResult<u64> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        match &mut tx {
            DynTx::Sqlite(t) => {
                for chunk in mobiles.chunks(ROWS) {
                    let mut sql = String::from(
                        "INSERT INTO customers (org_id, identifier_type, identifier, created_at) VALUES ",
                    );
                    for (i, m) in chunk.iter().enumerate() {
                        let _ = write!(
                            sql,
                            "{}({org_id},'MOBILE','{m}',?1)",
                            if i > 0 { "," } else { "" }
                        );
                    }
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(now)
                        .execute(t.conn()?)
                        .await?;
                }
            }
            DynTx::Postgres(t) => {
                let stamp = now.to_rfc3339();
                let mut data = String::with_capacity(mobiles.len() * 48);
                for m in mobiles {
                    let _ = writeln!(data, "{org_id}\tMOBILE\t{m}\t{stamp}");
                }
                let mut copy = t
                    .copy_in_raw("COPY customers (org_id, identifier_type, identifier, created_at) FROM STDIN")
                    .await?;
                copy.send(data.into_bytes()).await?;
                copy.finish().await?;
            }
        }
        let customers: Vec<(i64,)> = tx
            .fetch_all(
                "SELECT id FROM customers WHERE org_id = $1 ORDER BY id",
                &[org_id.into()],
            )
            .await?;
        let coupons: Vec<(i64,)> = tx
            .fetch_all(
                "SELECT id FROM coupons WHERE offer_id = $1 ORDER BY id LIMIT $2",
                &[offer_id.into(), (mobiles.len() as i64).into()],
            )
            .await?;
        let pairs: Vec<(i64, i64)> = coupons
            .iter()
            .zip(&customers)
            .map(|(c, u)| (c.0, u.0))
            .collect();
        match &mut tx {
            DynTx::Sqlite(t) => {
                for chunk in pairs.chunks(ROWS) {
                    let mut issuals = String::from(
                        "INSERT INTO issuals (org_id, offer_id, coupon_id, customer_id, issued_at, source) VALUES ",
                    );
                    let mut values = String::new();
                    for (i, (coupon, customer)) in chunk.iter().enumerate() {
                        let sep = if i > 0 { "," } else { "" };
                        let _ = write!(
                            issuals,
                            "{sep}({org_id},{offer_id},{coupon},{customer},?1,'bench')"
                        );
                        let _ = write!(values, "{sep}({coupon},{customer})");
                    }
                    sqlx::query(sqlx::AssertSqlSafe(issuals))
                        .bind(now)
                        .execute(t.conn()?)
                        .await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "WITH v(id, customer) AS (VALUES {values}) UPDATE coupons SET status = 'issued', \
                         customer_id = v.customer, issued_at = ?1 FROM v WHERE coupons.id = v.id"
                    )))
                    .bind(now)
                    .execute(t.conn()?)
                    .await?;
                }
            }
            DynTx::Postgres(t) => {
                let stamp = now.to_rfc3339();
                let mut issuals = String::with_capacity(pairs.len() * 48);
                let mut staged = String::with_capacity(pairs.len() * 24);
                for (coupon, customer) in &pairs {
                    let _ = writeln!(
                        issuals,
                        "{org_id}\t{offer_id}\t{coupon}\t{customer}\t{stamp}\tbench"
                    );
                    let _ = writeln!(staged, "{coupon}\t{customer}");
                }
                let mut copy = t
                    .copy_in_raw("COPY issuals (org_id, offer_id, coupon_id, customer_id, issued_at, source) FROM STDIN")
                    .await?;
                copy.send(issuals.into_bytes()).await?;
                copy.finish().await?;
                sqlx::query(
                    "CREATE TEMP TABLE raw_issue (id BIGINT, customer BIGINT) ON COMMIT DROP",
                )
                .execute(&mut **t)
                .await?;
                let mut copy = t
                    .copy_in_raw("COPY raw_issue (id, customer) FROM STDIN")
                    .await?;
                copy.send(staged.into_bytes()).await?;
                copy.finish().await?;
                sqlx::query(
                    "UPDATE coupons SET status = 'issued', customer_id = r.customer, issued_at = $1 \
                     FROM raw_issue r WHERE coupons.id = r.id",
                )
                .bind(now)
                .execute(&mut **t)
                .await?;
            }
        }
        if let Some(m) = message {
            raw_messages(&mut tx, org_id, offer_id, m, now).await?;
        }
        tx.commit().await?;
        Ok(pairs.len() as u64)
    }

    /// How many `issued` messages the product queued, and the first, to write its like raw.
    pub async fn issued_messages(&self) -> StoreResult<(i64, Option<RawMessage>)> {
        let (count,): (i64,) = self
            .fetch_one_read("SELECT COUNT(*) FROM outbox WHERE kind = 'issued'", &[])
            .await?;
        let row: Option<(String, String, String)> = self
            .fetch_optional_read(
                "SELECT channel, subject, body_text FROM outbox WHERE kind = 'issued' ORDER BY id LIMIT 1",
                &[],
            )
            .await?;
        Ok((
            count,
            row.map(|(channel, subject, body)| RawMessage {
                channel,
                subject,
                body,
            }),
        ))
    }
}

/// A queued message as the raw ceiling writes it, once per issue record.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub channel: String,
    pub subject: String,
    pub body: String,
}

/// One queued message per issue record of the offer, to its customer's mobile: a set-based
/// `INSERT … SELECT` on SQLite, `COPY` on PostgreSQL.
async fn raw_messages(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    m: &RawMessage,
    now: chrono::DateTime<Utc>,
) -> StoreResult<()> {
    match tx {
        DynTx::Sqlite(t) => {
            sqlx::query(
                "INSERT INTO outbox (org_id, kind, channel, recipient, subject, body_text, status, attempts, \
                 next_attempt_at, offer_id, dedupe_key, created_at) \
                 SELECT i.org_id, 'issued', ?1, c.identifier, ?2, ?3, 'queued', 0, ?4, i.offer_id, \
                 'issued:' || CAST(i.id AS TEXT), ?4 FROM issuals i JOIN customers c ON c.id = i.customer_id \
                 WHERE i.offer_id = ?5 ORDER BY i.id",
            )
            .bind(&m.channel)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(now)
            .bind(offer_id.get())
            .execute(t.conn()?)
            .await?;
        }
        DynTx::Postgres(t) => {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT i.id, c.identifier FROM issuals i JOIN customers c ON c.id = i.customer_id \
                 WHERE i.offer_id = $1 ORDER BY i.id",
            )
            .bind(offer_id.get())
            .fetch_all(&mut **t)
            .await?;
            let stamp = now.to_rfc3339();
            let field = |v: &str| {
                v.replace('\\', "\\\\")
                    .replace('\t', "\\t")
                    .replace('\n', "\\n")
                    .replace('\r', "\\r")
            };
            let (channel, subject, body) = (field(&m.channel), field(&m.subject), field(&m.body));
            let mut data = String::with_capacity(rows.len() * (body.len() + 96));
            for (id, mobile) in rows {
                let _ = writeln!(
                    data,
                    "{org_id}\tissued\t{channel}\t{mobile}\t{subject}\t{body}\tqueued\t0\t{stamp}\t{offer_id}\tissued:{id}\t{stamp}"
                );
            }
            let mut copy = t
                .copy_in_raw("COPY outbox (org_id, kind, channel, recipient, subject, body_text, status, attempts, next_attempt_at, offer_id, dedupe_key, created_at) FROM STDIN")
                .await?;
            copy.send(data.into_bytes()).await?;
            copy.finish().await?;
        }
    }
    Ok(())
}

impl Store {
    /// `bench cart --history U`: `per` earlier uses of each of `promotions` (no customer, a
    /// discount of 100 each), spread evenly over [`from`, `to`) — what a month of steady
    /// traffic leaves for the limits to count. One set-based statement per promotion.
    pub async fn raw_promotion_history(
        &self,
        org_id: OrgId,
        promotions: &[crate::domain::ids::PromotionId],
        per: i64,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let span = (to - from).num_seconds().max(1);
        for p in promotions {
            let sql = if tx.is_postgres() {
                "INSERT INTO promotion_uses (org_id, promotion_id, cart_id, customer_id, discount, used_at) \
                 SELECT $1, $2, 'H' || n, NULL, 100, $3::timestamptz + make_interval(secs => (n * $4 / $5)::float8) \
                 FROM generate_series(0, $5 - 1) n"
            } else {
                "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < $5) \
                 INSERT INTO promotion_uses (org_id, promotion_id, cart_id, customer_id, discount, used_at) \
                 SELECT $1, $2, 'H' || n, NULL, 100, \
                 strftime('%Y-%m-%dT%H:%M:%S+00:00', unixepoch($3) + n * $4 / $5, 'unixepoch') FROM s"
            };
            tx.execute(
                sql,
                &[
                    org_id.into(),
                    (*p).into(),
                    from.into(),
                    span.into(),
                    per.into(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
