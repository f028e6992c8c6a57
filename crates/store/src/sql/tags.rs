//! Tags, who carries them (tagged in multi-row statements), and saved audiences.

use async_trait::async_trait;
use quanyu_domain::{
    customer::TagRule,
    ids::{CategoryId, CustomerId, SkuId, StaffId},
    time::Timestamp,
};
use sqlx::{AssertSqlSafe, Row as _, types::Json};
use uuid::Uuid;

use super::{
    super::{SqlTx, scan::scan_rows},
    Keyset, Param, Placeholders, bind_sort_value, keyset,
    rows::Row,
};
use crate::{AudienceSort, GuideTask, GuideTaskCounts, Page, SavedAudience, Sorting, StoreResult, Tag, TagRepo};

const ROWS_PER_STATEMENT: usize = 500;

fn tag(row: &Row) -> StoreResult<Tag> {
    let rule: Option<Json<TagRule>> = row.try_get("rule")?;
    Ok(Tag {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        description: row.try_get("description")?,
        rule: rule.map(|Json(rule)| rule),
        created_at: row.try_get("created_at")?,
    })
}

fn task(row: &Row) -> StoreResult<GuideTask> {
    Ok(GuideTask {
        id: row.try_get("id")?,
        guide_id: StaffId::from_uuid(row.try_get("guide_id")?),
        customer_id: CustomerId::from_uuid(row.try_get("customer_id")?),
        audience_id: row.try_get("audience_id")?,
        title: row.try_get("title")?,
        status: row.try_get("status")?,
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
        done_at: row.try_get("done_at")?,
    })
}

fn audience(row: &Row) -> StoreResult<SavedAudience> {
    Ok(SavedAudience {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        expression: row.try_get("expression")?,
        created_by: row.try_get::<Option<Uuid>, _>("created_by")?.map(StaffId::from_uuid),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait]
impl TagRepo for SqlTx {
    async fn insert_tag(&mut self, t: &Tag) -> StoreResult<()> {
        sqlx::query("INSERT INTO tags (id, name, kind, description, rule, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(t.id)
            .bind(&t.name)
            .bind(&t.kind)
            .bind(&t.description)
            .bind(t.rule.as_ref().map(Json))
            .bind(t.created_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn tag_by_name(&mut self, name: &str) -> StoreResult<Option<Tag>> {
        let row = sqlx::query("SELECT * FROM tags WHERE name = $1").bind(name).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(tag).transpose()
    }

    async fn list_tags(&mut self) -> StoreResult<Vec<Tag>> {
        let rows = sqlx::query("SELECT * FROM tags ORDER BY name").fetch_all(&mut *self.tx).await?;
        rows.iter().map(tag).collect()
    }

    async fn tag_customers(
        &mut self,
        tag_id: Uuid,
        customers: &[CustomerId],
        source: &str,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let mut added = 0;
        for chunk in customers.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let rows = params.rows(chunk.len(), 4);
            let sql = format!(
                "INSERT INTO customer_tags (customer_id, tag_id, source, at) VALUES {} \
                 ON CONFLICT (customer_id, tag_id) DO NOTHING",
                rows
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for customer in chunk {
                query = query.bind(customer.as_uuid()).bind(tag_id).bind(source).bind(at);
            }
            added += query.execute(&mut *self.tx).await?.rows_affected();
        }
        Ok(added)
    }

    async fn untag_customer(&mut self, tag_id: Uuid, customer: CustomerId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1 AND tag_id = $2")
            .bind(customer.as_uuid())
            .bind(tag_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn tags_of(&mut self, customer: CustomerId) -> StoreResult<Vec<Tag>> {
        let rows = sqlx::query(
            "SELECT t.* FROM tags t JOIN customer_tags ct ON ct.tag_id = t.id WHERE ct.customer_id = $1 ORDER BY t.name",
        )
        .bind(customer.as_uuid())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(tag).collect()
    }

    async fn tag_rows(&mut self, after: i64, up_to: i64) -> StoreResult<Vec<(i64, String)>> {
        // A range of ordinals, walked on their index with each one's tags beside it, and stepped
        // through in place: no sort, no limit (a page by tag rows, sorted, made SQLite sort
        // what followed the cursor, each page).
        let sql = "SELECT c.ordinal, t.name FROM customers c JOIN customer_tags ct ON ct.customer_id = c.id \
             JOIN tags t ON t.id = ct.tag_id WHERE c.merged_into IS NULL AND c.ordinal > $1 AND c.ordinal <= $2";
        let mut rows = Vec::new();
        scan_rows(self, sql, &[Param::Int(after), Param::Int(up_to)], &mut |row| {
            rows.push((row.int(0)?, row.text(1)?));
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    async fn tag_rows_of(&mut self, ordinals: &[i64]) -> StoreResult<Vec<(i64, String)>> {
        let sql = "SELECT c.ordinal, t.name FROM customers c JOIN customer_tags ct ON ct.customer_id = c.id \
             JOIN tags t ON t.id = ct.tag_id WHERE c.merged_into IS NULL AND c.ordinal IN ({keys})";
        let mut rows = Vec::new();
        self.scan_in(sql, ordinals, &mut |row| {
            rows.push((row.int(0)?, row.text(1)?));
            Ok(())
        })
        .await?;
        rows.sort_unstable();
        Ok(rows)
    }

    async fn rule_tags(&mut self) -> StoreResult<Vec<Tag>> {
        let rows = sqlx::query("SELECT * FROM tags WHERE kind = 'rule' ORDER BY name").fetch_all(&mut *self.tx).await?;
        rows.iter().map(tag).collect()
    }

    async fn bump_rule_count(
        &mut self,
        tag_id: Uuid,
        customer: CustomerId,
        day: i64,
        by: i64,
        since_day: i64,
    ) -> StoreResult<i64> {
        sqlx::query(
            "INSERT INTO tag_rule_counts (tag_id, customer_id, day, count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tag_id, customer_id, day) DO UPDATE SET count = tag_rule_counts.count + excluded.count",
        )
        .bind(tag_id)
        .bind(customer.as_uuid())
        .bind(day)
        .bind(by)
        .execute(&mut *self.tx)
        .await?;
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) AS total FROM tag_rule_counts \
             WHERE tag_id = $1 AND customer_id = $2 AND day >= $3",
        )
        .bind(tag_id)
        .bind(customer.as_uuid())
        .bind(since_day)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("total")?)
    }

    async fn expire_rule_tag(&mut self, tag_id: Uuid, since_day: i64, min: i64) -> StoreResult<u64> {
        let removed = sqlx::query(
            "DELETE FROM customer_tags WHERE tag_id = $1 AND source = 'rule' AND customer_id NOT IN \
             (SELECT customer_id FROM tag_rule_counts WHERE tag_id = $1 AND day >= $2 \
              GROUP BY customer_id HAVING SUM(count) >= $3)",
        )
        .bind(tag_id)
        .bind(since_day)
        .bind(min)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM tag_rule_counts WHERE tag_id = $1 AND day < $2")
            .bind(tag_id)
            .bind(since_day)
            .execute(&mut *self.tx)
            .await?;
        Ok(removed)
    }

    async fn scan_counted_line_spend(
        &mut self,
        since: Timestamp,
        each: &mut (dyn FnMut(CustomerId, SkuId, i64) + Send),
    ) -> StoreResult<()> {
        // Each counted order's lines looked up by their key, rather than every line read and
        // joined to a map of the counted orders' ids in memory. At 10M orders, 4.8M counted
        // (the `sqlite3` shell): this join 3.3 s, the orders alone 1.8 s, every line 1.0 s; but
        // every line then cost a look-up in a 4.8M-entry map (~170 MB), the read's largest part.
        let sql = format!(
            "SELECT o.customer_id, l.sku_id, CAST(l.amount - l.refunded_amount AS BIGINT) AS spend \
             FROM orders o {} JOIN order_lines l ON l.order_id = o.id WHERE {} AND o.customer_id IS NOT NULL",
            super::super::WHOLE_TABLE,
            super::scores::counted("o")
        );
        scan_rows(self, &sql, &[Param::At(since)], &mut |row| {
            each(CustomerId::from_uuid(row.uuid(0)?), SkuId::from_uuid(row.uuid(1)?), row.int(2)?);
            Ok(())
        })
        .await
    }

    async fn sku_categories(&mut self) -> StoreResult<Vec<(SkuId, CategoryId)>> {
        let rows = sqlx::query("SELECT s.id, p.category_id FROM skus s JOIN products p ON p.id = s.product_id")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|row| Ok((SkuId::from_uuid(row.try_get("id")?), CategoryId::from_uuid(row.try_get("category_id")?))))
            .collect()
    }

    async fn scan_tagged(&mut self, tags: &[Uuid], each: &mut (dyn FnMut(CustomerId, Uuid) + Send)) -> StoreResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let mut params = Placeholders::new();
        let sql =
            format!("SELECT customer_id, tag_id FROM customer_tags WHERE tag_id IN ({})", params.list(tags.len()));
        let args: Vec<Param<'_>> = tags.iter().map(|&tag| Param::Uuid(Some(tag))).collect();
        scan_rows(self, &sql, &args, &mut |row| {
            each(CustomerId::from_uuid(row.uuid(0)?), row.uuid(1)?);
            Ok(())
        })
        .await
    }

    async fn untag_customers(&mut self, tag_id: Uuid, customers: &[CustomerId]) -> StoreResult<u64> {
        let mut removed = 0;
        for chunk in customers.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let tag = params.one();
            let sql = format!(
                "DELETE FROM customer_tags WHERE tag_id = {tag} AND customer_id IN ({})",
                params.list(chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(tag_id);
            for customer in chunk {
                query = query.bind(customer.as_uuid());
            }
            removed += query.execute(&mut *self.tx).await?.rows_affected();
        }
        Ok(removed)
    }

    async fn insert_audience(&mut self, a: &SavedAudience) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audiences (id, name, expression, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(a.id)
        .bind(&a.name)
        .bind(&a.expression)
        .bind(a.created_by.map(|s| s.as_uuid()))
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_audience(&mut self, id: Uuid) -> StoreResult<Option<SavedAudience>> {
        let row = sqlx::query("SELECT * FROM audiences WHERE id = $1").bind(id).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(audience).transpose()
    }

    async fn list_audiences(&mut self, sort: &Sorting<AudienceSort>, page: Page) -> StoreResult<Vec<SavedAudience>> {
        let Keyset { condition, order } = keyset(sort, "id", "$1", "$3");
        let sql = format!("SELECT * FROM audiences WHERE {condition} ORDER BY {order} LIMIT $2");
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(page.after).bind(page.sql_limit());
        let rows = bind_sort_value(query, sort).fetch_all(&mut *self.tx).await?;
        rows.iter().map(audience).collect()
    }

    async fn insert_guide_tasks(&mut self, tasks: &[GuideTask]) -> StoreResult<u64> {
        let mut added = 0;
        for chunk in tasks.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let rows = params.rows(chunk.len(), 9);
            let sql = format!(
                "INSERT INTO guide_tasks (id, guide_id, customer_id, audience_id, title, status, note, created_at, \
                 done_at) VALUES {} ON CONFLICT (guide_id, customer_id, audience_id) DO NOTHING",
                rows
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for t in chunk {
                query = query
                    .bind(t.id)
                    .bind(t.guide_id.as_uuid())
                    .bind(t.customer_id.as_uuid())
                    .bind(t.audience_id)
                    .bind(&t.title)
                    .bind(&t.status)
                    .bind(&t.note)
                    .bind(t.created_at)
                    .bind(t.done_at);
            }
            added += query.execute(&mut *self.tx).await?.rows_affected();
        }
        Ok(added)
    }

    async fn guide_tasks(&mut self, guide_id: StaffId, status: &str, page: Page) -> StoreResult<Vec<GuideTask>> {
        let rows = sqlx::query(
            "SELECT * FROM guide_tasks WHERE guide_id = $1 AND status = $2 AND ($3 IS NULL OR id < $3) \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(guide_id.as_uuid())
        .bind(status)
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(task).collect()
    }

    async fn get_guide_task(&mut self, id: Uuid) -> StoreResult<Option<GuideTask>> {
        let row = sqlx::query("SELECT * FROM guide_tasks WHERE id = $1").bind(id).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(task).transpose()
    }

    async fn finish_guide_task(&mut self, id: Uuid, note: Option<&str>, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE guide_tasks SET status = 'done', note = $2, done_at = $3 WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .bind(note)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn tag_names_of(&mut self, customers: &[CustomerId]) -> StoreResult<Vec<(CustomerId, String)>> {
        let mut found = Vec::new();
        for chunk in customers.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id \
                 WHERE ct.customer_id IN ({}) ORDER BY ct.customer_id, t.name",
                Placeholders::new().list(chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_uuid());
            }
            for row in query.fetch_all(&mut *self.tx).await? {
                found.push((CustomerId::from_uuid(row.try_get("customer_id")?), row.try_get("name")?));
            }
        }
        Ok(found)
    }

    async fn guide_task_counts(&mut self, guide_id: StaffId, since: Timestamp) -> StoreResult<GuideTaskCounts> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0) AS BIGINT) AS open, \
             CAST(COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done, \
             CAST(COALESCE(SUM(CASE WHEN status = 'done' AND done_at >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS done_since FROM guide_tasks WHERE guide_id = $1",
        )
        .bind(guide_id.as_uuid())
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(GuideTaskCounts {
            open: row.try_get("open")?,
            done: row.try_get("done")?,
            done_since: row.try_get("done_since")?,
        })
    }
}

super::sort_columns!(crate::AudienceSort { Name => ("name", true) });
