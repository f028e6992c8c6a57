//! Use cases of referral (老带新) and distribution (分销): invite codes, links and QR payloads for
//! customers and staff; referrals at registration with their two-sided rewards; invite tasks
//! (任务宝); the attribution of orders to a promoter (and their parent) and to a guide; commission
//! accrued at payment, frozen through the return window, released by the sweeper, reversed per
//! refunded line; payout requests; guides' attributed sales. The rules are in
//! `quanyu_domain::referral`; every movement of money is a keyed ledger entry written in the
//! transaction of the step that caused it.

use chrono::Duration;
use quanyu_domain::{
    DomainError, Expected, Money,
    authz::Permission,
    customer::Customer,
    ids::{CouponTemplateId, CustomerId, PayoutId, PromoterId, StaffId},
    marketing::IssueSource,
    order::{Order, OrderChannel},
    org::Role,
    referral::{
        self, Buckets, CommissionRules, InviteTask, PayoutRequest, PayoutStatus, Promoter, PromoterOwner, Referral,
        ReferralProgram, SkuRate,
    },
    text,
    time::Timestamp,
};
use quanyu_store::{Attribution, CommissionEntry, CommissionMismatch, GuideSale, Tx, UniqueKey};
use rand::Rng as _;

use crate::{App, AppError, AppResult, Ctx, Listing, Reply, Written, change::Change, listing::Cursor, write::now};

const PROGRAM: &str = "referral_program";
const RULES: &str = "commission_rules";

/// A promoter's money and a page of its ledger, newest first.
#[derive(Debug, Clone)]
pub struct CommissionStatement {
    pub promoter: Promoter,
    pub balance: Buckets,
    pub entries: Listing<CommissionEntry>,
}

/// What a guide brought in: online sales attributed to them (net of refunds) and the orders
/// they came from since a date, and the customers bound to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuidePerformance {
    pub attributed_sales: Money,
    pub attributed_orders: i64,
    pub customers: i64,
}

#[derive(Debug, Clone, Default)]
pub struct CommissionRulesDraft {
    pub level1_bp: u32,
    pub level2_bp: u32,
    pub return_window_days: Option<i64>,
    pub sku_rates: Vec<SkuRate>,
}

#[derive(Debug, Clone)]
pub struct InviteTaskDraft {
    pub name: String,
    pub invites_needed: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reward_points: i64,
    pub reward_template_id: Option<CouponTemplateId>,
}

impl App {
    /// The invite profile (code, link, QR payload) of a customer or staff member, made on first
    /// ask. Staff see their own and, with `ReadStaff`, their scope's; customers as their profile
    /// is visible.
    pub async fn invite_profile(&self, ctx: &Ctx, owner: PromoterOwner) -> AppResult<Promoter> {
        let name = match owner {
            PromoterOwner::Customer(id) => {
                let customer = self.customer(ctx, id).await?.customer;
                return self.promoter_for(PromoterOwner::Customer(customer.id), customer_name(&customer)).await;
            }
            PromoterOwner::Staff(id) => {
                if id != ctx.actor.staff_id {
                    ctx.require(Permission::ReadStaff)?;
                }
                self.get_staff(ctx, id).await?.display_name
            }
        };
        self.promoter_for(owner, name).await
    }

    async fn promoter_for(&self, owner: PromoterOwner, name: String) -> AppResult<Promoter> {
        // A code taken by someone else (1 in 2⁴⁰) is drawn again.
        for _ in 0..3 {
            let made = write_tx!(self, |tx| {
                if let Some(promoter) = tx.promoter_of(owner).await? {
                    return Ok(promoter);
                }
                let at = now();
                let promoter = Promoter {
                    id: PromoterId::new(),
                    code: referral::invite_code(rand::rng().random()),
                    owner,
                    name: name.clone(),
                    distributor: false,
                    parent_id: None,
                    created_at: at,
                    updated_at: at,
                };
                tx.insert_promoter(&promoter).await?;
                Ok(promoter)
            });
            match made {
                Err(AppError::Duplicate(_)) => continue,
                other => return other,
            }
        }
        Err(AppError::Duplicate(UniqueKey::Other))
    }

    /// Makes a customer or staff member a distributor (HQ), recruited by the promoter with
    /// `parent_code` (who then earns level 2 on their orders).
    pub async fn make_distributor(
        &self,
        ctx: &Ctx,
        owner: PromoterOwner,
        parent_code: Option<&str>,
    ) -> AppResult<Promoter> {
        ctx.require(Permission::ManageMarketing)?;
        let parent_code = parent_code.map(referral::parse_invite_code).transpose()?;
        let mut promoter = self.invite_profile(ctx, owner).await?;
        write_tx!(self, |tx| {
            let parent = match &parent_code {
                Some(code) => Some(
                    tx.promoter_by_code(code)
                        .await?
                        .ok_or(AppError::UnknownReference { field: "parent_code", entity: "promoter" })?,
                ),
                None => None,
            };
            // A parent chain never loops back to the distributor.
            let mut ancestor = parent.clone();
            for _ in 0..64 {
                let Some(current) = ancestor else { break };
                if current.id == promoter.id {
                    return Err(
                        DomainError::Malformed { field: "parent_code", expected: Expected::NotSelfOrRecruit }.into()
                    );
                }
                ancestor = match current.parent_id {
                    Some(id) => tx.get_promoter(id).await?,
                    None => None,
                };
            }
            promoter.distributor = true;
            promoter.parent_id = parent.map(|p| p.id);
            promoter.updated_at = now();
            tx.update_promoter(&promoter).await?;
            Change::new("promoter.made_distributor", "promoter", promoter.id)
                .set("parent", &promoter.parent_id.map(|p| p.to_string()).unwrap_or_default())
                .record(tx, Some(ctx))
                .await?;
            Ok(promoter)
        })
    }

    /// Sets what referrals give the inviter and the invitee (HQ).
    pub async fn set_referral_program(&self, ctx: &Ctx, program: ReferralProgram) -> AppResult<ReferralProgram> {
        ctx.require(Permission::ManageMarketing)?;
        let program = ReferralProgram::new(program)?;
        write_tx!(self, |tx| {
            for template in [program.inviter_template_id, program.invitee_template_id].into_iter().flatten() {
                tx.get_coupon_template(template)
                    .await?
                    .ok_or(AppError::UnknownReference { field: "template_id", entity: "coupon_template" })?;
            }
            let value = serde_json::to_value(program).map_err(|e| AppError::Internal(e.to_string()))?;
            tx.put_setting(PROGRAM, &value, now()).await?;
            Change::new("referral_program.set", "setting", PROGRAM).record(tx, Some(ctx)).await?;
            Ok(program)
        })
    }

    pub async fn referral_program(&self, ctx: &Ctx) -> AppResult<ReferralProgram> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| program(tx).await)
    }

    /// Sets the commission rates and return window (HQ). Orders paid from now on earn by them.
    pub async fn set_commission_rules(&self, ctx: &Ctx, draft: CommissionRulesDraft) -> AppResult<CommissionRules> {
        ctx.require(Permission::ManageMarketing)?;
        let rules = CommissionRules::new(CommissionRules {
            level1_bp: draft.level1_bp,
            level2_bp: draft.level2_bp,
            return_window_days: draft.return_window_days.unwrap_or(CommissionRules::default().return_window_days),
            sku_rates: draft.sku_rates,
        })?;
        write_tx!(self, |tx| {
            let value = serde_json::to_value(&rules).map_err(|e| AppError::Internal(e.to_string()))?;
            tx.put_setting(RULES, &value, now()).await?;
            Change::new("commission_rules.set", "setting", RULES)
                .set("level1_bp", &rules.level1_bp)
                .set("level2_bp", &rules.level2_bp)
                .record(tx, Some(ctx))
                .await?;
            Ok(rules)
        })
    }

    pub async fn commission_rules(&self, ctx: &Ctx) -> AppResult<CommissionRules> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| rules(tx).await)
    }

    /// Starts an invite task (任务宝, HQ).
    pub async fn create_invite_task(
        &self,
        ctx: &Ctx,
        draft: InviteTaskDraft,
        reply: Reply<'_, InviteTask>,
    ) -> AppResult<Written<InviteTask>> {
        ctx.require(Permission::ManageMarketing)?;
        let task = InviteTask {
            id: uuid::Uuid::now_v7(),
            name: text::required("name", &draft.name, 64)?,
            invites_needed: draft.invites_needed,
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
            reward_points: draft.reward_points,
            reward_template_id: draft.reward_template_id,
            created_at: now(),
        };
        task.validate()?;
        write_idempotent!(self, ctx, reply, |tx| {
            if let Some(template) = task.reward_template_id {
                tx.get_coupon_template(template)
                    .await?
                    .ok_or(AppError::UnknownReference { field: "reward_template_id", entity: "coupon_template" })?;
            }
            tx.insert_invite_task(&task).await?;
            Change::new("invite_task.created", "invite_task", task.id)
                .set("name", &task.name)
                .record(tx, Some(ctx))
                .await?;
            Ok(task)
        })
    }

    /// A promoter's referrals, newest first.
    pub async fn referrals(
        &self,
        ctx: &Ctx,
        promoter_id: PromoterId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Referral>> {
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| {
            promoter_visible(ctx, tx, promoter_id).await?;
            Ok(tx.list_referrals(promoter_id, page).await?)
        })?;
        Ok(Listing::from_rows(rows, page, |r| r.id))
    }

    /// A promoter's commission: the four buckets and a page of the ledger.
    pub async fn commission_statement(
        &self,
        ctx: &Ctx,
        promoter_id: PromoterId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<CommissionStatement> {
        let page = Cursor::page(cursor, limit)?;
        let (promoter, balance, rows) = read_tx!(self, |tx| {
            let promoter = promoter_visible(ctx, tx, promoter_id).await?;
            Ok((promoter, tx.promoter_balance(promoter_id).await?, tx.list_commissions(promoter_id, page).await?))
        })?;
        Ok(CommissionStatement { promoter, balance, entries: Listing::from_rows(rows, page, |e| e.id) })
    }

    /// Asks to be paid `amount` of what is available. Staff for their own profile; HQ for anyone
    /// (a member distributor asks through the mall). Needs an idempotency key.
    pub async fn request_payout(
        &self,
        ctx: &Ctx,
        promoter_id: PromoterId,
        amount: i64,
        reply: Reply<'_, PayoutRequest>,
    ) -> AppResult<Written<PayoutRequest>> {
        ctx.require_idempotency_key()?;
        let amount = Money::price("amount", amount)?;
        write_idempotent!(self, ctx, reply, |tx| {
            let promoter = tx.get_promoter(promoter_id).await?.ok_or(AppError::NotFound { entity: "promoter" })?;
            if promoter.owner != PromoterOwner::Staff(ctx.actor.staff_id) {
                ctx.require(Permission::ManageMarketing)?;
            }
            referral::check_payout(tx.promoter_balance(promoter_id).await?, amount).map_err(AppError::Payout)?;
            let payout = PayoutRequest {
                id: PayoutId::new(),
                promoter_id,
                amount,
                status: PayoutStatus::Requested,
                note: None,
                requested_at: now(),
                settled_at: None,
            };
            tx.insert_payout(&payout).await?;
            let delta = Buckets { available: negative(amount), pending: amount, ..Buckets::default() };
            let entry = entry(promoter_id, "request_payout", delta, format!("payout:{}:request", payout.id));
            if tx.apply_commission(&CommissionEntry { payout_id: Some(payout.id), ..entry }, true).await?.is_none() {
                return Err(AppError::Payout(referral::PayoutRefusal::NotEnough { available: Money::ZERO }));
            }
            Change::new("payout.requested", "payout", payout.id)
                .set("amount", &amount.fen())
                .record(tx, Some(ctx))
                .await?;
            Ok(payout)
        })
    }

    /// Settles a payout request (HQ): paid (with the transfer's reference) or rejected (the money
    /// goes back to available).
    pub async fn settle_payout(
        &self,
        ctx: &Ctx,
        id: PayoutId,
        paid: bool,
        note: Option<&str>,
    ) -> AppResult<PayoutRequest> {
        ctx.require(Permission::ManageMarketing)?;
        let note = text::optional("note", note, 200)?;
        write_tx!(self, |tx| {
            let payout = tx.get_payout(id).await?.ok_or(AppError::NotFound { entity: "payout" })?;
            let to = if paid { PayoutStatus::Paid } else { PayoutStatus::Rejected };
            if !tx.settle_payout(id, to, note.as_deref(), now()).await? {
                return Err(AppError::StatusChanged);
            }
            let delta = if paid {
                Buckets { pending: negative(payout.amount), paid_out: payout.amount, ..Buckets::default() }
            } else {
                Buckets { pending: negative(payout.amount), available: payout.amount, ..Buckets::default() }
            };
            let kind = if paid { "pay_out" } else { "reject_payout" };
            let entry = entry(payout.promoter_id, kind, delta, format!("payout:{id}:settle"));
            if tx.apply_commission(&CommissionEntry { payout_id: Some(id), ..entry }, false).await?.is_none() {
                return Err(AppError::Internal(format!("payout {id} has no pending money")));
            }
            Change::new("payout.settled", "payout", id).set("status", &to.as_str()).record(tx, Some(ctx)).await?;
            tx.get_payout(id).await?.ok_or(AppError::NotFound { entity: "payout" })
        })
    }

    /// Releases the commission of orders whose return window ended by `at`; returns how many
    /// (order, promoter) pairs it released. Run by the sweeper; safe on several instances.
    pub async fn release_commissions(&self, at: Timestamp) -> AppResult<usize> {
        let due = read_tx!(self, |tx| Ok(tx.due_releases(at, 500).await?))?;
        let mut released = 0;
        for (order_id, promoter_id) in due {
            let done = write_tx!(self, |tx| {
                let key = format!("release:{order_id}:{promoter_id}");
                if tx.commission_entry_exists(&key).await? {
                    return Ok(false);
                }
                let net = tx
                    .order_commissions(order_id)
                    .await?
                    .iter()
                    .filter(|line| line.promoter_id == promoter_id)
                    .try_fold(Money::ZERO, |sum, line| {
                        line.accrued.checked_sub(line.reversed).and_then(|net| sum.checked_add(net))
                    })
                    .ok_or(DomainError::MoneyOverflow { field: "commission" })?;
                let delta = Buckets { frozen: negative(net), available: net, ..Buckets::default() };
                let entry = CommissionEntry { order_id: Some(order_id), ..entry(promoter_id, "release", delta, key) };
                Ok(tx.apply_commission(&entry, false).await?.is_some())
            })?;
            released += usize::from(done);
        }
        Ok(released)
    }

    /// Promoters whose balances differ from the sums of their ledger: empty when sound.
    pub async fn reconcile_commissions(&self, ctx: &Ctx) -> AppResult<Vec<CommissionMismatch>> {
        ctx.require(Permission::ReadAudit)?;
        read_tx!(self, |tx| Ok(tx.reconcile_commissions().await?))
    }

    /// A guide's attributed online sales since `since`, and the customers bound to them.
    pub async fn guide_performance(
        &self,
        ctx: &Ctx,
        guide_id: StaffId,
        since: Timestamp,
    ) -> AppResult<GuidePerformance> {
        if guide_id != ctx.actor.staff_id {
            ctx.require(Permission::ReadStaff)?;
        }
        let guide = self.get_staff(ctx, guide_id).await?;
        let (sales, orders, customers) = read_tx!(self, |tx| {
            let (sales, orders) = tx.guide_sales_since(guide.id, since).await?;
            Ok((sales, orders, tx.customers_of_guide(guide.id).await?))
        })?;
        Ok(GuidePerformance { attributed_sales: sales, attributed_orders: orders, customers })
    }
}

fn customer_name(customer: &Customer) -> String {
    customer.display_name.clone().unwrap_or_else(|| format!("会员{}", customer.ordinal))
}

fn negative(amount: Money) -> Money {
    Money::ZERO.checked_sub(amount).unwrap_or(Money::ZERO)
}

fn entry(promoter_id: PromoterId, kind: &str, delta: Buckets, key: String) -> CommissionEntry {
    CommissionEntry {
        id: uuid::Uuid::now_v7(),
        promoter_id,
        kind: kind.to_owned(),
        order_id: None,
        line_no: None,
        level: None,
        payout_id: None,
        delta,
        release_at: None,
        idempotency_key: key,
        at: now(),
    }
}

/// A promoter the caller may see: staff see their own; HQ marketing and staff who see the
/// owning customer see the rest.
async fn promoter_visible(ctx: &Ctx, tx: &mut dyn Tx, id: PromoterId) -> AppResult<Promoter> {
    let promoter = tx.get_promoter(id).await?.ok_or(AppError::NotFound { entity: "promoter" })?;
    match promoter.owner {
        PromoterOwner::Staff(staff) if staff == ctx.actor.staff_id => {}
        PromoterOwner::Staff(_) => ctx.require(Permission::ReadStaff)?,
        PromoterOwner::Customer(customer) => {
            let customer = crate::customers::resolve(tx, customer).await?;
            crate::customers::visible(ctx, tx, &customer).await?;
        }
    }
    Ok(promoter)
}

async fn program(tx: &mut dyn Tx) -> AppResult<ReferralProgram> {
    match tx.get_setting(PROGRAM).await? {
        Some(value) => serde_json::from_value(value).map_err(|e| AppError::Internal(format!("{PROGRAM}: {e}"))),
        None => Ok(ReferralProgram::default()),
    }
}

async fn rules(tx: &mut dyn Tx) -> AppResult<CommissionRules> {
    match tx.get_setting(RULES).await? {
        Some(value) => serde_json::from_value(value).map_err(|e| AppError::Internal(format!("{RULES}: {e}"))),
        None => Ok(CommissionRules::default()),
    }
}

/// Gives the owner of a promoter profile a reward, if it is a customer (staff take no points).
async fn reward(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    owner: PromoterOwner,
    points: i64,
    template: Option<CouponTemplateId>,
    source: IssueSource,
    key: &str,
) -> AppResult<()> {
    let PromoterOwner::Customer(customer) = owner else { return Ok(()) };
    let reason = if source == IssueSource::Task { "任务奖励" } else { "邀请奖励" };
    crate::loyalty::reward(tx, ctx, customer, points, reason, format!("{key}:points")).await?;
    if let Some(template) = template {
        crate::coupons::reward(tx, ctx, template, customer, source, format!("{key}:coupon")).await?;
    }
    Ok(())
}

/// A registration with an invite code: records the referral (counted or refused with why),
/// rewards the invitee, and rewards the inviter for any invite task this completes. Customers
/// who existed before are no referral and nothing is recorded.
pub(crate) async fn on_registered(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer: CustomerId,
    is_new: bool,
    invite_code: &str,
    device_id: Option<&str>,
) -> AppResult<()> {
    let promoter = tx
        .promoter_by_code(invite_code)
        .await?
        .ok_or(AppError::UnknownReference { field: "invite_code", entity: "promoter" })?;
    let device_seen = match device_id {
        Some(device) => tx.device_referred(device).await?,
        None => false,
    };
    let refusal = match referral::referral_verdict(promoter.owner, customer, is_new, device_seen) {
        Ok(()) => None,
        Err(referral::ReferralRefusal::NotNew) => return Ok(()),
        Err(refusal) => Some(refusal),
    };
    let at = now();
    let referral = Referral {
        id: uuid::Uuid::now_v7(),
        promoter_id: promoter.id,
        invitee_id: customer,
        device_id: device_id.map(str::to_owned),
        refusal,
        at,
    };
    tx.insert_referral(&referral).await?;
    Change::new("referral.recorded", "customer", customer)
        .set("promoter", &promoter.id)
        .set("refusal", &refusal.map_or("", |r| r.as_str()))
        .record(tx, Some(ctx))
        .await?;
    if refusal.is_some() {
        return Ok(());
    }
    let program = program(tx).await?;
    let key = format!("referral:{}:invitee", referral.id);
    reward(
        tx,
        ctx,
        PromoterOwner::Customer(customer),
        program.invitee_points,
        program.invitee_template_id,
        IssueSource::Referral,
        &key,
    )
    .await?;
    for task in tx.running_invite_tasks(at).await? {
        let invited = tx.counted_referrals(promoter.id, task.starts_at, task.ends_at).await?;
        if invited >= task.invites_needed && tx.claim_task_reward(task.id, promoter.id, at).await? {
            let key = format!("task:{}:{}", task.id, promoter.id);
            reward(tx, ctx, promoter.owner, task.reward_points, task.reward_template_id, IssueSource::Task, &key)
                .await?;
        }
    }
    Ok(())
}

/// Attributes a new order: to the promoter of `promoter_code` (a share link; never the buyer
/// themself), else to whoever invited the buyer; level 2 to that promoter's parent; an online
/// order also to a guide (the sharing guide, else the buyer's own).
pub(crate) async fn attribute(
    tx: &mut dyn Tx,
    order: &Order,
    promoter_code: Option<&str>,
    buyer: Option<&Customer>,
) -> AppResult<()> {
    let linked = match promoter_code {
        Some(code) => Some(
            tx.promoter_by_code(code)
                .await?
                .ok_or(AppError::UnknownReference { field: "promoter_code", entity: "promoter" })?,
        ),
        None => None,
    };
    let linked = linked.filter(|p| buyer.is_none_or(|b| p.owner != PromoterOwner::Customer(b.id)));
    let (promoter, source) = match (linked, buyer) {
        (Some(promoter), _) => (Some(promoter), "link"),
        (None, Some(buyer)) => match tx.referral_of(buyer.id).await?.filter(|r| r.refusal.is_none()) {
            Some(referral) => (tx.get_promoter(referral.promoter_id).await?, "binding"),
            None => (None, "binding"),
        },
        (None, None) => (None, "binding"),
    };
    let online = matches!(order.channel, OrderChannel::Delivery | OrderChannel::Pickup);
    let sharing_guide = match promoter.as_ref().map(|p| p.owner) {
        Some(PromoterOwner::Staff(staff)) if source == "link" => {
            tx.get_staff(staff).await?.filter(|s| s.assignment.role() == Role::Guide).map(|s| s.id)
        }
        _ => None,
    };
    let guide_id = if online { sharing_guide.or(buyer.and_then(|b| b.guide_id)) } else { None };
    if promoter.is_none() && guide_id.is_none() {
        return Ok(());
    }
    tx.insert_attribution(&Attribution {
        order_id: order.id,
        promoter_id: promoter.as_ref().map(|p| p.id),
        parent_id: promoter.as_ref().and_then(|p| p.parent_id),
        guide_id,
        source: source.to_owned(),
    })
    .await?;
    Ok(())
}

/// At payment: the inviter's reward for the buyer's first paid order, commission for the
/// attributed distributors (frozen until the return window ends), the guide's sale.
pub(crate) async fn on_paid(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, first_paid: bool) -> AppResult<()> {
    if let (Some(buyer), true) = (order.customer_id, first_paid)
        && let Some(referral) = tx.referral_of(buyer).await?.filter(|r| r.refusal.is_none())
        && let Some(inviter) = tx.get_promoter(referral.promoter_id).await?
    {
        let program = program(tx).await?;
        let key = format!("referral:{}:inviter", referral.id);
        reward(
            tx,
            ctx,
            inviter.owner,
            program.inviter_points,
            program.inviter_template_id,
            IssueSource::Referral,
            &key,
        )
        .await?;
    }
    let Some(attribution) = tx.attribution_of(order.id).await? else { return Ok(()) };
    let rules = rules(tx).await?;
    let release_at = order.updated_at + Duration::days(rules.return_window_days);
    for (level, promoter_id) in [(1u8, attribution.promoter_id), (2, attribution.parent_id)] {
        let Some(promoter) = (match promoter_id {
            Some(id) => tx.get_promoter(id).await?.filter(|p| p.distributor),
            None => None,
        }) else {
            continue;
        };
        for line in &order.lines {
            let earned = referral::commission(line.breakdown.amount, rules.rate(line.sku_id, level));
            if earned == Money::ZERO {
                continue;
            }
            let key = format!("order:{}:accrue:{}:{}:{level}", order.id, promoter.id, line.line_no);
            let entry = CommissionEntry {
                order_id: Some(order.id),
                line_no: Some(line.line_no),
                level: Some(level),
                release_at: Some(release_at),
                ..entry(promoter.id, "accrue", Buckets { frozen: earned, ..Buckets::default() }, key)
            };
            if !tx.commission_entry_exists(&entry.idempotency_key).await? {
                tx.apply_commission(&entry, false).await?;
            }
        }
    }
    if let Some(guide_id) = attribution.guide_id {
        let goods = Money::checked_sum(order.lines.iter().map(|l| l.breakdown.amount))
            .ok_or(DomainError::MoneyOverflow { field: "lines" })?;
        guide_sale(tx, guide_id, order, "sale", goods, format!("order:{}:guide_sale", order.id)).await?;
    }
    Ok(())
}

/// After a refund (`refunded_goods` of goods this time, under `key`) or a cancellation of a
/// paid order: reverses the refunded units' share of each line's commission (from frozen, or
/// from available once released) and takes the refund off the guide's sales.
pub(crate) async fn on_refunded(
    tx: &mut dyn Tx,
    order: &Order,
    cancelled: bool,
    refunded_goods: Money,
    key: &str,
) -> AppResult<()> {
    for line in tx.order_commissions(order.id).await? {
        let Some(order_line) = order.lines.iter().find(|l| l.line_no == line.line_no) else { continue };
        let quantity = order_line.breakdown.quantity;
        let refunded = if cancelled { quantity } else { order_line.refunded_quantity };
        let due = referral::to_reverse(line.accrued, line.reversed, quantity, refunded);
        if due == Money::ZERO {
            continue;
        }
        let released = tx.commission_entry_exists(&format!("release:{}:{}", order.id, line.promoter_id)).await?;
        let delta = if released {
            Buckets { available: negative(due), ..Buckets::default() }
        } else {
            Buckets { frozen: negative(due), ..Buckets::default() }
        };
        let reversed = line.reversed.checked_add(due).ok_or(DomainError::MoneyOverflow { field: "commission" })?;
        let entry_key = format!(
            "order:{}:reverse:{}:{}:{}:{}",
            order.id,
            line.promoter_id,
            line.line_no,
            line.level,
            reversed.fen()
        );
        let entry = CommissionEntry {
            order_id: Some(order.id),
            line_no: Some(line.line_no),
            level: Some(line.level),
            ..entry(line.promoter_id, "reverse", delta, entry_key)
        };
        if tx.apply_commission(&entry, false).await?.is_none() {
            return Err(AppError::Internal(format!("commission of order {} cannot be reversed", order.id)));
        }
    }
    if let Some(guide_id) = tx.attribution_of(order.id).await?.and_then(|a| a.guide_id)
        && refunded_goods > Money::ZERO
    {
        let key = format!("order:{}:guide_refund:{key}", order.id);
        guide_sale(tx, guide_id, order, "refund", negative(refunded_goods), key).await?;
    }
    Ok(())
}

async fn guide_sale(
    tx: &mut dyn Tx,
    guide_id: StaffId,
    order: &Order,
    kind: &str,
    amount: Money,
    key: String,
) -> AppResult<()> {
    tx.append_guide_sale(&GuideSale {
        id: uuid::Uuid::now_v7(),
        guide_id,
        order_id: order.id,
        kind: kind.to_owned(),
        amount,
        idempotency_key: key,
        at: now(),
    })
    .await?;
    Ok(())
}

impl App {
    /// Promoters with their commission balances (HQ): every customer, guide and distributor
    /// with an invite code, or only the distributors; in creation order, by name or by a
    /// balance bucket.
    pub async fn promoters(
        &self,
        ctx: &Ctx,
        distributors_only: bool,
        order: quanyu_store::SortOrder<quanyu_store::PromoterSort>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<(Promoter, Buckets)>> {
        ctx.require(Permission::ManageMarketing)?;
        let mut sorting = quanyu_store::Sorting::from(order);
        let page = Cursor::sorted_page(cursor, limit, &mut sorting)?;
        let rows = read_tx!(self, |tx| Ok(tx.list_promoters(distributors_only, &sorting, page).await?))?;
        Ok(Listing::from_sorted_rows(rows, page, order, |(p, _)| p.id.as_uuid()))
    }

    /// Payout requests, newest first, of one status (`requested`, `paid`, `rejected`) or all
    /// (HQ), each with the promoter who asked (read once per promoter on the page).
    pub async fn payouts(
        &self,
        ctx: &Ctx,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<(PayoutRequest, Promoter)>> {
        ctx.require(Permission::ManageMarketing)?;
        let status = status.map(PayoutStatus::parse).transpose()?;
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| {
            let payouts = tx.list_payouts(status, page).await?;
            let mut ids: Vec<PromoterId> = payouts.iter().map(|p| p.promoter_id).collect();
            ids.sort_by_key(|id| id.as_uuid());
            ids.dedup();
            let promoters: std::collections::HashMap<PromoterId, Promoter> =
                tx.promoters_by_ids(&ids).await?.into_iter().map(|p| (p.id, p)).collect();
            payouts
                .into_iter()
                .map(|payout| {
                    let promoter = promoters.get(&payout.promoter_id).cloned();
                    Ok((payout, promoter.ok_or(AppError::NotFound { entity: "promoter" })?))
                })
                .collect::<AppResult<Vec<_>>>()
        })?;
        Ok(Listing::from_rows(rows, page, |(p, _)| p.id.as_uuid()))
    }
}
