//! Spreading an order-level discount over lines: in proportion to their amounts, in whole 分,
//! by the largest-remainder method, so that the shares always sum to the discount exactly.

use crate::Money;

/// Splits `total` over `weights` (each keyed, usually by line number) in proportion to the
/// weights, in whole 分.
///
/// Each share starts as the floor of its exact proportion; the 分 left over go one each to the
/// largest remainders, ties to the larger weight and then to the smaller key. The shares sum to
/// `total` exactly and none exceeds its weight, so a line never goes below zero. `total` is
/// capped at Σ weights; negative weights count as zero.
pub fn allocate<K: Ord + Copy>(total: Money, weights: &[(K, Money)]) -> Vec<Money> {
    let weight_fen: Vec<i128> = weights.iter().map(|(_, weight)| i128::from(weight.fen().max(0))).collect();
    // At most `weights.len()` values below 2^63: no i128 overflow for any slice that fits in memory.
    let sum: i128 = weight_fen.iter().sum();
    if sum == 0 {
        return vec![Money::ZERO; weights.len()];
    }
    let total = i128::from(total.fen()).clamp(0, sum);
    // Both factors are below 2^63, so each product stays below 2^126.
    let mut shares: Vec<i128> = weight_fen.iter().map(|weight| total * weight / sum).collect();
    let leftover = total - shares.iter().sum::<i128>();
    let mut by_remainder: Vec<usize> = (0..weights.len()).collect();
    by_remainder.sort_by_key(|&i| {
        let (key, weight) = weights.get(i).copied().unzip();
        let remainder = weight_fen.get(i).map_or(0, |weight| total * weight % sum);
        (std::cmp::Reverse(remainder), std::cmp::Reverse(weight), key)
    });
    // `leftover` is below the number of non-zero remainders, so only shares that were rounded
    // down get a 分, and none passes its weight.
    for &i in by_remainder.iter().take(usize::try_from(leftover).unwrap_or(0)) {
        if let Some(share) = shares.get_mut(i) {
            *share += 1;
        }
    }
    // A share is at most its weight, which came from an i64.
    shares.into_iter().map(|share| Money::from_fen(i64::try_from(share).unwrap_or(i64::MAX))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(total: i64, weights: &[(i32, i64)], expected: &[i64]) {
        let weights: Vec<(i32, Money)> = weights.iter().map(|&(key, fen)| (key, Money::from_fen(fen))).collect();
        let shares: Vec<i64> = allocate(Money::from_fen(total), &weights).into_iter().map(Money::fen).collect();
        assert_eq!(shares, expected, "{total} over {weights:?}");
    }

    #[test]
    fn splits_by_largest_remainder() {
        // ¥30 over ¥120.00 + ¥95.80 is 1668.21… + 1331.79… 分: the larger remainder takes the 分.
        check(3000, &[(1, 12_000), (2, 9_580)], &[1668, 1332]);
        // Equal remainders: the larger line gets the 分, then the smaller line number.
        check(2, &[(1, 100), (2, 300)], &[0, 2]);
        check(2, &[(2, 100), (1, 100), (3, 100)], &[1, 1, 0]);
        check(1, &[(2, 100), (1, 100)], &[0, 1]);
        // Capped at the lines' sum, and zero weights take nothing.
        check(500, &[(1, 100), (2, 0), (3, 50)], &[100, 0, 50]);
        check(7, &[(1, 0)], &[0]);
        check(7, &[], &[]);
        check(-5, &[(1, 100)], &[0]);
    }

    proptest! {
        #[test]
        fn shares_sum_exactly_and_never_pass_their_weight(
            total in 0i64..10_000_000,
            weights in proptest::collection::vec(0i64..5_000_000, 0..12),
        ) {
            let weights: Vec<(usize, Money)> =
                weights.into_iter().enumerate().map(|(i, fen)| (i, Money::from_fen(fen))).collect();
            let shares = allocate(Money::from_fen(total), &weights);
            let sum: i64 = weights.iter().map(|(_, w)| w.fen()).sum();
            prop_assert_eq!(shares.iter().map(|s| s.fen()).sum::<i64>(), total.min(sum));
            for (share, (_, weight)) in shares.iter().zip(&weights) {
                prop_assert!(Money::ZERO <= *share && share <= weight);
            }
        }
    }
}
