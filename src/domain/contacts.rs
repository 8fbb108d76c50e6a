//! How a customer is reached (issue #18, item 6): the contacts and channel preference set for
//! them (console CSV or API) and, from those and their identifier, the channel and address a
//! message to them goes to — a coupon delivered when it is issued.
//!
//! The order: the customer's preferred channel when its contact is known; else their
//! identifier's channel (a mobile gets an SMS, an email an email); else the mobile, then the
//! email set for them. A channel's address is the identifier when it is of that kind, else the
//! contact set for it. A customer with neither (an external id with no contacts) is not
//! reached.

use super::csv_lines::{LineError, read_csv};
use super::issue::CustomerRef;
use super::masters::IdentifierType;
use super::offer::Channel;
use super::products::parse_customer;
use super::{FieldError, FieldErrors};
use std::collections::HashMap;

/// What is known of how to reach one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub identifier: CustomerRef,
    /// The mobile number set for the customer (normalised), if any.
    pub mobile: Option<String>,
    /// The email address set for the customer (normalised), if any.
    pub email: Option<String>,
    pub preferred: Option<Channel>,
}

impl Reach {
    /// A customer with no contact or preference set: reached by their identifier alone.
    pub fn identified_by(identifier: CustomerRef) -> Reach {
        Reach {
            identifier,
            mobile: None,
            email: None,
            preferred: None,
        }
    }

    /// The address `channel` reaches the customer at: their identifier when it is of that
    /// kind, else the contact set for it.
    pub fn address(&self, channel: Channel) -> Option<&str> {
        let (kind, contact) = match channel {
            Channel::Sms => (IdentifierType::Mobile, &self.mobile),
            Channel::Email => (IdentifierType::Email, &self.email),
        };
        if self.identifier.kind == kind {
            return Some(&self.identifier.value);
        }
        contact.as_deref().map(str::trim).filter(|c| !c.is_empty())
    }

    /// Where a message to the customer goes (see the module's order), or `None` when nothing
    /// reaches them.
    pub fn destination(&self) -> Option<(Channel, &str)> {
        let by_identifier = match self.identifier.kind {
            IdentifierType::Mobile => Some(Channel::Sms),
            IdentifierType::Email => Some(Channel::Email),
            IdentifierType::ExternalId => None,
        };
        self.preferred
            .into_iter()
            .chain(by_identifier)
            .chain([Channel::Sms, Channel::Email])
            .find_map(|c| self.address(c).map(|a| (c, a)))
    }
}

/// A customer's contacts and channel preference as a CSV line or an API row sets them: each
/// replaces what the customer had (an empty or missing value clears it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerContacts {
    pub customer: CustomerRef,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub preferred: Option<Channel>,
}

/// Parses a customer's contacts as typed: `mobile` and `email` normalised like identifiers
/// (empty: none), `preferred_channel` `sms` or `email` (empty: none). A customer identified by
/// a mobile (an email) is reached at it, so a different `mobile` (`email`) is refused rather
/// than silently unused; a preferred channel needs its contact. Errors keyed `mobile`,
/// `email`, `preferred_channel`.
pub fn parse_contacts(
    customer: CustomerRef,
    mobile: &str,
    email: &str,
    preferred: &str,
) -> Result<CustomerContacts, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mobile = errors
        .take(contact(&customer, IdentifierType::Mobile, "mobile", mobile))
        .flatten();
    let email = errors
        .take(contact(&customer, IdentifierType::Email, "email", email))
        .flatten();
    let preferred = match preferred.trim().to_ascii_lowercase().as_str() {
        "" => None,
        raw => match Channel::parse(raw) {
            Some(c) => Some(c),
            None => {
                errors.push(
                    "preferred_channel",
                    format!("must be sms or email, not `{}`", preferred.trim()),
                );
                None
            }
        },
    };
    let contacts = CustomerContacts {
        customer,
        mobile,
        email,
        preferred,
    };
    if let Some(channel) = contacts.preferred
        && errors.is_empty()
        && contacts.reach().address(channel).is_none()
    {
        let needs = match channel {
            Channel::Sms => "a mobile number: give mobile",
            Channel::Email => "an email address: give email",
        };
        errors.push(
            "preferred_channel",
            format!(
                "{} needs {needs} (the customer is identified by {})",
                channel.as_str(),
                contacts.customer.label()
            ),
        );
    }
    errors.into_result().map(|()| contacts)
}

impl CustomerContacts {
    /// How the customer is reached once these contacts are set.
    pub fn reach(&self) -> Reach {
        Reach {
            identifier: self.customer.clone(),
            mobile: self.mobile.clone(),
            email: self.email.clone(),
            preferred: self.preferred,
        }
    }
}

/// A contact of `kind` as typed: `None` when empty, normalised, and for a customer identified
/// by that kind, the identifier itself.
fn contact(
    customer: &CustomerRef,
    kind: IdentifierType,
    field: &'static str,
    raw: &str,
) -> Result<Option<String>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let value = kind.normalise(raw).map_err(|m| FieldError::new(field, m))?;
    if customer.kind == kind && customer.value != value {
        return Err(FieldError::new(
            field,
            format!(
                "differs from the customer's identifier {}: they are reached at it; leave {field} empty or give the same",
                customer.value
            ),
        ));
    }
    Ok(Some(value))
}

/// The header of a customer contacts CSV.
pub const CONTACTS_HEADER: [&str; 5] = [
    "identifier_type",
    "identifier",
    "mobile",
    "email",
    "preferred_channel",
];

/// Parses a customer contacts CSV (`CONTACTS_HEADER`): every row, or every bad line with its
/// number — a customer given twice included.
pub fn parse_contacts_csv(bytes: &[u8]) -> Result<Vec<CustomerContacts>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut seen: HashMap<CustomerRef, u64> = HashMap::new();
    let errors = read_csv(bytes, &CONTACTS_HEADER, |line, f| {
        let customer = parse_customer(f[0], f[1]).map_err(|e| e.to_string())?;
        let contacts =
            parse_contacts(customer.clone(), f[2], f[3], f[4]).map_err(|e| e.to_string())?;
        if let Some(first) = seen.insert(customer.clone(), line) {
            return Err(format!(
                "customer {} is repeated (first on line {first})",
                customer.label()
            ));
        }
        rows.push(contacts);
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(kind: IdentifierType, value: &str) -> CustomerRef {
        CustomerRef::parse(kind, value).unwrap()
    }

    fn reach(
        kind: IdentifierType,
        value: &str,
        mobile: Option<&str>,
        email: Option<&str>,
        preferred: Option<Channel>,
    ) -> Reach {
        Reach {
            identifier: who(kind, value),
            mobile: mobile.map(str::to_string),
            email: email.map(str::to_string),
            preferred,
        }
    }

    #[test]
    fn the_identifier_decides_when_there_is_no_preference() {
        let r = reach(IdentifierType::Mobile, "+919800000001", None, None, None);
        assert_eq!(r.destination(), Some((Channel::Sms, "+919800000001")));
        assert_eq!(Reach::identified_by(r.identifier.clone()), r);
        let external = Reach::identified_by(who(IdentifierType::ExternalId, "C-9"));
        assert_eq!(external.destination(), None);
        let r = reach(
            IdentifierType::Email,
            "a@x.io",
            Some("+919800000002"),
            None,
            None,
        );
        assert_eq!(r.destination(), Some((Channel::Email, "a@x.io")));
    }

    #[test]
    fn the_preferred_channel_wins_when_its_contact_is_known() {
        let r = reach(
            IdentifierType::Mobile,
            "+919800000001",
            None,
            Some("a@x.io"),
            Some(Channel::Email),
        );
        assert_eq!(r.destination(), Some((Channel::Email, "a@x.io")));
        let r = reach(
            IdentifierType::Email,
            "a@x.io",
            Some("+919800000002"),
            None,
            Some(Channel::Sms),
        );
        assert_eq!(r.destination(), Some((Channel::Sms, "+919800000002")));
        // A preference without its contact falls back to the identifier.
        let r = reach(
            IdentifierType::Mobile,
            "+919800000001",
            None,
            None,
            Some(Channel::Email),
        );
        assert_eq!(r.destination(), Some((Channel::Sms, "+919800000001")));
    }

    #[test]
    fn an_external_id_is_reached_by_its_mobile_then_its_email_or_not_at_all() {
        let both = reach(
            IdentifierType::ExternalId,
            "C-9",
            Some("+919800000003"),
            Some("c@x.io"),
            None,
        );
        assert_eq!(both.destination(), Some((Channel::Sms, "+919800000003")));
        let email = reach(
            IdentifierType::ExternalId,
            "C-9",
            None,
            Some("c@x.io"),
            None,
        );
        assert_eq!(email.destination(), Some((Channel::Email, "c@x.io")));
        let nothing = reach(IdentifierType::ExternalId, "C-9", Some(" "), None, None);
        assert_eq!(nothing.destination(), None);
        let preferring = Reach {
            preferred: Some(Channel::Email),
            ..both
        };
        assert_eq!(preferring.destination(), Some((Channel::Email, "c@x.io")));
    }

    #[test]
    fn contacts_are_normalised_and_checked() {
        let c = parse_contacts(
            who(IdentifierType::ExternalId, "C-9"),
            " 98000 00001 ",
            "Asha@Example.com",
            " EMAIL ",
        )
        .unwrap();
        assert_eq!(c.mobile.as_deref(), Some("9800000001"));
        assert_eq!(c.email.as_deref(), Some("asha@example.com"));
        assert_eq!(c.preferred, Some(Channel::Email));
        let cleared =
            parse_contacts(who(IdentifierType::Mobile, "9800000001"), "", "", "").unwrap();
        assert_eq!(
            (cleared.mobile, cleared.email, cleared.preferred),
            (None, None, None)
        );

        let e = parse_contacts(who(IdentifierType::ExternalId, "C-9"), "12ab", "x@", "fax")
            .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["mobile", "email", "preferred_channel"], "{e}");
        assert!(
            e.get("preferred_channel")
                .contains("must be sms or email, not `fax`")
        );

        let e = parse_contacts(who(IdentifierType::ExternalId, "C-9"), "", "", "sms").unwrap_err();
        assert!(
            e.get("preferred_channel").contains("needs a mobile number"),
            "{e}"
        );
        // Identified by email: email is preferred without giving it again.
        assert!(parse_contacts(who(IdentifierType::Email, "a@x.io"), "", "", "email").is_ok());

        let e = parse_contacts(
            who(IdentifierType::Mobile, "9800000001"),
            "9800000002",
            "",
            "",
        )
        .unwrap_err();
        assert!(
            e.get("mobile")
                .contains("differs from the customer's identifier"),
            "{e}"
        );
        assert!(
            parse_contacts(
                who(IdentifierType::Mobile, "9800000001"),
                "98000-00001",
                "",
                ""
            )
            .is_ok()
        );
    }

    #[test]
    fn a_contacts_csv_reports_every_bad_line() {
        let csv = "identifier_type,identifier,mobile,email,preferred_channel\n\
                   EXTERNAL_ID,C-1,9800000001,,sms\n\
                   EXTERNAL_ID,C-2,,nope,\n\
                   MOBILE,12,,,\n\
                   EXTERNAL_ID,C-1,,,\n\
                   EMAIL,b@x.io,,,pigeon\n\
                   EMAIL,c@x.io,9800000003,,sms\n";
        let errors = parse_contacts_csv(csv.as_bytes()).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6], "{errors:?}");
        assert!(errors[2].message.contains("repeated (first on line 2)"));
        assert!(errors[3].message.contains("pigeon"));

        let good = "identifier_type,identifier,mobile,email,preferred_channel\n\
                    EXTERNAL_ID,C-1,9800000001,c1@x.io,email\n\
                    MOBILE,9800000002,,,\n";
        let rows = parse_contacts_csv(good.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].reach().destination(),
            Some((Channel::Email, "c1@x.io"))
        );
    }
}
