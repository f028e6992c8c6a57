//! Sales reports: the dashboard's numbers as JSON (the admin dashboard renders the same DTO).

use axum::{extract::State, response::Response};
use chrono::{DateTime, NaiveDate, Utc};
use quanyu_app::{SalesReport, SalesTotals};
use quanyu_domain::ids::{RegionId, StoreId};
use quanyu_store::PlaceFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ok;
use crate::{
    ApiError, AppState,
    extract::{ApiQuery, Auth},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesTotalsOut {
    orders: i64,
    /// Paid less refunded (分).
    net: i64,
    /// Ordered online: delivery, pickup, appointment (分).
    online: i64,
    /// Bought by members (分).
    member: i64,
    /// Online share of `net` in basis points (1/100 %); absent without sales.
    online_share_bp: Option<i64>,
    /// Member share of `net` in basis points; absent without sales.
    member_share_bp: Option<i64>,
}

impl From<&SalesTotals> for SalesTotalsOut {
    fn from(t: &SalesTotals) -> Self {
        SalesTotalsOut {
            orders: t.orders,
            net: t.net.fen(),
            online: t.online.fen(),
            member: t.member.fen(),
            online_share_bp: t.online_share_bp(),
            member_share_bp: t.member_share_bp(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DaySalesOut {
    /// The chain's calendar day.
    #[schema(value_type = String, format = Date)]
    day: NaiveDate,
    orders: i64,
    net: i64,
    online: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSalesOut {
    /// delivery, pickup, pos, scan_to_buy, table_pay_first, table_eat_first or appointment.
    channel: String,
    online: bool,
    orders: i64,
    net: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreSalesOut {
    store_id: Uuid,
    store_name: String,
    orders: i64,
    net: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuSalesOut {
    sku_id: Uuid,
    sku_name: String,
    /// Units, or grams for goods sold by weight.
    quantity: i64,
    sold_by_weight: bool,
    net: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesReportOut {
    as_of: DateTime<Utc>,
    /// The store reported on, when the report covers one store.
    store_id: Option<Uuid>,
    /// The region reported on, when the report covers one region.
    region_id: Option<Uuid>,
    /// The chain's time zone, in which days are counted.
    time_zone: String,
    today: SalesTotalsOut,
    last_7_days: SalesTotalsOut,
    last_30_days: SalesTotalsOut,
    /// The last 30 days, oldest first, ending today.
    daily: Vec<DaySalesOut>,
    /// Every channel over the last 30 days.
    by_channel: Vec<ChannelSalesOut>,
    /// The ten stores with the most sales over the last 30 days.
    top_stores: Vec<StoreSalesOut>,
    /// The ten SKUs with the most sales over the last 30 days.
    top_skus: Vec<SkuSalesOut>,
}

impl From<&SalesReport> for SalesReportOut {
    fn from(r: &SalesReport) -> Self {
        SalesReportOut {
            as_of: r.as_of,
            store_id: r.place.store_id.map(|s| s.as_uuid()),
            region_id: r.place.region_id.map(|s| s.as_uuid()),
            time_zone: r.time_zone.name().to_owned(),
            today: (&r.today).into(),
            last_7_days: (&r.last_7_days).into(),
            last_30_days: (&r.last_30_days).into(),
            daily: r
                .daily
                .iter()
                .map(|d| DaySalesOut {
                    day: d.day,
                    orders: d.totals.orders,
                    net: d.totals.net.fen(),
                    online: d.totals.online.fen(),
                })
                .collect(),
            by_channel: r
                .by_channel
                .iter()
                .map(|c| ChannelSalesOut {
                    channel: c.channel.as_str().to_owned(),
                    online: c.channel.is_online(),
                    orders: c.orders,
                    net: c.net.fen(),
                })
                .collect(),
            top_stores: r
                .top_stores
                .iter()
                .map(|s| StoreSalesOut {
                    store_id: s.store_id.as_uuid(),
                    store_name: s.store_name.clone(),
                    orders: s.orders,
                    net: s.net,
                })
                .collect(),
            top_skus: r
                .top_skus
                .iter()
                .map(|s| SkuSalesOut {
                    sku_id: s.sku_id.as_uuid(),
                    sku_name: s.sku_name.clone(),
                    quantity: s.quantity,
                    sold_by_weight: s.sold_by_weight,
                    net: s.net,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesQuery {
    /// Report on one store (within the caller's scope).
    pub store_id: Option<Uuid>,
    /// Report on one region (within the caller's scope).
    pub region_id: Option<Uuid>,
}

impl SalesQuery {
    pub fn place(&self) -> PlaceFilter {
        PlaceFilter {
            store_id: self.store_id.map(StoreId::from_uuid),
            region_id: self.region_id.map(RegionId::from_uuid),
        }
    }
}

/// Sales today, in the last 7 and 30 days, per day, per channel, and the top stores and SKUs:
/// paid orders net of refunds, within the caller's scope (HQ: the chain; a region manager: the
/// region; store staff: the store).
#[utoipa::path(get, path = "/api/v1/reports/sales", tag = "reports", params(SalesQuery),
    responses((status = 200, body = SalesReportOut), (status = 403, description = "forbidden, out_of_scope")))]
pub async fn sales(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<SalesQuery>,
) -> Result<Response, ApiError> {
    let report = state.app.sales_report(&ctx, query.place(), Utc::now()).await?;
    Ok(ok(SalesReportOut::from(&report)))
}
