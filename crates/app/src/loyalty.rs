//! Use cases of points (积分): earned when an order of a member is paid (every channel, the
//! till included), taken back as it is refunded, expiring first in first out, adjusted by
//! trusted staff, read with their ledger. Every change is a ledger entry with a unique key in the
//! transaction of the order step that caused it, so a retried payment or refund moves no points
//! twice, and a balance always equals the sum of its ledger.

use chrono::Duration;
use quanyu_domain::{
    DomainError, Expected, Money,
    authz::Permission,
    ids::{CustomerId, TierId},
    loyalty::{self, PointsRule, Tier},
    order::{Order, PaymentMethod},
    time::Timestamp,
};
use quanyu_store::{PaidMembership, PointsEntry, Tx};

use crate::{App, AppError, AppResult, Ctx, Listing, Reply, Written, change::Change, listing::Cursor, write::now};

/// A customer's points: the balance and a page of the ledger, newest first.
#[derive(Debug, Clone)]
pub struct PointsStatement {
    pub balance: i64,
    pub entries: Listing<PointsEntry>,
}

/// The largest manual adjustment in one step.
const MAX_ADJUSTMENT: i64 = 1_000_000;

#[derive(Debug, Clone, Default)]
pub struct TierDraft {
    pub code: String,
    pub name: String,
    /// 分 spent in the last twelve months to reach the tier (0: every member).
    pub spend_threshold: i64,
    /// 10_000 is ×1 (default).
    pub points_multiplier_bp: Option<i64>,
    pub free_delivery: bool,
    /// Sold as a paid membership: the price of a term (分) and its days; both or neither.
    pub paid_price: Option<i64>,
    pub paid_days: Option<i64>,
    /// Points given on the member's birthday.
    pub birthday_points: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct MembershipDraft {
    pub tier_id: Option<TierId>,
    /// `cash`, `card` or `stored_value`.
    pub method: String,
    /// The card terminal's reference (required for card).
    pub reference: Option<String>,
}

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

    /// Adds a membership tier (HQ).
    pub async fn create_tier(&self, ctx: &Ctx, draft: TierDraft, reply: Reply<'_, Tier>) -> AppResult<Written<Tier>> {
        ctx.require(Permission::ManageChain)?;
        let at = now();
        let tier = Tier {
            id: TierId::new(),
            code: quanyu_domain::text::code("code", &draft.code, 32)?,
            name: quanyu_domain::text::required("name", &draft.name, 32)?,
            spend_threshold: Money::price("spend_threshold", draft.spend_threshold)?,
            points_multiplier_bp: Tier::validate_multiplier(draft.points_multiplier_bp.unwrap_or(10_000))?,
            free_delivery: draft.free_delivery,
            paid: loyalty::PaidTerms::new(draft.paid_price, draft.paid_days)?,
            birthday_points: match draft.birthday_points.unwrap_or(0) {
                points @ 0..=MAX_ADJUSTMENT => points,
                _ => {
                    return Err(
                        DomainError::OutOfRange { field: "birthday_points", min: 0, max: MAX_ADJUSTMENT }.into()
                    );
                }
            },
            created_at: at,
            updated_at: at,
        };
        write_idempotent!(self, ctx, reply, |tx| {
            tx.insert_tier(&tier).await?;
            Change::new("tier.created", "tier", tier.id)
                .set("code", &tier.code)
                .set("spend_threshold", &tier.spend_threshold.fen())
                .record(tx, Some(ctx))
                .await?;
            Ok(tier)
        })
    }

    /// Sells a term of a paid tier (付费会员) to a member: paid in cash, by card or from stored
    /// value; a term bought while one runs starts when that one ends. The member holds the tier
    /// at once. Needs an idempotency key.
    pub async fn buy_membership(
        &self,
        ctx: &Ctx,
        customer_id: CustomerId,
        draft: MembershipDraft,
        reply: Reply<'_, PaidMembership>,
    ) -> AppResult<Written<PaidMembership>> {
        ctx.require(Permission::SellOrders)?;
        ctx.require_idempotency_key()?;
        let tier_id = draft.tier_id.ok_or(DomainError::Required { field: "tier_id" })?;
        let method = PaymentMethod::parse(draft.method.trim())?;
        let reference = quanyu_domain::text::optional("reference", draft.reference.as_deref(), 64)?;
        if method == PaymentMethod::Card && reference.is_none() {
            return Err(DomainError::Required { field: "reference" }.into());
        }
        let customer = self.customer(ctx, customer_id).await?.customer;
        let key = ctx.idempotency.as_ref().map(|i| i.key.clone()).unwrap_or_default();
        write_idempotent!(self, ctx, reply, |tx| {
            let tier = tx
                .list_tiers()
                .await?
                .into_iter()
                .find(|t| t.id == tier_id)
                .ok_or(AppError::UnknownReference { field: "tier_id", entity: "tier" })?;
            let terms = tier.paid.ok_or(DomainError::Malformed { field: "tier_id", expected: Expected::PaidTier })?;
            let at = now();
            let starts_at = tx.active_membership(customer.id, at).await?.map_or(at, |m| m.ends_at.max(at));
            let membership = PaidMembership {
                id: uuid::Uuid::now_v7(),
                customer_id: customer.id,
                tier_id,
                starts_at,
                ends_at: starts_at + Duration::days(terms.days),
                amount: terms.price,
                method,
                reference: reference.clone(),
                idempotency_key: format!("membership:{}:{key}", ctx.actor.staff_id),
                created_at: at,
            };
            if method == PaymentMethod::StoredValue {
                let debit =
                    Money::ZERO.checked_sub(terms.price).ok_or(DomainError::MoneyOverflow { field: "price" })?;
                let key = format!("membership:{}:pay", membership.id);
                crate::stored_value::apply(tx, ctx, customer.id, "membership", debit, None, key).await?;
            }
            tx.insert_membership(&membership).await?;
            Change::new("membership.bought", "customer", customer.id)
                .set("tier", &tier.code)
                .set("amount", &terms.price.fen())
                .set("method", &method.as_str())
                .record(tx, Some(ctx))
                .await?;
            assess_tier(tx, ctx, customer.id, at, false).await?;
            Ok(membership)
        })
    }

    pub async fn tiers(&self, ctx: &Ctx) -> AppResult<Vec<Tier>> {
        ctx.require(Permission::ReadCustomers)?;
        read_tx!(self, |tx| Ok(tx.list_tiers().await?))
    }

    /// The periodic review: every member gets the tier their last twelve months of spend (or a
    /// running paid term) holds, up or down, a page of members per transaction. Returns how many
    /// changed.
    pub async fn review_tiers(&self, at: Timestamp) -> AppResult<usize> {
        let ctx = Ctx::system();
        let mut changed = 0;
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list_customers(&ctx, Default::default(), cursor.as_deref(), Some(500)).await?;
            // A page per transaction: 40 commits for 20,000 members, not 20,000.
            changed += write_tx!(self, |tx| {
                let mut changed = 0;
                for customer in &page.items {
                    changed += usize::from(assess_tier(tx, &ctx, customer.id, at, true).await?.changed);
                }
                Ok(changed)
            })?;
            match page.next_cursor {
                Some(next) => cursor = Some(next.0),
                None => return Ok(changed),
            }
        }
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

/// Where a tier assessment left a customer.
pub(crate) struct Assessed {
    /// The tier they hold now.
    pub tier: Option<Tier>,
    pub changed: bool,
}

/// Moves a customer to the tier their spend in the year before `at` holds: only upwards unless
/// `review` (the periodic review also downgrades).
pub(crate) async fn assess_tier(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer_id: CustomerId,
    at: Timestamp,
    review: bool,
) -> AppResult<Assessed> {
    let tiers = tx.list_tiers().await?;
    let mut customer = tx.get_customer(customer_id).await?.ok_or(AppError::NotFound { entity: "customer" })?;
    let current = tiers.iter().find(|t| Some(t.id) == customer.tier_id);
    if tiers.is_empty() {
        return Ok(Assessed { tier: None, changed: false });
    }
    let spend = tx.customer_spend(customer_id, at - Duration::days(loyalty::TIER_WINDOW_DAYS)).await?;
    let bought = tx.active_membership(customer_id, at).await?.map(|m| m.tier_id);
    let held = loyalty::effective_tier(&tiers, spend, bought);
    let better = match (held, current) {
        (Some(held), Some(current)) => {
            held.spend_threshold > current.spend_threshold || (review && held.id != current.id)
        }
        (Some(_), None) => true,
        (None, Some(_)) => review,
        (None, None) => false,
    };
    if !better {
        return Ok(Assessed { tier: current.cloned(), changed: false });
    }
    let before = current.map(|t| t.code.clone()).unwrap_or_default();
    customer.tier_id = held.map(|t| t.id);
    customer.updated_at = now();
    tx.update_customer(&customer).await?;
    Change::new("customer.tier_changed", "customer", customer_id)
        .diff("tier", &before, &held.map(|t| t.code.clone()).unwrap_or_default())
        .set("spend", &spend.fen())
        .record(tx, Some(ctx))
        .await?;
    Ok(Assessed { tier: held.cloned(), changed: true })
}

/// Points for a paid order of a member, in the payment's transaction; the payment may first
/// lift the member to a higher tier, whose multiplier then applies.
pub(crate) async fn earn_for_order(tx: &mut dyn Tx, ctx: &Ctx, order: &Order) -> AppResult<()> {
    let Some(customer_id) = order.customer_id else { return Ok(()) };
    let tier = assess_tier(tx, ctx, customer_id, order.updated_at, false).await?.tier;
    let multiplier = tier.map_or(10_000, |t| t.points_multiplier_bp);
    let rule = PointsRule::default();
    let points = loyalty::earned_at(order.paid, rule, multiplier);
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
    let moved = tx.order_points(order.id).await?;
    let (earned, taken) = (moved.earned, moved.taken_back);
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

/// Spends `points` of the buyer's balance on a new order, in its transaction; refused when the
/// balance no longer holds them (another checkout spent them first).
pub(crate) async fn redeem_for_order(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, points: i64) -> AppResult<()> {
    let Some(customer_id) = order.customer_id.filter(|_| points > 0) else { return Ok(()) };
    let key = format!("order:{}:redeem", order.id);
    apply(tx, &entry(ctx, customer_id, "redeem", -points, Some(order), None, None, key)).await
}

/// Gives back the points spent on what an order has undone so far: all of them when it was
/// cancelled, otherwise the refunded units' share ([`loyalty::to_restore`]).
pub(crate) async fn restore_for_order(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, cancelled: bool) -> AppResult<()> {
    let Some(customer_id) = order.customer_id else { return Ok(()) };
    let moved = tx.order_points(order.id).await?;
    let lines: Vec<loyalty::PointsLine> = order
        .lines
        .iter()
        .map(|line| loyalty::PointsLine {
            points_value: Money::from_fen(
                -line
                    .breakdown
                    .adjustments
                    .iter()
                    .filter(|a| a.source == "points")
                    .map(|a| a.amount.fen())
                    .sum::<i64>(),
            ),
            quantity: line.breakdown.quantity,
            refunded_quantity: line.refunded_quantity,
        })
        .collect();
    let due = loyalty::to_restore(moved.redeemed, moved.restored, &lines, cancelled);
    if due == 0 {
        return Ok(());
    }
    let key = format!("order:{}:restore:{}", order.id, moved.restored + due);
    apply(tx, &entry(ctx, customer_id, "restore", due, Some(order), None, None, key)).await
}

/// Gives a customer `points` as a reward (a referral, an invite task) under `key`, once.
pub(crate) async fn reward(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer_id: CustomerId,
    points: i64,
    reason: &str,
    key: String,
) -> AppResult<()> {
    if points <= 0 || tx.points_entry_by_key(&key).await?.is_some() {
        return Ok(());
    }
    apply(tx, &entry(ctx, customer_id, "reward", points, None, Some(reason.to_owned()), None, key)).await
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
