//! The customer-facing API under `/api/v1/shop`: sign-in by phone and one-time code, and what a
//! signed-in customer does for themself (me, quotes, orders, paying with stored value, coupons,
//! the invite profile, flash-sale reservations). The caller is the `quanyu_customer` session,
//! never a staff session; every use case fixes the buyer to that customer.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use quanyu_app::{CustomerSignInDraft, LineDraft, QuoteDraft, ShopOrderDraft, Shopper, ShopperSummary, WalletCoupon};
use quanyu_domain::ids::{CouponId, CouponTemplateId, OrderId, SkuId, StoreId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    ListOut, PageQuery, created, flash::ReservationOut, json_reply, marketing::CouponOut, ok, orders::OrderOut,
    quotes::QuoteOut, referral::PromoterOut,
};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Create, JsonBody, KeyedCreate, origin},
    shopper::{CUSTOMER_COOKIE, Customer, REF_COOKIE, cookie, session_cookie, set_cookie},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginCodeIn {
    /// An 11-digit mainland mobile number.
    phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginCodeOut {
    /// The code works until then (5 minutes).
    expires_at: DateTime<Utc>,
    /// Another code may be asked for from then on (60 s).
    resend_at: DateTime<Utc>,
    resend_after_s: i64,
}

/// Sends a one-time sign-in code to a phone by SMS.
///
/// One active code per phone, valid 5 minutes and for 5 tries; another may be sent 60 s later
/// (429 `login_code_too_soon` before that). One client address may ask for 20 codes an hour
/// (429 `too_many_attempts` beyond), whatever the phones.
#[utoipa::path(post, path = "/api/v1/shop/login-codes", tag = "shop", request_body = LoginCodeIn, security(()),
    responses((status = 202, body = LoginCodeOut),
        (status = 429, description = "login_code_too_soon, too_many_attempts")))]
pub async fn send_login_code(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let client = origin(&parts).ip.unwrap_or_default();
    let JsonBody(input) = <JsonBody<LoginCodeIn> as axum::extract::FromRequest<AppState>>::from_request(
        Request::from_parts(parts, body),
        &state,
    )
    .await?;
    state.code_send_limiter.check(&client)?;
    let sent = state.app.send_login_code(&input.phone).await?;
    state.code_send_limiter.record(&client);
    let out = LoginCodeOut {
        expires_at: sent.expires_at,
        resend_at: sent.resend_at,
        resend_after_s: quanyu_app::LOGIN_CODE_RESEND.num_seconds(),
    };
    Ok((StatusCode::ACCEPTED, axum::Json(out)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInIn {
    phone: String,
    /// The 6-digit code from the SMS.
    code: String,
    /// The store the visitor is shopping at: a new customer's home store.
    store_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInOut {
    customer_id: Uuid,
    /// This sign-in registered the customer.
    registered: bool,
    expires_at: DateTime<Utc>,
}

/// Signs a customer in with phone and code, registering them if the phone is new.
///
/// Sets the `quanyu_customer` cookie (HttpOnly, SameSite=Lax). A new customer who arrived by a
/// share link (the `quanyu_ref` cookie) becomes that promoter's referral.
#[utoipa::path(post, path = "/api/v1/shop/sessions", tag = "shop", request_body = SignInIn, security(()),
    responses((status = 200, body = SignInOut),
        (status = 401, description = "login_code_wrong, login_code_expired"),
        (status = 429, description = "login_code_attempts_used")))]
pub async fn sign_in(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let origin = origin(&parts);
    let invite_code = cookie(&parts.headers, REF_COOKIE);
    let JsonBody(input) = <JsonBody<SignInIn> as axum::extract::FromRequest<AppState>>::from_request(
        Request::from_parts(parts, body),
        &state,
    )
    .await?;
    let draft = CustomerSignInDraft {
        phone: input.phone,
        code: input.code,
        invite_code,
        home_store_id: input.store_id.map(StoreId::from_uuid),
    };
    let signed_in = state.app.sign_in_customer(draft, &origin).await?;
    let max_age = (signed_in.expires_at - Utc::now()).num_seconds().max(0);
    let mut response = ok(SignInOut {
        customer_id: signed_in.customer.id.as_uuid(),
        registered: signed_in.registered,
        expires_at: signed_in.expires_at,
    });
    set_cookie(&mut response, &session_cookie(Some(&signed_in.secret), max_age, state.options.secure_cookies));
    Ok(response)
}

/// Signs the customer out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/shop/sessions/current", tag = "shop", security(()), responses((status = 204)))]
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = cookie(&headers, CUSTOMER_COOKIE) {
        state.app.sign_out_customer(&secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, &session_cookie(None, 0, state.options.secure_cookies));
    Ok(response)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierOut {
    code: String,
    name: String,
    free_delivery: bool,
    /// Points multiplier in basis points (15000: ×1.5).
    points_multiplier_bp: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopperOut {
    customer_id: Uuid,
    display_name: Option<String>,
    /// The phone the customer signed in with.
    phone: Option<String>,
    tier: Option<TierOut>,
    points: i64,
    /// Coupons usable now.
    coupons_usable: i64,
    /// Stored value (储值) balance, 分.
    stored_value: i64,
}

impl From<&ShopperSummary> for ShopperOut {
    fn from(s: &ShopperSummary) -> Self {
        ShopperOut {
            customer_id: s.customer.id.as_uuid(),
            display_name: s.customer.display_name.clone(),
            phone: s.phone.clone(),
            tier: s.tier.as_ref().map(|t| TierOut {
                code: t.code.clone(),
                name: t.name.clone(),
                free_delivery: t.free_delivery,
                points_multiplier_bp: t.points_multiplier_bp,
            }),
            points: s.points,
            coupons_usable: s.coupons_usable,
            stored_value: s.stored_value.fen(),
        }
    }
}

/// The signed-in customer: tier, points, usable coupons and stored value.
#[utoipa::path(get, path = "/api/v1/shop/me", tag = "shop", security(("customer_cookie" = [])), responses((status = 200, body = ShopperOut),
    (status = 401, description = "unauthenticated")))]
pub async fn me(State(state): State<AppState>, Customer(shopper): Customer) -> Result<Response, ApiError> {
    Ok(ok(ShopperOut::from(&state.app.shopper_summary(&shopper).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopLineIn {
    sku_id: Uuid,
    /// Units, or grams for goods sold by weight.
    quantity: i64,
}

fn lines(lines: Vec<ShopLineIn>) -> Vec<LineDraft> {
    lines.into_iter().map(|l| LineDraft { sku_id: Some(SkuId::from_uuid(l.sku_id)), quantity: l.quantity }).collect()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopQuoteIn {
    store_id: Uuid,
    /// delivery or pickup.
    channel: String,
    lines: Vec<ShopLineIn>,
    /// Points to redeem: 100 to the yuan, at most half the goods.
    points: Option<i64>,
    #[serde(default)]
    coupon_ids: Vec<Uuid>,
}

/// Prices the customer's cart (member prices, their coupons and points) without ordering.
#[utoipa::path(post, path = "/api/v1/shop/price-quotes", tag = "shop", security(("customer_cookie" = [])), request_body = ShopQuoteIn,
    responses((status = 200, body = QuoteOut)))]
pub async fn quote(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    JsonBody(input): JsonBody<ShopQuoteIn>,
) -> Result<Response, ApiError> {
    let draft = QuoteDraft {
        store_id: Some(StoreId::from_uuid(input.store_id)),
        channel: input.channel,
        lines: lines(input.lines),
        customer_id: None,
        points: input.points,
        coupon_ids: input.coupon_ids.into_iter().map(CouponId::from_uuid).collect(),
    };
    Ok(ok(QuoteOut::from(&state.app.shop_quote(&shopper, draft).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopOrderIn {
    /// Required for pickup. For delivery, omit it to route the order to the nearest store that
    /// delivers to `delivery_location` and has every line in stock.
    store_id: Option<Uuid>,
    /// delivery or pickup.
    channel: String,
    #[serde(default)]
    lines: Vec<ShopLineIn>,
    /// One of the customer's held flash-sale reservations (then no `lines`).
    flash_reservation_id: Option<Uuid>,
    /// Required for delivery.
    delivery_address: Option<String>,
    delivery_location: Option<super::org::LocationIn>,
    /// gcj02 (default) or wgs84.
    coord: Option<String>,
    /// When to deliver or have the pickup ready, as for staff orders (`promised_at` of
    /// `POST /api/v1/orders`): in the future, within the booking horizon and the store's opening
    /// hours (`outside_opening_hours`, with `next_open_at`). Default: the usual hour or half
    /// hour of the store's open time.
    promised_at: Option<DateTime<Utc>>,
    note: Option<String>,
    #[serde(default)]
    coupon_ids: Vec<Uuid>,
    points: Option<i64>,
    /// The invite code of a share link; defaults to the `quanyu_ref` cookie.
    promoter_code: Option<String>,
}

/// Places an order for the signed-in customer. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/shop/orders", tag = "shop", security(("customer_cookie" = [])), request_body = ShopOrderIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = OrderOut), (status = 409, description = "insufficient_stock, no_store_can_serve"),
              (status = 422, description = "outside_opening_hours, beyond_booking_horizon")))]
pub async fn create_order(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    headers: HeaderMap,
    create: Create<ShopOrderIn>,
) -> Result<Response, ApiError> {
    let shopper = Shopper { idempotency: create.idempotency, ..shopper };
    let input = create.body;
    let datum = super::org::parse_datum(input.coord.as_deref())?;
    let draft = ShopOrderDraft {
        store_id: input.store_id.map(StoreId::from_uuid),
        channel: input.channel,
        lines: lines(input.lines),
        delivery_address: input.delivery_address,
        delivery_location: input.delivery_location.map(|l| (l.lat, l.lng, datum)),
        promised_at: input.promised_at,
        note: input.note,
        flash_reservation: input.flash_reservation_id,
        coupon_ids: input.coupon_ids.into_iter().map(CouponId::from_uuid).collect(),
        points: input.points,
        promoter_code: input.promoter_code.or_else(|| cookie(&headers, REF_COOKIE)),
    };
    let reply = json_reply(OrderOut::detail);
    let written = state.app.shop_create_order(&shopper, draft, &reply).await?;
    Ok(created(written, &reply))
}

/// The customer's orders, newest first.
#[utoipa::path(get, path = "/api/v1/shop/orders", tag = "shop", security(("customer_cookie" = [])), params(PageQuery),
    responses((status = 200, body = ListOut<OrderOut>)))]
pub async fn list_orders(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let listing = state.app.shop_orders(&shopper, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |o| OrderOut::new(&o, None, None))))
}

/// One of the customer's orders with its timeline; another customer's is not found.
#[utoipa::path(get, path = "/api/v1/shop/orders/{id}", tag = "shop", security(("customer_cookie" = [])),
    responses((status = 200, body = OrderOut), (status = 404, description = "not_found")))]
pub async fn get_order(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(OrderOut::detail(&state.app.shop_order(&shopper, OrderId::from_uuid(id)).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopPaymentIn {
    /// What is due, in 分.
    amount: i64,
}

/// Pays one of the customer's orders from their stored value (储值). Other online payment
/// arrives with WeChat Pay. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/shop/orders/{id}/payments", tag = "shop", security(("customer_cookie" = [])), request_body = ShopPaymentIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = OrderOut), (status = 409, description = "insufficient_stored_value, amount_mismatch")))]
pub async fn pay_order(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<ShopPaymentIn>,
) -> Result<Response, ApiError> {
    let shopper = Shopper { idempotency: create.idempotency, ..shopper };
    let reply = json_reply(OrderOut::detail);
    let written = state.app.shop_pay_order(&shopper, OrderId::from_uuid(id), create.body.amount, &reply).await?;
    Ok(created(written, &reply))
}

/// The customer's coupons, newest first.
#[utoipa::path(get, path = "/api/v1/shop/coupons", tag = "shop", security(("customer_cookie" = [])), params(PageQuery),
    responses((status = 200, body = ListOut<CouponOut>)))]
pub async fn list_coupons(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let listing = state.app.shop_coupons(&shopper, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |w| CouponOut::from(&w))))
}

/// Claims a coupon of a claimable template (领券). `Idempotency-Key` is required: a retried
/// tap claims once.
#[utoipa::path(post, path = "/api/v1/shop/coupon-templates/{id}/claims", tag = "shop", security(("customer_cookie" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = CouponOut),
        (status = 409, description = "coupon_budget_spent, coupon_limit_reached, coupon_not_claimable")))]
pub async fn claim_coupon(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<serde_json::Value>,
) -> Result<Response, ApiError> {
    let shopper = Shopper { idempotency: create.idempotency, ..shopper };
    let reply = json_reply(|w: &WalletCoupon| CouponOut::from(w));
    let written = state.app.shop_claim_coupon(&shopper, CouponTemplateId::from_uuid(id), &reply).await?;
    Ok(created(written, &reply))
}

/// The customer's invite code, link and QR payload (made on first ask).
#[utoipa::path(get, path = "/api/v1/shop/invite", tag = "shop", security(("customer_cookie" = [])), responses((status = 200, body = PromoterOut)))]
pub async fn invite(State(state): State<AppState>, Customer(shopper): Customer) -> Result<Response, ApiError> {
    Ok(ok(PromoterOut::from(&state.app.shop_invite(&shopper).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopReserveIn {
    quantity: i64,
}

/// Reserves units of a flash sale for the customer; order them (`POST /api/v1/shop/orders` with
/// `flash_reservation_id`) before the hold ends. `Idempotency-Key` is required.
///
/// Refused (the same refusals as the staff route, the buyer being the signed-in member):
/// 409 `flash_sale_not_active` (not started, or over), `flash_sale_limit_reached` (the member
/// would hold more than the per-customer limit), `flash_sale_sold_out` (the quota is used up) or
/// `flash_sale_out_of_stock` (the quota remains, the store's stock does not: try again later);
/// 422 `idempotency_key_reused` (the key again with another quantity) or `out_of_range`
/// (`quantity`); 400 `idempotency_key_required` or `invalid_idempotency_key`; 404 `not_found` (no
/// such sale); 401 `unauthenticated` (no customer session).
#[utoipa::path(post, path = "/api/v1/shop/flash-sales/{id}/reservations", tag = "shop", security(("customer_cookie" = [])), request_body = ShopReserveIn,
    params(("Idempotency-Key" = String, Header, description = "Required: a retry finds its reservation; the key \
        again with another quantity is idempotency_key_reused")),
    responses((status = 201, body = ReservationOut),
        (status = 409, description = "flash_sale_sold_out, flash_sale_out_of_stock (the quota remains, the store's \
            stock does not), flash_sale_limit_reached, flash_sale_not_active"),
        (status = 422, description = "idempotency_key_reused (the key again with another quantity), out_of_range \
            (quantity)"),
        (status = 400, description = "idempotency_key_required, invalid_idempotency_key"),
        (status = 404, description = "not_found: no such flash sale"),
        (status = 401, description = "unauthenticated: no customer session")))]
pub async fn reserve_flash(
    State(state): State<AppState>,
    Customer(shopper): Customer,
    ApiPath(id): ApiPath<Uuid>,
    create: KeyedCreate<ShopReserveIn>,
) -> Result<Response, ApiError> {
    let shopper = Shopper { idempotency: create.idempotency, ..shopper };
    let reservation = state.app.shop_reserve_flash(&shopper, id, create.body.quantity).await?;
    Ok((StatusCode::CREATED, axum::Json(ReservationOut::from(&reservation))).into_response())
}
