//! Use cases of stored value (储值): a member tops up at the till (cash or card, with the bonus a
//! promotion gives: 充1000送100), pays orders from the balance, and gets refunds back into it.
//! Every change is a ledger entry under a unique key in the transaction of the step that caused
//! it; the balance never goes below zero and always equals the sum of its ledger.

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    ids::{CustomerId, OrderId},
    loyalty,
    order::PaymentMethod,
    text,
};
use quanyu_store::{StoredValueEntry, Tx};

use crate::{App, AppError, AppResult, Ctx, Listing, Reply, Written, change::Change, listing::Cursor, write::now};

/// A member's stored value: the balance and a page of the ledger, newest first.
#[derive(Debug, Clone)]
pub struct StoredValueStatement {
    pub balance: Money,
    pub entries: Listing<StoredValueEntry>,
}

#[derive(Debug, Clone, Default)]
pub struct TopUpDraft {
    /// 分 paid in.
    pub amount: i64,
    /// 分 given on top (充值赠送), at most the amount.
    pub bonus: i64,
    /// `cash` or `card`.
    pub method: String,
    /// The card terminal's reference (required for card).
    pub reference: Option<String>,
}

impl App {
    /// Tops up a member's stored value at the till. Needs an idempotency key: a retried top-up
    /// credits once.
    pub async fn top_up(
        &self,
        ctx: &Ctx,
        customer_id: CustomerId,
        draft: TopUpDraft,
        reply: Reply<'_, StoredValueStatement>,
    ) -> AppResult<Written<StoredValueStatement>> {
        ctx.require(Permission::SellOrders)?;
        ctx.require_idempotency_key()?;
        let (amount, bonus) = (Money::from_fen(draft.amount), Money::from_fen(draft.bonus));
        loyalty::check_top_up(amount, bonus)?;
        let method = match PaymentMethod::parse(draft.method.trim())? {
            PaymentMethod::StoredValue => {
                return Err(DomainError::UnknownValue { field: "method", value: draft.method.clone() }.into());
            }
            method => method,
        };
        let reference = text::optional("reference", draft.reference.as_deref(), 64)?;
        if method == PaymentMethod::Card && reference.is_none() {
            return Err(DomainError::Required { field: "reference" }.into());
        }
        let customer = self.customer(ctx, customer_id).await?.customer;
        let key = ctx.idempotency.as_ref().map(|i| i.key.clone()).unwrap_or_default();
        write_idempotent!(self, ctx, reply, |tx| {
            let base = format!("top_up:{}:{key}", ctx.actor.staff_id);
            let mut paid = entry(ctx, customer.id, "top_up", amount, None, base.clone());
            paid.method = Some(method);
            paid.reference = reference.clone();
            applied(tx, &paid).await?;
            if bonus > Money::ZERO {
                applied(tx, &entry(ctx, customer.id, "bonus", bonus, None, format!("{base}:bonus"))).await?;
            }
            Change::new("stored_value.topped_up", "customer", customer.id)
                .set("amount", &amount.fen())
                .set("bonus", &bonus.fen())
                .set("method", &method.as_str())
                .record(tx, Some(ctx))
                .await?;
            statement(tx, customer.id, Cursor::page(None, None)?).await
        })
    }

    pub async fn stored_value(
        &self,
        ctx: &Ctx,
        customer_id: CustomerId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<StoredValueStatement> {
        let customer = self.customer(ctx, customer_id).await?.customer;
        let page = Cursor::page(cursor, limit)?;
        read_tx!(self, |tx| statement(tx, customer.id, page).await)
    }

    /// Customers whose stored-value balance differs from the sum of its ledger: empty when
    /// the books are sound.
    pub async fn reconcile_stored_value(&self, ctx: &Ctx) -> AppResult<Vec<(CustomerId, Money, Money)>> {
        ctx.require(Permission::ReadAudit)?;
        read_tx!(self, |tx| Ok(tx.reconcile_stored_value().await?))
    }
}

async fn statement(
    tx: &mut dyn Tx,
    customer_id: CustomerId,
    page: quanyu_store::Page,
) -> AppResult<StoredValueStatement> {
    let balance = tx.stored_value_balance(customer_id).await?;
    let rows = tx.list_stored_value(customer_id, page).await?;
    Ok(StoredValueStatement { balance, entries: Listing::from_rows(rows, page, |e| e.id) })
}

fn entry(
    ctx: &Ctx,
    customer_id: CustomerId,
    kind: &str,
    amount: Money,
    order_id: Option<OrderId>,
    key: String,
) -> StoredValueEntry {
    StoredValueEntry {
        id: uuid::Uuid::now_v7(),
        customer_id,
        kind: kind.to_owned(),
        amount,
        order_id,
        method: None,
        reference: None,
        idempotency_key: key,
        actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
        at: now(),
    }
}

async fn applied(tx: &mut dyn Tx, entry: &StoredValueEntry) -> AppResult<()> {
    match tx.apply_stored_value(entry).await? {
        Some(_) => Ok(()),
        None => Err(AppError::InsufficientStoredValue {
            balance: tx.stored_value_balance(entry.customer_id).await?.fen(),
            requested: -entry.amount.fen(),
        }),
    }
}

/// Moves a member's stored value for an order (a payment, a refund) under `key`, once.
pub(crate) async fn apply(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer_id: CustomerId,
    kind: &str,
    amount: Money,
    order_id: Option<OrderId>,
    key: String,
) -> AppResult<()> {
    if amount == Money::ZERO || tx.stored_value_entry_by_key(&key).await?.is_some() {
        return Ok(());
    }
    applied(tx, &entry(ctx, customer_id, kind, amount, order_id, key)).await
}
