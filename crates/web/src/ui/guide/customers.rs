//! My customers (`/guide`): the guide's bound customers with tags, stage, last order and RFM
//! segment, searched and filtered, a page at a time; and one customer's page (`/guide/c/{id}`)
//! with the essentials of the single customer view, where the guide tags the customer, gives a
//! coupon or notes a contact on an open follow-up.

use axum::{
    extract::{Path, Query, State},
    response::Html,
};
use chrono::Utc;
use minijinja::{Value, context};
use quanyu_audience::Stage;
use quanyu_domain::ids::CustomerId;
use serde::Serialize;
use uuid::Uuid;

use super::failed;
use crate::{
    AppState,
    routes::{
        profile::profile_of,
        workbench::{BookParams, CustomerCardOut, TaskCardOut},
    },
    ui::page::{Staff, UiError, encode},
};

/// Customers per page: a phone screen or two.
const PAGE: u32 = 20;

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(params): Query<BookParams>,
) -> Result<Html<String>, UiError> {
    let (app, ctx, lang) = (&state.app, &staff.ctx, staff.lang);
    let listing = app
        .guide_customers(ctx, ctx.actor.staff_id, params.query(), params.cursor.as_deref(), Some(PAGE))
        .await
        .map_err(failed(lang))?;
    let tags: Vec<String> = app.tags(ctx).await.map_err(failed(lang))?.into_iter().map(|(t, _)| t.name).collect();
    let filters = [("q", &params.q), ("stage", &params.stage), ("tag", &params.tag)];
    let next_href = listing.next_cursor.as_ref().map(|cursor| {
        let mut pairs: Vec<(&str, &str)> = filters.iter().filter_map(|(k, v)| Some((*k, v.as_deref()?))).collect();
        pairs.push(("cursor", &cursor.0));
        href("/guide", &pairs)
    });
    let first_href = params.cursor.as_ref().map(|_| {
        let pairs: Vec<(&str, &str)> = filters.iter().filter_map(|(k, v)| Some((*k, v.as_deref()?))).collect();
        href("/guide", &pairs)
    });
    let customers: Vec<CustomerCardOut> = listing.items.iter().map(CustomerCardOut::from).collect();
    staff.render(
        "guide/customers.html",
        context! {
            section => "customers",
            customers => Value::from_serialize(&customers),
            q => params.q,
            stage => params.stage,
            tag => params.tag,
            filtered => filters.iter().any(|(_, v)| v.as_deref().is_some_and(|v| !v.trim().is_empty())),
            stages => Stage::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            tags,
            next_href,
            first_href,
        },
    )
}

/// An identifier as the guide sees it.
#[derive(Serialize)]
struct MaskedIdentity {
    kind: &'static str,
    value: String,
}

/// A coupon template the guide may give.
#[derive(Serialize)]
struct Giveable {
    id: Uuid,
    name: String,
}

pub async fn customer(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, UiError> {
    let (app, ctx, lang) = (&state.app, &staff.ctx, staff.lang);
    let me = ctx.actor.staff_id;
    // Refuses staff who are not guides before anything is read.
    app.guide_in_reach(ctx, me).await.map_err(failed(lang))?;
    let id = CustomerId::from_uuid(id);
    let profile = profile_of(app, ctx, id, None).await.map_err(|err| UiError::Api(err, lang))?;
    let customer = app.customer(ctx, id).await.map_err(failed(lang))?;
    let identities: Vec<MaskedIdentity> =
        customer.identities.iter().map(|i| MaskedIdentity { kind: i.kind().as_str(), value: i.masked() }).collect();
    let now = Utc::now();
    let tasks: Vec<TaskCardOut> = app
        .guide_task_board(ctx, me, now)
        .await
        .map_err(failed(lang))?
        .iter()
        .filter(|t| t.task.customer_id == customer.customer.id)
        .map(TaskCardOut::from)
        .collect();
    let carried = app.customer_tags(ctx, id).await.map_err(failed(lang))?;
    let taggable: Vec<String> = app
        .tags(ctx)
        .await
        .map_err(failed(lang))?
        .into_iter()
        .filter(|(t, _)| t.kind == "manual" && !carried.iter().any(|c| c.id == t.id))
        .map(|(t, _)| t.name)
        .collect();
    let coupons: Vec<Giveable> = app
        .templates_to_give(ctx, now)
        .await
        .map_err(failed(lang))?
        .into_iter()
        .map(|t| Giveable { id: t.id.as_uuid(), name: t.name })
        .collect();
    let mine = customer.customer.guide_id == Some(me);
    staff.render(
        "guide/customer.html",
        context! {
            section => "customers",
            profile => Value::from_serialize(&profile),
            customer_id => customer.customer.id.to_string(),
            mine,
            identities => Value::from_serialize(&identities),
            tasks => Value::from_serialize(&tasks),
            taggable,
            coupons => Value::from_serialize(&coupons),
        },
    )
}

/// `path?k=v&…` with the values percent-encoded.
fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
}
