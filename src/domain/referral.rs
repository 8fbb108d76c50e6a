//! Who may claim a shared coupon (WAL-2, seed 004): the rules of a claim, pure. The flow is
//! `app::sharing::claim`; the guard that makes one share claimable once is in the store.

use super::ids::CustomerId;

/// Why a shared coupon cannot be claimed; `to_string()` is what the friend reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    #[error("this share link is not valid (it may have been mistyped)")]
    NotFound,
    #[error("this is your own coupon; share the link with a friend instead")]
    SelfReferral,
    #[error("this shared coupon has already been claimed by someone else")]
    AlreadyClaimed,
    #[error("you already hold a coupon of this offer, so this one stays with your friend")]
    AlreadyHolds,
    #[error("coupons of this offer can no longer be shared")]
    NotShareable,
    #[error(
        "your friend's coupon was used, revoked or has expired, so it can no longer be passed on"
    )]
    NoLongerActive,
    #[error("a coupon could not be given to you: {0}")]
    NotIssued(String),
}

/// What a share is when a friend opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareState {
    pub owner: CustomerId,
    pub claimed_by: Option<CustomerId>,
}

/// The first answer to a claim by `friend`, before the guard: `Ok(true)` when the friend
/// claimed it already (the claim answers their coupon again), `Ok(false)` when they may
/// claim it now, or why not. `friend_holds` says whether the friend already holds an active
/// coupon of the offer.
pub fn decide_claim(
    share: ShareState,
    friend: CustomerId,
    shareable: bool,
    friend_holds: bool,
) -> Result<bool, ClaimRefusal> {
    match share.claimed_by {
        Some(c) if c == friend => return Ok(true),
        Some(_) => return Err(ClaimRefusal::AlreadyClaimed),
        None => {}
    }
    if share.owner == friend {
        return Err(ClaimRefusal::SelfReferral);
    }
    if !shareable {
        return Err(ClaimRefusal::NotShareable);
    }
    if friend_holds {
        return Err(ClaimRefusal::AlreadyHolds);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_follow_the_table() {
        let (owner, friend, other) = (CustomerId(1), CustomerId(2), CustomerId(3));
        let open = ShareState {
            owner,
            claimed_by: None,
        };
        let mine = ShareState {
            owner,
            claimed_by: Some(friend),
        };
        let taken = ShareState {
            owner,
            claimed_by: Some(other),
        };
        // (share, who, shareable, friend holds one) → answer
        type Row = (
            ShareState,
            CustomerId,
            bool,
            bool,
            Result<bool, ClaimRefusal>,
        );
        let table: [Row; 7] = [
            (open, friend, true, false, Ok(false)),
            (open, owner, true, false, Err(ClaimRefusal::SelfReferral)),
            (open, friend, true, true, Err(ClaimRefusal::AlreadyHolds)),
            (open, friend, false, false, Err(ClaimRefusal::NotShareable)),
            (mine, friend, true, true, Ok(true)),
            (
                taken,
                friend,
                true,
                false,
                Err(ClaimRefusal::AlreadyClaimed),
            ),
            (taken, owner, true, false, Err(ClaimRefusal::AlreadyClaimed)),
        ];
        for (share, who, shareable, holds, want) in table {
            assert_eq!(
                decide_claim(share, who, shareable, holds),
                want,
                "{share:?} {who:?}"
            );
        }
    }
}
