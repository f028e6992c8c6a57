//! The in-memory audience index over dense member ordinals (`u32`).
//!
//! Every member attribute lives in a bitmap keyed by what it says: one per tag, one per value of a
//! categorical field, and a [`BitSlicedIndex`] per numeric field. Setting anything on a member
//! makes it live (a member of the universe); [`AudienceIndex::remove_member`] forgets it entirely,
//! so every bitmap stays a subset of the universe.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use crate::bsi::BitSlicedIndex;
use crate::narrow::split_off;
use crate::schema::{FieldKind, Schema};

/// The members' values of one categorical field; a member has at most one value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoricalField {
    present: RoaringBitmap,
    values: BTreeMap<String, RoaringBitmap>,
}

impl CategoricalField {
    /// Builds the field from each value's members (a bulk load); `None` when a member has more
    /// than one value. Values nobody has are left out.
    pub fn from_members(values: impl IntoIterator<Item = (String, RoaringBitmap)>) -> Option<CategoricalField> {
        let mut field = CategoricalField::default();
        let mut total = 0;
        for (value, members) in values {
            if members.is_empty() {
                continue;
            }
            total += members.len();
            field.present |= &members;
            if field.values.insert(value, members).is_some() {
                return None;
            }
        }
        (field.present.len() == total).then_some(field)
    }

    /// Moves the members from `at` on into a field of their own (one shard's); values left
    /// with nobody are dropped on either side.
    pub fn split_off(&mut self, at: u32) -> CategoricalField {
        let mut from_at = CategoricalField { present: split_off(&mut self.present, at), values: BTreeMap::new() };
        for (value, members) in &mut self.values {
            let moved = split_off(members, at);
            if !moved.is_empty() {
                from_at.values.insert(value.clone(), moved);
            }
        }
        self.values.retain(|_, members| !members.is_empty());
        from_at
    }

    /// Sets `member`'s value, replacing any previous one.
    pub fn set(&mut self, member: u32, value: &str) {
        if self.get(member) == Some(value) {
            return;
        }
        self.clear(member);
        self.present.insert(member);
        self.values.entry(value.to_owned()).or_default().insert(member);
    }

    /// Removes `member`'s value; returns whether it had one.
    pub fn clear(&mut self, member: u32) -> bool {
        if !self.present.remove(member) {
            return false;
        }
        let old = self.values.iter().find(|(_, members)| members.contains(member)).map(|(value, _)| value.clone());
        if let Some(old) = old
            && let Some(members) = self.values.get_mut(&old)
        {
            members.remove(member);
            if members.is_empty() {
                self.values.remove(&old);
            }
        }
        true
    }

    /// `member`'s value, if it has one.
    pub fn get(&self, member: u32) -> Option<&str> {
        if !self.present.contains(member) {
            return None;
        }
        self.values.iter().find(|(_, members)| members.contains(member)).map(|(value, _)| value.as_str())
    }

    /// The members whose value is `value`.
    pub fn members_with(&self, value: &str) -> Option<&RoaringBitmap> {
        self.values.get(value)
    }

    /// Every value with its members, in value order.
    pub fn values(&self) -> impl Iterator<Item = (&str, &RoaringBitmap)> {
        self.values.iter().map(|(value, members)| (value.as_str(), members))
    }

    /// The members that have a value.
    pub fn present(&self) -> &RoaringBitmap {
        &self.present
    }
}

/// Up to how many members [`AudienceIndex::remove_tags_of`] takes off each tag one by one: a
/// difference walks each tag's containers, about what a hundred single removals cost.
const FEW_TO_REMOVE: u64 = 64;

/// Tags, categorical and numeric attributes of all live members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudienceIndex {
    universe: RoaringBitmap,
    tags: BTreeMap<String, RoaringBitmap>,
    categorical: BTreeMap<String, CategoricalField>,
    numeric: BTreeMap<String, BitSlicedIndex>,
}

impl AudienceIndex {
    /// Makes `member` live, with no tags or attributes yet.
    pub fn insert_member(&mut self, member: u32) {
        self.universe.insert(member);
    }

    /// Forgets `member` and everything about it; returns whether it was live.
    pub fn remove_member(&mut self, member: u32) -> bool {
        for members in self.tags.values_mut() {
            members.remove(member);
        }
        for field in self.categorical.values_mut() {
            field.clear(member);
        }
        for field in self.numeric.values_mut() {
            field.clear(member);
        }
        self.universe.remove(member)
    }

    /// Forgets `members` and everything about them, as [`remove_member`](Self::remove_member)
    /// would one by one, their tags as [`remove_tags_of`](Self::remove_tags_of) does.
    pub fn remove_members(&mut self, members: &RoaringBitmap) {
        self.remove_tags_of(members);
        for member in members.iter().filter(|&m| self.universe.contains(m)) {
            for field in self.categorical.values_mut() {
                field.clear(member);
            }
            for field in self.numeric.values_mut() {
                field.clear(member);
            }
        }
        self.universe -= members;
    }

    /// Takes every tag off `members` (they stay live, with their attributes). Past a few
    /// members each tag loses them in one bitmap difference instead of a look-up per member:
    /// with thousands of tags, reloading a night's changed members one by one would cost
    /// milliseconds each.
    pub fn remove_tags_of(&mut self, members: &RoaringBitmap) {
        if members.len() <= FEW_TO_REMOVE {
            for tagged in self.tags.values_mut() {
                for member in members {
                    tagged.remove(member);
                }
            }
        } else {
            for tagged in self.tags.values_mut() {
                *tagged -= members;
            }
        }
    }

    pub fn add_tag(&mut self, member: u32, tag: &str) {
        self.universe.insert(member);
        // The name is copied only for a tag not known yet, not for every member added.
        match self.tags.get_mut(tag) {
            Some(members) => {
                members.insert(member);
            }
            None => {
                self.tags.insert(tag.to_owned(), RoaringBitmap::from_iter([member]));
            }
        }
    }

    /// Makes `tag` known, carried by nobody yet (a known tag is left as it is).
    pub fn declare_tag(&mut self, tag: &str) {
        if !self.tags.contains_key(tag) {
            self.tags.insert(tag.to_owned(), RoaringBitmap::new());
        }
    }

    /// Every known tag, in name order.
    pub fn tag_names(&self) -> impl Iterator<Item = &str> {
        self.tags.keys().map(String::as_str)
    }

    /// Removes `tag` from `member`; the tag stays known even when no member carries it.
    pub fn remove_tag(&mut self, member: u32, tag: &str) -> bool {
        self.tags.get_mut(tag).is_some_and(|members| members.remove(member))
    }

    /// Sets `member`'s value of the categorical `field`, replacing any previous one.
    pub fn set_category(&mut self, member: u32, field: &str, value: &str) {
        self.universe.insert(member);
        self.categorical.entry(field.to_owned()).or_default().set(member, value);
    }

    pub fn clear_category(&mut self, member: u32, field: &str) -> bool {
        self.categorical.get_mut(field).is_some_and(|values| values.clear(member))
    }

    /// Sets `member`'s value of the numeric `field`, replacing any previous one.
    pub fn set_number(&mut self, member: u32, field: &str, value: u64) {
        self.universe.insert(member);
        self.numeric.entry(field.to_owned()).or_default().set(member, value);
    }

    pub fn clear_number(&mut self, member: u32, field: &str) -> bool {
        self.numeric.get_mut(field).is_some_and(|values| values.clear(member))
    }

    /// Replaces the members carrying `tag` (a bulk load); they become live.
    pub fn set_tag_members(&mut self, tag: &str, members: RoaringBitmap) {
        self.universe |= &members;
        self.tags.insert(tag.to_owned(), members);
    }

    /// Replaces every value of the categorical `field` (a bulk load); its members become live.
    pub fn set_categorical_field(&mut self, field: &str, values: CategoricalField) {
        self.universe |= values.present();
        self.categorical.insert(field.to_owned(), values);
    }

    /// Replaces every value of the numeric `field` (a bulk load); its members become live.
    pub fn set_numeric_field(&mut self, field: &str, values: BitSlicedIndex) {
        self.universe |= values.existence();
        self.numeric.insert(field.to_owned(), values);
    }

    /// Moves the members from `at` on into an index of their own (one shard's): every tag stays
    /// known on both sides, carried or not, so an expression resolves the same on each.
    pub fn split_off(&mut self, at: u32) -> AudienceIndex {
        AudienceIndex {
            universe: split_off(&mut self.universe, at),
            tags: self.tags.iter_mut().map(|(tag, members)| (tag.clone(), split_off(members, at))).collect(),
            categorical: self.categorical.iter_mut().map(|(name, field)| (name.clone(), field.split_off(at))).collect(),
            numeric: self.numeric.iter_mut().map(|(name, field)| (name.clone(), field.split_off(at))).collect(),
        }
    }

    /// Cuts every numeric field into bins at its current quantiles
    /// ([`BitSlicedIndex::rebin`]): an index filled member by member needs this once to compare
    /// without walking every bit slice; updates afterwards keep the bins current.
    pub fn rebin_numeric(&mut self) {
        self.numeric.values_mut().for_each(BitSlicedIndex::rebin);
    }

    /// The bytes of every tag bitmap in roaring's serialized form: what the tags take in memory,
    /// less the containers' small fixed overheads.
    pub fn tag_bytes(&self) -> u64 {
        self.tags.values().map(|members| members.serialized_size() as u64).sum()
    }

    /// All live members.
    pub fn universe(&self) -> &RoaringBitmap {
        &self.universe
    }

    /// Every tag with its members, in name order.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &RoaringBitmap)> {
        self.tags.iter().map(|(name, members)| (name.as_str(), members))
    }

    /// Every categorical field, in name order.
    pub fn categorical_fields(&self) -> impl Iterator<Item = (&str, &CategoricalField)> {
        self.categorical.iter().map(|(name, field)| (name.as_str(), field))
    }

    pub fn tag(&self, name: &str) -> Option<&RoaringBitmap> {
        self.tags.get(name)
    }

    pub fn categorical(&self, field: &str) -> Option<&CategoricalField> {
        self.categorical.get(field)
    }

    pub fn numeric(&self, field: &str) -> Option<&BitSlicedIndex> {
        self.numeric.get(field)
    }

    /// The tags and fields this index holds, to resolve expressions against.
    pub fn schema(&self) -> Schema {
        let mut schema = Schema::default();
        self.tags.keys().for_each(|tag| schema.add_tag(tag.as_str()));
        self.categorical.keys().for_each(|field| schema.add_field(field.as_str(), FieldKind::Categorical));
        self.numeric.keys().for_each(|field| schema.add_field(field.as_str(), FieldKind::Numeric));
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bsi::CompareOp;

    #[test]
    fn setters_replace_and_remove_member_forgets_everything() {
        let mut index = AudienceIndex::default();
        index.add_tag(7, "爱买生鲜");
        index.set_category(7, "lifecycle", "growth");
        index.set_category(7, "lifecycle", "maturity");
        index.set_number(7, "points", 500);
        index.set_number(7, "points", 20);
        let lifecycle = index.categorical("lifecycle");
        assert_eq!(lifecycle.and_then(|field| field.get(7)), Some("maturity"));
        assert!(lifecycle.is_some_and(|field| field.members_with("growth").is_none()));
        assert_eq!(index.numeric("points").and_then(|field| field.get(7)), Some(20));

        assert!(index.remove_member(7));
        assert!(index.universe().is_empty());
        assert!(index.tag("爱买生鲜").is_some_and(RoaringBitmap::is_empty));
        assert_eq!(index.categorical("lifecycle").and_then(|field| field.get(7)), None);
        assert_eq!(index.numeric("points").and_then(|field| field.get(7)), None);
        assert!(index.schema().has_tag("爱买生鲜"));
        assert_eq!(index.schema().field_kind("points"), Some(FieldKind::Numeric));
    }

    #[test]
    fn removing_members_at_once_equals_removing_them_one_by_one() {
        let mut index = AudienceIndex::default();
        for member in (0..200_000).step_by(7) {
            index.add_tag(member, if member % 2 == 0 { "even" } else { "odd" });
            index.set_category(member, "tier", if member % 3 == 0 { "gold" } else { "silver" });
            index.set_number(member, "points", u64::from(member % 1_000));
        }
        index.declare_tag("nobody");
        index.rebin_numeric();
        // A few members, and many: one by one, and in differences; some not members at all.
        for removed in [vec![7, 14, 15], (0..150_000).step_by(3).collect::<Vec<u32>>()] {
            let (mut at_once, mut one_by_one) = (index.clone(), index.clone());
            at_once.remove_members(&removed.iter().copied().collect());
            for &member in &removed {
                one_by_one.remove_member(member);
            }
            assert_eq!(at_once, one_by_one, "{} removed", removed.len());
            let points = |index: &AudienceIndex| {
                let numbers = index.numeric("points").expect("points");
                CompareOp::ALL.map(|op| numbers.compare(op, 500).len())
            };
            assert_eq!(points(&at_once), points(&one_by_one), "the bins follow");
        }
    }

    #[test]
    fn taking_tags_off_members_keeps_them_and_their_attributes() {
        let mut index = AudienceIndex::default();
        for member in 0..300 {
            index.add_tag(member, "a");
            index.set_number(member, "points", u64::from(member));
        }
        for removed in [vec![1, 2], (0..300).step_by(2).collect::<Vec<u32>>()] {
            let mut taken = index.clone();
            taken.remove_tags_of(&removed.iter().copied().collect());
            let left: RoaringBitmap = (0..300).filter(|m| !removed.contains(m)).collect();
            assert_eq!(taken.tag("a"), Some(&left), "{} taken off", removed.len());
            assert_eq!(taken.universe(), index.universe());
            assert_eq!(taken.numeric("points"), index.numeric("points"));
        }
    }

    #[test]
    fn bulk_loads_equal_member_by_member_loads() {
        let mut one_by_one = AudienceIndex::default();
        one_by_one.add_tag(1, "a");
        one_by_one.add_tag(5, "a");
        one_by_one.set_category(2, "tier", "gold");
        one_by_one.set_category(5, "tier", "silver");
        one_by_one.set_number(3, "points", 9);
        let mut bulk = AudienceIndex::default();
        bulk.set_tag_members("a", [1, 5].into_iter().collect());
        let tiers = [("gold".to_owned(), [2].into_iter().collect()), ("silver".to_owned(), [5].into_iter().collect())];
        bulk.set_categorical_field("tier", CategoricalField::from_members(tiers).unwrap());
        bulk.set_numeric_field("points", BitSlicedIndex::from_sorted([(3, 9)]).unwrap());
        assert_eq!(bulk, one_by_one);
        assert!(bulk.tag_bytes() > 0);

        let twice = [("gold".to_owned(), [2].into_iter().collect()), ("silver".to_owned(), [2].into_iter().collect())];
        assert_eq!(CategoricalField::from_members(twice), None, "a member with two values");
        let repeated = [("gold".to_owned(), [2].into_iter().collect()), ("gold".to_owned(), [3].into_iter().collect())];
        assert_eq!(CategoricalField::from_members(repeated), None, "a value given twice");
    }
}
