//! Exact apportionment of whole Wh among parts in proportion to integer weights.
//!
//! Method: cumulative rounding. Lay the parts end to end in the given order; part `j` gets
//! `floor(total × W_j / D) − floor(total × W_{j−1} / D)`, where `W_j` is the sum of the first
//! `j` weights and `D` the sum of all. The parts always sum to `total`, and each part is
//! within 1 Wh of its exact share `total × w_j / D`.
//!
//! Why not largest remainder: it suffers the "Alabama paradox" (one more Wh to split can
//! take a Wh away from a part), which would let a tenant's charge *fall* when they use more
//! energy. With cumulative rounding every boundary `floor(total × W_j / D)` only moves
//! forward as `total` grows, so if the caller orders the parts by price, highest first, the
//! cost `Σ part × price` never decreases when `total` grows (see docs/tariffs.md for the
//! proof) and the rounding errs in the tenant's favour.

/// Splits `total` into parts proportional to `weights`, in the given order.
///
/// If every weight is zero, everything goes to the first part. Returns `None` for an empty
/// `weights`, a negative `total` or weight, or arithmetic overflow.
pub fn apportion(total: i64, weights: &[i128]) -> Option<Vec<i64>> {
    if weights.is_empty() || total < 0 || weights.iter().any(|w| *w < 0) {
        return None;
    }
    let sum = weights
        .iter()
        .try_fold(0i128, |acc, w| acc.checked_add(*w))?;
    let mut parts = Vec::with_capacity(weights.len());
    if sum == 0 {
        parts.push(total);
        parts.resize(weights.len(), 0);
        return Some(parts);
    }
    let total_wide = i128::from(total);
    let mut cumulative = 0i128;
    let mut prev_boundary = 0i128;
    for w in weights {
        cumulative += w;
        // floor(total × W_j / D); both non-negative, so `/` is the floor.
        let boundary = total_wide.checked_mul(cumulative)? / sum;
        parts.push(i64::try_from(boundary - prev_boundary).ok()?);
        prev_boundary = boundary;
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_by_hand_computed_shares() {
        // 10 Wh over weights 1:1:1 → boundaries floor(10/3)=3, floor(20/3)=6, 10 → 3,3,4.
        assert_eq!(apportion(10, &[1, 1, 1]), Some(vec![3, 3, 4]));
        // 7 Wh over 30 min : 90 min → 1.75 and 5.25 → floor(1.75)=1 → 1, 6.
        assert_eq!(apportion(7, &[30, 90]), Some(vec![1, 6]));
        // Exact shares stay exact: 100 over 1:3 → 25, 75.
        assert_eq!(apportion(100, &[1, 3]), Some(vec![25, 75]));
        assert_eq!(apportion(5, &[0, 0]), Some(vec![5, 0]));
        assert_eq!(apportion(0, &[4, 5]), Some(vec![0, 0]));
        assert_eq!(apportion(5, &[]), None);
        assert_eq!(apportion(-1, &[1]), None);
        assert_eq!(apportion(1, &[1, -1]), None);
    }

    #[test]
    fn no_alabama_paradox_on_the_classic_case() {
        // Weights 6:6:2. Largest remainder gives 10 → (4,4,2) and 11 → (5,5,1): the third
        // part loses one when the total grows. Cumulative rounding never does.
        let ten = apportion(10, &[2, 6, 6]).unwrap();
        let eleven = apportion(11, &[2, 6, 6]).unwrap();
        assert!(ten.iter().zip(&eleven).all(|(a, b)| a <= b));
    }

    proptest! {
        #[test]
        fn parts_sum_to_total_and_stay_within_one_of_the_share(
            total in 0i64..10_000_000_000,
            weights in proptest::collection::vec(0i128..5_000_000_000_000, 1..8),
        ) {
            let parts = apportion(total, &weights).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let sum: i128 = weights.iter().sum();
            if sum > 0 {
                for (p, w) in parts.iter().zip(&weights) {
                    // |p − total·w/sum| < 1  ⇔  |p·sum − total·w| < sum
                    let diff = i128::from(*p) * sum - i128::from(total) * w;
                    prop_assert!(diff.abs() < sum);
                }
            }
        }

        #[test]
        fn every_boundary_moves_forward_as_the_total_grows(
            total in 0i64..1_000_000,
            weights in proptest::collection::vec(0i128..10_000, 1..8),
        ) {
            let a = apportion(total, &weights).unwrap();
            let b = apportion(total + 1, &weights).unwrap();
            let mut ca = 0;
            let mut cb = 0;
            for (x, y) in a.iter().zip(&b) {
                ca += x;
                cb += y;
                prop_assert!(cb >= ca);
            }
        }
    }
}
