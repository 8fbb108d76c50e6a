//! The page chrome every console page embeds: who is signed in, the navigation, the CSRF
//! token for forms and htmx, and a one-time flash message.

use super::auth::CurrentUser;
use crate::domain::user::Permission;
use actix_session::Session;

const FLASH: &str = "flash";

#[derive(Debug, Clone)]
pub struct Chrome {
    pub user_name: String,
    pub user_email: String,
    pub role_label: &'static str,
    pub org_name: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    pub csrf: String,
    pub flash: String,
    pub is_admin: bool,
    /// May see customers' messages and resend coupons (the Outbox link).
    pub can_serve_customers: bool,
}

impl Chrome {
    pub fn new(user: &CurrentUser, session: &Session, nav: &'static str) -> Chrome {
        let flash = session
            .remove_as::<String>(FLASH)
            .and_then(Result::ok)
            .unwrap_or_default();
        Chrome {
            user_name: user.name.clone(),
            user_email: user.email.clone(),
            role_label: user.role.label(),
            org_name: user.org_name.clone(),
            nav,
            csrf: user.csrf.clone(),
            flash,
            is_admin: user.can(Permission::ManageOrg),
            can_serve_customers: user.can(Permission::ServeCustomers),
        }
    }

    /// Leaves a message for the next page shown (after a redirect).
    pub fn flash(session: &Session, message: &str) {
        let _ = session.insert(FLASH, message);
    }
}
