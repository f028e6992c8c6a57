//! Audiences: the live count of a segment expression while it is typed.

use std::fmt::Write as _;

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
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
    /// e.g. `stage = "maturity" and region = "E" and not #投诉 and last_order_days <= 30`.
    /// Fields: tier, home_store, region (codes), stage; points, spend_365d (分), orders_365d, r, f,
    /// m (1–5), last_order_days; tags as `#name` or `tag("name")`.
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

/// The members an expression selects as CSV (`ordinal,customer_id,display_name,phone,home_store_id,guide_id`),
/// for a campaign or a hand-off to guides (HQ; audited). At most 100,000 members.
#[utoipa::path(post, path = "/api/v1/audiences/export", tag = "customers", request_body = AudienceCountIn,
    responses((status = 200, description = "text/csv", content_type = "text/csv"),
              (status = 422, description = "too_many_members, unexpected_token…")))]
pub async fn export(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<AudienceCountIn>,
) -> Result<Response, ApiError> {
    let rows = state.app.audience_members(&ctx, &input.expression).await?;
    let mut csv = String::from("ordinal,customer_id,display_name,phone,home_store_id,guide_id\n");
    for (customer, phone) in &rows {
        let name = customer.display_name.as_deref().unwrap_or_default();
        // Names are the only free text: quote them, doubling quotes, and defuse spreadsheet formulas.
        let name = name.trim_start_matches(['=', '+', '-', '@']).replace('"', "\"\"");
        let _ = writeln!(
            csv,
            "{},{},\"{name}\",{},{},{}",
            customer.ordinal,
            customer.id,
            phone.as_deref().unwrap_or_default(),
            customer.home_store_id.map(|s| s.to_string()).unwrap_or_default(),
            customer.guide_id.map(|g| g.to_string()).unwrap_or_default(),
        );
    }
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookalikeIn {
    /// The seed audience, as an expression (e.g. `rfm_segment = "重要价值客户"`).
    seed: String,
    /// How many lookalikes (1–10,000, default 100).
    limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookalikeOut {
    customer_id: uuid::Uuid,
    display_name: Option<String>,
    phone: Option<String>,
    /// Higher is more alike: the sum of the weights of the seed's features the member has.
    score: f64,
    /// The features that count most: `#tag` or `field=value`.
    features: Vec<String>,
}

/// The members (within the caller's scope, the seed left out) most like a seed audience, with
/// what makes them alike (精准获客; HQ).
#[utoipa::path(post, path = "/api/v1/audiences/lookalike", tag = "customers", request_body = LookalikeIn,
    responses((status = 200, body = Vec<LookalikeOut>)))]
pub async fn lookalike(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<LookalikeIn>,
) -> Result<Response, ApiError> {
    let ranked = state.app.audience_lookalike(&ctx, &input.seed, input.limit.unwrap_or(100)).await?;
    Ok(ok(ranked
        .into_iter()
        .map(|(customer, phone, score, features)| LookalikeOut {
            customer_id: customer.id.as_uuid(),
            display_name: customer.display_name,
            phone,
            score: (score * 1_000.0).round() / 1_000.0,
            features,
        })
        .collect::<Vec<_>>()))
}
