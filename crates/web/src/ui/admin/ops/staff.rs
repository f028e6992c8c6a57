//! Staff (`/admin/staff`): the people within the viewer's scope, appointing someone, editing
//! and disabling them. Which roles and scopes a viewer may give is the API's rule; its errors
//! are shown next to the field.

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_domain::{
    authz::Permission,
    ids::{RegionId, StaffId, StoreId},
    org::{Role, Scope, Staff as StaffMember},
};
use quanyu_store::{PlaceFilter, StaffFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    export::{self, EXPORT_PAGE},
    failed, guard,
    paging::{PageParams, pager, query_string},
    places::Places,
    text_param, uuid_param,
};
use crate::{
    AppState,
    routes::staff::StaffOut,
    ui::{
        admin::page,
        page::{Staff, UiError},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct StaffQuery {
    q: Option<String>,
    role: Option<String>,
    region_id: Option<String>,
    store_id: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

impl StaffQuery {
    fn filter(&self) -> quanyu_app::AppResult<StaffFilter> {
        Ok(StaffFilter {
            place: PlaceFilter {
                region_id: uuid_param(self.region_id.as_deref(), "region_id")?.map(RegionId::from_uuid),
                store_id: uuid_param(self.store_id.as_deref(), "store_id")?.map(StoreId::from_uuid),
            },
            role: text_param(&self.role).as_deref().map(Role::parse).transpose()?,
            search: text_param(&self.q),
            sort: quanyu_app::parse_sort(self.page.sort())?.into(),
        })
    }

    fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            ("q", self.q.as_deref().unwrap_or("")),
            ("role", self.role.as_deref().unwrap_or("")),
            ("region_id", self.region_id.as_deref().unwrap_or("")),
            ("store_id", self.store_id.as_deref().unwrap_or("")),
        ]
    }
}

fn roles() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

/// Where a staff member works, for a table cell.
fn scope_label(places: &Places, member: &StaffMember) -> String {
    match member.assignment.scope() {
        Scope::All => String::new(),
        Scope::Region(region) => places.region_label(region.as_uuid()),
        Scope::Store(store) => places.store_label(store.as_uuid()),
    }
}

/// `/admin/staff`: the list and the form that appoints someone.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StaffQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "staff")?;
    let ctx = &staff.ctx;
    let filter = query.filter().map_err(failed(&staff))?;
    let listing = state.app.list_staff(ctx, filter, query.page.cursor(), None).await.map_err(failed(&staff))?;
    let places = Places::load(&state.app, ctx).await.map_err(failed(&staff))?;
    let pairs = query.pairs();
    let pager = pager("/admin/staff", &pairs, &query.page, listing.next_cursor.as_ref().map(|c| c.0.as_str()));
    let items: Vec<Value> = listing
        .items
        .iter()
        .map(|m| {
            minijinja::context! { scope_label => scope_label(&places, m), ..Value::from_serialize(StaffOut::from(m)) }
        })
        .collect();
    let context = minijinja::context! {
        items,
        pager => Value::from_serialize(&pager),
        query => minijinja::context! {
            q => query.q, role => query.role, region_id => query.region_id, store_id => query.store_id,
        },
        export_href => format!("/admin/staff/export.csv{}", query_string(&query.page.with_sort(&pairs))),
        sorts => query.page.sort_links("/admin/staff", &pairs, &["username", "display_name", "role"]),
        roles => roles(),
        can_manage => ctx.actor.can(Permission::ManageStaff),
        ..places.context()
    };
    Ok(page(&staff, "admin/staff.html", "staff", context)?.into_response())
}

/// `/admin/staff/export.csv`.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StaffQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "staff")?;
    let filter = query.filter().map_err(failed(&staff))?;
    let places = Places::load(&state.app, &staff.ctx).await.map_err(failed(&staff))?;
    let header =
        ["username", "display_name", "phone", "role", "scope", "status", "created_at"].map(str::to_owned).to_vec();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    let fetch = move |cursor: Option<String>| {
        let (app, ctx, filter) = (app.clone(), ctx.clone(), filter.clone());
        async move { app.list_staff(&ctx, filter, cursor.as_deref(), Some(EXPORT_PAGE)).await }
    };
    let row = move |m: &StaffMember| {
        vec![
            m.username.clone(),
            m.display_name.clone(),
            export::cell(m.phone.as_ref().map(|p| p.as_str().to_owned())),
            m.assignment.role().as_str().to_owned(),
            scope_label(&places, m),
            m.status.as_str().to_owned(),
            m.created_at.to_rfc3339(),
        ]
    };
    export::csv("staff.csv", header, fetch, row).await.map_err(failed(&staff))
}

/// `/admin/staff/{id}`: one person, with the edit form.
pub async fn detail(State(state): State<AppState>, staff: Staff, Path(id): Path<Uuid>) -> Result<Response, UiError> {
    guard(&staff, "staff")?;
    let ctx = &staff.ctx;
    let member = state.app.get_staff(ctx, StaffId::from_uuid(id)).await.map_err(failed(&staff))?;
    let places = Places::load(&state.app, ctx).await.map_err(failed(&staff))?;
    let context = minijinja::context! {
        member => minijinja::context! {
            scope_label => scope_label(&places, &member), ..Value::from_serialize(StaffOut::from(&member))
        },
        roles => roles(),
        can_manage => ctx.actor.can(Permission::ManageStaff),
        is_self => member.id == ctx.actor.staff_id,
        ..places.context()
    };
    Ok(page(&staff, "admin/staff_detail.html", "staff", context)?.into_response())
}
