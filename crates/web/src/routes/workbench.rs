//! The guide workbench's reads: a guide's customer book, their follow-up board and their KPIs.
//! The `/guide` pages render these same DTOs.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{BookQuery, CustomerCard, GuideKpis, TaskCard};
use quanyu_domain::ids::StaffId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, ok, tags::GuideTaskOut};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth},
};

/// A customer as the guide's list shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerCardOut {
    pub id: Uuid,
    pub ordinal: i64,
    pub display_name: Option<String>,
    /// The first phone, masked (`138****0001`).
    pub phone: Option<String>,
    pub tier_id: Option<Uuid>,
    pub tags: Vec<String>,
    /// introduction, growth, maturity, decline, silence or churned; absent until first scored.
    pub stage: Option<String>,
    /// 引入期, 成长期…
    pub stage_label: Option<String>,
    /// 重要价值客户…
    pub segment: Option<String>,
    /// important_value, important_develop, important_keep, important_retain, general_value…
    pub segment_code: Option<String>,
    pub last_order_at: Option<DateTime<Utc>>,
    pub orders_365d: Option<i64>,
    /// 分.
    pub spend_365d: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<&CustomerCard> for CustomerCardOut {
    fn from(card: &CustomerCard) -> Self {
        let c = &card.customer;
        let scores = card.scores.as_ref();
        CustomerCardOut {
            id: c.id.as_uuid(),
            ordinal: c.ordinal,
            display_name: c.display_name.clone(),
            phone: card.phone.clone(),
            tier_id: c.tier_id.map(|t| t.as_uuid()),
            tags: card.tags.clone(),
            stage: scores.map(|s| s.stage.clone()),
            stage_label: card.stage_label().map(str::to_owned),
            segment: card.segment().map(str::to_owned),
            segment_code: card.segment_code().map(str::to_owned),
            last_order_at: scores.and_then(|s| s.last_order_at),
            orders_365d: scores.map(|s| s.orders),
            spend_365d: scores.map(|s| s.spend),
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookParams {
    /// Part of the name or phone number.
    pub q: Option<String>,
    /// A lifecycle stage.
    pub stage: Option<String>,
    /// A tag's name.
    pub tag: Option<String>,
    pub cursor: Option<String>,
    /// 1–500 (default 50).
    pub limit: Option<u32>,
}

impl BookParams {
    pub fn query(&self) -> BookQuery {
        BookQuery { text: self.q.clone(), stage: self.stage.clone(), tag: self.tag.clone() }
    }
}

/// A guide's bound customers, searched by name or phone and filtered by stage or tag (the
/// guide themselves, or staff who see them).
#[utoipa::path(get, path = "/api/v1/staff/{id}/customer-book", tag = "customers", params(BookParams),
    responses((status = 200, body = ListOut<CustomerCardOut>), (status = 403, description = "forbidden: not a guide"),
        (status = 422, description = "not_a_guide")))]
pub async fn customer_book(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<BookParams>,
) -> Result<Response, ApiError> {
    let listing = state
        .app
        .guide_customers(&ctx, StaffId::from_uuid(id), params.query(), params.cursor.as_deref(), params.limit)
        .await?;
    Ok(ok(ListOut::from_listing(listing, |c| CustomerCardOut::from(&c))))
}

/// An open follow-up with when it falls due and whom it is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskCardOut {
    pub task: GuideTaskOut,
    /// Three days after it was handed out.
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
    /// Absent when the customer was merged away since.
    pub customer: Option<CustomerCardOut>,
}

impl From<&TaskCard> for TaskCardOut {
    fn from(t: &TaskCard) -> Self {
        TaskCardOut {
            task: GuideTaskOut::from(&t.task),
            due_at: t.due_at,
            overdue: t.overdue,
            customer: t.customer.as_ref().map(CustomerCardOut::from),
        }
    }
}

/// A guide's open follow-ups, overdue first, then by due time (up to 200).
#[utoipa::path(get, path = "/api/v1/staff/{id}/task-board", tag = "customers",
    responses((status = 200, body = Vec<TaskCardOut>)))]
pub async fn task_board(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let board = state.app.guide_task_board(&ctx, StaffId::from_uuid(id), Utc::now()).await?;
    Ok(ok(board.iter().map(TaskCardOut::from).collect::<Vec<_>>()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthSalesOut {
    pub starts_at: DateTime<Utc>,
    /// 分, net of refunds.
    pub sales: i64,
    pub orders: i64,
}

/// A guide's KPIs. Months start at midnight China Standard Time.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuideKpisOut {
    pub guide_id: Uuid,
    pub display_name: String,
    pub month_starts_at: DateTime<Utc>,
    /// Customers bound to the guide now, and those of them who joined this month.
    pub customers: i64,
    pub customers_this_month: i64,
    /// Attributed online sales (分, net of refunds) and orders.
    pub sales_this_month: i64,
    pub orders_this_month: i64,
    pub sales_total: i64,
    pub orders_total: i64,
    pub tasks_open: i64,
    pub tasks_done: i64,
    pub tasks_done_this_month: i64,
    /// The last six months, oldest first.
    pub months: Vec<MonthSalesOut>,
}

impl From<&GuideKpis> for GuideKpisOut {
    fn from(k: &GuideKpis) -> Self {
        GuideKpisOut {
            guide_id: k.guide.id.as_uuid(),
            display_name: k.guide.display_name.clone(),
            month_starts_at: k.month_starts_at,
            customers: k.customers,
            customers_this_month: k.customers_this_month,
            sales_this_month: k.sales_this_month.fen(),
            orders_this_month: k.orders_this_month,
            sales_total: k.sales_total.fen(),
            orders_total: k.orders_total,
            tasks_open: k.tasks.open,
            tasks_done: k.tasks.done,
            tasks_done_this_month: k.tasks.done_since,
            months: k
                .months
                .iter()
                .map(|m| MonthSalesOut { starts_at: m.starts_at, sales: m.sales.fen(), orders: m.orders })
                .collect(),
        }
    }
}

/// A guide's KPIs: customers added, attributed online sales by month, follow-ups done.
#[utoipa::path(get, path = "/api/v1/staff/{id}/kpis", tag = "referral", responses((status = 200, body = GuideKpisOut)))]
pub async fn kpis(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let kpis = state.app.guide_kpis(&ctx, StaffId::from_uuid(id), Utc::now()).await?;
    Ok(ok(GuideKpisOut::from(&kpis)))
}
