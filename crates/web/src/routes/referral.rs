//! Referral and distribution: invite profiles, distributors, the referral programme, commission
//! rules, invite tasks, referrals, commission statements and payouts, guides' performance.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Duration, Utc};
use quanyu_app::{CommissionRulesDraft, Ctx, InviteTaskDraft};
use quanyu_domain::{
    DomainError, Expected,
    ids::{CouponTemplateId, CustomerId, PayoutId, PromoterId, SkuId, StaffId},
    referral::{
        Buckets, CommissionRules, InviteTask, PayoutRequest, Promoter, PromoterOwner, Referral, ReferralProgram,
        SkuRate,
    },
};
use quanyu_store::CommissionEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct PromoterOut {
    id: Uuid,
    /// The invite code: 8 characters.
    code: String,
    /// The invite link's path in the mall.
    link: String,
    /// What the QR code encodes.
    qr_payload: String,
    name: String,
    customer_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    distributor: bool,
    parent_id: Option<Uuid>,
}

impl From<&Promoter> for PromoterOut {
    fn from(p: &Promoter) -> Self {
        let (customer_id, staff_id) = match p.owner {
            PromoterOwner::Customer(id) => (Some(id.as_uuid()), None),
            PromoterOwner::Staff(id) => (None, Some(id.as_uuid())),
        };
        PromoterOut {
            id: p.id.as_uuid(),
            code: p.code.clone(),
            link: p.link(),
            qr_payload: p.qr_payload(),
            name: p.name.clone(),
            customer_id,
            staff_id,
            distributor: p.distributor,
            parent_id: p.parent_id.map(|id| id.as_uuid()),
        }
    }
}

/// A customer's invite code, link and QR payload (made on first ask).
#[utoipa::path(post, path = "/api/v1/customers/{id}/invite", tag = "referral", responses((status = 200, body = PromoterOut)))]
pub async fn customer_invite(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let promoter = state.app.invite_profile(&ctx, PromoterOwner::Customer(CustomerId::from_uuid(id))).await?;
    Ok(ok(PromoterOut::from(&promoter)))
}

/// A staff member's invite code, link and QR payload: a guide's share links attribute online
/// sales to them.
#[utoipa::path(post, path = "/api/v1/staff/{id}/invite", tag = "referral", responses((status = 200, body = PromoterOut)))]
pub async fn staff_invite(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let promoter = state.app.invite_profile(&ctx, PromoterOwner::Staff(StaffId::from_uuid(id))).await?;
    Ok(ok(PromoterOut::from(&promoter)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributorIn {
    /// One of customer_id and staff_id.
    customer_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    /// The invite code of the distributor who recruited this one (earns level 2).
    parent_code: Option<String>,
}

/// Makes a customer or staff member a distributor (HQ).
#[utoipa::path(post, path = "/api/v1/distributors", tag = "referral", request_body = DistributorIn,
    responses((status = 200, body = PromoterOut)))]
pub async fn make_distributor(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<DistributorIn>,
) -> Result<Response, ApiError> {
    let owner = match (input.customer_id, input.staff_id) {
        (Some(id), None) => PromoterOwner::Customer(CustomerId::from_uuid(id)),
        (None, Some(id)) => PromoterOwner::Staff(StaffId::from_uuid(id)),
        _ => {
            return Err(DomainError::Malformed { field: "customer_id", expected: Expected::CustomerOrStaffId }.into());
        }
    };
    let promoter = state.app.make_distributor(&ctx, owner, input.parent_code.as_deref()).await?;
    Ok(ok(PromoterOut::from(&promoter)))
}

/// The two-sided rewards of a referral.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralProgramDto {
    /// Points for the inviter when the invitee's first order is paid.
    #[serde(default)]
    inviter_points: i64,
    inviter_template_id: Option<Uuid>,
    /// Points for the invitee at registration.
    #[serde(default)]
    invitee_points: i64,
    invitee_template_id: Option<Uuid>,
}

impl From<ReferralProgram> for ReferralProgramDto {
    fn from(p: ReferralProgram) -> Self {
        ReferralProgramDto {
            inviter_points: p.inviter_points,
            inviter_template_id: p.inviter_template_id.map(|t| t.as_uuid()),
            invitee_points: p.invitee_points,
            invitee_template_id: p.invitee_template_id.map(|t| t.as_uuid()),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/referral-program", tag = "referral", responses((status = 200, body = ReferralProgramDto)))]
pub async fn get_referral_program(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    Ok(ok(ReferralProgramDto::from(state.app.referral_program(&ctx).await?)))
}

/// Sets the referral rewards (HQ).
#[utoipa::path(put, path = "/api/v1/referral-program", tag = "referral", request_body = ReferralProgramDto,
    responses((status = 200, body = ReferralProgramDto)))]
pub async fn put_referral_program(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<ReferralProgramDto>,
) -> Result<Response, ApiError> {
    let program = ReferralProgram {
        inviter_points: input.inviter_points,
        inviter_template_id: input.inviter_template_id.map(CouponTemplateId::from_uuid),
        invitee_points: input.invitee_points,
        invitee_template_id: input.invitee_template_id.map(CouponTemplateId::from_uuid),
    };
    Ok(ok(ReferralProgramDto::from(state.app.set_referral_program(&ctx, program).await?)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuRateDto {
    sku_id: Uuid,
    level1_bp: u32,
    level2_bp: u32,
}

/// Commission rates in basis points of what a line paid (1000 is 10%).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommissionRulesDto {
    level1_bp: u32,
    level2_bp: u32,
    /// Days after payment before commission is released (default 7).
    return_window_days: Option<i64>,
    /// Rates that replace both levels for these SKUs.
    #[serde(default)]
    sku_rates: Vec<SkuRateDto>,
}

impl From<CommissionRules> for CommissionRulesDto {
    fn from(r: CommissionRules) -> Self {
        CommissionRulesDto {
            level1_bp: r.level1_bp,
            level2_bp: r.level2_bp,
            return_window_days: Some(r.return_window_days),
            sku_rates: r
                .sku_rates
                .iter()
                .map(|s| SkuRateDto { sku_id: s.sku_id.as_uuid(), level1_bp: s.level1_bp, level2_bp: s.level2_bp })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/commission-rules", tag = "referral", responses((status = 200, body = CommissionRulesDto)))]
pub async fn get_commission_rules(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    Ok(ok(CommissionRulesDto::from(state.app.commission_rules(&ctx).await?)))
}

/// Sets the commission rates and return window (HQ).
#[utoipa::path(put, path = "/api/v1/commission-rules", tag = "referral", request_body = CommissionRulesDto,
    responses((status = 200, body = CommissionRulesDto)))]
pub async fn put_commission_rules(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<CommissionRulesDto>,
) -> Result<Response, ApiError> {
    let draft = CommissionRulesDraft {
        level1_bp: input.level1_bp,
        level2_bp: input.level2_bp,
        return_window_days: input.return_window_days,
        sku_rates: input
            .sku_rates
            .iter()
            .map(|s| SkuRate { sku_id: SkuId::from_uuid(s.sku_id), level1_bp: s.level1_bp, level2_bp: s.level2_bp })
            .collect(),
    };
    Ok(ok(CommissionRulesDto::from(state.app.set_commission_rules(&ctx, draft).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteTaskIn {
    name: String,
    invites_needed: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    #[serde(default)]
    reward_points: i64,
    reward_template_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InviteTaskOut {
    id: Uuid,
    name: String,
    invites_needed: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reward_points: i64,
    reward_template_id: Option<Uuid>,
}

impl From<&InviteTask> for InviteTaskOut {
    fn from(t: &InviteTask) -> Self {
        InviteTaskOut {
            id: t.id,
            name: t.name.clone(),
            invites_needed: t.invites_needed,
            starts_at: t.starts_at,
            ends_at: t.ends_at,
            reward_points: t.reward_points,
            reward_template_id: t.reward_template_id.map(|id| id.as_uuid()),
        }
    }
}

/// Starts an invite task (任务宝): invite N friends within the window to unlock a reward (HQ).
#[utoipa::path(post, path = "/api/v1/invite-tasks", tag = "referral", request_body = InviteTaskIn,
    responses((status = 201, body = InviteTaskOut)))]
pub async fn create_invite_task(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<InviteTaskIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = InviteTaskDraft {
        name: input.name,
        invites_needed: input.invites_needed,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        reward_points: input.reward_points,
        reward_template_id: input.reward_template_id.map(CouponTemplateId::from_uuid),
    };
    let reply = json_reply(|t: &InviteTask| InviteTaskOut::from(t));
    Ok(created(state.app.create_invite_task(&ctx, draft, &reply).await?, &reply))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralOut {
    id: Uuid,
    invitee_id: Uuid,
    /// Whether it counts for rewards and tasks.
    counted: bool,
    /// self_invite or same_device when it does not count.
    refusal: Option<String>,
    at: DateTime<Utc>,
}

impl From<&Referral> for ReferralOut {
    fn from(r: &Referral) -> Self {
        ReferralOut {
            id: r.id,
            invitee_id: r.invitee_id.as_uuid(),
            counted: r.refusal.is_none(),
            refusal: r.refusal.map(|x| x.as_str().to_owned()),
            at: r.at,
        }
    }
}

/// A promoter's referrals, newest first.
#[utoipa::path(get, path = "/api/v1/promoters/{id}/referrals", tag = "referral", params(PageQuery),
    responses((status = 200, body = ListOut<ReferralOut>)))]
pub async fn list_referrals(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let listing = state.app.referrals(&ctx, PromoterId::from_uuid(id), page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |r| ReferralOut::from(&r))))
}

/// Commission in its four buckets (分).
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketsOut {
    /// Earned, waiting for the return window.
    frozen: i64,
    /// Released; may be withdrawn. Negative when reversals after release exceed it.
    available: i64,
    /// Requested for payout.
    pending: i64,
    paid_out: i64,
}

impl From<Buckets> for BucketsOut {
    fn from(b: Buckets) -> Self {
        BucketsOut {
            frozen: b.frozen.fen(),
            available: b.available.fen(),
            pending: b.pending.fen(),
            paid_out: b.paid_out.fen(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommissionEntryOut {
    id: Uuid,
    /// accrue, reverse, release, request_payout, pay_out or reject_payout.
    kind: String,
    order_id: Option<Uuid>,
    line_no: Option<i32>,
    level: Option<u8>,
    payout_id: Option<Uuid>,
    /// What the entry moved, bucket by bucket.
    delta: BucketsOut,
    release_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
}

impl From<&CommissionEntry> for CommissionEntryOut {
    fn from(e: &CommissionEntry) -> Self {
        CommissionEntryOut {
            id: e.id,
            kind: e.kind.clone(),
            order_id: e.order_id.map(|o| o.as_uuid()),
            line_no: e.line_no,
            level: e.level,
            payout_id: e.payout_id.map(|p| p.as_uuid()),
            delta: BucketsOut::from(e.delta),
            release_at: e.release_at,
            at: e.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommissionStatementOut {
    promoter: PromoterOut,
    balance: BucketsOut,
    items: Vec<CommissionEntryOut>,
    next_cursor: Option<String>,
}

/// A promoter's commission balance and ledger, newest first.
#[utoipa::path(get, path = "/api/v1/promoters/{id}/commissions", tag = "referral", params(PageQuery),
    responses((status = 200, body = CommissionStatementOut)))]
pub async fn commissions(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let statement =
        state.app.commission_statement(&ctx, PromoterId::from_uuid(id), page.cursor.as_deref(), page.limit).await?;
    let list = ListOut::from_listing(statement.entries, |e| CommissionEntryOut::from(&e));
    Ok(ok(CommissionStatementOut {
        promoter: PromoterOut::from(&statement.promoter),
        balance: BucketsOut::from(statement.balance),
        items: list.items,
        next_cursor: list.next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutIn {
    /// 分, at most what is available.
    amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutOut {
    id: Uuid,
    promoter_id: Uuid,
    amount: i64,
    /// requested, paid or rejected.
    status: String,
    note: Option<String>,
    requested_at: DateTime<Utc>,
    settled_at: Option<DateTime<Utc>>,
}

impl From<&PayoutRequest> for PayoutOut {
    fn from(p: &PayoutRequest) -> Self {
        PayoutOut {
            id: p.id.as_uuid(),
            promoter_id: p.promoter_id.as_uuid(),
            amount: p.amount.fen(),
            status: p.status.as_str().to_owned(),
            note: p.note.clone(),
            requested_at: p.requested_at,
            settled_at: p.settled_at,
        }
    }
}

/// Asks to be paid available commission. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/promoters/{id}/payouts", tag = "referral", request_body = PayoutIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = PayoutOut), (status = 409, description = "payout_not_enough")))]
pub async fn request_payout(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<PayoutIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let reply = json_reply(|p: &PayoutRequest| PayoutOut::from(p));
    let written = state.app.request_payout(&ctx, PromoterId::from_uuid(id), create.body.amount, &reply).await?;
    Ok(created(written, &reply))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleIn {
    /// paid or rejected.
    outcome: String,
    /// The transfer's reference, or why it was rejected.
    note: Option<String>,
}

/// Settles a payout request (HQ).
#[utoipa::path(post, path = "/api/v1/payouts/{id}/settle", tag = "referral", request_body = SettleIn,
    responses((status = 200, body = PayoutOut)))]
pub async fn settle_payout(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<SettleIn>,
) -> Result<Response, ApiError> {
    let paid = match input.outcome.as_str() {
        "paid" => true,
        "rejected" => false,
        other => return Err(DomainError::UnknownValue { field: "outcome", value: other.to_owned() }.into()),
    };
    let payout = state.app.settle_payout(&ctx, PayoutId::from_uuid(id), paid, input.note.as_deref()).await?;
    Ok(ok(PayoutOut::from(&payout)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommissionMismatchOut {
    promoter_id: Uuid,
    balance: BucketsOut,
    ledger: BucketsOut,
}

/// Promoters whose balances differ from the sums of their ledger; empty when sound.
#[utoipa::path(get, path = "/api/v1/commissions/reconcile", tag = "referral",
    responses((status = 200, body = Vec<CommissionMismatchOut>)))]
pub async fn reconcile_commissions(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    let mismatches = state.app.reconcile_commissions(&ctx).await?;
    Ok(ok(mismatches
        .into_iter()
        .map(|m| CommissionMismatchOut {
            promoter_id: m.promoter_id.as_uuid(),
            balance: m.balance.into(),
            ledger: m.ledger.into(),
        })
        .collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceQuery {
    /// From when (default: 30 days ago).
    since: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceOut {
    since: DateTime<Utc>,
    /// Online sales attributed to the guide, net of refunds (分).
    attributed_sales: i64,
    attributed_orders: i64,
    /// Customers bound to the guide now.
    customers: i64,
}

/// A guide's attributed online sales and customers (their KPIs).
#[utoipa::path(get, path = "/api/v1/staff/{id}/performance", tag = "referral", params(PerformanceQuery),
    responses((status = 200, body = PerformanceOut)))]
pub async fn guide_performance(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PerformanceQuery>,
) -> Result<Response, ApiError> {
    let since = query.since.unwrap_or_else(|| Utc::now() - Duration::days(30));
    let performance = state.app.guide_performance(&ctx, StaffId::from_uuid(id), since).await?;
    Ok(ok(PerformanceOut {
        since,
        attributed_sales: performance.attributed_sales.fen(),
        attributed_orders: performance.attributed_orders,
        customers: performance.customers,
    }))
}
