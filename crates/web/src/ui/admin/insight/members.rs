//! Members (`/admin/members`): the list by home store and guide, a phone lookup, the CSV export
//! for roles that may export customers, and the single customer view (`/admin/members/{id}`)
//! from the same builder as `GET /api/v1/customers/{id}/profile`, with its timeline paged and
//! the actions the role may take (tags, a coupon, points) through the API.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use minijinja::Value;
use quanyu_app::{App, AppError, Ctx};
use quanyu_domain::{
    authz::Permission,
    customer::Customer,
    ids::{CustomerId, StaffId, StoreId},
    org::Role,
};
use quanyu_store::{CustomerFilter, PlaceFilter, StaffFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    empty_as_none,
    export::{self as csv, CsvPage},
    guard, query_string, store_names,
};
use crate::{
    AppState,
    routes::{customers::CustomerOut, profile::profile_of},
    ui::{
        admin::{page, sorting},
        page::{Staff, UiError, templates},
    },
};

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct MembersQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    store_id: Option<Uuid>,
    #[serde(default, deserialize_with = "empty_as_none")]
    guide_id: Option<Uuid>,
    /// Looks one member up by phone and opens their page.
    #[serde(default, deserialize_with = "empty_as_none")]
    phone: Option<String>,
    #[serde(default, skip_serializing, deserialize_with = "empty_as_none")]
    cursor: Option<String>,
    /// `ordinal` or `created_at`, `-` first for descending: who joined last comes first with
    /// `-created_at`.
    #[serde(default, deserialize_with = "empty_as_none")]
    sort: Option<String>,
}

impl MembersQuery {
    fn filter(&self) -> quanyu_app::AppResult<CustomerFilter> {
        Ok(CustomerFilter {
            place: PlaceFilter { store_id: self.store_id.map(StoreId::from_uuid), region_id: None },
            guide_id: self.guide_id.map(StaffId::from_uuid),
            sort: quanyu_app::parse_sort(self.sort.as_deref())?.into(),
        })
    }
}

const PAGE: u32 = 50;
const EXPORT_PAGE: u32 = 500;

/// Names the list shows beside ids: stores, guides and tiers.
#[derive(Clone, Default)]
struct Names {
    stores: HashMap<StoreId, String>,
    guides: Vec<(StaffId, String)>,
    tiers: HashMap<quanyu_domain::ids::TierId, String>,
}

impl Names {
    async fn load(app: &App, ctx: &Ctx) -> Result<Names, AppError> {
        let stores = store_names(app, ctx).await?.into_iter().collect();
        let mut guides = Vec::new();
        // Guides are listed for roles that may read staff; others filter by store only.
        if ctx.actor.can(Permission::ReadStaff) {
            let filter = StaffFilter { role: Some(Role::Guide), ..StaffFilter::default() };
            let mut cursor: Option<String> = None;
            loop {
                let page = app.list_staff(ctx, filter.clone(), cursor.as_deref(), Some(500)).await?;
                guides.extend(page.items.into_iter().map(|s| (s.id, s.display_name)));
                match page.next_cursor {
                    Some(next) => cursor = Some(next.0),
                    None => break,
                }
            }
        }
        let tiers = app.tiers(ctx).await?.into_iter().map(|t| (t.id, t.name)).collect();
        Ok(Names { stores, guides, tiers })
    }

    fn row(&self, c: &Customer) -> MemberRow {
        MemberRow {
            customer: CustomerOut::new(c),
            store_name: c.home_store_id.and_then(|s| self.stores.get(&s).cloned()),
            guide_name: c.guide_id.and_then(|g| self.guides.iter().find(|(id, _)| *id == g).map(|(_, n)| n.clone())),
            tier_name: c.tier_id.and_then(|t| self.tiers.get(&t).cloned()),
        }
    }
}

#[derive(Serialize)]
struct MemberRow {
    #[serde(flatten)]
    customer: CustomerOut,
    store_name: Option<String>,
    guide_name: Option<String>,
    tier_name: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<MembersQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "members")?;
    let app = &state.app;
    let mut not_found = false;
    if let Some(phone) = &query.phone {
        match app.find_customer(&staff.ctx, "phone", phone).await {
            Ok(found) => return Ok(Redirect::to(&format!("/admin/members/{}", found.customer.id)).into_response()),
            Err(AppError::NotFound { .. }) => not_found = true,
            Err(err) => return Err(UiError::api(err, lang)),
        }
    }
    let names = Names::load(app, &staff.ctx).await.map_err(|e| UiError::api(e, lang))?;
    let filter = query.filter().map_err(|e| UiError::api(e, lang))?;
    let listing = app
        .list_customers(&staff.ctx, filter, query.cursor.as_deref(), Some(PAGE))
        .await
        .map_err(|e| UiError::api(e, lang))?;
    let rows: Vec<MemberRow> = listing.items.iter().map(|c| names.row(c)).collect();
    let mut stores: Vec<(String, String)> = names.stores.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    stores.sort_by(|a, b| a.1.cmp(&b.1));
    let guides: Vec<(String, String)> = names.guides.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    page(
        &staff,
        "admin/members.html",
        "members",
        minijinja::context! {
            members => Value::from_serialize(&rows),
            filter => Value::from_serialize(&query),
            query => query_string(&MembersQuery { phone: None, ..query.clone() }),
            sorts => {
                let unsorted = format!("/admin/members?{}", query_string(&MembersQuery { phone: None, sort: None, ..query.clone() }));
                sorting::links(unsorted.trim_end_matches('?'), "sort", query.sort.as_deref(), &["ordinal", "created_at"])
            },
            cursor => query.cursor,
            next_cursor => listing.next_cursor.map(|c| c.0),
            stores,
            guides,
            not_found,
            may_export => staff.ctx.actor.can(Permission::ExportCustomers),
        },
    )
    .map(IntoResponse::into_response)
}

/// `/admin/members.csv`: every member of the filter (roles with the export permission).
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<MembersQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "members")?;
    if !staff.ctx.actor.can(Permission::ExportCustomers) {
        return Err(UiError::api(AppError::Forbidden, lang));
    }
    let names = Names::load(&state.app, &staff.ctx).await.map_err(|e| UiError::api(e, lang))?;
    let header: Vec<String> = [
        "admin-col-ordinal",
        "admin-col-member-id",
        "admin-col-member-name",
        "admin-col-home-store",
        "admin-col-guide",
        "admin-col-tier",
        "admin-col-joined",
    ]
    .iter()
    .map(|k| templates().text(lang, k))
    .collect();
    let filter = query.filter().map_err(|e| UiError::api(e, lang))?;
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    csv::export("members.csv", &header, move |cursor| {
        let (app, ctx, filter, names) = (app.clone(), ctx.clone(), filter.clone(), names.clone());
        async move {
            let listing = app
                .list_customers(&ctx, filter, cursor.as_deref(), Some(EXPORT_PAGE))
                .await
                .map_err(|e| UiError::api(e, lang))?;
            let rows = listing
                .items
                .iter()
                .map(|c| {
                    let row = names.row(c);
                    vec![
                        c.ordinal.to_string(),
                        c.id.to_string(),
                        c.display_name.clone().unwrap_or_default(),
                        row.store_name.unwrap_or_default(),
                        row.guide_name.unwrap_or_default(),
                        row.tier_name.unwrap_or_default(),
                        c.created_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string(),
                    ]
                })
                .collect();
            Ok::<CsvPage, UiError>((rows, listing.next_cursor.map(|c| c.0)))
        }
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct ProfileQuery {
    /// The timeline page to show.
    #[serde(default, deserialize_with = "empty_as_none")]
    cursor: Option<String>,
}

/// `/admin/members/{id}`: the single customer view.
pub async fn profile(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<Uuid>,
    Query(query): Query<ProfileQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "members")?;
    let app = &state.app;
    let ctx = &staff.ctx;
    let id = CustomerId::from_uuid(id);
    let profile = profile_of(app, ctx, id, query.cursor.as_deref()).await.map_err(|e| UiError::Api(e, lang))?;
    let customer = app.customer(ctx, id).await.map_err(|e| UiError::api(e, lang))?.customer;
    let home_store = match customer.home_store_id {
        Some(store) => app.get_store(ctx, store).await.ok().map(|s| s.name),
        None => None,
    };
    let guide = match customer.guide_id {
        Some(guide) if ctx.actor.can(Permission::ReadStaff) => {
            app.get_staff(ctx, guide).await.ok().map(|s| s.display_name)
        }
        _ => None,
    };
    let actor = &ctx.actor;
    // The coupon templates a coupon can be given from: active ones, for roles that issue.
    let templates_on_offer: Vec<(String, String)> = if actor.can(Permission::IssueCoupons) {
        app.coupon_templates(ctx, Default::default(), None, Some(200))
            .await
            .map_err(|e| UiError::api(e, lang))?
            .items
            .into_iter()
            .filter(|t| t.status.as_str() == "active")
            .map(|t| (t.id.to_string(), t.name))
            .collect()
    } else {
        Vec::new()
    };
    let as_json = serde_json::to_value(&profile).unwrap_or_default();
    let timeline: Vec<TimelineRow> = as_json["timeline"]["items"]
        .as_array()
        .map(|items| items.iter().map(|e| TimelineRow::new(lang, e)).collect())
        .unwrap_or_default();
    page(
        &staff,
        "admin/members-profile.html",
        "members",
        minijinja::context! {
            profile => Value::from_serialize(&profile),
            timeline,
            customer_id => customer.id.to_string(),
            home_store,
            guide,
            cursor => query.cursor,
            may_tag => actor.can(Permission::ManageCustomers),
            may_points => actor.can(Permission::MergeCustomers),
            coupon_templates => templates_on_offer,
        },
    )
    .map(IntoResponse::into_response)
}

/// A timeline entry as the page shows it: when, what (translated when the event is one the
/// platform records itself), and the amount it carried, if any.
#[derive(Serialize)]
struct TimelineRow {
    at: Option<String>,
    label: String,
    kind: String,
    amount: Option<i64>,
}

impl TimelineRow {
    fn new(lang: crate::Lang, event: &serde_json::Value) -> TimelineRow {
        let text = |key: &str| event.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let kind = text("type").unwrap_or_default();
        let name = text("name").unwrap_or_else(|| kind.clone());
        let key = format!("admin-timeline-{}", name.to_lowercase().replace(' ', "-"));
        let translated = templates().text(lang, &key);
        let properties = event.get("properties");
        let amount =
            ["total", "amount"].iter().find_map(|k| properties.and_then(|p| p.get(*k)).and_then(|v| v.as_i64()));
        TimelineRow { at: text("occurred_at"), label: if translated == key { name } else { translated }, kind, amount }
    }
}
