//! Lookalike audiences (精准获客): given a seed audience, rank the other members by how much they
//! resemble it.
//!
//! Every tag and every value of a categorical field (tier, stage, region, an RFM score…) is a
//! feature. A feature's weight is how much more common it is in the seed than in everyone,
//! `ln((seed share + ε) / (overall share + ε))`, so features the seed shares with everybody weigh
//! nothing and rare features typical of the seed weigh most (a naive-Bayes log-odds score with a
//! small prior). A candidate's score is the sum of the positive weights of the features it has;
//! the answer lists the best candidates with the features that made them similar.
//!
//! Cost: one intersection per feature to weigh it, then one pass over each useful feature's
//! members, never a scan of members by attribute.

use std::collections::HashMap;

use roaring::RoaringBitmap;

use crate::index::AudienceIndex;

/// The prior added to both shares, so that tiny seeds do not make noise look decisive.
const SMOOTHING: f64 = 0.01;
/// The most features reported per member.
const REASONS: usize = 3;

/// One feature: a tag (`#name`) or a categorical value (`field=value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub weight: f64,
}

/// A member ranked by resemblance, with the features that count most.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookalike {
    pub member: u32,
    pub score: f64,
    pub features: Vec<String>,
}

/// The weights of the features that set the seed apart, heaviest first.
pub fn weigh<'i>(index: &'i AudienceIndex, seed: &RoaringBitmap) -> Vec<(Feature, &'i RoaringBitmap)> {
    let everyone = index.universe().len().max(1) as f64;
    let seed_size = seed.len().max(1) as f64;
    let mut weighted = Vec::new();
    let consider = |name: String, members: &'i RoaringBitmap| {
        let in_seed = members.intersection_len(seed) as f64 / seed_size;
        let overall = members.len() as f64 / everyone;
        let weight = ((in_seed + SMOOTHING) / (overall + SMOOTHING)).ln();
        (weight > 0.0).then_some((Feature { name, weight }, members))
    };
    for (tag, members) in index.tags() {
        weighted.extend(consider(format!("#{tag}"), members));
    }
    for (field, values) in index.categorical_fields() {
        for (value, members) in values.values() {
            weighted.extend(consider(format!("{field}={value}"), members));
        }
    }
    weighted.sort_by(|(a, _), (b, _)| b.weight.total_cmp(&a.weight).then_with(|| a.name.cmp(&b.name)));
    weighted
}

/// The `limit` members of `candidates` (the seed left out) most like the seed, best first; ties
/// go to the lower ordinal.
pub fn lookalike(
    index: &AudienceIndex,
    seed: &RoaringBitmap,
    candidates: &RoaringBitmap,
    limit: usize,
) -> Vec<Lookalike> {
    let pool = candidates - seed;
    let features = weigh(index, seed);
    let mut scores: HashMap<u32, (f64, Vec<usize>)> = HashMap::new();
    for (position, (feature, members)) in features.iter().enumerate() {
        for member in &(*members & &pool) {
            let entry = scores.entry(member).or_insert((0.0, Vec::new()));
            entry.0 += feature.weight;
            if entry.1.len() < REASONS {
                entry.1.push(position);
            }
        }
    }
    let mut ranked: Vec<Lookalike> = scores
        .into_iter()
        .map(|(member, (score, reasons))| Lookalike {
            member,
            score,
            features: reasons.iter().filter_map(|&p| features.get(p)).map(|(f, _)| f.name.clone()).collect(),
        })
        .collect();
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
        assert!(weights.iter().all(|(f, _)| f.name != "region=W"), "what the seed lacks does not count");
    }

    #[test]
    fn an_empty_seed_finds_nobody_alike() {
        let index = index();
        assert!(lookalike(&index, &RoaringBitmap::new(), index.universe(), 5).is_empty());
    }
}
