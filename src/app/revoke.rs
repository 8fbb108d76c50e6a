//! Revoking coupons of an offer (REV-1): lock the offer → `domain::revoke::check_revocation`
//! → one set-based revocation with its audit entry, in one transaction, so a failure leaves
//! nothing half done.

use crate::domain::ids::{OfferId, OrgId};
use crate::domain::revoke::{Revocation, RevokeRefusal, check_revocation};
use crate::domain::user::Actor;
use crate::store::revoke::{audit_revocation, lock_offer, revoke_in};
use crate::store::{Store, StoreResult};

/// Revokes the coupons of an offer of the org that `revocation` names; the number revoked.
/// `Ok(Err(_))` refuses the revocation before anything changes; an offer that is not the org's
/// is `NotFound`.
#[tracing::instrument(name = "app.revoke", skip_all, fields(org = org_id.get(), offer = offer_id.get()))]
pub async fn revoke(
    store: &Store,
    org_id: OrgId,
    offer_id: OfferId,
    revocation: &Revocation,
    actor: &Actor,
) -> StoreResult<Result<u64, RevokeRefusal>> {
    let mut tx = store.begin().await?;
    let common = lock_offer(&mut tx, org_id, offer_id).await? == "common";
    if let Err(refusal) = check_revocation(revocation, common) {
        return Ok(Err(refusal));
    }
    let revoked = revoke_in(&mut tx, org_id, offer_id, revocation, common).await?;
    audit_revocation(&mut tx, org_id, offer_id, revocation, revoked, actor).await?;
    tx.commit().await?;
    Ok(Ok(revoked))
}
