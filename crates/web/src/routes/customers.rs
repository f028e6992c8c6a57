//! Customers: register or identify by any identifier, look up, list, add identifiers, merge two
//! profiles of one person, bind a guide, and hand a leaving guide's customers over.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, CustomerDraft, CustomerProfile, TierDraft};
use quanyu_domain::{
    customer::Customer,
    ids::{CustomerId, RegionId, StaffId, StoreId},
    loyalty::Tier,
};
use quanyu_store::{CustomerFilter, PlaceFilter, PointsEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody},
};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityDto {
    /// phone, wechat_openid, wechat_unionid, wecom_external_id or member_card.
    kind: String,
    value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    id: Uuid,
    /// Dense from 1: the customer's bit in audience bitmaps.
    ordinal: i64,
    display_name: Option<String>,
    home_store_id: Option<Uuid>,
    /// The exclusive guide (专属导购).
    guide_id: Option<Uuid>,
    /// The membership tier.
    tier_id: Option<Uuid>,
    /// Present on single reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    identities: Option<Vec<IdentityDto>>,
    /// On registration: an existing customer was found by one of the identifiers.
    #[serde(skip_serializing_if = "Option::is_none")]
    matched_existing: Option<bool>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CustomerOut {
    pub fn new(c: &Customer) -> CustomerOut {
        CustomerOut {
            id: c.id.as_uuid(),
            ordinal: c.ordinal,
            display_name: c.display_name.clone(),
            home_store_id: c.home_store_id.map(|s| s.as_uuid()),
            guide_id: c.guide_id.map(|s| s.as_uuid()),
            tier_id: c.tier_id.map(|t| t.as_uuid()),
            identities: None,
            matched_existing: None,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }

    pub(super) fn profile(p: &CustomerProfile) -> CustomerOut {
        CustomerOut {
            identities: Some(
                p.identities
                    .iter()
                    .map(|i| IdentityDto { kind: i.kind().as_str().to_owned(), value: i.value().to_owned() })
                    .collect(),
            ),
            ..CustomerOut::new(&p.customer)
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    /// At least one. An existing customer holding any of them is returned (and given the others).
    identities: Vec<IdentityDto>,
    display_name: Option<String>,
    /// Defaults to a store-level caller's store.
    home_store_id: Option<Uuid>,
    guide_id: Option<Uuid>,
    /// The invite code of the link the customer came through (老带新).
    invite_code: Option<String>,
    /// The registering device, so one phone cannot collect referral rewards twice.
    device_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Customers of this home store.
    store_id: Option<Uuid>,
    region_id: Option<Uuid>,
    /// Customers of this guide.
    guide_id: Option<Uuid>,
    /// `ordinal` (member number) or `created_at` (the default); `-` first for descending.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// phone, wechat_openid, wechat_unionid, wecom_external_id or member_card.
    kind: String,
    value: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeIn {
    /// The duplicate profile; its id will resolve to this customer from now on.
    absorbed_id: Uuid,
    reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuideIn {
    /// A guide of the customer's home store; `null` unbinds.
    guide_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverIn {
    /// The guide of the same store who takes the customers over.
    to_guide_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverOut {
    /// How many customers moved.
    moved: i64,
}

/// Registers a customer, or finds the one an identifier already belongs to (cashiers, guides
/// and above). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CustomerIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the call safe to retry")),
    responses((status = 201, body = CustomerOut), (status = 409, description = "identities_conflict")))]
pub async fn register_customer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<CustomerIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = CustomerDraft {
        identities: input.identities.into_iter().map(|i| (i.kind, i.value)).collect(),
        display_name: input.display_name,
        home_store_id: input.home_store_id.map(StoreId::from_uuid),
        guide_id: input.guide_id.map(StaffId::from_uuid),
        invite_code: input.invite_code,
        device_id: input.device_id,
    };
    let reply = json_reply(|p: &CustomerProfile| CustomerOut {
        matched_existing: Some(p.matched_existing),
        ..CustomerOut::profile(p)
    });
    Ok(created(state.app.register_customer(&ctx, draft, &reply).await?, &reply))
}

/// Customers whose home store is within the caller's scope.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(CustomerQuery),
    responses((status = 200, body = ListOut<CustomerOut>)))]
pub async fn list_customers(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<CustomerQuery>,
) -> Result<Response, ApiError> {
    let filter = CustomerFilter {
        place: PlaceFilter {
            region_id: query.region_id.map(RegionId::from_uuid),
            store_id: query.store_id.map(StoreId::from_uuid),
        },
        guide_id: query.guide_id.map(StaffId::from_uuid),
        sort: quanyu_app::parse_sort(query.sort.as_deref())?.into(),
    };
    let listing = state.app.list_customers(&ctx, filter, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |c| CustomerOut::new(&c))))
}

/// The customer an identifier belongs to, from any store: a member is found at every till.
#[utoipa::path(get, path = "/api/v1/customers/lookup", tag = "customers", params(LookupQuery),
    responses((status = 200, body = CustomerOut), (status = 404, description = "not_found")))]
pub async fn lookup_customer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<LookupQuery>,
) -> Result<Response, ApiError> {
    Ok(ok(CustomerOut::profile(&state.app.find_customer(&ctx, &query.kind, &query.value).await?)))
}

/// One customer with their identifiers; a merged-away id answers with the survivor.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", responses((status = 200, body = CustomerOut)))]
pub async fn get_customer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(CustomerOut::profile(&state.app.customer(&ctx, CustomerId::from_uuid(id)).await?)))
}

/// Adds an identifier to a customer.
#[utoipa::path(post, path = "/api/v1/customers/{id}/identities", tag = "customers", request_body = IdentityDto,
    responses((status = 200, body = CustomerOut), (status = 409, description = "identity_taken")))]
pub async fn add_identity(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<IdentityDto>,
) -> Result<Response, ApiError> {
    let profile = state.app.add_customer_identity(&ctx, CustomerId::from_uuid(id), &input.kind, &input.value).await?;
    Ok(ok(CustomerOut::profile(&profile)))
}

/// Merges a duplicate profile into this customer (store managers and above; audited).
#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", tag = "customers", request_body = MergeIn,
    responses((status = 200, body = CustomerOut), (status = 409, description = "already_merged")))]
pub async fn merge_customers(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<MergeIn>,
) -> Result<Response, ApiError> {
    let (survivor, absorbed) = (CustomerId::from_uuid(id), CustomerId::from_uuid(input.absorbed_id));
    let profile = state.app.merge_customers(&ctx, survivor, absorbed, input.reason.as_deref()).await?;
    Ok(ok(CustomerOut::profile(&profile)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmergeIn {
    reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnmergeOut {
    /// The profile that had absorbed this one, as it is after the undo.
    survivor: CustomerOut,
    /// This profile, standing on its own again.
    restored: CustomerOut,
}

/// Undoes the merge that absorbed this profile (store managers and above; audited).
///
/// Everything the merge moved (identifiers, orders, ledger entries, coupons, events, tags,
/// tasks) goes back; what the survivor gained since stays. Refused with 409 `survivor_merged_since`
/// while the survivor is itself merged, and `unmerge_overdraws` when the survivor has spent
/// points or stored value that came with this profile.
#[utoipa::path(post, path = "/api/v1/customers/{id}/unmerge", tag = "customers", request_body = UnmergeIn,
    responses((status = 200, body = UnmergeOut), (status = 409, description = "not_merged, survivor_merged_since, unmerge_overdraws")))]
pub async fn unmerge_customer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<UnmergeIn>,
) -> Result<Response, ApiError> {
    let (survivor, restored) =
        state.app.unmerge_customer(&ctx, CustomerId::from_uuid(id), input.reason.as_deref()).await?;
    Ok(ok(UnmergeOut { survivor: CustomerOut::profile(&survivor), restored: CustomerOut::profile(&restored) }))
}

/// Binds the customer's exclusive guide, or unbinds it.
#[utoipa::path(put, path = "/api/v1/customers/{id}/guide", tag = "customers", request_body = GuideIn,
    responses((status = 200, body = CustomerOut), (status = 422, description = "not_a_guide")))]
pub async fn assign_guide(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<GuideIn>,
) -> Result<Response, ApiError> {
    let guide = input.guide_id.map(StaffId::from_uuid);
    Ok(ok(CustomerOut::profile(&state.app.assign_guide(&ctx, CustomerId::from_uuid(id), guide).await?)))
}

/// Hands every customer of a (leaving) guide to another guide of the same store (离职继承).
#[utoipa::path(post, path = "/api/v1/staff/{id}/customers/handover", tag = "customers", request_body = HandoverIn,
    responses((status = 200, body = HandoverOut)))]
pub async fn hand_over(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<HandoverIn>,
) -> Result<Response, ApiError> {
    let moved =
        state.app.hand_over_customers(&ctx, StaffId::from_uuid(id), StaffId::from_uuid(input.to_guide_id)).await?;
    Ok(ok(HandoverOut { moved }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PointsEntryOut {
    id: Uuid,
    /// earn, take_back, redeem, restore, reward, adjust or expire.
    kind: String,
    /// Signed.
    points: i64,
    order_id: Option<Uuid>,
    reason: Option<String>,
    /// When the points of an earn entry expire.
    expires_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
}

impl From<&PointsEntry> for PointsEntryOut {
    fn from(e: &PointsEntry) -> Self {
        PointsEntryOut {
            id: e.id,
            kind: e.kind.clone(),
            points: e.points,
            order_id: e.order_id.map(|o| o.as_uuid()),
            reason: e.reason.clone(),
            expires_at: e.expires_at,
            at: e.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PointsOut {
    /// Always the sum of the customer's ledger.
    balance: i64,
    /// The ledger, newest first.
    items: Vec<PointsEntryOut>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentIn {
    /// Signed; a removal beyond the balance is refused.
    points: i64,
    reason: String,
}

/// A customer's points balance and ledger.
#[utoipa::path(get, path = "/api/v1/customers/{id}/points", tag = "customers", params(PageQuery),
    responses((status = 200, body = PointsOut)))]
pub async fn points(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let statement =
        state.app.customer_points(&ctx, CustomerId::from_uuid(id), page.cursor.as_deref(), page.limit).await?;
    let list = ListOut::from_listing(statement.entries, |e| PointsEntryOut::from(&e));
    Ok(ok(PointsOut { balance: statement.balance, items: list.items, next_cursor: list.next_cursor }))
}

/// Adds or removes points by hand, with a reason (store managers and above). `Idempotency-Key`
/// is required.
#[utoipa::path(post, path = "/api/v1/customers/{id}/points/adjustments", tag = "customers",
    request_body = AdjustmentIn, params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = PointsEntryOut), (status = 409, description = "insufficient_points")))]
pub async fn adjust_points(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<AdjustmentIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let reply = json_reply(|e: &PointsEntry| PointsEntryOut::from(e));
    let written =
        state.app.adjust_points(&ctx, CustomerId::from_uuid(id), input.points, Some(&input.reason), &reply).await?;
    Ok(created(written, &reply))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierOut {
    id: Uuid,
    code: String,
    name: String,
    /// 分 spent in the last twelve months to reach it.
    spend_threshold: i64,
    /// 10_000 is ×1.
    points_multiplier_bp: u32,
    free_delivery: bool,
    /// A paid tier (付费会员): the price of a term (分) and its days.
    paid_price: Option<i64>,
    paid_days: Option<i64>,
    /// Points given on the member's birthday.
    birthday_points: i64,
}

impl From<&Tier> for TierOut {
    fn from(t: &Tier) -> Self {
        TierOut {
            id: t.id.as_uuid(),
            code: t.code.clone(),
            name: t.name.clone(),
            spend_threshold: t.spend_threshold.fen(),
            points_multiplier_bp: t.points_multiplier_bp,
            free_delivery: t.free_delivery,
            paid_price: t.paid.map(|p| p.price.fen()),
            paid_days: t.paid.map(|p| p.days),
            birthday_points: t.birthday_points,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierIn {
    code: String,
    name: String,
    /// 分 spent in the last twelve months to reach the tier; 0 for the tier every member starts in.
    spend_threshold: i64,
    /// 10_000 is ×1 (the default).
    points_multiplier_bp: Option<i64>,
    #[serde(default)]
    free_delivery: bool,
    /// Sell the tier as a paid membership: a term's price (分) and days, both or neither.
    paid_price: Option<i64>,
    paid_days: Option<i64>,
    /// Points given on the member's birthday (生日礼).
    birthday_points: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierListOut {
    items: Vec<TierOut>,
}

/// Adds a membership tier (HQ). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/member-tiers", tag = "customers", request_body = TierIn,
    responses((status = 201, body = TierOut), (status = 409, description = "duplicate_tier_code")))]
pub async fn create_tier(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<TierIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = TierDraft {
        code: input.code,
        name: input.name,
        spend_threshold: input.spend_threshold,
        points_multiplier_bp: input.points_multiplier_bp,
        free_delivery: input.free_delivery,
        paid_price: input.paid_price,
        paid_days: input.paid_days,
        birthday_points: input.birthday_points,
    };
    let reply = json_reply(|t: &Tier| TierOut::from(t));
    Ok(created(state.app.create_tier(&ctx, draft, &reply).await?, &reply))
}

/// The membership tiers, lowest first.
#[utoipa::path(get, path = "/api/v1/member-tiers", tag = "customers", responses((status = 200, body = TierListOut)))]
pub async fn list_tiers(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    Ok(ok(TierListOut { items: state.app.tiers(&ctx).await?.iter().map(TierOut::from).collect() }))
}

/// A birthday: month and day, the year when known.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BirthdayDto {
    month: u32,
    day: u32,
    year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BirthdayOut {
    /// Absent when unknown.
    birthday: Option<BirthdayDto>,
}

impl BirthdayOut {
    fn from(birthday: Option<quanyu_domain::customer::Birthday>) -> BirthdayOut {
        BirthdayOut { birthday: birthday.map(|b| BirthdayDto { month: b.month(), day: b.day(), year: b.year() }) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BirthdayIn {
    /// `null` forgets it.
    birthday: Option<BirthdayDto>,
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/birthday", tag = "customers", responses((status = 200, body = BirthdayOut)))]
pub async fn get_birthday(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(BirthdayOut::from(state.app.birthday(&ctx, CustomerId::from_uuid(id)).await?)))
}

/// Records a customer's birthday (the birthday gift arrives on the day, once a year).
#[utoipa::path(put, path = "/api/v1/customers/{id}/birthday", tag = "customers", request_body = BirthdayIn,
    responses((status = 200, body = BirthdayOut)))]
pub async fn put_birthday(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<BirthdayIn>,
) -> Result<Response, ApiError> {
    let birthday = input
        .birthday
        .map(|b| quanyu_domain::customer::Birthday::new(b.month, b.day, b.year))
        .transpose()
        .map_err(ApiError::from)?;
    Ok(ok(BirthdayOut::from(state.app.set_birthday(&ctx, CustomerId::from_uuid(id), birthday).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipIn {
    /// A paid tier.
    tier_id: Uuid,
    /// cash, card or stored_value.
    method: String,
    /// The card terminal's reference (required for card).
    reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipOut {
    id: Uuid,
    tier_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    /// 分.
    amount: i64,
    method: String,
}

/// Sells a term of a paid tier (付费会员) to a member; a term bought while one runs starts when
/// it ends. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/customers/{id}/memberships", tag = "customers", request_body = MembershipIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = MembershipOut), (status = 409, description = "insufficient_stored_value")))]
pub async fn buy_membership(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<MembershipIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = quanyu_app::MembershipDraft {
        tier_id: Some(quanyu_domain::ids::TierId::from_uuid(input.tier_id)),
        method: input.method,
        reference: input.reference,
    };
    let reply = json_reply(|m: &quanyu_store::PaidMembership| MembershipOut {
        id: m.id,
        tier_id: m.tier_id.as_uuid(),
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        amount: m.amount.fen(),
        method: m.method.as_str().to_owned(),
    });
    Ok(created(state.app.buy_membership(&ctx, CustomerId::from_uuid(id), draft, &reply).await?, &reply))
}
