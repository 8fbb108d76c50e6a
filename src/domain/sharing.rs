//! An offer's customers' side (issue #18, WAL-1/WAL-2, seed 004): whether it has a public link
//! (and poster), whether its coupons may be shared with a friend, how (the coupon moves to the
//! friend, or the friend gets a fresh one) and which offer's coupon rewards the recommender.
//! The settings as stored (`SharingSettings`), and the rules a change must keep
//! (`decide_sharing`), pure.

use super::FieldErrors;
use super::ids::OfferId;
use super::issue::{check_issuer, offer_ends_on};
use super::offer::{CodeKind, OfferExpiry};
use chrono::NaiveDate;

/// What a friend who claims a shared coupon receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShareMode {
    /// The owner's coupon moves to the friend: the owner no longer holds it.
    #[default]
    Transfer,
    /// The friend is issued a fresh coupon of the offer; the owner keeps theirs.
    Fresh,
}

impl ShareMode {
    /// The stored (and form) value.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareMode::Transfer => "transfer",
            ShareMode::Fresh => "fresh",
        }
    }

    pub fn parse(raw: &str) -> Option<ShareMode> {
        [ShareMode::Transfer, ShareMode::Fresh]
            .into_iter()
            .find(|m| m.as_str() == raw)
    }

    /// The choice as the console offers it.
    pub fn label(self) -> &'static str {
        match self {
            ShareMode::Transfer => "Move the coupon to the friend",
            ShareMode::Fresh => "Give the friend a fresh coupon",
        }
    }

    /// What happens, exactly, when a friend claims a share.
    pub fn words(self) -> &'static str {
        match self {
            ShareMode::Transfer => {
                "The friend gets the very coupon that was shared; it leaves the owner's wallet \
                 (shown there as shared) and the owner can no longer use it."
            }
            ShareMode::Fresh => {
                "The friend is issued a new coupon of this offer under the offer's issue rules \
                 (limits per customer, the issual cap, its customer list); the owner keeps \
                 theirs. If a rule refuses, the friend is told why and gets nothing."
            }
        }
    }
}

/// An offer's customers' side as stored; the defaults when nothing was set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharingSettings {
    /// The token of the offer's public link (`/get/{token}`); `None`: not published.
    pub public_token: Option<String>,
    /// Whether customers may share its coupons with friends.
    pub shareable: bool,
    pub mode: ShareMode,
    /// The offer whose coupon the recommender receives when the friend redeems.
    pub referral_offer_id: Option<OfferId>,
}

impl SharingSettings {
    pub fn is_published(&self) -> bool {
        self.public_token.is_some()
    }
}

/// The offer whose sharing is being set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedOffer {
    pub id: OfferId,
    pub code_kind: CodeKind,
}

/// An offer of the org proposed as the referral reward, as the store read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardOffer {
    pub id: OfferId,
    pub name: String,
    pub expiry: OfferExpiry,
    /// The consumer that claimed it: (id, name).
    pub claimed_by: Option<(i64, String)>,
    /// The claiming consumer's end date.
    pub campaign_end: Option<NaiveDate>,
}

/// A change of sharing as the form gives it: the reward offer's id as typed ("" for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingChoice {
    pub shareable: bool,
    pub mode: String,
    pub referral_offer_id: String,
}

/// A change of sharing that keeps every rule; made only by `decide_sharing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSharing {
    shareable: bool,
    mode: ShareMode,
    referral_offer_id: Option<OfferId>,
}

impl ValidSharing {
    pub fn shareable(&self) -> bool {
        self.shareable
    }

    pub fn mode(&self) -> ShareMode {
        self.mode
    }

    pub fn referral_offer_id(&self) -> Option<OfferId> {
        self.referral_offer_id
    }
}

/// The form's field names.
pub const SHAREABLE: &str = "shareable";
pub const SHARE_MODE: &str = "share_mode";
pub const REFERRAL_OFFER: &str = "referral_offer_id";

/// Checks a change of `offer`'s sharing. `reward` is the org's offer with the chosen reward id
/// (`None` when the org has no such offer, or none was chosen); `today` is the org's date.
///
/// The rules:
/// - a common-code offer cannot be shareable: everyone holds the same code, so there is no
///   coupon of one's own to pass on;
/// - the share mode is one of the two the engine knows;
/// - the reward offer is another offer of the same org, which has not ended and whose coupons
///   this system may issue (not claimed by a campaign, and not waiting for one to claim it),
///   since the reward is issued by the system when the friend redeems.
///
/// A reward may stay chosen while sharing is off: shares claimed before are still rewarded
/// when their friends redeem.
pub fn decide_sharing(
    offer: &SharedOffer,
    choice: &SharingChoice,
    reward: Option<&RewardOffer>,
    today: NaiveDate,
) -> Result<ValidSharing, FieldErrors> {
    let mut errors = FieldErrors::default();
    if choice.shareable && offer.code_kind == CodeKind::Common {
        errors.push(
            SHAREABLE,
            "cannot be turned on for a common-code offer: everyone holds the same code, so a \
             customer has no coupon of their own to pass on to a friend",
        );
    }
    let mode = ShareMode::parse(choice.mode.trim());
    if mode.is_none() {
        errors.push(
            SHARE_MODE,
            "must be one of the two choices: move the coupon to the friend, or give the friend \
             a fresh coupon",
        );
    }
    let raw = choice.referral_offer_id.trim();
    let referral = if raw.is_empty() {
        None
    } else {
        match raw.parse::<OfferId>() {
            Err(_) => {
                errors.push(REFERRAL_OFFER, "must be one of the organisation's offers");
                None
            }
            Ok(id) if id == offer.id => {
                errors.push(
                    REFERRAL_OFFER,
                    "must be another offer: the reward is a coupon of a different offer",
                );
                None
            }
            Ok(id) => match reward.filter(|r| r.id == id) {
                None => {
                    errors.push(REFERRAL_OFFER, "must be one of the organisation's offers");
                    None
                }
                Some(r) => match reward_refusal(r, today) {
                    Some(why) => {
                        errors.push(REFERRAL_OFFER, why);
                        None
                    }
                    None => Some(id),
                },
            },
        }
    };
    match mode {
        Some(mode) if errors.is_empty() => Ok(ValidSharing {
            shareable: choice.shareable,
            mode,
            referral_offer_id: referral,
        }),
        _ => Err(errors),
    }
}

/// Why `r` cannot be the reward, in words after the field's name, or `None`.
pub fn reward_refusal(r: &RewardOffer, today: NaiveDate) -> Option<String> {
    if let Some(end) = offer_ends_on(&r.expiry, r.campaign_end)
        && today > end
    {
        return Some(format!(
            "cannot be {}: it ended on {}, so no reward coupon could be issued",
            r.name,
            end.format("%-d %b %Y")
        ));
    }
    let claimed = r.claimed_by.clone();
    if let Err(refusal) = check_issuer(&claimed, &r.expiry, None) {
        return Some(format!(
            "cannot be {}: rewards are issued by this system, and {refusal}",
            r.name
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn unique(id: i64) -> SharedOffer {
        SharedOffer {
            id: OfferId(id),
            code_kind: CodeKind::Unique,
        }
    }

    fn choice(shareable: bool, mode: &str, referral: &str) -> SharingChoice {
        SharingChoice {
            shareable,
            mode: mode.into(),
            referral_offer_id: referral.into(),
        }
    }

    fn reward(id: i64, ends: u32) -> RewardOffer {
        RewardOffer {
            id: OfferId(id),
            name: "Thank-you 10%".into(),
            expiry: OfferExpiry::Fixed(day(ends)),
            claimed_by: None,
            campaign_end: None,
        }
    }

    #[test]
    fn modes_read_and_write_their_stored_names() {
        for m in [ShareMode::Transfer, ShareMode::Fresh] {
            assert_eq!(ShareMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(ShareMode::parse("copy"), None);
        assert_eq!(ShareMode::default(), ShareMode::Transfer);
        let d = SharingSettings::default();
        assert!(!d.is_published() && !d.shareable && d.referral_offer_id.is_none());
    }

    #[test]
    fn a_valid_choice_is_kept() {
        let r = reward(2, 20);
        let v =
            decide_sharing(&unique(1), &choice(true, "fresh", " 2 "), Some(&r), day(10)).unwrap();
        assert!(v.shareable());
        assert_eq!(v.mode(), ShareMode::Fresh);
        assert_eq!(v.referral_offer_id(), Some(OfferId(2)));
        let none =
            decide_sharing(&unique(1), &choice(false, "transfer", ""), None, day(10)).unwrap();
        assert_eq!(none.referral_offer_id(), None);
        // A reward may stay while sharing is off; an offer ending today still rewards.
        assert!(
            decide_sharing(
                &unique(1),
                &choice(false, "transfer", "2"),
                Some(&r),
                day(20)
            )
            .is_ok()
        );
    }

    #[test]
    fn a_common_code_offer_cannot_be_shareable_and_says_why() {
        let common = SharedOffer {
            id: OfferId(1),
            code_kind: CodeKind::Common,
        };
        let e = decide_sharing(&common, &choice(true, "transfer", ""), None, day(1)).unwrap_err();
        assert!(e.get(SHAREABLE).contains("everyone holds the same code"));
        // Turning it off (or leaving it off) is fine.
        assert!(decide_sharing(&common, &choice(false, "transfer", ""), None, day(1)).is_ok());
        for kind in [CodeKind::Unique, CodeKind::Upload, CodeKind::Randomized] {
            let o = SharedOffer {
                id: OfferId(1),
                code_kind: kind,
            };
            assert!(decide_sharing(&o, &choice(true, "transfer", ""), None, day(1)).is_ok());
        }
    }

    #[test]
    fn each_refusal_names_its_field() {
        let r = reward(2, 20);
        // (choice, reward known, today) → field refused
        let table: [(SharingChoice, Option<&RewardOffer>, NaiveDate, &str); 6] = [
            (choice(true, "copy", ""), None, day(1), SHARE_MODE),
            (
                choice(true, "transfer", "abc"),
                None,
                day(1),
                REFERRAL_OFFER,
            ),
            (choice(true, "transfer", "1"), None, day(1), REFERRAL_OFFER),
            // Not an offer of this org: the store found none.
            (choice(true, "transfer", "9"), None, day(1), REFERRAL_OFFER),
            // The store's offer is another one than asked for.
            (
                choice(true, "transfer", "9"),
                Some(&r),
                day(1),
                REFERRAL_OFFER,
            ),
            // Ended yesterday.
            (
                choice(true, "transfer", "2"),
                Some(&r),
                day(21),
                REFERRAL_OFFER,
            ),
        ];
        for (c, known, today, field) in table {
            let e = decide_sharing(&unique(1), &c, known, today).unwrap_err();
            assert!(!e.get(field).is_empty(), "{c:?}: {e}");
            assert_eq!(e.0.len(), 1, "{c:?}: {e}");
        }
        let ended = decide_sharing(
            &unique(1),
            &choice(true, "transfer", "2"),
            Some(&r),
            day(21),
        )
        .unwrap_err();
        assert!(ended.get(REFERRAL_OFFER).contains("ended on 20 Dec 2026"));
        let itself =
            decide_sharing(&unique(1), &choice(true, "transfer", "1"), None, day(1)).unwrap_err();
        assert!(itself.get(REFERRAL_OFFER).contains("another offer"));
    }

    #[test]
    fn a_reward_the_system_cannot_issue_is_refused() {
        let mut claimed = reward(2, 20);
        claimed.claimed_by = Some((5, "Diwali blast".into()));
        let e = decide_sharing(
            &unique(1),
            &choice(true, "transfer", "2"),
            Some(&claimed),
            day(1),
        )
        .unwrap_err();
        assert!(e.get(REFERRAL_OFFER).contains("Diwali blast"), "{e}");
        let waiting = RewardOffer {
            expiry: OfferExpiry::WithCampaign,
            ..reward(2, 20)
        };
        let e = decide_sharing(
            &unique(1),
            &choice(true, "transfer", "2"),
            Some(&waiting),
            day(1),
        )
        .unwrap_err();
        assert!(
            e.get(REFERRAL_OFFER).contains("no campaign has claimed it"),
            "{e}"
        );
        // A campaign that ended ends the offer with it.
        let over = RewardOffer {
            claimed_by: None,
            campaign_end: Some(day(3)),
            ..reward(2, 20)
        };
        let e = decide_sharing(
            &unique(1),
            &choice(true, "transfer", "2"),
            Some(&over),
            day(4),
        )
        .unwrap_err();
        assert!(e.get(REFERRAL_OFFER).contains("ended on 3 Dec 2026"), "{e}");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let common = SharedOffer {
            id: OfferId(1),
            code_kind: CodeKind::Common,
        };
        let e = decide_sharing(&common, &choice(true, "x", "1"), None, day(1)).unwrap_err();
        assert_eq!(e.0.len(), 3, "{e}");
    }
}
