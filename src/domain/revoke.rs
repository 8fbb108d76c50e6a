//! Revoking coupons of an offer (REV-1): which coupons each mode takes, who may use it, and
//! what a person reads afterwards. Redeemed coupons are never revoked; a revoked coupon is
//! refused at redemption ("revoked") and can never be reversed into use.

use super::issue::CustomerRef;
use super::masters::IdentifierType;
use super::money::format_count;
use super::user::Permission;

/// The three ways of revoking coupons of an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeMode {
    /// Every coupon not redeemed: unissued and issued (expired ones included).
    AllNotRedeemed,
    /// Only coupons nobody has been given yet.
    Unissued,
    /// Every issued, not redeemed coupon of the customers named in a list.
    Customers,
}

impl RevokeMode {
    pub const ALL: [RevokeMode; 3] = [
        RevokeMode::AllNotRedeemed,
        RevokeMode::Unissued,
        RevokeMode::Customers,
    ];

    /// The console form's value.
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeMode::AllNotRedeemed => "all",
            RevokeMode::Unissued => "unissued",
            RevokeMode::Customers => "customers",
        }
    }

    /// The API's value (`mode`).
    pub fn api_name(self) -> &'static str {
        match self {
            RevokeMode::AllNotRedeemed => "ALL_NOT_REDEEMED",
            RevokeMode::Unissued => "UNISSUED",
            RevokeMode::Customers => "CUSTOMERS",
        }
    }

    /// A console form value or an API name.
    pub fn parse(raw: &str) -> Option<RevokeMode> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == raw || m.api_name().eq_ignore_ascii_case(raw))
    }

    /// In the audit summary and the flash: "(all not redeemed)".
    pub fn label(self) -> &'static str {
        match self {
            RevokeMode::AllNotRedeemed => "all not redeemed",
            RevokeMode::Unissued => "only unissued",
            RevokeMode::Customers => "of specific customers",
        }
    }

    /// What a role needs for this mode (ORG-2): revoking in bulk is managing the offer;
    /// revoking a customer's coupons is customer service, which CSMs do too.
    pub fn permission(self) -> Permission {
        match self {
            RevokeMode::AllNotRedeemed | RevokeMode::Unissued => Permission::ManageOffers,
            RevokeMode::Customers => Permission::ServeCustomers,
        }
    }

    /// The coupon statuses this mode revokes (never `redeemed`, never `revoked` again).
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            RevokeMode::AllNotRedeemed => &["unissued", "issued"],
            RevokeMode::Unissued => &["unissued"],
            RevokeMode::Customers => &["issued"],
        }
    }
}

/// A revocation to carry out: a mode and, for `Customers`, whose coupons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    AllNotRedeemed,
    Unissued,
    Customers(Vec<CustomerRef>),
}

impl Revocation {
    pub fn mode(&self) -> RevokeMode {
        match self {
            Revocation::AllNotRedeemed => RevokeMode::AllNotRedeemed,
            Revocation::Unissued => RevokeMode::Unissued,
            Revocation::Customers(_) => RevokeMode::Customers,
        }
    }

    /// The revocation of `mode`; `customers` is used only by `Customers`.
    pub fn of(mode: RevokeMode, customers: Vec<CustomerRef>) -> Revocation {
        match mode {
            RevokeMode::AllNotRedeemed => Revocation::AllNotRedeemed,
            RevokeMode::Unissued => Revocation::Unissued,
            RevokeMode::Customers => Revocation::Customers(customers),
        }
    }

    /// The audit log's line: "Revoked 12 coupons (all not redeemed)".
    pub fn summary(&self, revoked: u64) -> String {
        let extra = match self {
            Revocation::Customers(c) => format!(
                ", {} customer{} listed",
                format_count(c.len() as i64),
                plural(c.len() as u64)
            ),
            _ => String::new(),
        };
        format!(
            "Revoked {} coupon{} ({}{extra})",
            format_count(revoked as i64),
            plural(revoked),
            self.mode().label()
        )
    }

    /// What a person reads after revoking: "12 coupons revoked (all not redeemed)." or, for
    /// nothing revoked, why.
    pub fn outcome(&self, revoked: u64) -> String {
        if revoked > 0 {
            return format!(
                "{} coupon{} revoked ({}).",
                format_count(revoked as i64),
                plural(revoked),
                self.mode().label()
            );
        }
        let why = match self {
            Revocation::AllNotRedeemed => {
                "the offer has no coupons that are not redeemed or already revoked".to_string()
            }
            Revocation::Unissued => "the offer has no unissued coupons".to_string(),
            Revocation::Customers(c) => format!(
                "none of the {} listed customer{} has an issued, not redeemed coupon of this offer",
                format_count(c.len() as i64),
                plural(c.len() as u64)
            ),
        };
        format!("No coupons to revoke: {why}.")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Why a revocation was refused before anything changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevokeRefusal {
    /// A common code is one coupon shared by everyone: one customer's share cannot be revoked
    /// without revoking it for all.
    #[error(
        "this offer has one common code shared by every customer, so one customer's coupon cannot be revoked on its own; revoke all not-redeemed coupons to stop the code for everyone"
    )]
    CommonCodeCustomers,
}

impl RevokeRefusal {
    /// Stable, for the API.
    pub fn code(&self) -> &'static str {
        match self {
            RevokeRefusal::CommonCodeCustomers => "common_code_customers",
        }
    }
}

/// Whether `revocation` can be carried out on an offer (`common`: a common-code offer).
pub fn check_revocation(revocation: &Revocation, common: bool) -> Result<(), RevokeRefusal> {
    match revocation {
        Revocation::Customers(_) if common => Err(RevokeRefusal::CommonCodeCustomers),
        _ => Ok(()),
    }
}

/// The one customer typed on the console's revoke form instead of a customer file: an email
/// when it has an `@`, otherwise a mobile (normalised as in a customer list: `+91 98765-43210`
/// is `+919876543210`); or, when `external_id`, the customer's external id as it is.
pub fn parse_one_customer(raw: &str, external_id: bool) -> Result<CustomerRef, String> {
    let value = raw.trim();
    if external_id {
        return CustomerRef::parse(IdentifierType::ExternalId, value);
    }
    if value.contains('@') {
        return CustomerRef::parse(IdentifierType::Email, value);
    }
    CustomerRef::parse(IdentifierType::Mobile, value).map_err(|_| {
        format!(
            "`{value}` is neither a mobile number (8 to 15 digits, optionally starting with +) nor an email address"
        )
    })
}

/// How many coupons of an offer are in each status, for "how many would each mode revoke".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub unissued: i64,
    pub issued: i64,
    pub redeemed: i64,
    pub revoked: i64,
}

impl StatusCounts {
    /// How many coupons `mode` would revoke now; `None` for `Customers` (it depends on the list).
    pub fn would_revoke(&self, mode: RevokeMode) -> Option<i64> {
        match mode {
            RevokeMode::AllNotRedeemed => Some(self.unissued + self.issued),
            RevokeMode::Unissued => Some(self.unissued),
            RevokeMode::Customers => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    fn customer(v: &str) -> CustomerRef {
        CustomerRef::parse(IdentifierType::Email, v).unwrap()
    }

    #[test]
    fn modes_parse_from_the_form_and_the_api() {
        for m in RevokeMode::ALL {
            assert_eq!(RevokeMode::parse(m.as_str()), Some(m));
            assert_eq!(RevokeMode::parse(m.api_name()), Some(m));
        }
        assert_eq!(
            RevokeMode::parse("all_not_redeemed"),
            Some(RevokeMode::AllNotRedeemed)
        );
        assert_eq!(RevokeMode::parse(""), None);
        assert_eq!(RevokeMode::parse("redeemed"), None);
    }

    #[test]
    fn redeemed_coupons_are_never_revoked() {
        for m in RevokeMode::ALL {
            assert!(!m.statuses().contains(&"redeemed"), "{m:?}");
            assert!(!m.statuses().contains(&"revoked"), "{m:?}");
        }
    }

    #[test]
    fn csms_revoke_only_for_customers_and_viewers_never() {
        let may = |role: Role, m: RevokeMode| role.can(m.permission());
        for m in RevokeMode::ALL {
            assert!(may(Role::Admin, m) && may(Role::Marketing, m));
            assert!(!may(Role::Viewer, m));
        }
        assert!(may(Role::Csm, RevokeMode::Customers));
        assert!(!may(Role::Csm, RevokeMode::AllNotRedeemed));
        assert!(!may(Role::Csm, RevokeMode::Unissued));
    }

    #[test]
    fn a_common_code_is_revoked_for_all_or_not_at_all() {
        let one = Revocation::Customers(vec![customer("a@x.io")]);
        assert_eq!(
            check_revocation(&one, true),
            Err(RevokeRefusal::CommonCodeCustomers)
        );
        assert!(check_revocation(&one, false).is_ok());
        assert!(check_revocation(&Revocation::AllNotRedeemed, true).is_ok());
    }

    #[test]
    fn outcomes_say_how_many_or_why_none() {
        let all = Revocation::AllNotRedeemed;
        assert_eq!(
            all.summary(1_200),
            "Revoked 1,200 coupons (all not redeemed)"
        );
        assert_eq!(all.outcome(1), "1 coupon revoked (all not redeemed).");
        assert_eq!(
            Revocation::Unissued.outcome(0),
            "No coupons to revoke: the offer has no unissued coupons."
        );
        let c = Revocation::Customers(vec![customer("a@x.io"), customer("b@x.io")]);
        assert_eq!(
            c.summary(3),
            "Revoked 3 coupons (of specific customers, 2 customers listed)"
        );
        assert!(c.outcome(0).contains("none of the 2 listed customers"));
    }

    #[test]
    fn counts_per_mode() {
        let n = StatusCounts {
            unissued: 5,
            issued: 3,
            redeemed: 2,
            revoked: 1,
        };
        assert_eq!(n.would_revoke(RevokeMode::AllNotRedeemed), Some(8));
        assert_eq!(n.would_revoke(RevokeMode::Unissued), Some(5));
        assert_eq!(n.would_revoke(RevokeMode::Customers), None);
    }

    #[test]
    fn one_typed_customer_is_recognised_and_normalised() {
        let one = |raw: &str| parse_one_customer(raw, false);
        assert_eq!(
            one(" +91 98765-43210 ").unwrap(),
            CustomerRef::parse(IdentifierType::Mobile, "+919876543210").unwrap()
        );
        assert_eq!(
            one("Asha@Example.com").unwrap().label(),
            "EMAIL asha@example.com"
        );
        assert_eq!(
            one("asha").unwrap_err(),
            "`asha` is neither a mobile number (8 to 15 digits, optionally starting with +) nor an email address"
        );
        assert_eq!(one("asha@").unwrap_err(), "`asha@` is not an email address");
        assert_eq!(
            parse_one_customer(" C-17 ", true).unwrap().label(),
            "EXTERNAL_ID C-17"
        );
        assert!(
            parse_one_customer("9876543210", true).is_ok(),
            "an id of digits is an id"
        );
    }
}
