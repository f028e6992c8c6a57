//! The owner of a flash sale's rush, one per sale and instance: a task that drains the sale's
//! queue in batches. It decides every request of a batch against its in-memory [`SaleBook`]
//! and what it knows of the sale — quota, units sold, journal head, the store's stock — and
//! appends one journal record with the batch's reservations — a compare-and-set on the journal
//! head and the quota — together with one reserve entry in the stock ledger, in one
//! transaction. Buyers are answered only after that commit (group commit: one row and one
//! fsync per batch, not per buyer).
//!
//! What the owner knows of the sale is what its last read and its own appends since left: a
//! batch reads nothing. The append's guards check it against the database; when one refuses
//! (another instance appended, an order took the stock) the owner reads the sale again,
//! replays the journal records it has not seen and decides the batch again. And because what
//! it knows can only fall short of what there is (units given back, stock received), a batch
//! that would refuse a buyer for want of units is decided again on a fresh read first.
//!
//! Several instances may own the same sale at once: the compare-and-set lets exactly one of two
//! concurrent appends through, and the loser replays and decides its batch again. Correctness
//! never rests on which instance holds the book, only on the journal head in the database.

use std::{collections::HashMap, sync::Arc};

use quanyu_domain::{
    flash::{
        Buyer, BuyerBuf, HoldStatus, Refusal,
        book::{Ask, BookFull, Bounds, Decision, Held, SaleBook},
        journal::{JournalEntry, JournalRecord},
    },
    ids::{CustomerId, StockEntryId},
    inventory::{Qty, StockChange},
    time::Timestamp,
};
use quanyu_store::{Database, FlashJournalAppend, FlashReservation, FlashSale, StockEntry, Tx};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::materialize::Materializer;
use crate::{AppError, AppResult, write::now};

/// The most requests one batch carries.
pub const MAX_BATCH: usize = 8192;
/// At most how many times the owner yields to let a batch grow ([`gather`]).
const GATHER_ROUNDS: usize = 8;
/// Journal records read per statement when replaying.
const REPLAY_CHUNK: u32 = 256;
/// How often a batch is decided again after losing the append to another instance.
const MAX_ATTEMPTS: usize = 64;
/// Reservations a new book makes room for up front (fewer when the sale has fewer units left):
/// a quarter of a million costs the buyers' table some 4.5 MiB (2^19 slots of 8 bytes and their
/// control bytes, resident as it fills; the table of keys holds only buyers past the book's
/// chain and grows as they come) and spares a rush every rehash of it until then — each one a
/// stall of every waiting buyer.
const BOOK_ROOM: usize = 1 << 18;

/// Reservations a new book reserves its arrays for (fewer when the sale has fewer units left):
/// some 130 MiB at a million, which the owner writes once before its first request
/// (`SaleBook::touch_reserved`), so that a rush past [`BOOK_ROOM`] neither copies the arrays as
/// they grow nor faults in fresh pages. [`BOOK_TEXT_BYTES`] of text each.
const BOOK_ENTRIES: usize = 1 << 20;

/// The text a book reserves per reservation: its key (a member is kept by id), so a rush with
/// keys up to 32 bytes fits; more only makes the arrays grow once more.
const BOOK_TEXT_BYTES: usize = 32;

/// A buyer's request, as it waits in the sale's queue: a member, by id — spelling out their
/// name and scoping the key to it is left to the answer, off the owner's path.
pub(crate) struct Request {
    pub member: CustomerId,
    /// The buyer's `Idempotency-Key`.
    pub key: String,
    pub quantity: i64,
    pub answer: oneshot::Sender<AppResult<FlashReservation>>,
}

impl Request {
    fn ask(&self) -> Ask<'_> {
        Ask { buyer: Buyer::Member(self.member), key: &self.key, quantity: self.quantity }
    }
}

/// What the owner holds between batches: the book, and what it knows of the sale (`None`: read
/// the sale before the next batch).
#[derive(Default)]
struct Owner {
    book: Option<SaleBook>,
    known: Option<Known>,
}

/// The sale, and the units of its SKU's stock available in its store, as the owner's last read
/// or its own appends since left them.
struct Known {
    sale: FlashSale,
    available: i64,
}

/// Drains one sale's queue: every waiting request goes into the next batch. The owner is the
/// one thing of a rush that cannot run in parallel, so it leaves the answering (a wake-up per
/// buyer) to a task of its own and starts on the next batch meanwhile.
pub(crate) async fn run_owner(
    db: Arc<dyn Database>,
    sale_id: Uuid,
    mut queue: mpsc::UnboundedReceiver<Request>,
    materializer: Arc<Materializer>,
    ready: oneshot::Sender<()>,
) {
    let mut owner = Owner::default();
    // Ready before the first request is taken: the book loaded and its arrays' memory touched.
    // If the sale cannot be read now, the first batch reads it again and answers the error.
    if let Ok((book, _)) = owner.state(&db, sale_id).await {
        book.touch_reserved();
    }
    let _ = ready.send(());
    let (answering, to_answer) = mpsc::unbounded_channel();
    tokio::spawn(answer_batches(to_answer));
    let mut requests = Vec::new();
    while queue.recv_many(&mut requests, MAX_BATCH).await > 0 {
        gather(&mut queue, &mut requests).await;
        let outcome = apply_batch(&db, sale_id, &mut owner, &requests).await;
        if outcome.is_err() {
            // Whether the batch committed is unknown: rebuild the book from the database.
            owner = Owner::default();
        }
        let next = Vec::with_capacity(requests.len());
        let batch = std::mem::replace(&mut requests, next);
        // The answering task only stops when this sender is dropped.
        let _ = answering.send((outcome, batch));
        materializer.nudge();
    }
}

/// Adds to a batch what the tasks ready to run send: the owner yields to them, round after
/// round while each round brings more (at most [`GATHER_ROUNDS`]). Buyers answered a moment ago
/// are on their way back; a batch of the first few to arrive would pay a whole commit — and a
/// wait for the writer's thread to get a core while they run — with the rest queued behind it.
/// A round with nothing new ends it at once, so a lone request waits one yield.
async fn gather(queue: &mut mpsc::UnboundedReceiver<Request>, requests: &mut Vec<Request>) {
    for _ in 0..GATHER_ROUNDS {
        let before = requests.len();
        tokio::task::yield_now().await;
        while requests.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(request) => requests.push(request),
                Err(_) => break,
            }
        }
        if requests.len() == before || requests.len() >= MAX_BATCH {
            return;
        }
    }
}

/// Answers each decided batch's buyers, in the order the batches were decided.
async fn answer_batches(mut batches: mpsc::UnboundedReceiver<(AppResult<Batch>, Vec<Request>)>) {
    while let Some((outcome, requests)) = batches.recv().await {
        match outcome {
            Ok(done) => done.answer(requests.into_iter()),
            Err(err) => {
                let message = err.to_string();
                for request in requests {
                    let _ = request.answer.send(Err(AppError::Internal(message.clone())));
                }
            }
        }
    }
}

/// A decided (and, if it made reservations, committed) batch.
struct Batch {
    sale_id: Uuid,
    decisions: Vec<Decision>,
    /// The reservations made, in request order: (id, quantity).
    made: Vec<(Uuid, i64)>,
    at: Timestamp,
    expires_at: Timestamp,
}

/// What one request of a batch gets.
#[derive(Clone)]
enum Outcome {
    Held(Held),
    Refused(Refusal),
    KeyReused,
}

impl Batch {
    /// Answers every request, handing each its own buyer and key back.
    fn answer(self, requests: impl Iterator<Item = Request>) {
        let mut made = self.made.into_iter();
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(self.decisions.len());
        for decision in self.decisions {
            let outcome = match decision {
                Decision::Existing(held) => Outcome::Held(held),
                Decision::Accept => match made.next() {
                    Some((id, quantity)) => {
                        Outcome::Held(Held { id, quantity, at: self.at, expires_at: self.expires_at })
                    }
                    None => Outcome::Refused(Refusal::SoldOut),
                },
                // Always an earlier request's: answered as that one.
                Decision::SameAs(first) => outcomes.get(first).cloned().unwrap_or(Outcome::Refused(Refusal::SoldOut)),
                Decision::KeyReused => Outcome::KeyReused,
                Decision::Refuse(refusal) => Outcome::Refused(refusal),
            };
            outcomes.push(outcome);
        }
        for (request, outcome) in requests.zip(outcomes) {
            let Request { member, key, answer, .. } = request;
            let _ = answer.send(match outcome {
                Outcome::Held(held) => Ok(FlashReservation {
                    id: held.id,
                    sale_id: self.sale_id,
                    buyer: BuyerBuf::Member(member),
                    idempotency_key: key,
                    quantity: held.quantity,
                    at: held.at,
                    status: HoldStatus::Held,
                    expires_at: held.expires_at,
                    order_id: None,
                }),
                Outcome::Refused(refusal) => Err(AppError::FlashSale(refusal)),
                Outcome::KeyReused => Err(AppError::IdempotencyKeyReused),
            });
        }
    }
}

/// One batch, in one transaction; per-request refusals are answers, not failures.
async fn apply_batch(
    db: &Arc<dyn Database>,
    sale_id: Uuid,
    owner: &mut Owner,
    requests: &[Request],
) -> AppResult<Batch> {
    let asks: Vec<Ask<'_>> = requests.iter().map(Request::ask).collect();
    for _ in 0..MAX_ATTEMPTS {
        let fresh = owner.known.is_none() || owner.book.is_none();
        let (book, known) = owner.state(db, sale_id).await?;
        let sale = &known.sale;
        let at = to_micros(now());
        if !(sale.starts_at <= at && at < sale.ends_at) {
            let decisions = requests.iter().map(|_| Decision::Refuse(Refusal::NotActive)).collect();
            return Ok(Batch { sale_id, decisions, made: Vec::new(), at, expires_at: at });
        }
        let bounds = Bounds {
            units_left: (sale.quota - sale.sold).min(known.available),
            quota_left: sale.quota - sale.sold,
            per_customer_limit: sale.per_customer_limit,
        };
        let mut decisions = book.plan(&asks, bounds, &HashMap::new());
        let over = book.over_limit(&asks, &decisions);
        if !over.is_empty() {
            let released = db.read().await?.flash_released_units(sale_id, &over).await?;
            let released: HashMap<BuyerBuf, i64> = released.into_iter().collect();
            if !released.is_empty() {
                decisions = book.plan(&asks, bounds, &released);
            }
        }
        let short = |d: &Decision| matches!(d, Decision::Refuse(Refusal::SoldOut | Refusal::OutOfStock));
        if !fresh && decisions.iter().any(short) {
            owner.known = None;
            continue;
        }
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        let record = JournalRecord {
            at,
            expires_at: at + chrono::Duration::minutes(sale.hold_minutes),
            entries: asks
                .iter()
                .zip(&decisions)
                .filter(|(_, d)| **d == Decision::Accept)
                .map(|(ask, _)| JournalEntry {
                    id: reservation_id(millis),
                    quantity: ask.quantity,
                    buyer: ask.buyer,
                    key: ask.key,
                })
                .collect(),
        };
        let made: Vec<(Uuid, i64)> = record.entries.iter().map(|e| (e.id, e.quantity)).collect();
        let (at, expires_at) = (record.at, record.expires_at);
        let batch = Batch { sale_id, decisions, made, at, expires_at };
        if record.entries.is_empty() {
            return Ok(batch);
        }
        let payload = record.encode();
        let units = record.units();
        let append = FlashJournalAppend {
            at,
            reservations: record.entries.len() as i64,
            units,
            payload: &payload,
            stock: &reserve_entry(sale, &record)?,
        };
        let after = book.seq();
        let mark = book.mark();
        // The book records the batch while its append is being committed — just decided, its
        // buyers' places in the book are still in cache — and takes it back if the append is
        // refused. If the append fails, the owner drops the book; so it does if the book
        // cannot hold the batch, which `plan` made sure it can.
        let (appended, recorded) = tokio::join!(biased; db.append_flash_batch(sale_id, after, &append), async {
            book.record(after + 1, &record)
        });
        // Refused: another writer got there first (another instance appended, an order took
        // the stock): decide again on what is there now.
        if !appended? {
            book.roll_back(mark);
            owner.known = None;
            continue;
        }
        recorded.map_err(book_full)?;
        known.sale.sold += units;
        known.sale.journal_seq = after + 1;
        known.available -= units;
        return Ok(batch);
    }
    Err(AppError::Internal("the flash sale stayed contended between instances; try again".into()))
}

impl Owner {
    /// The book and what the owner knows of the sale: read (the book loaded, the journal
    /// replayed up to the sale's head) unless both are at hand.
    async fn state(&mut self, db: &Arc<dyn Database>, sale_id: Uuid) -> AppResult<(&mut SaleBook, &mut Known)> {
        if self.known.is_none() || self.book.is_none() {
            let mut tx = db.read().await?;
            let (sale, stock) =
                tx.get_flash_sale_with_stock(sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
            let book = match &mut self.book {
                Some(book) => book,
                None => {
                    let left = usize::try_from(sale.quota - sale.sold).unwrap_or(0);
                    let mut book = load_book(&mut *tx, sale_id, left.min(BOOK_ROOM)).await?;
                    let entries = left.min(BOOK_ENTRIES);
                    book.reserve_entries(entries, entries * BOOK_TEXT_BYTES);
                    self.book.insert(book)
                }
            };
            catch_up(&mut *tx, book, sale_id, sale.journal_seq).await?;
            self.known = Some(Known { available: stock.map_or(0, |levels| levels.available().get()), sale });
        }
        match (&mut self.book, &mut self.known) {
            (Some(book), Some(known)) => Ok((book, known)),
            _ => Err(AppError::Internal("the flash-sale owner has no book".into())),
        }
    }
}

/// A reservation id made at `millis`: a version-7 UUID whose other 80 bits come from the
/// thread's CSPRNG (seeded by the OS) rather than from one OS call per id, as
/// `Uuid::now_v7` makes them.
fn reservation_id(millis: u64) -> Uuid {
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random()).into_uuid()
}

/// When at the latest the batch that made reservation `id` was: its id carries the batch's
/// millisecond ([`reservation_id`]), and the batch's instant lies within it. `None` for an id that
/// carries no time.
pub(crate) fn batch_made_by(id: Uuid) -> Option<Timestamp> {
    let (seconds, nanos) = id.get_timestamp()?.to_unix();
    let millisecond = Timestamp::from_timestamp(i64::try_from(seconds).ok()?, nanos)?;
    Some(millisecond + chrono::Duration::milliseconds(1))
}

/// The stock a batch reserves: one ledger entry per journal record, keyed by the record's
/// first reservation (fresh for every attempt, so a lost race never collides on the key).
fn reserve_entry(sale: &FlashSale, record: &JournalRecord) -> AppResult<StockEntry> {
    let first = record.entries.first().map_or(Uuid::nil(), |e| e.id);
    Ok(StockEntry {
        id: StockEntryId::new(),
        store_id: sale.store_id,
        sku_id: sale.sku_id,
        change: "flash_reserve".to_owned(),
        deltas: StockChange::Reserve(Qty::new(record.units()))
            .deltas()
            .map_err(|e| AppError::Internal(e.to_string()))?,
        reason: None,
        reference: Some(format!("flash_sale:{}", sale.id)),
        idempotency_key: format!("flash:{}:batch:{first}", sale.id),
        actor_id: None,
        at: record.at,
    })
}

/// A book for a sale from the database: the materialised reservations, then the journal after
/// them, with room for `room` more. A record materialised between the two reads is met twice
/// and counted once (by key).
pub(crate) async fn load_book(tx: &mut dyn Tx, sale_id: Uuid, room: usize) -> AppResult<SaleBook> {
    let materialized = tx.flash_materialized_seq(sale_id).await?;
    let mut book = SaleBook::default();
    for row in tx.flash_sale_reservations(sale_id).await? {
        let held = Held { id: row.id, quantity: row.quantity, at: row.at, expires_at: row.expires_at };
        book.remember(row.buyer.as_buyer(), &row.idempotency_key, held).map_err(book_full)?;
    }
    book.skip_to(materialized);
    book.reserve(room);
    Ok(book)
}

fn book_full(full: BookFull) -> AppError {
    AppError::Internal(full.to_string())
}

/// Replays the journal records after the book's last one, up to `head`.
async fn catch_up(tx: &mut dyn Tx, book: &mut SaleBook, sale_id: Uuid, head: i64) -> AppResult<()> {
    while book.seq() < head {
        let records = tx.flash_journal_since(sale_id, book.seq(), REPLAY_CHUNK).await?;
        if records.is_empty() {
            return Err(AppError::Internal(format!("the journal of flash sale {sale_id} ends before {head}")));
        }
        for (seq, payload) in records {
            book.record(seq, &decode(sale_id, seq, &payload)?).map_err(book_full)?;
        }
    }
    Ok(())
}

pub(crate) fn decode(sale_id: Uuid, seq: i64, payload: &[u8]) -> AppResult<JournalRecord<'_>> {
    JournalRecord::decode(payload)
        .map_err(|e| AppError::Internal(format!("flash sale {sale_id}, journal record {seq}: {e}")))
}

/// Instants in the journal are kept to the microsecond; so is every answer.
fn to_micros(at: Timestamp) -> Timestamp {
    Timestamp::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}
