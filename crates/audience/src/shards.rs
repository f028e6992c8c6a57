//! An [`AudienceIndex`] cut by ordinal range into shards, each evaluated on its own thread.
//!
//! Counting a segment over tens of millions of members is bitmap algebra whose cost grows with
//! the members, one core streaming every bitmap through its caches. Cut by ordinal range (at
//! whole roaring containers, multiples of 2^16 ordinals, unless the index is too small to),
//! every shard is a full index over its range, so an expression means the same on each: counts
//! are summed, members concatenated in ordinal order, and the cores share the work. A
//! [lookalike](crate::lookalike) search counts each feature in every shard, weighs the features
//! once from the sums, then ranks each shard's members with those weights and keeps the best of
//! the shards' best. The cut copies each bitmap once, when the shards are made (the index is
//! moved into its shards, never kept beside them); queries never copy to cut.

use std::thread;

use roaring::RoaringBitmap;

use crate::eval;
use crate::expr::Expr;
use crate::index::AudienceIndex;
use crate::lookalike::{self, Lookalike, Tally};

/// Shards hold whole roaring containers: a cut inside one would split it into two.
const CONTAINER: u32 = 1 << 16;

/// An index cut into consecutive ordinal ranges, lowest first.
#[derive(Debug, Clone)]
pub struct Shards {
    shards: Vec<AudienceIndex>,
    /// The first ordinal of each shard's range (the first is 0; the last range is open).
    starts: Vec<u32>,
}

impl Default for Shards {
    fn default() -> Self {
        Shards { shards: vec![AudienceIndex::default()], starts: vec![0] }
    }
}

impl Shards {
    /// Cuts `index` into at most `count` shards of about as many live members each (fewer when
    /// there are fewer members); the last shard's range is open, so members beyond the last
    /// ordinal belong to it. Each cut falls at the start of the container holding the member it
    /// aims at, unless that would leave the shard below it empty (a small index): then at the
    /// member itself, splitting that one container between two shards.
    pub fn new(mut index: AudienceIndex, count: usize) -> Shards {
        let universe = index.universe();
        let live = universe.len();
        let count = count.max(1) as u64;
        let mut cuts: Vec<u32> = Vec::new();
        for i in 1..count {
            let Some(member) = u32::try_from(live * i / count).ok().and_then(|rank| universe.select(rank)) else {
                continue;
            };
            let previous = cuts.last().copied().unwrap_or(0);
            let container = member / CONTAINER * CONTAINER;
            let cut = if universe.range_cardinality(previous..container) > 0 { container } else { member };
            if cut > previous && universe.range_cardinality(previous..cut) > 0 {
                cuts.push(cut);
            }
        }
        let mut shards: Vec<AudienceIndex> = Vec::with_capacity(cuts.len() + 1);
        // From the highest cut down, so each cut moves only the members above it.
        for &cut in cuts.iter().rev() {
            shards.push(index.split_off(cut));
        }
        shards.push(index);
        shards.reverse();
        let starts = std::iter::once(0).chain(cuts).collect();
        Shards { shards, starts }
    }

    /// The shard whose range holds `member`, to change that member in place.
    pub fn shard_mut(&mut self, member: u32) -> &mut AudienceIndex {
        let last = self.shards.len() - 1;
        let at = self.starts.partition_point(|&start| start <= member).saturating_sub(1).min(last);
        &mut self.shards[at]
    }

    /// Forgets `members` on whichever shards hold them (see [`AudienceIndex::remove_members`]).
    pub fn remove_members(&mut self, members: &RoaringBitmap) {
        self.on_their_shards(members, AudienceIndex::remove_members);
    }

    /// Takes every tag off `members` on whichever shards hold them (see
    /// [`AudienceIndex::remove_tags_of`]).
    pub fn remove_tags_of(&mut self, members: &RoaringBitmap) {
        self.on_their_shards(members, AudienceIndex::remove_tags_of);
    }

    /// Calls `change` on each shard with the members of `members` in its range.
    fn on_their_shards(&mut self, members: &RoaringBitmap, change: impl Fn(&mut AudienceIndex, &RoaringBitmap)) {
        let ends = self.starts.iter().skip(1).map(|&end| Some(end)).chain([None]);
        for ((shard, &start), end) in self.shards.iter_mut().zip(&self.starts).zip(ends) {
            let mut own = members.clone();
            own.remove_range(..start);
            if let Some(end) = end {
                own.remove_range(end..);
            }
            if !own.is_empty() {
                change(shard, &own);
            }
        }
    }

    /// Makes `tag` known on every shard (an expression naming it resolves on each).
    pub fn declare_tag(&mut self, tag: &str) {
        for shard in &mut self.shards {
            shard.declare_tag(tag);
        }
    }

    /// Each shard, lowest ordinals first.
    pub fn shards(&self) -> &[AudienceIndex] {
        &self.shards
    }

    /// How many members `expr` selects, the shards counted in parallel.
    pub fn count(&self, expr: &Expr) -> u64 {
        self.on_each(|shard| eval::count(expr, shard)).into_iter().sum()
    }

    /// The members `expr` selects, the shards evaluated in parallel.
    pub fn evaluate(&self, expr: &Expr) -> RoaringBitmap {
        let mut members = RoaringBitmap::new();
        for part in self.on_each(|shard| eval::evaluate(expr, shard)) {
            // Disjoint and above every member so far: roaring appends the containers (merging
            // the one container a small index's cut split).
            members |= part;
        }
        members
    }

    /// Every known tag, in name order (every shard knows every tag).
    pub fn tag_names(&self) -> impl Iterator<Item = &str> {
        self.shards.first().into_iter().flat_map(AudienceIndex::tag_names)
    }

    /// How many members carry `tag` (none if it is not known).
    pub fn carriers(&self, tag: &str) -> u64 {
        self.shards.iter().map(|shard| shard.tag(tag).map_or(0, RoaringBitmap::len)).sum()
    }

    /// How many members there are.
    pub fn members(&self) -> u64 {
        self.shards.iter().map(|shard| shard.universe().len()).sum()
    }

    /// The `limit` members most like `seed` (the seed left out), among those `within` selects
    /// (everyone when `None`), best first, ties to the lower ordinal: the same answer as
    /// [`lookalike::lookalike`] over the whole index.
    pub fn lookalike(&self, seed: &RoaringBitmap, within: Option<&Expr>, limit: usize) -> Vec<Lookalike> {
        let sample = lookalike::sample(seed);
        let mut tally = Tally::default();
        for part in self.on_each(|shard| Tally::of(shard, &sample)) {
            tally.add(part);
        }
        let features = tally.weights(sample.len());
        let best_of_each = self.on_each(|shard| {
            let mut pool = match within {
                Some(within) => eval::evaluate(within, shard),
                None => shard.universe().clone(),
            };
            pool -= seed;
            lookalike::rank(shard, &features, &pool, limit)
        });
        lookalike::best(best_of_each.into_iter().flatten().collect(), limit)
    }

    /// `work` on every shard, the first on this thread and the others on one thread each.
    fn on_each<T: Send>(&self, work: impl Fn(&AudienceIndex) -> T + Sync) -> Vec<T> {
        let Some((first, others)) = self.shards.split_first() else { return Vec::new() };
        if others.is_empty() {
            return vec![work(first)];
        }
        thread::scope(|scope| {
            let work = &work;
            let spawned: Vec<_> = others.iter().map(|shard| scope.spawn(move || work(shard))).collect();
            let mut results = vec![work(first)];
            results.extend(
                spawned.into_iter().map(|handle| handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
            );
            results
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bsi::BitSlicedIndex;
    use crate::expr::{Expr, parse};

    /// Members every 1,000th ordinal in `0..ordinals`, every other one tagged `even`, with their
    /// ordinal as `points`, binned.
    fn index_of(ordinals: u32) -> AudienceIndex {
        let mut index = AudienceIndex::default();
        let members: Vec<u32> = (0..ordinals).step_by(1_000).collect();
        index.set_tag_members("even", members.iter().copied().filter(|m| m / 1_000 % 2 == 0).collect());
        index.declare_tag("nobody");
        let points = BitSlicedIndex::from_sorted(members.iter().map(|&m| (m, u64::from(m))));
        index.set_numeric_field("points", points.unwrap_or_default());
        index
    }

    fn expr(source: &str, index: &AudienceIndex) -> Expr {
        parse(source, &index.schema()).unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    #[test]
    fn shards_cut_at_whole_containers_and_agree_with_the_whole_index() {
        let index = index_of(10 * CONTAINER);
        let shards = Shards::new(index.clone(), 3);
        let ranges: Vec<(u32, u32)> = shards
            .shards()
            .iter()
            .map(|shard| (shard.universe().min().unwrap_or(0), shard.universe().max().unwrap_or(0)))
            .collect();
        assert_eq!(shards.shards().len(), 3);
        assert!(ranges.windows(2).all(|pair| pair[0].1 < pair[1].0), "ascending, disjoint: {ranges:?}");
        assert!(ranges[1..].iter().all(|(first, _)| first % CONTAINER < 1_000), "cut at a container: {ranges:?}");
        let sizes: u64 = shards.shards().iter().map(|shard| shard.universe().len()).sum();
        assert_eq!(sizes, index.universe().len());
        for source in ["#even", "not #even", "points > 300000 and #even", "points <= 5000 or #nobody", "#nobody"] {
            let expr = expr(source, &index);
            assert_eq!(shards.evaluate(&expr), eval::evaluate(&expr, &index), "{source}");
            assert_eq!(shards.count(&expr), eval::count(&expr, &index), "{source}");
        }
        assert!(shards.shards().iter().all(|shard| shard.tag("nobody").is_some()), "every tag known on every shard");
        let seed = eval::evaluate(&expr("#even and points < 200000", &index), &index);
        let alike = shards.lookalike(&seed, None, 1_000);
        assert_eq!(alike, crate::lookalike(&index, &seed, index.universe(), 1_000));
        let even = index.tag("even").map_or(0, RoaringBitmap::len);
        assert_eq!(alike.len() as u64, even - seed.len(), "the other even members, from every shard");
        let within = expr("points >= 400000", &index);
        assert_eq!(
            shards.lookalike(&seed, Some(&within), 3),
            crate::lookalike(&index, &seed, &eval::evaluate(&within, &index), 3)
        );
        assert_eq!(shards.members(), index.universe().len());
        assert_eq!(shards.tag_names().collect::<Vec<_>>(), ["even", "nobody"]);
        assert_eq!(shards.carriers("even"), index.tag("even").map_or(0, RoaringBitmap::len));
        assert_eq!((shards.carriers("nobody"), shards.carriers("unknown")), (0, 0));
    }

    #[test]
    fn members_changed_in_place_on_their_shard_agree_with_the_whole_index_changed_alike() {
        let mut whole = index_of(10 * CONTAINER);
        let mut shards = Shards::new(whole.clone(), 3);
        whole.rebin_numeric();
        shards.shards.iter_mut().for_each(AudienceIndex::rebin_numeric);
        shards.declare_tag("new");
        whole.declare_tag("new");
        // Members on every shard, at and around the cuts, and beyond the last member.
        let starts = shards.starts.clone();
        let mut touched: Vec<u32> = starts.iter().flat_map(|&s| [s, s.saturating_sub(1_000), s + 1_000]).collect();
        touched.extend([0, 7_000, 10 * CONTAINER + 5_000]);
        let removed: RoaringBitmap = touched.iter().copied().collect();
        whole.remove_members(&removed);
        shards.remove_members(&removed);
        for (n, &member) in touched.iter().enumerate() {
            for index in [&mut whole, shards.shard_mut(member)] {
                if n % 3 != 0 {
                    index.set_number(member, "points", u64::from(member) / 2 + 7);
                    index.add_tag(member, if n % 2 == 0 { "even" } else { "new" });
                }
            }
        }
        for source in ["#even", "#new", "not #even", "points > 300000 and #even", "points <= 5000 or #new"] {
            let expr = expr(source, &whole);
            assert_eq!(shards.evaluate(&expr), eval::evaluate(&expr, &whole), "{source}");
        }
        assert_eq!(shards.members(), whole.universe().len());
    }

    #[test]
    fn a_small_index_is_cut_inside_its_container_and_an_empty_index_makes_one_shard() {
        let small = index_of(CONTAINER);
        let shards = Shards::new(small.clone(), 4);
        let sizes: Vec<u64> = shards.shards().iter().map(|shard| shard.universe().len()).collect();
        assert_eq!(sizes, [16, 17, 16, 17], "66 members, cut at the members, not at the container");
        for source in ["#even", "not #even", "points > 30000"] {
            let expr = expr(source, &small);
            assert_eq!(shards.evaluate(&expr), eval::evaluate(&expr, &small), "{source}");
        }
        let mut three = AudienceIndex::default();
        [5, 6, 7].into_iter().for_each(|member| three.insert_member(member));
        assert_eq!(Shards::new(three, 5).shards().len(), 3, "no shard without members");
        let empty = Shards::new(AudienceIndex::default(), 4);
        assert_eq!(empty.shards().len(), 1);
        let everyone = Expr::Not(Box::new(Expr::Tag("x".to_owned())));
        assert_eq!(empty.count(&everyone), 0);
        assert!(empty.evaluate(&everyone).is_empty());
        assert_eq!(Shards::default().count(&everyone), 0);
        assert!(empty.lookalike(&RoaringBitmap::new(), None, 5).is_empty());
    }
}
