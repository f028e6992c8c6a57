//! SQLite's index of the events anonymous ids sent while no customer was tied to them: what a
//! stitch gives its customer (`UPDATE … WHERE anonymous_id = $1 AND customer_id IS NULL` on
//! PostgreSQL, which keeps a partial index for it).
//!
//! Anonymous ids are random (an SDK makes a UUID per visitor), so an index entry written with
//! each event lands on a page of its own, and SQLite's log takes whole pages: every commit
//! wrote about a page per event (~10 KB), which held random-visitor ingest to 58–73k events/s
//! against ~260k without the index. Here the writer indexes events in bulk instead:
//!
//! - `anonymous_event_index (visitor, seq)` holds the events up to a watermark (the counter
//!   [`WATERMARK`]): a visitor is a 64-bit hash of the anonymous id ([`visitor`]), an event its
//!   row number (`customer_events.seq`);
//! - the [`Tail`], in memory beside the writer, holds the unowned anonymous events after it;
//! - once the tail reaches [`FLUSH_AT`] events (or a [`GROWTH`]th of the index), it is set
//!   aside sorted by visitor and the next commits each write a chunk of it ([`FLUSH_CHUNK`], a
//!   range of visitors) to the index in a transaction of their own; the last chunk moves the
//!   watermark. Each page of the index is then written once for many events, and no commit
//!   waits long behind a chunk.
//!
//! The tail is a cache of the table, not the truth: it is filled from the table when the writer
//! first needs it (after a restart: whatever came after the watermark), and before each use it
//! checks that the table's last row is the last it knows, reading what another process may have
//! written otherwise. A stitch takes its candidates from both and compares the anonymous id
//! exactly, so a stale entry or a hash collision costs a look, never a wrong owner.

use std::{ffi::CStr, ptr::NonNull};

use libsqlite3_sys as ffi;
use rustc_hash::FxHashMap;
use uuid::Uuid;

use super::{
    SqlTx,
    raw::{Statement, Statements, corrupt},
    writer::Parts,
};
use crate::StoreResult;

/// Tail events at which they start going to the index: 524,288 events (~13 MB of memory, about
/// two seconds of full-speed ingest), or a [`GROWTH`]th of the index if that is more. Against
/// 131,072: a fifth fewer bytes written per event (each flush rewrites the index pages its
/// visitors land on, at this size nearly all); events/s 5 % more on average over five
/// alternating pairs, which is within this machine's spread from run to run.
pub(super) const FLUSH_AT: usize = 1 << 19;

/// The index grows by at least this fraction at a time. Visitors are random, so a flush writes
/// every page of the index that holds one of its visitors: nearly all of them once it has more
/// visitors than the index has pages. Flushing a fixed number of events, what each event costs
/// would grow with the index; flushing a 16th of it, each event costs a 16th of a page-share
/// at any size, for a tail in memory that is a 16th of the index (~24 bytes an event).
const GROWTH: usize = 16;

/// The counter (in `counters`) holding the last event row number the index covers.
const WATERMARK: &str = "anonymous_event_index";
/// The counter holding about how many entries the index has (stitches take some out uncounted).
const ENTRIES: &str = "anonymous_event_index_entries";

/// The key of an anonymous id in the index: its 64-bit FNV-1a hash. It is stored, so it must not
/// change between versions (Rust's own hasher may); collisions only add candidates.
pub(super) fn visitor(anonymous_id: &str) -> i64 {
    let hash = anonymous_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The unowned anonymous events after the watermark, by visitor. Touched only by the holder
/// of the writer.
#[derive(Debug)]
pub(crate) struct Tail {
    /// Filled from the table (it is empty until the writer first needs it).
    loaded: bool,
    /// Events at which the tail starts going to the index ([`FLUSH_AT`]; fewer in tests).
    flush_at: usize,
    /// Index entries written per transaction on the way ([`FLUSH_CHUNK`]; fewer in tests).
    chunk: usize,
    /// The last event row number this tail has accounted for.
    known: i64,
    /// About how many entries the index has.
    indexed: usize,
    events: Chains,
    /// The tail on its way to the index, a chunk per commit; still searched until it is there.
    flushing: Option<Flush>,
}

/// Tail events sorted by (visitor, seq), written to the index from `next` on; the watermark
/// moves to `upto` with the last chunk.
#[derive(Debug)]
struct Flush {
    entries: Vec<(i64, i64)>,
    next: usize,
    upto: i64,
}

/// Index entries written per transaction while the tail goes to the index: each chunk is a
/// range of visitors, so the pages it writes are its own, and no commit waits long behind one
/// (the whole tail at once took ~100 ms).
const FLUSH_CHUNK: usize = 16_384;

impl Default for Tail {
    fn default() -> Tail {
        let (flush_at, chunk) = (FLUSH_AT, FLUSH_CHUNK);
        Tail { loaded: false, flush_at, chunk, known: 0, indexed: 0, events: Chains::default(), flushing: None }
    }
}

/// What a write transaction did to the tail, applied if it commits: the unowned anonymous
/// events it inserted and those its stitches gave a customer, as (visitor, seq).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    added: Vec<(i64, i64)>,
    stitched: Vec<(i64, i64)>,
}

impl Pending {
    /// An event just inserted with an anonymous id and no customer.
    pub(super) fn added(&mut self, anonymous_id: &str, seq: i64) {
        self.added.push((visitor(anonymous_id), seq));
    }
}

impl Tail {
    /// Brings the tail up to the table's last row: fills it on first use, and reads the rows
    /// another process appended since. Called in a write transaction before events are
    /// inserted or looked up.
    pub(super) fn catch_up(
        &mut self,
        db: NonNull<ffi::sqlite3>,
        statements: &mut Statements,
        pending: &Pending,
    ) -> StoreResult<()> {
        if !pending.added.is_empty() {
            // This transaction appended after catching up; nobody else can have written since.
            return Ok(());
        }
        if !self.loaded {
            let counter = Statement::prepare(db, c"SELECT value FROM counters WHERE name = ?1")?;
            let upto = counter.one_int(Some(WATERMARK))?;
            let indexed = usize::try_from(counter.one_int(Some(ENTRIES))?).unwrap_or(0);
            *self = Tail {
                loaded: true,
                known: upto,
                indexed,
                flush_at: self.flush_at,
                chunk: self.chunk,
                ..Tail::default()
            };
        }
        let last = statements.get(db, c"SELECT COALESCE(MAX(seq), 0) FROM customer_events")?.one_int(None)?;
        if last > self.known {
            let scan = Statement::prepare(
                db,
                c"SELECT seq, anonymous_id FROM customer_events WHERE seq > ?1 \
                  AND customer_id IS NULL AND anonymous_id IS NOT NULL",
            )?;
            scan.int(1, self.known)?;
            let mut found = Vec::new();
            let scanned = scan.rows(|row| {
                // SAFETY: a row is current; the text is hashed before the next step.
                let anonymous_id = unsafe { row.column(1) };
                let anonymous_id = std::str::from_utf8(anonymous_id).map_err(|e| corrupt("an anonymous id", &e))?;
                found.push((visitor(anonymous_id), row.column_int(0)));
                Ok(())
            });
            scan.reset();
            scanned?;
            for (visitor, seq) in found {
                self.insert(visitor, seq);
            }
            self.known = last;
        }
        Ok(())
    }

    /// The events of `visitor` the index may not have: the tail's, those on their way and this
    /// transaction's.
    fn candidates(&self, visitor: i64, pending: &Pending) -> Vec<i64> {
        let mut found = self.events.of(visitor);
        if let Some(flush) = &self.flushing {
            found.extend(flush.entries[flush.of(visitor)].iter().map(|(_, seq)| *seq));
        }
        found.extend(pending.added.iter().filter(|(v, _)| *v == visitor).map(|(_, seq)| *seq));
        found
    }

    fn insert(&mut self, visitor: i64, seq: i64) {
        self.events.push(visitor, seq);
    }

    /// Takes in a committed transaction's changes. A tail not filled yet ignores them: it will
    /// find them in the table.
    pub(super) fn apply(&mut self, pending: Pending) {
        if !self.loaded {
            return;
        }
        for (visitor, seq) in pending.added {
            self.known = self.known.max(seq);
            self.insert(visitor, seq);
        }
        for (visitor, seq) in pending.stitched {
            self.events.take_out(visitor, seq);
            // Not written yet: it need not be (written already, the stitch took it out).
            if let Some(flush) = &mut self.flushing
                && let Ok(at) = flush.entries[flush.next..].binary_search(&(visitor, seq))
            {
                flush.entries.remove(flush.next + at);
            }
        }
    }

    /// Whether the commit just made should write (more of) the tail to the index.
    pub(super) fn wants_flush(&self) -> bool {
        self.loaded && (self.flushing.is_some() || self.events.live >= self.flush_at.max(self.indexed / GROWTH))
    }

    /// Writes the next chunk of the tail to the index, sorted, inside a transaction the caller
    /// commits (and then calls [`Tail::flushed`]); the last chunk moves the watermark. The first
    /// call takes the whole tail aside, sorted: what arrives meanwhile starts the next tail.
    pub(super) fn flush(&mut self, db: NonNull<ffi::sqlite3>, statements: &mut Statements) -> StoreResult<()> {
        if self.flushing.is_none() {
            let entries = std::mem::take(&mut self.events).sorted();
            self.flushing = Some(Flush { entries, next: 0, upto: self.known });
        }
        let Some(flush) = &self.flushing else { return Ok(()) };
        let chunk = &flush.entries[flush.next..flush.entries.len().min(flush.next + self.chunk)];
        let insert =
            statements.get(db, c"INSERT OR IGNORE INTO anonymous_event_index (visitor, seq) VALUES (?1, ?2)")?;
        for (visitor, seq) in chunk {
            insert.int(1, *visitor)?;
            insert.int(2, *seq)?;
            // SAFETY: integers are copied when bound.
            let done = unsafe { insert.step() };
            insert.reset();
            done?;
        }
        if flush.next + chunk.len() < flush.entries.len() {
            return Ok(());
        }
        // Another connection may have moved the watermark further; the count is an estimate.
        set_counter(
            db,
            c"INSERT INTO counters (name, value) VALUES (?1, ?2) \
            ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
            WATERMARK,
            flush.upto,
        )?;
        let entries = i64::try_from(self.indexed + flush.entries.len()).unwrap_or(i64::MAX);
        set_counter(
            db,
            c"INSERT INTO counters (name, value) VALUES (?1, ?2) \
            ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            ENTRIES,
            entries,
        )
    }

    /// The chunk [`Tail::flush`] wrote was committed.
    pub(super) fn flushed(&mut self) {
        if let Some(flush) = &mut self.flushing {
            flush.next = flush.entries.len().min(flush.next + self.chunk);
            if flush.next == flush.entries.len() {
                self.indexed += flush.entries.len();
                self.flushing = None;
            }
        }
    }
}

/// Runs `sql`, an upsert of counter `name` (`?1`) to `value` (`?2`).
fn set_counter(db: NonNull<ffi::sqlite3>, sql: &CStr, name: &str, value: i64) -> StoreResult<()> {
    let upsert = Statement::prepare(db, sql)?;
    // SAFETY: the name outlives the step; `reset` follows at once; the integer is copied.
    let done = upsert.text(1, Some(name)).and_then(|()| upsert.int(2, value)).and_then(|()| unsafe { upsert.step() });
    upsert.reset();
    done.map(drop)
}

/// Tail events in arrival order, each visitor's linked from its newest back through
/// `previous`: taking one in is a push and a map update, with no allocation per visitor.
#[derive(Debug, Default)]
struct Chains {
    /// Each visitor's newest entry. The key is a hash already, and the map takes one insert per
    /// ingested event: SipHash made that insert 3 % of the server's CPU under ingest (`perf`).
    newest: FxHashMap<i64, usize>,
    /// (visitor, seq), seq [`TAKEN`] once a stitch took the event out.
    entries: Vec<(i64, i64)>,
    /// The visitor's entry before each, or `usize::MAX`.
    previous: Vec<usize>,
    /// Entries not taken out.
    live: usize,
}

/// The seq of an entry taken out of the tail (event row numbers start at 1).
const TAKEN: i64 = 0;

impl Chains {
    fn push(&mut self, visitor: i64, seq: i64) {
        let previous = self.newest.insert(visitor, self.entries.len()).unwrap_or(usize::MAX);
        self.entries.push((visitor, seq));
        self.previous.push(previous);
        self.live += 1;
    }

    /// Where `visitor`'s entries are, newest first.
    fn chain(&self, visitor: i64) -> impl Iterator<Item = usize> + '_ {
        let newest = self.newest.get(&visitor).copied().unwrap_or(usize::MAX);
        std::iter::successors(Some(newest), |at| self.previous.get(*at).copied()).take_while(|at| *at != usize::MAX)
    }

    /// `visitor`'s events.
    fn of(&self, visitor: i64) -> Vec<i64> {
        self.chain(visitor).map(|at| self.entries[at].1).filter(|seq| *seq != TAKEN).collect()
    }

    fn take_out(&mut self, visitor: i64, seq: i64) {
        let found = self.chain(visitor).find(|at| self.entries[*at].1 == seq);
        if let Some(at) = found {
            self.entries[at].1 = TAKEN;
            self.live -= 1;
        }
    }

    /// Every event, sorted by (visitor, seq).
    fn sorted(self) -> Vec<(i64, i64)> {
        let mut entries = self.entries;
        entries.retain(|(_, seq)| *seq != TAKEN);
        entries.sort_unstable();
        entries
    }
}

impl Flush {
    /// Where `visitor`'s entries are.
    fn of(&self, visitor: i64) -> std::ops::Range<usize> {
        let start = self.entries.partition_point(|(v, _)| *v < visitor);
        start..start + self.entries[start..].partition_point(|(v, _)| *v == visitor)
    }
}

/// Gives `owner` the events `anonymous_id` sent before it was tied to them (see [`stitch`]).
pub(crate) async fn stitch_events(tx: &mut SqlTx, anonymous_id: &str, owner: Uuid) -> StoreResult<()> {
    let Parts { db, statements, tail, pending } = tx.tx.writing().await?;
    tail.catch_up(db, statements, pending)?;
    stitch(db, tail, pending, anonymous_id, owner)
}

/// Gives `owner` the events `anonymous_id` sent with no customer (the tail caught up): those the
/// index and the tail name, compared exactly. Their index entries go; the tail lets go of them on commit.
fn stitch(
    db: NonNull<ffi::sqlite3>,
    tail: &mut Tail,
    pending: &mut Pending,
    anonymous_id: &str,
    owner: Uuid,
) -> StoreResult<()> {
    let visitor = visitor(anonymous_id);
    let indexed = Statement::prepare(db, c"SELECT seq FROM anonymous_event_index WHERE visitor = ?1")?;
    indexed.int(1, visitor)?;
    let mut candidates = Vec::new();
    let found = indexed.rows(|row| {
        candidates.push(row.column_int(0));
        Ok(())
    });
    indexed.reset();
    found?;
    candidates.extend(tail.candidates(visitor, pending));
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.is_empty() {
        return Ok(());
    }
    let candidates = json_array(&candidates);
    let update = Statement::prepare(
        db,
        c"UPDATE customer_events SET customer_id = ?1 WHERE seq IN (SELECT value FROM json_each(?2)) \
          AND anonymous_id = ?3 AND customer_id IS NULL RETURNING seq",
    )?;
    let mut stitched = Vec::new();
    let updated = update
        .blob(1, Some(owner.as_bytes()))
        .and_then(|()| update.text(2, Some(&candidates)))
        .and_then(|()| update.text(3, Some(anonymous_id)))
        .and_then(|()| {
            update.rows(|row| {
                stitched.push(row.column_int(0));
                Ok(())
            })
        });
    update.reset();
    updated?;
    if stitched.is_empty() {
        return Ok(());
    }
    let unindex = Statement::prepare(
        db,
        c"DELETE FROM anonymous_event_index WHERE visitor = ?1 AND seq IN (SELECT value FROM json_each(?2))",
    )?;
    let stitched_list = json_array(&stitched);
    let deleted = unindex.int(1, visitor).and_then(|()| unindex.text(2, Some(&stitched_list))).and_then(|()| {
        // SAFETY: the list outlives the step; `reset` follows at once.
        unsafe { unindex.step() }.map(drop)
    });
    unindex.reset();
    deleted?;
    pending.stitched.extend(stitched.into_iter().map(|seq| (visitor, seq)));
    Ok(())
}

/// Row numbers as a JSON array, for `json_each`.
fn json_array(seqs: &[i64]) -> String {
    let mut text = String::with_capacity(seqs.len() * 8 + 2);
    text.push('[');
    for (i, seq) in seqs.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&seq.to_string());
    }
    text.push(']');
    text
}

impl Statement {
    /// Steps through every row, handing each to `row`; the caller resets.
    fn rows(&self, mut row: impl FnMut(&Statement) -> StoreResult<()>) -> StoreResult<()> {
        // SAFETY: callers bind only memory that outlives this call.
        while unsafe { self.step() }? {
            row(self)?;
        }
        Ok(())
    }

    /// The integer in the first column of the first row (0 if there is none), with `?1` bound
    /// to `param` if there is one.
    fn one_int(&self, param: Option<&str>) -> StoreResult<i64> {
        let value = param
            .map_or(Ok(()), |param| self.text(1, Some(param)))
            // SAFETY: `param` outlives the step; `reset` follows at once.
            .and_then(|()| unsafe { self.step() })
            .map(|row| if row { self.column_int(0) } else { 0 });
        self.reset();
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_is_the_fnv_1a_hash_of_the_id() {
        // Published FNV-1a 64 test vectors: the index's keys must never change.
        assert_eq!(visitor(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(visitor("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
        assert_eq!(visitor("foobar"), 0x8594_4171_f739_67e8_u64 as i64);
    }

    #[test]
    fn the_tail_forgets_stitched_events() {
        let mut tail = Tail { loaded: true, ..Tail::default() };
        let mut pending = Pending::default();
        pending.added("x", 1);
        pending.added("y", 2);
        pending.added("x", 3);
        tail.apply(pending);
        assert_eq!((tail.events.live, tail.known), (3, 3));
        assert_eq!(tail.candidates(visitor("x"), &Pending::default()), [3, 1]);
        tail.apply(Pending { added: vec![], stitched: vec![(visitor("x"), 1), (visitor("x"), 3)] });
        assert_eq!(tail.events.live, 1);
        assert!(tail.events.of(visitor("x")).is_empty());
        assert_eq!(tail.events.of(visitor("y")), [2]);
        assert_eq!(std::mem::take(&mut tail.events).sorted(), [(visitor("y"), 2)]);
        assert!(tail.flushing.is_none());
    }

    #[test]
    fn the_tail_waits_for_a_sixteenth_of_a_large_index() {
        let mut tail = Tail { loaded: true, flush_at: 4, indexed: 16 * 200, ..Tail::default() };
        for seq in 1..200 {
            tail.events.push(visitor("x"), seq);
        }
        assert!(!tail.wants_flush());
        tail.events.push(visitor("y"), 200);
        assert!(tail.wants_flush());
        let small = Tail { loaded: true, flush_at: 4, indexed: 16, events: tail.events, ..Tail::default() };
        assert!(small.wants_flush());
    }

    #[test]
    fn a_tail_not_filled_yet_leaves_commits_to_the_table() {
        let mut tail = Tail::default();
        let mut pending = Pending::default();
        pending.added("x", 7);
        tail.apply(pending);
        assert_eq!((tail.events.live, tail.known), (0, 0));
        assert!(!tail.wants_flush());
    }

    mod on_a_database {
        //! Stitching through the tail, the index and both, across restarts and connections.

        use std::path::Path;

        use quanyu_domain::{
            customer::Customer,
            events::{EventMessage, EventType},
            ids::CustomerId,
            time::Timestamp,
        };
        use sqlx::Row as _;

        use crate::{Database as _, EventSource, SqliteDatabase, SqliteDurability, StoredEvent, Tx};

        struct Chain {
            db: SqliteDatabase,
            source: uuid::Uuid,
            customer: CustomerId,
        }

        fn now() -> Timestamp {
            chrono::Utc::now()
        }

        async fn open(path: &Path, flush_at: usize, chunk: usize) -> SqliteDatabase {
            let db = SqliteDatabase::open(path, SqliteDurability::Normal).await.expect("opening SQLite");
            db.migrate().await.expect("migrating");
            let mut writer = db.writer.hold().await.expect("the writer");
            (writer.anonymous.flush_at, writer.anonymous.chunk) = (flush_at, chunk);
            drop(writer);
            db
        }

        async fn write(db: &SqliteDatabase) -> Box<dyn Tx> {
            db.write().await.expect("a write transaction")
        }

        /// A database with an event source and a customer.
        async fn chain(path: &Path, flush_at: usize, chunk: usize) -> Chain {
            let db = open(path, flush_at, chunk).await;
            let source = uuid::Uuid::now_v7();
            let customer = Customer {
                id: CustomerId::new(),
                ordinal: 1,
                display_name: None,
                home_store_id: None,
                guide_id: None,
                tier_id: None,
                merged_into: None,
                created_at: now(),
                updated_at: now(),
            };
            let mut tx = write(&db).await;
            let key_hash = source.to_string();
            let at = now();
            let named = EventSource {
                id: source,
                name: "app".into(),
                key_hash,
                created_by: None,
                created_at: at,
                revoked_at: None,
            };
            tx.insert_event_source(&named).await.expect("a source");
            tx.insert_customer(&customer).await.expect("a customer");
            tx.commit().await.expect("committing");
            Chain { db, source, customer: customer.id }
        }

        impl Chain {
            /// Commits one event per anonymous id given.
            async fn send(&self, visitors: &[&str]) {
                let mut tx = write(&self.db).await;
                tx.insert_events(&mut self.events(visitors)).await.expect("inserting");
                tx.commit().await.expect("committing");
            }

            fn events(&self, visitors: &[&str]) -> Vec<StoredEvent> {
                let event = |visitor: &&str| StoredEvent {
                    id: uuid::Uuid::now_v7(),
                    source_id: self.source,
                    message: EventMessage {
                        kind: EventType::Track,
                        message_id: uuid::Uuid::now_v7().to_string(),
                        name: Some("Product Viewed".into()),
                        user_id: None,
                        anonymous_id: Some((*visitor).to_owned()),
                        previous_id: None,
                        timestamp: None,
                        properties: "{}".into(),
                        traits: "{}".into(),
                        context: "{}".into(),
                    },
                    customer_id: None,
                    occurred_at: now(),
                    received_at: now(),
                };
                visitors.iter().map(event).collect()
            }

            async fn stitch(&self, visitor: &str) {
                let mut tx = write(&self.db).await;
                tx.stitch_anonymous_id(visitor, self.customer, now()).await.expect("stitching");
                tx.commit().await.expect("committing");
            }

            /// (events of `visitor` with the customer, events of `visitor` without one).
            async fn owned(&self, visitor: &str) -> (i64, i64) {
                let row = sqlx::query(
                    "SELECT COUNT(customer_id), COUNT(*) - COUNT(customer_id) FROM customer_events WHERE anonymous_id = ?1",
                )
                .bind(visitor)
                .fetch_one(&self.db.readers)
                .await
                .expect("a count");
                (row.get(0), row.get(1))
            }

            /// (index entries, tail events, tail events on their way to the index).
            async fn sizes(&self) -> (i64, usize, usize) {
                let indexed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM anonymous_event_index")
                    .fetch_one(&self.db.readers)
                    .await
                    .expect("a count");
                let writer = self.db.writer.hold().await.expect("the writer");
                let flushing = writer.anonymous.flushing.as_ref().map_or(0, |f| f.entries.len() - f.next);
                (indexed, writer.anonymous.events.live, flushing)
            }

            async fn watermark(&self) -> i64 {
                sqlx::query_scalar("SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'anonymous_event_index'")
                    .fetch_one(&self.db.readers)
                    .await
                    .expect("the watermark")
            }
        }

        #[tokio::test]
        async fn a_stitch_finds_events_in_the_index_and_in_the_tail() {
            let dir = tempfile::tempdir().expect("a directory");
            let chain = chain(&dir.path().join("a.db"), 8, 100).await;
            chain.send(&["v1", "v2", "v1", "v3", "v1"]).await;
            assert_eq!(chain.sizes().await, (0, 5, 0), "under the threshold, only in memory");
            chain.send(&["v2", "v2", "v3", "v1"]).await;
            assert_eq!(chain.sizes().await, (9, 0, 0), "the commit that reached 8 wrote all 9 to the index");
            assert_eq!(chain.watermark().await, 9, "the last of the nine events");
            let entries: i64 =
                sqlx::query_scalar("SELECT value FROM counters WHERE name = 'anonymous_event_index_entries'")
                    .fetch_one(&chain.db.readers)
                    .await
                    .expect("the count");
            assert_eq!(entries, 9);
            chain.send(&["v1", "v2"]).await;
            assert_eq!(chain.sizes().await, (9, 2, 0));

            chain.stitch("v1").await;
            assert_eq!(chain.owned("v1").await, (5, 0), "four indexed events and one in the tail");
            assert_eq!(chain.owned("v2").await, (0, 4), "another visitor's events stay anonymous");
            assert_eq!(chain.sizes().await, (5, 1, 0), "v1's entries left the index and the tail");
            chain.send(&["v1"]).await;
            assert_eq!(chain.owned("v1").await, (6, 0), "a tied id's events get the customer as they arrive");
            assert_eq!(chain.sizes().await, (5, 1, 0));
        }

        #[tokio::test]
        async fn the_tail_goes_to_the_index_a_chunk_per_commit_and_is_searched_meanwhile() {
            let dir = tempfile::tempdir().expect("a directory");
            let chain = chain(&dir.path().join("e.db"), 4, 2).await;
            let mut by_key = ["v1", "v2", "v3"];
            by_key.sort_by_key(|v| super::super::visitor(v));
            let [first, middle, last] = by_key;
            chain.send(&["v1", "v2", "v3", "v1", "v2", "v3"]).await;
            assert_eq!(
                chain.sizes().await,
                (2, 0, 4),
                "the first chunk, the first visitor's two, went with the commit"
            );
            assert_eq!(chain.watermark().await, 0, "the watermark waits for the last chunk");
            chain.stitch(last).await;
            assert_eq!(chain.owned(last).await, (2, 0), "found among the entries not written yet");
            assert_eq!(
                chain.sizes().await,
                (4, 0, 0),
                "the stitch took the last one's out; the middle one's went with its commit"
            );
            assert_eq!(chain.watermark().await, 6);
            chain.stitch(first).await;
            assert_eq!(chain.owned(first).await, (2, 0));
            assert_eq!(chain.owned(middle).await, (0, 2));
            assert_eq!(chain.sizes().await, (2, 0, 0));
        }

        #[tokio::test]
        async fn after_a_restart_the_events_past_the_watermark_are_found_in_the_table() {
            let dir = tempfile::tempdir().expect("a directory");
            let path = dir.path().join("b.db");
            let chain = chain(&path, 4, 100).await;
            chain.send(&["v1", "v2", "v1", "v2"]).await;
            chain.send(&["v1", "v2"]).await;
            assert_eq!(chain.sizes().await, (4, 2, 0));
            chain.db.close().await;

            let db = open(&path, 4, 100).await;
            let chain = Chain { db, ..chain };
            chain.stitch("v1").await;
            assert_eq!(chain.owned("v1").await, (3, 0));
            assert_eq!(chain.sizes().await, (2, 1, 0), "v2's event past the watermark was read back into the tail");
        }

        #[tokio::test]
        async fn events_another_connection_wrote_are_found() {
            let dir = tempfile::tempdir().expect("a directory");
            let path = dir.path().join("c.db");
            let chain = chain(&path, 1 << 20, 100).await;
            chain.send(&["v1"]).await;
            let other = Chain { db: open(&path, 1 << 20, 100).await, ..chain };
            other.send(&["v1", "v2", "v1"]).await;
            chain.send(&["v2"]).await;
            chain.stitch("v1").await;
            assert_eq!(chain.owned("v1").await, (3, 0));
            assert_eq!(chain.sizes().await, (0, 2, 0));
            other.db.close().await;
        }

        #[tokio::test]
        async fn a_rolled_back_insert_leaves_the_tail_as_it_was() {
            let dir = tempfile::tempdir().expect("a directory");
            let chain = chain(&dir.path().join("d.db"), 1 << 20, 100).await;
            chain.send(&["v1"]).await;
            let mut tx = write(&chain.db).await;
            tx.insert_events(&mut chain.events(&["v2", "v2"])).await.expect("inserting");
            drop(tx);
            assert_eq!(chain.sizes().await, (0, 1, 0));
            // The rolled-back rows' numbers are used again.
            chain.send(&["v3", "v3"]).await;
            chain.stitch("v2").await;
            assert_eq!(chain.owned("v2").await, (0, 0));
            assert_eq!(chain.owned("v3").await, (0, 2));
            assert_eq!(chain.sizes().await, (0, 3, 0));
        }
    }
}
