//! Rounding of percentages and spreading a discount over lines, in integer minor units.

/// `basis_points` of `amount`, rounded half up to the minor unit (12.5 → 13), for a
/// non-negative amount; the rate is clamped to 0..=100%.
pub fn percent_of(amount: i64, basis_points: i64) -> i64 {
    let (amount, bp) = (amount.max(0), basis_points.clamp(0, 10_000));
    match amount.checked_mul(bp) {
        Some(exact) if exact <= i64::MAX - 5_000 => (exact + 5_000) / 10_000,
        _ => i64::try_from((i128::from(amount) * i128::from(bp) + 5_000) / 10_000)
            .unwrap_or(i64::MAX),
    }
}

/// Spreads `total` over parts proportional to `weights` with the largest-remainder method:
/// each part gets `floor(total × weight / Σweights)`, then the units left over go one each to
/// the parts with the largest fractional remainders (ties: the earlier part). The parts sum
/// exactly to `total` and none exceeds its weight. `total` is clamped to `0..=Σweights`;
/// negative weights count as 0. `parts` is overwritten; `scratch` is working space.
pub fn spread(total: i64, weights: &[i64], parts: &mut [i64], scratch: &mut Vec<(i128, usize)>) {
    debug_assert_eq!(weights.len(), parts.len());
    let sum: i128 = weights.iter().map(|&w| i128::from(w.max(0))).sum();
    let total = i128::from(total.max(0)).min(sum);
    parts.iter_mut().for_each(|p| *p = 0);
    if total == 0 {
        return;
    }
    scratch.clear();
    let mut given: i128 = 0;
    for (i, &w) in weights.iter().enumerate() {
        // i128 throughout: a total and a weight of up to 10^15 minor units each.
        let exact = total * i128::from(w.max(0));
        let floor = exact / sum;
        parts[i] = i64::try_from(floor).unwrap_or(i64::MAX);
        given += floor;
        let remainder = exact % sum;
        if remainder > 0 {
            scratch.push((remainder, i));
        }
    }
    let left = usize::try_from(total - given).unwrap_or(usize::MAX);
    if left == 0 {
        return;
    }
    // Largest remainder first; stable for equal remainders, so the earlier part wins.
    scratch.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in scratch.iter().take(left) {
        parts[i] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(total: i64, weights: &[i64]) -> Vec<i64> {
        let mut out = vec![0; weights.len()];
        spread(total, weights, &mut out, &mut Vec::new());
        out
    }

    #[test]
    fn percentages_round_half_up() {
        assert_eq!(percent_of(125, 1000), 13, "12.5 rounds up");
        assert_eq!(percent_of(124, 1000), 12);
        assert_eq!(percent_of(10_000, 2000), 2_000);
        assert_eq!(percent_of(5, 10_000), 5);
        assert_eq!(percent_of(5, 20_000), 5, "clamped at 100%");
        assert_eq!(percent_of(-5, 1_000), 0);
        assert_eq!(percent_of(i64::MAX, 10_000), i64::MAX);
    }

    #[test]
    fn spreading_is_proportional_with_largest_remainders() {
        // 100 over 1:1:1 → 33.33 each; the one unit left goes to the first.
        assert_eq!(parts(100, &[1_000, 1_000, 1_000]), vec![34, 33, 33]);
        // 10 over 200, 300, 500 → 2, 3, 5 exactly.
        assert_eq!(parts(10, &[200, 300, 500]), vec![2, 3, 5]);
        // 7 over 1, 2, 4 → 1, 2, 4 (everything).
        assert_eq!(parts(7, &[1, 2, 4]), vec![1, 2, 4]);
        // 5 over 3, 3, 4 → 1.5, 1.5, 2 → remainders .5, .5: the earlier gets it.
        assert_eq!(parts(5, &[3, 3, 4]), vec![2, 1, 2]);
        // 2 over 1, 9 → 0.2, 1.8 → 0, 1 + the larger remainder (.8) → 0, 2.
        assert_eq!(parts(2, &[1, 9]), vec![0, 2]);
        assert_eq!(parts(0, &[1, 9]), vec![0, 0]);
        assert_eq!(parts(50, &[0, 0]), vec![0, 0]);
        assert_eq!(parts(50, &[10, 20]), vec![10, 20], "clamped to the weights");
        assert_eq!(parts(3, &[-4, 4]), vec![0, 3]);
    }

    #[test]
    fn property_parts_sum_exactly_and_never_exceed_their_weight() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n) as i64
        };
        for _ in 0..2_000 {
            let weights: Vec<i64> = (0..1 + next(8)).map(|_| next(100_000)).collect();
            let sum: i64 = weights.iter().sum();
            let total = next(sum as u64 + 2);
            let out = parts(total, &weights);
            assert_eq!(out.iter().sum::<i64>(), total.min(sum));
            for (p, w) in out.iter().zip(&weights) {
                assert!(0 <= *p && p <= w, "{out:?} {weights:?}");
            }
        }
    }
}
