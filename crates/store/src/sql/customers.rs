//! Customers, their identifiers and merges.

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    customer::{Birthday, Customer, Identity},
    ids::{CustomerId, OrderId, StaffId, StoreId, TierId},
    loyalty::Tier,
    time::Timestamp,
};
use sqlx::{AssertSqlSafe, Row as _};
use uuid::Uuid;

use super::{
    super::{
        Db, SqlTx,
        scan::{ScanRow, scan_rows},
    },
    Keyset, Param, bind_sort_value, keyset,
    rows::Row,
};
use crate::{
    AudienceCursor, AudienceRow, CustomerFilter, CustomerMerge, CustomerRepo, CustomerSearch, MergeUndone, OrderPoints,
    Page, PaidMembership, PointsEntry, StoreError, StoreResult,
};

fn customer(row: &Row) -> StoreResult<Customer> {
    let home: Option<Uuid> = row.try_get("home_store_id")?;
    let guide: Option<Uuid> = row.try_get("guide_id")?;
    let merged: Option<Uuid> = row.try_get("merged_into")?;
    let tier: Option<Uuid> = row.try_get("tier_id")?;
    Ok(Customer {
        id: CustomerId::from_uuid(row.try_get("id")?),
        ordinal: row.try_get("ordinal")?,
        display_name: row.try_get("display_name")?,
        home_store_id: home.map(StoreId::from_uuid),
        guide_id: guide.map(StaffId::from_uuid),
        tier_id: tier.map(TierId::from_uuid),
        merged_into: merged.map(CustomerId::from_uuid),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait]
impl CustomerRepo for SqlTx {
    async fn next_customer_ordinal(&mut self) -> StoreResult<i64> {
        let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'customer_ordinal' RETURNING value")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get("value")?)
    }

    async fn insert_customer(&mut self, c: &Customer) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customers (id, ordinal, display_name, home_store_id, guide_id, merged_into, created_at, \
             updated_at, tier_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.id.as_uuid())
        .bind(c.ordinal)
        .bind(&c.display_name)
        .bind(c.home_store_id.map(|s| s.as_uuid()))
        .bind(c.guide_id.map(|s| s.as_uuid()))
        .bind(c.merged_into.map(|s| s.as_uuid()))
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(c.tier_id.map(|t| t.as_uuid()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_customer(&mut self, c: &Customer) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE customers SET display_name = $2, home_store_id = $3, guide_id = $4, merged_into = $5, \
             updated_at = $6, tier_id = $7 WHERE id = $1",
        )
        .bind(c.id.as_uuid())
        .bind(&c.display_name)
        .bind(c.home_store_id.map(|s| s.as_uuid()))
        .bind(c.guide_id.map(|s| s.as_uuid()))
        .bind(c.merged_into.map(|s| s.as_uuid()))
        .bind(c.updated_at)
        .bind(c.tier_id.map(|t| t.as_uuid()))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_customer(&mut self, id: CustomerId) -> StoreResult<Option<Customer>> {
        let row = sqlx::query("SELECT * FROM customers WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(customer).transpose()
    }

    async fn list_customers(&mut self, filter: &CustomerFilter, page: Page) -> StoreResult<Vec<Customer>> {
        let Keyset { condition, order } = keyset(&filter.sort, "id", "$4", "$6");
        let sql = format!(
            "SELECT * FROM customers WHERE merged_into IS NULL \
             AND ($1 IS NULL OR home_store_id = $1) \
             AND ($2 IS NULL OR home_store_id IN (SELECT id FROM stores WHERE region_id = $2)) \
             AND ($3 IS NULL OR guide_id = $3) AND {condition} ORDER BY {order} LIMIT $5"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.place.store_id.map(|s| s.as_uuid()))
            .bind(filter.place.region_id.map(|r| r.as_uuid()))
            .bind(filter.guide_id.map(|g| g.as_uuid()))
            .bind(page.after)
            .bind(page.sql_limit());
        let found = bind_sort_value(query, &filter.sort).fetch_all(&mut *self.tx).await?;
        found.iter().map(customer).collect()
    }

    async fn customer_by_identity(&mut self, identity: &Identity) -> StoreResult<Option<CustomerId>> {
        let row = sqlx::query("SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2")
            .bind(identity.kind().as_str())
            .bind(identity.value())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| Ok(CustomerId::from_uuid(r.try_get("customer_id")?))).transpose()
    }

    async fn add_identity(&mut self, customer_id: CustomerId, identity: &Identity, at: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO customer_identities (kind, value, customer_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(identity.kind().as_str())
            .bind(identity.value())
            .bind(customer_id.as_uuid())
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn identities_of(&mut self, customer_id: CustomerId) -> StoreResult<Vec<Identity>> {
        let rows =
            sqlx::query("SELECT kind, value FROM customer_identities WHERE customer_id = $1 ORDER BY kind, value")
                .bind(customer_id.as_uuid())
                .fetch_all(&mut *self.tx)
                .await?;
        rows.iter()
            .map(|row| {
                let (kind, value): (String, String) = (row.try_get("kind")?, row.try_get("value")?);
                Identity::parse(&kind, &value).map_err(|e| StoreError::Corrupt(format!("identity: {e}")))
            })
            .collect()
    }

    async fn move_identities(&mut self, from: CustomerId, to: CustomerId, merge_id: Uuid) -> StoreResult<i64> {
        sqlx::query(
            "INSERT INTO customer_merge_moves (merge_id, kind, row_key) \
             SELECT $2, 'identity', kind || ':' || value FROM customer_identities WHERE customer_id = $1",
        )
        .bind(from.as_uuid())
        .bind(merge_id)
        .execute(&mut *self.tx)
        .await?;
        let done = sqlx::query("UPDATE customer_identities SET customer_id = $2 WHERE customer_id = $1")
            .bind(from.as_uuid())
            .bind(to.as_uuid())
            .execute(&mut *self.tx)
            .await?;
        Ok(i64::try_from(done.rows_affected()).unwrap_or(i64::MAX))
    }

    async fn insert_customer_merge(&mut self, m: &CustomerMerge) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customer_merges (id, survivor_id, absorbed_id, identities, reason, actor_id, at, filled) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(m.id)
        .bind(m.survivor_id.as_uuid())
        .bind(m.absorbed_id.as_uuid())
        .bind(m.identities)
        .bind(&m.reason)
        .bind(m.actor_id.map(|a| a.as_uuid()))
        .bind(m.at)
        .bind(m.filled.join(","))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn merge_in_force(&mut self, absorbed: CustomerId) -> StoreResult<Option<CustomerMerge>> {
        let row = sqlx::query("SELECT * FROM customer_merges WHERE absorbed_id = $1 AND undone_at IS NULL")
            .bind(absorbed.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(customer_merge).transpose()
    }

    async fn mark_merge_undone(
        &mut self,
        id: Uuid,
        at: Timestamp,
        actor: Option<StaffId>,
        reason: Option<&str>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE customer_merges SET undone_at = $2, undone_by = $3, undo_reason = $4 \
             WHERE id = $1 AND undone_at IS NULL",
        )
        .bind(id)
        .bind(at)
        .bind(actor.map(|a| a.as_uuid()))
        .bind(reason)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn reassign_guide(&mut self, from: StaffId, to: StaffId, at: Timestamp) -> StoreResult<i64> {
        let done = sqlx::query("UPDATE customers SET guide_id = $2, updated_at = $3 WHERE guide_id = $1")
            .bind(from.as_uuid())
            .bind(to.as_uuid())
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(i64::try_from(done.rows_affected()).unwrap_or(i64::MAX))
    }

    async fn move_customer_history(
        &mut self,
        from: CustomerId,
        to: CustomerId,
        at: Timestamp,
        merge_id: Uuid,
    ) -> StoreResult<()> {
        // First the record of what moves, so the merge can be undone row by row.
        for (kind, table) in [
            ("order", "orders"),
            ("points", "points_ledger"),
            ("coupon", "coupons"),
            ("paid_membership", "paid_memberships"),
            ("stored_value", "stored_value_ledger"),
            ("event", "customer_events"),
        ] {
            let sql = format!(
                "INSERT INTO customer_merge_moves (merge_id, kind, row_id) SELECT $2, '{kind}', id FROM {table} \
                 WHERE customer_id = $1"
            );
            sqlx::query(AssertSqlSafe(sql)).bind(from.as_uuid()).bind(merge_id).execute(&mut *self.tx).await?;
        }
        for sql in [
            "INSERT INTO customer_merge_moves (merge_id, kind, row_key) SELECT $2, 'anonymous_id', anonymous_id \
             FROM anonymous_ids WHERE customer_id = $1",
            "INSERT INTO customer_merge_moves (merge_id, kind, row_id, amount) SELECT $2, 'holding', template_id, \
             issued FROM coupon_holdings WHERE customer_id = $1",
            "INSERT INTO customer_merge_moves (merge_id, kind, row_id, day, amount) \
             SELECT $2, 'rule_count', tag_id, day, count FROM tag_rule_counts WHERE customer_id = $1",
        ] {
            sqlx::query(sql).bind(from.as_uuid()).bind(merge_id).execute(&mut *self.tx).await?;
        }
        // amount 1: the survivor had none and takes this one over.
        for sql in [
            "INSERT INTO customer_merge_moves (merge_id, kind, row_id, row_key, at, amount) \
             SELECT $3, 'tag', t.tag_id, t.source, t.at, CASE WHEN EXISTS (SELECT 1 FROM customer_tags s \
             WHERE s.customer_id = $2 AND s.tag_id = t.tag_id) THEN 0 ELSE 1 END \
             FROM customer_tags t WHERE t.customer_id = $1",
            "INSERT INTO customer_merge_moves (merge_id, kind, row_key, amount) \
             SELECT $3, 'birthday', CAST(month AS TEXT) || '-' || CAST(day AS TEXT) || '-' || \
             COALESCE(CAST(year AS TEXT), ''), CASE WHEN EXISTS (SELECT 1 FROM customer_birthdays s \
             WHERE s.customer_id = $2) THEN 0 ELSE 1 END FROM customer_birthdays WHERE customer_id = $1",
        ] {
            sqlx::query(sql).bind(from.as_uuid()).bind(to.as_uuid()).bind(merge_id).execute(&mut *self.tx).await?;
        }
        self.move_guide_tasks(from, to, merge_id).await?;
        for sql in [
            "UPDATE orders SET customer_id = $2 WHERE customer_id = $1",
            "UPDATE points_ledger SET customer_id = $2 WHERE customer_id = $1",
            "UPDATE coupons SET customer_id = $2 WHERE customer_id = $1",
            "UPDATE paid_memberships SET customer_id = $2 WHERE customer_id = $1",
            // What each template issued to either counts against the survivor's limit.
            "INSERT INTO coupon_holdings (template_id, customer_id, issued) \
             SELECT template_id, $2, issued FROM coupon_holdings WHERE customer_id = $1 \
             ON CONFLICT (template_id, customer_id) DO UPDATE SET issued = coupon_holdings.issued + excluded.issued",
            "DELETE FROM coupon_holdings WHERE customer_id = $1",
            "UPDATE stored_value_ledger SET customer_id = $2 WHERE customer_id = $1",
            "UPDATE customer_events SET customer_id = $2 WHERE customer_id = $1",
            "UPDATE anonymous_ids SET customer_id = $2 WHERE customer_id = $1",
            // The survivor carries every tag either profile carried.
            "INSERT INTO customer_tags (customer_id, tag_id, source, at) \
             SELECT $2, tag_id, source, at FROM customer_tags WHERE customer_id = $1 \
             ON CONFLICT (customer_id, tag_id) DO NOTHING",
            "DELETE FROM customer_tags WHERE customer_id = $1",
            "INSERT INTO tag_rule_counts (tag_id, customer_id, day, count) \
             SELECT tag_id, $2, day, count FROM tag_rule_counts WHERE customer_id = $1 \
             ON CONFLICT (tag_id, customer_id, day) DO UPDATE SET count = tag_rule_counts.count + excluded.count",
            "DELETE FROM tag_rule_counts WHERE customer_id = $1",
            // The survivor keeps their own birthday, or takes the absorbed profile's.
            "INSERT INTO customer_birthdays (customer_id, month, day, year) \
             SELECT $2, month, day, year FROM customer_birthdays WHERE customer_id = $1 \
             ON CONFLICT (customer_id) DO NOTHING",
            "DELETE FROM customer_birthdays WHERE customer_id = $1",
        ] {
            sqlx::query(sql).bind(from.as_uuid()).bind(to.as_uuid()).execute(&mut *self.tx).await?;
        }
        for sql in [
            "DELETE FROM stored_value_accounts WHERE customer_id = $1",
            "DELETE FROM customer_points WHERE customer_id = $1",
        ] {
            sqlx::query(sql).bind(from.as_uuid()).execute(&mut *self.tx).await?;
        }
        self.rebalance(to, at).await
    }

    async fn undo_customer_history(&mut self, merge: &CustomerMerge, at: Timestamp) -> StoreResult<MergeUndone> {
        let (from, to, m) = (merge.absorbed_id.as_uuid(), merge.survivor_id.as_uuid(), merge.id);
        // Rows that moved as they were go back; what the survivor gained since stays.
        for (kind, table) in [
            ("order", "orders"),
            ("points", "points_ledger"),
            ("coupon", "coupons"),
            ("paid_membership", "paid_memberships"),
            ("stored_value", "stored_value_ledger"),
            ("event", "customer_events"),
        ] {
            let sql = format!(
                "UPDATE {table} SET customer_id = $1 WHERE customer_id = $2 AND id IN \
                 (SELECT row_id FROM customer_merge_moves WHERE merge_id = $3 AND kind = '{kind}')"
            );
            sqlx::query(AssertSqlSafe(sql)).bind(from).bind(to).bind(m).execute(&mut *self.tx).await?;
        }
        for sql in [
            "UPDATE customer_identities SET customer_id = $1 WHERE customer_id = $2 AND kind || ':' || value IN \
             (SELECT row_key FROM customer_merge_moves WHERE merge_id = $3 AND kind = 'identity')",
            "UPDATE anonymous_ids SET customer_id = $1 WHERE customer_id = $2 AND anonymous_id IN \
             (SELECT row_key FROM customer_merge_moves WHERE merge_id = $3 AND kind = 'anonymous_id')",
            "UPDATE guide_tasks SET customer_id = $1 WHERE customer_id = $2 AND id IN \
             (SELECT row_id FROM customer_merge_moves WHERE merge_id = $3 AND kind = 'guide_task' AND amount = 1)",
        ] {
            sqlx::query(sql).bind(from).bind(to).bind(m).execute(&mut *self.tx).await?;
        }
        let moves = sqlx::query(
            "SELECT kind, row_id, row_key, amount, day, at, detail FROM customer_merge_moves \
             WHERE merge_id = $1 AND kind IN ('holding', 'tag', 'rule_count', 'guide_task', 'birthday')",
        )
        .bind(m)
        .fetch_all(&mut *self.tx)
        .await?;
        for row in &moves {
            let kind: String = row.try_get("kind")?;
            let row_id: Option<Uuid> = row.try_get("row_id")?;
            let row_key: Option<String> = row.try_get("row_key")?;
            let amount: i64 = row.try_get::<Option<i64>, _>("amount")?.unwrap_or(0);
            match kind.as_str() {
                "holding" => {
                    let counter = ("coupon_holdings", "template_id", "issued");
                    self.undo_counter(counter, row_id, None, amount, merge).await?
                }
                "rule_count" => {
                    let day: Option<i64> = row.try_get("day")?;
                    let counter = ("tag_rule_counts", "tag_id", "count");
                    self.undo_counter(counter, row_id, Some(day.unwrap_or_default()), amount, merge).await?
                }
                "tag" => {
                    let tag_at: Option<Timestamp> = row.try_get("at")?;
                    if amount == 1 {
                        sqlx::query(
                            "DELETE FROM customer_tags WHERE customer_id = $1 AND tag_id = $2 AND source = $3 AND at = $4",
                        )
                        .bind(to)
                        .bind(row_id)
                        .bind(&row_key)
                        .bind(tag_at)
                        .execute(&mut *self.tx)
                        .await?;
                    }
                    sqlx::query(
                        "INSERT INTO customer_tags (customer_id, tag_id, source, at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (customer_id, tag_id) DO NOTHING",
                    )
                    .bind(from)
                    .bind(row_id)
                    .bind(&row_key)
                    .bind(tag_at)
                    .execute(&mut *self.tx)
                    .await?;
                }
                "guide_task" if amount == 0 => {
                    let detail: Option<String> = row.try_get("detail")?;
                    let task: DroppedTask = serde_json::from_str(detail.as_deref().unwrap_or_default())
                        .map_err(|e| StoreError::Corrupt(format!("merge move of a guide task: {e}")))?;
                    sqlx::query(
                        "INSERT INTO guide_tasks (id, guide_id, customer_id, audience_id, title, status, note, \
                         created_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(row_id)
                    .bind(task.guide_id)
                    .bind(from)
                    .bind(task.audience_id)
                    .bind(&task.title)
                    .bind(&task.status)
                    .bind(&task.note)
                    .bind(task.created_at)
                    .bind(task.done_at)
                    .execute(&mut *self.tx)
                    .await?;
                }
                "birthday" => {
                    let key = row_key.unwrap_or_default();
                    let mut parts = key.split('-');
                    let mut next = || parts.next().and_then(|p| p.parse::<i64>().ok());
                    let (month, day, year) = (next(), next(), next());
                    if amount == 1 {
                        sqlx::query(
                            "DELETE FROM customer_birthdays WHERE customer_id = $1 AND month = $2 AND day = $3 \
                             AND year IS NOT DISTINCT FROM $4",
                        )
                        .bind(to)
                        .bind(month)
                        .bind(day)
                        .bind(year)
                        .execute(&mut *self.tx)
                        .await?;
                    }
                    sqlx::query(
                        "INSERT INTO customer_birthdays (customer_id, month, day, year) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (customer_id) DO NOTHING",
                    )
                    .bind(from)
                    .bind(month)
                    .bind(day)
                    .bind(year)
                    .execute(&mut *self.tx)
                    .await?;
                }
                _ => {}
            }
        }
        let sums = sqlx::query(
            "SELECT CAST((SELECT COALESCE(SUM(points), 0) FROM points_ledger WHERE customer_id = $1) AS BIGINT) AS p, \
             CAST((SELECT COALESCE(SUM(amount), 0) FROM stored_value_ledger WHERE customer_id = $1) AS BIGINT) AS v",
        )
        .bind(to)
        .fetch_one(&mut *self.tx)
        .await?;
        let undone = MergeUndone { survivor_points: sums.try_get("p")?, survivor_stored_value: sums.try_get("v")? };
        if undone.survivor_points < 0 || undone.survivor_stored_value < 0 {
            // The caller refuses the undo and rolls all of this back.
            return Ok(undone);
        }
        self.rebalance(merge.absorbed_id, at).await?;
        self.rebalance(merge.survivor_id, at).await?;
        Ok(undone)
    }

    async fn apply_points(&mut self, e: &PointsEntry) -> StoreResult<Option<i64>> {
        sqlx::query(
            "INSERT INTO customer_points (customer_id, balance, updated_at) VALUES ($1, 0, $2) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(e.customer_id.as_uuid())
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        let balance = sqlx::query(
            "UPDATE customer_points SET balance = balance + $2, updated_at = $3 \
             WHERE customer_id = $1 AND balance + $2 >= 0 RETURNING balance",
        )
        .bind(e.customer_id.as_uuid())
        .bind(e.points)
        .bind(e.at)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(balance) = balance else { return Ok(None) };
        sqlx::query(
            "INSERT INTO points_ledger (id, customer_id, kind, points, order_id, reason, expires_at, idem_key, \
             actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id)
        .bind(e.customer_id.as_uuid())
        .bind(&e.kind)
        .bind(e.points)
        .bind(e.order_id.map(|o| o.as_uuid()))
        .bind(&e.reason)
        .bind(e.expires_at)
        .bind(&e.idempotency_key)
        .bind(e.actor_id.map(|a| a.as_uuid()))
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(Some(balance.try_get("balance")?))
    }

    async fn points_entry_by_key(&mut self, key: &str) -> StoreResult<Option<PointsEntry>> {
        let row = sqlx::query("SELECT * FROM points_ledger WHERE idem_key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(points_entry).transpose()
    }

    async fn points_balance(&mut self, customer_id: CustomerId) -> StoreResult<i64> {
        let row = sqlx::query("SELECT balance FROM customer_points WHERE customer_id = $1")
            .bind(customer_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| r.try_get("balance")).transpose()?.unwrap_or(0))
    }

    async fn list_points(&mut self, customer_id: CustomerId, page: Page) -> StoreResult<Vec<PointsEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM points_ledger WHERE customer_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(customer_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(points_entry).collect()
    }

    async fn order_points(&mut self, order_id: OrderId) -> StoreResult<OrderPoints> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'earn' THEN points ELSE 0 END), 0) AS BIGINT) AS earned, \
             CAST(COALESCE(SUM(CASE WHEN kind = 'take_back' THEN -points ELSE 0 END), 0) AS BIGINT) AS taken, \
             CAST(COALESCE(SUM(CASE WHEN kind = 'redeem' THEN -points ELSE 0 END), 0) AS BIGINT) AS redeemed, \
             CAST(COALESCE(SUM(CASE WHEN kind = 'restore' THEN points ELSE 0 END), 0) AS BIGINT) AS restored \
             FROM points_ledger WHERE order_id = $1",
        )
        .bind(order_id.as_uuid())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(OrderPoints {
            earned: row.try_get("earned")?,
            taken_back: row.try_get("taken")?,
            redeemed: row.try_get("redeemed")?,
            restored: row.try_get("restored")?,
        })
    }

    async fn points_expiry_sums(&mut self, customer_id: CustomerId, now: Timestamp) -> StoreResult<(i64, i64)> {
        let row = sqlx::query(
            // Points given back after an order was undone are the same points as were spent on
            // it: a restore cancels that much of the debits.
            "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'earn' AND expires_at <= $2 THEN points ELSE 0 END), 0) AS BIGINT) \
             AS expired, CAST(COALESCE(SUM(CASE WHEN points < 0 THEN -points WHEN kind = 'restore' THEN -points \
             ELSE 0 END), 0) AS BIGINT) AS debits FROM points_ledger WHERE customer_id = $1",
        )
        .bind(customer_id.as_uuid())
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((row.try_get("expired")?, row.try_get("debits")?))
    }

    async fn customers_with_expiring_points(
        &mut self,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<CustomerId>> {
        let rows = sqlx::query(
            "SELECT DISTINCT customer_id FROM points_ledger \
             WHERE expires_at IS NOT NULL AND expires_at > $1 AND expires_at <= $2",
        )
        .bind(since)
        .bind(now)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|r| Ok(CustomerId::from_uuid(r.try_get("customer_id")?))).collect()
    }

    async fn reconcile_points(&mut self) -> StoreResult<Vec<(CustomerId, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT p.customer_id, p.balance, CAST(COALESCE(l.total, 0) AS BIGINT) AS total FROM customer_points p \
             LEFT JOIN (SELECT customer_id, SUM(points) AS total FROM points_ledger GROUP BY customer_id) l \
             ON l.customer_id = p.customer_id WHERE p.balance <> COALESCE(l.total, 0) ORDER BY p.customer_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| Ok((CustomerId::from_uuid(r.try_get("customer_id")?), r.try_get("balance")?, r.try_get("total")?)))
            .collect()
    }

    async fn insert_tier(&mut self, t: &Tier) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO member_tiers (id, code, name, spend_threshold, points_multiplier_bp, free_delivery, \
             created_at, updated_at, paid_price, paid_days, birthday_points) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(t.id.as_uuid())
        .bind(&t.code)
        .bind(&t.name)
        .bind(t.spend_threshold.fen())
        .bind(i64::from(t.points_multiplier_bp))
        .bind(t.free_delivery)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.paid.map(|p| p.price.fen()))
        .bind(t.paid.map(|p| p.days))
        .bind(t.birthday_points)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_membership(&mut self, m: &PaidMembership) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO paid_memberships (id, customer_id, tier_id, starts_at, ends_at, amount, method, reference, \
             idem_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(m.id)
        .bind(m.customer_id.as_uuid())
        .bind(m.tier_id.as_uuid())
        .bind(m.starts_at)
        .bind(m.ends_at)
        .bind(m.amount.fen())
        .bind(m.method.as_str())
        .bind(&m.reference)
        .bind(&m.idempotency_key)
        .bind(m.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn active_membership(
        &mut self,
        customer_id: CustomerId,
        at: Timestamp,
    ) -> StoreResult<Option<PaidMembership>> {
        let row = sqlx::query(
            "SELECT * FROM paid_memberships WHERE customer_id = $1 AND starts_at <= $2 AND ends_at > $2 \
             ORDER BY ends_at DESC LIMIT 1",
        )
        .bind(customer_id.as_uuid())
        .bind(at)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let method: String = row.try_get("method")?;
        Ok(Some(PaidMembership {
            id: row.try_get("id")?,
            customer_id,
            tier_id: TierId::from_uuid(row.try_get("tier_id")?),
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            amount: Money::from_fen(row.try_get("amount")?),
            method: quanyu_domain::order::PaymentMethod::parse(&method)
                .map_err(|e| StoreError::Corrupt(format!("method: {e}")))?,
            reference: row.try_get("reference")?,
            idempotency_key: row.try_get("idem_key")?,
            created_at: row.try_get("created_at")?,
        }))
    }

    async fn list_tiers(&mut self) -> StoreResult<Vec<Tier>> {
        let rows =
            sqlx::query("SELECT * FROM member_tiers ORDER BY spend_threshold, code").fetch_all(&mut *self.tx).await?;
        rows.iter()
            .map(|row| {
                let bp: i64 = row.try_get("points_multiplier_bp")?;
                Ok(Tier {
                    id: TierId::from_uuid(row.try_get("id")?),
                    code: row.try_get("code")?,
                    name: row.try_get("name")?,
                    spend_threshold: Money::from_fen(row.try_get("spend_threshold")?),
                    points_multiplier_bp: u32::try_from(bp)
                        .map_err(|e| StoreError::Corrupt(format!("multiplier: {e}")))?,
                    free_delivery: row.try_get("free_delivery")?,
                    birthday_points: row.try_get("birthday_points")?,
                    paid: match (
                        row.try_get::<Option<i64>, _>("paid_price")?,
                        row.try_get::<Option<i64>, _>("paid_days")?,
                    ) {
                        (Some(price), Some(days)) => {
                            Some(quanyu_domain::loyalty::PaidTerms { price: Money::from_fen(price), days })
                        }
                        _ => None,
                    },
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn audience_rows(&mut self, after: i64, limit: u32) -> StoreResult<Vec<AudienceRow>> {
        // Stepped through in place (every member is read when an index is built): through
        // sqlx each row cost microseconds more than reading it.
        let sql = format!("{AUDIENCE_ROWS} WHERE c.merged_into IS NULL AND c.ordinal > $1 ORDER BY c.ordinal LIMIT $2");
        let mut rows = Vec::with_capacity(limit.min(100_000) as usize);
        let args = [Param::Int(after), Param::Int(i64::from(limit))];
        scan_rows(self, &sql, &args, &mut |row| {
            rows.push(scanned_audience_row(row)?);
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    async fn audience_rows_of(&mut self, ordinals: &[i64]) -> StoreResult<Vec<AudienceRow>> {
        let sql = format!("{AUDIENCE_ROWS} WHERE c.merged_into IS NULL AND c.ordinal IN ({{keys}})");
        let mut rows = Vec::with_capacity(ordinals.len());
        self.scan_in(&sql, ordinals, &mut |row| {
            rows.push(scanned_audience_row(row)?);
            Ok(())
        })
        .await?;
        rows.sort_unstable_by_key(|row| row.ordinal);
        Ok(rows)
    }

    async fn audience_cursor(&mut self) -> StoreResult<AudienceCursor> {
        let position = sqlx::query_scalar(super::super::AUDIENCE_CURSOR).fetch_one(&mut *self.tx).await?;
        Ok(AudienceCursor { position, read: Vec::new() })
    }

    async fn audience_changes(
        &mut self,
        cursor: &AudienceCursor,
        limit: u32,
    ) -> StoreResult<(Option<Vec<i64>>, AudienceCursor)> {
        // The next cursor first: whatever it covers is committed by the time the changes are
        // read (each backend reads them its way).
        let position: i64 = sqlx::query_scalar(super::super::AUDIENCE_CURSOR).fetch_one(&mut *self.tx).await?;
        let (ordinals, read) = self.audience_changes_to(cursor, position, i64::from(limit) + 1).await?;
        let within = ordinals.len() <= limit as usize;
        Ok((within.then_some(ordinals), AudienceCursor { position, read }))
    }

    async fn prune_audience_changes(&mut self, before: Timestamp) -> StoreResult<u64> {
        // The log keeps Unix seconds.
        let done = sqlx::query("DELETE FROM audience_changes WHERE at < $1")
            .bind(before.timestamp())
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }

    async fn customers_by_ordinals(&mut self, ordinals: &[i64]) -> StoreResult<Vec<(Customer, Option<String>)>> {
        self.customers_with_phone_in("c.ordinal", ordinals).await
    }

    async fn set_birthday(&mut self, customer_id: CustomerId, birthday: Option<Birthday>) -> StoreResult<()> {
        let Some(birthday) = birthday else {
            sqlx::query("DELETE FROM customer_birthdays WHERE customer_id = $1")
                .bind(customer_id.as_uuid())
                .execute(&mut *self.tx)
                .await?;
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO customer_birthdays (customer_id, month, day, year) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (customer_id) DO UPDATE SET month = excluded.month, day = excluded.day, year = excluded.year",
        )
        .bind(customer_id.as_uuid())
        .bind(i64::from(birthday.month()))
        .bind(i64::from(birthday.day()))
        .bind(birthday.year().map(i64::from))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn birthday_of(&mut self, customer_id: CustomerId) -> StoreResult<Option<Birthday>> {
        let row = sqlx::query("SELECT month, day, year FROM customer_birthdays WHERE customer_id = $1")
            .bind(customer_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (month, day, year): (i64, i64, Option<i64>) =
            (row.try_get("month")?, row.try_get("day")?, row.try_get("year")?);
        let corrupt = |e: String| StoreError::Corrupt(format!("birthday: {e}"));
        let month = u32::try_from(month).map_err(|e| corrupt(e.to_string()))?;
        let day = u32::try_from(day).map_err(|e| corrupt(e.to_string()))?;
        let year = year.map(i32::try_from).transpose().map_err(|e| corrupt(e.to_string()))?;
        Birthday::new(month, day, year).map(Some).map_err(|e| corrupt(e.to_string()))
    }

    async fn customers_born_on(
        &mut self,
        month: u32,
        day: u32,
        after: Option<CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerId>> {
        let rows = sqlx::query(
            "SELECT b.customer_id FROM customer_birthdays b JOIN customers c ON c.id = b.customer_id \
             WHERE b.month = $1 AND b.day = $2 AND c.merged_into IS NULL AND ($3 IS NULL OR b.customer_id > $3) \
             ORDER BY b.customer_id LIMIT $4",
        )
        .bind(i64::from(month))
        .bind(i64::from(day))
        .bind(after.map(|c| c.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|r| Ok(CustomerId::from_uuid(r.try_get("customer_id")?))).collect()
    }

    async fn customers_of_guide(&mut self, guide_id: StaffId) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customers WHERE guide_id = $1 AND merged_into IS NULL",
        )
        .bind(guide_id.as_uuid())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("n")?)
    }

    async fn customer_paid_orders(&mut self, customer_id: CustomerId) -> StoreResult<i64> {
        let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM orders WHERE customer_id = $1 AND paid > 0")
            .bind(customer_id.as_uuid())
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get("n")?)
    }

    async fn customer_spend(&mut self, customer_id: CustomerId, since: Timestamp) -> StoreResult<Money> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(paid - refunded), 0) AS BIGINT) AS spend FROM orders \
             WHERE customer_id = $1 AND created_at >= $2",
        )
        .bind(customer_id.as_uuid())
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(Money::from_fen(row.try_get("spend")?))
    }

    async fn search_customers(
        &mut self,
        search: &CustomerSearch,
        page: Page,
    ) -> StoreResult<Vec<(Customer, Option<String>)>> {
        let text = super::like_pattern(search.text.as_deref());
        let stage = search.stage.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let tag = search.tag.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let rows = sqlx::query(
            "SELECT c.*, (SELECT MIN(i.value) FROM customer_identities i \
             WHERE i.customer_id = c.id AND i.kind = 'phone') AS phone \
             FROM customers c WHERE c.merged_into IS NULL \
             AND ($1 IS NULL OR c.home_store_id = $1) \
             AND ($2 IS NULL OR c.home_store_id IN (SELECT id FROM stores WHERE region_id = $2)) \
             AND ($3 IS NULL OR c.guide_id = $3) \
             AND ($4 IS NULL OR LOWER(c.display_name) LIKE $4 ESCAPE '\\' OR EXISTS (SELECT 1 FROM \
             customer_identities p WHERE p.customer_id = c.id AND p.kind = 'phone' AND p.value LIKE $4 ESCAPE '\\')) \
             AND ($5 IS NULL OR EXISTS (SELECT 1 FROM customer_scores s WHERE s.customer_id = c.id AND s.stage = $5)) \
             AND ($6 IS NULL OR EXISTS (SELECT 1 FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id \
             WHERE ct.customer_id = c.id AND t.name = $6)) \
             AND ($7 IS NULL OR c.id > $7) ORDER BY c.id LIMIT $8",
        )
        .bind(search.filter.place.store_id.map(|s| s.as_uuid()))
        .bind(search.filter.place.region_id.map(|r| r.as_uuid()))
        .bind(search.filter.guide_id.map(|g| g.as_uuid()))
        .bind(text)
        .bind(stage)
        .bind(tag)
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|row| Ok((customer(row)?, row.try_get("phone")?))).collect()
    }

    async fn customers_by_ids(&mut self, ids: &[CustomerId]) -> StoreResult<Vec<(Customer, Option<String>)>> {
        let ids: Vec<Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
        self.customers_with_phone_in("c.id", &ids).await
    }

    async fn customers_of_guide_since(&mut self, guide_id: StaffId, since: Timestamp) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customers \
             WHERE guide_id = $1 AND merged_into IS NULL AND created_at >= $2",
        )
        .bind(guide_id.as_uuid())
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("n")?)
    }
}

fn points_entry(row: &Row) -> StoreResult<PointsEntry> {
    let order: Option<Uuid> = row.try_get("order_id")?;
    let actor: Option<Uuid> = row.try_get("actor_id")?;
    Ok(PointsEntry {
        id: row.try_get("id")?,
        customer_id: CustomerId::from_uuid(row.try_get("customer_id")?),
        kind: row.try_get("kind")?,
        points: row.try_get("points")?,
        order_id: order.map(OrderId::from_uuid),
        reason: row.try_get("reason")?,
        expires_at: row.try_get("expires_at")?,
        idempotency_key: row.try_get("idem_key")?,
        actor_id: actor.map(StaffId::from_uuid),
        at: row.try_get("at")?,
    })
}

/// A guide task a merge dropped because the survivor had the same follow-up: kept whole in the
/// merge's moves so an undo can put it back.
#[derive(serde::Serialize, serde::Deserialize)]
struct DroppedTask {
    guide_id: Uuid,
    audience_id: Uuid,
    title: String,
    status: String,
    note: Option<String>,
    created_at: Timestamp,
    done_at: Option<Timestamp>,
}

fn customer_merge(row: &Row) -> StoreResult<CustomerMerge> {
    let actor: Option<Uuid> = row.try_get("actor_id")?;
    let filled: String = row.try_get("filled")?;
    Ok(CustomerMerge {
        id: row.try_get("id")?,
        survivor_id: CustomerId::from_uuid(row.try_get("survivor_id")?),
        absorbed_id: CustomerId::from_uuid(row.try_get("absorbed_id")?),
        identities: row.try_get("identities")?,
        reason: row.try_get("reason")?,
        actor_id: actor.map(StaffId::from_uuid),
        at: row.try_get("at")?,
        filled: filled.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
    })
}

impl SqlTx {
    /// Moves the absorbed profile's follow-up tasks to the survivor; a task the survivor already
    /// has (same guide and audience) is dropped, and kept whole in the merge's moves.
    async fn move_guide_tasks(&mut self, from: CustomerId, to: CustomerId, merge_id: Uuid) -> StoreResult<()> {
        let tasks = sqlx::query(
            "SELECT t.*, CASE WHEN EXISTS (SELECT 1 FROM guide_tasks s WHERE s.customer_id = $2 \
             AND s.guide_id = t.guide_id AND s.audience_id = t.audience_id) THEN 1 ELSE 0 END AS duplicate \
             FROM guide_tasks t WHERE t.customer_id = $1",
        )
        .bind(from.as_uuid())
        .bind(to.as_uuid())
        .fetch_all(&mut *self.tx)
        .await?;
        for task in &tasks {
            let id: Uuid = task.try_get("id")?;
            let duplicate = task.try_get::<i64, _>("duplicate")? == 1;
            let detail = if duplicate {
                let dropped = DroppedTask {
                    guide_id: task.try_get("guide_id")?,
                    audience_id: task.try_get("audience_id")?,
                    title: task.try_get("title")?,
                    status: task.try_get("status")?,
                    note: task.try_get("note")?,
                    created_at: task.try_get("created_at")?,
                    done_at: task.try_get("done_at")?,
                };
                Some(serde_json::to_string(&dropped).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            } else {
                None
            };
            sqlx::query(
                "INSERT INTO customer_merge_moves (merge_id, kind, row_id, amount, detail) \
                 VALUES ($1, 'guide_task', $2, $3, $4)",
            )
            .bind(merge_id)
            .bind(id)
            .bind(if duplicate { 0_i64 } else { 1 })
            .bind(detail)
            .execute(&mut *self.tx)
            .await?;
            if duplicate {
                sqlx::query("DELETE FROM guide_tasks WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
            } else {
                sqlx::query("UPDATE guide_tasks SET customer_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(to.as_uuid())
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Takes back from the survivor what a merge added to one of its per-customer counters
    /// (coupons issued per template; rule hits per tag and day, when `day` is given) and gives
    /// it to the absorbed profile again.
    async fn undo_counter(
        &mut self,
        (table, key, counter): (&str, &str, &str),
        key_id: Option<Uuid>,
        day: Option<i64>,
        amount: i64,
        merge: &CustomerMerge,
    ) -> StoreResult<()> {
        let (from, to) = (merge.absorbed_id.as_uuid(), merge.survivor_id.as_uuid());
        let (day_column, day_value, day_match) = match day {
            Some(day) => (", day", format!(", {day}"), format!(" AND day = {day}")),
            None => ("", String::new(), String::new()),
        };
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET {counter} = {counter} - $3 WHERE {key} = $1 AND customer_id = $2{day_match}"
        )))
        .bind(key_id)
        .bind(to)
        .bind(amount)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE {key} = $1 AND customer_id = $2 AND {counter} <= 0{day_match}"
        )))
        .bind(key_id)
        .bind(to)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} ({key}, customer_id{day_column}, {counter}) VALUES ($1, $2{day_value}, $3) \
             ON CONFLICT ({key}, customer_id{day_column}) DO UPDATE SET {counter} = {table}.{counter} + excluded.{counter}"
        )))
        .bind(key_id)
        .bind(from)
        .bind(amount)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Sets a customer's points and stored-value balances to the sums of their ledgers (a
    /// stored-value account only where there are entries).
    async fn rebalance(&mut self, customer: CustomerId, at: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customer_points (customer_id, balance, updated_at) \
             SELECT $1, CAST(COALESCE(SUM(points), 0) AS BIGINT), $2 FROM points_ledger WHERE customer_id = $1 \
             ON CONFLICT (customer_id) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at",
        )
        .bind(customer.as_uuid())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query(
            "INSERT INTO stored_value_accounts (customer_id, balance, updated_at) \
             SELECT $1, CAST(COALESCE(SUM(amount), 0) AS BIGINT), $2 FROM stored_value_ledger WHERE customer_id = $1 \
             HAVING COUNT(*) > 0 \
             ON CONFLICT (customer_id) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at",
        )
        .bind(customer.as_uuid())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

super::sort_columns!(crate::CustomerSort { Ordinal => ("ordinal", false) });

impl SqlTx {
    /// Live customers whose `column` is one of `keys`, in that column's order, each with their
    /// first phone number.
    async fn customers_with_phone_in<K>(
        &mut self,
        column: &'static str,
        keys: &[K],
    ) -> StoreResult<Vec<(Customer, Option<String>)>>
    where
        K: Copy + Send + Sync + 'static + for<'q> sqlx::Encode<'q, Db> + sqlx::Type<Db>,
    {
        let sql = format!(
            "SELECT c.*, (SELECT MIN(i.value) FROM customer_identities i \
             WHERE i.customer_id = c.id AND i.kind = 'phone') AS phone \
             FROM customers c WHERE c.merged_into IS NULL AND {column} IN ({{keys}}) ORDER BY {column}"
        );
        let found = self.rows_in(&sql, keys).await?;
        found.iter().map(|row| Ok((customer(row)?, row.try_get("phone")?))).collect()
    }
}

/// What [`CustomerRepo::audience_rows`] reads of a member, before its `WHERE`.
const AUDIENCE_ROWS: &str = "SELECT c.ordinal, t.code AS tier, s.code AS home_store, r.code AS region, \
     CAST(COALESCE(p.balance, 0) AS BIGINT) AS points, \
     CAST(COALESCE(o.spend, 0) AS BIGINT) AS spend, CAST(COALESCE(o.orders, 0) AS BIGINT) AS orders, \
     CAST(COALESCE(o.r, 0) AS BIGINT) AS rs, CAST(COALESCE(o.f, 0) AS BIGINT) AS fs, \
     CAST(COALESCE(o.m, 0) AS BIGINT) AS ms, o.stage, o.last_order_at \
     FROM customers c \
     LEFT JOIN member_tiers t ON t.id = c.tier_id \
     LEFT JOIN stores s ON s.id = c.home_store_id \
     LEFT JOIN regions r ON r.id = s.region_id \
     LEFT JOIN customer_points p ON p.customer_id = c.id \
     LEFT JOIN customer_scores o ON o.customer_id = c.id";

/// A row of [`AUDIENCE_ROWS`] as a scan reads it.
fn scanned_audience_row(row: &ScanRow<'_>) -> StoreResult<AudienceRow> {
    Ok(AudienceRow {
        ordinal: row.int(0)?,
        tier: row.optional_text(1)?,
        home_store: row.optional_text(2)?,
        region: row.optional_text(3)?,
        points: row.int(4)?,
        spend: row.int(5)?,
        orders: row.int(6)?,
        r: row.int(7)?,
        f: row.int(8)?,
        m: row.int(9)?,
        stage: row.optional_text(10)?,
        last_order_at: row.optional_timestamp(11)?,
    })
}
