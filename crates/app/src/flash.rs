//! Flash sales (秒杀): offers with a quota and a per-customer limit, and the reservation path
//! built for thousands of buyers of one SKU in the same second.
//!
//! Requests for one sale queue to one in-process batcher. It takes every request waiting (up to
//! [`MAX_BATCH`]) into a single write transaction — guarded claims of the buyers' limits, of the
//! sale's quota and of the store's stock, undoing earlier claims in the same transaction when a
//! later one is refused — commits once, and only then answers each buyer. One fsync carries the whole batch (group commit).
//! Correct across instances, because every claim is a guarded atomic update in the database:
//! batching is only how fast it goes, never why it is right.

use std::{collections::HashMap, sync::Arc};

use quanyu_domain::{
    DomainError, Money,
    authz::{Permission, StorePlace},
    flash::HoldStatus,
    ids::{SkuId, StockEntryId, StoreId},
    inventory::{Qty, StockChange},
    time::Timestamp,
};
use quanyu_store::{Database, FlashReservation, FlashSale, StockEntry, Tx};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{App, AppError, AppResult, Ctx, Reply, Written, change::Change, org::store_in_scope, write::now};

/// The most requests one transaction carries.
pub const MAX_BATCH: usize = 512;

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

/// Why one buyer's request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotActive,
    LimitReached,
    SoldOut,
}

struct Request {
    buyer: String,
    quantity: i64,
    key: String,
    answer: oneshot::Sender<AppResult<FlashReservation>>,
}

/// One batcher per sale, started on first use, and where each sale's store sits (for scope
/// checks without a database read per request; a sale never changes store).
#[derive(Default)]
pub(crate) struct FlashEngine {
    queues: std::sync::Mutex<HashMap<Uuid, mpsc::UnboundedSender<Request>>>,
    places: std::sync::Mutex<HashMap<Uuid, StorePlace>>,
}

impl FlashEngine {
    fn queue(&self, db: &Arc<dyn Database>, sale_id: Uuid) -> mpsc::UnboundedSender<Request> {
        let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = queues.get(&sale_id).filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run_batcher(Arc::clone(db), sale_id, receiver));
        queues.insert(sale_id, sender.clone());
        sender
    }
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
            return Err(DomainError::Malformed { field: "ends_at", expected: "a time after starts_at" }.into());
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
        };
        write_idempotent!(self, ctx, reply, |tx| {
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
        })
    }

    pub async fn get_flash_sale(&self, ctx: &Ctx, id: Uuid) -> AppResult<(FlashSale, Vec<(String, i64)>)> {
        ctx.require(Permission::ReadOrders)?;
        read_tx!(self, |tx| {
            let sale = tx.get_flash_sale(id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
            store_in_scope(ctx, tx, sale.store_id).await?;
            let buyers = tx.flash_sale_buyers(id).await?;
            Ok((sale, buyers))
        })
    }

    /// Reserves `quantity` of a flash sale for `buyer`, through the sale's batcher. Answers
    /// once the batch holding the request has committed. `key` makes a retry find its
    /// reservation instead of taking a second one.
    pub async fn reserve_flash_sale(
        &self,
        ctx: &Ctx,
        sale_id: Uuid,
        buyer: &str,
        quantity: i64,
    ) -> AppResult<FlashReservation> {
        ctx.require(Permission::SellOrders)?;
        let key = ctx.idempotency.as_ref().ok_or(AppError::IdempotencyKeyRequired)?.key.clone();
        if !ctx.actor.covers_store(self.flash_sale_place(sale_id).await?) {
            return Err(AppError::OutOfScope);
        }
        let buyer = quanyu_domain::text::required("buyer", buyer, 64)?;
        let quantity = Qty::positive("quantity", quantity)?.get();
        let (answer, answered) = oneshot::channel();
        let request = Request { key: format!("{buyer}:{key}"), buyer, quantity, answer };
        self.flash
            .queue(&self.db, sale_id)
            .send(request)
            .map_err(|_| AppError::Internal("the flash-sale batcher stopped".into()))?;
        answered.await.map_err(|_| AppError::Internal("the flash-sale batcher dropped a request".into()))?
    }
}

impl App {
    /// The sale a reservation belongs to.
    pub(crate) async fn flash_sale_of(&self, reservation: Uuid) -> AppResult<FlashSale> {
        read_tx!(self, |tx| {
            let held = tx
                .get_flash_reservation(reservation)
                .await?
                .ok_or(AppError::NotFound { entity: "flash_reservation" })?;
            tx.get_flash_sale(held.sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })
        })
    }

    /// Releases held reservations whose time ran out at `at`: their stock, the sale's quota and
    /// the buyers' counts go back. Returns how many were released.
    pub async fn expire_flash_reservations(&self, at: Timestamp) -> AppResult<usize> {
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

    async fn flash_sale_place(&self, sale_id: Uuid) -> AppResult<StorePlace> {
        let cached = self.flash.places.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&sale_id).copied();
        if let Some(place) = cached {
            return Ok(place);
        }
        let place = read_tx!(self, |tx| {
            let sale = tx.get_flash_sale(sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
            let store = tx.get_store(sale.store_id).await?.ok_or(AppError::NotFound { entity: "store" })?;
            Ok(StorePlace { store_id: store.id, region_id: store.region_id })
        })?;
        self.flash.places.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(sale_id, place);
        Ok(place)
    }
}

/// Drains one sale's queue: every waiting request goes into the next transaction.
async fn run_batcher(db: Arc<dyn Database>, sale_id: Uuid, mut queue: mpsc::UnboundedReceiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let requests = std::mem::take(&mut batch);
        let outcome = apply_batch(&db, sale_id, &requests).await;
        match outcome {
            Ok(results) => {
                for (request, result) in requests.into_iter().zip(results) {
                    let _ = request.answer.send(result);
                }
            }
            Err(err) => {
                let message = err.to_string();
                for request in requests {
                    let _ = request.answer.send(Err(AppError::Internal(message.clone())));
                }
            }
        }
    }
}

/// One transaction for the whole batch; per-request refusals are answers, not failures.
///
/// Set-based: a handful of statements per batch rather than per buyer — one lookup of the keys
/// already used, one claim for every buyer with a single request, one guarded claim of the
/// quota and one of the stock for everything accepted, one insert of the reservations. Only
/// the rare cases (a buyer twice in one batch; a claim refused because another instance took
/// the units meanwhile) fall back to claiming request by request.
async fn apply_batch(
    db: &Arc<dyn Database>,
    sale_id: Uuid,
    requests: &[Request],
) -> AppResult<Vec<AppResult<FlashReservation>>> {
    let mut tx = db.write().await?;
    let sale = tx.get_flash_sale(sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
    let at = now();
    if !(sale.starts_at <= at && at < sale.ends_at) {
        return Ok(requests.iter().map(|_| Err(AppError::FlashSale(Refusal::NotActive))).collect());
    }
    let mut results: Vec<Option<AppResult<FlashReservation>>> = requests.iter().map(|_| None).collect();

    // Retries: keys already in the ledger of reservations get their reservation back; a key
    // repeated inside the batch follows its first occurrence.
    let keys: Vec<String> = requests.iter().map(|r| r.key.clone()).collect();
    let existing: HashMap<String, FlashReservation> =
        tx.flash_reservations_by_keys(&keys).await?.into_iter().map(|r| (r.idempotency_key.clone(), r)).collect();
    let mut first_of_key: HashMap<&str, usize> = HashMap::new();
    let mut followers = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        if let Some(found) = existing.get(&request.key) {
            results[index] = Some(Ok(found.clone()));
        } else if let Some(&first) = first_of_key.get(request.key.as_str()) {
            followers.push((index, first));
        } else {
            first_of_key.insert(&request.key, index);
        }
    }
    let mut pending: Vec<usize> = first_of_key.values().copied().collect();
    pending.sort_unstable();

    // Buyers' limits: one statement for every buyer with a single request here.
    let mut per_buyer: HashMap<&str, usize> = HashMap::new();
    for &index in &pending {
        *per_buyer.entry(requests[index].buyer.as_str()).or_default() += 1;
    }
    let single: Vec<(String, i64)> = pending
        .iter()
        .map(|&i| &requests[i])
        .filter(|r| per_buyer[r.buyer.as_str()] == 1 && r.quantity <= sale.per_customer_limit)
        .map(|r| (r.buyer.clone(), r.quantity))
        .collect();
    let claimed: std::collections::HashSet<String> =
        tx.claim_buyers(sale.id, &single, sale.per_customer_limit).await?.into_iter().collect();
    let mut candidates = Vec::new();
    for &index in &pending {
        let request = &requests[index];
        let ok = if per_buyer[request.buyer.as_str()] == 1 {
            claimed.contains(&request.buyer)
        } else {
            tx.claim_buyer_quota(sale.id, &request.buyer, request.quantity, sale.per_customer_limit).await?
        };
        if ok {
            candidates.push(index);
        } else {
            results[index] = Some(Err(AppError::FlashSale(Refusal::LimitReached)));
        }
    }

    // The quota, then the stock, for everything accepted so far in one guarded claim each;
    // if either is refused, go request by request to find exactly what still fits.
    let mut remaining = sale.quota - sale.sold;
    let mut accepted = Vec::new();
    for index in candidates {
        let request = &requests[index];
        if request.quantity <= remaining {
            remaining -= request.quantity;
            accepted.push(index);
        } else {
            tx.release_buyer_quota(sale.id, &request.buyer, request.quantity).await?;
            results[index] = Some(Err(AppError::FlashSale(Refusal::SoldOut)));
        }
    }
    let total: i64 = accepted.iter().map(|&i| requests[i].quantity).sum();
    let stock_entry = |quantity: i64, tag: Uuid| -> AppResult<StockEntry> {
        Ok(StockEntry {
            id: StockEntryId::new(),
            store_id: sale.store_id,
            sku_id: sale.sku_id,
            change: "flash_reserve".to_owned(),
            deltas: StockChange::Reserve(Qty::new(quantity)).deltas().map_err(|e| AppError::Internal(e.to_string()))?,
            reason: None,
            reference: Some(format!("flash_sale:{}", sale.id)),
            idempotency_key: format!("flash:{}:{tag}", sale.id),
            actor_id: None,
            at,
        })
    };
    let whole_batch_fits = total == 0
        || (tx.claim_sale_quota(sale.id, total).await? && {
            let fits = tx.apply_stock(&stock_entry(total, Uuid::now_v7())?).await?.is_some();
            if !fits {
                tx.release_sale_quota(sale.id, total).await?;
            }
            fits
        });
    let mut reservations = Vec::with_capacity(accepted.len());
    for index in accepted {
        let request = &requests[index];
        let reservation = FlashReservation {
            id: Uuid::now_v7(),
            sale_id: sale.id,
            buyer: request.buyer.clone(),
            quantity: request.quantity,
            idempotency_key: request.key.clone(),
            at,
            status: HoldStatus::Held,
            expires_at: at + chrono::Duration::minutes(sale.hold_minutes),
            order_id: None,
        };
        let fits = whole_batch_fits || {
            let quota = tx.claim_sale_quota(sale.id, request.quantity).await?;
            let stock = quota && tx.apply_stock(&stock_entry(request.quantity, reservation.id)?).await?.is_some();
            if quota && !stock {
                tx.release_sale_quota(sale.id, request.quantity).await?;
            }
            stock
        };
        if fits {
            results[index] = Some(Ok(reservation.clone()));
            reservations.push(reservation);
        } else {
            tx.release_buyer_quota(sale.id, &request.buyer, request.quantity).await?;
            results[index] = Some(Err(AppError::FlashSale(Refusal::SoldOut)));
        }
    }
    tx.insert_flash_reservations(&reservations).await?;
    tx.commit().await?;

    for (index, first) in followers {
        results[index] = results[first].as_ref().map(|r| match r {
            Ok(reservation) => Ok(reservation.clone()),
            Err(AppError::FlashSale(refusal)) => Err(AppError::FlashSale(*refusal)),
            Err(other) => Err(AppError::Internal(other.to_string())),
        });
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(AppError::Internal("a request went unanswered".into()))))
        .collect())
}

/// Releases a reservation that is still `from`: marks it released, gives the sale its quota and
/// the buyer their count back, and (for a held one) releases its reserved stock; an ordered
/// one's stock is released by its order. `false` when it was no longer `from`.
pub(crate) async fn give_back(tx: &mut dyn Tx, reservation: &FlashReservation, from: HoldStatus) -> AppResult<bool> {
    if !tx.set_flash_reservation_status(reservation.id, from, HoldStatus::Released, None).await? {
        return Ok(false);
    }
    let sale = tx.get_flash_sale(reservation.sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
    tx.release_sale_quota(sale.id, reservation.quantity).await?;
    tx.release_buyer_quota(sale.id, &reservation.buyer, reservation.quantity).await?;
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
    Ok(true)
}
