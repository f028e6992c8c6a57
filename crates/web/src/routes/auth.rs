//! Login, logout, who am I, and API tokens for integrations.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use quanyu_app::{ApiTokenCreated, Ctx, NewApiToken};
use quanyu_domain::ids::TokenId;
use quanyu_store::TokenRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok, staff::StaffOut};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody, SESSION_COOKIE, credential, origin},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    /// Username or mobile number.
    login: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOut {
    /// Send as `Authorization: Bearer <token>`; the same value is set as the session cookie.
    token: String,
    expires_at: DateTime<Utc>,
    staff: StaffOut,
}

/// Logs in with username or phone and password.
///
/// Returns a bearer token and sets the `quanyu_session` cookie. Five wrong passwords for one
/// login within 15 minutes lock it for the rest of the window (429 `too_many_attempts`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn,
    responses((status = 200, body = LoginOut), (status = 401, description = "invalid_credentials"),
              (status = 429, description = "too_many_attempts")))]
pub async fn login(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let origin = origin(&parts);
    let JsonBody(input) = <JsonBody<LoginIn> as axum::extract::FromRequest<AppState>>::from_request(
        Request::from_parts(parts, body),
        &state,
    )
    .await?;
    let limiter_key = input.login.trim().to_lowercase();
    state.login_limiter.check(&limiter_key)?;
    let outcome = match state.app.login(&input.login, &input.password, &origin).await {
        Ok(outcome) => outcome,
        Err(err) => {
            if matches!(err, quanyu_app::AppError::InvalidCredentials) {
                state.login_limiter.record(&limiter_key);
            }
            return Err(err.into());
        }
    };
    state.login_limiter.forget(&limiter_key);
    let max_age = (outcome.expires_at - Utc::now()).num_seconds().max(0);
    let secure = if state.options.secure_cookies { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", outcome.secret);
    let mut response =
        ok(LoginOut { token: outcome.secret, expires_at: outcome.expires_at, staff: StaffOut::from(&outcome.staff) });
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Ends the current session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = credential(&headers) {
        state.app.logout(&ctx, &secret).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The logged-in staff member.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = StaffOut)))]
pub async fn me(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    let staff = state.app.get_staff(&ctx, ctx.actor.staff_id).await?;
    Ok(ok(StaffOut::from(&staff)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenIn {
    /// What the token is for, e.g. "ERP sync".
    name: String,
    /// Days until it expires (1–3650); omit for no expiry.
    expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenOut {
    id: Uuid,
    name: String,
    staff_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    /// Present only in the response that created it: store it, it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl ApiTokenOut {
    fn from_record(token: &TokenRecord, secret: Option<String>) -> ApiTokenOut {
        ApiTokenOut {
            id: token.id.as_uuid(),
            name: token.name.clone(),
            staff_id: token.staff_id.as_uuid(),
            created_at: token.created_at,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
            token: secret,
        }
    }
}

/// Issues an API token acting as the calling admin (HQ admin only).
///
/// The secret is in this response only. Honours `Idempotency-Key`, but a replay shows the
/// token without its secret: secrets are never stored, not even for replays.
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "auth", request_body = ApiTokenIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = ApiTokenOut)))]
pub async fn create_api_token(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<ApiTokenIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = NewApiToken { name: create.body.name, expires_in_days: create.body.expires_in_days };
    let stored = json_reply(|created: &ApiTokenCreated| ApiTokenOut::from_record(&created.token, None));
    let written = state.app.create_api_token(&ctx, input, &stored).await?;
    let with_secret =
        json_reply(|created: &ApiTokenCreated| ApiTokenOut::from_record(&created.token, Some(created.secret.clone())));
    Ok(created(written, &with_secret))
}

/// API tokens (HQ admin only).
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "auth", params(PageQuery),
    responses((status = 200, body = ListOut<ApiTokenOut>)))]
pub async fn list_api_tokens(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let listing = state.app.list_api_tokens(&ctx, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |t| ApiTokenOut::from_record(&t, None))))
}

/// Revokes an API token.
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "auth", responses((status = 204)))]
pub async fn revoke_api_token(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    state.app.revoke_api_token(&ctx, TokenId::from_uuid(id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
