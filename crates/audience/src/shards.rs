//! An [`AudienceIndex`] cut by ordinal range into shards, each evaluated on its own thread.
//!
//! Counting a segment over tens of millions of members is bitmap algebra whose cost grows with
//! the members, one core streaming every bitmap through its caches. Cut at whole roaring
//! containers (multiples of 2^16 ordinals), every shard is a full index over its range, so an
//! expression means the same on each: counts are summed, members concatenated in ordinal order,
//! and the cores share the work. The cut copies each bitmap once, when the shards are made;
//! queries never copy to cut.

use std::thread;

use roaring::RoaringBitmap;

use crate::eval;
use crate::expr::Expr;
use crate::index::AudienceIndex;

/// Shards hold whole roaring containers: a cut inside one would split it into two.
const CONTAINER: u32 = 1 << 16;

/// An index cut into consecutive ordinal ranges, lowest first.
#[derive(Debug, Clone)]
pub struct Shards {
    shards: Vec<AudienceIndex>,
}

impl Default for Shards {
    fn default() -> Self {
        Shards { shards: vec![AudienceIndex::default()] }
    }
}

impl Shards {
    /// Cuts `index` into at most `count` shards of about as many live members each (fewer when
    /// the members span fewer containers); the last shard's range is open, so members beyond
    /// the last ordinal belong to it.
    pub fn new(mut index: AudienceIndex, count: usize) -> Shards {
        let universe = index.universe();
        let live = universe.len();
        let count = count.max(1) as u64;
        let mut cuts: Vec<u32> = (1..count)
            .filter_map(|i| universe.select(u32::try_from(live * i / count).ok()?))
            .map(|ordinal| ordinal / CONTAINER * CONTAINER)
            .filter(|&cut| cut > 0)
            .collect();
        cuts.dedup();
        let mut shards: Vec<AudienceIndex> = Vec::with_capacity(cuts.len() + 1);
        // From the highest cut down, so each cut moves only the members above it.
        for &cut in cuts.iter().rev() {
            shards.push(index.split_off(cut));
        }
        shards.push(index);
        shards.reverse();
        Shards { shards }
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
            // Disjoint and above every member so far: roaring appends the containers.
            members |= part;
        }
        members
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

    /// Members every 1,000th ordinal in `0..ordinals`, tagged `even` when even, with their
    /// ordinal as `points`, binned.
    fn index_of(ordinals: u32) -> AudienceIndex {
        let mut index = AudienceIndex::default();
        let members: Vec<u32> = (0..ordinals).step_by(1_000).collect();
        index.set_tag_members("even", members.iter().copied().filter(|m| m % 2 == 0).collect());
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
    }

    #[test]
    fn few_containers_make_fewer_shards_and_an_empty_index_one() {
        let small = Shards::new(index_of(CONTAINER), 4);
        assert_eq!(small.shards().len(), 1, "one container cannot be cut");
        let empty = Shards::new(AudienceIndex::default(), 4);
        assert_eq!(empty.shards().len(), 1);
        let everyone = Expr::Not(Box::new(Expr::Tag("x".to_owned())));
        assert_eq!(empty.count(&everyone), 0);
        assert!(empty.evaluate(&everyone).is_empty());
        assert_eq!(Shards::default().count(&everyone), 0);
    }
}
