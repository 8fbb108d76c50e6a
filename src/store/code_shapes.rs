//! Keeps promotion codes and generated coupon codes apart: a code a till enters means one thing.
//! Exact codes are checked against each other where they are written (common codes, uploads,
//! promotion codes); generated codes do not exist yet when a promotion takes its code, so a
//! promotion code may not have the shape of any of the org's generated codes (prefix, length,
//! charset — `CodeFormat::could_make`), and an offer with generated codes may not take a shape a
//! promotion code already has. Both checks run under the org's row lock (PostgreSQL; SQLite's
//! single writer orders them), so a promotion and an offer written at the same time cannot miss
//! each other.

use super::dyntx::DynTx;
use super::{StoreError, StoreResult};
use crate::domain::coupon::{CodeFormat, randomized_format};
use crate::domain::ids::OrgId;
use crate::domain::offer::Charset;

/// Refuses (`Conflict`, in words) the first of `codes` that one of the org's offers could
/// generate. The caller holds the org's row.
pub(super) async fn refuse_generated_shapes(
    tx: &mut DynTx,
    org_id: OrgId,
    codes: &[String],
) -> StoreResult<()> {
    type Row = (
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let offers: Vec<Row> = tx
        .fetch_all(
            "SELECT name, generation, code_length, code_charset, code_prefix, sample_code, random_fixed \
             FROM offers WHERE org_id = $1 AND generation IN ('unique', 'randomized')",
            &[org_id.into()],
        )
        .await?;
    for (name, kind, length, charset, prefix, sample, fixed) in offers {
        let format = if kind == "unique" {
            let Some(charset) = charset.as_deref().and_then(Charset::parse) else {
                continue;
            };
            CodeFormat {
                prefix: prefix.unwrap_or_default(),
                length: length.unwrap_or(10) as u32,
                charset,
            }
        } else {
            let (Some(sample), Some(fixed)) = (sample, fixed) else {
                continue;
            };
            randomized_format(&sample, &fixed)
        };
        if let Some(code) = codes.iter().find(|c| format.could_make(c)) {
            return Err(StoreError::Conflict(format!(
                "codes: {code} has the shape of the coupon codes offer “{name}” generates ({}), \
                 so a coupon could one day have it; choose another length or add a character \
                 those codes never have, such as '-'",
                format.words()
            )));
        }
    }
    Ok(())
}

/// The first promotion code of the org that codes of `format` could repeat. The caller holds
/// the org's row.
pub(super) async fn promotion_code_of_shape(
    tx: &mut DynTx,
    org_id: OrgId,
    format: &CodeFormat,
) -> StoreResult<Option<String>> {
    let codes: Vec<(String,)> = tx
        .fetch_all(
            "SELECT code FROM promotion_codes WHERE org_id = $1 ORDER BY code",
            &[org_id.into()],
        )
        .await?;
    Ok(codes
        .into_iter()
        .map(|c| c.0)
        .find(|c| format.could_make(c)))
}
