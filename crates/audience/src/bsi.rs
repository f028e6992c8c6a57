//! Bit-sliced index (O'Neil & Quass) for non-negative numeric attributes.
//!
//! A value is stored as one bitmap per binary digit plus an existence bitmap. Every comparison is
//! answered by one pass over the slices from the most significant bit down (at most 64 steps of
//! bitmap algebra), whatever the number of members. Members without a value match no comparison,
//! `!=` included.

use std::fmt;

use roaring::RoaringBitmap;

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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BitSlicedIndex {
    existence: RoaringBitmap,
    /// `slices[i]` holds the members whose value has bit `i` set.
    slices: Vec<RoaringBitmap>,
}

/// The members with a value, split by how their value compares with a probe.
struct Partition {
    less: RoaringBitmap,
    equal: RoaringBitmap,
    greater: RoaringBitmap,
}

impl BitSlicedIndex {
    /// Sets `member`'s value, replacing any previous one.
    pub fn set(&mut self, member: u32, value: u64) {
        self.clear(member);
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

    /// Builds the index from `(member, value)` pairs in strictly ascending member order, by
    /// appending to each slice (a bulk load); `None` when the members are not strictly ascending.
    pub fn from_sorted(pairs: impl IntoIterator<Item = (u32, u64)>) -> Option<BitSlicedIndex> {
        let mut index = BitSlicedIndex::default();
        for (member, value) in pairs {
            if index.existence.try_push(member).is_err() {
                return None;
            }
            let width = bit_width(value);
            if index.slices.len() < width {
                index.slices.resize_with(width, RoaringBitmap::new);
            }
            for (bit, slice) in index.slices.iter_mut().enumerate().take(width) {
                if value >> bit & 1 == 1 {
                    let _appended = slice.try_push(member);
                }
            }
        }
        Some(index)
    }

    /// Removes `member`'s value; returns whether it had one.
    pub fn clear(&mut self, member: u32) -> bool {
        if !self.existence.remove(member) {
            return false;
        }
        for slice in &mut self.slices {
            slice.remove(member);
        }
        true
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

    /// The members whose value satisfies `value_of_member <op> value`.
    pub fn compare(&self, op: CompareOp, value: u64) -> RoaringBitmap {
        let Partition { less, equal, greater } = self.partition(value);
        match op {
            CompareOp::Eq => equal,
            CompareOp::Ne => less | greater,
            CompareOp::Lt => less,
            CompareOp::Le => less | equal,
            CompareOp::Gt => greater,
            CompareOp::Ge => greater | equal,
        }
    }

    /// The members whose value lies in `low..=high` (none when `low > high`).
    pub fn between(&self, low: u64, high: u64) -> RoaringBitmap {
        if low > high {
            return RoaringBitmap::new();
        }
        self.compare(CompareOp::Ge, low) & self.compare(CompareOp::Le, high)
    }

    fn partition(&self, value: u64) -> Partition {
        if bit_width(value) > self.slices.len() {
            // The probe has a set bit above every stored value's highest bit.
            let nobody = RoaringBitmap::new();
            return Partition { less: self.existence.clone(), equal: nobody.clone(), greater: nobody };
        }
        let mut less = RoaringBitmap::new();
        let mut greater = RoaringBitmap::new();
        let mut equal = self.existence.clone();
        for (bit, slice) in self.slices.iter().enumerate().rev() {
            if value >> bit & 1 == 1 {
                less |= &equal - slice;
                equal &= slice;
            } else {
                greater |= &equal & slice;
                equal -= slice;
            }
        }
        Partition { less, equal, greater }
    }
}

/// The number of bits needed to write `value` (0 for 0).
fn bit_width(value: u64) -> usize {
    (u64::BITS - value.leading_zeros()) as usize
}

#[cfg(test)]
mod tests {
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

    fn check(values: &[Option<u64>], op: CompareOp, probe: u64, expected: &[u32]) {
        let actual: Vec<u32> = index_of(values).compare(op, probe).iter().collect();
        assert_eq!(actual, expected, "{op} {probe} over {values:?}");
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

    #[test]
    fn between_is_inclusive_and_empty_when_reversed() {
        let index = index_of(&[Some(10), Some(20), Some(30), None, Some(0)]);
        assert_eq!(index.between(10, 20).iter().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(index.between(0, u64::MAX).iter().collect::<Vec<_>>(), [0, 1, 2, 4]);
        assert!(index.between(21, 20).is_empty());
    }
}
