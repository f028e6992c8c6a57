//! Orders with their lines, timeline and payments. Status changes are compare-and-set on the
//! status the caller read, so two concurrent payments of one order cannot both succeed.

use std::collections::HashMap;

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    geo::{Coordinates, Datum},
    ids::{CustomerId, OrderId, PaymentId, SkuId, StaffId, StoreId},
    order::{Adjustment, DeliveryLocation, LineBreakdown, Order, OrderChannel, OrderLine, OrderStatus, PaymentMethod},
    table::TableLabel,
    text::Phone,
    time::Timestamp,
};
use sqlx::{Row as _, types::Json};
use uuid::Uuid;

use super::{super::SqlTx, Keyset, Placeholders, bind_sort_value, keyset, rows::Row};
use crate::{OrderFilter, OrderRepo, OrderStep, Page, PaymentRecord, StoreError, StoreResult};

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAdjustment {
    source: String,
    amount: i64,
}

fn line(row: &Row) -> StoreResult<OrderLine> {
    let Json(adjustments): Json<Vec<StoredAdjustment>> = row.try_get("adjustments")?;
    Ok(OrderLine {
        line_no: row.try_get("line_no")?,
        sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
        sku_name: row.try_get("sku_name")?,
        breakdown: LineBreakdown {
            unit_price: Money::from_fen(row.try_get("unit_price")?),
            quantity: row.try_get("quantity")?,
            sold_by_weight: row.try_get("sold_by_weight")?,
            base_amount: Money::from_fen(row.try_get("base_amount")?),
            adjustments: adjustments
                .into_iter()
                .map(|a| Adjustment { source: a.source, amount: Money::from_fen(a.amount) })
                .collect(),
            amount: Money::from_fen(row.try_get("amount")?),
        },
        refunded_quantity: row.try_get("refunded_quantity")?,
        refunded_amount: Money::from_fen(row.try_get("refunded_amount")?),
    })
}

/// The delivery point columns: all four set, or none.
fn delivery_location(row: &Row) -> StoreResult<Option<DeliveryLocation>> {
    let lat: Option<f64> = row.try_get("delivery_lat")?;
    let lng: Option<f64> = row.try_get("delivery_lng")?;
    let datum: Option<String> = row.try_get("delivery_datum")?;
    let distance: Option<i64> = row.try_get("delivery_distance_m")?;
    match (lat, lng, datum, distance) {
        (None, None, None, None) => Ok(None),
        (Some(lat), Some(lng), Some(datum), Some(distance)) => Ok(Some(DeliveryLocation {
            point: Coordinates::new(lat, lng).map_err(|e| corrupt("delivery_lat", e))?,
            sent_in: Datum::parse(&datum).map_err(|e| corrupt("delivery_datum", e))?,
            distance_m: u32::try_from(distance).map_err(|e| corrupt("delivery_distance_m", e))?,
        })),
        _ => Err(corrupt("delivery_lat", "a delivery point with some of its columns missing")),
    }
}

fn order(row: &Row, lines: Vec<OrderLine>) -> StoreResult<Order> {
    let channel: String = row.try_get("channel")?;
    let status: String = row.try_get("status")?;
    let phone: Option<String> = row.try_get("customer_phone")?;
    let created_by: Option<Uuid> = row.try_get("created_by")?;
    let customer: Option<Uuid> = row.try_get("customer_id")?;
    let table: Option<String> = row.try_get("table_label")?;
    Ok(Order {
        id: OrderId::from_uuid(row.try_get("id")?),
        store_id: StoreId::from_uuid(row.try_get("store_id")?),
        channel: OrderChannel::parse(&channel).map_err(|e| corrupt("channel", e))?,
        status: OrderStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        pickup_code: row.try_get("pickup_code")?,
        customer_phone: phone.map(|p| Phone::parse(&p).map_err(|e| corrupt("customer_phone", e))).transpose()?,
        customer_id: customer.map(CustomerId::from_uuid),
        delivery_address: row.try_get("delivery_address")?,
        delivery_location: delivery_location(row)?,
        note: row.try_get("note")?,
        table: table.as_deref().map(TableLabel::stored),
        lines,
        subtotal: Money::from_fen(row.try_get("subtotal")?),
        discount: Money::from_fen(row.try_get("discount")?),
        delivery_fee: Money::from_fen(row.try_get("delivery_fee")?),
        total: Money::from_fen(row.try_get("total")?),
        paid: Money::from_fen(row.try_get("paid")?),
        refunded: Money::from_fen(row.try_get("refunded")?),
        hold_expires_at: row.try_get("hold_expires_at")?,
        promised_at: row.try_get("promised_at")?,
        fulfilled_at: row.try_get("fulfilled_at")?,
        created_by: created_by.map(StaffId::from_uuid),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn adjustments(line: &OrderLine) -> Json<Vec<StoredAdjustment>> {
    Json(
        line.breakdown
            .adjustments
            .iter()
            .map(|a| StoredAdjustment { source: a.source.clone(), amount: a.amount.fen() })
            .collect(),
    )
}

impl SqlTx {
    /// Order rows read back with their lines: one read of the lines per 500 orders, not one per
    /// order.
    async fn orders_with_lines(&mut self, found: &[Row]) -> StoreResult<Vec<Order>> {
        let ids = found.iter().map(|row| row.try_get::<Uuid, _>("id")).collect::<Result<Vec<_>, _>>()?;
        let mut lines: HashMap<Uuid, Vec<OrderLine>> = HashMap::with_capacity(ids.len());
        let sql = "SELECT * FROM order_lines WHERE order_id IN ({keys}) ORDER BY order_id, line_no";
        for row in self.rows_in(sql, &ids).await? {
            lines.entry(row.try_get("order_id")?).or_default().push(line(&row)?);
        }
        found.iter().zip(&ids).map(|(row, id)| order(row, lines.remove(id).unwrap_or_default())).collect()
    }

    async fn lines_of(&mut self, id: OrderId) -> StoreResult<Vec<OrderLine>> {
        let found = sqlx::query("SELECT * FROM order_lines WHERE order_id = $1 ORDER BY line_no")
            .bind(id.as_uuid())
            .fetch_all(&mut *self.tx)
            .await?;
        found.iter().map(line).collect()
    }

    /// Writes an order's lines: new ones inserted, those it already has (an open bill priced
    /// again with items added) replaced, all but what was refunded of them.
    async fn put_lines(&mut self, o: &Order) -> StoreResult<()> {
        for l in &o.lines {
            let b = &l.breakdown;
            sqlx::query(
                "INSERT INTO order_lines (order_id, line_no, sku_id, sku_name, quantity, unit_price, sold_by_weight, \
                 base_amount, adjustments, amount, refunded_quantity, refunded_amount) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (order_id, line_no) DO UPDATE SET sku_id = excluded.sku_id, \
                 sku_name = excluded.sku_name, quantity = excluded.quantity, unit_price = excluded.unit_price, \
                 sold_by_weight = excluded.sold_by_weight, base_amount = excluded.base_amount, \
                 adjustments = excluded.adjustments, amount = excluded.amount",
            )
            .bind(o.id.as_uuid())
            .bind(l.line_no)
            .bind(l.sku_id.as_uuid())
            .bind(&l.sku_name)
            .bind(b.quantity)
            .bind(b.unit_price.fen())
            .bind(b.sold_by_weight)
            .bind(b.base_amount.fen())
            .bind(adjustments(l))
            .bind(b.amount.fen())
            .bind(l.refunded_quantity)
            .bind(l.refunded_amount.fen())
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl OrderRepo for SqlTx {
    async fn insert_order(&mut self, o: &Order) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO orders (id, store_id, channel, status, pickup_code, customer_phone, delivery_address, note, \
             subtotal, discount, total, paid, refunded, hold_expires_at, promised_at, fulfilled_at, created_by, \
             created_at, updated_at, customer_id, delivery_fee, table_label, delivery_lat, delivery_lng, \
             delivery_datum, delivery_distance_m) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
             $22, $23, $24, $25, $26)",
        )
        .bind(o.id.as_uuid())
        .bind(o.store_id.as_uuid())
        .bind(o.channel.as_str())
        .bind(o.status.as_str())
        .bind(&o.pickup_code)
        .bind(o.customer_phone.as_ref().map(|p| p.as_str().to_owned()))
        .bind(&o.delivery_address)
        .bind(&o.note)
        .bind(o.subtotal.fen())
        .bind(o.discount.fen())
        .bind(o.total.fen())
        .bind(o.paid.fen())
        .bind(o.refunded.fen())
        .bind(o.hold_expires_at)
        .bind(o.promised_at)
        .bind(o.fulfilled_at)
        .bind(o.created_by.map(|s| s.as_uuid()))
        .bind(o.created_at)
        .bind(o.updated_at)
        .bind(o.customer_id.map(|c| c.as_uuid()))
        .bind(o.delivery_fee.fen())
        .bind(o.table.as_ref().map(TableLabel::as_str))
        .bind(o.delivery_location.map(|l| l.point.lat()))
        .bind(o.delivery_location.map(|l| l.point.lng()))
        .bind(o.delivery_location.map(|l| l.sent_in.as_str()))
        .bind(o.delivery_location.map(|l| i64::from(l.distance_m)))
        .execute(&mut *self.tx)
        .await?;
        self.put_lines(o).await?;
        Ok(())
    }

    async fn get_order(&mut self, id: OrderId) -> StoreResult<Option<Order>> {
        let row =
            sqlx::query("SELECT * FROM orders WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        let Some(row) = row else { return Ok(None) };
        let lines = self.lines_of(id).await?;
        order(&row, lines).map(Some)
    }

    async fn update_order(&mut self, o: &Order, expected: OrderStatus, last_updated: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE orders SET status = $3, paid = $4, refunded = $5, hold_expires_at = $6, fulfilled_at = $7, \
             updated_at = $8 WHERE id = $1 AND status = $2 AND updated_at = $9",
        )
        .bind(o.id.as_uuid())
        .bind(expected.as_str())
        .bind(o.status.as_str())
        .bind(o.paid.fen())
        .bind(o.refunded.fen())
        .bind(o.hold_expires_at)
        .bind(o.fulfilled_at)
        .bind(o.updated_at)
        .bind(last_updated)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for l in &o.lines {
            sqlx::query(
                "UPDATE order_lines SET refunded_quantity = $3, refunded_amount = $4 WHERE order_id = $1 AND line_no = $2",
            )
            .bind(o.id.as_uuid())
            .bind(l.line_no)
            .bind(l.refunded_quantity)
            .bind(l.refunded_amount.fen())
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(true)
    }

    async fn reprice_order(&mut self, o: &Order, expected: OrderStatus, last_updated: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE orders SET subtotal = $3, discount = $4, delivery_fee = $5, total = $6, updated_at = $7 \
             WHERE id = $1 AND status = $2 AND updated_at = $8",
        )
        .bind(o.id.as_uuid())
        .bind(expected.as_str())
        .bind(o.subtotal.fen())
        .bind(o.discount.fen())
        .bind(o.delivery_fee.fen())
        .bind(o.total.fen())
        .bind(o.updated_at)
        .bind(last_updated)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.put_lines(o).await?;
        Ok(true)
    }

    async fn list_orders(&mut self, filter: &OrderFilter, page: Page) -> StoreResult<Vec<Order>> {
        let Keyset { condition, order } = keyset(&filter.sort, "id", "$5", "$11");
        let sql = format!(
            "SELECT * FROM orders WHERE ($1 IS NULL OR store_id = $1) \
             AND ($2 IS NULL OR store_id IN (SELECT id FROM stores WHERE region_id = $2)) \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR channel = $4) \
             AND {condition} AND ($7 IS NULL OR created_at >= $7) \
             AND ($8 IS NULL OR created_at < $8) AND ($9 IS NULL OR customer_id = $9) \
             AND ($10 IS NULL OR table_label = $10) \
             ORDER BY {order} LIMIT $6"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.place.store_id.map(|s| s.as_uuid()))
            .bind(filter.place.region_id.map(|r| r.as_uuid()))
            .bind(filter.status.as_deref())
            .bind(filter.channel.as_deref())
            .bind(page.after)
            .bind(page.sql_limit())
            .bind(filter.created_from)
            .bind(filter.created_before)
            .bind(filter.customer_id.map(|c| c.as_uuid()))
            .bind(filter.table.as_deref());
        let found = bind_sort_value(query, &filter.sort).fetch_all(&mut *self.tx).await?;
        self.orders_with_lines(&found).await
    }

    async fn open_table_bills(&mut self, store_id: StoreId, table: Option<&str>) -> StoreResult<Vec<Order>> {
        // The predicate is the unique index's own, so both backends read the bills from it.
        let found = sqlx::query(
            "SELECT * FROM orders WHERE store_id = $1 AND channel = 'table_eat_first' AND status = 'created' \
             AND ($2 IS NULL OR table_label = $2) ORDER BY table_label IS NULL, table_label, id",
        )
        .bind(store_id.as_uuid())
        .bind(table)
        .fetch_all(&mut *self.tx)
        .await?;
        self.orders_with_lines(&found).await
    }

    async fn store_orders_since(
        &mut self,
        store_id: StoreId,
        channels: &[OrderChannel],
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Order>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = Placeholders::new();
        let (store, from, listed) = (params.one(), params.one(), params.list(channels.len()));
        let sql = format!(
            "SELECT * FROM orders WHERE store_id = {store} AND created_at >= {from} AND channel IN ({listed}) \
             ORDER BY created_at DESC, id DESC LIMIT {}",
            params.one()
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id.as_uuid()).bind(since);
        for channel in channels {
            query = query.bind(channel.as_str());
        }
        let found = query.bind(i64::from(limit)).fetch_all(&mut *self.tx).await?;
        self.orders_with_lines(&found).await
    }

    async fn customer_orders(&mut self, customer_id: CustomerId, page: Page) -> StoreResult<Vec<Order>> {
        let found = sqlx::query(
            "SELECT * FROM orders WHERE customer_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(customer_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        self.orders_with_lines(&found).await
    }

    async fn expired_holds(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<OrderId>> {
        let found = sqlx::query(
            "SELECT id FROM orders WHERE status = 'created' AND hold_expires_at IS NOT NULL AND hold_expires_at <= $1 \
             ORDER BY hold_expires_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(|row| Ok(OrderId::from_uuid(row.try_get("id")?))).collect()
    }

    async fn append_order_step(&mut self, step: &OrderStep) -> StoreResult<()> {
        self.append_step(step).await
    }

    async fn order_steps(&mut self, id: OrderId) -> StoreResult<Vec<OrderStep>> {
        self.steps(id).await
    }

    async fn insert_payment(&mut self, p: &PaymentRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO payments (id, order_id, kind, method, amount, reference, at, tendered) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(p.id.as_uuid())
        .bind(p.order_id.as_uuid())
        .bind(&p.kind)
        .bind(p.method.as_str())
        .bind(p.amount.fen())
        .bind(&p.reference)
        .bind(p.at)
        .bind(p.tendered.map(Money::fen))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn order_payments(&mut self, id: OrderId) -> StoreResult<Vec<PaymentRecord>> {
        let found = sqlx::query("SELECT * FROM payments WHERE order_id = $1 ORDER BY id")
            .bind(id.as_uuid())
            .fetch_all(&mut *self.tx)
            .await?;
        found
            .iter()
            .map(|row| {
                let method: String = row.try_get("method")?;
                Ok(PaymentRecord {
                    id: PaymentId::from_uuid(row.try_get("id")?),
                    order_id: OrderId::from_uuid(row.try_get("order_id")?),
                    kind: row.try_get("kind")?,
                    method: PaymentMethod::parse(&method).map_err(|e| corrupt("method", e))?,
                    amount: Money::from_fen(row.try_get("amount")?),
                    reference: row.try_get("reference")?,
                    tendered: row.try_get::<Option<i64>, _>("tendered")?.map(Money::from_fen),
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }
}

super::sort_columns!(crate::OrderSort { Total => ("total", false) });
