//! Use cases: each reads as load → pure domain decision → apply. Web and API handlers call
//! these; the rules live in `domain`, the SQL in `store`. One module per use case: redeem
//! (validate, redeem, reverse), issue, claim, revoke, resend, offers (create, edit),
//! reminders, jobs (code generation, code uploads, bulk issues and their worker), and the API's
//! key and rate-limit checks (api_access).

pub mod api_access;
pub mod cart;
pub mod claim;
pub mod customer_care;
pub mod expiry_notices;
pub mod hold_messages;
pub mod holds;
pub mod issue;
pub mod jobs;
pub mod offers;
pub mod promotions;
pub mod redeem;
pub mod reminders;
pub mod resend;
pub mod revoke;
pub mod sharing;
pub mod sign_in;
pub mod wallet;
