//! The audit log (`/admin/audit`): who changed what, when and from where, filtered by actor,
//! entity, action, store and day (days are the chain's, Asia/Shanghai), paged newest first,
//! exported as CSV.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use minijinja::Value;
use quanyu_app::{AppError, AppResult};
use quanyu_domain::{
    DomainError, Expected,
    ids::{StaffId, StoreId},
};
use quanyu_store::{AuditEntry, AuditFilter, StaffFilter};
use serde::Deserialize;

use super::{
    export::{self, EXPORT_PAGE},
    failed, guard,
    paging::{PageParams, pager, query_string},
    places::{Places, every_page},
    text_param, uuid_param,
};
use crate::{
    AppState,
    routes::{audit::AuditOut, staff::StaffOut},
    ui::{
        admin::page,
        page::{Staff, UiError},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    actor_id: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    action: Option<String>,
    store_id: Option<String>,
    /// First day, `YYYY-MM-DD`.
    from: Option<String>,
    /// Last day, inclusive.
    to: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// The instant a chain day starts.
fn day_start(raw: &str, field: &'static str, days_after: u64) -> AppResult<DateTime<Utc>> {
    let malformed = || AppError::Invalid(DomainError::Malformed { field, expected: Expected::DateLike });
    let day = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| malformed())?;
    let day = day.checked_add_days(Days::new(days_after)).ok_or_else(malformed)?;
    let local = chrono_tz::Asia::Shanghai.from_local_datetime(&day.and_hms_opt(0, 0, 0).ok_or_else(malformed)?);
    local.earliest().map(|t| t.with_timezone(&Utc)).ok_or_else(malformed)
}

impl AuditQuery {
    fn filter(&self) -> AppResult<AuditFilter> {
        Ok(AuditFilter {
            entity_type: text_param(&self.entity_type),
            entity_id: text_param(&self.entity_id),
            actor_id: uuid_param(self.actor_id.as_deref(), "actor_id")?.map(StaffId::from_uuid),
            store_id: uuid_param(self.store_id.as_deref(), "store_id")?.map(StoreId::from_uuid),
            action: text_param(&self.action),
            since: text_param(&self.from).map(|d| day_start(&d, "from", 0)).transpose()?,
            until: text_param(&self.to).map(|d| day_start(&d, "to", 1)).transpose()?,
        })
    }

    fn pairs(&self) -> [(&'static str, &str); 7] {
        [
            ("actor_id", self.actor_id.as_deref().unwrap_or("")),
            ("entity_type", self.entity_type.as_deref().unwrap_or("")),
            ("entity_id", self.entity_id.as_deref().unwrap_or("")),
            ("action", self.action.as_deref().unwrap_or("")),
            ("store_id", self.store_id.as_deref().unwrap_or("")),
            ("from", self.from.as_deref().unwrap_or("")),
            ("to", self.to.as_deref().unwrap_or("")),
        ]
    }
}

/// `/admin/audit`.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<AuditQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "audit")?;
    let (app, ctx) = (&state.app, &staff.ctx);
    let filter = query.filter().map_err(failed(&staff))?;
    let listing = app.list_audit(ctx, filter, query.page.cursor(), None).await.map_err(failed(&staff))?;
    let places = Places::load(app, ctx).await.map_err(failed(&staff))?;
    let people = every_page(|cursor| async move {
        app.list_staff(ctx, StaffFilter::default(), cursor.as_deref(), Some(EXPORT_PAGE)).await
    })
    .await
    .map_err(failed(&staff))?;
    let pairs = query.pairs();
    let pager = pager("/admin/audit", &pairs, &query.page, listing.next_cursor.as_ref().map(|c| c.0.as_str()));
    let items: Vec<Value> = listing
        .items
        .into_iter()
        .map(|e| {
            let store_name = e.store_id.map(|s| places.store_label(s.as_uuid()));
            minijinja::context! { store_name, ..Value::from_serialize(AuditOut::from(e)) }
        })
        .collect();
    let context = minijinja::context! {
        items,
        pager => Value::from_serialize(&pager),
        query => minijinja::context! {
            actor_id => query.actor_id, entity_type => query.entity_type, entity_id => query.entity_id,
            action => query.action, store_id => query.store_id, from => query.from, to => query.to,
        },
        export_href => format!("/admin/audit/export.csv{}", query_string(&pairs)),
        people => Value::from_serialize(people.iter().map(StaffOut::from).collect::<Vec<_>>()),
        ..places.context()
    };
    Ok(page(&staff, "admin/audit.html", "audit", context)?.into_response())
}

/// `/admin/audit/export.csv`: one row per entry, its changes as `field: before → after`.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<AuditQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "audit")?;
    let filter = query.filter().map_err(failed(&staff))?;
    let header = ["at", "actor", "action", "entity_type", "entity_id", "store_id", "ip", "user_agent", "changes"]
        .map(str::to_owned)
        .to_vec();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    let fetch = move |cursor: Option<String>| {
        let (app, ctx, filter) = (app.clone(), ctx.clone(), filter.clone());
        async move { app.list_audit(&ctx, filter, cursor.as_deref(), Some(EXPORT_PAGE)).await }
    };
    let row = |e: &AuditEntry| {
        let changes: Vec<String> = e
            .changes
            .iter()
            .map(|c| {
                format!("{}: {} → {}", c.field, c.before.as_deref().unwrap_or("∅"), c.after.as_deref().unwrap_or("∅"))
            })
            .collect();
        vec![
            e.at.to_rfc3339(),
            e.actor_name.clone(),
            e.action.clone(),
            e.entity_type.clone(),
            e.entity_id.clone(),
            export::cell(e.store_id),
            export::cell(e.ip.clone()),
            export::cell(e.user_agent.clone()),
            changes.join("; "),
        ]
    };
    export::csv("audit-log.csv", header, fetch, row).await.map_err(failed(&staff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_the_chains_days() {
        assert_eq!(day_start("2026-12-02", "from", 0).unwrap().to_rfc3339(), "2026-12-01T16:00:00+00:00");
        assert_eq!(day_start("2026-12-02", "to", 1).unwrap().to_rfc3339(), "2026-12-02T16:00:00+00:00");
        assert!(day_start("12/02/2026", "from", 0).is_err());
    }
}
