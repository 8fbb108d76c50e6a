//! A promotion's life: drafted, live (evaluated on carts), paused, ended.

use serde::{Deserialize, Serialize};

/// Where a promotion is in its life. Only `Live` promotions reach carts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Live,
    Paused,
    Ended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Live => "live",
            Status::Paused => "paused",
            Status::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Draft, Status::Live, Status::Paused, Status::Ended]
            .into_iter()
            .find(|st| st.as_str() == s)
    }

    /// Whether a promotion may go from `self` to `to`: a draft goes live, a live one pauses
    /// or ends, a paused one goes live again or ends; an ended one stays ended.
    pub fn may_become(self, to: Status) -> bool {
        matches!(
            (self, to),
            (Status::Draft, Status::Live)
                | (Status::Live, Status::Paused | Status::Ended)
                | (Status::Paused, Status::Live | Status::Ended)
        )
    }

    /// Its redemption restrictions (conditions, benefit, limits) can no longer change: it has
    /// been live.
    pub fn restrictions_frozen(self) -> bool {
        self != Status::Draft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_promotion_moves_forward_and_never_back_to_draft() {
        use Status::*;
        // (from, to, allowed), written out from the life above.
        let table = [
            (Draft, Live, true),
            (Draft, Paused, false),
            (Draft, Ended, false),
            (Live, Paused, true),
            (Live, Ended, true),
            (Live, Draft, false),
            (Paused, Live, true),
            (Paused, Ended, true),
            (Paused, Draft, false),
            (Ended, Live, false),
            (Ended, Paused, false),
        ];
        for (from, to, allowed) in table {
            assert_eq!(from.may_become(to), allowed, "{from:?} → {to:?}");
        }
        assert_eq!(Status::parse("paused"), Some(Paused));
        assert_eq!(Status::parse("gone"), None);
    }
}
