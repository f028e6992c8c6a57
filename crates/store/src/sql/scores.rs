//! Customer scores: RFM and lifecycle stage per customer, and the order aggregates they are
//! computed from.

use async_trait::async_trait;
use quanyu_domain::{ids::CustomerId, time::Timestamp};
use sqlx::{AssertSqlSafe, Row as _};

use super::{
    super::{SqlTx, scan::scan_rows},
    Param, Placeholders,
    rows::Row,
};
use crate::{CountedOrder, CustomerScores, ScoreInput, ScoresRepo, StoreResult};

/// Rows per multi-row statement (10 parameters each).
const ROWS_PER_STATEMENT: usize = 500;

fn scores(row: &Row) -> StoreResult<CustomerScores> {
    Ok(CustomerScores {
        customer_id: CustomerId::from_uuid(row.try_get("customer_id")?),
        orders: row.try_get("orders")?,
        spend: row.try_get("spend")?,
        last_order_at: row.try_get("last_order_at")?,
        r: row.try_get("r")?,
        f: row.try_get("f")?,
        m: row.try_get("m")?,
        stage: row.try_get("stage")?,
        stage_entered_at: row.try_get("stage_entered_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The orders scores count, placed since `$1`, of the `orders` table named `orders`: paid, and
/// not cancelled (refunded ones too, for what they kept). The one definition, for the
/// per-customer aggregates and the full rebuild's reads (of the orders, and of their lines).
pub(super) fn counted(orders: &str) -> String {
    format!("{orders}.paid > 0 AND {orders}.status <> 'cancelled' AND {orders}.created_at >= $1")
}

/// The paid-order aggregates of the customer listed, since `$1`.
fn aggregates() -> String {
    format!(
        "SELECT customer_id, CAST(COUNT(*) AS BIGINT) AS orders, \
         CAST(COALESCE(SUM(paid - refunded), 0) AS BIGINT) AS spend, MAX(created_at) AS last_order_at \
         FROM orders WHERE {} AND customer_id IN",
        counted("orders")
    )
}

#[async_trait]
impl ScoresRepo for SqlTx {
    async fn get_scores(&mut self, customer_id: CustomerId) -> StoreResult<Option<CustomerScores>> {
        let row = sqlx::query("SELECT * FROM customer_scores WHERE customer_id = $1")
            .bind(customer_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(scores).transpose()
    }

    async fn scores_of(&mut self, ids: &[CustomerId]) -> StoreResult<Vec<CustomerScores>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let sql = format!("SELECT * FROM customer_scores WHERE customer_id IN ({})", params.list(chunk.len()));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_uuid());
            }
            for row in query.fetch_all(&mut *self.tx).await? {
                found.push(scores(&row)?);
            }
        }
        Ok(found)
    }

    async fn put_scores(&mut self, rows: &[CustomerScores]) -> StoreResult<()> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let values = params.rows(chunk.len(), 10);
            let sql = format!(
                "INSERT INTO customer_scores (customer_id, orders, spend, last_order_at, r, f, m, stage, \
                 stage_entered_at, updated_at) VALUES {} ON CONFLICT (customer_id) DO UPDATE SET \
                 orders = excluded.orders, spend = excluded.spend, last_order_at = excluded.last_order_at, \
                 r = excluded.r, f = excluded.f, m = excluded.m, stage = excluded.stage, \
                 stage_entered_at = excluded.stage_entered_at, updated_at = excluded.updated_at",
                values
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for s in chunk {
                query = query
                    .bind(s.customer_id.as_uuid())
                    .bind(s.orders)
                    .bind(s.spend)
                    .bind(s.last_order_at)
                    .bind(s.r)
                    .bind(s.f)
                    .bind(s.m)
                    .bind(&s.stage)
                    .bind(s.stage_entered_at)
                    .bind(s.updated_at);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn score_input(&mut self, customer_id: CustomerId, since: Timestamp) -> StoreResult<Option<ScoreInput>> {
        let Some(customer) = sqlx::query("SELECT created_at FROM customers WHERE id = $1")
            .bind(customer_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        let row = sqlx::query(AssertSqlSafe(format!("{} ($2) GROUP BY customer_id", aggregates())))
            .bind(since)
            .bind(customer_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        let (orders, spend, last_order_at) = match row {
            Some(row) => (row.try_get("orders")?, row.try_get("spend")?, row.try_get("last_order_at")?),
            None => (0, 0, None),
        };
        Ok(Some(ScoreInput {
            customer_id,
            registered_at: customer.try_get("created_at")?,
            orders,
            spend,
            last_order_at,
        }))
    }

    async fn scan_live_customers(&mut self, each: &mut (dyn FnMut(CustomerId, Timestamp) + Send)) -> StoreResult<()> {
        let sql = "SELECT id, created_at FROM customers WHERE merged_into IS NULL";
        scan_rows(self, sql, &[], &mut |row| {
            each(CustomerId::from_uuid(row.uuid(0)?), row.timestamp(1)?);
            Ok(())
        })
        .await
    }

    async fn scan_counted_orders(
        &mut self,
        since: Timestamp,
        each: &mut (dyn FnMut(CountedOrder) + Send),
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT customer_id, created_at, CAST(paid - refunded AS BIGINT) AS spend \
             FROM orders {} WHERE {} AND customer_id IS NOT NULL",
            super::super::WHOLE_TABLE,
            counted("orders")
        );
        scan_rows(self, &sql, &[Param::At(since)], &mut |row| {
            each(CountedOrder {
                customer_id: CustomerId::from_uuid(row.uuid(0)?),
                created_at: row.timestamp(1)?,
                spend: row.int(2)?,
            });
            Ok(())
        })
        .await
    }

    async fn scan_scores(&mut self, each: &mut (dyn FnMut(CustomerScores) + Send)) -> StoreResult<()> {
        let sql = "SELECT customer_id, orders, spend, last_order_at, r, f, m, stage, stage_entered_at, updated_at \
                   FROM customer_scores";
        scan_rows(self, sql, &[], &mut |row| {
            each(CustomerScores {
                customer_id: CustomerId::from_uuid(row.uuid(0)?),
                orders: row.int(1)?,
                spend: row.int(2)?,
                last_order_at: row.optional_timestamp(3)?,
                r: row.int(4)?,
                f: row.int(5)?,
                m: row.int(6)?,
                stage: row.text(7)?,
                stage_entered_at: row.timestamp(8)?,
                updated_at: row.timestamp(9)?,
            });
            Ok(())
        })
        .await
    }
}
