//! Use cases of customer events: sources with write keys, ingest of messages checked at the
//! edge, identity stitching, and a customer's event timeline.
//!
//! Ingest is group-committed: every request waiting queues to one in-process writer that takes
//! them all (up to [`MAX_EVENTS_PER_COMMIT`] events) into one transaction, resolves who each
//! message is about, stitches anonymous ids, inserts all the events in one bulk write (skipping
//! messageIds the source sent before), commits once and only then answers each request, so an
//! acknowledged event survives a crash and a retried batch is stored once. On PostgreSQL the
//! writer keeps up to [`COMMITS_IN_FLIGHT`] such transactions going at once, so that one's wait
//! for its WAL flush overlaps the next one's work. The queue is bounded
//! by its senders: each request holds at most one batch (500 KB) and waits for its answer, so
//! the memory it takes is at most one batch per open connection.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    hash::{Hash as _, Hasher as _},
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use futures::FutureExt as _;
use quanyu_domain::{
    authz::Permission,
    events::{self, EventMessage},
    ids::CustomerId,
    text,
    time::Timestamp,
};
use quanyu_store::{Backend, Database, EventSource, StoredEvent};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{App, AppError, AppResult, Ctx, Listing, Reply, Written, change::Change, listing::Cursor, write::now};

/// The most events one commit carries.
pub const MAX_EVENTS_PER_COMMIT: usize = 10_000;
/// The most events waiting for the writer (parsed, in memory) at once: two full commits.
pub const MAX_QUEUED_EVENTS: usize = 2 * MAX_EVENTS_PER_COMMIT;
/// How long a write key stays known without a database read.
const KEY_TTL: Duration = Duration::from_secs(60);

/// A new source and its write key, shown once.
#[derive(Debug, Clone)]
pub struct EventSourceCreated {
    pub source: EventSource,
    pub write_key: String,
}

/// What became of an ingested batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    /// Stored now.
    pub accepted: u64,
    /// Sent before (same source and messageId): stored once already.
    pub duplicates: u64,
}

struct Request {
    source_id: uuid::Uuid,
    /// How many messages were sent (the writer takes them out of `messages`).
    sent: usize,
    messages: Vec<EventMessage>,
    received_at: Timestamp,
    answer: oneshot::Sender<AppResult<Ingested>>,
}

/// The writer's queue, started on first use, the room left in it, and the write keys seen
/// lately.
pub(crate) struct EventIngestor {
    queue: OnceLock<mpsc::UnboundedSender<Request>>,
    /// One permit per event that may wait for the writer: a request takes one per message
    /// before it queues and gives them back once answered, so at most [`MAX_QUEUED_EVENTS`]
    /// parsed events wait in memory and senders beyond that wait for room.
    room: Semaphore,
    keys: Mutex<HashMap<String, (EventSource, Instant)>>,
}

impl Default for EventIngestor {
    fn default() -> Self {
        EventIngestor { queue: OnceLock::new(), room: Semaphore::new(MAX_QUEUED_EVENTS), keys: Mutex::default() }
    }
}

impl EventIngestor {
    fn queue(&self, db: &Arc<dyn Database>) -> mpsc::UnboundedSender<Request> {
        self.queue
            .get_or_init(|| {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(run_writer(Arc::clone(db), receiver));
                sender
            })
            .clone()
    }
}

impl App {
    /// Registers a system that sends events (HQ integrations); its write key is shown once.
    pub async fn create_event_source(
        &self,
        ctx: &Ctx,
        name: &str,
        reply: Reply<'_, EventSourceCreated>,
    ) -> AppResult<Written<EventSourceCreated>> {
        ctx.require(Permission::ManageApiTokens)?;
        let name = text::required("name", name, 64)?;
        let (write_key, key_hash) = crate::auth::new_secret();
        let source = EventSource {
            id: uuid::Uuid::now_v7(),
            name,
            key_hash,
            created_by: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
            created_at: now(),
            revoked_at: None,
        };
        write_idempotent!(self, ctx, reply, |tx| {
            tx.insert_event_source(&source).await?;
            Change::new("event_source.created", "event_source", source.id)
                .set("name", &source.name)
                .record(tx, Some(ctx))
                .await?;
            Ok(EventSourceCreated { source: source.clone(), write_key: write_key.clone() })
        })
    }

    pub async fn event_sources(&self, ctx: &Ctx) -> AppResult<Vec<EventSource>> {
        ctx.require(Permission::ManageApiTokens)?;
        read_tx!(self, |tx| Ok(tx.list_event_sources().await?))
    }

    /// The source a write key belongs to.
    pub async fn event_source(&self, write_key: &str) -> AppResult<EventSource> {
        let hash = crate::auth::hash_secret(write_key);
        {
            let keys = self.events.keys.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((source, _)) = keys.get(&hash).filter(|(_, seen)| seen.elapsed() < KEY_TTL) {
                return Ok(source.clone());
            }
        }
        let source = read_tx!(self, |tx| Ok(tx.event_source_by_key(&hash).await?))?.ok_or(AppError::Unauthenticated)?;
        let mut keys = self.events.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.insert(hash, (source.clone(), Instant::now()));
        Ok(source)
    }

    /// Stores checked messages from a source, durably and once per messageId.
    pub async fn ingest(&self, source: &EventSource, messages: Vec<EventMessage>) -> AppResult<Ingested> {
        if messages.is_empty() {
            return Ok(Ingested { accepted: 0, duplicates: 0 });
        }
        if let Some(bad) = messages.iter().find_map(|m| m.check().err()) {
            return Err(AppError::Internal(format!("an unchecked message reached ingest: {bad}")));
        }
        let stopped = || AppError::Internal("the event writer stopped".into());
        // A batch holds at most MAX_BATCH_MESSAGES (2,500) events, well below the room.
        let permits = u32::try_from(messages.len().min(MAX_QUEUED_EVENTS)).unwrap_or(u32::MAX);
        let _room = self.events.room.acquire_many(permits).await.map_err(|_| stopped())?;
        let (answer, answered) = oneshot::channel();
        let request = Request { source_id: source.id, sent: messages.len(), messages, received_at: now(), answer };
        self.events.queue(&self.db).send(request).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    /// A customer's events, newest first.
    pub async fn customer_events(
        &self,
        ctx: &Ctx,
        customer_id: CustomerId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<StoredEvent>> {
        let customer = self.customer(ctx, customer_id).await?.customer;
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| Ok(tx.customer_events(customer.id, page).await?))?;
        Ok(Listing::from_rows(rows, page, |e| e.id))
    }
}

/// The built-in source of the events the relay derives from domain changes.
const SYSTEM_SOURCE: uuid::Uuid = uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
/// The relay's name for its position in the outbox.
const RELAY: &str = "customer_events_relay";
/// How old an outbox event must be before the relay takes it: a PostgreSQL transaction that
/// took its sequence number earlier may still be committing.
const RELAY_LAG: chrono::Duration = chrono::Duration::seconds(2);

impl App {
    /// Copies the domain changes about customers (orders placed, paid and refunded, coupons,
    /// sign-ups, tiers, top-ups, referrals) from the outbox onto their timelines as track events,
    /// once each (the outbox event's id is the messageId). Returns how many outbox events it went
    /// through. Run by the sweeper; safe on several instances.
    pub async fn relay_outbox(&self, at: Timestamp) -> AppResult<usize> {
        let relayed = write_tx!(self, |tx| {
            let cursor = tx.relay_cursor(RELAY).await?;
            let outbox = tx.events_after(cursor, 500).await?;
            let ready: Vec<_> = outbox.into_iter().take_while(|e| e.at <= at - RELAY_LAG).collect();
            let Some(last) = ready.last().map(|e| e.seq) else { return Ok(0) };
            let mut stored = Vec::new();
            for change in &ready {
                let Some(name) = events::domain_event_name(&change.kind) else { continue };
                let Some(customer) = customer_of_change(tx, &change.entity_type, &change.entity_id).await? else {
                    continue;
                };
                stored.push(StoredEvent {
                    id: uuid::Uuid::now_v7(),
                    source_id: SYSTEM_SOURCE,
                    message: EventMessage {
                        kind: events::EventType::Track,
                        message_id: change.id.to_string(),
                        name: Some(name.to_owned()),
                        user_id: Some(customer.to_string()),
                        anonymous_id: None,
                        previous_id: None,
                        timestamp: Some(change.at),
                        properties: change.payload.to_string(),
                        traits: "{}".to_owned(),
                        context: r#"{"library":{"name":"quanyu"}}"#.to_owned(),
                    },
                    customer_id: Some(customer),
                    occurred_at: change.at,
                    received_at: at,
                });
            }
            tx.ensure_event_source(&EventSource {
                id: SYSTEM_SOURCE,
                name: "quanyu".to_owned(),
                // Not a SHA-256: no write key maps to it.
                key_hash: "system".to_owned(),
                created_by: None,
                created_at: at,
                revoked_at: None,
            })
            .await?;
            tx.insert_events(&mut stored).await?;
            if !tx.advance_relay_cursor(RELAY, cursor, last).await? {
                return Err(AppError::StatusChanged);
            }
            Ok(ready.len())
        });
        match relayed {
            // Another instance relayed the same stretch first.
            Err(AppError::StatusChanged) => Ok(0),
            other => other,
        }
    }
}

/// The customer a domain change is about.
async fn customer_of_change(
    tx: &mut dyn quanyu_store::Tx,
    entity_type: &str,
    entity_id: &str,
) -> AppResult<Option<CustomerId>> {
    Ok(match entity_type {
        "customer" => entity_id.parse().ok(),
        "order" => match entity_id.parse() {
            Ok(id) => tx.get_order(id).await?.and_then(|o| o.customer_id),
            Err(_) => None,
        },
        "coupon" => match entity_id.parse() {
            Ok(id) => tx.get_coupon(id).await?.map(|c| c.customer_id),
            Err(_) => None,
        },
        _ => None,
    })
}

/// Commits in flight at once on PostgreSQL. A commit waits for its WAL flush while the
/// database has CPU to spare, so a second and third overlap that wait; SQLite has one writer.
const COMMITS_IN_FLIGHT: usize = 3;
/// How often a batch the database undid to break a deadlock is written again.
const ATTEMPTS: usize = 3;

/// A commit running, and the anonymous ids its batch stitches and resolves.
struct InFlight {
    done: tokio::task::JoinHandle<()>,
    ids: AnonymousIds,
}

/// The anonymous ids (hashed) a batch ties to customers and those it looks up.
///
/// Two commits side by side see each other's rows only once committed, so a batch that
/// stitches an id and one that looks the same id up must not overlap: the look-up could miss
/// the stitch while the stitch misses the look-up's new events, leaving them with no customer.
/// Such a batch waits for the other's commit first. Batches of tracks from different visitors,
/// the bulk of traffic, never wait.
#[derive(Default)]
struct AnonymousIds {
    stitched: HashSet<u64>,
    looked_up: HashSet<u64>,
}

impl AnonymousIds {
    fn of(batch: &[Request]) -> Self {
        let hash = |id: &str| {
            let mut hasher = std::hash::DefaultHasher::new();
            id.hash(&mut hasher);
            hasher.finish()
        };
        let mut ids = AnonymousIds::default();
        for message in batch.iter().flat_map(|r| &r.messages) {
            if let Some(id) = message.stitches() {
                ids.stitched.insert(hash(id));
            }
            if let Some(id) = &message.anonymous_id {
                ids.looked_up.insert(hash(id));
            }
        }
        ids
    }

    fn overlaps(&self, other: &AnonymousIds) -> bool {
        !self.stitched.is_disjoint(&other.looked_up) || !self.looked_up.is_disjoint(&other.stitched)
    }
}

/// Drains the queue: once a commit may start, every waiting request goes into it, up to
/// [`MAX_EVENTS_PER_COMMIT`] events; on PostgreSQL up to [`COMMITS_IN_FLIGHT`] commits run at
/// once.
async fn run_writer(db: Arc<dyn Database>, mut queue: mpsc::UnboundedReceiver<Request>) {
    let in_flight_max = match db.backend() {
        Backend::Postgres => COMMITS_IN_FLIGHT,
        Backend::Sqlite => 1,
    };
    let mut running: VecDeque<InFlight> = VecDeque::new();
    let mut waiting: VecDeque<Request> = VecDeque::new();
    let mut received = Vec::with_capacity(256);
    loop {
        running.retain(|commit| !commit.done.is_finished());
        while running.len() >= in_flight_max {
            if let Some(oldest) = running.pop_front() {
                let _ = oldest.done.await;
            }
        }
        if waiting.is_empty() {
            if queue.recv_many(&mut received, 256).await == 0 {
                break;
            }
        } else {
            while let Ok(request) = queue.try_recv() {
                received.push(request);
            }
        }
        waiting.extend(received.drain(..));
        let mut batch = Vec::new();
        let mut events = 0;
        while let Some(request) = waiting.pop_front() {
            if !batch.is_empty() && events + request.messages.len() > MAX_EVENTS_PER_COMMIT {
                waiting.push_front(request);
                break;
            }
            events += request.messages.len();
            batch.push(request);
        }
        if in_flight_max == 1 {
            // One commit at a time: it runs here, and the next batch is gathered the moment it
            // is done. A spawned commit ended by waking this task, which then queued behind the
            // request handlers its answers had just woken (~1 ms a commit under ingest). A
            // panic, which a task would have kept to itself, ends this commit alone.
            let _ = AssertUnwindSafe(commit(Arc::clone(&db), batch)).catch_unwind().await;
            continue;
        }
        let ids = AnonymousIds::of(&batch);
        while let Some(at) = running.iter().position(|commit| commit.ids.overlaps(&ids)) {
            if let Some(earlier) = running.remove(at) {
                let _ = earlier.done.await;
            }
        }
        running.push_back(InFlight { done: tokio::spawn(commit(Arc::clone(&db), batch)), ids });
    }
    for commit in running {
        let _ = commit.done.await;
    }
}

/// Writes a batch, again if the database undid it to break a deadlock, and answers each of
/// its requests.
async fn commit(db: Arc<dyn Database>, mut batch: Vec<Request>) {
    let mut attempt = 1;
    let written = loop {
        match write_batch(&db, &mut batch).await {
            Err(AppError::Store(e)) if e.is_retryable() && attempt < ATTEMPTS => attempt += 1,
            written => break written,
        }
    };
    match written {
        Ok(outcomes) => {
            for (request, outcome) in batch.into_iter().zip(outcomes) {
                let _ = request.answer.send(Ok(outcome));
            }
        }
        Err(err) => {
            let message = err.to_string();
            for request in batch {
                let _ = request.answer.send(Err(AppError::Internal(message.clone())));
            }
        }
    }
}

/// One transaction for the batch: who each message is about, stitching, one insert of every
/// event, the rule tags of those stored now. The messages are taken out of the requests and
/// put back if the transaction fails.
///
/// Every lock it takes is taken in one order (anonymous ids sorted, then the events' keys,
/// then the rule counters by customer), so that commits side by side cannot deadlock.
async fn write_batch(db: &Arc<dyn Database>, batch: &mut [Request]) -> AppResult<Vec<Ingested>> {
    let mut tx = db.write().await?;
    let user_ids: Vec<CustomerId> = {
        let mut ids: Vec<CustomerId> = batch
            .iter()
            .flat_map(|r| &r.messages)
            .filter_map(|m| m.user_id.as_deref().and_then(events::customer_of_user_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let live: HashMap<CustomerId, CustomerId> = tx.live_customers(&user_ids).await?.into_iter().collect();
    let user_of = |m: &EventMessage| {
        m.user_id.as_deref().and_then(events::customer_of_user_id).and_then(|id| live.get(&id).copied())
    };
    // The first message to tie an anonymous id to a customer does.
    let mut stitches: BTreeMap<&str, (CustomerId, Timestamp)> = BTreeMap::new();
    for request in batch.iter() {
        for message in &request.messages {
            if let (Some(anonymous_id), Some(customer)) = (message.stitches(), user_of(message)) {
                stitches.entry(anonymous_id).or_insert((customer, request.received_at));
            }
        }
    }
    for (anonymous_id, (customer, at)) in stitches {
        tx.stitch_anonymous_id(anonymous_id, customer, at).await?;
    }

    // An anonymous event is given its customer by the insert, which sees the stitches above.
    let mut stored = Vec::with_capacity(batch.iter().map(|r| r.messages.len()).sum());
    for request in batch.iter_mut() {
        for message in std::mem::take(&mut request.messages) {
            stored.push(StoredEvent {
                id: uuid::Uuid::now_v7(),
                source_id: request.source_id,
                customer_id: user_of(&message),
                occurred_at: message.occurred_at(request.received_at),
                received_at: request.received_at,
                message,
            });
        }
    }
    match store_events(tx, &mut stored).await {
        Ok(fresh) => {
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut at = 0;
            for request in batch.iter() {
                let sent = request.sent;
                let accepted = fresh[at..at + sent].iter().filter(|f| **f).count() as u64;
                outcomes.push(Ingested { accepted, duplicates: sent as u64 - accepted });
                at += sent;
            }
            Ok(outcomes)
        }
        Err(err) => {
            let mut stored = stored.into_iter();
            for request in batch.iter_mut() {
                request.messages = stored.by_ref().take(request.sent).map(|e| e.message).collect();
            }
            Err(err)
        }
    }
}

/// Inserts the events, counts the rule tags of those stored now and commits; returns which
/// were stored now.
async fn store_events(mut tx: Box<dyn quanyu_store::Tx>, stored: &mut [StoredEvent]) -> AppResult<Vec<bool>> {
    let fresh = tx.insert_events(stored).await?;
    // Rule tags count only what was stored now: a retried messageId counts once.
    let counted: Vec<&StoredEvent> =
        stored.iter().zip(&fresh).filter(|(e, fresh)| **fresh && e.customer_id.is_some()).map(|(e, _)| e).collect();
    if !counted.is_empty() {
        crate::tags::on_events(tx.as_mut(), &counted).await?;
    }
    tx.commit().await?;
    Ok(fresh)
}
