//! Tags (标签): definitions, tagging a customer by hand, tagging a list by CSV import; and
//! saved audiences (人群), counted live.

use axum::{body::Bytes, extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_domain::{DomainError, Expected, ids::CustomerId};
use quanyu_store::{SavedAudience, Tag};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ok;
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, JsonBody},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagIn {
    name: String,
    /// manual (staff tag by hand, default) or imported; a tag with a `rule` is a rule tag.
    kind: Option<String>,
    description: Option<String>,
    rule: Option<TagRuleDto>,
}

/// At least `min_count` of `event` in the last `window_days` days: "bought fresh ≥ 3 times in
/// 30 days" is `{"event": "Order Paid", "category_id": <生鲜>, "min_count": 3, "window_days": 30}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRuleDto {
    /// `Order Paid`, or any tracked event's name.
    event: String,
    /// Only with `Order Paid`: a line of this category or a subcategory.
    category_id: Option<Uuid>,
    min_count: i64,
    window_days: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagOut {
    id: Uuid,
    name: String,
    kind: String,
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<TagRuleDto>,
    /// Customers carrying it (in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    customers: Option<i64>,
    created_at: DateTime<Utc>,
}

impl TagOut {
    pub(super) fn from(tag: &Tag, customers: Option<i64>) -> TagOut {
        TagOut {
            id: tag.id,
            name: tag.name.clone(),
            kind: tag.kind.clone(),
            description: tag.description.clone(),
            rule: tag.rule.as_ref().map(|r| TagRuleDto {
                event: r.event.clone(),
                category_id: r.category_id.map(|c| c.as_uuid()),
                min_count: r.min_count,
                window_days: r.window_days,
            }),
            customers,
            created_at: tag.created_at,
        }
    }
}

/// Defines a tag (HQ marketing).
#[utoipa::path(post, path = "/api/v1/tags", tag = "customers", request_body = TagIn, responses((status = 201, body = TagOut)))]
pub async fn create_tag(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<TagIn>,
) -> Result<Response, ApiError> {
    let tag = match input.rule {
        Some(rule) => {
            let rule = quanyu_domain::customer::TagRule {
                event: rule.event,
                category_id: rule.category_id.map(quanyu_domain::ids::CategoryId::from_uuid),
                min_count: rule.min_count,
                window_days: rule.window_days,
            };
            state.app.create_rule_tag(&ctx, &input.name, rule, input.description.as_deref()).await?
        }
        None => {
            let kind = input.kind.unwrap_or_else(|| "manual".to_owned());
            state.app.create_tag(&ctx, &input.name, &kind, input.description.as_deref()).await?
        }
    };
    let mut response = ok(TagOut::from(&tag, None));
    *response.status_mut() = axum::http::StatusCode::CREATED;
    Ok(response)
}

/// Every tag with how many customers carry it.
#[utoipa::path(get, path = "/api/v1/tags", tag = "customers", responses((status = 200, body = Vec<TagOut>)))]
pub async fn list_tags(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    let tags = state.app.tags(&ctx).await?;
    Ok(ok(tags.iter().map(|(tag, count)| TagOut::from(tag, Some(*count))).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerTagIn {
    tag: String,
}

/// The tags a customer carries.
#[utoipa::path(get, path = "/api/v1/customers/{id}/tags", tag = "customers", responses((status = 200, body = Vec<TagOut>)))]
pub async fn customer_tags(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let tags = state.app.customer_tags(&ctx, CustomerId::from_uuid(id)).await?;
    Ok(ok(tags.iter().map(|t| TagOut::from(t, None)).collect::<Vec<_>>()))
}

/// Tags a customer (cashiers, guides and above); returns their tags.
#[utoipa::path(post, path = "/api/v1/customers/{id}/tags", tag = "customers", request_body = CustomerTagIn,
    responses((status = 200, body = Vec<TagOut>)))]
pub async fn tag_customer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<CustomerTagIn>,
) -> Result<Response, ApiError> {
    let tags = state.app.set_customer_tag(&ctx, CustomerId::from_uuid(id), &input.tag, true).await?;
    Ok(ok(tags.iter().map(|t| TagOut::from(t, None)).collect::<Vec<_>>()))
}

/// Takes a tag off a customer; returns their tags.
#[utoipa::path(post, path = "/api/v1/customers/{id}/untag", tag = "customers", request_body = CustomerTagIn,
    responses((status = 200, body = Vec<TagOut>)))]
pub async fn untag_customer(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<CustomerTagIn>,
) -> Result<Response, ApiError> {
    let tags = state.app.set_customer_tag(&ctx, CustomerId::from_uuid(id), &input.tag, false).await?;
    Ok(ok(tags.iter().map(|t| TagOut::from(t, None)).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The tag to give.
    tag: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagImportOut {
    tagged: u64,
    already: u64,
    /// Data rows (1 is the first after the header) whose identifier is malformed or unknown.
    unknown_rows: Vec<usize>,
}

/// Tags the customers a CSV names (HQ marketing). The header is `kind,value` (kinds: phone,
/// wechat_openid, wechat_unionid, wecom_external_id, member_card) or just `phone`.
#[utoipa::path(post, path = "/api/v1/tag-imports", tag = "customers", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"), responses((status = 200, body = TagImportOut)))]
pub async fn import_tag(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::from(DomainError::Malformed { field: "body", expected: Expected::Utf8Csv }))?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let header = lines.next().unwrap_or_default().trim_start_matches('\u{feff}').to_ascii_lowercase();
    let phones_only = match header.replace(' ', "").as_str() {
        "kind,value" => false,
        "phone" => true,
        _ => {
            return Err(DomainError::Malformed { field: "header", expected: Expected::TagCsvHeader }.into());
        }
    };
    let rows: Vec<(String, String)> = lines
        .map(|line| match (phones_only, line.split_once(',')) {
            (true, _) => ("phone".to_owned(), line.to_owned()),
            (false, Some((kind, value))) => (kind.trim().to_owned(), value.trim().to_owned()),
            (false, None) => (String::new(), line.to_owned()),
        })
        .collect();
    let outcome = state.app.import_tag(&ctx, &query.tag, &rows).await?;
    Ok(ok(TagImportOut {
        tagged: outcome.tagged,
        already: outcome.already,
        unknown_rows: outcome.unknown.iter().map(|row| row + 1).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedAudienceIn {
    name: String,
    expression: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedAudienceOut {
    id: Uuid,
    name: String,
    expression: String,
    /// Members it selects now (within the caller's scope).
    count: u64,
    created_at: DateTime<Utc>,
}

impl SavedAudienceOut {
    fn from((audience, count): &(SavedAudience, u64)) -> SavedAudienceOut {
        SavedAudienceOut {
            id: audience.id,
            name: audience.name.clone(),
            expression: audience.expression.clone(),
            count: *count,
            created_at: audience.created_at,
        }
    }
}

/// Saves an expression as a named audience (HQ marketing); it stays current because it is
/// counted when read.
#[utoipa::path(post, path = "/api/v1/audiences", tag = "customers", request_body = SavedAudienceIn,
    responses((status = 201, body = SavedAudienceOut)))]
pub async fn save_audience(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<SavedAudienceIn>,
) -> Result<Response, ApiError> {
    let saved = state.app.save_audience(&ctx, &input.name, &input.expression).await?;
    let mut response = ok(SavedAudienceOut::from(&saved));
    *response.status_mut() = axum::http::StatusCode::CREATED;
    Ok(response)
}

/// Saved audiences by name, each counted now.
#[utoipa::path(get, path = "/api/v1/audiences", tag = "customers", params(super::PageQuery),
    responses((status = 200, body = super::ListOut<SavedAudienceOut>)))]
pub async fn list_audiences(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(page): ApiQuery<super::PageQuery>,
) -> Result<Response, ApiError> {
    let saved = state.app.saved_audiences(&ctx, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(super::ListOut::from_listing(saved, |s| SavedAudienceOut::from(&s))))
}

#[utoipa::path(get, path = "/api/v1/audiences/{id}", tag = "customers", responses((status = 200, body = SavedAudienceOut)))]
pub async fn get_audience(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(SavedAudienceOut::from(&state.app.saved_audience(&ctx, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceCouponsIn {
    template_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceCouponsOut {
    issued: u64,
    /// Given by an earlier hand-off of the same audience and template.
    already: u64,
    /// Refused by the template's per-member limit, or left when its budget ran out.
    refused: u64,
}

/// Gives every member of a saved audience a coupon (HQ marketing); running it again gives none
/// twice.
#[utoipa::path(post, path = "/api/v1/audiences/{id}/coupons", tag = "customers", request_body = AudienceCouponsIn,
    responses((status = 200, body = AudienceCouponsOut)))]
pub async fn audience_coupons(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<AudienceCouponsIn>,
) -> Result<Response, ApiError> {
    let template = quanyu_domain::ids::CouponTemplateId::from_uuid(input.template_id);
    let outcome = state.app.issue_to_audience(&ctx, id, template).await?;
    Ok(ok(AudienceCouponsOut { issued: outcome.issued, already: outcome.already, refused: outcome.refused }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceTasksIn {
    /// What the guide should do: 邀请参加周末品鉴会.
    title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceTasksOut {
    /// Follow-up tasks created (members without a guide are left out).
    created: u64,
}

/// Hands the members of a saved audience to their guides as follow-up tasks (HQ marketing).
#[utoipa::path(post, path = "/api/v1/audiences/{id}/guide-tasks", tag = "customers", request_body = AudienceTasksIn,
    responses((status = 200, body = AudienceTasksOut)))]
pub async fn audience_guide_tasks(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<AudienceTasksIn>,
) -> Result<Response, ApiError> {
    Ok(ok(AudienceTasksOut { created: state.app.assign_to_guides(&ctx, id, &input.title).await? }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuideTaskOut {
    id: Uuid,
    customer_id: Uuid,
    audience_id: Uuid,
    title: String,
    /// open or done.
    status: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
}

impl From<&quanyu_store::GuideTask> for GuideTaskOut {
    fn from(t: &quanyu_store::GuideTask) -> Self {
        GuideTaskOut {
            id: t.id,
            customer_id: t.customer_id.as_uuid(),
            audience_id: t.audience_id,
            title: t.title.clone(),
            status: t.status.clone(),
            note: t.note.clone(),
            created_at: t.created_at,
            done_at: t.done_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// open (default) or done.
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A guide's follow-up tasks, newest first.
#[utoipa::path(get, path = "/api/v1/staff/{id}/tasks", tag = "customers", params(TasksQuery),
    responses((status = 200, body = super::ListOut<GuideTaskOut>)))]
pub async fn guide_tasks(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<TasksQuery>,
) -> Result<Response, ApiError> {
    let status = query.status.as_deref().unwrap_or("open");
    let listing = state
        .app
        .guide_tasks(&ctx, quanyu_domain::ids::StaffId::from_uuid(id), status, query.cursor.as_deref(), query.limit)
        .await?;
    Ok(ok(super::ListOut::from_listing(listing, |t| GuideTaskOut::from(&t))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDoneIn {
    /// How it went.
    note: Option<String>,
}

/// The guide marks a follow-up done.
#[utoipa::path(post, path = "/api/v1/guide-tasks/{id}/done", tag = "customers", request_body = TaskDoneIn,
    responses((status = 200, body = GuideTaskOut)))]
pub async fn finish_task(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<TaskDoneIn>,
) -> Result<Response, ApiError> {
    Ok(ok(GuideTaskOut::from(&state.app.finish_guide_task(&ctx, id, input.note.as_deref()).await?)))
}
