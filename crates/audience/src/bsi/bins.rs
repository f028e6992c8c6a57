//! Range-encoded bins over a bit-sliced index: for a few boundaries `b_0 < b_1 < …` at the
//! population's quantiles, the members whose value is at most `b_i` (one cumulative bitmap per
//! boundary, Chan & Ioannidis's range encoding with coarse intervals).
//!
//! A comparison with the bins touches two of those bitmaps to settle every member outside the
//! one bin the probe falls in; only that bin's members (a fraction `1 / BINS` of the population)
//! still walk the bit slices. The boundaries are chosen when the bins are built and stay put
//! under `set`/`clear`, which keep every bitmap current by touching only the boundaries between
//! a member's old and new value: a skewed stream of updates makes the bins uneven, never wrong.

use roaring::RoaringBitmap;

/// How many bins a field is cut into at most: each boundary costs one bitmap as dense as its
/// quantile (up to 8 KB per 2^16 members), and the bin a probe falls in holds about `1 / BINS`
/// of the members, which is what a comparison still pays bit slice by bit slice. 32, not 16:
/// `points > 200` among 1.4M of 10M members went from 3.9–4.7 to 2.1–2.4 ms of CPU and 3d
/// (`points >= 5000 …`) at 40M from 15.1–15.5 to 13.1–13.5 ms, for 16 more bitmaps per wide
/// field (~5 MB each at 40M members; fields of a few values, as R, F, M, keep one per value).
/// 64 gained a little more on comparisons, but cost 10 % more memory at 10M and slowed 10c.
pub const BINS: u64 = 32;

/// The cumulative bitmaps of one numeric field.
#[derive(Debug, Clone, Default)]
pub struct Bins {
    /// Ascending, each below the field's maximum value (a boundary at the maximum would hold
    /// every member).
    boundaries: Vec<u64>,
    /// `at_most[i]`: the members whose value is at most `boundaries[i]`.
    at_most: Vec<RoaringBitmap>,
}

/// The bin a value falls in: the boundaries on either side, each with the members at most it.
pub struct Bin<'a> {
    /// The largest boundary below the value.
    pub below: Option<(u64, &'a RoaringBitmap)>,
    /// The smallest boundary at or above the value.
    pub above: Option<(u64, &'a RoaringBitmap)>,
}

impl Bins {
    /// Bins at `boundaries` (ascending, distinct), with `at_most(b)` giving the members whose
    /// value is at most `b`.
    pub fn new(boundaries: Vec<u64>, at_most: impl Fn(u64) -> RoaringBitmap) -> Bins {
        let at_most = boundaries.iter().map(|&boundary| at_most(boundary)).collect();
        Bins { boundaries, at_most }
    }

    pub fn is_empty(&self) -> bool {
        self.boundaries.is_empty()
    }

    /// Moves the members from `at` on into bins of their own at the same boundaries (still
    /// exact: every bitmap keeps the members at most its boundary).
    pub fn split_off(&mut self, at: u32) -> Bins {
        let at_most = self.at_most.iter_mut().map(|members| crate::narrow::split_off(members, at)).collect();
        Bins { boundaries: self.boundaries.clone(), at_most }
    }

    /// The bytes of the cumulative bitmaps in roaring's serialized form.
    pub fn serialized_size(&self) -> usize {
        self.at_most.iter().map(RoaringBitmap::serialized_size).sum()
    }

    /// The bin `value` falls in.
    pub fn containing(&self, value: u64) -> Bin<'_> {
        let split = self.boundaries.partition_point(|&boundary| boundary < value);
        let at = |i: usize| (self.boundaries[i], &self.at_most[i]);
        Bin { below: split.checked_sub(1).map(at), above: (split < self.boundaries.len()).then(|| at(split)) }
    }

    /// Moves `member` from `old` (`None`: it had no value) to `new` (`None`: it has none now),
    /// touching only the bitmaps of the boundaries in between.
    pub fn update(&mut self, member: u32, old: Option<u64>, new: Option<u64>) {
        // A member is in `at_most[i]` exactly when it has a value `<= boundaries[i]`, so only
        // the boundaries in `min(old, new)..max(old, new)` (a missing value counts as above
        // every boundary) change.
        let rank =
            |value: Option<u64>| value.map_or(self.boundaries.len(), |v| self.boundaries.partition_point(|&b| b < v));
        let (old_rank, new_rank) = (rank(old), rank(new));
        if new_rank < old_rank {
            self.at_most[new_rank..old_rank].iter_mut().for_each(|members| {
                members.insert(member);
            });
        } else {
            self.at_most[old_rank..new_rank].iter_mut().for_each(|members| {
                members.remove(member);
            });
        }
    }
}

/// The distinct values at the `i / BINS` quantiles of a population of `len` values, from
/// `value_at_rank(r)` (the `r`-th smallest, from 1), below `max`.
pub fn quantile_boundaries(len: u64, max: u64, value_at_rank: impl Fn(u64) -> u64) -> Vec<u64> {
    let mut boundaries: Vec<u64> =
        (1..BINS).map(|i| (len * i / BINS).max(1)).map(value_at_rank).filter(|&value| value < max).collect();
    boundaries.dedup();
    boundaries
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::bsi::{BitSlicedIndex, CompareOp, tests::naive};

    /// Small domains (every value its own bin, as `r`, `f`, `m`), wide ones, 0 and the maximum.
    fn value() -> impl Strategy<Value = u64> {
        prop_oneof![4 => 0u64..6, 3 => 0u64..70_000, 1 => any::<u64>(), 1 => Just(u64::MAX), 1 => Just(0u64)]
    }

    /// Every comparison and range, in full and among `candidates`, against the values one by
    /// one; probes are `probes`, every boundary and its neighbours.
    fn check(index: &BitSlicedIndex, values: &BTreeMap<u32, u64>, probes: &[u64], candidates: &RoaringBitmap) {
        let selected = |keep: &dyn Fn(u64) -> bool, among: Option<&RoaringBitmap>| -> Vec<u32> {
            let kept =
                values.iter().filter(|(member, value)| keep(**value) && among.is_none_or(|a| a.contains(**member)));
            kept.map(|(member, _)| *member).collect()
        };
        let near_boundaries = index.bins.boundaries.iter().flat_map(|&b| [b.saturating_sub(1), b, b.saturating_add(1)]);
        let probes: Vec<u64> = probes.iter().copied().chain(near_boundaries).chain([0, u64::MAX]).collect();
        for &probe in &probes {
            for op in CompareOp::ALL {
                let keep = |value: u64| naive(value, op, probe);
                assert_eq!(index.compare(op, probe).iter().collect::<Vec<_>>(), selected(&keep, None), "{op} {probe}");
                let among = index.compare_among(op, probe, candidates).iter().collect::<Vec<_>>();
                assert_eq!(among, selected(&keep, Some(candidates)), "{op} {probe} among");
            }
            for &high in probes.iter().take(8) {
                let keep = |value: u64| probe <= value && value <= high;
                assert_eq!(index.between(probe, high).iter().collect::<Vec<_>>(), selected(&keep, None));
                let among = index.between_among(probe, high, candidates).iter().collect::<Vec<_>>();
                assert_eq!(among, selected(&keep, Some(candidates)));
            }
        }
        for (boundary, members) in index.bins.boundaries.iter().zip(&index.bins.at_most) {
            assert_eq!(members.iter().collect::<Vec<_>>(), selected(&|value| value <= *boundary, None));
        }
    }

    proptest! {
        // Each case checks up to ~60 probes against every operator and range; fewer cases keep
        // the debug-build run short.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Comparisons through the bins agree with comparing member by member, right after the
        /// bins are cut and after members' values are set, replaced and cleared one by one.
        #[test]
        fn binned_comparisons_match_member_by_member(
            initial in proptest::collection::vec(proptest::option::of(value()), 0..400),
            updates in proptest::collection::vec((0u32..450, proptest::option::of(value())), 0..60),
            probes in proptest::collection::vec(value(), 1..4),
            candidate_stride in 1usize..20,
        ) {
            let mut index = BitSlicedIndex::default();
            let mut values = BTreeMap::new();
            for (member, value) in (0u32..).zip(&initial) {
                if let Some(value) = *value {
                    index.set(member, value);
                    values.insert(member, value);
                }
            }
            index.rebin();
            prop_assert_eq!(index.bins.is_empty(), values.values().all(|&v| v == *values.values().max().unwrap_or(&0)));
            let candidates: RoaringBitmap = (0u32..450).step_by(candidate_stride).collect();
            check(&index, &values, &probes, &candidates);
            for (member, value) in updates {
                match value {
                    Some(value) => {
                        index.set(member, value);
                        values.insert(member, value);
                    }
                    None => prop_assert_eq!(index.clear(member), values.remove(&member).is_some()),
                }
            }
            check(&index, &values, &probes, &candidates);
        }
    }

    #[test]
    fn a_bulk_load_is_binned_at_its_quantiles() {
        let index = BitSlicedIndex::from_sorted((0u32..1000).map(|member| (member, u64::from(member % 100)))).unwrap();
        let boundaries = [
            3, 6, 9, 12, 15, 18, 21, 24, 28, 31, 34, 37, 40, 43, 46, 49, 53, 56, 59, 62, 65, 68, 71, 74, 78, 81, 84, 87,
        ];
        assert_eq!(index.bins.boundaries[..28], boundaries);
        assert_eq!(index.bins.boundaries[28..], [90, 93, 96]);
        assert_eq!(index.bins.at_most[0].len(), 40, "the 31st smallest of 0..100 ten times each is 3");
        assert!(BitSlicedIndex::from_sorted([(0, 7), (1, 7)]).unwrap().bins.is_empty(), "one value: no bins");
    }
}
