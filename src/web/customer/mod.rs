//! Customers' pages (WAL-1..3): the wallet, an offer's public link and poster, sharing and
//! claiming, the store kiosk. Mobile-first, server-rendered, no script needed. They run under
//! their own session cookie (`offerdesk_wallet`), separate from the console's: a customer's
//! session never signs anyone into the console, and a console session is not a customer.

pub mod get;
pub mod kiosk;
pub mod pages;
pub mod share;
pub mod sign_in;
pub mod wallet;

use crate::domain::ids::{CustomerId, OrgId};
use actix_session::Session;
use actix_web::web;

const ORG: &str = "org";
const CUSTOMER: &str = "cust";
const GUEST: &str = "guest";
const GUEST_ORG: &str = "guest_org";
const KIOSK: &str = "kiosk";
const SEEN: &str = "seen";

/// The kiosk forgets its customer after this long without a request (seconds).
pub const KIOSK_IDLE_SECONDS: i64 = 60;

/// Who is on a customer's page: a signed-in customer of an org, a guest, or nobody.
pub struct Visitor(pub Session);

impl Visitor {
    /// A kiosk's session left idle for longer than [`KIOSK_IDLE_SECONDS`]: nobody is signed in
    /// on any page (the next person at the kiosk must not reach the last one's wallet).
    fn idle_kiosk(&self) -> bool {
        let kiosk = self.0.get::<i64>(KIOSK).ok().flatten();
        let seen = self.0.get::<i64>(SEEN).ok().flatten();
        kiosk.is_some()
            && seen.is_none_or(|s| chrono::Utc::now().timestamp() - s > KIOSK_IDLE_SECONDS)
    }

    /// The signed-in customer, if they signed in with `org_id`.
    pub fn customer(&self, org_id: OrgId) -> Option<CustomerId> {
        if self.idle_kiosk() {
            return None;
        }
        let org = self.0.get::<i64>(ORG).ok().flatten()?;
        (org == org_id.get())
            .then(|| self.0.get::<i64>(CUSTOMER).ok().flatten())
            .flatten()
            .map(CustomerId)
    }

    /// The org the customer signed in with, and the customer.
    pub fn signed_in(&self) -> Option<(OrgId, CustomerId)> {
        if self.idle_kiosk() {
            return None;
        }
        let org = self.0.get::<i64>(ORG).ok().flatten()?;
        let id = self.0.get::<i64>(CUSTOMER).ok().flatten()?;
        Some((OrgId(org), CustomerId(id)))
    }

    /// Signs a customer in (a new session id: no fixation), keeping the guest's coupons'
    /// owner so the caller can move them.
    pub fn sign_in(&self, org_id: OrgId, customer: CustomerId) {
        self.0.renew();
        let _ = self.0.insert(ORG, org_id.get());
        let _ = self.0.insert(CUSTOMER, customer.get());
    }

    /// This browser session's guest of `org_id`, if one got a coupon.
    pub fn guest(&self, org_id: OrgId) -> Option<CustomerId> {
        let org = self.0.get::<i64>(GUEST_ORG).ok().flatten()?;
        (org == org_id.get())
            .then(|| self.0.get::<i64>(GUEST).ok().flatten())
            .flatten()
            .map(CustomerId)
    }

    pub fn set_guest(&self, org_id: OrgId, guest: CustomerId) {
        let _ = self.0.insert(GUEST_ORG, org_id.get());
        let _ = self.0.insert(GUEST, guest.get());
    }

    pub fn forget_guest(&self) {
        self.0.remove(GUEST);
        self.0.remove(GUEST_ORG);
    }

    /// Signs out (and forgets any guest wallet and kiosk).
    pub fn sign_out(&self) {
        self.0.purge();
    }

    /// For a kiosk page of `store`: false (and the session forgotten) when the customer left
    /// it idle for longer than [`KIOSK_IDLE_SECONDS`] or it was another kiosk's; the idle
    /// clock restarts.
    pub fn kiosk_alive(&self, store: i64, now: i64) -> bool {
        let kiosk = self.0.get::<i64>(KIOSK).ok().flatten();
        let seen = self.0.get::<i64>(SEEN).ok().flatten();
        let signed_in = self.signed_in().is_some();
        let alive = kiosk_alive(kiosk, seen, signed_in, store, now);
        if alive {
            let _ = self.0.insert(SEEN, now);
        } else if kiosk.is_some() || signed_in {
            self.0.purge();
        }
        alive
    }

    /// Marks the session as the kiosk's of `store` (after its customer signed in).
    pub fn start_kiosk(&self, store: i64, now: i64) {
        let _ = self.0.insert(KIOSK, store);
        let _ = self.0.insert(SEEN, now);
    }
}

/// Whether a kiosk session still holds its customer: the kiosk of `store`, a customer signed
/// in, and the last tap at most [`KIOSK_IDLE_SECONDS`] before `now` (seconds).
fn kiosk_alive(
    kiosk: Option<i64>,
    seen: Option<i64>,
    signed_in: bool,
    store: i64,
    now: i64,
) -> bool {
    kiosk == Some(store) && signed_in && seen.is_some_and(|s| now - s <= KIOSK_IDLE_SECONDS)
}

/// The path prefixes of customers' pages (each its own scope with the customers' cookie).
pub const PREFIXES: [&str; 5] = ["/wallet", "/get", "/share", "/kiosk", "/brand"];

/// Registers the routes of one prefix's scope.
pub fn configure(prefix: &str, cfg: &mut web::ServiceConfig) {
    match prefix {
        "/wallet" => {
            cfg.route("", web::get().to(wallet::show))
                .route("/code", web::post().to(sign_in::send))
                .route("/confirm", web::post().to(sign_in::confirm))
                .route("/sign-out", web::post().to(sign_in::sign_out))
                .route("/coupons/{id}/share", web::get().to(share::show))
                .route("/coupons/{id}/share", web::post().to(share::by_sms));
        }
        "/get" => {
            cfg.route("/{token}", web::get().to(get::landing))
                .route("/{token}", web::post().to(get::take))
                .route("/{token}/guest", web::post().to(get::as_guest))
                .route("/{token}/poster", web::get().to(get::poster));
        }
        "/share" => {
            cfg.route("/{token}", web::get().to(share::landing))
                .route("/{token}/claim", web::post().to(share::claim));
        }
        "/kiosk" => {
            cfg.route("/{store}", web::get().to(kiosk::show))
                .route("/{store}/coupons/{id}", web::get().to(kiosk::coupon))
                .route("/{store}/leave", web::get().to(kiosk::leave));
        }
        "/brand" => {
            cfg.route("/{org}.css", web::get().to(pages::brand_css));
        }
        _ => {}
    }
}

/// The client's address, for the per-device code limit.
pub fn client_address(req: &actix_web::HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_kiosk_forgets_its_customer_after_a_minute_without_a_tap() {
        // (kiosk of the session, last tap, signed in, this kiosk, now) → still theirs
        let table = [
            (Some(7), Some(1_000), true, 7, 1_060, true),
            (Some(7), Some(1_000), true, 7, 1_061, false),
            (Some(7), Some(1_000), true, 8, 1_010, false),
            (Some(7), Some(1_000), false, 7, 1_010, false),
            (None, Some(1_000), true, 7, 1_010, false),
        ];
        for (kiosk, seen, signed, store, now, want) in table {
            assert_eq!(super::kiosk_alive(kiosk, seen, signed, store, now), want);
        }
    }
}
