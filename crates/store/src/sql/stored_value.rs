//! Stored value (储值): balances and their ledger.

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    ids::{CustomerId, OrderId, StaffId},
    order::PaymentMethod,
};
use sqlx::Row as _;
use uuid::Uuid;

use super::{super::SqlTx, rows::Row};
use crate::{Page, StoreError, StoreResult, StoredValueEntry, StoredValueRepo};

fn entry(row: &Row) -> StoreResult<StoredValueEntry> {
    let method: Option<String> = row.try_get("method")?;
    Ok(StoredValueEntry {
        id: row.try_get("id")?,
        customer_id: CustomerId::from_uuid(row.try_get("customer_id")?),
        kind: row.try_get("kind")?,
        amount: Money::from_fen(row.try_get("amount")?),
        order_id: row.try_get::<Option<Uuid>, _>("order_id")?.map(OrderId::from_uuid),
        method: method
            .map(|m| PaymentMethod::parse(&m))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("method: {e}")))?,
        reference: row.try_get("reference")?,
        idempotency_key: row.try_get("idem_key")?,
        actor_id: row.try_get::<Option<Uuid>, _>("actor_id")?.map(StaffId::from_uuid),
        at: row.try_get("at")?,
    })
}

#[async_trait]
impl StoredValueRepo for SqlTx {
    async fn apply_stored_value(&mut self, e: &StoredValueEntry) -> StoreResult<Option<Money>> {
        sqlx::query(
            "INSERT INTO stored_value_accounts (customer_id, balance, updated_at) VALUES ($1, 0, $2) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(e.customer_id.as_uuid())
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        let balance = sqlx::query(
            "UPDATE stored_value_accounts SET balance = balance + $2, updated_at = $3 \
             WHERE customer_id = $1 AND balance + $2 >= 0 RETURNING balance",
        )
        .bind(e.customer_id.as_uuid())
        .bind(e.amount.fen())
        .bind(e.at)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(balance) = balance else { return Ok(None) };
        sqlx::query(
            "INSERT INTO stored_value_ledger (id, customer_id, kind, amount, order_id, method, reference, idem_key, \
             actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id)
        .bind(e.customer_id.as_uuid())
        .bind(&e.kind)
        .bind(e.amount.fen())
        .bind(e.order_id.map(|o| o.as_uuid()))
        .bind(e.method.map(PaymentMethod::as_str))
        .bind(&e.reference)
        .bind(&e.idempotency_key)
        .bind(e.actor_id.map(|a| a.as_uuid()))
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(Some(Money::from_fen(balance.try_get("balance")?)))
    }

    async fn stored_value_entry_by_key(&mut self, key: &str) -> StoreResult<Option<StoredValueEntry>> {
        let row = sqlx::query("SELECT * FROM stored_value_ledger WHERE idem_key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(entry).transpose()
    }

    async fn stored_value_balance(&mut self, customer_id: CustomerId) -> StoreResult<Money> {
        let row = sqlx::query("SELECT balance FROM stored_value_accounts WHERE customer_id = $1")
            .bind(customer_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(Money::from_fen(row.map(|r| r.try_get("balance")).transpose()?.unwrap_or(0)))
    }

    async fn list_stored_value(&mut self, customer_id: CustomerId, page: Page) -> StoreResult<Vec<StoredValueEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM stored_value_ledger WHERE customer_id = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(customer_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(entry).collect()
    }

    async fn reconcile_stored_value(&mut self) -> StoreResult<Vec<(CustomerId, Money, Money)>> {
        let rows = sqlx::query(
            "SELECT a.customer_id, a.balance, CAST(COALESCE(l.total, 0) AS BIGINT) AS total \
             FROM stored_value_accounts a LEFT JOIN (SELECT customer_id, SUM(amount) AS total \
             FROM stored_value_ledger GROUP BY customer_id) l ON l.customer_id = a.customer_id \
             WHERE a.balance <> COALESCE(l.total, 0) ORDER BY a.customer_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    CustomerId::from_uuid(r.try_get("customer_id")?),
                    Money::from_fen(r.try_get("balance")?),
                    Money::from_fen(r.try_get("total")?),
                ))
            })
            .collect()
    }
}
