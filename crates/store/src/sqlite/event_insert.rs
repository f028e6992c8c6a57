//! Customer events into SQLite through one single-row `INSERT … ON CONFLICT DO NOTHING`,
//! prepared once per writer connection and stepped once per event on the writer connection's own
//! handle ([`raw`](super::raw)): each text is bound where it lies (`SQLITE_STATIC`, no copy into
//! sqlx's arguments and none into SQLite's), no statement journal is needed (a single row has
//! nothing to undo half-way) and whether each row was new is SQLite's own change count. Before
//! that, under the same handle, anonymous events with no customer are given those their
//! anonymous ids are tied to, in one look-up for the batch; those left without one are noted
//! for the [anonymous-event index](super::anonymous_index).
//!
//! Ingest binds 14 values per event at hundreds of thousands of events a second, where sqlx's
//! per-statement hand-off to its worker thread and its copies of every argument were most of
//! the writer's time. Each hand-off is a round trip between two threads, which on a busy machine
//! waits for a core (0.2–1.4 ms per statement measured under ingest), so the look-ups and the
//! inserts run on the handle the writer keeps (see [`writer`](super::writer)): an ingest
//! transaction hands nothing to sqlx's worker.

use std::{collections::HashMap, ffi::CStr, ptr::NonNull};

use libsqlite3_sys as ffi;

use quanyu_domain::{ids::CustomerId, time::Timestamp};
use uuid::Uuid;

use super::{
    SqlTx,
    raw::{Statement, Statements, corrupt},
    writer::Parts,
};
use crate::{StoreError, StoreResult, StoredEvent};

const INSERT: &CStr = c"INSERT INTO customer_events (id, source_id, message_id, kind, name, user_id, anonymous_id, \
    previous_id, customer_id, properties, traits, context, occurred_at, received_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
    ON CONFLICT (source_id, message_id) DO NOTHING";

/// The customers the ids in a JSON array (sorted) are tied to: the array walked in order, each id
/// looked up in the primary key. `anonymous_id IN (SELECT value FROM json_each(…))` first built a
/// temporary index of the array's ids: with random visitor ids the look-up took 7.4 % of the
/// server's CPU under ingest, and 3.8 % this way (`perf`).
const OWNERS: &CStr = c"SELECT a.anonymous_id, a.customer_id FROM json_each(?1) AS j \
    CROSS JOIN anonymous_ids AS a ON a.anonymous_id = j.value";

/// Gives anonymous events their customers, then inserts the events one row at a time through
/// one prepared statement, skipping those stored already (same source and messageId) and
/// repeats; returns how many were new.
pub(crate) async fn insert_event_rows(tx: &mut SqlTx, events: &mut [StoredEvent]) -> StoreResult<u64> {
    let Parts { db, statements, tail, pending } = tx.tx.writing().await?;
    give_anonymous_events_their_customers(db, statements, events)?;
    tail.catch_up(db, statements, pending)?;
    let insert = statements.get(db, INSERT)?;
    let (mut occurred_at, mut received_at) = (TimestampText::default(), TimestampText::default());
    let mut inserted = 0;
    for event in events.iter() {
        // NULL when it is the received time: each timestamp is written once (migration 0025).
        let occurred_at =
            if event.occurred_at == event.received_at { None } else { Some(occurred_at.of(event.occurred_at)) };
        let new = insert.row(event, occurred_at, received_at.of(event.received_at))?;
        if let (1, None, Some(anonymous_id)) = (new, event.customer_id, event.message.anonymous_id.as_deref()) {
            pending.added(anonymous_id, insert.last_insert_rowid());
        }
        inserted += new;
    }
    Ok(inserted)
}

/// Gives each event that has no customer the one its anonymous id is tied to, if any: one
/// look-up of every such id in the batch at once (a JSON array read by `json_each`).
fn give_anonymous_events_their_customers(
    db: NonNull<ffi::sqlite3>,
    statements: &mut Statements,
    events: &mut [StoredEvent],
) -> StoreResult<()> {
    let ids = StoredEvent::unowned_anonymous_ids(events);
    if ids.is_empty() {
        return Ok(());
    }
    let ids =
        serde_json::to_string(&ids).map_err(|e| StoreError::Unavailable(format!("cannot write a JSON array: {e}")))?;
    let owners = statements.get(db, OWNERS)?.owners(&ids)?;
    StoredEvent::give_owners(events, &owners);
    Ok(())
}

/// A timestamp as sqlx writes it (so it compares and reads back alike), formatted once for a
/// run of events that share it: a request's events share their received time, and most carry
/// no client time of their own.
#[derive(Default)]
struct TimestampText {
    last: Option<(Timestamp, String)>,
}

impl TimestampText {
    fn of(&mut self, at: Timestamp) -> &str {
        if self.last.as_ref().is_none_or(|(last, _)| *last != at) {
            self.last = Some((at, super::raw::timestamp(at)));
        }
        self.last.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

impl Statement {
    /// Runs [`OWNERS`]: the customers anonymous ids (a JSON array) are tied to.
    fn owners(&self, ids: &str) -> StoreResult<HashMap<String, CustomerId>> {
        let mut owners = HashMap::new();
        let found = self.text(1, Some(ids)).and_then(|()| {
            // SAFETY: the parameter is bound to memory that outlives this call (see `reset`).
            while unsafe { self.step() }? {
                // SAFETY: a row is current; both columns are copied out before the next step.
                let (id, customer) = unsafe { (self.column(0), self.column(1)) };
                let id = std::str::from_utf8(id).map_err(|e| corrupt("a stored anonymous id", &e))?;
                let customer = Uuid::from_slice(customer).map_err(|e| corrupt("an anonymous id's customer", &e))?;
                owners.insert(id.to_owned(), CustomerId::from_uuid(customer));
            }
            Ok(())
        });
        self.reset();
        found.map(|()| owners)
    }

    /// Runs [`INSERT`] for one event, its timestamps given as text (`occurred_at` `None` when it
    /// is the received time); 1 if it was new, 0 if its messageId was stored before.
    fn row(&self, e: &StoredEvent, occurred_at: Option<&str>, received_at: &str) -> StoreResult<u64> {
        let m = &e.message;
        let customer_id = e.customer_id.map(|c| c.as_uuid());
        let bound = self
            .blob(1, Some(e.id.as_bytes()))
            .and_then(|()| self.blob(2, Some(e.source_id.as_bytes())))
            .and_then(|()| self.text(3, Some(&m.message_id)))
            .and_then(|()| self.text(4, Some(m.kind.as_str())))
            .and_then(|()| self.text(5, m.name.as_deref()))
            .and_then(|()| self.text(6, m.user_id.as_deref()))
            .and_then(|()| self.text(7, m.anonymous_id.as_deref()))
            .and_then(|()| self.text(8, m.previous_id.as_deref()))
            .and_then(|()| self.blob(9, customer_id.as_ref().map(|c| c.as_bytes().as_slice())))
            .and_then(|()| self.text(10, Some(&m.properties)))
            .and_then(|()| self.text(11, Some(&m.traits)))
            .and_then(|()| self.text(12, Some(&m.context)))
            .and_then(|()| self.text(13, occurred_at))
            .and_then(|()| self.text(14, Some(received_at)));
        // SAFETY: every parameter is bound to memory that outlives this call (see `reset`).
        let stepped = bound.and_then(|()| unsafe { self.step() }).map(|_| self.changes());
        self.reset();
        stepped
    }
}
