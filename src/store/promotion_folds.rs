//! Folding promotion uses into per-quarter-hour and per-day counts (migration 24), so that a
//! limit's count sums at most ~200 rows instead of reading every use in its window (PRM-1,
//! issue #16). The scheduler folds what is older than a minute every run; a use written before
//! the folded point afterwards is counted by the database's triggers, so folding never changes
//! a count, only how it is read.

use super::dyntx::DynTx;
use super::{Store, StoreResult};
use crate::domain::ids::OrgId;
use chrono::{DateTime, Duration, DurationRound, Utc};

/// Uses folded per transaction at most: on PostgreSQL each holds off the org's closes while it
/// runs (a few milliseconds).
const STEP: i64 = 5_000;

/// How long a fold waits for the org's closes in flight before it leaves the org for the next
/// run (PostgreSQL); closes that arrive meanwhile wait behind it.
const LOCK_WAIT: &str = "SET LOCAL lock_timeout = '100ms'";

/// Steps per call at most (a million uses): a first fold of a long history goes on at the next
/// run instead of holding the scheduler's other work.
const MAX_STEPS: u64 = 200;

/// A step's uses, added to their quarter hour (span 0) and UTC day (span 1).
const FOLD_PG: &str = "INSERT INTO promotion_use_counts (promotion_id, span, at, uses) \
     SELECT u.promotion_id, s.span, \
      CASE s.span WHEN 0 THEN date_bin('15 minutes', u.used_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') \
       ELSE date_trunc('day', u.used_at, 'UTC') END, COUNT(*) \
     FROM promotion_uses u CROSS JOIN (VALUES (0::SMALLINT), (1::SMALLINT)) s(span) \
     WHERE u.org_id = $1 AND u.used_at >= $2 AND u.used_at < $3 AND u.reversed_at IS NULL \
     GROUP BY 1, 2, 3 \
     ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = promotion_use_counts.uses + EXCLUDED.uses";

const FOLD_SQLITE: &str = "INSERT INTO promotion_use_counts (promotion_id, span, at, uses) \
     SELECT u.promotion_id, s.span, \
      CASE s.span WHEN 0 THEN substr(u.used_at, 1, 14) || printf('%02d', CAST(substr(u.used_at, 15, 2) AS INTEGER) / 15 * 15) || ':00+00:00' \
       ELSE substr(u.used_at, 1, 10) || 'T00:00:00+00:00' END, COUNT(*) \
     FROM promotion_uses u, (SELECT 0 AS span UNION ALL SELECT 1) s \
     WHERE u.org_id = $1 AND u.used_at >= $2 AND u.used_at < $3 AND u.reversed_at IS NULL \
     GROUP BY 1, 2, 3 \
     ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = uses + excluded.uses";

impl Store {
    /// Folds every org's uses made before `until` (whole seconds) into the counts, a step of
    /// at most `STEP` uses per transaction; an org with nothing to fold is left as it is (its
    /// counts keep their version). An org whose closes held the fold off longer than
    /// `LOCK_WAIT` is left for the next call. The steps taken.
    pub async fn fold_promotion_uses(&self, until: DateTime<Utc>) -> StoreResult<u64> {
        let until = until.duration_trunc(Duration::seconds(1)).unwrap_or(until);
        // Orgs with uses still to fold (a use committed after this read waits for the next
        // call: it lies after the folded point, where counts read uses one by one).
        let orgs: Vec<(OrgId,)> = self
            .fetch_all_read(
                "SELECT o.id FROM orgs o LEFT JOIN promotion_use_folds f ON f.org_id = o.id \
                 WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.org_id = o.id \
                  AND u.used_at >= COALESCE(f.next_at, $1) AND u.used_at < $2) \
                 ORDER BY o.id",
                &[DateTime::<Utc>::UNIX_EPOCH.into(), until.into()],
            )
            .await?;
        let mut steps = 0;
        for (org,) in orgs {
            while steps < MAX_STEPS {
                match fold_step(self, org, until).await {
                    Ok(Some(_)) => steps += 1,
                    Ok(None) => break,
                    Err(e) if lock_timed_out(&e) => {
                        tracing::info!(org = org.get(), "closes held the uses' fold off; next run");
                        break;
                    }
                    // The other orgs are folded all the same.
                    Err(e) => {
                        tracing::warn!(org = org.get(), error = %e, "folding promotion uses failed");
                        break;
                    }
                }
            }
        }
        Ok(steps)
    }

    /// What the scheduler folds: uses older than a minute by the database's clock (PostgreSQL:
    /// instances' clocks may differ; a use written before the folded point costs its close an
    /// update of the org's fold row).
    pub async fn fold_promotion_uses_due(&self) -> StoreResult<u64> {
        let now = match self.backend {
            super::Backend::Postgres { .. } => {
                let (now,): (DateTime<Utc>,) = self.fetch_one_read("SELECT now()", &[]).await?;
                now
            }
            super::Backend::Sqlite { .. } => Utc::now(),
        };
        self.fold_promotion_uses(now - Duration::minutes(1)).await
    }
}

fn lock_timed_out(e: &super::StoreError) -> bool {
    matches!(e, super::StoreError::Db(sqlx::Error::Database(d)) if d.code().as_deref() == Some("55P03"))
}

/// One step of `org`'s fold towards `until`: where it folded to, None when it was there already.
async fn fold_step(
    store: &Store,
    org: OrgId,
    until: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let mut tx = store.begin().await?;
    let postgres = tx.is_postgres();
    if postgres {
        tx.execute(LOCK_WAIT, &[]).await?;
        // Granted once every transaction that wrote the org's uses has ended (they hold it
        // shared from their write on); closes arriving meanwhile wait behind it.
        tx.execute(
            "SELECT pg_advisory_xact_lock(1602, CAST($1 % 2147483647 AS INT))",
            &[org.into()],
        )
        .await?;
    }
    let next: Option<(DateTime<Utc>,)> = tx
        .fetch_optional(
            "SELECT next_at FROM promotion_use_folds WHERE org_id = $1",
            &[org.into()],
        )
        .await?;
    let from = next.map_or(DateTime::<Utc>::UNIX_EPOCH, |n| n.0);
    if from >= until {
        tx.rollback().await?;
        return Ok(None);
    }
    let end = step_end(&mut tx, org, from, until).await?;
    tx.execute(
        if postgres { FOLD_PG } else { FOLD_SQLITE },
        &[org.into(), from.into(), end.into()],
    )
    .await?;
    tx.execute(
        "INSERT INTO promotion_use_folds (org_id, next_at) VALUES ($1, $2) \
         ON CONFLICT (org_id) DO UPDATE SET next_at = excluded.next_at",
        &[org.into(), end.into()],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(end))
}

/// Where a step from `from` ends: `until`, or sooner at a whole second when more than `STEP`
/// uses lie between (always past `from`).
async fn step_end(
    tx: &mut DynTx,
    org: OrgId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<DateTime<Utc>> {
    let nth: Option<(DateTime<Utc>,)> = tx
        .fetch_optional(
            "SELECT used_at FROM promotion_uses WHERE org_id = $1 AND used_at >= $2 AND used_at < $3 \
             ORDER BY used_at LIMIT 1 OFFSET $4",
            &[org.into(), from.into(), until.into(), STEP.into()],
        )
        .await?;
    Ok(match nth {
        None => until,
        Some((t,)) => {
            let t = t.duration_trunc(Duration::seconds(1)).unwrap_or(t);
            t.max(from + Duration::seconds(1)).min(until)
        }
    })
}
