//! The customers' side of offers (WAL-1, WAL-2): getting a coupon from an offer's public link
//! (once per customer, also under concurrency), sharing a coupon with a friend, the friend's
//! claim (once per share, by one friend), and the recommender's reward when the friend
//! redeems (once per share). Issues go through `app::issue::issue_chunk`, so every ISS-2 rule
//! holds and the code is delivered as any issue's is.

use super::issue::{IssueContext, IssueSource, context, issue_chunk};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use crate::domain::issue::{CustomerRef, Issued};
use crate::domain::referral::{ClaimRefusal, ShareState, decide_claim};
use crate::domain::sharing::ShareMode;
use crate::domain::user::Actor;
use crate::store::dyntx::DynTx;
use crate::store::issue::{audit_issues, lock_offer};
use crate::store::outbox::NewMessage;
use crate::store::shares::{
    active_coupon_of, coupon_id_of, move_coupon, record_reward, set_friend_coupon, take_reward,
    take_share,
};
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Utc};

/// A coupon a customer holds after getting or claiming one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub coupon_id: i64,
    pub code: String,
    /// They held it already (a repeated request answers the same coupon).
    pub again: bool,
}

/// Issues one coupon of `ctx`'s offer to `who` inside `tx` (the offer already locked),
/// audited; its coupon id and code, or the refusal in words. Everything read from the store
/// is read before the transaction: with the offer's row lock held, waiting for a second
/// pooled connection could stall a busy offer.
async fn issue_in(
    tx: &mut DynTx,
    ctx: &IssueContext,
    who: &CustomerRef,
    label: &str,
    now: DateTime<Utc>,
) -> StoreResult<Result<(i64, Issued), String>> {
    let (org_id, offer_id) = (ctx.org_id, ctx.offer_id);
    let source = IssueSource {
        label: label.into(),
        consumer: None,
    };
    let outcome = issue_chunk(tx, ctx, std::slice::from_ref(who), &source, now)
        .await?
        .pop();
    match outcome {
        Some(Ok(issued)) => {
            audit_issues(
                tx,
                org_id,
                offer_id,
                &[(who, &issued)],
                &Actor::system(label),
            )
            .await?;
            let id = coupon_id_of(tx, org_id, &issued.code).await?;
            Ok(Ok((id, issued)))
        }
        Some(Err(refusal)) => Ok(Err(refusal.to_string())),
        None => Ok(Err("nothing was issued".into())),
    }
}

/// Gets a coupon of a published offer for a customer: the one they already hold, or a new one
/// issued under the offer's lock (so two requests at once give one coupon). Refused in plain
/// words when the offer's redemption limit has been reached or an issue rule refuses.
#[tracing::instrument(name = "app.get_from_link", skip_all, fields(org = org_id.get(), offer = offer_id.get()))]
pub async fn get_from_link(
    store: &Store,
    org_id: OrgId,
    offer_id: OfferId,
    customer: CustomerId,
    who: &CustomerRef,
    now: DateTime<Utc>,
) -> StoreResult<Result<Held, String>> {
    if store.redemption_limit_reached(offer_id).await? {
        return Ok(Err(LIMIT_REACHED.into()));
    }
    let ctx = context(store, org_id, offer_id).await?;
    let today = now.with_timezone(&ctx.tz).date_naive();
    let mut tx = store.begin().await?;
    lock_offer(&mut tx, org_id, offer_id).await?;
    if let Some((coupon_id, code)) = active_coupon_of(&mut tx, offer_id, customer, today).await? {
        return Ok(Ok(Held {
            coupon_id,
            code,
            again: true,
        }));
    }
    match issue_in(&mut tx, &ctx, who, "Public link", now).await? {
        Ok((coupon_id, issued)) => {
            tx.commit().await?;
            Ok(Ok(Held {
                coupon_id,
                code: issued.code,
                again: false,
            }))
        }
        Err(words) => Ok(Err(words)),
    }
}

/// Seed 002: once an offer's redemption limit is passed, customers can no longer get it.
const LIMIT_REACHED: &str =
    "all the coupons this offer allows have been used, so it can no longer be taken";

/// Why a coupon cannot be shared; `to_string()` is what the owner reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareRefusal {
    #[error("this coupon is not in your wallet, or it is no longer active")]
    NotYours,
    #[error("coupons of this offer cannot be shared")]
    NotShareable,
    #[error(
        "you have sent {SMS_SHARES_PER_HOUR} shares by SMS in the last hour; share the link instead, or try again later"
    )]
    TooManySms,
}

/// Shares one customer may send by SMS in an hour (each is a paid message to any number).
pub const SMS_SHARES_PER_HOUR: i64 = 5;

/// The owner's share of one of their active coupons (the open one, or a new one), with an SMS
/// to `sms_to` carrying the link when given. The share's token.
#[allow(clippy::too_many_arguments)]
pub async fn share(
    store: &Store,
    org_id: OrgId,
    owner: CustomerId,
    coupon_id: i64,
    sms_to: Option<&CustomerRef>,
    link_base: &str,
    brand: &str,
    now: DateTime<Utc>,
) -> StoreResult<Result<String, ShareRefusal>> {
    let wallet = super::wallet::wallet(store, org_id, owner, now).await?;
    let Some(coupon) = wallet.active.iter().find(|c| c.coupon_id == coupon_id) else {
        return Ok(Err(ShareRefusal::NotYours));
    };
    if !coupon.shareable {
        return Ok(Err(ShareRefusal::NotShareable));
    }
    if sms_to.is_some()
        && store
            .sms_shares_since(owner, now - chrono::Duration::hours(1))
            .await?
            >= SMS_SHARES_PER_HOUR
    {
        return Ok(Err(ShareRefusal::TooManySms));
    }
    let token = match (store.open_share(coupon_id, owner).await?, sms_to) {
        (Some(open), None) => open.token,
        _ => {
            let token = crate::store::offer_sharing::new_public_token();
            let channel = if sms_to.is_some() { "sms" } else { "link" };
            store
                .insert_share(
                    org_id,
                    coupon.offer_id,
                    &token,
                    coupon_id,
                    owner,
                    channel,
                    sms_to.map(|c| c.value.as_str()),
                    now,
                )
                .await?;
            token
        }
    };
    if let Some(friend) = sms_to {
        let link = format!("{link_base}/share/{token}");
        store
            .enqueue(
                &[NewMessage {
                    org_id,
                    kind: "share",
                    channel: "sms".into(),
                    recipient: friend.value.clone(),
                    subject: format!("A coupon from a friend: {}", coupon.offer_name),
                    body_text: format!(
                        "A friend shared a {brand} coupon with you: {} ({}). Get it here: {link}",
                        coupon.offer_name, coupon.discount_words
                    ),
                    body_html: None,
                    status: "queued",
                    note: None,
                    offer_id: Some(coupon.offer_id),
                    dedupe_key: Some(format!("share:{token}")),
                }],
                now,
            )
            .await?;
    }
    Ok(Ok(token))
}

/// A friend's claim of a shared coupon: the coupon moves to them or a fresh one is issued (the
/// offer's share mode). A second claim by the same friend answers the same coupon; a claim of
/// a share someone else claimed, of one's own share, or by a friend already holding the offer
/// is refused.
#[tracing::instrument(name = "app.claim_share", skip_all)]
pub async fn claim(
    store: &Store,
    token: &str,
    friend: CustomerId,
    now: DateTime<Utc>,
) -> StoreResult<Result<Held, ClaimRefusal>> {
    let Some(share) = store.share_by_token(token).await? else {
        return Ok(Err(ClaimRefusal::NotFound));
    };
    let org_id = share.org_id;
    let settings = store.offer_sharing(org_id, share.offer_id).await?;
    // Read before the transaction (see `issue_in`); a friend of another org is nobody here.
    let who = match store.customer_ref(org_id, friend).await {
        Ok(w) => w,
        Err(crate::store::StoreError::NotFound) => return Ok(Err(ClaimRefusal::NotFound)),
        Err(e) => return Err(e),
    };
    let ctx = context(store, org_id, share.offer_id).await?;
    let today = now.with_timezone(&ctx.tz).date_naive();
    let fresh = settings.mode == ShareMode::Fresh;
    if fresh && store.redemption_limit_reached(share.offer_id).await? {
        return Ok(Err(ClaimRefusal::NotIssued(LIMIT_REACHED.into())));
    }
    let code = store.coupon_code(org_id, share.coupon_id).await?;
    let answer_again = |coupon: Option<i64>| async move {
        let id = coupon.ok_or(crate::store::StoreError::NotFound)?;
        let code = store.coupon_code(org_id, id).await?;
        Ok::<_, crate::store::StoreError>(Held {
            coupon_id: id,
            code,
            again: true,
        })
    };
    let mut tx = store.begin().await?;
    lock_offer(&mut tx, org_id, share.offer_id).await?;
    let holds = active_coupon_of(&mut tx, share.offer_id, friend, today)
        .await?
        .is_some();
    let state = ShareState {
        owner: share.owner_id,
        claimed_by: share.friend_id,
    };
    match decide_claim(state, friend, settings.shareable, holds) {
        Ok(true) => {
            drop(tx);
            return Ok(Ok(answer_again(share.friend_coupon_id).await?));
        }
        Ok(false) => {}
        Err(refusal) => return Ok(Err(refusal)),
    }
    if !take_share(&mut tx, share.id, friend, now).await? {
        drop(tx);
        // Another claim came first: the same friend's answers their coupon again.
        let now_share = store.share_by_token(token).await?;
        return Ok(match now_share {
            Some(s) if s.friend_id == Some(friend) => Ok(answer_again(s.friend_coupon_id).await?),
            _ => Err(ClaimRefusal::AlreadyClaimed),
        });
    }
    let held = match settings.mode {
        ShareMode::Transfer => {
            let moved = move_coupon(
                &mut tx,
                org_id,
                share.coupon_id,
                share.owner_id,
                friend,
                today,
                now,
            )
            .await?;
            if !moved {
                return Ok(Err(ClaimRefusal::NoLongerActive));
            }
            Held {
                coupon_id: share.coupon_id,
                code,
                again: false,
            }
        }
        ShareMode::Fresh => match issue_in(&mut tx, &ctx, &who, "Shared by a friend", now).await? {
            Ok((coupon_id, issued)) => Held {
                coupon_id,
                code: issued.code,
                again: false,
            },
            Err(words) => return Ok(Err(ClaimRefusal::NotIssued(words))),
        },
    };
    set_friend_coupon(&mut tx, share.id, held.coupon_id).await?;
    tx.commit().await?;
    Ok(Ok(held))
}

/// Issues the referral rewards owed: for each share whose friend redeemed their coupon, one
/// coupon of the offer's referral reward to the recommender, exactly once (a guard on the
/// share, in the issue's transaction). A refused issue is recorded with its reason. The number
/// of shares settled.
#[tracing::instrument(name = "app.reward_referrals", skip_all)]
pub async fn reward_referrals(store: &Store, now: DateTime<Utc>) -> StoreResult<u64> {
    let mut settled = 0;
    for owed in store.owed_rewards(200).await? {
        let who = store.customer_ref(owed.org_id, owed.owner_id).await?;
        let ctx = context(store, owed.org_id, owed.reward_offer_id).await?;
        let limit_reached = store.redemption_limit_reached(owed.reward_offer_id).await?;
        let mut tx = store.begin().await?;
        lock_offer(&mut tx, owed.org_id, owed.reward_offer_id).await?;
        if !take_reward(&mut tx, owed.share_id, now).await? {
            continue;
        }
        let issued = if limit_reached {
            Err(LIMIT_REACHED.to_string())
        } else {
            issue_in(&mut tx, &ctx, &who, "Referral reward", now).await?
        };
        match issued {
            Ok((coupon_id, _)) => {
                record_reward(&mut tx, owed.share_id, Some(coupon_id), None).await?
            }
            Err(words) => record_reward(&mut tx, owed.share_id, None, Some(&words)).await?,
        }
        tx.commit().await?;
        settled += 1;
    }
    Ok(settled)
}
