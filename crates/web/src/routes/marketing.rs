//! Marketing: coupon templates, coupons in customers' wallets (issued by staff, claimed, voided),
//! promotions, and the coupon books' reconciliation.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{CouponTemplateDraft, Ctx, PromotionDraft, WalletCoupon};
use quanyu_domain::{
    DomainError, Money,
    ids::{CategoryId, CouponId, CouponTemplateId, CustomerId, PromotionId, SkuId, StoreId},
    marketing::{CouponTemplate, StoredPromotion, Validity},
    pricing::{AmountOffTier, BundleItem, CouponKind, PercentOffTier, PromotionKind, Scope, SkuPrice, coupon_rule},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody},
};

/// Which lines a rule covers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeDto {
    /// all (全场), categories (with their subcategories) or skus.
    #[serde(rename = "type")]
    kind: String,
    /// Category or SKU ids; empty for all.
    #[serde(default)]
    ids: Vec<Uuid>,
}

impl ScopeDto {
    fn into_scope(self) -> Result<Scope, ApiError> {
        Ok(match self.kind.as_str() {
            "all" => Scope::All,
            "categories" => Scope::Categories(self.ids.into_iter().map(CategoryId::from_uuid).collect()),
            "skus" => Scope::Skus(self.ids.into_iter().map(SkuId::from_uuid).collect()),
            other => return Err(DomainError::UnknownValue { field: "scope.type", value: other.to_owned() }.into()),
        })
    }

    fn from_scope(scope: &Scope) -> ScopeDto {
        let (kind, ids) = match scope {
            Scope::All => ("all", Vec::new()),
            Scope::Categories(ids) => ("categories", ids.iter().map(|id| id.as_uuid()).collect()),
            Scope::Skus(ids) => ("skus", ids.iter().map(|id| id.as_uuid()).collect()),
        };
        ScopeDto { kind: kind.to_owned(), ids }
    }
}

fn scope_or_all(scope: Option<ScopeDto>) -> Result<Scope, ApiError> {
    scope.map_or(Ok(Scope::All), ScopeDto::into_scope)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponTemplateIn {
    /// What customers see, e.g. 新人专享满59减10.
    name: String,
    /// amount_off (满减券; 无门槛 with threshold 0), percent_off (折扣券) or delivery (运费券).
    #[serde(rename = "type")]
    kind: String,
    /// 分 off: required for amount_off; for delivery, omit to take the whole fee off.
    amount: Option<i64>,
    /// percent_off: what the customer pays in basis points (8800 is 88折).
    pay_bp: Option<u32>,
    /// percent_off: the most it takes off (分).
    cap: Option<i64>,
    /// What the lines in scope must come to (分); 0 for no threshold.
    #[serde(default)]
    threshold: i64,
    /// Default: all.
    scope: Option<ScopeDto>,
    /// A fixed window: both valid_from and valid_until; or valid_days after issue.
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    valid_days: Option<i64>,
    /// store, online; empty for both.
    #[serde(default)]
    channels: Vec<String>,
    /// Empty for every store.
    #[serde(default)]
    store_ids: Vec<Uuid>,
    budget_count: Option<i64>,
    /// Face value that may be issued in all (分); a percent_off coupon then needs a cap.
    budget_value: Option<i64>,
    per_customer_limit: Option<i64>,
    /// Customers may claim it themselves.
    #[serde(default)]
    claimable: bool,
    /// new_member (新人有礼), first_order_paid (复购券) or birthday (生日礼, once a year).
    auto_issue: Option<String>,
    /// A coupon used on an order refunded in full comes back (default true). An order cancelled
    /// before it is handed over always gives its coupons back.
    restore_on_refund: Option<bool>,
}

fn coupon_kind(kind: &str, amount: Option<i64>, pay_bp: Option<u32>, cap: Option<i64>) -> Result<CouponKind, ApiError> {
    Ok(match kind {
        "amount_off" => {
            CouponKind::AmountOff { amount: Money::from_fen(amount.ok_or(DomainError::Required { field: "amount" })?) }
        }
        "percent_off" => CouponKind::PercentOff {
            pay_bp: pay_bp.ok_or(DomainError::Required { field: "pay_bp" })?,
            cap: cap.map(Money::from_fen),
        },
        "delivery" => CouponKind::Delivery { amount: amount.map(Money::from_fen) },
        other => return Err(DomainError::UnknownValue { field: "type", value: other.to_owned() }.into()),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponTemplateOut {
    id: Uuid,
    name: String,
    /// amount_off, percent_off or delivery.
    #[serde(rename = "type")]
    kind: String,
    amount: Option<i64>,
    pay_bp: Option<u32>,
    cap: Option<i64>,
    threshold: i64,
    /// In words: 满59减10, 无门槛减5, 满100打8折，最高减20.
    rule: String,
    scope: ScopeDto,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    valid_days: Option<i64>,
    channels: Vec<String>,
    store_ids: Vec<Uuid>,
    budget_count: Option<i64>,
    budget_value: Option<i64>,
    per_customer_limit: Option<i64>,
    claimable: bool,
    auto_issue: Option<String>,
    restore_on_refund: bool,
    /// active, paused or ended.
    status: String,
    issued: i64,
    /// Face value issued so far (分).
    issued_value: i64,
    created_at: DateTime<Utc>,
}

fn kind_parts(kind: CouponKind) -> (&'static str, Option<i64>, Option<u32>, Option<i64>) {
    match kind {
        CouponKind::AmountOff { amount } => ("amount_off", Some(amount.fen()), None, None),
        CouponKind::PercentOff { pay_bp, cap } => ("percent_off", None, Some(pay_bp), cap.map(Money::fen)),
        CouponKind::Delivery { amount } => ("delivery", amount.map(Money::fen), None, None),
    }
}

impl From<&CouponTemplate> for CouponTemplateOut {
    fn from(t: &CouponTemplate) -> Self {
        let r = &t.rules;
        let (kind, amount, pay_bp, cap) = kind_parts(r.kind);
        let (valid_from, valid_until, valid_days) = match r.validity {
            Validity::Fixed { starts_at, ends_at } => (Some(starts_at), Some(ends_at), None),
            Validity::DaysAfterIssue { days } => (None, None, Some(days)),
        };
        CouponTemplateOut {
            id: t.id.as_uuid(),
            name: t.name.clone(),
            kind: kind.to_owned(),
            amount,
            pay_bp,
            cap,
            threshold: r.threshold.fen(),
            rule: coupon_rule(r.kind, r.threshold),
            scope: ScopeDto::from_scope(&r.scope),
            valid_from,
            valid_until,
            valid_days,
            channels: r.channels.iter().map(|c| c.as_str().to_owned()).collect(),
            store_ids: r.stores.iter().map(|s| s.as_uuid()).collect(),
            budget_count: r.budget_count,
            budget_value: r.budget_value.map(Money::fen),
            per_customer_limit: r.per_customer_limit,
            claimable: r.claimable,
            auto_issue: r.auto_issue.map(|a| a.as_str().to_owned()),
            restore_on_refund: r.restore_on_refund,
            status: t.status.as_str().to_owned(),
            issued: t.issued,
            issued_value: t.issued_value.fen(),
            created_at: t.created_at,
        }
    }
}

/// Defines a coupon template (HQ).
#[utoipa::path(post, path = "/api/v1/coupon-templates", tag = "marketing", request_body = CouponTemplateIn,
    responses((status = 201, body = CouponTemplateOut)))]
pub async fn create_coupon_template(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<CouponTemplateIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = CouponTemplateDraft {
        name: input.name,
        kind: coupon_kind(&input.kind, input.amount, input.pay_bp, input.cap)?,
        threshold: input.threshold,
        scope: scope_or_all(input.scope)?,
        valid_from: input.valid_from,
        valid_until: input.valid_until,
        valid_days: input.valid_days,
        channels: input.channels,
        store_ids: input.store_ids.into_iter().map(StoreId::from_uuid).collect(),
        budget_count: input.budget_count,
        budget_value: input.budget_value,
        per_customer_limit: input.per_customer_limit,
        claimable: input.claimable,
        auto_issue: input.auto_issue,
        restore_on_refund: input.restore_on_refund.unwrap_or(true),
    };
    let reply = json_reply(|t: &CouponTemplate| CouponTemplateOut::from(t));
    Ok(created(state.app.create_coupon_template(&ctx, draft, &reply).await?, &reply))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SortedPageQuery {
    /// Coupon templates: `name` or `issued`; promotions: `name` or `priority`; `created_at` (the
    /// default) for both; `-` first for descending.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/coupon-templates", tag = "marketing", params(SortedPageQuery),
    responses((status = 200, body = ListOut<CouponTemplateOut>)))]
pub async fn list_coupon_templates(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(page): ApiQuery<SortedPageQuery>,
) -> Result<Response, ApiError> {
    let order = quanyu_app::parse_sort(page.sort.as_deref())?;
    let listing = state.app.coupon_templates(&ctx, order, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |t| CouponTemplateOut::from(&t))))
}

#[utoipa::path(get, path = "/api/v1/coupon-templates/{id}", tag = "marketing",
    responses((status = 200, body = CouponTemplateOut)))]
pub async fn get_coupon_template(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(CouponTemplateOut::from(&state.app.coupon_template(&ctx, CouponTemplateId::from_uuid(id)).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateStatusIn {
    /// active, paused or ended (final).
    status: String,
}

/// Pauses, resumes or ends a template (HQ); coupons already issued stay redeemable.
#[utoipa::path(put, path = "/api/v1/coupon-templates/{id}/status", tag = "marketing", request_body = TemplateStatusIn,
    responses((status = 200, body = CouponTemplateOut)))]
pub async fn set_coupon_template_status(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<TemplateStatusIn>,
) -> Result<Response, ApiError> {
    let template = state.app.set_coupon_template_status(&ctx, CouponTemplateId::from_uuid(id), &input.status).await?;
    Ok(ok(CouponTemplateOut::from(&template)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueIn {
    customer_id: Uuid,
    /// The customer asked for it (领券; claimable templates only) rather than staff giving it.
    #[serde(default)]
    claim: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponOut {
    id: Uuid,
    template_id: Uuid,
    customer_id: Uuid,
    name: String,
    /// In words: 满59减10.
    rule: String,
    /// usable, not_yet_valid, expired, used or voided.
    state: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    /// claim, staff, new_member, first_order_paid, referral, task or birthday.
    source: String,
    order_id: Option<Uuid>,
    used_at: Option<DateTime<Utc>>,
    issued_at: DateTime<Utc>,
}

impl From<&WalletCoupon> for CouponOut {
    fn from(w: &WalletCoupon) -> Self {
        let c = &w.coupon;
        CouponOut {
            id: c.id.as_uuid(),
            template_id: c.template_id.as_uuid(),
            customer_id: c.customer_id.as_uuid(),
            name: w.template.name.clone(),
            rule: coupon_rule(w.template.rules.kind, w.template.rules.threshold),
            state: c.state_at(Utc::now()).as_str().to_owned(),
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            source: c.source.as_str().to_owned(),
            order_id: c.order_id.map(|o| o.as_uuid()),
            used_at: c.used_at,
            issued_at: c.issued_at,
        }
    }
}

/// Puts a coupon of the template in a customer's wallet: given by staff or a guide, or claimed
/// at the customer's request. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/coupon-templates/{id}/coupons", tag = "marketing", request_body = IssueIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = CouponOut),
        (status = 409, description = "coupon_budget_spent, coupon_limit_reached, coupon_not_active, coupon_not_claimable")))]
pub async fn issue_coupon(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<IssueIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let reply = json_reply(|w: &WalletCoupon| CouponOut::from(w));
    let written = state
        .app
        .issue_coupon(
            &ctx,
            CouponTemplateId::from_uuid(id),
            CustomerId::from_uuid(input.customer_id),
            input.claim,
            &reply,
        )
        .await?;
    Ok(created(written, &reply))
}

/// A customer's coupons, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/coupons", tag = "marketing", params(PageQuery),
    responses((status = 200, body = ListOut<CouponOut>)))]
pub async fn customer_coupons(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let listing =
        state.app.customer_coupons(&ctx, CustomerId::from_uuid(id), page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |w| CouponOut::from(&w))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidIn {
    reason: String,
}

/// Withdraws an unused coupon, with a reason (store managers and above).
#[utoipa::path(post, path = "/api/v1/coupons/{id}/void", tag = "marketing", request_body = VoidIn,
    responses((status = 200, body = CouponOut), (status = 409, description = "coupon_unavailable")))]
pub async fn void_coupon(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<VoidIn>,
) -> Result<Response, ApiError> {
    let coupon = state.app.void_coupon(&ctx, CouponId::from_uuid(id), Some(&input.reason)).await?;
    Ok(ok(CouponOut::from(&coupon)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponMismatchOut {
    /// coupon or template.
    what: String,
    id: Uuid,
    recorded: String,
    from_ledger: String,
}

/// Coupons whose status disagrees with their ledger and templates whose issued count disagrees
/// with their coupons; empty when the books are sound.
#[utoipa::path(get, path = "/api/v1/coupons/reconcile", tag = "marketing",
    responses((status = 200, body = Vec<CouponMismatchOut>)))]
pub async fn reconcile_coupons(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    let mismatches = state.app.reconcile_coupons(&ctx).await?;
    Ok(ok(mismatches
        .into_iter()
        .map(|m| CouponMismatchOut {
            what: m.what.to_owned(),
            id: m.id,
            recorded: m.recorded,
            from_ledger: m.from_ledger,
        })
        .collect::<Vec<_>>()))
}

/// 满 threshold 减 amount, or 满 threshold 打 pay_bp 折.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierDto {
    threshold: i64,
    amount: Option<i64>,
    pay_bp: Option<u32>,
}

/// A SKU with a price (limited-time price) or a quantity (bundle).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuItemDto {
    sku_id: Uuid,
    unit_price: Option<i64>,
    quantity: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionIn {
    name: String,
    /// limited_time_price, buy_get_free, second_item, bundle, amount_off_ladder or
    /// percent_off_ladder.
    #[serde(rename = "type")]
    kind: String,
    /// limited_time_price: SKUs with unit_price; bundle: SKUs with quantity.
    #[serde(default)]
    items: Vec<SkuItemDto>,
    /// buy_get_free: buy N, get M free.
    buy: Option<u32>,
    free: Option<u32>,
    /// second_item: what the second unit costs (5000 is half price); percent ladder tiers too.
    pay_bp: Option<u32>,
    /// bundle: the price of one complete set (分).
    price: Option<i64>,
    /// Ladders: amount_off tiers take amount, percent_off tiers pay_bp.
    #[serde(default)]
    tiers: Vec<TierDto>,
    /// amount_off_ladder: the tier's amount once per whole threshold (每满减).
    #[serde(default)]
    per_each: bool,
    #[serde(default)]
    priority: i32,
    /// 不与其他活动同享.
    #[serde(default)]
    exclusive: bool,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    /// everyone (default), members or first_order.
    audience: Option<String>,
    scope: Option<ScopeDto>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    store_ids: Vec<Uuid>,
}

fn promotion_kind(input: &PromotionIn) -> Result<PromotionKind, ApiError> {
    let required = |field| ApiError::from(DomainError::Required { field });
    let amount_tier = |t: &TierDto| -> Result<AmountOffTier, ApiError> {
        Ok(AmountOffTier {
            threshold: Money::from_fen(t.threshold),
            amount: Money::from_fen(t.amount.ok_or_else(|| required("tiers.amount"))?),
        })
    };
    let percent_tier = |t: &TierDto| -> Result<PercentOffTier, ApiError> {
        Ok(PercentOffTier {
            threshold: Money::from_fen(t.threshold),
            pay_bp: t.pay_bp.ok_or_else(|| required("tiers.pay_bp"))?,
        })
    };
    Ok(match input.kind.as_str() {
        "limited_time_price" => PromotionKind::LimitedTimePrice {
            prices: input
                .items
                .iter()
                .map(|i| {
                    Ok(SkuPrice {
                        sku_id: SkuId::from_uuid(i.sku_id),
                        unit_price: Money::from_fen(i.unit_price.ok_or_else(|| required("items.unit_price"))?),
                    })
                })
                .collect::<Result<_, ApiError>>()?,
        },
        "buy_get_free" => PromotionKind::BuyGetFree {
            buy: input.buy.ok_or_else(|| required("buy"))?,
            free: input.free.ok_or_else(|| required("free"))?,
        },
        "second_item" => PromotionKind::SecondItem { pay_bp: input.pay_bp.ok_or_else(|| required("pay_bp"))? },
        "bundle" => PromotionKind::Bundle {
            items: input
                .items
                .iter()
                .map(|i| {
                    Ok(BundleItem {
                        sku_id: SkuId::from_uuid(i.sku_id),
                        quantity: i.quantity.ok_or_else(|| required("items.quantity"))?,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            price: Money::from_fen(input.price.ok_or_else(|| required("price"))?),
        },
        "amount_off_ladder" => PromotionKind::AmountOffLadder {
            tiers: input.tiers.iter().map(amount_tier).collect::<Result<_, _>>()?,
            per_each: input.per_each,
        },
        "percent_off_ladder" => {
            PromotionKind::PercentOffLadder { tiers: input.tiers.iter().map(percent_tier).collect::<Result<_, _>>()? }
        }
        other => return Err(DomainError::UnknownValue { field: "type", value: other.to_owned() }.into()),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionOut {
    id: Uuid,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    items: Vec<SkuItemDto>,
    buy: Option<u32>,
    free: Option<u32>,
    pay_bp: Option<u32>,
    price: Option<i64>,
    tiers: Vec<TierDto>,
    per_each: bool,
    priority: i32,
    exclusive: bool,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    audience: String,
    scope: ScopeDto,
    channels: Vec<String>,
    store_ids: Vec<Uuid>,
    /// Ended early.
    ended: bool,
    created_at: DateTime<Utc>,
}

impl From<&StoredPromotion> for PromotionOut {
    fn from(p: &StoredPromotion) -> Self {
        let mut out = PromotionOut {
            id: p.id.as_uuid(),
            name: p.name.clone(),
            kind: String::new(),
            items: Vec::new(),
            buy: None,
            free: None,
            pay_bp: None,
            price: None,
            tiers: Vec::new(),
            per_each: false,
            priority: p.priority,
            exclusive: p.exclusive,
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            audience: p.audience.as_str().to_owned(),
            scope: ScopeDto::from_scope(&p.scope),
            channels: p.channels.iter().map(|c| c.as_str().to_owned()).collect(),
            store_ids: p.stores.iter().map(|s| s.as_uuid()).collect(),
            ended: p.ended,
            created_at: p.created_at,
        };
        let item = |sku_id: SkuId, unit_price: Option<i64>, quantity: Option<u32>| SkuItemDto {
            sku_id: sku_id.as_uuid(),
            unit_price,
            quantity,
        };
        out.kind = match &p.kind {
            PromotionKind::LimitedTimePrice { prices } => {
                out.items = prices.iter().map(|s| item(s.sku_id, Some(s.unit_price.fen()), None)).collect();
                "limited_time_price"
            }
            PromotionKind::BuyGetFree { buy, free } => {
                (out.buy, out.free) = (Some(*buy), Some(*free));
                "buy_get_free"
            }
            PromotionKind::SecondItem { pay_bp } => {
                out.pay_bp = Some(*pay_bp);
                "second_item"
            }
            PromotionKind::Bundle { items, price } => {
                out.items = items.iter().map(|b| item(b.sku_id, None, Some(b.quantity))).collect();
                out.price = Some(price.fen());
                "bundle"
            }
            PromotionKind::AmountOffLadder { tiers, per_each } => {
                out.tiers = tiers
                    .iter()
                    .map(|t| TierDto { threshold: t.threshold.fen(), amount: Some(t.amount.fen()), pay_bp: None })
                    .collect();
                out.per_each = *per_each;
                "amount_off_ladder"
            }
            PromotionKind::PercentOffLadder { tiers } => {
                out.tiers = tiers
                    .iter()
                    .map(|t| TierDto { threshold: t.threshold.fen(), amount: None, pay_bp: Some(t.pay_bp) })
                    .collect();
                "percent_off_ladder"
            }
        }
        .to_owned();
        out
    }
}

/// Defines a promotion (HQ). Quotes and orders of the stores it covers price with it while it
/// runs.
#[utoipa::path(post, path = "/api/v1/promotions", tag = "marketing", request_body = PromotionIn,
    responses((status = 201, body = PromotionOut)))]
pub async fn create_promotion(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<PromotionIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = PromotionDraft {
        kind: promotion_kind(&input)?,
        name: input.name,
        priority: input.priority,
        exclusive: input.exclusive,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        audience: input.audience.unwrap_or_else(|| "everyone".to_owned()),
        scope: scope_or_all(input.scope)?,
        channels: input.channels,
        store_ids: input.store_ids.into_iter().map(StoreId::from_uuid).collect(),
    };
    let reply = json_reply(|p: &StoredPromotion| PromotionOut::from(p));
    Ok(created(state.app.create_promotion(&ctx, draft, &reply).await?, &reply))
}

#[utoipa::path(get, path = "/api/v1/promotions", tag = "marketing", params(SortedPageQuery),
    responses((status = 200, body = ListOut<PromotionOut>)))]
pub async fn list_promotions(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(page): ApiQuery<SortedPageQuery>,
) -> Result<Response, ApiError> {
    let order = quanyu_app::parse_sort(page.sort.as_deref())?;
    let listing = state.app.promotions(&ctx, order, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |p| PromotionOut::from(&p))))
}

#[utoipa::path(get, path = "/api/v1/promotions/{id}", tag = "marketing", responses((status = 200, body = PromotionOut)))]
pub async fn get_promotion(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(PromotionOut::from(&state.app.promotion(&ctx, PromotionId::from_uuid(id)).await?)))
}

/// Ends a promotion now (HQ).
#[utoipa::path(post, path = "/api/v1/promotions/{id}/end", tag = "marketing",
    responses((status = 200, body = PromotionOut)))]
pub async fn end_promotion(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(PromotionOut::from(&state.app.end_promotion(&ctx, PromotionId::from_uuid(id)).await?)))
}
