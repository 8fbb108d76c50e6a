//! Use cases: each reads as load → pure domain decision → apply. Web and API handlers call
//! these; the rules live in `domain`, the SQL in `store`. (Redemption first; the others still
//! call the store directly — issue #14 moves them here one by one.)

pub mod api_access;
pub mod claim;
pub mod issue;
pub mod offers;
pub mod redeem;
pub mod reminders;
pub mod resend;
pub mod revoke;
