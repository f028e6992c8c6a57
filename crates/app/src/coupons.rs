//! Use cases of coupons (优惠券): HQ defines templates; coupons reach wallets by claim, from
//! staff and guides, and by rule (the new-member gift at registration, the voucher after the
//! first paid order); checkouts use them; cancelled and refunded orders give them back by the
//! template's policy.
//!
//! Every movement of a coupon is a ledger entry under a unique key in the transaction of the
//! step that caused it: issuing claims the template's budgets and the customer's limit with
//! guarded counters, using is a compare-and-set from `available`, so a coupon raced by two
//! checkouts is used once and a retried request moves nothing twice.

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    catalog::Channel,
    ids::{CouponId, CouponTemplateId, CustomerId, OrderId, StoreId},
    marketing::{
        self, AutoIssue, Coupon, CouponStatus, CouponTemplate, IssueRefusal, IssueSource, TemplateRules,
        TemplateStatus, Undo, Validity,
    },
    order::Order,
    pricing::{self, CouponKind, PriceBreakdown, Scope},
    text,
    time::Timestamp,
};
use quanyu_store::{CouponEntry, CouponMismatch, Tx};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written, change::Change, customers::resolve, listing::Cursor,
    org::store_in_scope, write::now,
};

/// The most coupons one checkout may choose.
pub const MAX_COUPONS_PER_ORDER: usize = 10;

#[derive(Debug, Clone)]
pub struct CouponTemplateDraft {
    pub name: String,
    pub kind: CouponKind,
    /// 分; zero for 无门槛.
    pub threshold: i64,
    pub scope: Scope,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub valid_days: Option<i64>,
    /// `store`, `online`; empty for both.
    pub channels: Vec<String>,
    pub store_ids: Vec<StoreId>,
    pub budget_count: Option<i64>,
    /// 分 of face value.
    pub budget_value: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub claimable: bool,
    /// `new_member` or `first_order_paid`.
    pub auto_issue: Option<String>,
    pub restore_on_refund: bool,
}

impl CouponTemplateDraft {
    /// A template for every channel and store, valid 30 days from issue, with no budget or
    /// limit, issued by hand, restored on a full refund: change what differs with struct update.
    pub fn new(name: &str, kind: CouponKind, threshold: i64) -> CouponTemplateDraft {
        CouponTemplateDraft {
            name: name.to_owned(),
            kind,
            threshold,
            scope: Scope::All,
            valid_from: None,
            valid_until: None,
            valid_days: Some(30),
            channels: Vec::new(),
            store_ids: Vec::new(),
            budget_count: None,
            budget_value: None,
            per_customer_limit: None,
            claimable: false,
            auto_issue: None,
            restore_on_refund: true,
        }
    }
}

/// A coupon as its wallet shows it, with its template.
#[derive(Debug, Clone)]
pub struct WalletCoupon {
    pub coupon: Coupon,
    pub template: CouponTemplate,
}

impl App {
    /// Defines a coupon template (HQ).
    pub async fn create_coupon_template(
        &self,
        ctx: &Ctx,
        draft: CouponTemplateDraft,
        reply: Reply<'_, CouponTemplate>,
    ) -> AppResult<Written<CouponTemplate>> {
        ctx.require(Permission::ManageMarketing)?;
        let name = text::required("name", &draft.name, 64)?;
        let rules = TemplateRules::new(TemplateRules {
            kind: draft.kind,
            threshold: Money::from_fen(draft.threshold),
            scope: draft.scope,
            validity: Validity::new(draft.valid_from, draft.valid_until, draft.valid_days)?,
            channels: parse_channels(&draft.channels)?,
            stores: dedup(draft.store_ids),
            budget_count: draft.budget_count,
            budget_value: draft.budget_value.map(Money::from_fen),
            per_customer_limit: draft.per_customer_limit,
            claimable: draft.claimable,
            auto_issue: draft.auto_issue.as_deref().map(AutoIssue::parse).transpose()?,
            restore_on_refund: draft.restore_on_refund,
        })?;
        let at = now();
        let template = CouponTemplate {
            id: CouponTemplateId::new(),
            name,
            rules,
            status: TemplateStatus::Active,
            issued: 0,
            issued_value: Money::ZERO,
            created_by: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
            created_at: at,
            updated_at: at,
        };
        write_idempotent!(self, ctx, reply, |tx| {
            stores_exist(ctx, tx, &template.rules.stores).await?;
            tx.insert_coupon_template(&template).await?;
            Change::new("coupon_template.created", "coupon_template", template.id)
                .set("name", &template.name)
                .record(tx, Some(ctx))
                .await?;
            Ok(template)
        })
    }

    pub async fn coupon_templates(
        &self,
        ctx: &Ctx,
        order: quanyu_store::SortOrder<quanyu_store::CouponTemplateSort>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<CouponTemplate>> {
        ctx.require(Permission::ReadCatalog)?;
        let mut sorting = quanyu_store::Sorting::from(order);
        let page = Cursor::sorted_page(cursor, limit, &mut sorting)?;
        let rows = read_tx!(self, |tx| Ok(tx.list_coupon_templates(&sorting, page).await?))?;
        Ok(Listing::from_sorted_rows(rows, page, order, |t| t.id.as_uuid()))
    }

    pub async fn coupon_template(&self, ctx: &Ctx, id: CouponTemplateId) -> AppResult<CouponTemplate> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| template(tx, id).await)
    }

    /// Pauses, resumes or ends a template (HQ). Coupons already issued stay redeemable.
    pub async fn set_coupon_template_status(
        &self,
        ctx: &Ctx,
        id: CouponTemplateId,
        status: &str,
    ) -> AppResult<CouponTemplate> {
        ctx.require(Permission::ManageMarketing)?;
        let status = TemplateStatus::parse(status.trim())?;
        write_tx!(self, |tx| {
            let before = template(tx, id).await?;
            if before.status == status {
                return Ok(before);
            }
            if !tx.set_coupon_template_status(id, status, now()).await? {
                return Err(AppError::StatusChanged);
            }
            Change::new("coupon_template.status_changed", "coupon_template", id)
                .diff("status", &before.status.as_str(), &status.as_str())
                .record(tx, Some(ctx))
                .await?;
            template(tx, id).await
        })
    }

    /// Puts a coupon of the template in a customer's wallet: given by staff (`claim` false) or
    /// claimed at the customer's request (`claim` true, claimable templates only). Needs an
    /// idempotency key, so a retried tap issues one coupon.
    pub async fn issue_coupon(
        &self,
        ctx: &Ctx,
        template_id: CouponTemplateId,
        customer_id: CustomerId,
        claim: bool,
        reply: Reply<'_, WalletCoupon>,
    ) -> AppResult<Written<WalletCoupon>> {
        ctx.require(if claim { Permission::ManageCustomers } else { Permission::IssueCoupons })?;
        ctx.require_idempotency_key()?;
        let customer = self.customer(ctx, customer_id).await?.customer;
        let source = if claim { IssueSource::Claim } else { IssueSource::Staff };
        let key = ctx.idempotency.as_ref().map(|i| i.key.clone()).unwrap_or_default();
        write_idempotent!(self, ctx, reply, |tx| {
            let template = template(tx, template_id).await?;
            if !accepted_in_scope(ctx, &template) {
                return Err(AppError::OutOfScope);
            }
            let key = format!("{}:{}:{key}", source.as_str(), ctx.actor.staff_id);
            let coupon = issue_in(tx, ctx, &template, customer.id, source, key).await?;
            Ok(WalletCoupon { coupon, template })
        })
    }

    /// A customer's coupons, newest first, each with its template.
    pub async fn customer_coupons(
        &self,
        ctx: &Ctx,
        customer_id: CustomerId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<WalletCoupon>> {
        let customer = self.customer(ctx, customer_id).await?.customer;
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| {
            let coupons = tx.customer_coupons(customer.id, page).await?;
            with_templates(tx, coupons).await
        })?;
        Ok(Listing::from_rows(rows, page, |w| w.coupon.id.as_uuid()))
    }

    /// Withdraws an unused coupon (a coupon given by mistake), with a reason.
    pub async fn void_coupon(&self, ctx: &Ctx, id: CouponId, reason: Option<&str>) -> AppResult<WalletCoupon> {
        ctx.require(Permission::MergeCustomers)?;
        let reason = text::optional("reason", reason, 200)?.ok_or(DomainError::Required { field: "reason" })?;
        write_tx!(self, |tx| {
            let coupon = tx.get_coupon(id).await?.ok_or(AppError::NotFound { entity: "coupon" })?;
            resolve(tx, coupon.customer_id).await?;
            let entry = entry(ctx, id, "void", None, format!("void:{id}"));
            if !tx.move_coupon(CouponStatus::Available, CouponStatus::Voided, &entry).await? {
                return Err(AppError::CouponUnavailable { coupon_id: id });
            }
            Change::new("coupon.voided", "coupon", id).set("reason", &reason).record(tx, Some(ctx)).await?;
            let coupon = tx.get_coupon(id).await?.ok_or(AppError::NotFound { entity: "coupon" })?;
            let template = template(tx, coupon.template_id).await?;
            Ok(WalletCoupon { coupon, template })
        })
    }

    /// Gives the birthday templates' coupons, and their tier's birthday points, to the members
    /// whose birthday it is at `at` in the chain's time zone (29 February on the 28th in common
    /// years), once a year each.
    /// Returns how many members it looked at. Run daily by the sweeper; safe to rerun.
    pub async fn birthday_gifts(&self, at: Timestamp) -> AppResult<usize> {
        let ctx = Ctx::system();
        let (zone, has_templates, tiers) = read_tx!(self, |tx| {
            let zone = tx.get_chain().await?.map_or(quanyu_domain::time::TimeZone::SHANGHAI, |c| c.time_zone);
            Ok((zone, !tx.auto_issue_templates(AutoIssue::Birthday).await?.is_empty(), tx.list_tiers().await?))
        })?;
        if !has_templates && tiers.iter().all(|t| t.birthday_points == 0) {
            return Ok(0);
        }
        let date = at.with_timezone(&zone.tz()).date_naive();
        let occasion = format!(":{}", chrono::Datelike::year(&date));
        let mut seen = 0;
        for (month, day) in quanyu_domain::customer::birthdays_on(date) {
            let mut after = None;
            loop {
                let batch = read_tx!(self, |tx| Ok(tx.customers_born_on(month, day, after, 500).await?))?;
                for &customer in &batch {
                    write_tx!(self, |tx| {
                        auto_issue_for(tx, &ctx, AutoIssue::Birthday, customer, &occasion).await?;
                        // The tier's birthday right, in points.
                        let tier = tx.get_customer(customer).await?.and_then(|c| c.tier_id);
                        let points = tiers.iter().find(|t| Some(t.id) == tier).map_or(0, |t| t.birthday_points);
                        let key = format!("birthday:{customer}{occasion}:points");
                        crate::loyalty::reward(tx, &ctx, customer, points, "生日礼", key).await
                    })?;
                }
                seen += batch.len();
                match batch.last() {
                    Some(&last) if batch.len() == 500 => after = Some(last),
                    _ => break,
                }
            }
        }
        Ok(seen)
    }

    /// Coupons whose status disagrees with their ledger, and templates whose issued count
    /// disagrees with their coupons: empty when the books are sound.
    pub async fn reconcile_coupons(&self, ctx: &Ctx) -> AppResult<Vec<CouponMismatch>> {
        ctx.require(Permission::ReadAudit)?;
        read_tx!(self, |tx| Ok(tx.reconcile_coupons().await?))
    }
}

pub(crate) async fn template(tx: &mut dyn Tx, id: CouponTemplateId) -> AppResult<CouponTemplate> {
    tx.get_coupon_template(id).await?.ok_or(AppError::NotFound { entity: "coupon_template" })
}

pub(crate) async fn with_templates(tx: &mut dyn Tx, coupons: Vec<Coupon>) -> AppResult<Vec<WalletCoupon>> {
    let mut templates: Vec<CouponTemplate> = Vec::new();
    let mut wallet = Vec::with_capacity(coupons.len());
    for coupon in coupons {
        let known = templates.iter().find(|t| t.id == coupon.template_id).cloned();
        let template = match known {
            Some(template) => template,
            None => {
                let template = template(tx, coupon.template_id).await?;
                templates.push(template.clone());
                template
            }
        };
        wallet.push(WalletCoupon { coupon, template });
    }
    Ok(wallet)
}

/// Issues one coupon of `template` to `customer_id` under `key`: checks the template, claims
/// its budgets and the customer's limit, writes the coupon and its `issue` entry.
async fn issue_in(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    template: &CouponTemplate,
    customer_id: CustomerId,
    source: IssueSource,
    key: String,
) -> AppResult<Coupon> {
    let at = now();
    template.issuable(source, at).map_err(AppError::CouponIssue)?;
    if !tx.claim_template_budget(template.id, template.rules.face_value().unwrap_or(Money::ZERO)).await? {
        return Err(AppError::CouponIssue(IssueRefusal::BudgetSpent));
    }
    if !tx.claim_customer_limit(template.id, customer_id, template.rules.per_customer_limit).await? {
        return Err(AppError::CouponIssue(IssueRefusal::LimitReached));
    }
    let issued_by = Some(ctx.actor.staff_id).filter(|_| !ctx.is_system());
    let coupon = template.issue(customer_id, source, issued_by, at);
    tx.insert_coupon(&coupon, &entry(ctx, coupon.id, "issue", None, key)).await?;
    Change::new("coupon.issued", "coupon", coupon.id)
        .set("template", &template.id)
        .set("customer", &customer_id)
        .set("source", &source.as_str())
        .record(tx, Some(ctx))
        .await?;
    Ok(coupon)
}

/// Issues what the templates of `rule` give `customer_id`, once per template and customer.
/// A template whose budget is spent or whose limit the customer reached gives nothing: the
/// event that triggered it goes on.
pub(crate) async fn auto_issue(tx: &mut dyn Tx, ctx: &Ctx, rule: AutoIssue, customer_id: CustomerId) -> AppResult<()> {
    auto_issue_for(tx, ctx, rule, customer_id, "").await
}

/// [`auto_issue`] once per `occasion` (a birthday's year) rather than once ever.
async fn auto_issue_for(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    rule: AutoIssue,
    customer_id: CustomerId,
    occasion: &str,
) -> AppResult<()> {
    for template in tx.auto_issue_templates(rule).await? {
        let key = format!("auto:{}:{}:{customer_id}{occasion}", rule.as_str(), template.id);
        if tx.coupon_entry_exists(&key).await? {
            continue;
        }
        match issue_in(tx, ctx, &template, customer_id, rule.into(), key).await {
            Ok(_) => {}
            Err(AppError::CouponIssue(refusal)) => {
                tracing::info!(template = %template.id, customer = %customer_id, refusal = refusal.code(), "no automatic coupon");
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// What became of one keyed issue.
pub(crate) enum Issued {
    New,
    /// Issued under this key before.
    Already,
    Refused(IssueRefusal),
}

/// Issues one coupon of `template` to `customer_id` under `key`, once.
pub(crate) async fn issue_keyed(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    template: &CouponTemplate,
    customer_id: CustomerId,
    source: IssueSource,
    key: String,
) -> AppResult<Issued> {
    if tx.coupon_entry_exists(&key).await? {
        return Ok(Issued::Already);
    }
    match issue_in(tx, ctx, template, customer_id, source, key).await {
        Ok(_) => Ok(Issued::New),
        Err(AppError::CouponIssue(refusal)) => Ok(Issued::Refused(refusal)),
        Err(err) => Err(err),
    }
}

/// Gives `customer_id` a coupon of `template_id` as a reward under `key`, once: a template that
/// no longer issues (paused, budget spent) gives nothing, and the event goes on.
pub(crate) async fn reward(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    template_id: CouponTemplateId,
    customer_id: CustomerId,
    source: IssueSource,
    key: String,
) -> AppResult<()> {
    let template = template(tx, template_id).await?;
    if let Issued::Refused(refusal) = issue_keyed(tx, ctx, &template, customer_id, source, key).await? {
        tracing::info!(template = %template_id, customer = %customer_id, refusal = refusal.code(), "no reward coupon");
    }
    Ok(())
}

/// The coupons a checkout chose, for the price engine: each must be in `customer_id`'s wallet
/// and available (whether it is valid now, here and for this cart is the engine's to say).
pub(crate) async fn chosen(
    tx: &mut dyn Tx,
    customer_id: Option<CustomerId>,
    ids: &[CouponId],
) -> AppResult<Vec<(Coupon, pricing::Coupon)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ids.len() > MAX_COUPONS_PER_ORDER {
        return Err(DomainError::OutOfRange { field: "coupon_ids", min: 0, max: MAX_COUPONS_PER_ORDER as i64 }.into());
    }
    let customer_id = customer_id.ok_or(DomainError::Required { field: "customer_id" })?;
    let mut chosen = Vec::with_capacity(ids.len());
    for &id in ids {
        let coupon = tx.get_coupon(id).await?.ok_or(AppError::CouponUnavailable { coupon_id: id })?;
        if coupon.customer_id != customer_id || coupon.status != CouponStatus::Available {
            return Err(AppError::CouponUnavailable { coupon_id: id });
        }
        let template = template(tx, coupon.template_id).await?;
        let priced = template.to_pricing(&coupon);
        chosen.push((coupon, priced));
    }
    Ok(chosen)
}

/// The coupons an order used, for the price engine to price it again (an open bill that took
/// more items).
pub(crate) async fn used_by_order(tx: &mut dyn Tx, order_id: OrderId) -> AppResult<Vec<pricing::Coupon>> {
    let mut used = Vec::new();
    for coupon in tx.order_coupons(order_id).await? {
        if coupon.status == CouponStatus::Used {
            let template = template(tx, coupon.template_id).await?;
            used.push(template.to_pricing(&coupon));
        }
    }
    Ok(used)
}

/// Uses the chosen coupons on a new order: every one must have applied (an order takes no
/// coupon it would not use), and each moves from available to used or the order fails.
pub(crate) async fn use_on_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: OrderId,
    chosen: &[(Coupon, pricing::Coupon)],
    breakdown: &PriceBreakdown,
) -> AppResult<()> {
    if let Some(rejected) = breakdown.rejected_coupons.first() {
        return Err(AppError::CouponNotApplicable {
            coupon_id: CouponId::from_uuid(rejected.coupon_id),
            reason: rejected.reason,
        });
    }
    for (coupon, _) in chosen {
        let entry = entry(ctx, coupon.id, "use", Some(order_id), format!("order:{order_id}:use:{}", coupon.id));
        if !tx.move_coupon(CouponStatus::Available, CouponStatus::Used, &entry).await? {
            return Err(AppError::CouponUnavailable { coupon_id: coupon.id });
        }
        Change::new("coupon.used", "coupon", coupon.id).set("order", &order_id).record(tx, Some(ctx)).await?;
    }
    Ok(())
}

/// Gives an undone order's coupons back to the wallet as the templates' policy says.
pub(crate) async fn give_back(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, undo: Undo) -> AppResult<()> {
    for coupon in tx.order_coupons(order.id).await? {
        let template = template(tx, coupon.template_id).await?;
        if coupon.status != CouponStatus::Used || !marketing::restores(&template.rules, undo) {
            continue;
        }
        let entry =
            entry(ctx, coupon.id, "restore", Some(order.id), format!("order:{}:restore:{}", order.id, coupon.id));
        if tx.move_coupon(CouponStatus::Used, CouponStatus::Available, &entry).await? {
            Change::new("coupon.restored", "coupon", coupon.id).set("order", &order.id).record(tx, Some(ctx)).await?;
        }
    }
    Ok(())
}

fn entry(ctx: &Ctx, coupon_id: CouponId, kind: &str, order_id: Option<OrderId>, key: String) -> CouponEntry {
    CouponEntry {
        id: uuid::Uuid::now_v7(),
        coupon_id,
        kind: kind.to_owned(),
        order_id,
        idempotency_key: key,
        actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
        at: now(),
    }
}

pub(crate) fn parse_channels(raw: &[String]) -> AppResult<Vec<Channel>> {
    let mut channels = Vec::new();
    for channel in raw {
        let channel = Channel::parse(channel.trim())?;
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    Ok(channels)
}

pub(crate) fn dedup(mut stores: Vec<StoreId>) -> Vec<StoreId> {
    stores.sort();
    stores.dedup();
    stores
}

/// Checks that every store listed exists and that a caller below HQ lists only stores they
/// cover.
pub(crate) async fn stores_exist(ctx: &Ctx, tx: &mut dyn Tx, stores: &[StoreId]) -> AppResult<()> {
    for &store_id in stores {
        store_in_scope(ctx, tx, store_id).await?;
    }
    Ok(())
}

/// Staff below HQ give and share only coupons their own store accepts.
pub(crate) fn accepted_in_scope(ctx: &Ctx, template: &CouponTemplate) -> bool {
    match ctx.actor.scope() {
        quanyu_domain::org::Scope::Store(store_id) => {
            template.rules.stores.is_empty() || template.rules.stores.contains(&store_id)
        }
        _ => true,
    }
}
