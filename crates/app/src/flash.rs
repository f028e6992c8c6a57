//! Flash sales (秒杀): offers with a quota and a per-customer limit, and the reservation path
//! built for thousands of buyers of one SKU in the same second.
//!
//! Requests for one sale queue to the sale's owner in this instance ([`engine`]): it holds the
//! sale's book in memory (request keys, what each buyer reserved), decides each batch there,
//! and appends the batch to the database as one journal record with one stock-ledger entry —
//! group commit — before answering anyone. Reservation rows, which orders, payments and expiry
//! work on, are materialised from the journal behind the rush ([`materialize`]). Correct across
//! instances because appending is a compare-and-set on the sale's journal head and quota: the
//! database, not the book, decides who gets the last unit.

mod engine;
mod materialize;

use std::{collections::HashMap, sync::Arc};

use futures::future::Either;
pub use quanyu_domain::flash::Refusal;
use quanyu_domain::{
    DomainError, Expected, Money,
    authz::{Permission, StorePlace},
    customer::Identity,
    flash::{HoldStatus, NamedBuyer},
    ids::{CustomerId, SkuId, StockEntryId, StoreId},
    inventory::{Qty, StockChange},
    text::Phone,
    time::Timestamp,
};
use quanyu_store::{FlashReservation, FlashSale, StockEntry, Tx};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

pub use engine::MAX_BATCH;
use engine::Request;
use materialize::Materializer;

use crate::{App, AppError, AppResult, Ctx, Reply, Written, change::Change, org::store_in_scope, write::now};

#[derive(Debug, Clone, Default)]
pub struct FlashSaleDraft {
    pub store_id: Option<StoreId>,
    pub sku_id: Option<SkuId>,
    /// The flash price in 分.
    pub price: i64,
    pub quota: i64,
    pub per_customer_limit: i64,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    /// Minutes a reservation holds before it must become an order (default 15).
    pub hold_minutes: Option<i64>,
}

/// How long a reservation holds when the sale names no time: as long as an unpaid order.
pub const DEFAULT_HOLD_MINUTES: i64 = 15;

/// A sale created to start within this many minutes (or already started) is armed as it is
/// created ([`App::arm_flash_sale`]); the sweeper arms the others as they come this close
/// ([`App::arm_upcoming_flash_sales`]).
const ARM_AHEAD_MINUTES: i64 = 10;

/// Sales the sweeper tries to arm at most per tick: each loads a book and touches its memory, so
/// a restart amid many sales spreads that over ticks rather than stalling one.
const ARM_PER_TICK: u32 = 100;

/// Where each sale's queue and store are (a sale never changes store, so scope checks need no
/// database read per request), and the instance's materialiser.
#[derive(Default)]
pub(crate) struct FlashEngine {
    sales: std::sync::Mutex<HashMap<Uuid, Arc<SaleSlot>>>,
    materializer: Arc<Materializer>,
}

/// A sale in this instance: its queue, once its owner has started. The first request of a rush
/// starts the owner and the others wait for it, so the rush's opening moment reads the sale
/// once rather than once per buyer (thousands of reads queued ahead of the first batch).
#[derive(Default)]
struct SaleSlot {
    queue: tokio::sync::OnceCell<SaleQueue>,
}

struct SaleQueue {
    place: StorePlace,
    /// When the sale ends: after it the sweeper stops the owner ([`App::stop_ended_flash_owners`]).
    ends_at: Timestamp,
    sender: mpsc::UnboundedSender<Request>,
}

impl App {
    /// Creates a flash-sale offer on a store's SKU.
    pub async fn create_flash_sale(
        &self,
        ctx: &Ctx,
        draft: FlashSaleDraft,
        reply: Reply<'_, FlashSale>,
    ) -> AppResult<Written<FlashSale>> {
        ctx.require(Permission::ManageStorePrices)?;
        let store_id = draft.store_id.ok_or(DomainError::Required { field: "store_id" })?;
        let sku_id = draft.sku_id.ok_or(DomainError::Required { field: "sku_id" })?;
        let price = Money::price("price", draft.price)?;
        let quota = Qty::positive("quota", draft.quota)?.get();
        let limit = Qty::positive("per_customer_limit", draft.per_customer_limit)?.get();
        let starts_at = draft.starts_at.ok_or(DomainError::Required { field: "starts_at" })?;
        let ends_at = draft.ends_at.ok_or(DomainError::Required { field: "ends_at" })?;
        let hold_minutes = draft.hold_minutes.unwrap_or(DEFAULT_HOLD_MINUTES);
        if !(1..=24 * 60).contains(&hold_minutes) {
            return Err(DomainError::OutOfRange { field: "hold_minutes", min: 1, max: 24 * 60 }.into());
        }
        if ends_at <= starts_at {
            return Err(DomainError::Malformed { field: "ends_at", expected: Expected::TimeAfterStart }.into());
        }
        // A sale over before it is made would only ever refuse its buyers.
        if ends_at <= now() {
            return Err(DomainError::Malformed { field: "ends_at", expected: Expected::TimeInFuture }.into());
        }
        // A limit above the quota is one nobody reaches: most likely the two were swapped.
        if limit > quota {
            return Err(DomainError::OutOfRange { field: "per_customer_limit", min: 1, max: quota }.into());
        }
        let sale = FlashSale {
            id: Uuid::now_v7(),
            store_id,
            sku_id,
            price,
            quota,
            sold: 0,
            per_customer_limit: limit,
            hold_minutes,
            starts_at,
            ends_at,
            created_at: now(),
            journal_seq: 0,
        };
        let written = write_idempotent!(self, ctx, reply, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            if tx.get_sku(sku_id).await?.is_none() {
                return Err(AppError::UnknownReference { field: "sku_id", entity: "sku" });
            }
            tx.insert_flash_sale(&sale).await?;
            Change::new("flash_sale.created", "flash_sale", sale.id)
                .in_store(store_id)
                .set("quota", &quota)
                .set("price", &price.fen())
                .record(tx, Some(ctx))
                .await?;
            Ok(sale)
        })?;
        if let Written::Fresh(sale) = &written
            && sale.starts_at <= now() + chrono::Duration::minutes(ARM_AHEAD_MINUTES)
            && sale.ends_at > now()
        {
            let (app, sale_id) = (self.clone(), sale.id);
            tokio::spawn(async move { app.arm_flash_sale_or_warn(sale_id).await });
        }
        Ok(written)
    }

    /// A flash sale as it stands: its `sold` is exact at once (each batch claims the quota as
    /// it is appended), so this reads no reservation rows and materialises nothing — a read
    /// during the rush costs the rush nothing.
    pub async fn get_flash_sale(&self, ctx: &Ctx, id: Uuid) -> AppResult<FlashSale> {
        ctx.require(Permission::ReadOrders)?;
        read_tx!(self, |tx| {
            let sale = tx.get_flash_sale(id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
            store_in_scope(ctx, tx, sale.store_id).await?;
            Ok(sale)
        })
    }

    /// A flash sale with what each buyer holds. The buyers' counts are rows, so the journal is
    /// materialised up to its head first.
    pub async fn get_flash_sale_buyers(&self, ctx: &Ctx, id: Uuid) -> AppResult<(FlashSale, Vec<(String, i64)>)> {
        ctx.require(Permission::ReadOrders)?;
        if self.flash.sales.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).contains_key(&id)
            || read_tx!(self, |tx| Ok(tx.get_flash_sale(id).await?.is_some_and(|s| s.journal_seq > 0)))?
        {
            self.materialize_flash_sales(Some(id)).await?;
        }
        read_tx!(self, |tx| {
            let sale = tx.get_flash_sale(id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
            store_in_scope(ctx, tx, sale.store_id).await?;
            let buyers = tx.flash_sale_buyers(id).await?;
            Ok((sale, buyers.into_iter().map(|(buyer, units)| (buyer.name().into_owned(), units)).collect()))
        })
    }

    /// Reserves `quantity` of a flash sale for the member `buyer` names — a member id (any case)
    /// or a phone, looked up to its member — through the sale's batcher. Answers once the batch
    /// holding the request has committed. `key` makes a retry find its reservation instead of
    /// taking a second one; it is the buyer's: the same key for another buyer is another
    /// request.
    ///
    /// A member id is taken as it is (no read: a rush names hundreds of thousands a second); the
    /// order made from the reservation checks the member exists. A phone with no member is an
    /// unknown reference; anything else is malformed.
    ///
    /// `buyer` is read before the future is made, and a member id's future is
    /// [`reserve_flash_for`](Self::reserve_flash_for)'s own (a phone's is boxed): a waiting
    /// buyer's future is polled from memory that left the cache, so it is kept as small as its
    /// wait allows (an `async fn` wrapping the other made every buyer's twice the size).
    pub fn reserve_flash_sale<'a>(
        &'a self,
        ctx: &'a Ctx,
        sale_id: Uuid,
        buyer: &str,
        quantity: i64,
    ) -> impl Future<Output = AppResult<FlashReservation>> + Send + 'a {
        match NamedBuyer::parse(buyer) {
            Ok(NamedBuyer::Member(member)) => Either::Left(self.reserve_flash_for(ctx, sale_id, member, quantity)),
            named => Either::Right(Box::pin(async move {
                ctx.require(Permission::SellOrders)?;
                let member = match named? {
                    NamedBuyer::Member(member) => member,
                    NamedBuyer::Phone(phone) => self.phone_member(&phone).await?,
                };
                self.reserve_flash_for(ctx, sale_id, member, quantity).await
            })),
        }
    }

    /// The member holding `phone` (as merges resolve them).
    async fn phone_member(&self, phone: &Phone) -> AppResult<CustomerId> {
        let unknown = AppError::UnknownReference { field: "buyer", entity: "customer" };
        let member = read_tx!(self, |tx| {
            let Some(id) = tx.customer_by_identity(&Identity::phone(phone)).await? else {
                return Err(unknown);
            };
            match crate::customers::resolve(tx, id).await {
                Err(AppError::NotFound { .. }) => Err(unknown),
                found => found.map(|customer| customer.id),
            }
        })?;
        Ok(member)
    }

    /// Reserves `quantity` of a flash sale for `member`, through the sale's batcher: what
    /// [`reserve_flash_sale`](Self::reserve_flash_sale) and the mall's shopper come to. The
    /// reservation's buyer is the member.
    pub(crate) async fn reserve_flash_for(
        &self,
        ctx: &Ctx,
        sale_id: Uuid,
        member: CustomerId,
        quantity: i64,
    ) -> AppResult<FlashReservation> {
        ctx.require(Permission::SellOrders)?;
        let key = &ctx.idempotency.as_ref().ok_or(AppError::IdempotencyKeyRequired)?.key;
        // A rush's requests find the owner running and await nothing but the answer, so the
        // future of a waiting buyer (a handler's too) holds little more than its receiver: a
        // rush polls thousands of them, each read back from memory that left the cache. Starting
        // an owner is boxed for that reason (the bench's buyer task is about half the size).
        let slot = match self.running_flash_slot(sale_id) {
            Some(slot) => slot,
            None => Box::pin(self.flash_owner(sale_id)).await?,
        };
        let answered = {
            let Some(queue) = slot.queue.get() else {
                return Err(AppError::Internal("the flash-sale owner has no queue".into()));
            };
            if !ctx.actor.covers_store(queue.place) {
                return Err(AppError::OutOfScope);
            }
            let quantity = Qty::positive("quantity", quantity)?.get();
            let (answer, answered) = oneshot::channel();
            let request = Request { member, key: key.clone(), quantity, answer };
            queue.sender.send(request).map_err(|_| AppError::Internal("the flash-sale owner stopped".into()))?;
            answered
        };
        drop(slot);
        answered.await.map_err(|_| AppError::Internal("the flash-sale owner dropped a request".into()))?
    }
}

impl App {
    /// A reservation by id, materialising pending journal records first if it is not a row yet.
    ///
    /// Every sale's: which one the reservation is of is not known until it is a row (a sale that
    /// cannot be materialised is logged and holds up no other). But a reservation's id carries
    /// the millisecond of its batch, so the records made by then come first: a buyer ordering
    /// right after a big rush waits for the part of the journal up to their own batch, not for
    /// all of it.
    pub(crate) async fn flash_reservation(&self, id: Uuid) -> AppResult<FlashReservation> {
        if let Some(found) = self.flash_reservation_row(id).await? {
            return Ok(found);
        }
        if let Some(made) = engine::batch_made_by(id) {
            self.materialize_made_by(|_| made).await?;
            if let Some(found) = self.flash_reservation_row(id).await? {
                return Ok(found);
            }
        }
        self.materialize_flash_sales(None).await?;
        self.flash_reservation_row(id).await?.ok_or(AppError::NotFound { entity: "flash_reservation" })
    }

    async fn flash_reservation_row(&self, id: Uuid) -> AppResult<Option<FlashReservation>> {
        read_tx!(self, |tx| Ok(tx.get_flash_reservation(id).await?))
    }

    /// The sale a reservation belongs to.
    pub(crate) async fn flash_sale_of(&self, reservation: Uuid) -> AppResult<FlashSale> {
        let held = self.flash_reservation(reservation).await?;
        read_tx!(self, |tx| tx.get_flash_sale(held.sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" }))
    }

    /// Releases held reservations whose time ran out at `at`: their stock, the sale's quota and
    /// the buyers' counts go back. Returns how many were released.
    pub async fn expire_flash_reservations(&self, at: Timestamp) -> AppResult<usize> {
        self.materialize_expirable_flash(at).await?;
        let expired = read_tx!(self, |tx| Ok(tx.expired_flash_reservations(at, 500).await?))?;
        let mut released = 0;
        for reservation in expired {
            // Ordered or released meanwhile: give_back changes nothing and says so.
            if write_tx!(self, |tx| give_back(tx, &reservation, HoldStatus::Held).await)? {
                released += 1;
            }
        }
        Ok(released)
    }

    /// Readies the sale's owner in this instance before its buyers come (预热): the book loaded
    /// from the database and its memory touched, so the sale's first second does not pay for
    /// them. A sale created to start soon is armed as it is created, any other by the sweeper
    /// as its start comes near; one that neither armed starts its owner at its first request.
    pub async fn arm_flash_sale(&self, sale_id: Uuid) -> AppResult<()> {
        self.flash_owner(sale_id).await.map(|_| ())
    }

    /// Arms, in this instance, the sales not over at `at` that start within [`ARM_AHEAD_MINUTES`]
    /// and are not armed here yet, at most [`ARM_PER_TICK`]; returns how many it armed. The
    /// sweeper calls it, so sales created further ahead, and every sale after a restart, are
    /// ready before their buyers come.
    pub async fn arm_upcoming_flash_sales(&self, at: Timestamp) -> AppResult<usize> {
        let until = at + chrono::Duration::minutes(ARM_AHEAD_MINUTES);
        // Armed sales come first (soonest first) and are skipped, so read past them.
        let upcoming = read_tx!(self, |tx| Ok(tx.flash_sales_starting_by(at, until, ARM_PER_TICK * 10).await?))?;
        let mut armed = 0;
        let unarmed = upcoming.into_iter().filter(|id| !self.flash_sale_armed(*id));
        for sale_id in unarmed.take(ARM_PER_TICK as usize) {
            if self.arm_flash_sale_or_warn(sale_id).await {
                armed += 1;
            }
        }
        Ok(armed)
    }

    /// Arms the sale; a failure is logged and leaves the sale to its first buyer. Whether it armed.
    async fn arm_flash_sale_or_warn(&self, sale_id: Uuid) -> bool {
        let armed = self.arm_flash_sale(sale_id).await;
        if let Err(err) = &armed {
            tracing::warn!(error = %err, %sale_id, "arming a flash sale failed; its first buyer starts its owner");
        }
        armed.is_ok()
    }

    /// Stops, in this instance, the owners of sales that ended by `at`, so their books (as much
    /// as the room reserved for the sale's units) are freed; returns how many. An owner's queue
    /// closes once the requests still holding it are answered, and then the owner stops. A
    /// request for an ended sale is refused without starting one again.
    pub fn stop_ended_flash_owners(&self, at: Timestamp) -> usize {
        let mut sales = self.flash.sales.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let before = sales.len();
        sales.retain(|_, slot| slot.queue.get().is_none_or(|queue| queue.ends_at > at));
        before - sales.len()
    }

    /// Whether the sale's owner runs in this instance.
    fn flash_sale_armed(&self, sale_id: Uuid) -> bool {
        self.running_flash_slot(sale_id).is_some()
    }

    /// The sale's slot in this instance if its owner runs here: what [`flash_owner`](Self::flash_owner)
    /// would give, without starting one.
    fn running_flash_slot(&self, sale_id: Uuid) -> Option<Arc<SaleSlot>> {
        let sales = self.flash.sales.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = sales.get(&sale_id)?;
        slot.queue.get().is_some_and(|queue| !queue.sender.is_closed()).then(|| Arc::clone(slot))
    }

    /// The sale's slot in this instance, its owner started.
    async fn flash_owner(&self, sale_id: Uuid) -> AppResult<Arc<SaleSlot>> {
        let slot = self.flash_sale_slot(sale_id);
        match slot.queue.get_or_try_init(|| self.start_flash_owner(sale_id)).await {
            Ok(_) => Ok(slot),
            Err(err) => {
                self.forget_flash_slot(sale_id, &slot);
                Err(err)
            }
        }
    }

    /// The sale's slot in this instance; a slot whose owner stopped is replaced by an empty one.
    fn flash_sale_slot(&self, sale_id: Uuid) -> Arc<SaleSlot> {
        let mut sales = self.flash.sales.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = sales.entry(sale_id).or_default();
        if slot.queue.get().is_some_and(|queue| queue.sender.is_closed()) {
            *slot = Arc::default();
        }
        Arc::clone(slot)
    }

    /// Drops a slot whose owner could not start (no such sale), unless another request has
    /// started it since: unknown ids leave nothing behind.
    fn forget_flash_slot(&self, sale_id: Uuid, slot: &Arc<SaleSlot>) {
        let mut sales = self.flash.sales.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if sales.get(&sale_id).is_some_and(|kept| Arc::ptr_eq(kept, slot) && kept.queue.get().is_none()) {
            sales.remove(&sale_id);
        }
    }

    /// Starts the sale's owner in this instance and gives its queue.
    async fn start_flash_owner(&self, sale_id: Uuid) -> AppResult<SaleQueue> {
        let (place, ends_at) = read_tx!(self, |tx| {
            let sale = tx.get_flash_sale(sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
            let store = tx.get_store(sale.store_id).await?.ok_or(AppError::NotFound { entity: "store" })?;
            Ok((StorePlace { store_id: store.id, region_id: store.region_id }, sale.ends_at))
        })?;
        // An owner would load the book only to refuse every request as the sale being over.
        if ends_at <= now() {
            return Err(AppError::FlashSale(Refusal::NotActive));
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let materializer = Arc::clone(&self.flash.materializer);
        materializer.start(&self.db);
        let (ready, readied) = oneshot::channel();
        tokio::spawn(engine::run_owner(Arc::clone(&self.db), sale_id, receiver, materializer, ready));
        // Dropped unsent only if the owner panicked; its queue's closing says so to buyers.
        let _ = readied.await;
        Ok(SaleQueue { place, ends_at, sender })
    }
}

/// Releases a reservation that is still `from`: marks it released, gives the sale its quota and
/// the buyer their count back, and (for a held one) releases its reserved stock; an ordered
/// one's stock is released by its order. `false` when it was no longer `from`.
///
/// Rows are locked stock first, then the sale, as a batch of the rush and an order's
/// cancellation do, so the three never deadlock on PostgreSQL.
pub(crate) async fn give_back(tx: &mut dyn Tx, reservation: &FlashReservation, from: HoldStatus) -> AppResult<bool> {
    if !tx.set_flash_reservation_status(reservation.id, from, HoldStatus::Released, None).await? {
        return Ok(false);
    }
    let sale = tx.get_flash_sale(reservation.sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
    if from == HoldStatus::Held {
        let entry = StockEntry {
            id: StockEntryId::new(),
            store_id: sale.store_id,
            sku_id: sale.sku_id,
            change: "flash_release".to_owned(),
            deltas: StockChange::Release(Qty::new(reservation.quantity))
                .deltas()
                .map_err(|e| AppError::Internal(e.to_string()))?,
            reason: Some("expired".to_owned()),
            reference: Some(format!("flash_sale:{}", sale.id)),
            idempotency_key: format!("flash:{}:release:{}", sale.id, reservation.id),
            actor_id: None,
            at: now(),
        };
        if tx.apply_stock(&entry).await?.is_none() {
            return Err(AppError::Internal("a flash-sale hold was not in reserved stock".into()));
        }
    }
    tx.release_sale_quota(sale.id, reservation.quantity).await?;
    tx.release_buyer_quota(sale.id, reservation.buyer.as_buyer(), reservation.quantity).await?;
    tx.insert_flash_release(reservation).await?;
    Ok(true)
}
