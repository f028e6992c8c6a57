//! Promoters, referrals, order attributions, the commission ledger with its balances, payouts,
//! guide sales, invite tasks and the marketing settings.

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    ids::{CouponTemplateId, CustomerId, OrderId, PayoutId, PromoterId, StaffId},
    referral::{Buckets, InviteTask, PayoutRequest, PayoutStatus, Promoter, PromoterOwner, Referral, ReferralRefusal},
    time::Timestamp,
};
use sqlx::{Row as _, types::Json};
use uuid::Uuid;

use super::{super::SqlTx, Keyset, bind_sort_value, keyset, rows::Row};
use crate::{
    Attribution, CommissionEntry, CommissionMismatch, GuideSale, LineCommission, Page, PromoterSort, ReferralRepo,
    Sorting, StoreError, StoreResult,
};

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

fn promoter(row: &Row) -> StoreResult<Promoter> {
    let customer: Option<Uuid> = row.try_get("customer_id")?;
    let staff: Option<Uuid> = row.try_get("staff_id")?;
    let owner = match (customer, staff) {
        (Some(customer), None) => PromoterOwner::Customer(CustomerId::from_uuid(customer)),
        (None, Some(staff)) => PromoterOwner::Staff(StaffId::from_uuid(staff)),
        _ => return Err(corrupt("promoter", "needs exactly one owner")),
    };
    Ok(Promoter {
        id: PromoterId::from_uuid(row.try_get("id")?),
        code: row.try_get("code")?,
        owner,
        name: row.try_get("name")?,
        distributor: row.try_get("distributor")?,
        parent_id: row.try_get::<Option<Uuid>, _>("parent_id")?.map(PromoterId::from_uuid),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn referral(row: &Row) -> StoreResult<Referral> {
    let refusal: Option<String> = row.try_get("refusal")?;
    Ok(Referral {
        id: row.try_get("id")?,
        promoter_id: PromoterId::from_uuid(row.try_get("promoter_id")?),
        invitee_id: CustomerId::from_uuid(row.try_get("invitee_id")?),
        device_id: row.try_get("device_id")?,
        refusal: refusal.map(|r| ReferralRefusal::parse(&r)).transpose().map_err(|e| corrupt("refusal", e))?,
        at: row.try_get("at")?,
    })
}

fn buckets(row: &Row) -> StoreResult<Buckets> {
    Ok(Buckets {
        frozen: Money::from_fen(row.try_get("frozen")?),
        available: Money::from_fen(row.try_get("available")?),
        pending: Money::from_fen(row.try_get("pending")?),
        paid_out: Money::from_fen(row.try_get("paid_out")?),
    })
}

fn commission(row: &Row) -> StoreResult<CommissionEntry> {
    let level: Option<i64> = row.try_get("level")?;
    let line_no: Option<i64> = row.try_get("line_no")?;
    Ok(CommissionEntry {
        id: row.try_get("id")?,
        promoter_id: PromoterId::from_uuid(row.try_get("promoter_id")?),
        kind: row.try_get("kind")?,
        order_id: row.try_get::<Option<Uuid>, _>("order_id")?.map(OrderId::from_uuid),
        line_no: line_no.map(|n| i32::try_from(n).map_err(|e| corrupt("line_no", e))).transpose()?,
        level: level.map(|n| u8::try_from(n).map_err(|e| corrupt("level", e))).transpose()?,
        payout_id: row.try_get::<Option<Uuid>, _>("payout_id")?.map(PayoutId::from_uuid),
        delta: buckets(row)?,
        release_at: row.try_get("release_at")?,
        idempotency_key: row.try_get("idem_key")?,
        at: row.try_get("at")?,
    })
}

fn payout(row: &Row) -> StoreResult<PayoutRequest> {
    let status: String = row.try_get("status")?;
    Ok(PayoutRequest {
        id: PayoutId::from_uuid(row.try_get("id")?),
        promoter_id: PromoterId::from_uuid(row.try_get("promoter_id")?),
        amount: Money::from_fen(row.try_get("amount")?),
        status: PayoutStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        note: row.try_get("note")?,
        requested_at: row.try_get("requested_at")?,
        settled_at: row.try_get("settled_at")?,
    })
}

fn task(row: &Row) -> StoreResult<InviteTask> {
    Ok(InviteTask {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        invites_needed: row.try_get("invites_needed")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        reward_points: row.try_get("reward_points")?,
        reward_template_id: row.try_get::<Option<Uuid>, _>("reward_template_id")?.map(CouponTemplateId::from_uuid),
        created_at: row.try_get("created_at")?,
    })
}

fn owner_ids(owner: PromoterOwner) -> (Option<Uuid>, Option<Uuid>) {
    match owner {
        PromoterOwner::Customer(id) => (Some(id.as_uuid()), None),
        PromoterOwner::Staff(id) => (None, Some(id.as_uuid())),
    }
}

#[async_trait]
impl ReferralRepo for SqlTx {
    async fn insert_promoter(&mut self, p: &Promoter) -> StoreResult<()> {
        let (customer, staff) = owner_ids(p.owner);
        sqlx::query(
            "INSERT INTO promoters (id, code, customer_id, staff_id, name, distributor, parent_id, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(p.id.as_uuid())
        .bind(&p.code)
        .bind(customer)
        .bind(staff)
        .bind(&p.name)
        .bind(p.distributor)
        .bind(p.parent_id.map(|id| id.as_uuid()))
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_promoter(&mut self, p: &Promoter) -> StoreResult<()> {
        sqlx::query("UPDATE promoters SET name = $2, distributor = $3, parent_id = $4, updated_at = $5 WHERE id = $1")
            .bind(p.id.as_uuid())
            .bind(&p.name)
            .bind(p.distributor)
            .bind(p.parent_id.map(|id| id.as_uuid()))
            .bind(p.updated_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn get_promoter(&mut self, id: PromoterId) -> StoreResult<Option<Promoter>> {
        let row = sqlx::query("SELECT * FROM promoters WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(promoter).transpose()
    }

    async fn promoters_by_ids(&mut self, ids: &[PromoterId]) -> StoreResult<Vec<Promoter>> {
        let ids: Vec<Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
        self.rows_in("SELECT * FROM promoters WHERE id IN ({keys})", &ids).await?.iter().map(promoter).collect()
    }

    async fn promoter_by_code(&mut self, code: &str) -> StoreResult<Option<Promoter>> {
        let row =
            sqlx::query("SELECT * FROM promoters WHERE code = $1").bind(code).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(promoter).transpose()
    }

    async fn promoter_of(&mut self, owner: PromoterOwner) -> StoreResult<Option<Promoter>> {
        let (customer, staff) = owner_ids(owner);
        let row = sqlx::query("SELECT * FROM promoters WHERE customer_id = $1 OR staff_id = $2")
            .bind(customer)
            .bind(staff)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(promoter).transpose()
    }

    async fn insert_referral(&mut self, r: &Referral) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO referrals (id, promoter_id, invitee_id, device_id, refusal, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.id)
        .bind(r.promoter_id.as_uuid())
        .bind(r.invitee_id.as_uuid())
        .bind(&r.device_id)
        .bind(r.refusal.map(ReferralRefusal::as_str))
        .bind(r.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn referral_of(&mut self, invitee: CustomerId) -> StoreResult<Option<Referral>> {
        let row = sqlx::query("SELECT * FROM referrals WHERE invitee_id = $1")
            .bind(invitee.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(referral).transpose()
    }

    async fn device_referred(&mut self, device_id: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM referrals WHERE device_id = $1 LIMIT 1")
            .bind(device_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.is_some())
    }

    async fn counted_referrals(
        &mut self,
        promoter_id: PromoterId,
        since: Timestamp,
        until: Timestamp,
    ) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM referrals WHERE promoter_id = $1 AND refusal IS NULL \
             AND at >= $2 AND at < $3",
        )
        .bind(promoter_id.as_uuid())
        .bind(since)
        .bind(until)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("n")?)
    }

    async fn list_referrals(&mut self, promoter_id: PromoterId, page: Page) -> StoreResult<Vec<Referral>> {
        let rows = sqlx::query(
            "SELECT * FROM referrals WHERE promoter_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(promoter_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(referral).collect()
    }

    async fn get_setting(&mut self, name: &str) -> StoreResult<Option<serde_json::Value>> {
        let row = sqlx::query("SELECT value FROM marketing_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| r.try_get::<Json<serde_json::Value>, _>("value")).transpose()?.map(|Json(v)| v))
    }

    async fn put_setting(&mut self, name: &str, value: &serde_json::Value, at: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO marketing_settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(Json(value))
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_attribution(&mut self, a: &Attribution) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO order_attributions (order_id, promoter_id, parent_id, guide_id, source) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(a.order_id.as_uuid())
        .bind(a.promoter_id.map(|p| p.as_uuid()))
        .bind(a.parent_id.map(|p| p.as_uuid()))
        .bind(a.guide_id.map(|g| g.as_uuid()))
        .bind(&a.source)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn attribution_of(&mut self, order_id: OrderId) -> StoreResult<Option<Attribution>> {
        let row = sqlx::query("SELECT * FROM order_attributions WHERE order_id = $1")
            .bind(order_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Attribution {
            order_id,
            promoter_id: row.try_get::<Option<Uuid>, _>("promoter_id")?.map(PromoterId::from_uuid),
            parent_id: row.try_get::<Option<Uuid>, _>("parent_id")?.map(PromoterId::from_uuid),
            guide_id: row.try_get::<Option<Uuid>, _>("guide_id")?.map(StaffId::from_uuid),
            source: row.try_get("source")?,
        }))
    }

    async fn apply_commission(&mut self, e: &CommissionEntry, guard_available: bool) -> StoreResult<Option<Buckets>> {
        sqlx::query(
            "INSERT INTO promoter_balances (promoter_id, frozen, available, pending, paid_out, updated_at) \
             VALUES ($1, 0, 0, 0, 0, $2) ON CONFLICT (promoter_id) DO NOTHING",
        )
        .bind(e.promoter_id.as_uuid())
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        let d = e.delta;
        let row = sqlx::query(
            "UPDATE promoter_balances SET frozen = frozen + $2, available = available + $3, pending = pending + $4, \
             paid_out = paid_out + $5, updated_at = $6 WHERE promoter_id = $1 AND frozen + $2 >= 0 \
             AND pending + $4 >= 0 AND paid_out + $5 >= 0 AND ($7 = FALSE OR available + $3 >= 0) \
             RETURNING frozen, available, pending, paid_out",
        )
        .bind(e.promoter_id.as_uuid())
        .bind(d.frozen.fen())
        .bind(d.available.fen())
        .bind(d.pending.fen())
        .bind(d.paid_out.fen())
        .bind(e.at)
        .bind(guard_available)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query(
            "INSERT INTO commission_ledger (id, promoter_id, kind, order_id, line_no, level, payout_id, frozen, \
             available, pending, paid_out, release_at, idem_key, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(e.id)
        .bind(e.promoter_id.as_uuid())
        .bind(&e.kind)
        .bind(e.order_id.map(|o| o.as_uuid()))
        .bind(e.line_no.map(i64::from))
        .bind(e.level.map(i64::from))
        .bind(e.payout_id.map(|p| p.as_uuid()))
        .bind(d.frozen.fen())
        .bind(d.available.fen())
        .bind(d.pending.fen())
        .bind(d.paid_out.fen())
        .bind(e.release_at)
        .bind(&e.idempotency_key)
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(Some(buckets(&row)?))
    }

    async fn commission_entry_exists(&mut self, key: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM commission_ledger WHERE idem_key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.is_some())
    }

    async fn order_commissions(&mut self, order_id: OrderId) -> StoreResult<Vec<LineCommission>> {
        // An accrual adds to frozen; a reversal takes from frozen or, after release, available.
        let rows = sqlx::query(
            "SELECT promoter_id, line_no, level, \
             CAST(SUM(CASE WHEN kind = 'accrue' THEN frozen ELSE 0 END) AS BIGINT) AS accrued, \
             CAST(SUM(CASE WHEN kind = 'reverse' THEN -(frozen + available) ELSE 0 END) AS BIGINT) AS reversed \
             FROM commission_ledger WHERE order_id = $1 AND kind IN ('accrue', 'reverse') \
             GROUP BY promoter_id, line_no, level ORDER BY line_no, level",
        )
        .bind(order_id.as_uuid())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|row| {
                let (line_no, level): (i64, i64) = (row.try_get("line_no")?, row.try_get("level")?);
                Ok(LineCommission {
                    promoter_id: PromoterId::from_uuid(row.try_get("promoter_id")?),
                    line_no: i32::try_from(line_no).map_err(|e| corrupt("line_no", e))?,
                    level: u8::try_from(level).map_err(|e| corrupt("level", e))?,
                    accrued: Money::from_fen(row.try_get("accrued")?),
                    reversed: Money::from_fen(row.try_get("reversed")?),
                })
            })
            .collect()
    }

    async fn due_releases(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<(OrderId, PromoterId)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT a.order_id, a.promoter_id FROM commission_ledger a WHERE a.kind = 'accrue' \
             AND a.release_at <= $1 AND NOT EXISTS (SELECT 1 FROM commission_ledger r WHERE r.kind = 'release' \
             AND r.order_id = a.order_id AND r.promoter_id = a.promoter_id) LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| Ok((OrderId::from_uuid(r.try_get("order_id")?), PromoterId::from_uuid(r.try_get("promoter_id")?))))
            .collect()
    }

    async fn promoter_balance(&mut self, promoter_id: PromoterId) -> StoreResult<Buckets> {
        let row =
            sqlx::query("SELECT frozen, available, pending, paid_out FROM promoter_balances WHERE promoter_id = $1")
                .bind(promoter_id.as_uuid())
                .fetch_optional(&mut *self.tx)
                .await?;
        row.as_ref().map(buckets).transpose().map(Option::unwrap_or_default)
    }

    async fn list_commissions(&mut self, promoter_id: PromoterId, page: Page) -> StoreResult<Vec<CommissionEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM commission_ledger WHERE promoter_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC \
             LIMIT $3",
        )
        .bind(promoter_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(commission).collect()
    }

    async fn reconcile_commissions(&mut self) -> StoreResult<Vec<CommissionMismatch>> {
        let rows = sqlx::query(
            "SELECT b.promoter_id, b.frozen, b.available, b.pending, b.paid_out, \
             CAST(COALESCE(l.frozen, 0) AS BIGINT) AS l_frozen, CAST(COALESCE(l.available, 0) AS BIGINT) AS l_available, \
             CAST(COALESCE(l.pending, 0) AS BIGINT) AS l_pending, CAST(COALESCE(l.paid_out, 0) AS BIGINT) AS l_paid_out \
             FROM promoter_balances b LEFT JOIN (SELECT promoter_id, SUM(frozen) AS frozen, SUM(available) AS available, \
             SUM(pending) AS pending, SUM(paid_out) AS paid_out FROM commission_ledger GROUP BY promoter_id) l \
             ON l.promoter_id = b.promoter_id WHERE b.frozen <> COALESCE(l.frozen, 0) \
             OR b.available <> COALESCE(l.available, 0) OR b.pending <> COALESCE(l.pending, 0) \
             OR b.paid_out <> COALESCE(l.paid_out, 0) ORDER BY b.promoter_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CommissionMismatch {
                    promoter_id: PromoterId::from_uuid(r.try_get("promoter_id")?),
                    balance: buckets(r)?,
                    ledger: Buckets {
                        frozen: Money::from_fen(r.try_get("l_frozen")?),
                        available: Money::from_fen(r.try_get("l_available")?),
                        pending: Money::from_fen(r.try_get("l_pending")?),
                        paid_out: Money::from_fen(r.try_get("l_paid_out")?),
                    },
                })
            })
            .collect()
    }

    async fn insert_payout(&mut self, p: &PayoutRequest) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO payout_requests (id, promoter_id, amount, status, note, requested_at, settled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(p.id.as_uuid())
        .bind(p.promoter_id.as_uuid())
        .bind(p.amount.fen())
        .bind(p.status.as_str())
        .bind(&p.note)
        .bind(p.requested_at)
        .bind(p.settled_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_payout(&mut self, id: PayoutId) -> StoreResult<Option<PayoutRequest>> {
        let row = sqlx::query("SELECT * FROM payout_requests WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(payout).transpose()
    }

    async fn settle_payout(
        &mut self,
        id: PayoutId,
        to: PayoutStatus,
        note: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE payout_requests SET status = $2, note = $3, settled_at = $4 WHERE id = $1 AND status = 'requested'",
        )
        .bind(id.as_uuid())
        .bind(to.as_str())
        .bind(note)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn append_guide_sale(&mut self, s: &GuideSale) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO guide_sales (id, guide_id, order_id, kind, amount, idem_key, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.id)
        .bind(s.guide_id.as_uuid())
        .bind(s.order_id.as_uuid())
        .bind(&s.kind)
        .bind(s.amount.fen())
        .bind(&s.idempotency_key)
        .bind(s.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn guide_sales_since(&mut self, guide_id: StaffId, since: Timestamp) -> StoreResult<(Money, i64)> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total, \
             CAST(COUNT(DISTINCT CASE WHEN kind = 'sale' THEN order_id END) AS BIGINT) AS orders \
             FROM guide_sales WHERE guide_id = $1 AND at >= $2",
        )
        .bind(guide_id.as_uuid())
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((Money::from_fen(row.try_get("total")?), row.try_get("orders")?))
    }

    async fn insert_invite_task(&mut self, t: &InviteTask) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invite_tasks (id, name, invites_needed, starts_at, ends_at, reward_points, \
             reward_template_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(t.id)
        .bind(&t.name)
        .bind(t.invites_needed)
        .bind(t.starts_at)
        .bind(t.ends_at)
        .bind(t.reward_points)
        .bind(t.reward_template_id.map(|id| id.as_uuid()))
        .bind(t.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn running_invite_tasks(&mut self, at: Timestamp) -> StoreResult<Vec<InviteTask>> {
        let rows =
            sqlx::query("SELECT * FROM invite_tasks WHERE starts_at <= $1 AND ends_at > $1 ORDER BY id LIMIT 100")
                .bind(at)
                .fetch_all(&mut *self.tx)
                .await?;
        rows.iter().map(task).collect()
    }

    async fn claim_task_reward(&mut self, task_id: Uuid, promoter_id: PromoterId, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO invite_task_rewards (task_id, promoter_id, at) VALUES ($1, $2, $3) \
             ON CONFLICT (task_id, promoter_id) DO NOTHING",
        )
        .bind(task_id)
        .bind(promoter_id.as_uuid())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_promoters(
        &mut self,
        distributors_only: bool,
        sort: &Sorting<PromoterSort>,
        page: Page,
    ) -> StoreResult<Vec<(Promoter, Buckets)>> {
        let Keyset { condition, order } = keyset(sort, "p.id", "$2", "$4");
        let sql = format!(
            "SELECT p.*, COALESCE(b.frozen, 0) AS frozen, COALESCE(b.available, 0) AS available, \
             COALESCE(b.pending, 0) AS pending, COALESCE(b.paid_out, 0) AS paid_out \
             FROM promoters p LEFT JOIN promoter_balances b ON b.promoter_id = p.id \
             WHERE ($1 = FALSE OR p.distributor = TRUE) AND {condition} ORDER BY {order} LIMIT $3"
        );
        let query =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(distributors_only).bind(page.after).bind(page.sql_limit());
        let rows = bind_sort_value(query, sort).fetch_all(&mut *self.tx).await?;
        rows.iter().map(|row| Ok((promoter(row)?, buckets(row)?))).collect()
    }

    async fn list_payouts(&mut self, status: Option<PayoutStatus>, page: Page) -> StoreResult<Vec<PayoutRequest>> {
        let rows = sqlx::query(
            "SELECT * FROM payout_requests WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(status.map(|s| s.as_str()))
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(payout).collect()
    }
}

super::sort_columns!(crate::PromoterSort {
    Name => ("p.name", true),
    Frozen => ("COALESCE(b.frozen, 0)", false),
    Available => ("COALESCE(b.available, 0)", false),
    Pending => ("COALESCE(b.pending, 0)", false),
    PaidOut => ("COALESCE(b.paid_out, 0)", false),
});
