//! The audit log, for HQ.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_domain::ids::{StaffId, StoreId};
use quanyu_store::{AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiQuery, Auth},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldChangeOut {
    field: String,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    id: Uuid,
    at: DateTime<Utc>,
    /// Absent for changes made by the system (CLI imports, demo seeding).
    actor_id: Option<Uuid>,
    actor_name: String,
    /// `store.created`, `sku.updated`, `auth.logged_in`…
    action: String,
    entity_type: String,
    entity_id: String,
    store_id: Option<Uuid>,
    ip: Option<String>,
    user_agent: Option<String>,
    changes: Vec<FieldChangeOut>,
}

impl From<AuditEntry> for AuditOut {
    fn from(e: AuditEntry) -> Self {
        AuditOut {
            id: e.id.as_uuid(),
            at: e.at,
            actor_id: e.actor_id.map(|a| a.as_uuid()),
            actor_name: e.actor_name,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            store_id: e.store_id.map(|s| s.as_uuid()),
            ip: e.ip,
            user_agent: e.user_agent,
            changes: e
                .changes
                .into_iter()
                .map(|c| FieldChangeOut { field: c.field, before: c.before, after: c.after })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor_id: Option<Uuid>,
    store_id: Option<Uuid>,
    /// Exactly this action, e.g. `store.updated`.
    action: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Entries before this instant (RFC 3339).
    until: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Who changed what, when and from where; newest first (HQ admin and HQ operations).
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "audit", params(AuditQuery),
    responses((status = 200, body = ListOut<AuditOut>)))]
pub async fn list_audit(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = AuditFilter {
        entity_type: query.entity_type,
        entity_id: query.entity_id,
        actor_id: query.actor_id.map(StaffId::from_uuid),
        store_id: query.store_id.map(StoreId::from_uuid),
        action: query.action,
        since: query.since,
        until: query.until,
    };
    let listing = state.app.list_audit(&ctx, filter, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, AuditOut::from)))
}
