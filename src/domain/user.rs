//! People and access: emails, passwords, roles and what each role may do.

use super::FieldError;
use super::ids::UserId;
use std::fmt;

/// A normalised (trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if s.len() > 254 {
            return Err(FieldError::new(field, "must be at most 254 characters"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(FieldError::new(
                field,
                "must be an email address like name@example.com",
            ));
        };
        let ok = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';');
        if !ok {
            return Err(FieldError::new(
                field,
                "must be an email address like name@example.com",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password chosen by a person: long enough to resist guessing.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_LEN: usize = 10;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n < Self::MIN_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if n > 256 {
            return Err(FieldError::new(field, "must be at most 256 characters"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A console user's role (ORG-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Marketing,
    Csm,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Marketing, Role::Csm, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Marketing => "marketing",
            Role::Csm => "csm",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Marketing => "Marketing manager",
            Role::Csm => "CSM",
            Role::Viewer => "Viewer",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| FieldError::new(field, "must be one of admin, marketing, csm, viewer"))
    }

    /// Whether this role may do `perm`.
    pub fn can(self, perm: Permission) -> bool {
        use Permission::*;
        match perm {
            View => true,
            ManageOrg => self == Role::Admin,
            ManageConsumers | ManageOffers => matches!(self, Role::Admin | Role::Marketing),
            EditOffers | ServeCustomers => {
                matches!(self, Role::Admin | Role::Marketing | Role::Csm)
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a route needs. Each route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read pages of the org.
    View,
    /// Org settings, users, stores, catalog, POCs, API keys, audit log.
    ManageOrg,
    /// Campaigns, loyalty programs and other consumers.
    ManageConsumers,
    /// Create, claim, revoke offers; uploads.
    ManageOffers,
    /// Edit existing offers.
    EditOffers,
    /// Resend a coupon, revoke a customer's coupons.
    ServeCustomers,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("email", " A.B@Example.COM ").unwrap().as_str(),
            "a.b@example.com"
        );
        for bad in [
            "", "a", "a@", "@b.c", "a@b", "a b@c.d", "a@b@c.d", "a@.com", "a@b.",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_permissions() {
        assert!(Role::Admin.can(Permission::ManageOrg));
        assert!(!Role::Marketing.can(Permission::ManageOrg));
        assert!(Role::Marketing.can(Permission::ManageConsumers));
        assert!(!Role::Csm.can(Permission::ManageConsumers));
        assert!(Role::Csm.can(Permission::EditOffers));
        assert!(!Role::Viewer.can(Permission::EditOffers));
        assert!(Role::Viewer.can(Permission::View));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(NewPassword::parse("password", "short").is_err());
        assert!(NewPassword::parse("password", "long enough!").is_ok());
    }
}

/// Who did something, for the audit log: a console user, the CLI, or an integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub label: String,
}

impl Actor {
    pub fn user(id: UserId, email: &str) -> Self {
        Self {
            user_id: Some(id),
            label: email.to_string(),
        }
    }

    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            label: label.to_string(),
        }
    }
}
