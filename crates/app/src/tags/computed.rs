//! Computed tags, kept by the full scores rebuild: 消费力 spending power (from the monetary
//! score, for customers with an order in the window) and 偏好 category preference (the
//! top-level category a customer kept most money on in the scoring window, ties to the category
//! named first).
//!
//! The rebuild reads what it needs with its other facts: the SKU and amount of every line of the
//! window's counted orders with the order's customer, in one streaming read (the store joins the
//! lines to their orders), added up per customer and top-level category in memory, and who
//! carries a computed tag now. Each page then changes the tags of only the customers
//! whose computed tags differ from what they should be.

use std::collections::HashMap;

use quanyu_domain::{
    catalog::Category,
    ids::{CategoryId, CustomerId, SkuId},
    time::Timestamp,
};
use quanyu_store::{CustomerScores, Tag, Tx};
use rustc_hash::FxHashMap;
use uuid::Uuid;

use crate::{
    AppResult,
    lifecycle::{BATCH, Ordinals},
};

/// The computed spending-power tags, from the monetary score: 4–5 high, 2–3 middle, 1 low.
const SPENDING_POWER: [(&str, i64); 3] = [("消费力:高", 4), ("消费力:中", 2), ("消费力:低", 1)];
/// Computed category preference: `偏好:` and the top-level category the customer spent most on.
const PREFERENCE: &str = "偏好:";

/// A computed tag by name, defined on first use.
async fn computed_tag(tx: &mut dyn Tx, name: &str, at: Timestamp) -> AppResult<Tag> {
    if let Some(tag) = tx.tag_by_name(name).await? {
        return Ok(tag);
    }
    let tag = Tag {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        kind: "computed".to_owned(),
        description: Some("每晚按订单计算".to_owned()),
        rule: None,
        created_at: at,
    };
    tx.insert_tag(&tag).await?;
    Ok(tag)
}

/// The computed tags, by name: spending power, and a preference per top-level category.
#[derive(Debug, Clone, Default)]
pub(crate) struct Family {
    by_name: HashMap<String, Uuid>,
}

impl Family {
    /// The family's tags, each defined on first use (so in a write transaction).
    pub(crate) async fn define(tx: &mut dyn Tx, at: Timestamp) -> AppResult<Family> {
        let mut by_name = HashMap::new();
        let roots: Vec<String> =
            tx.all_categories().await?.into_iter().filter(|c| c.parent_id.is_none()).map(|c| c.name).collect();
        let names = SPENDING_POWER
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .chain(roots.iter().map(|root| format!("{PREFERENCE}{root}")));
        for name in names {
            let tag = computed_tag(tx, &name, at).await?;
            by_name.insert(name, tag.id);
        }
        Ok(Family { by_name })
    }

    fn ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self.by_name.values().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The tags a customer with these scores and this favourite top-level category carries,
    /// sorted.
    fn of(&self, scores: &CustomerScores, favourite: Option<&str>) -> Vec<Uuid> {
        let power = SPENDING_POWER.iter().find(|(_, min)| scores.orders > 0 && scores.m >= *min).map(|(name, _)| *name);
        let preference = favourite.map(|name| format!("{PREFERENCE}{name}"));
        let mut tags: Vec<Uuid> = power
            .into_iter()
            .map(str::to_owned)
            .chain(preference)
            .filter_map(|n| self.by_name.get(&n).copied())
            .collect();
        tags.sort_unstable();
        tags
    }
}

/// The category a customer kept most on, of those with anything kept; ties to the category
/// named first.
fn favourite<'a>(kept: impl IntoIterator<Item = (&'a str, i64)>) -> Option<&'a str> {
    kept.into_iter()
        .filter(|(_, amount)| *amount > 0)
        .max_by(|(a, x), (b, y)| x.cmp(y).then_with(|| b.cmp(a)))
        .map(|(name, _)| name)
}

/// The top of `id`'s branch of the category tree (at most 32 steps up).
fn top(parents: &HashMap<CategoryId, Option<CategoryId>>, mut id: CategoryId) -> CategoryId {
    for _ in 0..32 {
        match parents.get(&id).copied().flatten() {
            Some(parent) => id = parent,
            None => break,
        }
    }
    id
}

/// Where the rows of customers `first..end` are in `rows`, sorted by customer (`customer`).
fn in_page<T>(rows: &[T], customer: impl Fn(&T) -> u32, first: u32, end: u32) -> std::ops::Range<usize> {
    rows.partition_point(|row| customer(row) < first)..rows.partition_point(|row| customer(row) < end)
}

/// What the rebuild reads for computed tags, customers by the rebuild's ordinals.
#[derive(Debug, Default)]
pub(crate) struct TagFacts {
    family: Family,
    /// The top-level categories' names.
    names: Vec<String>,
    /// (customer, top-level category, kept) per counted order line, sorted by customer once read.
    kept: Vec<(u32, u32, i64)>,
    /// (customer, tag) of every computed tag carried, sorted.
    carried: Vec<(u32, Uuid)>,
}

impl TagFacts {
    /// Reads who kept what on which category through the counted orders placed since `since`
    /// (`orders` of them, each with a line at least, so room for as many lines is made at once
    /// rather than doubled into), and who carries which of `family`'s tags, of the customers in
    /// `ordinals`.
    pub(crate) async fn read(
        tx: &mut dyn Tx,
        family: Family,
        since: Timestamp,
        ordinals: &Ordinals,
        orders: usize,
    ) -> AppResult<TagFacts> {
        let categories: Vec<Category> = tx.all_categories().await?;
        let parents: HashMap<CategoryId, Option<CategoryId>> = categories.iter().map(|c| (c.id, c.parent_id)).collect();
        let by_id: HashMap<CategoryId, &str> = categories.iter().map(|c| (c.id, c.name.as_str())).collect();
        let mut facts = TagFacts { family, ..TagFacts::default() };
        // Each SKU's top-level category, by its index in `names` (a category unknown to the tree
        // is its own top, with no name).
        let mut top_index = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        let mut sku_top: FxHashMap<SkuId, u32> = FxHashMap::default();
        for (sku, category) in tx.sku_categories().await? {
            let top = top(&parents, category);
            let index = *top_index.entry(top).or_insert_with(|| {
                names.push(by_id.get(&top).map_or_else(String::new, |name| (*name).to_owned()));
                u32::try_from(names.len() - 1).unwrap_or(u32::MAX)
            });
            sku_top.insert(sku, index);
        }
        let mut kept = Vec::with_capacity(orders);
        // Customers looked up a batch at a time (see `lifecycle::rebuild::Facts::add_orders`).
        let mut batch = Vec::with_capacity(BATCH);
        let mut keep = |batch: &mut Vec<(CustomerId, SkuId, i64)>| {
            let found: Vec<Option<u32>> =
                batch.iter().map(|(customer, _, _)| ordinals.get(customer).copied()).collect();
            for ((_, sku, amount), ordinal) in batch.drain(..).zip(found) {
                if let (Some(ordinal), Some(&top)) = (ordinal, sku_top.get(&sku)) {
                    kept.push((ordinal, top, amount));
                }
            }
        };
        tx.scan_counted_line_spend(since, &mut |customer, sku, amount| {
            batch.push((customer, sku, amount));
            if batch.len() == BATCH {
                keep(&mut batch);
            }
        })
        .await?;
        keep(&mut batch);
        kept.sort_unstable_by_key(|&(customer, _, _)| customer);
        (facts.names, facts.kept) = (names, kept);
        let ids = facts.family.ids();
        let mut carried = Vec::new();
        tx.scan_tagged(&ids, &mut |customer, tag| {
            if let Some(&ordinal) = ordinals.get(&customer) {
                carried.push((ordinal, tag));
            }
        })
        .await?;
        carried.sort_unstable();
        facts.carried = carried;
        Ok(facts)
    }

    /// What to change so that the customers `first..` (their rows `scored`, in ordinal order)
    /// carry the computed tags they should: only the customers whose tags differ.
    pub(crate) fn page_changes(&self, first: u32, scored: &[CustomerScores]) -> TagChanges {
        let end = first + u32::try_from(scored.len()).unwrap_or(u32::MAX);
        let mut kept = &self.kept[in_page(&self.kept, |row| row.0, first, end)];
        let mut carried = &self.carried[in_page(&self.carried, |row| row.0, first, end)];
        let mut changes = TagChanges::default();
        for (ordinal, scores) in (first..).zip(scored) {
            let mine = kept.partition_point(|row| row.0 == ordinal);
            let mut by_top: HashMap<u32, i64> = HashMap::new();
            for &(_, top, amount) in &kept[..mine] {
                *by_top.entry(top).or_default() += amount;
            }
            kept = &kept[mine..];
            let favourite = favourite(by_top.iter().map(|(&top, &amount)| (self.names[top as usize].as_str(), amount)))
                .filter(|name| !name.is_empty());
            let should = self.family.of(scores, favourite);
            let theirs = carried.partition_point(|row| row.0 == ordinal);
            let does: Vec<Uuid> = carried[..theirs].iter().map(|&(_, tag)| tag).collect();
            carried = &carried[theirs..];
            for tag in does.iter().filter(|tag| !should.contains(tag)) {
                changes.taken.entry(*tag).or_default().push(scores.customer_id);
            }
            for tag in should.into_iter().filter(|tag| !does.contains(tag)) {
                changes.given.entry(tag).or_default().push(scores.customer_id);
            }
        }
        changes
    }
}

/// The computed tags a page of customers loses and gains ([`TagFacts::page_changes`]): only
/// the tags that differ, so a customer whose computed tags stay keeps their rows as they are.
#[derive(Debug, Default)]
pub(crate) struct TagChanges {
    taken: HashMap<Uuid, Vec<CustomerId>>,
    given: HashMap<Uuid, Vec<CustomerId>>,
}

impl TagChanges {
    pub(crate) fn is_empty(&self) -> bool {
        self.taken.is_empty() && self.given.is_empty()
    }

    /// Makes the changes in `tx`.
    pub(crate) async fn write(&self, tx: &mut dyn Tx, at: Timestamp) -> AppResult<()> {
        for (&tag, customers) in &self.taken {
            tx.untag_customers(tag, customers).await?;
        }
        for (&tag, customers) in &self.given {
            tx.tag_customers(tag, customers, "computed", at).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_favourite_is_the_most_kept_ties_to_the_first_named() {
        assert_eq!(favourite([("乳品", 300), ("生鲜", 500), ("零食", 100)]), Some("生鲜"));
        assert_eq!(favourite([("生鲜", 500), ("乳品", 500), ("零食", 500)]), Some("乳品"));
        assert_eq!(favourite([("乳品", 0), ("生鲜", -5)]), None, "nothing kept, no favourite");
        assert_eq!(favourite([]), None);
    }

    #[test]
    fn a_page_finds_its_customers_rows() {
        let rows = [(0u32, 'a'), (2, 'b'), (2, 'c'), (5, 'd'), (7, 'e')];
        assert_eq!(in_page(&rows, |r| r.0, 0, 2), 0..1);
        assert_eq!(in_page(&rows, |r| r.0, 2, 5), 1..3);
        assert_eq!(in_page(&rows, |r| r.0, 3, 5), 3..3);
        assert_eq!(in_page(&rows, |r| r.0, 5, 1_000), 3..5);
    }
}
