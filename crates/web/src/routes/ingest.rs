//! Event ingest, compatible with the Segment / RudderStack HTTP spec, so the analytics SDKs send
//! to Quanyu unchanged: `POST /v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`,
//! `/v1/group`, `/v1/alias` and `/v1/batch`, authenticated by a source's write key (HTTP Basic
//! with the key as the user name, or `writeKey` in the body).
//!
//! Each message is checked on its own: a batch with bad messages stores the good ones and
//! reports each bad one by its index. A message is acknowledged only once it is committed, and a
//! retried message (same source and `messageId`) is stored once. Batches are at most 500 KB
//! (413 beyond), messages 32 KB. Bodies are read without building a JSON tree ([`messages`]).

use axum::{
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::HeaderMap,
    response::Response,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use quanyu_domain::events::{EventType, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES};
use serde::Serialize;
use serde_json::{Value, value::RawValue};
use utoipa::ToSchema;

use super::ok;
use crate::{ApiError, AppState, lang::Lang};

mod messages;

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedOut {
    /// The message's position in the batch (0 for a single message).
    index: usize,
    /// invalid_message, invalid_type, invalid_message_id, missing_identity, missing_event…
    code: String,
    message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestOut {
    success: bool,
    /// Messages stored now.
    accepted: u64,
    /// Messages sent before (same messageId), stored once already.
    duplicates: u64,
    rejected: Vec<RejectedOut>,
}

/// The body as bytes, at most `limit` long.
fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large()
        } else {
            ApiError::unreadable_body(&rejection.body_text())
        }
    })?;
    if bytes.len() > limit { Err(ApiError::payload_too_large()) } else { Ok(bytes) }
}

/// The write key: HTTP Basic's user name, or the body's `writeKey`.
fn write_key(headers: &HeaderMap, in_body: Option<&RawValue>) -> Option<String> {
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .map(|pair| pair.split(':').next().unwrap_or_default().to_owned());
    basic.filter(|key| !key.is_empty()).or_else(|| messages::text(in_body, "writeKey").ok().flatten())
}

async fn ingest(
    state: &AppState,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
    kind: Option<EventType>,
) -> Result<Response, ApiError> {
    let bytes = body(raw, if kind.is_some() { MAX_MESSAGE_BYTES + 4096 } else { MAX_BATCH_BYTES })?;
    let (items, context, key) = match kind {
        Some(_) => {
            let single: messages::Fields<'_> = messages::body(&bytes)?;
            let key = single.write_key;
            (vec![messages::Item(Some(single))], None, key)
        }
        None => {
            let batch: messages::Body<'_> = messages::body(&bytes)?;
            let items = batch.batch.ok_or_else(|| {
                ApiError::invalid_json_shape("batch 须为消息数组", "batch must be an array of messages")
            })?;
            if items.len() > MAX_BATCH_MESSAGES {
                return Err(ApiError::payload_too_large());
            }
            (items, batch.context, batch.write_key)
        }
    };
    let key = write_key(headers, key).ok_or(quanyu_app::AppError::Unauthenticated)?;
    let source = state.app.event_source(&key).await?;
    let lang = Lang::from_headers(headers);
    let mut accepted = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match messages::message(item.0, kind, context) {
            Ok(message) => accepted.push(message),
            Err(err) => rejected.push((index, err)),
        }
    }
    if accepted.is_empty()
        && let Some((index, err)) = rejected.first()
    {
        let field = if kind.is_some() { "event".to_owned() } else { format!("batch[{index}]") };
        return Err(ApiError::bad_event(err, field));
    }
    let outcome = state.app.ingest(&source, accepted).await?;
    Ok(ok(IngestOut {
        success: true,
        accepted: outcome.accepted,
        duplicates: outcome.duplicates,
        rejected: rejected
            .into_iter()
            .map(|(index, err)| RejectedOut {
                index,
                code: err.code().to_owned(),
                message: crate::error::event_error_text(&err, lang),
            })
            .collect(),
    }))
}

macro_rules! single {
    ($($(#[$doc:meta])* $name:ident => $kind:expr, $path:literal;)*) => {$(
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "events", responses((status = 200, body = IngestOut),
            (status = 400, description = "a bad message"), (status = 401, description = "unknown write key")))]
        pub async fn $name(
            State(state): State<AppState>,
            headers: HeaderMap,
            raw: Result<Bytes, BytesRejection>,
        ) -> Result<Response, ApiError> {
            ingest(&state, &headers, raw, Some($kind)).await
        }
    )*};
}

single! {
    /// A `track` message: an action a customer took.
    track => EventType::Track, "/v1/track";
    /// An `identify` message: who a visitor is, with traits; ties their anonymous id to them.
    identify => EventType::Identify, "/v1/identify";
    /// A `page` message: a page viewed.
    page => EventType::Page, "/v1/page";
    /// A `screen` message: an app screen viewed.
    screen => EventType::Screen, "/v1/screen";
    /// A `group` message: the customer's company or household.
    group => EventType::Group, "/v1/group";
    /// An `alias` message: `previousId` is the same person as `userId`.
    alias => EventType::Alias, "/v1/alias";
}

/// Many messages of any type in one request (`{"batch": [...]}`), at most 500 KB.
#[utoipa::path(post, path = "/v1/batch", tag = "events", responses((status = 200, body = IngestOut),
    (status = 400, description = "no message could be read"), (status = 401, description = "unknown write key"),
    (status = 413, description = "over 500 KB")))]
pub async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest(&state, &headers, raw, None).await
}

#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSourceIn {
    /// What sends: 小程序, 官网, POS…
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventSourceOut {
    id: uuid::Uuid,
    name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    /// Shown once, at creation: the SDKs' write key.
    #[serde(skip_serializing_if = "Option::is_none")]
    write_key: Option<String>,
}

impl EventSourceOut {
    fn from(source: &quanyu_store::EventSource, write_key: Option<String>) -> EventSourceOut {
        EventSourceOut {
            id: source.id,
            name: source.name.clone(),
            created_at: source.created_at,
            revoked_at: source.revoked_at,
            write_key,
        }
    }
}

/// Registers a system that sends events and returns its write key, once (HQ admins).
#[utoipa::path(post, path = "/api/v1/event-sources", tag = "events", request_body = EventSourceIn,
    responses((status = 201, body = EventSourceOut)))]
pub async fn create_event_source(
    State(state): State<AppState>,
    crate::extract::Auth(ctx): crate::extract::Auth,
    create: crate::extract::Create<EventSourceIn>,
) -> Result<Response, ApiError> {
    let ctx = quanyu_app::Ctx { idempotency: create.idempotency, ..ctx };
    let reply = super::json_reply(|c: &quanyu_app::EventSourceCreated| {
        EventSourceOut::from(&c.source, Some(c.write_key.clone()))
    });
    Ok(super::created(state.app.create_event_source(&ctx, &create.body.name, &reply).await?, &reply))
}

#[utoipa::path(get, path = "/api/v1/event-sources", tag = "events", responses((status = 200, body = Vec<EventSourceOut>)))]
pub async fn list_event_sources(
    State(state): State<AppState>,
    crate::extract::Auth(ctx): crate::extract::Auth,
) -> Result<Response, ApiError> {
    let sources = state.app.event_sources(&ctx).await?;
    Ok(ok(sources.iter().map(|s| EventSourceOut::from(s, None)).collect::<Vec<_>>()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    id: uuid::Uuid,
    /// track, identify, page, screen, group or alias.
    #[serde(rename = "type")]
    kind: String,
    message_id: String,
    /// The track's event, the page's or screen's name, the group's id.
    name: Option<String>,
    user_id: Option<String>,
    anonymous_id: Option<String>,
    properties: Value,
    traits: Value,
    context: Value,
    occurred_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
}

impl From<&quanyu_store::StoredEvent> for EventOut {
    fn from(e: &quanyu_store::StoredEvent) -> Self {
        let json = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
        EventOut {
            id: e.id,
            kind: e.message.kind.as_str().to_owned(),
            message_id: e.message.message_id.clone(),
            name: e.message.name.clone(),
            user_id: e.message.user_id.clone(),
            anonymous_id: e.message.anonymous_id.clone(),
            properties: json(&e.message.properties),
            traits: json(&e.message.traits),
            context: json(&e.message.context),
            occurred_at: e.occurred_at,
            received_at: e.received_at,
        }
    }
}

/// A customer's events, newest first (those sent before they were identified included).
#[utoipa::path(get, path = "/api/v1/customers/{id}/events", tag = "events", params(super::PageQuery),
    responses((status = 200, body = super::ListOut<EventOut>)))]
pub async fn customer_events(
    State(state): State<AppState>,
    crate::extract::Auth(ctx): crate::extract::Auth,
    crate::extract::ApiPath(id): crate::extract::ApiPath<uuid::Uuid>,
    crate::extract::ApiQuery(page): crate::extract::ApiQuery<super::PageQuery>,
) -> Result<Response, ApiError> {
    let customer = quanyu_domain::ids::CustomerId::from_uuid(id);
    let listing = state.app.customer_events(&ctx, customer, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(super::ListOut::from_listing(listing, |e| EventOut::from(&e))))
}
