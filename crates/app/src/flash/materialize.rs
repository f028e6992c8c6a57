//! Turns flash-sale journal records into reservation rows and buyer counts, which every read,
//! order, payment and expiry works on. A background task (one per instance, started with the
//! first batch) does it behind the rush: while batches are being committed it waits — turning a
//! record into rows costs far more than appending it, and the writer is the rush's — unless the
//! oldest record waiting is older than [`MAX_LAG`]; then it takes one record at a time and rests
//! four times as long as it worked. Once the rush pauses it catches up in bigger steps. Reads
//! that need a reservation row materialise what is pending first
//! ([`App::materialize_flash_sales`]).
//!
//! Each step is one transaction that moves the sale's materialised mark by compare-and-set, so
//! two instances (or the task and a read) never write the same record twice.
//!
//! Sales are materialised apart: a sale whose step fails (a record that cannot be decoded or
//! written) is logged and skipped, and the other sales' reservations still become rows, are
//! ordered and expire. The failing sale is tried again on the next pass.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use quanyu_domain::{
    flash::{BuyerBuf, HoldStatus},
    time::Timestamp,
};
use quanyu_store::{Database, FlashReservation, FlashSale};
use tokio::sync::Notify;
use uuid::Uuid;

use super::engine::decode;
use crate::{App, AppError, AppResult};

/// A sale is hot while its last batch is younger than this.
const HOT_FOR: Duration = Duration::from_millis(100);
/// How long the task lets records wait while the rush goes on.
const MAX_LAG: Duration = Duration::from_secs(30);
/// Journal records per transaction once the rush pauses (and for reads that wait).
const RECORDS_PER_STEP: u32 = 16;
/// How often the task looks for work when nobody wakes it.
const IDLE_TICK: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct Materializer {
    wake: Notify,
    /// Microseconds since `epoch` at the last committed batch.
    last_batch_us: AtomicU64,
    /// Microseconds since `epoch` at the first batch not yet materialised (0: none).
    pending_since_us: AtomicU64,
    epoch: OnceLock<Instant>,
    started: Mutex<bool>,
}

impl Materializer {
    fn epoch(&self) -> Instant {
        *self.epoch.get_or_init(Instant::now)
    }

    /// A batch was committed: note the time and wake the task.
    pub(crate) fn nudge(&self) {
        let now = self.now_us();
        self.last_batch_us.store(now, Ordering::Relaxed);
        let _ = self.pending_since_us.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        self.wake.notify_one();
    }

    fn now_us(&self) -> u64 {
        (self.epoch().elapsed().as_micros() as u64).max(1)
    }

    fn hot(&self) -> bool {
        let last = self.last_batch_us.load(Ordering::Relaxed);
        last > 0 && self.now_us() - last < HOT_FOR.as_micros() as u64
    }

    /// Whether records have waited past [`MAX_LAG`].
    fn overdue(&self) -> bool {
        let since = self.pending_since_us.load(Ordering::Relaxed);
        since > 0 && self.now_us() - since >= MAX_LAG.as_micros() as u64
    }

    /// Starts the background task once per instance.
    pub(crate) fn start(self: &Arc<Self>, db: &Arc<dyn Database>) {
        let mut started = self.started.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !*started {
            *started = true;
            tokio::spawn(Arc::clone(self).run(Arc::clone(db)));
        }
    }

    async fn run(self: Arc<Self>, db: Arc<dyn Database>) {
        loop {
            let _ = tokio::time::timeout(IDLE_TICK, self.wake.notified()).await;
            if self.hot() && !self.overdue() {
                continue;
            }
            if let Err(err) = self.catch_up(&db).await {
                tracing::warn!(error = %err, "materialising flash-sale journals failed; retrying");
            }
        }
    }

    async fn catch_up(&self, db: &Arc<dyn Database>) -> AppResult<()> {
        // Batches committed from here on count as pending again.
        self.pending_since_us.store(0, Ordering::Relaxed);
        let pending = {
            let mut tx = db.read().await?;
            tx.flash_sales_to_materialize().await?
        };
        for sale_id in pending {
            if let Err(err) = self.catch_up_sale(db, sale_id).await {
                skipped(sale_id, &err);
            }
        }
        Ok(())
    }

    async fn catch_up_sale(&self, db: &Arc<dyn Database>, sale_id: Uuid) -> AppResult<()> {
        loop {
            let hot = self.hot();
            let started = Instant::now();
            let done = step(db, sale_id, if hot { 1 } else { RECORDS_PER_STEP }, i64::MAX).await?;
            if done == 0 {
                return Ok(());
            }
            if hot {
                tokio::time::sleep(started.elapsed() * 4).await;
            }
        }
    }
}

/// Logs a sale whose journal could not be materialised, which the pass then leaves behind.
fn skipped(sale_id: Uuid, err: &AppError) {
    tracing::warn!(error = %err, %sale_id, "materialising a flash sale's journal failed; other sales go on, this one is retried");
}

/// Materialises up to `records` journal records of a sale after its mark (none past `up_to`),
/// in one transaction. Returns how many it materialised (0: none pending, or another writer
/// moved the mark).
async fn step(db: &Arc<dyn Database>, sale_id: Uuid, records: u32, up_to: i64) -> AppResult<usize> {
    let mut tx = db.write().await?;
    let from = tx.flash_materialized_seq(sale_id).await?;
    let mut found = tx.flash_journal_since(sale_id, from, records).await?;
    found.retain(|(seq, _)| *seq <= up_to);
    let Some(&(to, _)) = found.last() else { return Ok(0) };
    let mut rows = Vec::new();
    let mut counts: HashMap<BuyerBuf, i64> = HashMap::new();
    for (seq, payload) in &found {
        let record = decode(sale_id, *seq, payload)?;
        for entry in record.entries {
            let buyer = BuyerBuf::from(entry.buyer);
            *counts.entry(buyer.clone()).or_default() += entry.quantity;
            rows.push(FlashReservation {
                id: entry.id,
                sale_id,
                idempotency_key: entry.key.to_owned(),
                buyer,
                quantity: entry.quantity,
                at: record.at,
                status: HoldStatus::Held,
                expires_at: record.expires_at,
                order_id: None,
            });
        }
    }
    if !tx.mark_flash_materialized(sale_id, from, to).await? {
        return Ok(0);
    }
    tx.insert_flash_reservations(&rows).await?;
    let mut counts: Vec<(BuyerBuf, i64)> = counts.into_iter().collect();
    counts.sort_unstable();
    tx.add_flash_buyers(sale_id, &counts).await?;
    tx.commit().await?;
    Ok(found.len())
}

impl App {
    /// Materialises every pending journal record of one sale, or of every sale: what a read of
    /// reservation rows calls first. Returns the records materialised.
    /// One sale's failure is that sale's error; for every sale, a sale that fails is logged and
    /// skipped.
    pub async fn materialize_flash_sales(&self, sale_id: Option<Uuid>) -> AppResult<usize> {
        match sale_id {
            Some(id) => self.materialize_sale(id, i64::MAX).await,
            None => {
                let pending = read_tx!(self, |tx| Ok(tx.flash_sales_to_materialize().await?))?;
                Ok(self.materialize_each(pending.into_iter().map(|id| (id, i64::MAX))).await)
            }
        }
    }

    /// Materialises each sale up to its mark, skipping (and logging) the ones that fail; returns
    /// the records materialised.
    async fn materialize_each(&self, sales: impl Iterator<Item = (Uuid, i64)>) -> usize {
        let mut total = 0;
        for (id, up_to) in sales {
            match self.materialize_sale(id, up_to).await {
                Ok(done) => total += done,
                Err(err) => skipped(id, &err),
            }
        }
        total
    }

    /// Materialises the journal records whose holds may have run out at `at` (made at least
    /// the sale's hold time ago), leaving the rush's recent records to the background task.
    pub(crate) async fn materialize_expirable_flash(&self, at: Timestamp) -> AppResult<usize> {
        self.materialize_made_by(|sale| at - chrono::Duration::minutes(sale.hold_minutes)).await
    }

    /// Materialises, of every sale with records pending, those made by `made_by(sale)`.
    pub(crate) async fn materialize_made_by(&self, made_by: impl Fn(&FlashSale) -> Timestamp) -> AppResult<usize> {
        let pending = read_tx!(self, |tx| {
            let mut pending = Vec::new();
            for id in tx.flash_sales_to_materialize().await? {
                let Some(sale) = tx.get_flash_sale(id).await? else { continue };
                pending.push((id, tx.flash_journal_seq_at(id, made_by(&sale)).await?));
            }
            Ok(pending)
        })?;
        Ok(self.materialize_each(pending.into_iter()).await)
    }

    async fn materialize_sale(&self, id: Uuid, up_to: i64) -> AppResult<usize> {
        let mut total = 0;
        loop {
            match step(&self.db, id, RECORDS_PER_STEP, up_to).await? {
                0 => {
                    let (done, head) = read_tx!(self, |tx| Ok((
                        tx.flash_materialized_seq(id).await?,
                        tx.get_flash_sale(id).await?.map_or(0, |s| s.journal_seq)
                    )))?;
                    if done >= head.min(up_to) {
                        return Ok(total);
                    }
                }
                n => total += n,
            }
        }
    }
}
