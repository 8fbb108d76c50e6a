//! Identifiers of the aggregates, one type each, so that an offer's id cannot be passed where an
//! org's is expected. Each wraps the database's integer key; the store binds and decodes them
//! as that integer (`store/decode.rs`), JSON and paths read and write the bare number.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The integer key, for places that speak integers (SQL arguments, URLs).
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// An organisation (a brand): every record belongs to exactly one.
    OrgId
);
id_type!(
    /// An offer (a coupon series).
    OfferId
);
id_type!(
    /// A console user (staff).
    UserId
);
id_type!(
    /// A background job (code generation, upload, bulk issue).
    JobId
);
id_type!(
    /// A customer of an org.
    CustomerId
);
id_type!(
    /// A cart promotion.
    PromotionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_and_writes_as_its_bare_number() {
        let id: OfferId = "42".parse().unwrap();
        assert_eq!(id, OfferId(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<OfferId>("7").unwrap(), OfferId(7));
        assert!("4x".parse::<OfferId>().is_err());
    }
}
