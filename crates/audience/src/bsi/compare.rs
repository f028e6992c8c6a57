//! Comparisons over a [`BitSlicedIndex`]: which members' values satisfy `<op> value` or lie in a
//! range, in full or among candidates.
//!
//! Every comparison narrows one set of candidates, the members with a value: the existence
//! bitmap itself (borrowed, so the first step builds its result straight from it) or a plan's
//! own bitmap, narrowed in place ([`BitSlicedIndex::retain_matching`]), so an `AND`'s result is
//! never copied to be compared. With [bins](super::bins), two cumulative bitmaps settle every
//! candidate outside the probe's bin and only that bin's members walk the slices.

use std::borrow::Cow;

use roaring::RoaringBitmap;

use super::bins::Bin;
use super::{BitSlicedIndex, CompareOp, bit_width};
use crate::narrow::{Members, intersect, nobody, subtract};

/// A restricted comparison pays for intersecting each slice with the candidates; without bins it
/// only wins when the candidates are sparse (mostly roaring array containers). Denser candidates
/// are compared in full, then intersected once.
const SPARSE_CANDIDATES: u64 = 16;

impl BitSlicedIndex {
    /// The members whose value satisfies `value_of_member <op> value`.
    pub fn compare(&self, op: CompareOp, value: u64) -> RoaringBitmap {
        self.compare_in(op, value, Cow::Borrowed(&self.existence)).into_owned()
    }

    /// The members of `among` whose value satisfies `value_of_member <op> value`: the same as
    /// `compare(op, value) & among`, cheaper when `among` is small because every step of the
    /// comparison then works on subsets of `among`.
    pub fn compare_among(&self, op: CompareOp, value: u64, among: &RoaringBitmap) -> RoaringBitmap {
        let mut members = Cow::Borrowed(among);
        self.retain_matching(op, value, &mut members);
        members.into_owned()
    }

    /// Narrows `members` to those whose value satisfies `value_of_member <op> value`, in place
    /// when they are owned.
    pub fn retain_matching<'a>(&'a self, op: CompareOp, value: u64, members: &mut Members<'a>) {
        self.restrict(members, |index, within| index.compare_in(op, value, within), |index| index.compare(op, value));
    }

    /// The members whose value lies in `low..=high` (none when `low > high`).
    pub fn between(&self, low: u64, high: u64) -> RoaringBitmap {
        self.between_in(low, high, Cow::Borrowed(&self.existence)).into_owned()
    }

    /// The members of `among` whose value lies in `low..=high`: `between(low, high) & among`.
    pub fn between_among(&self, low: u64, high: u64, among: &RoaringBitmap) -> RoaringBitmap {
        let mut members = Cow::Borrowed(among);
        self.retain_between(low, high, &mut members);
        members.into_owned()
    }

    /// Narrows `members` to those whose value lies in `low..=high`, in place when they are owned.
    pub fn retain_between<'a>(&'a self, low: u64, high: u64, members: &mut Members<'a>) {
        self.restrict(members, |index, within| index.between_in(low, high, within), |index| index.between(low, high));
    }

    /// Narrows `members` by a comparison: run among them (first keeping those with a value) when
    /// the bins settle most of them or they are few, else `in_full` intersected with them.
    fn restrict<'a>(
        &'a self,
        members: &mut Members<'a>,
        among: impl FnOnce(&'a Self, Members<'a>) -> Members<'a>,
        in_full: impl FnOnce(&Self) -> RoaringBitmap,
    ) {
        if members.is_empty() {
            return;
        }
        if self.bins.is_empty() && members.len().saturating_mul(SPARSE_CANDIDATES) >= self.existence.len() {
            intersect(members, &in_full(self));
            return;
        }
        self.keep_with_value(members);
        *members = among(self, std::mem::take(members));
    }

    /// Narrows `members` to those with a value. A numeric field usually covers one run of
    /// ordinals (every member has points): then only members outside the run go, and members
    /// inside it are left untouched, not intersected.
    fn keep_with_value(&self, members: &mut Members<'_>) {
        let (Some(first), Some(last)) = (self.existence.min(), self.existence.max()) else {
            *members = nobody();
            return;
        };
        if self.existence.len() != u64::from(last - first) + 1 {
            intersect(members, &self.existence);
            return;
        }
        let outside_below = members.min().is_some_and(|min| min < first);
        let outside_above = members.max().is_some_and(|max| max > last);
        if outside_below || outside_above {
            let members = members.to_mut();
            members.remove_range(..first);
            members.remove_range((std::ops::Bound::Excluded(last), std::ops::Bound::Unbounded));
        }
    }

    /// Every comparison from two walks, `greater_than` and `equal_to`, among `candidates` (members
    /// with a value).
    pub(super) fn compare_in<'a>(&'a self, op: CompareOp, value: u64, candidates: Members<'a>) -> Members<'a> {
        match op {
            CompareOp::Gt => self.greater_than(value, candidates),
            CompareOp::Ge => match value.checked_sub(1) {
                Some(below) => self.greater_than(below, candidates),
                None => candidates,
            },
            CompareOp::Le => self.at_most(value, candidates),
            CompareOp::Lt => match value.checked_sub(1) {
                Some(below) => self.at_most(below, candidates),
                None => nobody(),
            },
            CompareOp::Eq => self.equal_to(value, candidates),
            CompareOp::Ne => {
                let mut other = candidates;
                let equal = self.equal_to(value, Cow::Borrowed(other.as_ref())).into_owned();
                subtract(&mut other, &equal);
                other
            }
        }
    }

    /// The `candidates` whose value lies in `low..=high`.
    pub(super) fn between_in<'a>(&'a self, low: u64, high: u64, candidates: Members<'a>) -> Members<'a> {
        if low > high {
            return nobody();
        }
        let at_least = self.compare_in(CompareOp::Ge, low, candidates);
        self.at_most(high, at_least)
    }

    /// The `candidates` whose value is greater than `value`. With the bins: the candidates at
    /// most the largest boundary `<= value` are not greater, those above the next boundary are;
    /// only the probe's bin walks the slices.
    fn greater_than<'a>(&'a self, value: u64, mut candidates: Members<'a>) -> Members<'a> {
        if bit_width(value) > self.slices.len() {
            // The probe has a set bit above every stored value's highest bit.
            return nobody();
        }
        let Some(above_value) = value.checked_add(1) else { return nobody() };
        if self.bins.is_empty() {
            return Cow::Owned(self.greater_by_slices(value, candidates));
        }
        let Bin { below, above } = self.bins.containing(above_value);
        if let Some((boundary, at_most)) = below {
            subtract(&mut candidates, at_most);
            if boundary == value {
                return candidates;
            }
        }
        if candidates.is_empty() {
            return candidates;
        }
        let low = below.map_or(0, |(boundary, _)| boundary + 1);
        let Some((high, at_most)) = above else {
            return Cow::Owned(self.greater_within(value, &candidates, low, u64::MAX));
        };
        // The bin's members are few (about one in `BINS`): taking them out of the candidates
        // and putting the greater ones back touches only them.
        let in_bin = candidates.as_ref() & at_most;
        subtract(&mut candidates, &in_bin);
        let mut greater = candidates.into_owned();
        greater |= self.greater_within(value, &in_bin, low, high);
        Cow::Owned(greater)
    }

    /// The `candidates` whose value is at most `value`: the complement of `greater_than` among
    /// them, with the bins settling every candidate outside the probe's bin.
    fn at_most<'a>(&'a self, value: u64, mut candidates: Members<'a>) -> Members<'a> {
        if candidates.is_empty() || bit_width(value) > self.slices.len() {
            // The probe has a set bit above every stored value's highest bit: all are smaller.
            return candidates;
        }
        let bin =
            value.checked_add(1).filter(|_| !self.bins.is_empty()).map(|above_value| self.bins.containing(above_value));
        let Some(Bin { below, above }) = bin else {
            let greater = self.greater_than(value, Cow::Borrowed(candidates.as_ref())).into_owned();
            subtract(&mut candidates, &greater);
            return candidates;
        };
        if let Some((boundary, at_most)) = below
            && boundary == value
        {
            intersect(&mut candidates, at_most);
            return candidates;
        }
        let high = match above {
            Some((boundary, at_most)) => {
                intersect(&mut candidates, at_most);
                boundary
            }
            None => u64::MAX,
        };
        let greater = match below {
            Some((boundary, at_most)) => {
                let in_bin = candidates.as_ref() - at_most;
                self.greater_within(value, &in_bin, boundary + 1, high)
            }
            None => self.greater_within(value, &candidates, 0, high),
        };
        if !greater.is_empty() {
            subtract(&mut candidates, &greater);
        }
        candidates
    }

    /// `greater_than` over the slices alone. Every member with a value as the candidates: one
    /// bitmap operation per slice, in place, from the least significant bit up (range
    /// evaluation over the base-2 components, Chan & Ioannidis; O'Neil's walk needs three
    /// operations and two new bitmaps per slice). After slice `i`, `greater` holds the members
    /// whose low `i + 1` bits exceed the probe's: where the probe's bit is 0, a member's 1 makes
    /// it greater whatever the lower bits say (`greater |= slice`); where it is 1, only a
    /// member's 1 keeps it greater (`greater &= slice`). Fewer candidates: [`Self::greater_within`].
    fn greater_by_slices(&self, value: u64, candidates: Members<'_>) -> RoaringBitmap {
        if !std::ptr::eq(candidates.as_ref(), &self.existence) {
            return self.greater_within(value, &candidates, 0, u64::MAX);
        }
        // `None` is nobody yet: the probe's trailing ones intersect nothing.
        let mut greater: Option<RoaringBitmap> = None;
        for (bit, slice) in self.slices.iter().enumerate() {
            match (value >> bit & 1 == 1, greater.as_mut()) {
                (true, Some(greater)) => *greater &= slice,
                (true, None) => {}
                (false, Some(greater)) => *greater |= slice,
                (false, None) => greater = Some(slice.clone()),
            }
        }
        greater.unwrap_or_default()
    }

    /// The `candidates` (members with a value, all in `low..=high`, as is the probe) whose value
    /// is greater than `value`, from the most significant bit where `low` and `high` differ down
    /// (the bits above are the same for every candidate and the probe). At each bit the
    /// undecided members with a 1 there are greater when the probe has a 0, and those with a 0
    /// are not when it has a 1: each step decides about half of them, so the work shrinks with
    /// the members left instead of every slice meeting every candidate.
    fn greater_within(&self, value: u64, candidates: &RoaringBitmap, low: u64, high: u64) -> RoaringBitmap {
        let mut undecided = Cow::Borrowed(candidates);
        let mut greater = RoaringBitmap::new();
        for (bit, slice) in self.slices.iter().enumerate().take(bit_width(low ^ high)).rev() {
            if undecided.is_empty() {
                break;
            }
            let ones = undecided.as_ref() & slice;
            if value >> bit & 1 == 1 {
                undecided = Cow::Owned(ones);
            } else {
                subtract(&mut undecided, &ones);
                greater |= ones;
            }
        }
        greater
    }

    /// The `candidates` whose value is `value`. With the bins only the members of `value`'s bin
    /// walk the slices, and none when the bin holds `value` alone.
    fn equal_to<'a>(&'a self, value: u64, mut candidates: Members<'a>) -> Members<'a> {
        if bit_width(value) > self.slices.len() {
            return nobody();
        }
        if self.bins.is_empty() {
            return Cow::Owned(self.equal_by_slices(value, candidates));
        }
        let Bin { below, above } = self.bins.containing(value);
        if let Some((_, at_most)) = above {
            intersect(&mut candidates, at_most);
        }
        if let Some((_, at_most)) = below {
            subtract(&mut candidates, at_most);
        }
        let alone = above.is_some_and(|(boundary, _)| boundary == value)
            && below.map_or(value == 0, |(boundary, _)| boundary + 1 == value);
        if alone || candidates.is_empty() { candidates } else { Cow::Owned(self.equal_by_slices(value, candidates)) }
    }

    /// `equal_to` over the slices alone: intersect the slices of its 1 bits, then take away
    /// those of its 0 bits, in place.
    fn equal_by_slices(&self, value: u64, candidates: Members<'_>) -> RoaringBitmap {
        let has_bit = |bit: &usize| value >> bit & 1 == 1;
        let bits = 0..self.slices.len();
        let mut ones = bits.clone().filter(has_bit).map(|bit| &self.slices[bit]);
        let zeros = bits.filter(|bit| !has_bit(bit)).map(|bit| &self.slices[bit]);
        let mut equal = candidates;
        if let Some(first) = ones.next() {
            intersect(&mut equal, first);
        }
        let mut equal = equal.into_owned();
        for slice in ones {
            equal &= slice;
        }
        for slice in zeros {
            if equal.is_empty() {
                break;
            }
            equal -= slice;
        }
        equal
    }
}
