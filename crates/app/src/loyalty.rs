//! Use cases of points (积分): earned when an order of a member is paid (every channel, the
//! till included), taken back as it is refunded, expiring first in first out, adjusted by
//! trusted staff, read with their ledger. Every change is a ledger entry with a unique key in the
//! transaction of the order step that caused it, so a retried payment or refund moves no points
//! twice, and a balance always equals the sum of its ledger.

use chrono::Duration;
use quanyu_domain::{
    DomainError,
    authz::Permission,
    ids::CustomerId,
    loyalty::{self, PointsRule},
    order::Order,
    time::Timestamp,
};
use quanyu_store::{PointsEntry, Tx};

use crate::{App, AppError, AppResult, Ctx, Listing, Reply, Written, change::Change, listing::Cursor, write::now};

/// A customer's points: the balance and a page of the ledger, newest first.
#[derive(Debug, Clone)]
pub struct PointsStatement {
    pub balance: i64,
    pub entries: Listing<PointsEntry>,
}

/// The largest manual adjustment in one step.
const MAX_ADJUSTMENT: i64 = 1_000_000;

impl App {
    pub async fn customer_points(
        &self,
        ctx: &Ctx,
        id: CustomerId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<PointsStatement> {
        let profile = self.customer(ctx, id).await?;
        let page = Cursor::page(cursor, limit)?;
        let id = profile.customer.id;
        let (balance, rows) = read_tx!(self, |tx| Ok((tx.points_balance(id).await?, tx.list_points(id, page).await?)))?;
        Ok(PointsStatement { balance, entries: Listing::from_rows(rows, page, |e| e.id) })
    }

    /// Adds or removes points by hand (a goodwill gesture, a correction), with a reason. Needs an
    /// idempotency key; a removal beyond the balance is refused.
    pub async fn adjust_points(
        &self,
        ctx: &Ctx,
        id: CustomerId,
        points: i64,
        reason: Option<&str>,
        reply: Reply<'_, PointsEntry>,
    ) -> AppResult<Written<PointsEntry>> {
        ctx.require(Permission::MergeCustomers)?;
        ctx.require_idempotency_key()?;
        if points == 0 || points.abs() > MAX_ADJUSTMENT {
            return Err(DomainError::OutOfRange { field: "points", min: -MAX_ADJUSTMENT, max: MAX_ADJUSTMENT }.into());
        }
        let reason =
            quanyu_domain::text::optional("reason", reason, 200)?.ok_or(DomainError::Required { field: "reason" })?;
        let customer = self.customer(ctx, id).await?.customer;
        let key = ctx.idempotency.as_ref().map(|i| i.key.clone()).unwrap_or_default();
        write_idempotent!(self, ctx, reply, |tx| {
            let entry = entry(
                ctx,
                customer.id,
                "adjust",
                points,
                None,
                Some(reason.clone()),
                None,
                format!("adjust:{}:{key}", ctx.actor.staff_id),
            );
            apply(tx, &entry).await?;
            Change::new("points.adjusted", "customer", customer.id)
                .set("points", &points)
                .set("reason", &reason)
                .record(tx, Some(ctx))
                .await?;
            Ok(entry)
        })
    }

    /// Writes off the points of lots that expired in `(since, now]`; returns how many customers
    /// lost points.
    pub async fn expire_points(&self, since: Timestamp, at: Timestamp) -> AppResult<usize> {
        let customers = read_tx!(self, |tx| Ok(tx.customers_with_expiring_points(since, at).await?))?;
        let ctx = Ctx::system();
        let mut touched = 0;
        for customer_id in customers {
            let expired = write_tx!(self, |tx| {
                let (lots, debits) = tx.points_expiry_sums(customer_id, at).await?;
                let due = loyalty::to_expire(lots, debits);
                if due > 0 {
                    let key = format!("expire:{customer_id}:{}", at.timestamp_micros());
                    apply(tx, &entry(&ctx, customer_id, "expire", -due, None, None, None, key)).await?;
                }
                Ok(due)
            })?;
            touched += usize::from(expired > 0);
        }
        Ok(touched)
    }

    /// Customers whose balance differs from the sum of their ledger: empty when the books are
    /// sound.
    pub async fn reconcile_points(&self, ctx: &Ctx) -> AppResult<Vec<(CustomerId, i64, i64)>> {
        ctx.require(Permission::ReadAudit)?;
        read_tx!(self, |tx| Ok(tx.reconcile_points().await?))
    }
}

/// Points for a paid order of a member, in the payment's transaction.
pub(crate) async fn earn_for_order(tx: &mut dyn Tx, ctx: &Ctx, order: &Order) -> AppResult<()> {
    let Some(customer_id) = order.customer_id else { return Ok(()) };
    let rule = PointsRule::default();
    let points = loyalty::earned(order.paid, rule);
    if points == 0 {
        return Ok(());
    }
    let key = format!("order:{}:earn", order.id);
    if tx.points_entry_by_key(&key).await?.is_some() {
        return Ok(());
    }
    let expires_at = order.updated_at + Duration::days(rule.lifetime_days);
    apply(tx, &entry(ctx, customer_id, "earn", points, Some(order), None, Some(expires_at), key)).await
}

/// Takes back the points of what an order has refunded so far, in the refund's transaction.
/// Points already spent stay spent: the balance goes down to zero at most.
pub(crate) async fn take_back_for_order(tx: &mut dyn Tx, ctx: &Ctx, order: &Order) -> AppResult<()> {
    let Some(customer_id) = order.customer_id else { return Ok(()) };
    let (earned, taken) = tx.order_points(order.id).await?;
    let due = loyalty::to_take_back(order.paid, earned, order.refunded, taken);
    if due == 0 {
        return Ok(());
    }
    let due = due.min(tx.points_balance(customer_id).await?);
    if due == 0 {
        return Ok(());
    }
    let key = format!("order:{}:take_back:{}", order.id, taken + due);
    apply(tx, &entry(ctx, customer_id, "take_back", -due, Some(order), None, None, key)).await
}

#[allow(clippy::too_many_arguments)]
fn entry(
    ctx: &Ctx,
    customer_id: CustomerId,
    kind: &str,
    points: i64,
    order: Option<&Order>,
    reason: Option<String>,
    expires_at: Option<Timestamp>,
    key: String,
) -> PointsEntry {
    PointsEntry {
        id: uuid::Uuid::now_v7(),
        customer_id,
        kind: kind.to_owned(),
        points,
        order_id: order.map(|o| o.id),
        reason,
        expires_at,
        idempotency_key: key,
        actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
        at: now(),
    }
}

async fn apply(tx: &mut dyn Tx, entry: &PointsEntry) -> AppResult<()> {
    match tx.apply_points(entry).await? {
        Some(_) => Ok(()),
        None => Err(AppError::InsufficientPoints {
            balance: tx.points_balance(entry.customer_id).await?,
            requested: -entry.points,
        }),
    }
}
