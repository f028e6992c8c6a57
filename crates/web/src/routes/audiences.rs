//! Audiences: the live count of a segment expression while it is typed.

use axum::{extract::State, response::Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ok;
use crate::{
    ApiError, AppState,
    extract::{Auth, JsonBody},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceCountIn {
    /// e.g. `tier in (gold, platinum) and points >= 500 and not region = "SH"`. Fields: tier,
    /// home_store, region (codes); points, spend_365d (分), orders_365d.
    expression: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceCountOut {
    /// Members selected (within the caller's region or store for staff below HQ).
    count: u64,
}

/// How many members an expression selects. A malformed expression gets a 422 saying where
/// (line and column) and what was expected; an unknown field or tag is named.
#[utoipa::path(post, path = "/api/v1/audiences/count", tag = "customers", request_body = AudienceCountIn,
    responses((status = 200, body = AudienceCountOut),
              (status = 422, description = "unexpected_token, unknown_field, type_mismatch…")))]
pub async fn count(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<AudienceCountIn>,
) -> Result<Response, ApiError> {
    Ok(ok(AudienceCountOut { count: state.app.audience_count(&ctx, &input.expression).await? }))
}
