//! The owner's book of one flash sale, held in memory: every reservation's request key (so a
//! retry finds its reservation) and what each buyer has reserved in total. It decides a batch
//! of requests against the units left and the per-customer limit ([`SaleBook::plan`]) without
//! changing; the engine writes the batch's journal record, and only once that is committed does
//! it [`record`](SaleBook::record) it. Replaying the journal rebuilds the same book.
//!
//! Counts here are gross — what buyers reserved, never reduced — so the book can only
//! over-count a buyer: a request it would refuse for the limit is checked against the units
//! released since (handed to `plan` as `released`) before it is refused.
//!
//! A request is its buyer and the buyer's key: the same key from two buyers is two requests.
//! The book is on the path of every request of a rush, so a request is one probe of the buyers'
//! table (hashed with a per-book random seed, so buyers cannot choose colliding names): a
//! buyer's keys are found among the reservations chained to them, and filed in a table of
//! keys only once a buyer has more than [`CHAIN`]. A member (every buyer of a rush) is kept and
//! hashed by id ([`Buyer`]); keys, and the names of buyers from before, live in one arena of
//! text rather than in a string allocation per reservation.
//!
//! The tables keep 4-byte positions, so a book holds at most [`CAPACITY`] reservations and
//! buyers: `plan` refuses what would not fit (as sold out), and `record` and `remember` refuse
//! a record that would not, changing nothing.

use std::{collections::HashMap, hash::BuildHasher};

use hashbrown::{DefaultHashBuilder, HashTable, hash_table::Entry};
use uuid::Uuid;

use super::{Buyer, BuyerBuf, Refusal, journal::JournalRecord};
use crate::{ids::CustomerId, time::Timestamp};

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
    pub buyer: Buyer<'a>,
    /// The buyer's idempotency key: the same buyer and key are the same request.
    pub key: &'a str,
    pub quantity: i64,
}

impl Ask<'_> {
    /// The longest text the request would add to the book.
    fn text_len(&self) -> usize {
        self.buyer.text_len().max(self.key.len())
    }
}

/// What the batch does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A retry of a reservation already made: answer it again.
    Existing(Held),
    /// A retry of an earlier request of the same batch (its index): answer as that one.
    SameAs(usize),
    /// The buyer's key was used for a request of another quantity: refuse it, as any reused
    /// idempotency key with a different body is.
    KeyReused,
    /// Reserve it.
    Accept,
    Refuse(Refusal),
}

/// The most reservations, buyers and (at, expires_at) pairs a book holds, and the longest
/// buyer or key: its tables keep 4-byte positions and lengths.
pub const CAPACITY: usize = u32::MAX as usize;

/// A record the book cannot hold (see [`CAPACITY`]); the book is as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookFull;

impl std::fmt::Display for BookFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a flash sale's book holds at most {CAPACITY} reservations")
    }
}

impl std::error::Error for BookFull {}

/// What bounds a batch.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Units the batch may reserve: what is left of the quota, and of the store's stock.
    pub units_left: i64,
    /// What is left of the quota alone (at least `units_left`): a request within it but beyond
    /// `units_left` is refused for want of the store's stock ([`Refusal::OutOfStock`]), not as
    /// sold out.
    pub quota_left: i64,
    pub per_customer_limit: i64,
}

pub struct SaleBook {
    /// The last journal record applied (0: none).
    seq: i64,
    /// [`CAPACITY`], less in tests.
    capacity: usize,
    /// [`CHAIN`], less in tests.
    chain: u32,
    hasher: DefaultHashBuilder,
    /// Indexes into `reservations`, by buyer and key: only the reservations of buyers who
    /// have (or had) more than [`CHAIN`].
    keys: HashTable<Slot>,
    /// Indexes into `buyers`, by buyer.
    buyer_index: HashTable<Slot>,
    /// Every reservation, in the order the book learnt of it.
    reservations: Vec<Kept>,
    /// Every buyer, in the order the book first met them.
    buyers: Vec<Tally>,
    /// Every key and named buyer, end to end.
    texts: String,
    /// The (at, expires_at) pairs reservations share: one per journal record.
    times: Vec<(Timestamp, Timestamp)>,
}

impl Default for SaleBook {
    fn default() -> Self {
        SaleBook {
            seq: 0,
            capacity: CAPACITY,
            chain: CHAIN,
            hasher: DefaultHashBuilder::default(),
            keys: HashTable::new(),
            buyer_index: HashTable::new(),
            reservations: Vec::new(),
            buyers: Vec::new(),
            texts: String::new(),
            times: Vec::new(),
        }
    }
}

impl std::fmt::Debug for SaleBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaleBook").field("seq", &self.seq).field("reservations", &self.reservations.len()).finish()
    }
}

/// Where a book stood ([`SaleBook::mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    seq: i64,
    reservations: usize,
    buyers: usize,
    texts: usize,
    times: usize,
}

/// An entry of the book's tables: a position, and the hash it was filed under. Growing a table
/// files every entry again; with the hash at hand that is a pass over the table, where hashing
/// each entry's texts again (reached through its position) stalled a rush of two million
/// reservations for 130, 290 and 665 ms as the tables doubled.
#[derive(Debug, Clone, Copy)]
struct Slot {
    at: u32,
    hash: u32,
}

impl Slot {
    fn hash(self) -> u64 {
        widen(self.hash)
    }
}

/// The book's hash of what `hasher` made: 32 bits, kept in each [`Slot`], spread over the
/// 64 bits the tables use (their bucket from the low bits, their tag from the top ones).
fn fold(hash: u64) -> u64 {
    widen((hash >> 32) as u32)
}

fn widen(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

/// How many reservations of one buyer are found by walking them; a buyer with more has their
/// keys filed in the book's table of keys. Most sales allow a buyer a handful, and walking a
/// few entries appended in order costs less than a second table probed at random per request;
/// a sale with a big limit is not a walk of everything its biggest buyer reserved.
const CHAIN: u32 = 8;

/// No reservation (the end of a buyer's chain).
const NONE: u32 = u32::MAX;

/// Where a text lies in the book's arena.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    len: u32,
}

/// A reservation. The index tables hold only 4-byte positions in `reservations` and `buyers`
/// (rather than these entries): a rush looks up and adds a key and a buyer per request at
/// random places in the tables, and small slots keep those places in cache, while the entries
/// themselves are appended in order.
struct Kept {
    id: Uuid,
    quantity: i64,
    key: Span,
    /// Index into `buyers`.
    buyer: u32,
    /// Index into `times`.
    times: u32,
    /// The buyer's reservation before this one ([`NONE`]: this is their first).
    earlier: u32,
}

/// A buyer and what they reserved.
struct Tally {
    buyer: Who,
    bought: i64,
    /// Their latest reservation, the head of their chain.
    latest: u32,
    /// How many reservations they have in the book.
    count: u32,
}

/// Who a [`Tally`] is: a member by id (every buyer of a rush), or a name in the book's arena.
#[derive(Debug, Clone, Copy)]
enum Who {
    Member(CustomerId),
    Named(Span),
}

/// The parts of a book lookups read, borrowed apart from the index tables they serve.
struct Entries<'a> {
    chain: u32,
    hasher: &'a DefaultHashBuilder,
    reservations: &'a [Kept],
    buyers: &'a [Tally],
    texts: &'a str,
}

impl Entries<'_> {
    fn buyer(&self, buyer: u32) -> Buyer<'_> {
        match self.buyers[buyer as usize].buyer {
            Who::Member(member) => Buyer::Member(member),
            Who::Named(name) => Buyer::Named(text(self.texts, name)),
        }
    }

    fn is_key(&self, index: u32, buyer: Buyer<'_>, key: &str) -> bool {
        let kept = &self.reservations[index as usize];
        text(self.texts, kept.key) == key && self.buyer(kept.buyer) == buyer
    }

    /// The hash of a reservation's buyer and key, for when a table grows.
    fn key_hash_of(&self, index: u32) -> u64 {
        let kept = &self.reservations[index as usize];
        fold(self.hasher.hash_one((self.buyer(kept.buyer), text(self.texts, kept.key))))
    }

    fn buyer_hash_of(&self, index: u32) -> u64 {
        fold(self.hasher.hash_one(self.buyer(index)))
    }

    /// The buyer's reservation under `key`: walked to along their chain, or found in the
    /// table of keys once they have more than [`CHAIN`].
    fn find_kept(&self, keys: &HashTable<Slot>, found: &Tally, buyer: Buyer<'_>, key: &str) -> Option<&Kept> {
        if found.count > self.chain {
            let hash = fold(self.hasher.hash_one((buyer, key)));
            return keys.find(hash, |s| self.is_key(s.at, buyer, key)).map(|s| &self.reservations[s.at as usize]);
        }
        let mut at = found.latest;
        while at != NONE {
            let kept = &self.reservations[at as usize];
            if text(self.texts, kept.key) == key {
                return Some(kept);
            }
            at = kept.earlier;
        }
        None
    }

    fn find_buyer(&self, buyer_index: &HashTable<Slot>, hash: u64, buyer: Buyer<'_>) -> Option<&Tally> {
        buyer_index.find(hash, |s| self.buyer(s.at) == buyer).map(|s| &self.buyers[s.at as usize])
    }
}

impl SaleBook {
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Reservations the book knows.
    pub fn len(&self) -> usize {
        self.reservations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reservations.is_empty()
    }

    pub fn find(&self, buyer: Buyer<'_>, key: &str) -> Option<Held> {
        let entries = self.entries();
        let found = entries.find_buyer(&self.buyer_index, self.buyer_hash(buyer), buyer)?;
        entries.find_kept(&self.keys, found, buyer, key).map(|kept| self.held(kept))
    }

    /// Units `buyer` reserved in all (released ones included).
    pub fn bought(&self, buyer: Buyer<'_>) -> i64 {
        self.entries().find_buyer(&self.buyer_index, self.buyer_hash(buyer), buyer).map_or(0, |b| b.bought)
    }

    /// Decides each request in order. `released` holds, for buyers the limit would refuse, the
    /// units released since they reserved them (missing: none). Requests that do not fit are
    /// refused while later, smaller ones may still fit.
    pub fn plan(&self, asks: &[Ask<'_>], bounds: Bounds, released: &HashMap<BuyerBuf, i64>) -> Vec<Decision> {
        let entries = self.entries();
        let (mut units_left, mut quota_left) = (bounds.units_left, bounds.quota_left);
        // Each accepted request adds a reservation, and at most one buyer.
        let mut room = self.capacity.saturating_sub(self.reservations.len().max(self.buyers.len()));
        // This batch's first request per key (hash, index), and each buyer's units so far
        // (hash, index of their first request, units).
        let mut first_of_key: HashTable<(u64, usize)> = HashTable::with_capacity(asks.len());
        let mut so_far: HashTable<(u64, usize, i64)> = HashTable::with_capacity(asks.len());
        let mut decisions = Vec::with_capacity(asks.len());
        for (index, ask) in asks.iter().enumerate() {
            let buyer_hash = self.buyer_hash(ask.buyer);
            let known_buyer = entries.find_buyer(&self.buyer_index, buyer_hash, ask.buyer);
            let key_hash = self.key_hash(ask.buyer, ask.key);
            // Keys are kept with their buyer: one the book has never met (most of a rush) has
            // none to look up.
            let kept = known_buyer.and_then(|found| entries.find_kept(&self.keys, found, ask.buyer, ask.key));
            if let Some(kept) = kept {
                decisions.push(if kept.quantity == ask.quantity {
                    Decision::Existing(self.held(kept))
                } else {
                    Decision::KeyReused
                });
                continue;
            }
            let same = |&(_, i): &(u64, usize)| asks[i].buyer == ask.buyer && asks[i].key == ask.key;
            match first_of_key.entry(key_hash, same, |&(hash, _)| hash) {
                Entry::Occupied(first) => {
                    let first = first.get().1;
                    decisions.push(if asks[first].quantity == ask.quantity {
                        Decision::SameAs(first)
                    } else {
                        Decision::KeyReused
                    });
                    continue;
                }
                Entry::Vacant(vacant) => {
                    vacant.insert((key_hash, index));
                }
            }
            let (_, _, units) = so_far
                .entry(buyer_hash, |&(_, i, _)| asks[i].buyer == ask.buyer, |&(hash, _, _)| hash)
                .or_insert_with(|| {
                    let bought = known_buyer.map_or(0, |b| b.bought);
                    let given_back = if bought > 0 && !released.is_empty() {
                        released.get(&BuyerBuf::from(ask.buyer)).copied().unwrap_or(0)
                    } else {
                        0
                    };
                    (buyer_hash, index, bought - given_back)
                })
                .into_mut();
            let decision = if ask.quantity <= 0 || ask.quantity > bounds.per_customer_limit - *units {
                Decision::Refuse(Refusal::LimitReached)
            } else if ask.quantity > units_left || room == 0 || ask.text_len() > self.capacity {
                // Only the store's stock stands in the way: what the book cannot hold is sold out.
                let stock_short = ask.quantity <= quota_left && room > 0 && ask.text_len() <= self.capacity;
                Decision::Refuse(if stock_short { Refusal::OutOfStock } else { Refusal::SoldOut })
            } else {
                room -= 1;
                units_left -= ask.quantity;
                quota_left -= ask.quantity;
                *units += ask.quantity;
                Decision::Accept
            };
            decisions.push(decision);
        }
        decisions
    }

    /// Buyers among `asks` the book alone would refuse for the limit: the ones whose releases
    /// are worth looking up before refusing them.
    pub fn over_limit<'a>(&self, asks: &[Ask<'a>], decisions: &[Decision]) -> Vec<Buyer<'a>> {
        let mut buyers: Vec<Buyer<'a>> = asks
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
    /// its buyer and key) is not counted twice, so overlapping loads stay exact.
    pub fn record(&mut self, seq: i64, record: &JournalRecord<'_>) -> Result<(), BookFull> {
        self.room_for(record.entries.len(), record.entries.iter().map(|e| e.buyer.text_len().max(e.key.len())))?;
        let times = self.times_index(record.at, record.expires_at);
        self.reserve(record.entries.len());
        for entry in &record.entries {
            self.insert(entry.buyer, entry.key, entry.id, entry.quantity, times);
        }
        self.seq = self.seq.max(seq);
        Ok(())
    }

    /// Whether `reservations` more fit, with a new (at, expires_at) pair and each buyer new,
    /// their buyers' and keys' longest `lengths`.
    fn room_for(&self, reservations: usize, mut lengths: impl Iterator<Item = usize>) -> Result<(), BookFull> {
        let most = self.reservations.len().max(self.buyers.len()).max(self.times.len());
        if reservations > self.capacity - most.min(self.capacity) || lengths.any(|len| len > self.capacity) {
            return Err(BookFull);
        }
        Ok(())
    }

    /// Where the book stands: what [`roll_back`](Self::roll_back) returns it to.
    pub fn mark(&self) -> Mark {
        Mark {
            seq: self.seq,
            reservations: self.reservations.len(),
            buyers: self.buyers.len(),
            texts: self.texts.len(),
            times: self.times.len(),
        }
    }

    /// Forgets everything recorded since `mark`: the engine records a batch while its append
    /// is being committed, and takes it back if the append is refused.
    pub fn roll_back(&mut self, mark: Mark) {
        let Self { seq, chain, hasher, keys, buyer_index, reservations, buyers, texts, times, .. } = self;
        let entries = Entries { chain: *chain, hasher, reservations, buyers, texts };
        // Only reservations of buyers past `CHAIN` are filed by key (an earlier reservation
        // filed as its buyer passed it stays: it is still in the book, and found as it is).
        if !keys.is_empty() {
            for index in mark.reservations..reservations.len() {
                let at = index as u32;
                if let Ok(slot) = keys.find_entry(entries.key_hash_of(at), |s| s.at == at) {
                    slot.remove();
                }
            }
        }
        for index in mark.buyers..buyers.len() {
            let at = index as u32;
            if let Ok(slot) = buyer_index.find_entry(entries.buyer_hash_of(at), |s| s.at == at) {
                slot.remove();
            }
        }
        // Latest first, so each buyer's chain is unwound to where it stood.
        for kept in reservations.drain(mark.reservations..).rev() {
            let buyer = &mut buyers[kept.buyer as usize];
            buyer.bought -= kept.quantity;
            buyer.latest = kept.earlier;
            buyer.count -= 1;
        }
        buyers.truncate(mark.buyers);
        texts.truncate(mark.texts);
        times.truncate(mark.times);
        *seq = mark.seq;
    }

    /// Makes room for `reservations` more, so that a rush does not stop to grow the buyers'
    /// table (moving every buyer known so far) while buyers wait on the batch. The table of
    /// keys holds only the reservations of buyers past [`CHAIN`], and grows as they come.
    pub fn reserve(&mut self, reservations: usize) {
        let Self { buyer_index, reservations: kept, buyers, .. } = self;
        buyer_index.reserve(reservations, |s| s.hash());
        kept.reserve(reservations);
        buyers.reserve(reservations);
    }

    /// Makes room in the book's arrays — not its tables — for `reservations` more, each with a
    /// new buyer, and `text_bytes` more of their texts. The arrays are appended to in order, so
    /// address space reserved ahead costs nothing until it is written; growing one instead
    /// copies all it holds into memory touched for the first time (on a virtual machine whose
    /// host takes free memory back, a fault of microseconds per page), while buyers wait. The
    /// tables are kept to [`reserve`](Self::reserve)'s size: their entries land anywhere, so
    /// every page of a bigger table would be touched as it fills.
    pub fn reserve_entries(&mut self, reservations: usize, text_bytes: usize) {
        self.reservations.reserve(reservations);
        self.buyers.reserve(reservations);
        self.texts.reserve(text_bytes);
    }

    /// Writes once to all the room [`reserve_entries`](Self::reserve_entries) made, changing
    /// nothing: a rush then appends into memory already mapped, not a page fault every few
    /// dozen reservations. The owner does it before it takes its first request.
    pub fn touch_reserved(&mut self) {
        let Self { reservations, buyers, texts, .. } = self;
        let (kept, known, written) = (reservations.len(), buyers.len(), texts.len());
        let blank = Span { start: 0, len: 0 };
        reservations.resize_with(reservations.capacity(), || Kept {
            id: Uuid::nil(),
            quantity: 0,
            key: blank,
            buyer: 0,
            times: 0,
            earlier: NONE,
        });
        reservations.truncate(kept);
        buyers.resize_with(buyers.capacity(), || Tally { buyer: Who::Named(blank), bought: 0, latest: NONE, count: 0 });
        buyers.truncate(known);
        let room = texts.capacity() - written;
        texts.extend(std::iter::repeat_n('\0', room));
        texts.truncate(written);
    }

    /// Marks the journal up to `seq` as applied: the reservations [`remember`](Self::remember)ed
    /// from materialised rows cover it.
    pub fn skip_to(&mut self, seq: i64) {
        self.seq = self.seq.max(seq);
    }

    /// Adds one reservation known from elsewhere (a materialised row); `false` if it was
    /// already known.
    pub fn remember(&mut self, buyer: Buyer<'_>, key: &str, held: Held) -> Result<bool, BookFull> {
        self.room_for(1, std::iter::once(buyer.text_len().max(key.len())))?;
        let times = self.times_index(held.at, held.expires_at);
        self.reserve(1);
        Ok(self.insert(buyer, key, held.id, held.quantity, times))
    }

    /// Adds a reservation unless its buyer and key are known; the caller has made room (in
    /// the buyers' table, and under [`CAPACITY`]). One probe of the buyers' table: finding a
    /// buyer's slot is also where a new one goes, and a new buyer has no keys to look for.
    fn insert(&mut self, buyer: Buyer<'_>, key: &str, id: Uuid, quantity: i64, times: u32) -> bool {
        let buyer_hash = self.buyer_hash(buyer);
        let Self { chain, hasher, keys, buyer_index, reservations, buyers, texts, .. } = self;
        let chain = *chain;
        let entries = Entries { chain, hasher, reservations, buyers, texts };
        let known = match buyer_index.entry(buyer_hash, |s| entries.buyer(s.at) == buyer, |s| s.hash()) {
            Entry::Occupied(known) => {
                let known = known.get().at;
                if entries.find_kept(keys, &buyers[known as usize], buyer, key).is_some() {
                    return false;
                }
                Some(known)
            }
            Entry::Vacant(new_buyer) => {
                new_buyer.insert(Slot { at: index(buyers.len()), hash: buyer_hash as u32 });
                None
            }
        };
        let buyer_at = known.unwrap_or_else(|| {
            let who = match buyer {
                Buyer::Member(member) => Who::Member(member),
                Buyer::Named(name) => Who::Named(push(texts, name)),
            };
            buyers.push(Tally { buyer: who, bought: 0, latest: NONE, count: 0 });
            index(buyers.len() - 1)
        });
        let at = index(reservations.len());
        let chained = &mut buyers[buyer_at as usize];
        let earlier = std::mem::replace(&mut chained.latest, at);
        chained.count += 1;
        chained.bought += quantity;
        let count = chained.count;
        reservations.push(Kept { id, quantity, key: push(texts, key), buyer: buyer_at, times, earlier });
        if count > chain {
            // Past `CHAIN` every one of the buyer's reservations is filed by key: this one, and
            // as the buyer passes it, the ones before (some may be filed from an earlier pass).
            let entries = Entries { chain, hasher, reservations, buyers, texts };
            let mut filing = at;
            while filing != NONE {
                let hash = entries.key_hash_of(filing);
                if let Entry::Vacant(slot) = keys.entry(hash, |s| s.at == filing, |s| s.hash()) {
                    slot.insert(Slot { at: filing, hash: hash as u32 });
                }
                filing = if count == chain + 1 { reservations[filing as usize].earlier } else { NONE };
            }
        }
        true
    }

    fn entries(&self) -> Entries<'_> {
        Entries {
            chain: self.chain,
            hasher: &self.hasher,
            reservations: &self.reservations,
            buyers: &self.buyers,
            texts: &self.texts,
        }
    }

    fn key_hash(&self, buyer: Buyer<'_>, key: &str) -> u64 {
        fold(self.hasher.hash_one((buyer, key)))
    }

    fn buyer_hash(&self, buyer: Buyer<'_>) -> u64 {
        fold(self.hasher.hash_one(buyer))
    }

    fn held(&self, kept: &Kept) -> Held {
        let (at, expires_at) = self.times[kept.times as usize];
        Held { id: kept.id, quantity: kept.quantity, at, expires_at }
    }

    /// The index of (at, expires_at) in `times`, added unless it is the last one.
    fn times_index(&mut self, at: Timestamp, expires_at: Timestamp) -> u32 {
        if self.times.last() != Some(&(at, expires_at)) {
            self.times.push((at, expires_at));
        }
        index(self.times.len() - 1)
    }
}

/// A position in one of the book's vectors as its tables keep it: below [`CAPACITY`], which
/// `room_for` checked before anything was added.
fn index(position: usize) -> u32 {
    debug_assert!(position < CAPACITY);
    position as u32
}

fn text(texts: &str, span: Span) -> &str {
    &texts[span.start..span.start + span.len as usize]
}

fn push(texts: &mut String, value: &str) -> Span {
    let start = texts.len();
    texts.push_str(value);
    // At most `CAPACITY` bytes, which `room_for` checked.
    Span { start, len: value.len() as u32 }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::flash::{journal::JournalEntry, member_buyer};

    fn at() -> Timestamp {
        Timestamp::from_timestamp_micros(1_764_000_000_000_000).unwrap()
    }

    /// Buyer `b`'s name: a member's for even `b` (kept by id), any other name for odd.
    fn name(b: u8) -> String {
        if b.is_multiple_of(2) {
            member_buyer(CustomerId::from_uuid(Uuid::from_u128(u128::from(b))))
        } else {
            format!("b{b}")
        }
    }

    fn ask<'a>(buyer: &'a str, key: &'a str, quantity: i64) -> Ask<'a> {
        Ask { buyer: buyer.into(), key, quantity }
    }

    /// Plans a batch and, like the engine after its commit, records what it accepted.
    fn commit(
        book: &mut SaleBook,
        asks: &[Ask<'_>],
        bounds: Bounds,
        released: &HashMap<BuyerBuf, i64>,
    ) -> Vec<Decision> {
        let decisions = book.plan(asks, bounds, released);
        let entries = asks
            .iter()
            .zip(&decisions)
            .filter(|(_, d)| **d == Decision::Accept)
            .enumerate()
            .map(|(n, (a, _))| JournalEntry {
                id: Uuid::from_u128((book.len() + n) as u128),
                quantity: a.quantity,
                buyer: a.buyer,
                key: a.key,
            })
            .collect();
        let seq = book.seq() + 1;
        book.record(seq, &JournalRecord { at: at(), expires_at: at(), entries }).expect("room in the book");
        decisions
    }

    fn check(asks: &[(&str, &str, i64)], units_left: i64, limit: i64, expect: &[Decision]) {
        let asks: Vec<Ask<'_>> = asks.iter().map(|&(b, k, q)| ask(b, k, q)).collect();
        let bounds = Bounds { units_left, quota_left: units_left, per_customer_limit: limit };
        assert_eq!(SaleBook::default().plan(&asks, bounds, &HashMap::new()), expect);
    }

    #[test]
    fn a_batch_is_decided_in_order() {
        use Decision::*;
        use Refusal::*;
        check(&[("a", "1", 1), ("b", "1", 2), ("c", "1", 1)], 2, 2, &[Accept, Refuse(SoldOut), Accept]);
        check(&[("a", "1", 1), ("a", "2", 1), ("a", "3", 1)], 10, 2, &[Accept, Accept, Refuse(LimitReached)]);
        check(&[("a", "1", 1), ("a", "1", 1)], 10, 2, &[Accept, SameAs(0)]);
        check(&[("a", "1", 1), ("b", "1", 1), ("a", "1", 1)], 10, 2, &[Accept, Accept, SameAs(0)]);
        check(&[("a", "1", 3), ("a", "1", 3)], 10, 2, &[Refuse(LimitReached), SameAs(0)]);
        check(&[("a", "1", 1), ("a", "1", 2), ("a", "1", 1)], 10, 2, &[Accept, KeyReused, SameAs(0)]);
        check(&[("a", "1", 3)], 10, 2, &[Refuse(LimitReached)]);
        check(&[("a", "1", 0)], 10, 2, &[Refuse(LimitReached)]);
        check(&[("a", "1", 1)], 0, 2, &[Refuse(SoldOut)]);
    }

    #[test]
    fn a_request_within_the_quota_but_beyond_the_stock_is_out_of_stock() {
        use Decision::*;
        use Refusal::*;
        let asks = [ask("a", "1", 1), ask("b", "1", 2), ask("c", "1", 5), ask("d", "1", 1)];
        // 2 units of stock, 4 of the quota: after a's unit, 1 and 3.
        let bounds = Bounds { units_left: 2, quota_left: 4, per_customer_limit: 5 };
        let decisions = SaleBook::default().plan(&asks, bounds, &HashMap::new());
        assert_eq!(decisions, [Accept, Refuse(OutOfStock), Refuse(SoldOut), Accept]);
    }

    #[test]
    fn retries_find_their_reservation_and_releases_count() {
        let mut book = SaleBook::default();
        let bounds = Bounds { units_left: 10, quota_left: 10, per_customer_limit: 2 };
        let none = HashMap::new();
        assert_eq!(commit(&mut book, &[ask("a", "1", 2)], bounds, &none), vec![Decision::Accept]);
        let held = book.find("a".into(), "1").unwrap();
        assert_eq!(book.plan(&[ask("a", "1", 2)], bounds, &none), vec![Decision::Existing(held)]);
        assert_eq!(book.find("b".into(), "1"), None, "a key is its buyer's");
        assert_eq!(book.plan(&[ask("a", "1", 1)], bounds, &none), vec![Decision::KeyReused]);
        let more = [ask("a", "2", 1)];
        let refused = book.plan(&more, bounds, &none);
        assert_eq!(refused, vec![Decision::Refuse(Refusal::LimitReached)]);
        assert_eq!(book.over_limit(&more, &refused), vec![Buyer::Named("a")]);
        let released = HashMap::from([(BuyerBuf::Named("a".to_owned()), 2)]);
        assert_eq!(book.plan(&more, bounds, &released), vec![Decision::Accept]);
        // A reload that overlaps what the book holds changes nothing.
        let seen = book.find("a".into(), "1").unwrap();
        assert_eq!(book.remember("a".into(), "1", seen.clone()), Ok(false));
        assert_eq!(book.bought("a".into()), 2);
        assert_eq!(book.remember("a".into(), "3", Held { id: Uuid::from_u128(99), ..seen }), Ok(true));
        assert_eq!((book.bought("a".into()), book.len()), (4, 2));
    }

    #[test]
    fn touching_the_reserved_room_changes_nothing_and_keeps_it() {
        let mut book = SaleBook::default();
        let bounds = Bounds { units_left: 10, quota_left: 10, per_customer_limit: 2 };
        let none = HashMap::new();
        commit(&mut book, &[ask("a", "1", 1), ask("b", "1", 2)], bounds, &none);
        book.reserve_entries(1000, 16_000);
        let (mark, capacity) = (book.mark(), (book.reservations.capacity(), book.texts.capacity()));
        let (a, b) = (book.find("a".into(), "1"), book.find("b".into(), "1"));
        book.touch_reserved();
        assert_eq!((book.mark(), book.len(), book.bought("b".into())), (mark, 2, 2));
        assert_eq!((book.find("a".into(), "1"), book.find("b".into(), "1")), (a, b));
        assert_eq!((book.reservations.capacity(), book.texts.capacity()), capacity, "the room is kept");
        assert_eq!(commit(&mut book, &[ask("c", "1", 1)], bounds, &none), vec![Decision::Accept]);
        assert_eq!((book.len(), book.bought("c".into())), (3, 1));
    }

    #[test]
    fn a_full_book_refuses_what_it_cannot_hold_and_stays_as_it_was() {
        use Decision::*;
        let mut book = SaleBook { capacity: 3, ..SaleBook::default() };
        let bounds = Bounds { units_left: 10, quota_left: 10, per_customer_limit: 10 };
        let none = HashMap::new();
        let asks = [ask("a", "1", 1), ask("b", "1", 1), ask("c", "1", 1), ask("d", "1", 1)];
        assert_eq!(commit(&mut book, &asks[..2], bounds, &none), [Accept, Accept]);
        // Room for one more reservation: the rest of the batch is sold out, retries still found.
        let decisions = book.plan(&[asks[0], asks[2], asks[3]], bounds, &none);
        assert!(matches!(decisions[..], [Existing(_), Accept, Refuse(Refusal::SoldOut)]), "{decisions:?}");

        let entry = |buyer: &'static str, id: u128| JournalEntry {
            id: Uuid::from_u128(id),
            quantity: 1,
            buyer: buyer.into(),
            key: "1",
        };
        let two = JournalRecord { at: at(), expires_at: at(), entries: vec![entry("c", 3), entry("d", 4)] };
        let mark = book.mark();
        assert_eq!(book.record(9, &two), Err(BookFull));
        assert_eq!((book.len(), book.seq(), book.mark()), (2, mark.seq, mark), "nothing was added");
        let held = Held { id: Uuid::from_u128(5), quantity: 1, at: at(), expires_at: at() };
        assert_eq!(book.remember("e".into(), "1", held.clone()), Ok(true));
        assert_eq!(book.remember("f".into(), "1", held.clone()), Err(BookFull));
        assert_eq!(book.remember("a".into(), "1", held), Err(BookFull), "full, even for what it knows");
        assert_eq!((book.len(), book.bought("f".into())), (3, 0));
        // A buyer or key longer than the book can measure does not fit either.
        let fresh = SaleBook { capacity: 3, ..SaleBook::default() };
        let asks = [ask("g", "kkkk", 1), ask("g", "kkk", 1)];
        assert_eq!(fresh.plan(&asks, bounds, &none), [Refuse(Refusal::SoldOut), Accept]);
    }

    #[test]
    fn a_buyer_past_the_chain_is_found_by_key_and_taken_back_below_it() {
        let mut book = SaleBook::default();
        let bounds = Bounds { units_left: 1000, quota_left: 1000, per_customer_limit: 1000 };
        let none = HashMap::new();
        let keys: Vec<String> = (0..3 * CHAIN).map(|k| format!("k{k}")).collect();
        let first: Vec<Ask<'_>> = keys[..CHAIN as usize].iter().map(|k| ask("a", k, 1)).collect();
        commit(&mut book, &first, bounds, &none);
        assert!(book.keys.is_empty(), "a buyer with up to CHAIN reservations is found along them");
        let mark = book.mark();
        let rest: Vec<Ask<'_>> = keys[CHAIN as usize..].iter().map(|k| ask("a", k, 1)).collect();
        commit(&mut book, &rest, bounds, &none);
        assert_eq!(book.keys.len(), keys.len(), "past it, every one of theirs is filed by key");
        for key in &keys {
            assert!(book.find("a".into(), key).is_some(), "{key}");
        }
        assert_eq!((book.find("a".into(), "k99"), book.find("b".into(), "k0")), (None, None));
        assert_eq!(book.plan(&[ask("a", "k0", 2)], bounds, &none), [Decision::KeyReused]);
        book.roll_back(mark);
        assert_eq!((book.len(), book.bought("a".into())), (CHAIN as usize, i64::from(CHAIN)));
        for (n, key) in keys.iter().enumerate() {
            assert_eq!(book.find("a".into(), key).is_some(), n < CHAIN as usize, "{key}");
        }
        // Past it again: nothing is filed twice.
        commit(&mut book, &rest, bounds, &none);
        assert_eq!(
            (book.keys.len(), book.len(), book.bought("a".into())),
            (keys.len(), keys.len(), 3 * i64::from(CHAIN))
        );
    }

    proptest! {
        /// Whatever the batches, the book never lets the quota or a buyer's limit be beaten,
        /// and a key is reserved at most once.
        #[test]
        fn batches_never_beat_the_quota_or_the_limit(
            batches in prop::collection::vec(prop::collection::vec((0u8..6, 0u8..4, 1i64..4), 1..30), 1..8),
            quota in 1i64..40,
            limit in 1i64..5,
        ) {
            let mut book = SaleBook::default();
            let mut sold = 0;
            let none = HashMap::new();
            for batch in batches {
                let owned: Vec<(String, String, i64)> =
                    batch.iter().map(|&(b, k, q)| (name(b), format!("k{k}"), q)).collect();
                let asks: Vec<Ask<'_>> = owned.iter().map(|(b, k, q)| ask(b, k, *q)).collect();
                let bounds = Bounds { units_left: quota - sold, quota_left: quota - sold, per_customer_limit: limit };
                let decisions = commit(&mut book, &asks, bounds, &none);
                for (a, d) in asks.iter().zip(&decisions) {
                    if *d == Decision::Accept {
                        sold += a.quantity;
                    }
                    if let Decision::SameAs(first) = d {
                        prop_assert_eq!((asks[*first].buyer, asks[*first].key), (a.buyer, a.key));
                    }
                }
                prop_assert!(sold <= quota);
            }
            for b in 0..6 {
                let buyer = name(b);
                let bought = book.bought(buyer.as_str().into());
                prop_assert!(bought <= limit, "{} bought {}", buyer, bought);
            }
        }

        /// The book decides exactly as the plain rule, written with one map per question:
        /// a known (buyer, key) is answered again, a key repeated in the batch as its first
        /// request (either refused if the quantity differs), and otherwise the limit (less what
        /// was released) and the units left decide.
        #[test]
        fn the_book_decides_as_the_plain_rule(
            batches in prop::collection::vec(prop::collection::vec((0u8..5, 0u8..4, 0i64..4), 1..25), 1..6),
            releases in prop::collection::vec((0u8..5, 0i64..3), 0..3),
            quota in 1i64..30,
            limit in 1i64..4,
            chain in 0u32..4,
        ) {
            // A short chain, so buyers pass it (and batches taken back unwind them below it).
            let mut book = SaleBook { chain, ..SaleBook::default() };
            let mut known: HashMap<(String, String), Held> = HashMap::new();
            let mut bought: HashMap<String, i64> = HashMap::new();
            let released_by_name: HashMap<String, i64> = releases.iter().map(|&(b, n)| (name(b), n)).collect();
            let released: HashMap<BuyerBuf, i64> =
                released_by_name.iter().map(|(b, &n)| (BuyerBuf::from_name(b.clone()), n)).collect();
            let mut sold = 0;
            for batch in batches {
                let owned: Vec<(String, String, i64)> =
                    batch.iter().map(|&(b, k, q)| (name(b), format!("k{k}"), q)).collect();
                let asks: Vec<Ask<'_>> = owned.iter().map(|(b, k, q)| ask(b, k, *q)).collect();
                let bounds = Bounds { units_left: quota - sold, quota_left: quota - sold, per_customer_limit: limit };
                // The plain rule.
                let mut expect = Vec::new();
                let mut first: HashMap<(&str, &str), usize> = HashMap::new();
                let mut added: HashMap<&str, i64> = HashMap::new();
                let mut left = bounds.units_left;
                for (i, a) in asks.iter().enumerate() {
                    let buyer = owned[i].0.as_str();
                    if let Some(held) = known.get(&(buyer.to_owned(), a.key.to_owned())) {
                        expect.push(if held.quantity == a.quantity { Decision::Existing(held.clone()) } else { Decision::KeyReused });
                        continue;
                    }
                    if let Some(&f) = first.get(&(buyer, a.key)) {
                        expect.push(if asks[f].quantity == a.quantity { Decision::SameAs(f) } else { Decision::KeyReused });
                        continue;
                    }
                    first.insert((buyer, a.key), i);
                    let had = bought.get(buyer).copied().unwrap_or(0);
                    let back = if had > 0 { released_by_name.get(buyer).copied().unwrap_or(0) } else { 0 };
                    let so_far = had - back + added.get(buyer).copied().unwrap_or(0);
                    expect.push(if a.quantity <= 0 || a.quantity > limit - so_far {
                        Decision::Refuse(Refusal::LimitReached)
                    } else if a.quantity > left {
                        Decision::Refuse(Refusal::SoldOut)
                    } else {
                        left -= a.quantity;
                        *added.entry(buyer).or_default() += a.quantity;
                        Decision::Accept
                    });
                }
                prop_assert_eq!(&book.plan(&asks, bounds, &released), &expect);
                // A batch recorded and then taken back (its append refused) leaves no trace.
                let mark = book.mark();
                commit(&mut book, &asks, bounds, &released);
                book.roll_back(mark);
                prop_assert_eq!(book.len(), known.len());
                prop_assert_eq!(&book.plan(&asks, bounds, &released), &expect);
                let decisions = commit(&mut book, &asks, bounds, &released);
                prop_assert_eq!(&decisions, &expect);
                for ((buyer, _, _), (a, d)) in owned.iter().zip(asks.iter().zip(&decisions)) {
                    if *d == Decision::Accept {
                        sold += a.quantity;
                        *bought.entry(buyer.clone()).or_default() += a.quantity;
                        known.insert((buyer.clone(), a.key.to_owned()), book.find(a.buyer, a.key).unwrap());
                    }
                }
            }
            for (buyer, units) in &bought {
                prop_assert_eq!(book.bought(buyer.as_str().into()), *units);
            }
            prop_assert_eq!(book.len(), known.len());
        }
    }
}
