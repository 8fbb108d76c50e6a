//! Issuing coupons to customers (ISS-1..3), one, several or a chunk of a bulk job at a time, as
//! load → decide → apply inside one write transaction: the offer's state under its row lock
//! and the customers' histories are read, `domain::issue::decide_batch` decides every row on
//! every ISS-2 rule (an accepted row counting for the rows after it), coupons are taken (or
//! made, for generated formats) and handed out in order, and the store writes the issue. A
//! bulk job runs `issue_chunk` in its own transaction so that it is all-or-nothing.
//!
//! An offer delivered by this system (`Delivery::ThisSystem`) sends each issued coupon to its
//! customer (issue #18): `issue_chunk` — which every issue goes through — queues one outbox
//! message per issue record in the same transaction, where `domain::contacts::Reach` says
//! (customers nothing reaches get none), and the scheduler delivers it with the outbox's
//! retries. Offers delivered by a third party send nothing.

use crate::domain::contacts::Reach;
use crate::domain::coupon::{CodeFormat, coupon_valid_till, randomized_format};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use crate::domain::issue::{
    CustomerRef, IssueOutcome, Issued, OfferState, decide_batch, hand_out, next_cursor,
    offer_ends_on,
};
use crate::domain::message::{IssuedCoupon, ResendMessage, issued_message};
use crate::domain::offer::{Delivery, Generation, OfferRules};
use crate::domain::user::Actor;
use crate::store::contacts::customers_with_contacts;
use crate::store::dyntx::DynTx;
use crate::store::issue::{
    IssueWrite, RANDOM_START_AT_MOST, audit_issues, common_coupon, customer_ids, histories,
    lock_offer, take_coupons, write_issues,
};
use crate::store::issue_delivery::{IssuedMessage, issual_watermark, queue_issued};
use crate::store::{Store, StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::{HashMap, HashSet};

/// Who issues: shown on the coupon and in the issue record.
#[derive(Debug, Clone)]
pub struct IssueSource {
    pub label: String,
    /// The consumer (campaign, program) issuing, for the claim rule.
    pub consumer: Option<i64>,
}

/// What issuing one offer needs that does not change while a job runs.
#[derive(Debug, Clone)]
pub struct IssueContext {
    pub org_id: OrgId,
    pub offer_id: OfferId,
    pub rules: OfferRules,
    pub tz: Tz,
    pub ends_on: Option<NaiveDate>,
    pub claimed_by: Option<(i64, String)>,
    /// Codes made at issue when no unissued one is left (unique and randomized codes).
    pub on_demand: Option<CodeFormat>,
    /// The offer's discount in words in the org's currency, for the messages that deliver
    /// issued coupons.
    pub discount_words: String,
}

/// Reads what issuing coupons of an offer of the org needs.
pub async fn context(store: &Store, org_id: OrgId, offer_id: OfferId) -> StoreResult<IssueContext> {
    let offer = store.get_offer(org_id, offer_id).await?;
    let org = store.get_org(org_id).await?;
    let campaign_end = match &offer.claimed_by {
        Some((id, _, _)) => store.get_consumer(org_id, *id).await?.ends_on,
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
            let fixed = store.random_fixed(offer_id).await?.unwrap_or_default();
            Some(randomized_format(sample, &fixed))
        }
        _ => None,
    };
    let discount_words = offer
        .rules
        .discount
        .words(org.currency.code(), org.currency.minor_digits());
    Ok(IssueContext {
        org_id,
        offer_id,
        discount_words,
        ends_on: offer_ends_on(&offer.rules.expiry, campaign_end),
        claimed_by: offer.claimed_by.map(|(id, name, _)| (id, name)),
        rules: offer.rules,
        tz: org.time_zone.0,
        on_demand,
    })
}

/// Issues one coupon of an offer to a customer (console or API), audited.
pub async fn issue_one(
    store: &Store,
    ctx: &IssueContext,
    customer: &CustomerRef,
    source: &IssueSource,
    actor: &Actor,
) -> StoreResult<IssueOutcome> {
    issue_many(store, ctx, std::slice::from_ref(customer), source, actor)
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Issues a coupon to each of `rows` in one transaction (the API's multiple issue), each
/// decided on every ISS-2 rule; the issued ones are audited.
#[tracing::instrument(name = "app.issue", skip_all, fields(org = ctx.org_id.get(), offer = ctx.offer_id.get(), customers = rows.len()))]
pub async fn issue_many(
    store: &Store,
    ctx: &IssueContext,
    rows: &[CustomerRef],
    source: &IssueSource,
    actor: &Actor,
) -> StoreResult<Vec<IssueOutcome>> {
    let mut tx = store.begin().await?;
    let outcomes = issue_chunk(&mut tx, ctx, rows, source, Utc::now()).await?;
    let issued: Vec<(&CustomerRef, &Issued)> = rows
        .iter()
        .zip(&outcomes)
        .filter_map(|(c, o)| o.as_ref().ok().map(|i| (c, i)))
        .collect();
    audit_issues(&mut tx, ctx.org_id, ctx.offer_id, &issued, actor).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Issues a coupon to each of `rows` in order (a customer may appear more than once) inside
/// `tx`, deciding every ISS-2 rule against the database as it stands plus the chunk's earlier
/// rows.
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
    // Load.
    let state = lock_offer(tx, ctx.org_id, ctx.offer_id).await?;
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
    let ids = customer_ids(tx, ctx.org_id, rows, now).await?;
    let mut history = histories(tx, ctx.offer_id, rules, rows, &ids, ctx.tz, today).await?;

    // Decide.
    let mut offer = OfferState {
        rules,
        ends_on: ctx.ends_on,
        issued: state.issued_count,
        claimed_by: ctx.claimed_by.clone(),
    };
    let customers: Vec<CustomerId> = rows.iter().map(|r| ids[r]).collect();
    let decisions = decide_batch(&mut offer, &customers, &mut history, today, source.consumer);

    // Coupons for the accepted rows.
    let accepted = decisions.iter().filter(|d| d.is_ok()).count();
    let common = matches!(rules.generation, Generation::Common { .. });
    let (coupons, shortfall, generated) = if accepted == 0 {
        (Vec::new(), Ok(()), 0)
    } else if common {
        match common_coupon(tx, ctx.offer_id).await? {
            Some(c) => (vec![c; accepted], Ok(()), 0),
            None => (
                Vec::new(),
                Err("the offer's common code was revoked".to_string()),
                0,
            ),
        }
    } else {
        take_coupons(
            tx,
            ctx.org_id,
            ctx.offer_id,
            ctx.on_demand.as_ref(),
            matches!(rules.generation, Generation::Randomized { .. }),
            &state,
            accepted,
        )
        .await?
    };
    let valid_till = coupon_valid_till(now, rules.coupon_expiry, ctx.ends_on, ctx.tz);
    let (outcomes, pairs) = hand_out(decisions, coupons, shortfall, valid_till);
    if pairs.is_empty() && generated == 0 {
        return Ok(outcomes);
    }

    // Apply.
    let random_start = !common && ctx.on_demand.is_some() && accepted <= RANDOM_START_AT_MOST;
    let delivers = rules.delivery == Delivery::ThisSystem && !pairs.is_empty();
    let watermark = if delivers {
        issual_watermark(tx).await?
    } else {
        0
    };
    write_issues(
        tx,
        &IssueWrite {
            org_id: ctx.org_id,
            offer_id: ctx.offer_id,
            pairs: &pairs,
            common,
            generated,
            valid_till,
            source: &source.label,
            cursor: next_cursor(state.issue_cursor, &pairs, common || random_start),
            catch_up: random_start,
            now,
        },
    )
    .await?;
    if delivers {
        let who: HashMap<CustomerId, &CustomerRef> = ids.iter().map(|(r, id)| (*id, r)).collect();
        // `hand_out` pairs the accepted rows' coupons in order, so the n-th pair's code is the
        // n-th issued outcome's.
        let issued: Vec<ToDeliver> = pairs
            .iter()
            .zip(outcomes.iter().filter_map(|o| o.as_ref().ok()))
            .filter_map(|(&(coupon, customer), issued)| {
                Some(ToDeliver {
                    coupon,
                    code: &issued.code,
                    customer,
                    who: who.get(&customer)?,
                })
            })
            .collect();
        deliver(tx, ctx, &issued, valid_till, watermark, now).await?;
    }
    Ok(outcomes)
}

/// A coupon just issued, to deliver: its id and code, and its customer's id and identifier.
pub(crate) struct ToDeliver<'a> {
    pub coupon: i64,
    pub code: &'a str,
    pub customer: CustomerId,
    pub who: &'a CustomerRef,
}

/// Queues the messages that deliver coupons an upload of codes with their customers just
/// issued (their issue records written after `watermark`, `store::issue_delivery::issual_watermark`
/// read before the writes), when the offer is delivered by this system — as `issue_chunk`
/// does for the coupons it issues.
pub(crate) async fn deliver_uploaded(
    tx: &mut DynTx,
    ctx: &IssueContext,
    issued: &[ToDeliver<'_>],
    valid_till: Option<NaiveDate>,
    watermark: i64,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    if ctx.rules.delivery != Delivery::ThisSystem || issued.is_empty() {
        return Ok(0);
    }
    deliver(tx, ctx, issued, valid_till, watermark, now).await
}

/// Queues the message that delivers each of the coupons `issued` to its customer (see the
/// module's note): one per issue record written after `watermark` (read before the writes),
/// in issue order; a customer nothing reaches gets none. Only customers with contacts (or,
/// when the text greets them, a first name) are read; the others are reached by their
/// identifier. How many were queued.
async fn deliver(
    tx: &mut DynTx,
    ctx: &IssueContext,
    issued: &[ToDeliver<'_>],
    valid_till: Option<NaiveDate>,
    watermark: i64,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let coupon_of = |code| IssuedCoupon {
        offer_name: &ctx.rules.name,
        resend_text: ctx.rules.issual.resend_text.as_deref(),
        discount: &ctx.discount_words,
        code,
        valid_till,
    };
    let ids: Vec<CustomerId> = issued.iter().map(|d| d.customer).collect();
    let known = customers_with_contacts(tx, &ids, coupon_of("").greets_by_name()).await?;
    // A common code issued twice to one customer is one (coupon, customer): its message goes
    // to each of the issue records (`queue_issued`).
    let mut seen = HashSet::with_capacity(issued.len());
    let mut messages: Vec<(i64, CustomerId, ResendMessage)> = Vec::with_capacity(issued.len());
    for d in issued {
        if !seen.insert((d.coupon, d.customer)) {
            continue;
        }
        let coupon = coupon_of(d.code);
        let message = match known.get(&d.customer) {
            Some(c) => issued_message(&c.reach, c.first_name.as_deref().unwrap_or(""), &coupon),
            None => issued_message(&Reach::identified_by(d.who.clone()), "", &coupon),
        };
        if let Some(m) = message {
            messages.push((d.coupon, d.customer, m));
        }
    }
    let Some((_, _, first)) = messages.first() else {
        return Ok(0);
    };
    let subject = first.subject.clone();
    let written = (watermark, issual_watermark(tx).await?);
    let rows: Vec<IssuedMessage<'_>> = messages
        .iter()
        .map(|(coupon, customer, m)| IssuedMessage {
            coupon: *coupon,
            customer: *customer,
            channel: m.channel,
            recipient: &m.recipient,
            body_text: &m.body_text,
        })
        .collect();
    queue_issued(tx, ctx.org_id, ctx.offer_id, written, &subject, &rows, now).await
}
