//! The owner's book of one flash sale, held in memory: every reservation's request key (so a
//! retry finds its reservation) and what each buyer has reserved in total. It decides a batch
//! of requests against the units left and the per-customer limit ([`SaleBook::plan`]) without
//! changing; the engine writes the batch's journal record, and only once that is committed does
//! it [`record`](SaleBook::record) it. Replaying the journal rebuilds the same book.
//!
//! Counts here are gross — what buyers reserved, never reduced — so the book can only
//! over-count a buyer: a request it would refuse for the limit is checked against the units
//! released since (handed to `plan` as `released`) before it is refused.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Refusal, journal::JournalRecord};
use crate::time::Timestamp;

/// A reservation as the book remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: Uuid,
    pub quantity: i64,
    pub at: Timestamp,
    pub expires_at: Timestamp,
}

/// One request of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub buyer: &'a str,
    /// Unique per sale: the same key is the same request.
    pub key: &'a str,
    pub quantity: i64,
}

/// What the batch does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A retry of a reservation already made: answer it again.
    Existing(Held),
    /// A retry of an earlier request of the same batch (its index): answer as that one.
    SameAs(usize),
    /// Reserve it.
    Accept,
    Refuse(Refusal),
}

/// What bounds a batch.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Units the batch may reserve: what is left of the quota, and of the store's stock.
    pub units_left: i64,
    pub per_customer_limit: i64,
}

#[derive(Debug, Default)]
pub struct SaleBook {
    /// The last journal record applied (0: none).
    seq: i64,
    keys: HashMap<String, Held>,
    bought: HashMap<String, i64>,
}

impl SaleBook {
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Reservations the book knows.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn find(&self, key: &str) -> Option<&Held> {
        self.keys.get(key)
    }

    /// Units `buyer` reserved in all (released ones included).
    pub fn bought(&self, buyer: &str) -> i64 {
        self.bought.get(buyer).copied().unwrap_or(0)
    }

    /// Decides each request in order. `released` holds, for buyers the limit would refuse,
    /// the units released since they reserved them (missing: none). Requests that do not fit
    /// are refused while later, smaller ones may still fit.
    pub fn plan(&self, asks: &[Ask<'_>], bounds: Bounds, released: &HashMap<String, i64>) -> Vec<Decision> {
        let mut units_left = bounds.units_left;
        let mut first_of_key: HashMap<&str, usize> = HashMap::new();
        let mut added: HashMap<&str, i64> = HashMap::new();
        let mut decisions = Vec::with_capacity(asks.len());
        for (index, ask) in asks.iter().enumerate() {
            if let Some(held) = self.keys.get(ask.key) {
                decisions.push(Decision::Existing(held.clone()));
                continue;
            }
            if let Some(&first) = first_of_key.get(ask.key) {
                decisions.push(Decision::SameAs(first));
                continue;
            }
            first_of_key.insert(ask.key, index);
            let so_far = self.bought(ask.buyer) - released.get(ask.buyer).copied().unwrap_or(0)
                + added.get(ask.buyer).copied().unwrap_or(0);
            let decision = if ask.quantity <= 0 || ask.quantity > bounds.per_customer_limit - so_far {
                Decision::Refuse(Refusal::LimitReached)
            } else if ask.quantity > units_left {
                Decision::Refuse(Refusal::SoldOut)
            } else {
                units_left -= ask.quantity;
                *added.entry(ask.buyer).or_default() += ask.quantity;
                Decision::Accept
            };
            decisions.push(decision);
        }
        decisions
    }

    /// Buyers among `asks` the book alone would refuse for the limit: the ones whose releases
    /// are worth looking up before refusing them.
    pub fn over_limit<'a>(&self, asks: &[Ask<'a>], decisions: &[Decision]) -> Vec<&'a str> {
        let mut buyers: Vec<&str> = asks
            .iter()
            .zip(decisions)
            .filter(|(ask, d)| **d == Decision::Refuse(Refusal::LimitReached) && self.bought(ask.buyer) > 0)
            .map(|(ask, _)| ask.buyer)
            .collect();
        buyers.sort_unstable();
        buyers.dedup();
        buyers
    }

    /// Applies a committed journal record as record `seq`. A reservation already known (by
    /// its key) is not counted twice, so overlapping loads stay exact.
    pub fn record(&mut self, seq: i64, record: JournalRecord) {
        for entry in record.entries {
            if self.keys.contains_key(&entry.key) {
                continue;
            }
            match self.bought.get_mut(&entry.buyer) {
                Some(units) => *units += entry.quantity,
                None => {
                    self.bought.insert(entry.buyer, entry.quantity);
                }
            }
            let held = Held { id: entry.id, quantity: entry.quantity, at: record.at, expires_at: record.expires_at };
            self.keys.insert(entry.key, held);
        }
        self.seq = self.seq.max(seq);
    }

    /// Marks the journal up to `seq` as applied: the reservations [`remember`](Self::remember)ed
    /// from materialised rows cover it.
    pub fn skip_to(&mut self, seq: i64) {
        self.seq = self.seq.max(seq);
    }

    /// Adds one reservation known from elsewhere (a materialised row); `false` if its key was
    /// already known.
    pub fn remember(&mut self, buyer: &str, key: &str, held: Held) -> bool {
        if self.keys.contains_key(key) {
            return false;
        }
        *self.bought.entry(buyer.to_owned()).or_default() += held.quantity;
        self.keys.insert(key.to_owned(), held);
        true
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::flash::journal::JournalEntry;

    fn at() -> Timestamp {
        Timestamp::from_timestamp_micros(1_764_000_000_000_000).unwrap()
    }

    fn ask<'a>(buyer: &'a str, key: &'a str, quantity: i64) -> Ask<'a> {
        Ask { buyer, key, quantity }
    }

    /// Plans a batch and, like the engine after its commit, records what it accepted.
    fn commit(book: &mut SaleBook, asks: &[Ask<'_>], bounds: Bounds, released: &HashMap<String, i64>) -> Vec<Decision> {
        let decisions = book.plan(asks, bounds, released);
        let entries = asks
            .iter()
            .zip(&decisions)
            .filter(|(_, d)| **d == Decision::Accept)
            .enumerate()
            .map(|(n, (a, _))| JournalEntry {
                id: Uuid::from_u128((book.len() + n) as u128),
                quantity: a.quantity,
                buyer: a.buyer.to_owned(),
                key: a.key.to_owned(),
            })
            .collect();
        let seq = book.seq() + 1;
        book.record(seq, JournalRecord { at: at(), expires_at: at(), entries });
        decisions
    }

    fn check(asks: &[(&str, &str, i64)], units_left: i64, limit: i64, expect: &[Decision]) {
        let asks: Vec<Ask<'_>> = asks.iter().map(|&(b, k, q)| ask(b, k, q)).collect();
        let bounds = Bounds { units_left, per_customer_limit: limit };
        assert_eq!(SaleBook::default().plan(&asks, bounds, &HashMap::new()), expect);
    }

    #[test]
    fn a_batch_is_decided_in_order() {
        use Decision::*;
        use Refusal::*;
        check(&[("a", "a:1", 1), ("b", "b:1", 2), ("c", "c:1", 1)], 2, 2, &[Accept, Refuse(SoldOut), Accept]);
        check(&[("a", "a:1", 1), ("a", "a:2", 1), ("a", "a:3", 1)], 10, 2, &[Accept, Accept, Refuse(LimitReached)]);
        check(&[("a", "a:1", 1), ("a", "a:1", 1)], 10, 2, &[Accept, SameAs(0)]);
        check(&[("a", "a:1", 3)], 10, 2, &[Refuse(LimitReached)]);
        check(&[("a", "a:1", 0)], 10, 2, &[Refuse(LimitReached)]);
        check(&[("a", "a:1", 1)], 0, 2, &[Refuse(SoldOut)]);
    }

    #[test]
    fn retries_find_their_reservation_and_releases_count() {
        let mut book = SaleBook::default();
        let bounds = Bounds { units_left: 10, per_customer_limit: 2 };
        let none = HashMap::new();
        assert_eq!(commit(&mut book, &[ask("a", "a:1", 2)], bounds, &none), vec![Decision::Accept]);
        let held = book.find("a:1").cloned().unwrap();
        assert_eq!(book.plan(&[ask("a", "a:1", 2)], bounds, &none), vec![Decision::Existing(held)]);
        let more = [ask("a", "a:2", 1)];
        let refused = book.plan(&more, bounds, &none);
        assert_eq!(refused, vec![Decision::Refuse(Refusal::LimitReached)]);
        assert_eq!(book.over_limit(&more, &refused), vec!["a"]);
        let released = HashMap::from([("a".to_owned(), 2)]);
        assert_eq!(book.plan(&more, bounds, &released), vec![Decision::Accept]);
        // A reload that overlaps what the book holds changes nothing.
        let seen = book.find("a:1").cloned().unwrap();
        assert!(!book.remember("a", "a:1", seen));
        assert_eq!(book.bought("a"), 2);
    }

    proptest! {
        /// Whatever the batches, the book never lets the quota or a buyer's limit be beaten,
        /// and a key is reserved at most once.
        #[test]
        fn batches_never_beat_the_quota_or_the_limit(
            batches in prop::collection::vec(prop::collection::vec((0u8..6, 0u8..12, 1i64..4), 1..30), 1..8),
            quota in 1i64..40,
            limit in 1i64..5,
        ) {
            let mut book = SaleBook::default();
            let mut sold = 0;
            let none = HashMap::new();
            for batch in batches {
                let owned: Vec<(String, String, i64)> =
                    batch.iter().map(|&(b, k, q)| (format!("b{b}"), format!("b{b}:{k}"), q)).collect();
                let asks: Vec<Ask<'_>> = owned.iter().map(|(b, k, q)| ask(b, k, *q)).collect();
                let bounds = Bounds { units_left: quota - sold, per_customer_limit: limit };
                let decisions = commit(&mut book, &asks, bounds, &none);
                for (a, d) in asks.iter().zip(&decisions) {
                    if *d == Decision::Accept {
                        sold += a.quantity;
                    }
                    if let Decision::SameAs(first) = d {
                        prop_assert_eq!(asks[*first].key, a.key);
                    }
                }
                prop_assert!(sold <= quota);
            }
            for b in 0..6 {
                let buyer = format!("b{b}");
                prop_assert!(book.bought(&buyer) <= limit, "{} bought {}", buyer, book.bought(&buyer));
            }
        }
    }
}
