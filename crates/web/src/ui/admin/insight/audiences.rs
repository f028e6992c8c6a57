//! Audiences (`/admin/audiences`): the expression editor with a live count while typing (the
//! page's script calls `POST /api/v1/audiences/count`, debounced, and marks where a malformed
//! expression goes wrong), a short grammar help with the fields and the chain's tags, saved
//! audiences with their counts, saving, CSV export, and hand-offs (coupons to the audience,
//! follow-up tasks for guides) through the API.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_audience::FieldKind;
use serde::Deserialize;

use super::{empty_as_none, guard};
use crate::{
    AppState,
    ui::{
        admin::page,
        page::{Staff, UiError},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct AudiencesQuery {
    /// An expression to start the editor with (from a saved audience's "edit").
    #[serde(default, deserialize_with = "empty_as_none")]
    expression: Option<String>,
    /// The page of saved audiences (by name).
    #[serde(default, deserialize_with = "empty_as_none")]
    cursor: Option<String>,
}

/// Saved audiences per page: each is counted as the page renders.
const SAVED_PAGE: u32 = 20;

/// A saved audience as the page lists it.
#[derive(serde::Serialize)]
struct SavedRow {
    id: String,
    name: String,
    expression: String,
    count: u64,
    created_at: String,
}

pub async fn audiences(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<AudiencesQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "audiences")?;
    let (app, ctx) = (&state.app, &staff.ctx);
    let fail = |e| UiError::api(e, lang);
    let saved = app.saved_audiences(ctx, query.cursor.as_deref(), Some(SAVED_PAGE)).await.map_err(fail)?;
    let next_cursor = saved.next_cursor.map(|c| c.0);
    let saved: Vec<SavedRow> = saved
        .items
        .into_iter()
        .map(|(a, count)| SavedRow {
            id: a.id.to_string(),
            name: a.name,
            expression: a.expression,
            count,
            created_at: a.created_at.to_rfc3339(),
        })
        .collect();
    let mut tags: Vec<(String, i64)> =
        app.tags(ctx).await.map_err(fail)?.into_iter().map(|(t, n)| (t.name, n)).collect();
    tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    tags.truncate(40);
    let coupon_templates: Vec<(String, String)> = app
        .coupon_templates(ctx, Default::default(), None, Some(200))
        .await
        .map_err(fail)?
        .items
        .into_iter()
        .filter(|t| t.status.as_str() == "active")
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    let schema = quanyu_app::audience_schema();
    let fields: Vec<(&str, &str)> = schema
        .fields()
        .map(|(name, kind)| (name, if kind == FieldKind::Numeric { "numeric" } else { "categorical" }))
        .collect();
    page(
        &staff,
        "admin/audiences.html",
        "audiences",
        minijinja::context! {
            saved => Value::from_serialize(&saved),
            cursor => query.cursor,
            next_cursor,
            expression => query.expression.unwrap_or_default(),
            tags,
            fields,
            coupon_templates,
            max_expression => quanyu_app::MAX_EXPRESSION,
        },
    )
    .map(IntoResponse::into_response)
}
