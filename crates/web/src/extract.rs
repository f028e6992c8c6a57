//! Request extractors that turn HTTP into use-case inputs and every failure into an
//! [`ApiError`]: the caller (session cookie or bearer token → [`Ctx`]), JSON bodies with
//! field-precise errors, idempotency keys, paths and queries.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request},
    http::{HeaderMap, Method, header, request::Parts},
};
use quanyu_app::{Ctx, Idempotency, Origin};
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::{ApiError, AppState};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "quanyu_session";

/// The authenticated caller, as a use-case context.
pub struct Auth(pub Ctx);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let secret = credential(&parts.headers).ok_or(quanyu_app::AppError::Unauthenticated)?;
        let actor = state.app.authenticate(&secret).await?;
        Ok(Auth(Ctx { actor, origin: origin(parts), idempotency: None }))
    }
}

/// The secret from `Authorization: Bearer …` or, failing that, the session cookie.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(token) = bearer {
        return Some(token.to_owned());
    }
    cookie(headers, SESSION_COOKIE)
}

/// A cookie's value from the request (`None` when absent or empty).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// Where a request came from: the peer address (when served with connect info) and agent.
pub fn origin(parts: &Parts) -> Origin {
    Origin {
        ip: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect()),
    }
}

/// A JSON body, deserialized with errors that name the offending field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody<T>, ApiError> {
        let bytes = read_json_body(request, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A create request: its JSON body and, when the client sent one, its idempotency key with a
/// fingerprint of method, path and body.
pub struct Create<T> {
    pub body: T,
    pub idempotency: Option<Idempotency>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Create<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Create<T>, ApiError> {
        let key = idempotency_key(request.headers())?;
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let bytes = read_json_body(request, state).await?;
        let body = parse_json(&bytes)?;
        let idempotency = key.map(|key| Idempotency { key, fingerprint: fingerprint(&method, &path, &bytes) });
        Ok(Create { body, idempotency })
    }
}

/// A create whose use case tells a retry from a reused key by itself — a flash reservation
/// compares the buyer and quantity it keeps with each key — so the request is not fingerprinted
/// (a JSON re-parse and a SHA-256 on every request of a rush): its JSON body and idempotency key.
/// The key's fingerprint is empty, so it must never reach `write_idempotent!`, which would
/// replay a stored reply for any body sent with the key.
pub struct KeyedCreate<T> {
    pub body: T,
    pub idempotency: Option<Idempotency>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for KeyedCreate<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<KeyedCreate<T>, ApiError> {
        let key = idempotency_key(request.headers())?;
        let body = parse_json(&read_json_body(request, state).await?)?;
        let idempotency = key.map(|key| Idempotency { key, fingerprint: String::new() });
        Ok(KeyedCreate { body, idempotency })
    }
}

/// The `Idempotency-Key` header, when sent: visible ASCII, 1–255 characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().map_err(|_| ApiError::invalid_idempotency_key())?.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_idempotency_key());
    }
    Ok(Some(key.to_owned()))
}

fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    // Equal JSON written differently (spacing, key order) is the same request.
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => hasher.update(value.to_string().as_bytes()),
        Err(_) => hasher.update(body),
    }
    quanyu_domain::text::hex(&hasher.finalize())
}

async fn read_json_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return Err(ApiError::unsupported_media_type());
    }
    Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large()
        } else {
            ApiError::unreadable_body(&rejection.body_text())
        }
    })
}

/// Deserializes JSON, turning serde's errors into field-precise API errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        json_error(&path, &inner)
    })?;
    deserializer.end().map_err(|e| ApiError::invalid_json(&e))?;
    Ok(value)
}

fn json_error(path: &str, err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = err.to_string();
    let detail = message.split(" at line ").next().unwrap_or(&message);
    let within =
        |field: &str| if path == "." || path.is_empty() { field.to_owned() } else { format!("{path}.{field}") };
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::invalid_json(err),
        Category::Data => {
            if let Some(field) = backticked(detail, "unknown field `") {
                // The path already ends at the unknown field.
                ApiError::unknown_field(if path == "." || path.is_empty() { field } else { path })
            } else if let Some(field) = backticked(detail, "missing field `") {
                ApiError::missing_field(&within(field))
            } else if path.ends_with("price") && (detail.contains("floating point") || detail.contains("out of range"))
            {
                // A price too large for a 64-bit number of 分 arrives as a float.
                ApiError::from(quanyu_app::AppError::Invalid(quanyu_domain::DomainError::MoneyOverflow {
                    field: "price",
                }))
                .with_field_name(path)
            } else {
                ApiError::invalid_type(path, detail)
            }
        }
    }
}

fn backticked<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let start = text.find(prefix)? + prefix.len();
    let rest = &text[start..];
    Some(&rest[..rest.find('`')?])
}

/// Path parameters, with a 400 that names the bad one.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiPath<T>, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::invalid_parameter("path", &rejection.body_text()))
    }
}

/// Query parameters, with a 400 that says what was wrong.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiQuery<T>, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::invalid_parameter("query", &rejection.body_text()))
    }
}

/// For PATCH bodies: tells "absent" (`None`) from "null" (`Some(None)`).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        base_price: i64,
    }

    #[test]
    fn json_errors_name_the_field() {
        let err = parse_json::<Sample>(br#"{"name":"x","base_price":1,"colour":"red"}"#).unwrap_err();
        assert_eq!((err.code, err.field.as_deref()), ("unknown_field", Some("colour")));
        let err = parse_json::<Sample>(br#"{"name":"x"}"#).unwrap_err();
        assert_eq!((err.code, err.field.as_deref()), ("missing_field", Some("base_price")));
        let err = parse_json::<Sample>(br#"{"name":1,"base_price":1}"#).unwrap_err();
        assert_eq!((err.code, err.field.as_deref()), ("invalid_type", Some("name")));
        let err = parse_json::<Sample>(br#"{"name":"x","base_price":99999999999999999999999}"#).unwrap_err();
        assert_eq!((err.code, err.field.as_deref()), ("money_overflow", Some("base_price")));
        let err = parse_json::<Sample>(br#"{"name":"#).unwrap_err();
        assert_eq!(err.code, "invalid_json");
    }

    #[test]
    fn fingerprints_ignore_formatting() {
        let a = fingerprint(&Method::POST, "/x", br#"{"a":1,"b":2}"#);
        let b = fingerprint(&Method::POST, "/x", br#"{ "b": 2, "a": 1 }"#);
        let c = fingerprint(&Method::POST, "/x", br#"{"a":1,"b":3}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
