//! Coupon templates, wallets and their ledger; promotions. Rule parameters are JSON in the
//! shape of the domain's types, channels a comma-separated list.

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    catalog::Channel,
    ids::{CouponId, CouponTemplateId, CustomerId, OrderId, PromotionId, StaffId, StoreId},
    marketing::{
        AutoIssue, Coupon, CouponStatus, CouponTemplate, IssueSource, StoredPromotion, TemplateRules, TemplateStatus,
        Validity,
    },
    pricing::{Audience, CouponKind, PromotionKind, Scope},
    time::Timestamp,
};
use sqlx::{Row as _, types::Json};
use uuid::Uuid;

use super::{super::SqlTx, Keyset, bind_sort_value, keyset, rows::Row};
use crate::{
    CouponEntry, CouponMismatch, CouponTemplateSort, MarketingRepo, Page, PromotionSort, Sorting, StoreError,
    StoreResult,
};

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

fn channels_text(channels: &[Channel]) -> String {
    channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
}

fn channels(row: &Row) -> StoreResult<Vec<Channel>> {
    let text: String = row.try_get("channels")?;
    text.split(',').filter(|c| !c.is_empty()).map(|c| Channel::parse(c).map_err(|e| corrupt("channels", e))).collect()
}

fn staff(row: &Row, column: &str) -> StoreResult<Option<StaffId>> {
    Ok(row.try_get::<Option<Uuid>, _>(column)?.map(StaffId::from_uuid))
}

fn template(row: &Row) -> StoreResult<CouponTemplate> {
    let Json(kind): Json<CouponKind> = row.try_get("kind")?;
    let Json(scope): Json<Scope> = row.try_get("scope")?;
    let Json(stores): Json<Vec<StoreId>> = row.try_get("store_ids")?;
    let validity = Validity::new(row.try_get("valid_from")?, row.try_get("valid_until")?, row.try_get("valid_days")?)
        .map_err(|e| corrupt("validity", e))?;
    let auto_issue: Option<String> = row.try_get("auto_issue")?;
    let status: String = row.try_get("status")?;
    Ok(CouponTemplate {
        id: CouponTemplateId::from_uuid(row.try_get("id")?),
        name: row.try_get("name")?,
        rules: TemplateRules {
            kind,
            threshold: Money::from_fen(row.try_get("threshold")?),
            scope,
            validity,
            channels: channels(row)?,
            stores,
            budget_count: row.try_get("budget_count")?,
            budget_value: row.try_get::<Option<i64>, _>("budget_value")?.map(Money::from_fen),
            per_customer_limit: row.try_get("per_customer_limit")?,
            claimable: row.try_get("claimable")?,
            auto_issue: auto_issue.map(|a| AutoIssue::parse(&a)).transpose().map_err(|e| corrupt("auto_issue", e))?,
            restore_on_refund: row.try_get("restore_on_refund")?,
        },
        status: TemplateStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        issued: row.try_get("issued")?,
        issued_value: Money::from_fen(row.try_get("issued_value")?),
        created_by: staff(row, "created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn coupon(row: &Row) -> StoreResult<Coupon> {
    let status: String = row.try_get("status")?;
    let source: String = row.try_get("source")?;
    Ok(Coupon {
        id: CouponId::from_uuid(row.try_get("id")?),
        template_id: CouponTemplateId::from_uuid(row.try_get("template_id")?),
        customer_id: CustomerId::from_uuid(row.try_get("customer_id")?),
        status: CouponStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        source: IssueSource::parse(&source).map_err(|e| corrupt("source", e))?,
        issued_by: staff(row, "issued_by")?,
        order_id: row.try_get::<Option<Uuid>, _>("order_id")?.map(OrderId::from_uuid),
        used_at: row.try_get("used_at")?,
        issued_at: row.try_get("issued_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn entry(row: &Row) -> StoreResult<CouponEntry> {
    let kind: String = row.try_get("kind")?;
    Ok(CouponEntry {
        id: row.try_get("id")?,
        coupon_id: CouponId::from_uuid(row.try_get("coupon_id")?),
        kind,
        order_id: row.try_get::<Option<Uuid>, _>("order_id")?.map(OrderId::from_uuid),
        idempotency_key: row.try_get("idem_key")?,
        actor_id: staff(row, "actor_id")?,
        at: row.try_get("at")?,
    })
}

fn promotion(row: &Row) -> StoreResult<StoredPromotion> {
    let Json(kind): Json<PromotionKind> = row.try_get("kind")?;
    let Json(scope): Json<Scope> = row.try_get("scope")?;
    let Json(stores): Json<Vec<StoreId>> = row.try_get("store_ids")?;
    let audience: String = row.try_get("audience")?;
    let priority: i64 = row.try_get("priority")?;
    Ok(StoredPromotion {
        id: PromotionId::from_uuid(row.try_get("id")?),
        name: row.try_get("name")?,
        kind,
        priority: i32::try_from(priority).map_err(|e| corrupt("priority", e))?,
        exclusive: row.try_get("exclusive")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        audience: Audience::parse(&audience).map_err(|e| corrupt("audience", e))?,
        scope,
        channels: channels(row)?,
        stores,
        ended: row.try_get("ended")?,
        created_by: staff(row, "created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The status a coupon's last ledger entry leaves it in, as SQL.
const STATUS_FROM_LEDGER: &str = "CASE l.kind WHEN 'use' THEN 'used' WHEN 'void' THEN 'voided' ELSE 'available' END";

#[async_trait]
impl MarketingRepo for SqlTx {
    async fn insert_coupon_template(&mut self, t: &CouponTemplate) -> StoreResult<()> {
        let (valid_from, valid_until, valid_days) = match t.rules.validity {
            Validity::Fixed { starts_at, ends_at } => (Some(starts_at), Some(ends_at), None),
            Validity::DaysAfterIssue { days } => (None, None, Some(days)),
        };
        sqlx::query(
            "INSERT INTO coupon_templates (id, name, kind, threshold, scope, valid_from, valid_until, valid_days, \
             channels, store_ids, budget_count, budget_value, per_customer_limit, claimable, auto_issue, \
             restore_on_refund, status, issued, issued_value, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(t.id.as_uuid())
        .bind(&t.name)
        .bind(Json(t.rules.kind))
        .bind(t.rules.threshold.fen())
        .bind(Json(&t.rules.scope))
        .bind(valid_from)
        .bind(valid_until)
        .bind(valid_days)
        .bind(channels_text(&t.rules.channels))
        .bind(Json(&t.rules.stores))
        .bind(t.rules.budget_count)
        .bind(t.rules.budget_value.map(Money::fen))
        .bind(t.rules.per_customer_limit)
        .bind(t.rules.claimable)
        .bind(t.rules.auto_issue.map(AutoIssue::as_str))
        .bind(t.rules.restore_on_refund)
        .bind(t.status.as_str())
        .bind(t.issued)
        .bind(t.issued_value.fen())
        .bind(t.created_by.map(|s| s.as_uuid()))
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_coupon_template(&mut self, id: CouponTemplateId) -> StoreResult<Option<CouponTemplate>> {
        let row = sqlx::query("SELECT * FROM coupon_templates WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(template).transpose()
    }

    async fn list_coupon_templates(
        &mut self,
        sort: &Sorting<CouponTemplateSort>,
        page: Page,
    ) -> StoreResult<Vec<CouponTemplate>> {
        let Keyset { condition, order } = keyset(sort, "id", "$1", "$3");
        let sql = format!("SELECT * FROM coupon_templates WHERE {condition} ORDER BY {order} LIMIT $2");
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(page.after).bind(page.sql_limit());
        let rows = bind_sort_value(query, sort).fetch_all(&mut *self.tx).await?;
        rows.iter().map(template).collect()
    }

    async fn set_coupon_template_status(
        &mut self,
        id: CouponTemplateId,
        status: TemplateStatus,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE coupon_templates SET status = $2, updated_at = $3 WHERE id = $1 AND status <> 'ended' \
             AND status <> $2",
        )
        .bind(id.as_uuid())
        .bind(status.as_str())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn auto_issue_templates(&mut self, rule: AutoIssue) -> StoreResult<Vec<CouponTemplate>> {
        let rows =
            sqlx::query("SELECT * FROM coupon_templates WHERE auto_issue = $1 AND status = 'active' ORDER BY id")
                .bind(rule.as_str())
                .fetch_all(&mut *self.tx)
                .await?;
        rows.iter().map(template).collect()
    }

    async fn claim_template_budget(&mut self, id: CouponTemplateId, face: Money) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE coupon_templates SET issued = issued + 1, issued_value = issued_value + $2 WHERE id = $1 \
             AND (budget_count IS NULL OR issued + 1 <= budget_count) \
             AND (budget_value IS NULL OR issued_value + $2 <= budget_value)",
        )
        .bind(id.as_uuid())
        .bind(face.fen())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_customer_limit(
        &mut self,
        template_id: CouponTemplateId,
        customer_id: CustomerId,
        limit: Option<i64>,
    ) -> StoreResult<bool> {
        sqlx::query(
            "INSERT INTO coupon_holdings (template_id, customer_id, issued) VALUES ($1, $2, 0) \
             ON CONFLICT (template_id, customer_id) DO NOTHING",
        )
        .bind(template_id.as_uuid())
        .bind(customer_id.as_uuid())
        .execute(&mut *self.tx)
        .await?;
        let done = sqlx::query(
            "UPDATE coupon_holdings SET issued = issued + 1 WHERE template_id = $1 AND customer_id = $2 \
             AND ($3 IS NULL OR issued + 1 <= $3)",
        )
        .bind(template_id.as_uuid())
        .bind(customer_id.as_uuid())
        .bind(limit)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_coupon(&mut self, c: &Coupon, e: &CouponEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO coupons (id, template_id, customer_id, status, starts_at, ends_at, source, issued_by, \
             order_id, used_at, issued_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(c.id.as_uuid())
        .bind(c.template_id.as_uuid())
        .bind(c.customer_id.as_uuid())
        .bind(c.status.as_str())
        .bind(c.starts_at)
        .bind(c.ends_at)
        .bind(c.source.as_str())
        .bind(c.issued_by.map(|s| s.as_uuid()))
        .bind(c.order_id.map(|o| o.as_uuid()))
        .bind(c.used_at)
        .bind(c.issued_at)
        .bind(c.updated_at)
        .execute(&mut *self.tx)
        .await?;
        append_entry(self, e).await
    }

    async fn get_coupon(&mut self, id: CouponId) -> StoreResult<Option<Coupon>> {
        let row =
            sqlx::query("SELECT * FROM coupons WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(coupon).transpose()
    }

    async fn customer_coupons(&mut self, customer_id: CustomerId, page: Page) -> StoreResult<Vec<Coupon>> {
        let rows = sqlx::query(
            "SELECT * FROM coupons WHERE customer_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(customer_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(coupon).collect()
    }

    async fn order_coupons(&mut self, order_id: OrderId) -> StoreResult<Vec<Coupon>> {
        let rows = sqlx::query("SELECT * FROM coupons WHERE order_id = $1 ORDER BY id")
            .bind(order_id.as_uuid())
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(coupon).collect()
    }

    async fn move_coupon(&mut self, from: CouponStatus, to: CouponStatus, e: &CouponEntry) -> StoreResult<bool> {
        let used = to == CouponStatus::Used;
        let done = sqlx::query(
            "UPDATE coupons SET status = $2, order_id = $3, used_at = $4, updated_at = $5 WHERE id = $1 AND status = $6",
        )
        .bind(e.coupon_id.as_uuid())
        .bind(to.as_str())
        .bind(e.order_id.filter(|_| used).map(|o| o.as_uuid()))
        .bind(used.then_some(e.at))
        .bind(e.at)
        .bind(from.as_str())
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        append_entry(self, e).await?;
        Ok(true)
    }

    async fn coupon_entry_exists(&mut self, key: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM coupon_ledger WHERE idem_key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.is_some())
    }

    async fn coupon_entries(&mut self, coupon_id: CouponId) -> StoreResult<Vec<CouponEntry>> {
        let rows = sqlx::query("SELECT * FROM coupon_ledger WHERE coupon_id = $1 ORDER BY at, id")
            .bind(coupon_id.as_uuid())
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(entry).collect()
    }

    async fn reconcile_coupons(&mut self) -> StoreResult<Vec<CouponMismatch>> {
        let coupons = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.status, COALESCE({STATUS_FROM_LEDGER}, 'none') AS expected FROM coupons c \
             LEFT JOIN coupon_ledger l ON l.id = (SELECT l2.id FROM coupon_ledger l2 WHERE l2.coupon_id = c.id \
             ORDER BY l2.at DESC, l2.id DESC LIMIT 1) \
             WHERE l.id IS NULL OR c.status <> {STATUS_FROM_LEDGER} ORDER BY c.id"
        )))
        .fetch_all(&mut *self.tx)
        .await?;
        let templates = sqlx::query(
            "SELECT t.id, t.issued, CAST(COUNT(c.id) AS BIGINT) AS coupons FROM coupon_templates t \
             LEFT JOIN coupons c ON c.template_id = t.id GROUP BY t.id, t.issued HAVING t.issued <> COUNT(c.id) \
             ORDER BY t.id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        let mut mismatches = Vec::with_capacity(coupons.len() + templates.len());
        for row in &coupons {
            let (id, status, expected): (Uuid, String, String) =
                (row.try_get("id")?, row.try_get("status")?, row.try_get("expected")?);
            mismatches.push(CouponMismatch { what: "coupon", id, recorded: status, from_ledger: expected });
        }
        for row in &templates {
            let (id, issued, count): (Uuid, i64, i64) =
                (row.try_get("id")?, row.try_get("issued")?, row.try_get("coupons")?);
            mismatches.push(CouponMismatch {
                what: "template",
                id,
                recorded: issued.to_string(),
                from_ledger: count.to_string(),
            });
        }
        Ok(mismatches)
    }

    async fn insert_promotion(&mut self, p: &StoredPromotion) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO promotions (id, name, kind, priority, exclusive, starts_at, ends_at, audience, scope, \
             channels, store_ids, ended, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(p.id.as_uuid())
        .bind(&p.name)
        .bind(Json(&p.kind))
        .bind(i64::from(p.priority))
        .bind(p.exclusive)
        .bind(p.starts_at)
        .bind(p.ends_at)
        .bind(p.audience.as_str())
        .bind(Json(&p.scope))
        .bind(channels_text(&p.channels))
        .bind(Json(&p.stores))
        .bind(p.ended)
        .bind(p.created_by.map(|s| s.as_uuid()))
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_promotion(&mut self, id: PromotionId) -> StoreResult<Option<StoredPromotion>> {
        let row = sqlx::query("SELECT * FROM promotions WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(promotion).transpose()
    }

    async fn list_promotions(
        &mut self,
        sort: &Sorting<PromotionSort>,
        page: Page,
    ) -> StoreResult<Vec<StoredPromotion>> {
        let Keyset { condition, order } = keyset(sort, "id", "$1", "$3");
        let sql = format!("SELECT * FROM promotions WHERE {condition} ORDER BY {order} LIMIT $2");
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(page.after).bind(page.sql_limit());
        let rows = bind_sort_value(query, sort).fetch_all(&mut *self.tx).await?;
        rows.iter().map(promotion).collect()
    }

    async fn end_promotion(&mut self, id: PromotionId, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE promotions SET ended = TRUE, updated_at = $2 WHERE id = $1 AND NOT ended")
            .bind(id.as_uuid())
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn running_promotions(&mut self, at: Timestamp) -> StoreResult<Vec<StoredPromotion>> {
        let rows = sqlx::query(
            "SELECT * FROM promotions WHERE ends_at > $1 AND starts_at <= $1 AND NOT ended ORDER BY id LIMIT 1000",
        )
        .bind(at)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(promotion).collect()
    }
}

async fn append_entry(tx: &mut SqlTx, e: &CouponEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO coupon_ledger (id, coupon_id, kind, order_id, idem_key, actor_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.id)
    .bind(e.coupon_id.as_uuid())
    .bind(&e.kind)
    .bind(e.order_id.map(|o| o.as_uuid()))
    .bind(&e.idempotency_key)
    .bind(e.actor_id.map(|a| a.as_uuid()))
    .bind(e.at)
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

super::sort_columns!(crate::CouponTemplateSort { Name => ("name", true), Issued => ("issued", false) });
super::sort_columns!(crate::PromotionSort { Name => ("name", true), Priority => ("priority", false) });
