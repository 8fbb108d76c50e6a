//! Issuing coupons (ISS-1..3) in SQL, inside the caller's write transaction so that a bulk job
//! is all-or-nothing: the offer's state under its row lock, the customers' histories (one
//! query per kind of history for a whole chunk), the coupons to hand out, and the writes. The
//! flow is `app::issue`; the rules are `domain::issue`.

use super::dialect::Lock;
use super::dyntx::{Arg, DynTx, placeholders};
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::coupon::{CodeFormat, check_code_space, random_codes};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use crate::domain::issue::*;
use crate::domain::masters::IdentifierType;
use crate::domain::offer::OfferRules;
use crate::domain::user::Actor;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

pub(crate) use super::customers::customer_ids;

/// Customers per chunk (bound parameters stay well under both databases' limits).
pub const ISSUE_CHUNK: usize = 2000;

/// The offer's issuing state, read under its row lock.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssueOfferState {
    pub issued_count: i64,
    pub issue_cursor: i64,
    pub coupon_count: i64,
    pub claimed_by: Option<i64>,
}

/// Reads the offer's issuing state and holds its row until `tx` ends (`Lock::Update`), in a
/// transaction set up for tables that grow as it goes.
pub async fn lock_offer(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
) -> StoreResult<IssueOfferState> {
    let dialect = tx.dialect();
    for statement in dialect.growing_tables() {
        tx.execute(statement, &[]).await?;
    }
    let lock = dialect.lock(Lock::Update);
    tx.fetch_optional(
        &format!("SELECT issued_count, issue_cursor, coupon_count, claimed_by FROM offers WHERE org_id = $1 AND id = $2{lock}"),
        &[org_id.into(), offer_id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound)
}

/// What the rules of `rules` need to know of each customer of `ids` (their ids by reference):
/// the audience list, past issues of the listed offers, their issues of this offer.
#[allow(clippy::too_many_arguments)]
pub async fn histories(
    tx: &mut DynTx,
    offer_id: OfferId,
    rules: &OfferRules,
    rows: &[CustomerRef],
    ids: &HashMap<CustomerRef, CustomerId>,
    tz: Tz,
    today: NaiveDate,
) -> StoreResult<HashMap<CustomerId, CustomerHistory>> {
    let mut unique_ids: Vec<CustomerId> = ids.values().copied().collect();
    unique_ids.sort_unstable();
    let id_list = placeholders(2, unique_ids.len());
    let id_args = |first: Arg| {
        let mut a = vec![first];
        a.extend(unique_ids.iter().map(|i| Arg::from(*i)));
        a
    };
    let mut history: HashMap<CustomerId, CustomerHistory> = HashMap::new();
    if rules.specific_customers_only {
        for member in audience_members(tx, offer_id, rows).await? {
            if let Some(id) = ids.get(&member) {
                history.entry(*id).or_default().in_audience = true;
            }
        }
    }
    if !rules.issual.past_issual_offers.is_empty() {
        let since = day_start(tz, past_issual_since(today));
        let offers = &rules.issual.past_issual_offers;
        let mut args = id_args(since.into());
        args.extend(offers.iter().map(|o| Arg::I64(*o)));
        let hit: Vec<(CustomerId,)> = tx
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
        let own: Vec<(CustomerId, i64, Option<DateTime<Utc>>)> = tx
            .fetch_all(
                &format!(
                    "SELECT customer_id, COUNT(*), MAX(issued_at) FROM issuals WHERE offer_id = $1 AND customer_id IN ({id_list}) GROUP BY customer_id"
                ),
                &id_args(offer_id.into()),
            )
            .await?;
        for (id, count, last) in own {
            let h = history.entry(id).or_default();
            h.issued = count as u32;
            h.last_issued_on = last.map(|t| t.with_timezone(&tz).date_naive());
        }
    }
    Ok(history)
}

/// A common-code offer's one coupon, unless it was revoked.
pub async fn common_coupon(
    tx: &mut DynTx,
    offer_id: OfferId,
) -> StoreResult<Option<(i64, String)>> {
    tx.fetch_optional(
        "SELECT id, code FROM coupons WHERE offer_id = $1 AND status <> 'revoked' ORDER BY id LIMIT 1",
        &[offer_id.into()],
    )
    .await
}

/// The writes of an issue: what the coupons and their customers are.
pub struct IssueWrite<'a> {
    pub org_id: OrgId,
    pub offer_id: OfferId,
    /// (coupon, customer) pairs.
    pub pairs: &'a [(i64, CustomerId)],
    /// A common code's coupon stays as it is (its customers are in `issuals`).
    pub common: bool,
    /// Codes made while taking coupons (they join the offer's count).
    pub generated: i64,
    pub valid_till: Option<NaiveDate>,
    /// Who issues, shown on the coupon and in the issue record.
    pub source: &'a str,
    pub cursor: i64,
    /// The batch started at a random place (or is one common coupon), so coupons may be left
    /// unissued below it: instead of `cursor`, the cursor moves up to just below the first
    /// unissued coupon. Each issued coupon is passed once, so an offer issued one coupon at a
    /// time does not re-read its issued coupons on every issue (found by `bench soak`: issues
    /// slowed as they accumulated).
    pub catch_up: bool,
    pub now: DateTime<Utc>,
}

/// Writes an issue: the coupons' customer and expiry, one issue record per pair, the offer's
/// counters and cursor.
pub async fn write_issues(tx: &mut DynTx, w: &IssueWrite<'_>) -> StoreResult<()> {
    let pairs = w.pairs;
    let base = [
        Arg::Time(w.now),
        Arg::OptDate(w.valid_till),
        Arg::Text(w.source.to_string()),
        w.offer_id.into(),
        w.org_id.into(),
    ];
    let tuples: Vec<String> = (0..pairs.len())
        .map(|i| format!("(${}, ${})", 6 + 2 * i, 7 + 2 * i))
        .collect();
    let mut args = base.to_vec();
    for (coupon, customer) in pairs {
        args.push(Arg::I64(*coupon));
        args.push(Arg::from(*customer));
    }
    if !pairs.is_empty() {
        if !w.common {
            tx.execute(
                &format!(
                    "WITH v(id, customer) AS (VALUES {}) UPDATE coupons SET status = 'issued', customer_id = v.customer, \
                     issued_at = $1, valid_till = $2, source = $3 FROM v WHERE coupons.id = v.id AND coupons.offer_id = $4 AND coupons.org_id = $5{}",
                    tuples.join(","),
                    tx.dialect()
                        .id_range("coupons.id", args.len() + 1, args.len() + 2),
                ),
                &{
                    // The taken ids are close together (taken in id order): the range lets
                    // PostgreSQL read just that slice of the index instead of the table
                    // (`Dialect::id_range`).
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
    let cursor = if w.catch_up {
        "COALESCE((SELECT MIN(c.id) - 1 FROM coupons c WHERE c.offer_id = $5 AND c.id > offers.issue_cursor AND c.status = 'unissued'), \
         (SELECT MAX(c.id) FROM coupons c WHERE c.offer_id = $5), offers.issue_cursor)"
    } else {
        "$3"
    };
    tx.execute(
        &format!(
            "UPDATE offers SET issued_count = issued_count + $1, coupon_count = coupon_count + $2, issue_cursor = {cursor}, \
             last_issued_at = CASE WHEN $1 > 0 THEN $4 ELSE last_issued_at END WHERE id = $5"
        ),
        &[
            Arg::I64(pairs.len() as i64),
            Arg::I64(w.generated),
            Arg::I64(w.cursor),
            Arg::Time(w.now),
            w.offer_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Audits an issue of the coupons `issued` (customer, coupon) of an offer.
pub async fn audit_issues(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    issued: &[(&CustomerRef, &Issued)],
    actor: &Actor,
) -> StoreResult<()> {
    let summary = match issued {
        [] => return Ok(()),
        [(customer, one)] => format!("Issued {} to {}", one.code, customer.label()),
        many => format!(
            "Issued {} to {}",
            crate::domain::money::plural(many.len() as i64, "coupon", "coupons"),
            many[0].0.label()
        ),
    };
    super::audit::record_dyn(
        tx,
        AuditEntry {
            org_id,
            actor,
            action: "coupon.issued",
            entity_type: "offer",
            entity_id: Some(offer_id.get()),
            summary,
            details: None,
        },
    )
    .await
}

/// Makes up to `n` codes of a randomized offer at the next positions of its code permutation
/// (under the offer's lock, taken by the caller): unique by construction, so the whole random
/// space can be used. A position whose code another offer of the org already holds is skipped.
async fn make_permuted(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    format: &CodeFormat,
    n: usize,
) -> StoreResult<(Vec<(i64, String)>, Result<(), String>)> {
    use crate::domain::code_permutation::CodePermutation;
    use crate::domain::coupon::code_at;
    let (key, cursor): (Option<String>, i64) = tx
        .fetch_one(
            "SELECT random_key, random_cursor FROM offers WHERE id = $1",
            &[offer_id.into()],
        )
        .await?;
    let key = match key.as_deref().and_then(parse_key) {
        Some(key) => key,
        None => {
            use rand::RngExt;
            let key: [u8; 16] = rand::rng().random();
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            tx.execute(
                "UPDATE offers SET random_key = $1 WHERE id = $2",
                &[hex.as_str().into(), offer_id.into()],
            )
            .await?;
            key
        }
    };
    let space = crate::domain::offer::code_space(format.charset, format.length);
    let permutation = CodePermutation::new(key, space);
    let mut cursor = cursor.max(0) as u128;
    let mut made = Vec::with_capacity(n);
    let mut shortfall = Ok(());
    while made.len() < n {
        let left = permutation.space() - cursor.min(permutation.space());
        if left == 0 {
            shortfall = Err(format!(
                "every one of the {} codes of this sample's random part has been made; no more can be issued",
                crate::domain::money::format_count(permutation.space() as i64)
            ));
            break;
        }
        let batch = ((n - made.len()) as u128).min(left) as usize;
        let codes = (cursor..cursor + batch as u128).map(|i| code_at(format, permutation.index(i)));
        let fresh = insert_new_codes(tx, org_id, offer_id, codes.collect()).await?;
        cursor += batch as u128;
        made.extend(fresh);
    }
    tx.execute(
        "UPDATE offers SET random_cursor = $1 WHERE id = $2",
        &[(cursor as i64).into(), offer_id.into()],
    )
    .await?;
    Ok((made, shortfall))
}

/// Inserts fresh codes for an offer, skipping any the org already has; the (id, code) of the
/// ones inserted.
async fn insert_new_codes(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    codes: Vec<String>,
) -> StoreResult<Vec<(i64, String)>> {
    let tuples: Vec<String> = (0..codes.len())
        .map(|i| format!("($1, $2, ${})", i + 3))
        .collect();
    let mut args: Vec<Arg> = vec![org_id.into(), offer_id.into()];
    args.extend(codes.into_iter().map(Arg::from));
    tx.fetch_all(
        &format!(
            "INSERT INTO coupons (org_id, offer_id, code) VALUES {} ON CONFLICT (org_id, code) DO NOTHING RETURNING id, code",
            tuples.join(",")
        ),
        &args,
    )
    .await
}

/// A permutation key stored as 32 hex digits.
fn parse_key(hex: &str) -> Option<[u8; 16]> {
    let mut key = [0u8; 16];
    if hex.len() != 32 {
        return None;
    }
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

impl Store {
    /// A randomized offer's fixed part.
    pub async fn random_fixed(&self, offer_id: OfferId) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> = self
            .fetch_all_read(
                "SELECT random_fixed FROM offers WHERE id = $1",
                &[offer_id.into()],
            )
            .await?
            .pop();
        Ok(row.and_then(|r| r.0))
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
    offer_id: OfferId,
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
pub const RANDOM_START_AT_MOST: usize = 50;

/// Takes `n` coupons to issue: unissued ones after the offer's cursor, then (for generated
/// formats) fresh codes. Fewer when the offer has no more. Generated codes are stored in code
/// order, so taking them in id order would hand consecutive customers look-alike codes
/// (222B…, 222N…): for generated formats a small issue starts at a random id (wrapping to the
/// cursor), and every batch is handed out shuffled. Uploaded codes go out in upload order.
pub async fn take_coupons(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    on_demand: Option<&CodeFormat>,
    permuted: bool,
    state: &IssueOfferState,
    n: usize,
) -> StoreResult<(Vec<(i64, String)>, Result<(), String>, i64)> {
    use rand::RngExt;
    use rand::seq::SliceRandom;
    // Uploaded codes go out in upload order, as the Coupons tab says.
    let generated_codes = on_demand.is_some();
    let start = if generated_codes && n <= RANDOM_START_AT_MOST {
        let top: Option<(Option<i64>,)> = tx
            .fetch_optional(
                "SELECT MAX(id) FROM coupons WHERE offer_id = $1",
                &[offer_id.into()],
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
                offer_id.into(),
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
                    offer_id.into(),
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
    let Some(format) = on_demand else {
        let shortfall = if taken.len() < n {
            Err("no unissued codes are left; upload or add more codes".to_string())
        } else {
            Ok(())
        };
        return Ok((taken, shortfall, 0));
    };
    if permuted {
        let (fresh, shortfall) =
            make_permuted(tx, org_id, offer_id, format, n - taken.len()).await?;
        let generated = fresh.len() as i64;
        taken.extend(fresh);
        return Ok((taken, shortfall, generated));
    }
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
        let fresh = insert_new_codes(tx, org_id, offer_id, random_codes(format, missing)).await?;
        generated += fresh.len() as i64;
        taken.extend(fresh);
    }
    Ok((taken, Ok(()), generated))
}
