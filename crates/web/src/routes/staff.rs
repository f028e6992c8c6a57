//! Staff: listing within scope, appointing and editing.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, StaffDraft, StaffPatch};
use quanyu_domain::{
    ids::{RegionId, StaffId, StoreId},
    org::{Role, Scope, Staff},
};
use quanyu_store::{PlaceFilter, StaffFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody, double_option},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOut {
    id: Uuid,
    username: String,
    display_name: String,
    phone: Option<String>,
    /// hq_admin, hq_ops, region_manager, store_manager, cashier, guide, picker or courier.
    role: String,
    /// `all`, `region` or `store`.
    scope: String,
    region_id: Option<Uuid>,
    store_id: Option<Uuid>,
    /// `active` or `disabled`.
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&Staff> for StaffOut {
    fn from(s: &Staff) -> Self {
        let scope = s.assignment.scope();
        StaffOut {
            id: s.id.as_uuid(),
            username: s.username.clone(),
            display_name: s.display_name.clone(),
            phone: s.phone.as_ref().map(|p| p.as_str().to_owned()),
            role: s.assignment.role().as_str().to_owned(),
            scope: scope.level().as_str().to_owned(),
            region_id: match scope {
                Scope::Region(r) => Some(r.as_uuid()),
                _ => None,
            },
            store_id: match scope {
                Scope::Store(st) => Some(st.as_uuid()),
                _ => None,
            },
            status: s.status.as_str().to_owned(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffIn {
    username: String,
    display_name: String,
    phone: Option<String>,
    role: String,
    /// Required for region_manager.
    region_id: Option<Uuid>,
    /// Required for store roles.
    store_id: Option<Uuid>,
    /// 8–128 characters.
    password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatchIn {
    display_name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    role: Option<String>,
    region_id: Option<Uuid>,
    store_id: Option<Uuid>,
    /// `active` or `disabled`.
    status: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    region_id: Option<Uuid>,
    store_id: Option<Uuid>,
    role: Option<String>,
    /// `username`, `display_name`, `role` or `created_at` (the default); `-` first for descending.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Staff within the caller's scope.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", params(StaffQuery),
    responses((status = 200, body = ListOut<StaffOut>)))]
pub async fn list_staff(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<StaffQuery>,
) -> Result<Response, ApiError> {
    let role = query.role.as_deref().map(Role::parse).transpose().map_err(quanyu_app::AppError::from)?;
    let filter = StaffFilter {
        place: PlaceFilter {
            region_id: query.region_id.map(RegionId::from_uuid),
            store_id: query.store_id.map(StoreId::from_uuid),
        },
        role,
        search: None,
        sort: quanyu_app::parse_sort(query.sort.as_deref())?.into(),
    };
    let listing = state.app.list_staff(&ctx, filter, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |s| StaffOut::from(&s))))
}

/// Appoints a staff member junior to the caller, within the caller's scope.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = StaffIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = StaffOut), (status = 409, description = "duplicate_username, duplicate_phone")))]
pub async fn create_staff(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<StaffIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = StaffDraft {
        username: input.username,
        display_name: input.display_name,
        phone: input.phone,
        role: input.role,
        region_id: input.region_id.map(RegionId::from_uuid),
        store_id: input.store_id.map(StoreId::from_uuid),
        password: input.password,
    };
    let reply = json_reply(|value| StaffOut::from(value));
    let written = state.app.create_staff(&ctx, draft, &reply).await?;
    Ok(created(written, &reply))
}

/// One staff member (anyone may read themselves).
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", responses((status = 200, body = StaffOut)))]
pub async fn get_staff(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(StaffOut::from(&state.app.get_staff(&ctx, StaffId::from_uuid(id)).await?)))
}

/// Edits a staff member; anyone may change their own name, phone and password.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", tag = "staff", request_body = StaffPatchIn,
    responses((status = 200, body = StaffOut)))]
pub async fn update_staff(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<StaffPatchIn>,
) -> Result<Response, ApiError> {
    let patch = StaffPatch {
        display_name: input.display_name,
        phone: input.phone,
        role: input.role,
        region_id: input.region_id.map(RegionId::from_uuid),
        store_id: input.store_id.map(StoreId::from_uuid),
        status: input.status,
        password: input.password,
    };
    Ok(ok(StaffOut::from(&state.app.update_staff(&ctx, StaffId::from_uuid(id), patch).await?)))
}
