//! Lookalike audiences (精准获客): given a seed audience, rank the other members by how much they
//! resemble it.
//!
//! Every tag and every value of a categorical field (tier, stage, region, an RFM score…) is a
//! feature. A feature's weight is how much more common it is in the seed than in everyone,
//! `ln((seed share + ε) / (overall share + ε))`, so features the seed shares with everybody weigh
//! nothing and rare features typical of the seed weigh most (a naive-Bayes log-odds score with a
//! small prior). Only features the seed has significantly more often than everyone count (its
//! share at least three standard errors above the overall one): of thousands of tags, a seed
//! picked by stage and region is over-represented in half by chance, and those would rank
//! members by noise (and cost a pass over their members each). A seed too small for any feature
//! to pass (a handful of members) counts its few heaviest instead. A candidate's score is the sum
//! of the weights of the features it has; the answer lists the best candidates with the
//! features that made them similar.
//!
//! Cost: one intersection per feature to weigh it, then one pass over each useful feature's
//! members, never a scan of members by attribute.
//!
//! Over [`Shards`](crate::Shards) the counts behind the weights are [tallied](Tally) per shard
//! and summed, each shard ranks its own members with the weights, and the best of the shards'
//! best are the answer: a member's score adds the same weights in the same order either way.

use std::collections::{BTreeMap, BinaryHeap};

use roaring::RoaringBitmap;

use crate::index::AudienceIndex;

/// The prior added to both shares, so that tiny seeds do not make noise look decisive.
const SMOOTHING: f64 = 0.01;
/// How many standard errors above its share of everyone a feature's share of the seed must be
/// to count: a seed drawn at random from everyone has about one such feature in a thousand.
const SIGNIFICANCE: f64 = 3.0;
/// How many of the heaviest features count when none is significant (a seed of a handful of
/// members, whose shares cannot tell a trait from chance).
const FALLBACK: usize = 16;
/// The most seed members the weights are estimated from ([`sample`]).
const SAMPLE: u64 = 20_000;
/// The most features reported per member.
const REASONS: usize = 3;

/// One feature: a tag (`#name`) or a categorical value (`field=value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub weight: f64,
    key: Key,
}

/// Where a feature's members are, in any index (each shard has its own bitmap of them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Tag(String),
    Value { field: String, value: String },
}

impl Key {
    fn name(&self) -> String {
        match self {
            Key::Tag(tag) => format!("#{tag}"),
            Key::Value { field, value } => format!("{field}={value}"),
        }
    }

    fn members<'i>(&self, index: &'i AudienceIndex) -> Option<&'i RoaringBitmap> {
        match self {
            Key::Tag(tag) => index.tag(tag),
            Key::Value { field, value } => index.categorical(field)?.members_with(value),
        }
    }
}

/// A member ranked by resemblance, with the features that count most.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookalike {
    pub member: u32,
    pub score: f64,
    pub features: Vec<String>,
}

/// How many members have each feature, in the seed and in all, over one index or summed over
/// the shards of one ([`Tally::add`]): what the weights are computed from.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    everyone: u64,
    features: BTreeMap<Key, (u64, u64)>,
}

impl Tally {
    /// The features of `index`, each counted in `seed` (which may hold members of other shards:
    /// only this index's are counted) and overall.
    pub(crate) fn of(index: &AudienceIndex, seed: &RoaringBitmap) -> Tally {
        let mut features = BTreeMap::new();
        let mut count = |key: Key, members: &RoaringBitmap| {
            features.insert(key, (members.intersection_len(seed), members.len()));
        };
        for (tag, members) in index.tags() {
            count(Key::Tag(tag.to_owned()), members);
        }
        for (field, values) in index.categorical_fields() {
            for (value, members) in values.values() {
                count(Key::Value { field: field.to_owned(), value: value.to_owned() }, members);
            }
        }
        Tally { everyone: index.universe().len(), features }
    }

    /// Adds another shard's counts.
    pub(crate) fn add(&mut self, other: Tally) {
        self.everyone += other.everyone;
        for (key, (in_seed, overall)) in other.features {
            let counts = self.features.entry(key).or_default();
            counts.0 += in_seed;
            counts.1 += overall;
        }
    }

    /// The features that set the seed (of `seed_size` members) apart, heaviest first.
    pub(crate) fn weights(self, seed_size: u64) -> Vec<Feature> {
        let everyone = self.everyone.max(1) as f64;
        let seed_size = seed_size.max(1) as f64;
        let mut weighted: Vec<(Feature, bool)> = self
            .features
            .into_iter()
            .filter_map(|(key, (in_seed, overall))| {
                let in_seed = in_seed as f64 / seed_size;
                let overall = overall as f64 / everyone;
                let weight = ((in_seed + SMOOTHING) / (overall + SMOOTHING)).ln();
                let standard_error = (overall * (1.0 - overall) / seed_size).sqrt();
                let significant = in_seed - overall >= SIGNIFICANCE * standard_error;
                (weight > 0.0).then(|| (Feature { name: key.name(), weight, key }, significant))
            })
            .collect();
        weighted.sort_by(|(a, _), (b, _)| b.weight.total_cmp(&a.weight).then_with(|| a.name.cmp(&b.name)));
        if weighted.iter().any(|(_, significant)| *significant) {
            weighted.retain(|(_, significant)| *significant);
        } else {
            weighted.truncate(FALLBACK);
        }
        weighted.into_iter().map(|(feature, _)| feature).collect()
    }
}

/// The weights of the features that set the seed apart, heaviest first.
pub fn weigh(index: &AudienceIndex, seed: &RoaringBitmap) -> Vec<Feature> {
    let sample = sample(seed);
    Tally::of(index, &sample).weights(sample.len())
}

/// The seed members the weights are estimated from: all of a seed of up to [`SAMPLE`], else
/// [`SAMPLE`] of them taken evenly through it (every n-th by ordinal). Counting a feature's
/// members in the seed is an intersection per feature; over a seed of hundreds of thousands
/// it was most of a lookalike's time at 10M members, and a share of a sample of 20,000 is
/// within a percentage point or so of the whole seed's.
pub(crate) fn sample(seed: &RoaringBitmap) -> std::borrow::Cow<'_, RoaringBitmap> {
    let every = seed.len().div_ceil(SAMPLE);
    if every <= 1 {
        return std::borrow::Cow::Borrowed(seed);
    }
    std::borrow::Cow::Owned(seed.iter().step_by(every as usize).collect())
}

/// The `limit` members of `candidates` (the seed left out) most like the seed, best first; ties
/// go to the lower ordinal.
pub fn lookalike(
    index: &AudienceIndex,
    seed: &RoaringBitmap,
    candidates: &RoaringBitmap,
    limit: usize,
) -> Vec<Lookalike> {
    rank(index, &weigh(index, seed), &(candidates - seed), limit)
}

/// The `limit` members of `pool` (members of `index`) that the weighed `features` make most
/// alike, best first; ties go to the lower ordinal. Each member's score adds the weights in the
/// features' order, so the same member scores the same in a shard as in the whole index.
///
/// Members are scored a block of [`BLOCK`] ordinals at a time, in an array that stays in cache:
/// each feature adds its weight for its members in the block, then the pool's members of the
/// block with a score compete for the `limit` places. Which features make a winner similar is
/// looked up for the winners alone. (A map from every scored member to its score and features
/// took two minutes at 10M members: nearly all of them score.)
pub(crate) fn rank(index: &AudienceIndex, features: &[Feature], pool: &RoaringBitmap, limit: usize) -> Vec<Lookalike> {
    let (Some(first), Some(last)) = (pool.min(), pool.max()) else { return Vec::new() };
    let weighed: Vec<(&Feature, &RoaringBitmap)> =
        features.iter().filter_map(|feature| Some((feature, feature.key.members(index)?))).collect();
    let mut scores = vec![0.0f64; BLOCK as usize];
    let mut places = Places::new(limit);
    for start in (u64::from(first) / BLOCK * BLOCK..=u64::from(last)).step_by(BLOCK as usize) {
        // Below 2^32: `start` is at most `last`, and a block ends before the next multiple.
        let block = start as u32..=(start + BLOCK - 1) as u32;
        for (feature, members) in &weighed {
            for member in members.range(block.clone()) {
                scores[(member - *block.start()) as usize] += feature.weight;
            }
        }
        for member in pool.range(block.clone()) {
            let score = scores[(member - *block.start()) as usize];
            if score > 0.0 {
                places.offer(member, score);
            }
        }
        scores.fill(0.0);
    }
    let ranked = places
        .won
        .into_iter()
        .map(|Place { member, score }| Lookalike {
            member,
            score,
            features: weighed
                .iter()
                .filter(|(_, members)| members.contains(member))
                .take(REASONS)
                .map(|(feature, _)| feature.name.clone())
                .collect(),
        })
        .collect();
    best(ranked, limit)
}

/// Ordinals scored at a time: a roaring container's span, 512 KiB of scores.
const BLOCK: u64 = 1 << 16;

/// The best `limit` members offered so far, the one that would lose its place next on top.
struct Places {
    limit: usize,
    won: BinaryHeap<Place>,
}

/// A member and its score, ordered worst first: a lower score, then (on a tie) a higher ordinal.
#[derive(Debug, Clone, Copy)]
struct Place {
    member: u32,
    score: f64,
}

impl Ord for Place {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.score.total_cmp(&self.score).then(self.member.cmp(&other.member))
    }
}

impl PartialOrd for Place {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Place {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Place {}

impl Places {
    fn new(limit: usize) -> Places {
        Places { limit, won: BinaryHeap::with_capacity(limit.saturating_add(1).min(1 << 16)) }
    }

    /// Gives `member` a place if it beats the worst of the `limit` best so far.
    fn offer(&mut self, member: u32, score: f64) {
        let place = Place { member, score };
        if self.won.len() < self.limit {
            self.won.push(place);
        } else if self.won.peek().is_some_and(|worst| place < *worst) {
            self.won.pop();
            self.won.push(place);
        }
    }
}

/// The `limit` best of `ranked`: highest score first, ties to the lower ordinal.
pub(crate) fn best(mut ranked: Vec<Lookalike>, limit: usize) -> Vec<Lookalike> {
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.member.cmp(&b.member)));
    ranked.truncate(limit);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 members: the seed (0–9) are gold, love wine, and half are in the east; members 10–19
    /// love wine too, 20–24 are gold, everyone else has neither.
    fn index() -> AudienceIndex {
        let mut index = AudienceIndex::default();
        for member in 0..100 {
            index.insert_member(member);
            index.set_category(member, "region", if member % 2 == 0 { "E" } else { "W" });
        }
        for member in (0..10).chain(20..25) {
            index.set_category(member, "tier", "gold");
        }
        for member in 0..20 {
            index.add_tag(member, "爱红酒");
        }
        index
    }

    #[test]
    fn members_sharing_the_seeds_distinctive_features_rank_first() {
        let index = index();
        let seed: RoaringBitmap = (0..10).collect();
        let ranked = lookalike(&index, &seed, index.universe(), 5);
        let members: Vec<u32> = ranked.iter().map(|r| r.member).collect();
        assert_eq!(members, [20, 21, 22, 23, 24], "gold is rarer than wine, so it weighs more");
        assert_eq!(ranked[0].features, ["tier=gold"]);
        assert!(ranked.iter().all(|r| !seed.contains(r.member)), "the seed is not its own lookalike");
        let weights = weigh(&index, &seed);
        assert!(weights.iter().all(|f| f.name != "region=W"), "what the seed lacks does not count");
    }

    /// The ranking as the plain rule: every member of the pool with a feature, its score added
    /// up feature by feature, all sorted.
    fn plain_rank(index: &AudienceIndex, features: &[Feature], pool: &RoaringBitmap, limit: usize) -> Vec<Lookalike> {
        let mut scores: std::collections::HashMap<u32, (f64, Vec<String>)> = std::collections::HashMap::new();
        for feature in features {
            let Some(members) = feature.key.members(index) else { continue };
            for member in &(members & pool) {
                let entry = scores.entry(member).or_default();
                entry.0 += feature.weight;
                if entry.1.len() < REASONS {
                    entry.1.push(feature.name.clone());
                }
            }
        }
        let ranked = scores.into_iter().map(|(member, (score, features))| Lookalike { member, score, features });
        best(ranked.collect(), limit)
    }

    proptest::proptest! {
        /// Ranked block by block, the answer is the plain rule's, across blocks and for any limit.
        #[test]
        fn ranking_by_blocks_is_the_plain_rule(
            members in proptest::collection::btree_set(0u32..200_000, 1..400),
            tags in proptest::collection::vec((0usize..6, 0usize..400), 0..600),
            seed_picks in proptest::collection::vec(0usize..400, 0..40),
            limit in 0usize..30,
        ) {
            let members: Vec<u32> = members.into_iter().collect();
            let mut index = AudienceIndex::default();
            for (n, &member) in members.iter().enumerate() {
                index.insert_member(member);
                index.set_category(member, "tier", ["gold", "silver", "normal"][n % 3]);
            }
            for &(tag, pick) in &tags {
                index.add_tag(members[pick % members.len()], &format!("t{tag}"));
            }
            let seed: RoaringBitmap = seed_picks.iter().map(|&pick| members[pick % members.len()]).collect();
            let features = weigh(&index, &seed);
            let pool = index.universe() - &seed;
            proptest::prop_assert_eq!(rank(&index, &features, &pool, limit), plain_rank(&index, &features, &pool, limit));
        }
    }

    #[test]
    fn features_a_seed_has_by_chance_do_not_count() {
        // 10,000 members, each of 50 tags on a scattered fifth of them; the seed is every tenth
        // member, all of them VIPs (as are 100 others).
        let mut index = AudienceIndex::default();
        for member in 0..10_000u32 {
            index.insert_member(member);
            for tag in 0..50u32 {
                if (member.wrapping_mul(2_654_435_761) ^ tag.wrapping_mul(40_503)).wrapping_mul(97) % 5 == 0 {
                    index.add_tag(member, &format!("t{tag}"));
                }
            }
            if member % 10 == 0 || member % 97 == 1 {
                index.add_tag(member, "vip");
            }
        }
        let seed: RoaringBitmap = (0..10_000).step_by(10).collect();
        let names: Vec<String> = weigh(&index, &seed).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["#vip"], "the scattered tags are as common in the seed as anywhere, give or take chance");
    }

    #[test]
    fn a_seed_too_small_to_tell_counts_its_heaviest_features() {
        let mut index = AudienceIndex::default();
        for member in 0..4 {
            index.insert_member(member);
        }
        for member in 0..3 {
            index.add_tag(member, "爱红酒");
        }
        let seed: RoaringBitmap = [1, 2].into_iter().collect();
        let ranked = lookalike(&index, &seed, index.universe(), 5);
        assert_eq!(ranked.len(), 1, "member 3 shares nothing with the seed");
        assert_eq!((ranked[0].member, &ranked[0].features[..]), (0, &["#爱红酒".to_owned()][..]));
    }

    #[test]
    fn a_large_seed_is_weighed_on_an_even_sample_of_it() {
        let small: RoaringBitmap = (0..20_000).collect();
        assert_eq!(*sample(&small), small);
        let large: RoaringBitmap = (0..300_000).map(|m| m * 3).collect();
        let sampled = sample(&large);
        assert_eq!(sampled.len(), 20_000);
        assert!(sampled.is_subset(&large));
        assert_eq!((sampled.min(), sampled.max()), (Some(0), Some(299_985 * 3)), "taken evenly through it");
    }

    #[test]
    fn an_empty_seed_finds_nobody_alike() {
        let index = index();
        assert!(lookalike(&index, &RoaringBitmap::new(), index.universe(), 5).is_empty());
    }
}
