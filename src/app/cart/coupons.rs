//! The codes no promotion knows, as coupons: validated on an open cart, redeemed under the
//! cart id on a close.

use super::answer::left_per_line;
use super::*;

/// A coupon the cart uses, or why not.
pub(super) enum CouponResult {
    Applied {
        code: String,
        series: i64,
        name: String,
        discount: i64,
    },
    Rejected(RejectedOut),
}

/// The codes no promotion knows: they may be coupons.
pub(super) fn coupon_codes(answer: &CartAnswer) -> Vec<String> {
    answer.pending.iter().map(|r| r.code.clone()).collect()
}

/// The coupons' request: the bill and each line as the promotions of `answer` left them.
pub(super) fn redeem_request(
    input: &CartInput,
    lines: &[CartLine],
    answer: &CartAnswer,
    codes: &[String],
) -> RedeemRequest {
    RedeemRequest {
        org_id: input.org_id,
        transaction_number: String::new(),
        bill_amount: answer.total,
        bill_unknown: false,
        store_code: input.store_code.clone(),
        till_code: input.till_code.clone(),
        customer: input.customer.clone(),
        codes: codes.iter().filter_map(|c| normalise_code(c)).collect(),
        lines: lines
            .iter()
            .zip(left_per_line(answer, lines))
            .map(|(l, left)| LineInput {
                sku: l.sku.clone(),
                category: l.category.clone(),
                brand: l.brand.clone(),
                quantity: l.quantity,
                // What the line costs after its promotions, per unit (rounded down).
                unit_price: if l.quantity > 0 {
                    left / l.quantity
                } else {
                    l.unit_price
                },
                on_sale: false,
            })
            .collect(),
        api_key_id: input.api_key_id,
        consumer_id: input.consumer_id,
    }
}

/// Each coupon code on its own against the bill the promotions left (an open cart).
pub(super) async fn validate_coupons(
    store: &Store,
    offers: &OfferCache,
    input: &CartInput,
    lines: &[CartLine],
    answer: &CartAnswer,
) -> StoreResult<Vec<CouponResult>> {
    let codes = coupon_codes(answer);
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let req = redeem_request(input, lines, answer, &codes);
    let outcomes = crate::app::redeem::validate(store, offers, &req).await?;
    let mut left = answer.total;
    Ok(outcomes
        .into_iter()
        .map(|o| match (&o.result, &o.offer) {
            (Ok(d), Some(offer)) => {
                let discount = (*d).min(left).max(0);
                left -= discount;
                CouponResult::Applied {
                    code: o.code.to_string(),
                    series: offer.id.get(),
                    name: offer.name.clone(),
                    discount,
                }
            }
            (Err(r), _) => CouponResult::Rejected(RejectedOut {
                code: o.code.to_string(),
                reason: r.code().to_string(),
                message: o.message(),
            }),
            (Ok(_), None) => CouponResult::Rejected(RejectedOut {
                code: o.code.to_string(),
                reason: "unknown_code".into(),
                message: "no promotion or coupon has this code".into(),
            }),
        })
        .collect())
}

/// Redeems the coupon codes of a closed cart on the bill its promotions left, the cart id as
/// the transaction number (a retry replays): a refused code is dropped and the rest redeemed
/// without it.
pub(super) async fn redeem_coupons(
    store: &Store,
    offers: &OfferCache,
    input: &CartInput,
    lines: &[CartLine],
    answer: &CartAnswer,
) -> StoreResult<Vec<CouponResult>> {
    let mut codes = coupon_codes(answer);
    let mut out = Vec::new();
    if codes.is_empty() {
        return Ok(out);
    }
    // A close that stopped after redeeming left its redemptions under the cart id: the retry
    // (or a second close of the cart running at the same time) takes them as they are.
    let earlier = store.cart_redemptions(input.org_id, &input.cart_id).await?;
    if !earlier.is_empty() {
        out.extend(as_redeemed(codes, &earlier));
        return Ok(out);
    }
    while !codes.is_empty() {
        let mut req = redeem_request(input, lines, answer, &codes);
        req.transaction_number = input.cart_id.clone();
        match crate::app::redeem::redeem(store, offers, &req).await? {
            Redeemed::Done { codes: done, .. } => {
                // The offers' names, as recorded with the redemptions just written.
                let written = store.cart_redemptions(input.org_id, &input.cart_id).await?;
                for (code, series, discount) in done {
                    let name = written
                        .iter()
                        .find(|r| r.code == code.as_str())
                        .map(|r| r.offer_name.clone())
                        .unwrap_or_default();
                    out.push(CouponResult::Applied {
                        code: code.into_string(),
                        series: series.get(),
                        name,
                        discount,
                    });
                }
                break;
            }
            Redeemed::Refused(o) => {
                let code = o.code.to_string();
                out.push(CouponResult::Rejected(RejectedOut {
                    code: code.clone(),
                    reason: o
                        .result
                        .as_ref()
                        .err()
                        .map_or("refused", |r| r.code())
                        .to_string(),
                    message: o.message(),
                }));
                codes.retain(|c| normalise_code(c).is_none_or(|n| n.as_str() != code));
            }
            Redeemed::TransactionMismatch(_) | Redeemed::TransactionReversed(_) => {
                // Another close of this cart redeemed its coupons first (it refused a code
                // this one still tries): take what it redeemed.
                let earlier = store.cart_redemptions(input.org_id, &input.cart_id).await?;
                if !earlier.is_empty() {
                    out.extend(as_redeemed(std::mem::take(&mut codes), &earlier));
                    break;
                }
                // Redeemed under this cart id by the coupon API before: not this cart's.
                for code in codes.drain(..) {
                    out.push(CouponResult::Rejected(RejectedOut {
                        code: normalise_code(&code).map(|c| c.into_string()).unwrap_or(code),
                        reason: "transaction_mismatch".into(),
                        message: "this cart id was used as a transaction number for other coupons; use another cart id".into(),
                    }));
                }
            }
        }
    }
    Ok(out)
}

/// The codes as the redemptions already recorded under the cart id have them: applied when
/// redeemed (and not reversed), otherwise not redeemed by this cart.
fn as_redeemed(
    codes: Vec<String>,
    earlier: &[crate::store::carts::CartRedemption],
) -> Vec<CouponResult> {
    let reversed = earlier.iter().any(|r| r.reversed);
    codes
        .into_iter()
        .map(|code| {
            let n = normalise_code(&code)
                .map(|c| c.into_string())
                .unwrap_or(code);
            match earlier.iter().find(|r| r.code == n) {
                Some(r) if !reversed => CouponResult::Applied {
                    code: n,
                    series: r.offer_id.get(),
                    name: r.offer_name.clone(),
                    discount: r.discount,
                },
                _ => CouponResult::Rejected(RejectedOut {
                    code: n,
                    reason: if reversed {
                        "transaction_reversed".into()
                    } else {
                        "not_redeemed".into()
                    },
                    message: if reversed {
                        "this cart's coupons were reversed; close the sale under a new cart id"
                            .into()
                    } else {
                        "this code was not redeemed when the cart was first closed".into()
                    },
                }),
            }
        })
        .collect()
}
