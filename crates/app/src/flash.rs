//! Flash sales (秒杀): offers with a quota and a per-customer limit, and the reservation path
//! built for thousands of buyers of one SKU in the same second.
//!
//! Requests for one sale queue to one in-process batcher. It takes every request waiting (up to
//! [`MAX_BATCH`]), applies them one after another inside a single write transaction — each a
//! guarded claim of the buyer's limit, then of the sale's quota, then of the store's stock,
//! undoing the earlier claims in the same transaction when a later one is refused — commits
//! once, and only then answers each buyer. One fsync carries the whole batch (group commit).
//! Correct across instances, because every claim is a guarded atomic update in the database:
//! batching is only how fast it goes, never why it is right.

use std::{collections::HashMap, sync::Arc};

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
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
}

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

/// One batcher per sale, started on first use.
#[derive(Default)]
pub(crate) struct FlashEngine {
    queues: std::sync::Mutex<HashMap<Uuid, mpsc::UnboundedSender<Request>>>,
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
async fn apply_batch(
    db: &Arc<dyn Database>,
    sale_id: Uuid,
    requests: &[Request],
) -> AppResult<Vec<AppResult<FlashReservation>>> {
    let mut tx = db.write().await?;
    let sale = tx.get_flash_sale(sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
    let at = now();
    let active = sale.starts_at <= at && at < sale.ends_at;
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        let result = if active {
            reserve_one(&mut *tx, &sale, request, at).await?
        } else {
            Err(AppError::FlashSale(Refusal::NotActive))
        };
        results.push(result);
    }
    tx.commit().await?;
    Ok(results)
}

/// Claims the buyer's limit, the sale's quota and the stock, in that order, undoing earlier
/// claims when a later one is refused. The outer `Result` is a database failure (the batch
/// fails); the inner one is this buyer's answer.
async fn reserve_one(
    tx: &mut dyn Tx,
    sale: &FlashSale,
    request: &Request,
    at: Timestamp,
) -> AppResult<AppResult<FlashReservation>> {
    if let Some(existing) = tx.flash_reservation_by_key(&request.key).await? {
        return Ok(Ok(existing));
    }
    let quantity = request.quantity;
    if !tx.claim_buyer_quota(sale.id, &request.buyer, quantity, sale.per_customer_limit).await? {
        return Ok(Err(AppError::FlashSale(Refusal::LimitReached)));
    }
    if !tx.claim_sale_quota(sale.id, quantity).await? {
        tx.release_buyer_quota(sale.id, &request.buyer, quantity).await?;
        return Ok(Err(AppError::FlashSale(Refusal::SoldOut)));
    }
    let reservation = FlashReservation {
        id: Uuid::now_v7(),
        sale_id: sale.id,
        buyer: request.buyer.clone(),
        quantity,
        idempotency_key: request.key.clone(),
        at,
    };
    let entry = StockEntry {
        id: StockEntryId::new(),
        store_id: sale.store_id,
        sku_id: sale.sku_id,
        change: "flash_reserve".to_owned(),
        deltas: StockChange::Reserve(Qty::new(quantity)).deltas().map_err(|e| AppError::Internal(e.to_string()))?,
        reason: None,
        reference: Some(format!("flash_sale:{}:{}", sale.id, reservation.id)),
        idempotency_key: format!("flash:{}:{}", sale.id, reservation.id),
        actor_id: None,
        at,
    };
    if tx.apply_stock(&entry).await?.is_none() {
        tx.release_sale_quota(sale.id, quantity).await?;
        tx.release_buyer_quota(sale.id, &request.buyer, quantity).await?;
        return Ok(Err(AppError::FlashSale(Refusal::SoldOut)));
    }
    tx.insert_flash_reservation(&reservation).await?;
    Ok(Ok(reservation))
}
