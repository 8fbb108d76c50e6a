//! A cart call's answer (the API's body), built from an evaluation and the coupons.

use super::coupons::CouponResult;
use super::*;

/// The answer to a cart call (the API's body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartAnswer {
    pub cart_id: String,
    pub state: String,
    pub subtotal: i64,
    pub discount: i64,
    pub total: i64,
    pub lines: Vec<AnswerLine>,
    pub applied: Vec<AppliedOut>,
    pub rejected: Vec<RejectedOut>,
    pub hints: Vec<HintOut>,
    /// Promotions the open cart had that a close could not give: another cart took the last
    /// use of a limit first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<RejectedOut>,
    /// A close answered again (the cart was closed before).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    /// The codes no promotion knows, until they are tried as coupons: a closed cart's row
    /// holds them between its commit and its coupons' redemption (never in an answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(ignore)]
    pub pending: Vec<RejectedOut>,
    /// The cart's lines with their catalogue facts while codes are `pending`: what the coupons
    /// are redeemed against, also by a retry that finishes them (never in an answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(ignore)]
    pub pending_lines: Vec<CartLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnswerLine {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub discount: i64,
    /// A free product a promotion added.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub added: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedOut {
    /// `promotion` or `coupon`.
    pub kind: String,
    /// The promotion's id, or the coupon's series (offer) id.
    pub id: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub discount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejectedOut {
    /// The code as entered (a dropped promotion's name when it had none).
    pub code: String,
    /// Stable snake_case reason.
    pub reason: String,
    /// The reason in words.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HintOut {
    pub promotion_id: i64,
    pub name: String,
    /// "add 200.00 more to the cart for Ten percent over 2,000".
    pub message: String,
}

/// The answer with the promotions only: the codes no promotion knows are kept aside
/// (`pending`) for `add_coupons`.
pub(super) fn promotions_answer(input: &CartInput, p: &Prepared, eval: &Evaluation) -> CartAnswer {
    // Amounts in words with the org's currency ("add ₹200 more to the cart").
    let money = |m: i64| {
        crate::domain::money::format_amount(m, p.org.currency.code(), p.org.currency.minor_digits())
    };
    let applied: Vec<AppliedOut> = eval
        .applied
        .iter()
        .map(|a| AppliedOut {
            kind: "promotion".into(),
            id: a.promotion,
            name: a.name.clone(),
            code: a.code.clone(),
            discount: a.discount,
        })
        .collect();
    let (pending, rejected): (Vec<_>, Vec<_>) = eval
        .rejected
        .iter()
        .map(|r| {
            let out = RejectedOut {
                code: r.code.clone(),
                reason: r.reason.code().to_string(),
                message: r.reason.words_in(&money),
            };
            (matches!(r.reason, Reason::NoSuchCode), out)
        })
        .partition(|(unknown, _)| *unknown);
    let mut lines: Vec<AnswerLine> = p
        .cart
        .lines
        .iter()
        .zip(&eval.lines)
        .map(|(l, d)| AnswerLine {
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount: *d,
            added: false,
        })
        .collect();
    lines.extend(eval.added.iter().map(|a| AnswerLine {
        sku: a.sku.clone(),
        quantity: a.quantity,
        unit_price: 0,
        discount: 0,
        added: true,
    }));
    let discount: i64 = eval.lines.iter().sum();
    CartAnswer {
        cart_id: input.cart_id.clone(),
        state: input.state.as_str().into(),
        subtotal: eval.subtotal,
        discount,
        total: eval.subtotal - discount,
        lines,
        applied,
        rejected: rejected.into_iter().map(|(_, r)| r).collect(),
        hints: eval
            .hints
            .iter()
            .map(|h| HintOut {
                promotion_id: h.promotion,
                name: h.name.clone(),
                message: format!(
                    "{} for {}",
                    h.needs
                        .iter()
                        .map(|n| n.words_in(&money))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    h.name
                ),
            })
            .collect(),
        dropped: Vec::new(),
        pending: pending.into_iter().map(|(_, r)| r).collect(),
        pending_lines: Vec::new(),
        replayed: false,
    }
}

/// What each of the cart's own lines costs after the answer's discounts so far (the coupons'
/// bill, line by line).
pub(super) fn left_per_line(answer: &CartAnswer, lines: &[CartLine]) -> Vec<i64> {
    lines
        .iter()
        .zip(&answer.lines)
        .map(|(l, a)| l.amount() - a.discount)
        .collect()
}

/// Adds the coupons to an answer of promotions: each applied coupon's discount spread over
/// what is left of each line; a pending code that is not a coupon either stays rejected as the
/// engine's unknown code.
pub(super) fn add_coupons(answer: &mut CartAnswer, lines: &[CartLine], coupons: Vec<CouponResult>) {
    let coupon_codes: HashSet<String> = coupons
        .iter()
        .map(|c| match c {
            CouponResult::Applied { code, .. } => code.clone(),
            CouponResult::Rejected(r) => r.code.clone(),
        })
        .collect();
    answer.pending_lines.clear();
    for r in std::mem::take(&mut answer.pending) {
        if !normalise_code(&r.code).is_some_and(|n| coupon_codes.contains(n.as_str())) {
            answer.rejected.push(r);
        }
    }
    let mut scratch = Vec::new();
    let mut parts = vec![0; lines.len()];
    for c in coupons {
        match c {
            CouponResult::Applied {
                code,
                series,
                name,
                discount,
            } => {
                let left = left_per_line(answer, lines);
                spread(discount, &left, &mut parts, &mut scratch);
                for (line, part) in answer.lines.iter_mut().zip(&parts) {
                    line.discount += part;
                }
                answer.applied.push(AppliedOut {
                    kind: "coupon".into(),
                    id: series,
                    name,
                    code: Some(code),
                    discount: parts.iter().sum(),
                });
            }
            CouponResult::Rejected(r) => answer.rejected.push(r),
        }
    }
    answer.discount = answer.lines.iter().map(|l| l.discount).sum();
    answer.total = answer.subtotal - answer.discount;
}
