//! Flash sales: create an offer, read it, and reserve through the batched path.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, FlashSaleDraft};
use quanyu_domain::ids::{SkuId, StoreId};
use quanyu_store::{FlashReservation, FlashSale};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, Auth, Create, KeyedCreate},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct FlashSaleOut {
    id: Uuid,
    store_id: Uuid,
    sku_id: Uuid,
    /// 分.
    price: i64,
    quota: i64,
    sold: i64,
    remaining: i64,
    per_customer_limit: i64,
    /// Minutes a reservation holds before it must become an order.
    hold_minutes: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

impl From<&FlashSale> for FlashSaleOut {
    fn from(s: &FlashSale) -> Self {
        FlashSaleOut {
            id: s.id,
            store_id: s.store_id.as_uuid(),
            sku_id: s.sku_id.as_uuid(),
            price: s.price.fen(),
            quota: s.quota,
            sold: s.sold,
            remaining: s.quota - s.sold,
            per_customer_limit: s.per_customer_limit,
            hold_minutes: s.hold_minutes,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlashSaleIn {
    store_id: Uuid,
    sku_id: Uuid,
    /// The flash price in 分.
    price: i64,
    quota: i64,
    per_customer_limit: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    /// Minutes a reservation holds before it must become an order (1–1440, default 15).
    hold_minutes: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationOut {
    id: Uuid,
    sale_id: Uuid,
    buyer: String,
    quantity: i64,
    at: DateTime<Utc>,
    /// held, ordered or released.
    status: String,
    /// Order it before this (`POST /api/v1/orders` with `flash_reservation_id`), or it is released.
    expires_at: DateTime<Utc>,
    order_id: Option<Uuid>,
}

impl From<&FlashReservation> for ReservationOut {
    fn from(r: &FlashReservation) -> Self {
        ReservationOut {
            id: r.id,
            sale_id: r.sale_id,
            buyer: r.buyer.name().into_owned(),
            quantity: r.quantity,
            at: r.at,
            status: r.status.as_str().to_owned(),
            expires_at: r.expires_at,
            order_id: r.order_id.map(|o| o.as_uuid()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationIn {
    /// Who buys: a member id (any case) or the phone of a member (`+86` and spaces allowed);
    /// the per-customer limit counts per member, however they are named. A phone no member
    /// holds is `unknown_reference`; anything else is `malformed`.
    buyer: String,
    quantity: i64,
}

/// Creates a flash-sale offer on a store's SKU (store manager and above).
#[utoipa::path(post, path = "/api/v1/flash-sales", tag = "flash sales", request_body = FlashSaleIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = FlashSaleOut)))]
pub async fn create_flash_sale(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<FlashSaleIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = FlashSaleDraft {
        store_id: Some(StoreId::from_uuid(input.store_id)),
        sku_id: Some(SkuId::from_uuid(input.sku_id)),
        price: input.price,
        quota: input.quota,
        per_customer_limit: input.per_customer_limit,
        starts_at: Some(input.starts_at),
        ends_at: Some(input.ends_at),
        hold_minutes: input.hold_minutes,
    };
    let reply = json_reply(|sale: &FlashSale| FlashSaleOut::from(sale));
    Ok(created(state.app.create_flash_sale(&ctx, draft, &reply).await?, &reply))
}

/// A flash sale with what is sold and what remains.
#[utoipa::path(get, path = "/api/v1/flash-sales/{id}", tag = "flash sales", responses((status = 200, body = FlashSaleOut)))]
pub async fn get_flash_sale(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let sale = state.app.get_flash_sale(&ctx, id).await?;
    Ok(ok(FlashSaleOut::from(&sale)))
}

/// Reserves units of a flash sale for a buyer. Requests for one sale are batched into one
/// transaction and answered after it commits. `Idempotency-Key` is required, and it is the
/// buyer's: a retry for the same buyer finds its reservation, the same key for another buyer
/// is another request (another reservation).
#[utoipa::path(post, path = "/api/v1/flash-sales/{id}/reservations", tag = "flash sales", request_body = ReservationIn,
    params(("Idempotency-Key" = String, Header, description = "Required, and the buyer's: a retry with the same buyer \
        finds its reservation (another quantity is idempotency_key_reused); the same key for another buyer is \
        another request")),
    responses((status = 201, body = ReservationOut),
              (status = 409, description = "flash_sale_sold_out, flash_sale_out_of_stock (the quota remains, the \
                  store's stock does not), flash_sale_limit_reached, flash_sale_not_active"),
              (status = 422, description = "buyer malformed (not a member id or phone) or unknown_reference (a phone \
                  no member holds)")))]
pub async fn reserve(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: KeyedCreate<ReservationIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let reservation = state.app.reserve_flash_sale(&ctx, id, &create.body.buyer, create.body.quantity).await?;
    Ok((StatusCode::CREATED, axum::Json(ReservationOut::from(&reservation))).into_response())
}
