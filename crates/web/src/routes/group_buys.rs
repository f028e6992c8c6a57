//! Group buys (拼团): offers and groups. Customers open or join a group by creating an order with
//! `group_buy`.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, GroupDetail, GroupOfferDraft};
use quanyu_domain::{
    group_buy::GroupBuyOffer,
    ids::{SkuId, StoreId},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, Auth, Create},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupOfferIn {
    name: String,
    store_id: Uuid,
    sku_id: Uuid,
    /// 分 per unit.
    group_price: i64,
    /// Members per group, 2–100.
    group_size: i64,
    /// How long a group gathers once opened.
    window_minutes: i64,
    /// When groups may be opened.
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOfferOut {
    id: Uuid,
    name: String,
    store_id: Uuid,
    sku_id: Uuid,
    group_price: i64,
    group_size: i64,
    window_minutes: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

impl From<&GroupBuyOffer> for GroupOfferOut {
    fn from(o: &GroupBuyOffer) -> Self {
        GroupOfferOut {
            id: o.id,
            name: o.name.clone(),
            store_id: o.store_id.as_uuid(),
            sku_id: o.sku_id.as_uuid(),
            group_price: o.group_price.fen(),
            group_size: o.group_size,
            window_minutes: o.window_minutes,
            starts_at: o.starts_at,
            ends_at: o.ends_at,
        }
    }
}

/// Defines a group-buy offer (HQ).
#[utoipa::path(post, path = "/api/v1/group-offers", tag = "marketing", request_body = GroupOfferIn,
    responses((status = 201, body = GroupOfferOut)))]
pub async fn create_group_offer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<GroupOfferIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = GroupOfferDraft {
        name: input.name,
        store_id: Some(StoreId::from_uuid(input.store_id)),
        sku_id: Some(SkuId::from_uuid(input.sku_id)),
        group_price: input.group_price,
        group_size: input.group_size,
        window_minutes: input.window_minutes,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
    };
    let reply = json_reply(|o: &GroupBuyOffer| GroupOfferOut::from(o));
    Ok(created(state.app.create_group_offer(&ctx, draft, &reply).await?, &reply))
}

#[utoipa::path(get, path = "/api/v1/group-offers/{id}", tag = "marketing", responses((status = 200, body = GroupOfferOut)))]
pub async fn get_group_offer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(GroupOfferOut::from(&state.app.group_offer(&ctx, id).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    id: Uuid,
    offer_id: Uuid,
    size: i64,
    /// Seats taken by orders not cancelled.
    seats: i64,
    /// open, formed or failed.
    status: String,
    opened_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    formed_at: Option<DateTime<Utc>>,
    order_ids: Vec<Uuid>,
}

impl From<&GroupDetail> for GroupOut {
    fn from(d: &GroupDetail) -> Self {
        let g = &d.group;
        GroupOut {
            id: g.id,
            offer_id: g.offer_id,
            size: g.size,
            seats: g.seats,
            status: g.status.as_str().to_owned(),
            opened_at: g.opened_at,
            expires_at: g.expires_at,
            formed_at: g.formed_at,
            order_ids: d.orders.iter().map(|o| o.as_uuid()).collect(),
        }
    }
}

/// A group and the orders holding its seats.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "marketing", responses((status = 200, body = GroupOut)))]
pub async fn get_group(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(GroupOut::from(&state.app.group(&ctx, id).await?)))
}
