//! Issuing coupons to customers (ISS-1..3), one or a chunk at a time, inside the caller's
//! write transaction so that a bulk job is all-or-nothing. Rules are decided by
//! `domain::issue::check_issue` on what is read here; a chunk reads each kind of history with
//! one query, so bulk issues cost a handful of statements per few hundred customers.

use super::dyntx::{Arg, DynTx, placeholders};
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::coupon::randomized_format;
use crate::domain::coupon::{CodeFormat, check_code_space, coupon_valid_till, random_codes};
use crate::domain::issue::*;
use crate::domain::masters::IdentifierType;
use crate::domain::offer::{Generation, OfferRules};
use crate::domain::user::Actor;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

pub(crate) use super::customers::customer_ids;

/// Customers per chunk (bound parameters stay well under both databases' limits).
pub const ISSUE_CHUNK: usize = 400;

/// Who issues: shown on the coupon and in the issue record.
#[derive(Debug, Clone)]
pub struct IssueSource {
    pub label: String,
    /// The consumer (campaign, program) issuing, for the claim rule.
    pub consumer: Option<i64>,
}

/// A coupon issued to a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub code: String,
    pub valid_till: Option<NaiveDate>,
}

pub type IssueOutcome = Result<Issued, IssueRefusal>;

/// What issuing one offer needs that does not change while a job runs.
#[derive(Debug, Clone)]
pub struct IssueContext {
    pub org_id: i64,
    pub offer_id: i64,
    pub rules: OfferRules,
    pub tz: Tz,
    pub ends_on: Option<NaiveDate>,
    pub claimed_by: Option<(i64, String)>,
    /// Codes made at issue when no unissued one is left (unique and randomized codes).
    pub on_demand: Option<CodeFormat>,
}

#[derive(sqlx::FromRow)]
struct OfferState {
    issued_count: i64,
    issue_cursor: i64,
    coupon_count: i64,
    claimed_by: Option<i64>,
}

impl Store {
    /// Reads what issuing coupons of an offer of the org needs.
    pub async fn issue_context(&self, org_id: i64, offer_id: i64) -> StoreResult<IssueContext> {
        let offer = self.get_offer(org_id, offer_id).await?;
        let org = self.get_org(org_id).await?;
        let tz: Tz = org.time_zone.0;
        let campaign_end = match &offer.claimed_by {
            Some((id, _, _)) => self.get_consumer(org_id, *id).await?.ends_on,
            None => None,
        };
        let on_demand = match &offer.rules.generation {
            Generation::Unique {
                length,
                charset,
                prefix,
            } => Some(CodeFormat {
                prefix: prefix.clone(),
                length: *length,
                charset: *charset,
            }),
            Generation::Randomized { sample } => {
                let fixed = self.random_fixed(offer_id).await?.unwrap_or_default();
                Some(randomized_format(sample, &fixed))
            }
            _ => None,
        };
        Ok(IssueContext {
            org_id,
            offer_id,
            ends_on: offer_ends_on(&offer.rules.expiry, campaign_end),
            claimed_by: offer.claimed_by.map(|(id, name, _)| (id, name)),
            rules: offer.rules,
            tz,
            on_demand,
        })
    }

    async fn random_fixed(&self, offer_id: i64) -> StoreResult<Option<String>> {
        super::read!(self, pool => Ok(sqlx::query_scalar::<_, Option<String>>("SELECT random_fixed FROM offers WHERE id = $1")
            .bind(offer_id)
            .fetch_optional(pool)
            .await?
            .flatten()))
    }

    /// Issues one coupon of an offer to a customer (console or API), audited.
    pub async fn issue_one(
        &self,
        ctx: &IssueContext,
        customer: &CustomerRef,
        source: &IssueSource,
        actor: &Actor,
    ) -> StoreResult<IssueOutcome> {
        self.issue_many(ctx, std::slice::from_ref(customer), source, actor)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Issues a coupon to each of `rows` in one transaction (the API's multiple issue), each
    /// decided on every ISS-2 rule; the issued ones are audited.
    #[tracing::instrument(name = "store.issue", skip_all, fields(org = ctx.org_id, offer = ctx.offer_id, customers = rows.len()))]
    pub async fn issue_many(
        &self,
        ctx: &IssueContext,
        rows: &[CustomerRef],
        source: &IssueSource,
        actor: &Actor,
    ) -> StoreResult<Vec<IssueOutcome>> {
        let mut tx = self.begin().await?;
        let outcomes = issue_chunk(&mut tx, ctx, rows, source, Utc::now()).await?;
        let issued: Vec<(&CustomerRef, &Issued)> = rows
            .iter()
            .zip(&outcomes)
            .filter_map(|(c, o)| o.as_ref().ok().map(|i| (c, i)))
            .collect();
        if !issued.is_empty() {
            let summary = match issued.as_slice() {
                [(customer, one)] => format!("Issued {} to {}", one.code, customer.label()),
                many => format!(
                    "Issued {} to {}",
                    crate::domain::money::plural(many.len() as i64, "coupon", "coupons"),
                    many[0].0.label()
                ),
            };
            super::audit::record_dyn(
                &mut tx,
                AuditEntry {
                    org_id: ctx.org_id,
                    actor,
                    action: "coupon.issued",
                    entity_type: "offer",
                    entity_id: Some(ctx.offer_id),
                    summary,
                    details: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// Start of the org-calendar day `day` as an instant.
fn day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// Which of `rows` are on the offer's specific-customers list.
async fn audience_members(
    tx: &mut DynTx,
    offer_id: i64,
    rows: &[CustomerRef],
) -> StoreResult<std::collections::HashSet<CustomerRef>> {
    let mut members = std::collections::HashSet::new();
    for kind in [
        IdentifierType::Mobile,
        IdentifierType::Email,
        IdentifierType::ExternalId,
    ] {
        let values: Vec<Arg> = rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| Arg::from(r.value.as_str()))
            .collect();
        if values.is_empty() {
            continue;
        }
        let n = values.len();
        let mut args: Vec<Arg> = vec![offer_id.into(), kind.as_str().into()];
        args.extend(values);
        let found: Vec<(String,)> = tx
            .fetch_all(
                &format!(
                    "SELECT identifier FROM offer_audience WHERE offer_id = $1 AND identifier_type = $2 AND identifier IN ({})",
                    placeholders(3, n)
                ),
                &args,
            )
            .await?;
        members.extend(
            found
                .into_iter()
                .map(|(value,)| CustomerRef { kind, value }),
        );
    }
    Ok(members)
}

/// Issues of at most this many coupons start at a random place among the unissued ones.
const RANDOM_START_AT_MOST: usize = 50;

/// Takes `n` coupons to issue: unissued ones after the offer's cursor, then (for generated
/// formats) fresh codes. Fewer when the offer has no more. Generated codes are stored in code
/// order, so taking them in id order would hand consecutive customers look-alike codes
/// (222B…, 222N…): for generated formats a small issue starts at a random id (wrapping to the
/// cursor), and every batch is handed out shuffled. Uploaded codes go out in upload order.
async fn take_coupons(
    tx: &mut DynTx,
    ctx: &IssueContext,
    state: &OfferState,
    n: usize,
) -> StoreResult<(Vec<(i64, String)>, Result<(), String>, i64)> {
    use rand::RngExt;
    use rand::seq::SliceRandom;
    // Uploaded codes go out in upload order, as the Coupons tab says.
    let generated_codes = ctx.on_demand.is_some();
    let start = if generated_codes && n <= RANDOM_START_AT_MOST {
        let top: Option<(Option<i64>,)> = tx
            .fetch_optional(
                "SELECT MAX(id) FROM coupons WHERE offer_id = $1",
                &[ctx.offer_id.into()],
            )
            .await?;
        match top.and_then(|t| t.0) {
            Some(max) if max > state.issue_cursor + 1 => {
                Some(rand::rng().random_range(state.issue_cursor + 1..=max))
            }
            _ => None,
        }
    } else {
        None
    };
    let mut taken: Vec<(i64, String)> = tx
        .fetch_all(
            "SELECT id, code FROM coupons WHERE offer_id = $1 AND id >= $2 AND status = 'unissued' ORDER BY id LIMIT $3",
            &[
                ctx.offer_id.into(),
                start.unwrap_or(state.issue_cursor + 1).into(),
                (n as i64).into(),
            ],
        )
        .await?;
    if let Some(start) = start
        && taken.len() < n
    {
        // Wrap around: the unissued ones between the cursor and the random start.
        let before: Vec<(i64, String)> = tx
            .fetch_all(
                "SELECT id, code FROM coupons WHERE offer_id = $1 AND id > $2 AND id < $3 AND status = 'unissued' ORDER BY id LIMIT $4",
                &[
                    ctx.offer_id.into(),
                    state.issue_cursor.into(),
                    start.into(),
                    ((n - taken.len()) as i64).into(),
                ],
            )
            .await?;
        taken.extend(before);
    }
    if generated_codes {
        taken.shuffle(&mut rand::rng());
    }
    let mut generated: i64 = 0;
    let Some(format) = &ctx.on_demand else {
        let shortfall = if taken.len() < n {
            Err("no unissued codes are left; upload or add more codes".to_string())
        } else {
            Ok(())
        };
        return Ok((taken, shortfall, 0));
    };
    let mut rounds = 0;
    while taken.len() < n {
        let missing = n - taken.len();
        if let Err(e) = check_code_space(
            format,
            missing as u64,
            (state.coupon_count + generated) as u64,
        ) {
            return Ok((taken, Err(e.to_string()), generated));
        }
        rounds += 1;
        if rounds > 20 {
            return Err(StoreError::Conflict(
                "could not draw free codes; the code format is nearly full".into(),
            ));
        }
        let codes = random_codes(format, missing);
        let mut args: Vec<Arg> = vec![ctx.org_id.into(), ctx.offer_id.into()];
        args.extend(codes.into_iter().map(Arg::from));
        let tuples: Vec<String> = (0..missing)
            .map(|i| format!("($1, $2, ${})", i + 3))
            .collect();
        let fresh: Vec<(i64, String)> = tx
            .fetch_all(
                &format!(
                    "INSERT INTO coupons (org_id, offer_id, code) VALUES {} ON CONFLICT (org_id, code) DO NOTHING RETURNING id, code",
                    tuples.join(",")
                ),
                &args,
            )
            .await?;
        generated += fresh.len() as i64;
        taken.extend(fresh);
    }
    Ok((taken, Ok(()), generated))
}

/// Issues a coupon to each of `rows` in order (a customer may appear more than once), deciding
/// every ISS-2 rule against the database as it stands inside `tx` plus the chunk's earlier rows.
pub async fn issue_chunk(
    tx: &mut DynTx,
    ctx: &IssueContext,
    rows: &[CustomerRef],
    source: &IssueSource,
    now: DateTime<Utc>,
) -> StoreResult<Vec<IssueOutcome>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let lock = if tx.is_postgres() {
        // A bulk issue grows these tables inside its own transaction: plan each statement for
        // the tables as they are now, not with a plan cached while they were empty.
        tx.execute("SET LOCAL plan_cache_mode = force_custom_plan", &[])
            .await?;
        // Without statistics on freshly generated coupons the planner takes every remaining
        // unissued coupon by bitmap scan and sorts them to find the next 400 (262 ms at 300k of
        // 1M); the ordered index scan stops after 400 rows (0.2 ms).
        tx.execute("SET LOCAL enable_bitmapscan = off", &[]).await?;
        " FOR UPDATE"
    } else {
        ""
    };
    let state: OfferState = tx
        .fetch_optional(
            &format!("SELECT issued_count, issue_cursor, coupon_count, claimed_by FROM offers WHERE org_id = $1 AND id = $2{lock}"),
            &[ctx.org_id.into(), ctx.offer_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    // The claim rule was decided on the claim read before this transaction; under the offer's
    // lock it must still be the same (a consumer may have claimed the offer meanwhile).
    if state.claimed_by != ctx.claimed_by.as_ref().map(|c| c.0) {
        return Err(StoreError::Conflict(
            "the offer was claimed by a consumer while issuing; nothing was issued — retry it"
                .into(),
        ));
    }
    let rules = &ctx.rules;
    let today = now.with_timezone(&ctx.tz).date_naive();

    // The customers' ids and histories, one query per kind of history.
    let ids = customer_ids(tx, ctx.org_id, rows, now).await?;
    let mut unique_ids: Vec<i64> = ids.values().copied().collect();
    unique_ids.sort_unstable();
    let id_list = placeholders(2, unique_ids.len());
    let id_args = |first: Arg| {
        let mut a = vec![first];
        a.extend(unique_ids.iter().map(|i| Arg::I64(*i)));
        a
    };
    let mut history: HashMap<i64, CustomerHistory> = HashMap::new();
    if rules.specific_customers_only {
        for member in audience_members(tx, ctx.offer_id, rows).await? {
            if let Some(id) = ids.get(&member) {
                history.entry(*id).or_default().in_audience = true;
            }
        }
    }
    if !rules.issual.past_issual_offers.is_empty() {
        let since = day_start(ctx.tz, past_issual_since(today));
        let offers = &rules.issual.past_issual_offers;
        let mut args = id_args(since.into());
        args.extend(offers.iter().map(|o| Arg::I64(*o)));
        let hit: Vec<(i64,)> = tx
            .fetch_all(
                &format!(
                    "SELECT DISTINCT customer_id FROM issuals WHERE issued_at >= $1 AND customer_id IN ({id_list}) AND offer_id IN ({})",
                    placeholders(2 + unique_ids.len(), offers.len())
                ),
                &args,
            )
            .await?;
        for (id,) in hit {
            history.entry(id).or_default().had_past_issual = true;
        }
    }
    if rules.issual.max_per_customer.is_some() || rules.issual.min_gap_days.is_some() {
        let own: Vec<(i64, i64, Option<DateTime<Utc>>)> = tx
            .fetch_all(
                &format!(
                    "SELECT customer_id, COUNT(*), MAX(issued_at) FROM issuals WHERE offer_id = $1 AND customer_id IN ({id_list}) GROUP BY customer_id"
                ),
                &id_args(ctx.offer_id.into()),
            )
            .await?;
        for (id, count, last) in own {
            let h = history.entry(id).or_default();
            h.issued = count as u32;
            h.last_issued_on = last.map(|t| t.with_timezone(&ctx.tz).date_naive());
        }
    }

    // Decide in order; an accepted row counts for the rows after it.
    let mut offer = crate::domain::issue::OfferState {
        rules,
        ends_on: ctx.ends_on,
        issued: state.issued_count,
        claimed_by: ctx.claimed_by.clone(),
    };
    let mut decisions: Vec<Result<i64, IssueRefusal>> = Vec::with_capacity(rows.len());
    for row in rows {
        let id = ids[row];
        let h = history.entry(id).or_default();
        let decision = check_issue(&offer, h, today, source.consumer).map(|_| {
            h.issued += 1;
            h.last_issued_on = Some(today);
            offer.issued += 1;
            id
        });
        decisions.push(decision);
    }

    // Coupons for the accepted rows.
    let accepted = decisions.iter().filter(|d| d.is_ok()).count();
    let common = matches!(rules.generation, Generation::Common { .. });
    let (coupons, shortfall, generated) = if accepted == 0 {
        (Vec::new(), Ok(()), 0)
    } else if common {
        let row: Option<(i64, String)> = tx
            .fetch_optional(
                "SELECT id, code FROM coupons WHERE offer_id = $1 AND status <> 'revoked' ORDER BY id LIMIT 1",
                &[ctx.offer_id.into()],
            )
            .await?;
        match row {
            Some(c) => (vec![c; accepted], Ok(()), 0),
            None => (
                Vec::new(),
                Err("the offer's common code was revoked".to_string()),
                0,
            ),
        }
    } else {
        take_coupons(tx, ctx, &state, accepted).await?
    };
    let valid_till = coupon_valid_till(now, rules.coupon_expiry, ctx.ends_on, ctx.tz);
    let mut coupons = coupons.into_iter();
    let mut pairs: Vec<(i64, i64)> = Vec::with_capacity(accepted);
    let mut outcomes = Vec::with_capacity(rows.len());
    for decision in decisions {
        outcomes.push(match decision {
            Err(refusal) => Err(refusal),
            Ok(customer) => match coupons.next() {
                Some((coupon, code)) => {
                    pairs.push((coupon, customer));
                    Ok(Issued { code, valid_till })
                }
                None => Err(IssueRefusal::NoCodesLeft(
                    shortfall
                        .clone()
                        .err()
                        .unwrap_or_else(|| "no codes are left".into()),
                )),
            },
        });
    }
    if pairs.is_empty() && generated == 0 {
        return Ok(outcomes);
    }

    // Write: coupons, issue records, the offer's counters.
    let base = [
        Arg::Time(now),
        Arg::OptDate(valid_till),
        Arg::Text(source.label.clone()),
        Arg::I64(ctx.offer_id),
        Arg::I64(ctx.org_id),
    ];
    let tuples: Vec<String> = (0..pairs.len())
        .map(|i| format!("(${}, ${})", 6 + 2 * i, 7 + 2 * i))
        .collect();
    let mut args = base.to_vec();
    for (coupon, customer) in &pairs {
        args.push(Arg::I64(*coupon));
        args.push(Arg::I64(*customer));
    }
    if !pairs.is_empty() {
        if !common {
            tx.execute(
                &format!(
                    "WITH v(id, customer) AS (VALUES {}) UPDATE coupons SET status = 'issued', customer_id = v.customer, \
                     issued_at = $1, valid_till = $2, source = $3 FROM v WHERE coupons.id = v.id AND coupons.offer_id = $4 AND coupons.org_id = $5 \
                     AND coupons.id BETWEEN ${} AND ${}",
                    tuples.join(","),
                    args.len() + 1,
                    args.len() + 2,
                ),
                &{
                    // The taken ids are close together (taken in id order): the range lets
                    // PostgreSQL read just that slice of the index instead of the table.
                    let mut a = args.clone();
                    a.push(Arg::I64(pairs.iter().map(|p| p.0).min().unwrap_or(0)));
                    a.push(Arg::I64(pairs.iter().map(|p| p.0).max().unwrap_or(0)));
                    a
                },
            )
            .await?;
        }
        let issual_tuples: Vec<String> = (0..pairs.len())
            .map(|i| format!("($5, $4, ${}, ${}, $1, $2, $3)", 6 + 2 * i, 7 + 2 * i))
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO issuals (org_id, offer_id, coupon_id, customer_id, issued_at, valid_till, source) VALUES {}",
                issual_tuples.join(",")
            ),
            &args,
        )
        .await?;
    }
    let random_start = !common && ctx.on_demand.is_some() && accepted <= RANDOM_START_AT_MOST;
    let cursor = if common || random_start {
        // A randomly started issue leaves unissued coupons behind it: the cursor (below which
        // none is unissued) stays.
        state.issue_cursor
    } else {
        pairs
            .iter()
            .map(|(c, _)| *c)
            .max()
            .unwrap_or(0)
            .max(state.issue_cursor)
    };
    tx.execute(
        "UPDATE offers SET issued_count = issued_count + $1, coupon_count = coupon_count + $2, issue_cursor = $3, \
         last_issued_at = CASE WHEN $1 > 0 THEN $4 ELSE last_issued_at END WHERE id = $5",
        &[
            Arg::I64(pairs.len() as i64),
            Arg::I64(generated),
            Arg::I64(cursor),
            Arg::Time(now),
            Arg::I64(ctx.offer_id),
        ],
    )
    .await?;
    Ok(outcomes)
}
