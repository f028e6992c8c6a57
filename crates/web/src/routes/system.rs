//! Health, metrics, the OpenAPI document and its browsable page.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::{AppState, openapi::ApiDoc};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    version: &'static str,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let database = state.app.database().backend().as_str();
    let version = env!("CARGO_PKG_VERSION");
    match state.app.chain().await {
        Ok(_) => axum::Json(Health { status: "ok", database, version }).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(Health { status: "degraded", database, version }))
                .into_response()
        }
    }
}

/// Prometheus metrics in the text exposition format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

pub async fn openapi_json() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}

/// A self-contained HTML page listing every operation, rendered from the OpenAPI document on
/// the server: no script, no CDN, works offline.
pub async fn docs() -> Html<String> {
    Html(crate::openapi::render_docs(&ApiDoc::openapi()))
}
