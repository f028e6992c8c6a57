//! The `/api/v1` routes, one module per area, and the helpers they share for lists and
//! idempotent creates.

pub mod audiences;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod customers;
pub mod documents;
pub mod flash;
pub mod group_buys;
pub mod ingest;
pub mod inventory;
pub mod marketing;
pub mod orders;
pub mod org;
pub mod profile;
pub mod quotes;
pub mod referral;
pub mod reports;
pub mod shop;
pub mod staff;
pub mod stored_value;
pub mod system;
pub mod tags;
pub mod till;
pub mod workbench;

use axum::{
    Json,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use quanyu_app::{Listing, StoredReply, Written};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One page of a list. `next_cursor` is absent on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOut<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> ListOut<T> {
    pub fn from_listing<U>(listing: Listing<U>, to_dto: impl FnMut(U) -> T) -> ListOut<T> {
        let listing = listing.map(to_dto);
        ListOut { items: listing.items, next_cursor: listing.next_cursor.map(|c| c.0) }
    }
}

/// A step of an order's or a stock document's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepOut {
    /// created, pay, start_picking… (orders); created, approve, ship, receive… (documents).
    event: String,
    from_status: Option<String>,
    to_status: String,
    actor_id: Option<uuid::Uuid>,
    note: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
}

impl<I> From<&quanyu_store::TimelineStep<I>> for StepOut {
    fn from(s: &quanyu_store::TimelineStep<I>) -> Self {
        StepOut {
            event: s.event.clone(),
            from_status: s.from_status.clone(),
            to_status: s.to_status.clone(),
            actor_id: s.actor_id.map(|a| a.as_uuid()),
            note: s.note.clone(),
            at: s.at,
        }
    }
}

/// Cursor pagination parameters shared by every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    pub limit: Option<u32>,
}

/// Renders a created value as `201 Created` with its JSON, for the response and for the
/// idempotency record alike.
pub fn json_reply<T, D: Serialize>(to_dto: impl Fn(&T) -> D + Sync) -> impl Fn(&T) -> StoredReply + Sync {
    move |value| StoredReply {
        status: StatusCode::CREATED.as_u16(),
        body: serde_json::to_vec(&to_dto(value)).unwrap_or_default(),
    }
}

/// The response to an idempotent create: fresh, or the stored reply of the first request
/// (marked `Idempotent-Replayed: true`).
pub fn created<T>(written: Written<T>, reply: &(dyn Fn(&T) -> StoredReply + Sync)) -> Response {
    let (stored, replayed) = match written {
        Written::Fresh(value) => (reply(&value), false),
        Written::Replayed(stored) => (stored, true),
    };
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    let mut response = (status, [(axum::http::header::CONTENT_TYPE, "application/json")], stored.body).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// A `200 OK` JSON response.
pub fn ok<T: Serialize>(value: T) -> Response {
    Json(value).into_response()
}
