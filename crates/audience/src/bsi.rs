//! Bit-sliced index (O'Neil & Quass) for non-negative numeric attributes.
//!
//! A value is stored as one bitmap per binary digit plus an existence bitmap: the base-2 form of
//! Chan & Ioannidis's range-encoded index (their `digit <= 0` bitmap of a component is the
//! complement of its slice), the smallest of the range encodings and the one `set`/`clear` keep
//! current member by member. A comparison over everyone is one in-place bitmap operation per
//! slice, from the least significant up, never a visit of members; among candidates
//! ([`compare`]) it narrows them in place from the most significant bit down, so an `AND` whose
//! other operands are rare pays for the candidates, not for every member. Members without a
//! value match no comparison, `!=` included.
//!
//! A bulk-loaded index also keeps [range-encoded bins](bins) at its quantiles: with them a
//! comparison settles every member outside the probe's bin with two bitmap operations, and only
//! that bin's members walk the slices.

mod bins;
mod compare;

use std::fmt;

use roaring::RoaringBitmap;

use self::bins::Bins;
use crate::narrow::split_off;

/// A numeric comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// Every operator, in a stable order.
    pub const ALL: [CompareOp; 6] = [Self::Eq, Self::Ne, Self::Lt, Self::Le, Self::Gt, Self::Ge];

    /// The operator as written in the expression language.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Members' values of one numeric attribute, sliced by bit.
#[derive(Debug, Clone, Default)]
pub struct BitSlicedIndex {
    existence: RoaringBitmap,
    /// `slices[i]` holds the members whose value has bit `i` set.
    slices: Vec<RoaringBitmap>,
    /// Derived from the values (so left out of equality); empty until [`BitSlicedIndex::rebin`].
    bins: Bins,
}

/// Two indexes are equal when they hold the same values, whatever their bins.
impl PartialEq for BitSlicedIndex {
    fn eq(&self, other: &Self) -> bool {
        self.existence == other.existence && self.slices == other.slices
    }
}

impl BitSlicedIndex {
    /// Sets `member`'s value, replacing any previous one.
    pub fn set(&mut self, member: u32, value: u64) {
        // Reloading a member sets every field again, most of them to what they were.
        if self.get(member) == Some(value) {
            return;
        }
        let old = self.take(member);
        self.bins.update(member, old, Some(value));
        self.existence.insert(member);
        let width = bit_width(value);
        if self.slices.len() < width {
            self.slices.resize_with(width, RoaringBitmap::new);
        }
        for (bit, slice) in self.slices.iter_mut().enumerate().take(width) {
            if value >> bit & 1 == 1 {
                slice.insert(member);
            }
        }
    }

    /// Builds the index from `(member, value)` pairs in strictly ascending member order (a bulk
    /// load); `None` when the members are not strictly ascending. Members are gathered per
    /// block of 2^16 ordinals and appended to each bitmap a block at a time: roaring's one-value
    /// `push` looks for the bitmap's maximum first, which scans a dense container's words, so
    /// pushing member by member made a 40M-member load take minutes.
    pub fn from_sorted(pairs: impl IntoIterator<Item = (u32, u64)>) -> Option<BitSlicedIndex> {
        let mut index = BitSlicedIndex::default();
        let mut block = Block::default();
        for (member, value) in pairs {
            if block.last.is_some_and(|last| member <= last) {
                return None;
            }
            if block.last.is_some_and(|last| last >> 16 != member >> 16) {
                block.append_to(&mut index);
            }
            block.last = Some(member);
            block.existence.push(member);
            let width = bit_width(value);
            if block.slices.len() < width {
                block.slices.resize_with(width, Vec::new);
            }
            for (bit, members) in block.slices.iter_mut().enumerate().take(width) {
                if value >> bit & 1 == 1 {
                    members.push(member);
                }
            }
        }
        block.append_to(&mut index);
        index.rebin();
        Some(index)
    }

    /// Cuts the values into bins at their current quantiles (replacing any bins): what a bulk
    /// load does at its end, and what an index filled member by member needs once to compare
    /// fast. Costs about `BINS` × 3 bitmap operations per slice.
    pub fn rebin(&mut self) {
        self.bins = Bins::default();
        let len = self.existence.len();
        if len == 0 {
            return;
        }
        let max = self.value_at_rank(len);
        let boundaries = bins::quantile_boundaries(len, max, |rank| self.value_at_rank(rank));
        self.bins = Bins::new(boundaries, |boundary| self.compare(CompareOp::Le, boundary));
    }

    /// Moves the values of the members from `at` on into an index of their own (one shard's).
    pub fn split_off(&mut self, at: u32) -> BitSlicedIndex {
        BitSlicedIndex {
            existence: split_off(&mut self.existence, at),
            slices: self.slices.iter_mut().map(|slice| split_off(slice, at)).collect(),
            bins: self.bins.split_off(at),
        }
    }

    /// The `rank`-th smallest value (from 1, at most the number of members with a value), from
    /// the most significant slice down: each slice's zeros among the candidates are the smaller
    /// values.
    fn value_at_rank(&self, mut rank: u64) -> u64 {
        let mut candidates = self.existence.clone();
        let mut value = 0;
        for (bit, slice) in self.slices.iter().enumerate().rev() {
            let zeros = candidates.difference_len(slice);
            if zeros >= rank {
                candidates -= slice;
            } else {
                rank -= zeros;
                candidates &= slice;
                value |= 1 << bit;
            }
        }
        value
    }

    /// Removes `member`'s value; returns whether it had one.
    pub fn clear(&mut self, member: u32) -> bool {
        let old = self.take(member);
        self.bins.update(member, old, None);
        old.is_some()
    }

    /// Removes `member` from the existence bitmap and the slices, returning its value; the bins
    /// are the caller's to update.
    fn take(&mut self, member: u32) -> Option<u64> {
        if !self.existence.remove(member) {
            return None;
        }
        // Each slice the member leaves held one of its value's bits: one pass, not a read first.
        let bits = self.slices.iter_mut().enumerate().filter_map(|(bit, slice)| slice.remove(member).then_some(bit));
        Some(bits.fold(0, |value, bit| value | 1 << bit))
    }

    /// The bytes of the index's bitmaps (existence, slices and bins) in roaring's serialized
    /// form: what the field takes in memory, less the containers' small fixed overheads.
    pub fn serialized_size(&self) -> usize {
        let slices: usize = self.slices.iter().map(RoaringBitmap::serialized_size).sum();
        self.existence.serialized_size() + slices + self.bins.serialized_size()
    }

    /// `member`'s value, if it has one.
    pub fn get(&self, member: u32) -> Option<u64> {
        if !self.existence.contains(member) {
            return None;
        }
        let bits = self.slices.iter().enumerate().filter(|(_, slice)| slice.contains(member));
        Some(bits.fold(0, |value, (bit, _)| value | 1 << bit))
    }

    /// The members that have a value.
    pub fn existence(&self) -> &RoaringBitmap {
        &self.existence
    }

    /// The bit slices, least significant first: `slices()[i]` holds the members whose value has
    /// bit `i` set.
    pub fn slices(&self) -> &[RoaringBitmap] {
        &self.slices
    }
}

/// The members of one block of 2^16 ordinals gathered by `from_sorted`, ascending.
#[derive(Default)]
struct Block {
    last: Option<u32>,
    existence: Vec<u32>,
    slices: Vec<Vec<u32>>,
}

impl Block {
    /// Appends the block to `index` and empties it; its members are above every member there.
    fn append_to(&mut self, index: &mut BitSlicedIndex) {
        let _appended = index.existence.append(self.existence.drain(..));
        if index.slices.len() < self.slices.len() {
            index.slices.resize_with(self.slices.len(), RoaringBitmap::new);
        }
        for (slice, members) in index.slices.iter_mut().zip(&mut self.slices) {
            let _appended = slice.append(members.drain(..));
        }
    }
}

/// The number of bits needed to write `value` (0 for 0).
fn bit_width(value: u64) -> usize {
    (u64::BITS - value.leading_zeros()) as usize
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use super::*;

    /// Members 0..values.len(); `None` means the member has no value.
    fn index_of(values: &[Option<u64>]) -> BitSlicedIndex {
        let mut index = BitSlicedIndex::default();
        for (member, value) in (0u32..).zip(values) {
            if let Some(value) = value {
                index.set(member, *value);
            }
        }
        index
    }

    /// Checks `compare`, and `compare_among` with every member as a candidate and with every
    /// other member (both the restricted and the in-full path).
    fn check(values: &[Option<u64>], op: CompareOp, probe: u64, expected: &[u32]) {
        let index = index_of(values);
        let actual: Vec<u32> = index.compare(op, probe).iter().collect();
        assert_eq!(actual, expected, "{op} {probe} over {values:?}");
        let everyone: RoaringBitmap = (0..values.len() as u32).collect();
        assert_eq!(index.compare_among(op, probe, &everyone).iter().collect::<Vec<_>>(), expected);
        let even: RoaringBitmap = everyone.iter().filter(|member| member % 2 == 0).collect();
        let expected_even: Vec<u32> = expected.iter().copied().filter(|member| member % 2 == 0).collect();
        let even_with_value = Cow::Owned(&even & index.existence());
        assert_eq!(index.compare_in(op, probe, even_with_value).iter().collect::<Vec<_>>(), expected_even);
    }

    const EDGES: [Option<u64>; 6] = [Some(0), Some(1), None, Some(u64::MAX), Some(u64::MAX - 1), Some(1 << 32)];

    #[test]
    fn zero_is_a_value_and_missing_is_not() {
        check(&EDGES, CompareOp::Eq, 0, &[0]);
        check(&EDGES, CompareOp::Le, 0, &[0]);
        check(&EDGES, CompareOp::Lt, 0, &[]);
        check(&EDGES, CompareOp::Ge, 0, &[0, 1, 3, 4, 5]);
    }

    #[test]
    fn max_values() {
        check(&EDGES, CompareOp::Eq, u64::MAX, &[3]);
        check(&EDGES, CompareOp::Gt, u64::MAX, &[]);
        check(&EDGES, CompareOp::Lt, u64::MAX, &[0, 1, 4, 5]);
        check(&EDGES, CompareOp::Gt, u64::MAX - 1, &[3]);
        check(&EDGES, CompareOp::Ge, 1 << 32, &[3, 4, 5]);
    }

    #[test]
    fn probe_wider_than_every_value() {
        let small = [Some(3), None, Some(7)];
        check(&small, CompareOp::Lt, 1 << 40, &[0, 2]);
        check(&small, CompareOp::Ne, 1 << 40, &[0, 2]);
        check(&small, CompareOp::Eq, 1 << 40, &[]);
        check(&small, CompareOp::Gt, 1 << 40, &[]);
    }

    #[test]
    fn not_equal_excludes_members_without_a_value() {
        check(&EDGES, CompareOp::Ne, 1, &[0, 3, 4, 5]);
        check(&[None, None], CompareOp::Ne, 0, &[]);
        check(&[], CompareOp::Le, u64::MAX, &[]);
    }

    #[test]
    fn setting_twice_replaces_and_clear_removes() {
        let mut index = index_of(&[Some(u64::MAX), Some(5)]);
        index.set(0, 2);
        assert_eq!(index.get(0), Some(2));
        assert_eq!(index.compare(CompareOp::Gt, 4).iter().collect::<Vec<_>>(), [1]);
        assert!(index.clear(1));
        assert!(!index.clear(1));
        assert_eq!(index.get(1), None);
        assert_eq!(index.compare(CompareOp::Ge, 0).iter().collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn bulk_load_equals_one_by_one_and_refuses_unsorted_members() {
        let values = [Some(10), None, Some(0), Some(u64::MAX), None, Some(1 << 33)];
        let pairs = (0u32..).zip(values).filter_map(|(member, value)| Some((member, value?)));
        assert_eq!(BitSlicedIndex::from_sorted(pairs), Some(index_of(&values)));
        assert_eq!(BitSlicedIndex::from_sorted([(3, 1), (3, 2)]), None);
        assert_eq!(BitSlicedIndex::from_sorted([(3, 1), (2, 2)]), None);
        assert_eq!(BitSlicedIndex::from_sorted([]), Some(BitSlicedIndex::default()));
    }

    /// Whether `value op probe` holds: what every comparison must agree with, member by member.
    pub(super) fn naive(value: u64, op: CompareOp, probe: u64) -> bool {
        match op {
            CompareOp::Eq => value == probe,
            CompareOp::Ne => value != probe,
            CompareOp::Lt => value < probe,
            CompareOp::Le => value <= probe,
            CompareOp::Gt => value > probe,
            CompareOp::Ge => value >= probe,
        }
    }

    fn value() -> impl Strategy<Value = u64> {
        prop_oneof![4 => 0u64..64, 2 => 0u64..70_000, 1 => any::<u64>(), 1 => Just(u64::MAX), 1 => Just(0u64)]
    }

    proptest! {
        /// Every comparison, in full and among candidates (sparse and dense, so both paths run),
        /// agrees with comparing member by member; probes include 0, the maximum, values
        /// present, values beyond every stored value and members without a value.
        #[test]
        fn comparisons_match_member_by_member(
            values in proptest::collection::vec(proptest::option::of(value()), 0..300),
            probes in proptest::collection::vec(value(), 1..6),
            candidate_stride in 1u32..40,
        ) {
            let index = index_of(&values);
            let candidates: RoaringBitmap = (0..values.len() as u32).step_by(candidate_stride as usize).collect();
            let stored = values.iter().flatten().copied();
            let beyond = values.iter().flatten().max().map_or(1, |max| max.saturating_add(1));
            let probes: Vec<u64> = probes.into_iter().chain(stored.take(3)).chain([beyond, 0, u64::MAX]).collect();
            let selected = |keep: &dyn Fn(u64) -> bool, among: Option<&RoaringBitmap>| -> Vec<u32> {
                (0u32..).zip(&values)
                    .filter(|(member, value)| value.is_some_and(keep) && among.is_none_or(|a| a.contains(*member)))
                    .map(|(member, _)| member)
                    .collect()
            };
            for &probe in &probes {
                for op in CompareOp::ALL {
                    let keep = |value: u64| naive(value, op, probe);
                    prop_assert_eq!(index.compare(op, probe).iter().collect::<Vec<_>>(), selected(&keep, None));
                    let expected = selected(&keep, Some(&candidates));
                    prop_assert_eq!(index.compare_among(op, probe, &candidates).iter().collect::<Vec<_>>(), expected.clone());
                    let owned = Cow::Owned(&candidates & index.existence());
                    prop_assert_eq!(index.compare_in(op, probe, owned).iter().collect::<Vec<_>>(), expected.clone());
                }
                for &high in &probes {
                    let keep = |value: u64| probe <= value && value <= high;
                    prop_assert_eq!(index.between(probe, high).iter().collect::<Vec<_>>(), selected(&keep, None));
                    let expected = selected(&keep, Some(&candidates));
                    prop_assert_eq!(index.between_among(probe, high, &candidates).iter().collect::<Vec<_>>(), expected.clone());
                    let owned = Cow::Owned(&candidates & index.existence());
                    prop_assert_eq!(index.between_in(probe, high, owned).iter().collect::<Vec<_>>(), expected.clone());
                }
            }
        }
    }

    #[test]
    fn between_is_inclusive_and_empty_when_reversed() {
        let index = index_of(&[Some(10), Some(20), Some(30), None, Some(0)]);
        assert_eq!(index.between(10, 20).iter().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(index.between(0, u64::MAX).iter().collect::<Vec<_>>(), [0, 1, 2, 4]);
        assert!(index.between(21, 20).is_empty());
    }
}
