//! Sales reports: what the chain (or the viewer's region or store) sold today, in the last 7
//! and 30 days, per day, per channel, and which stores and SKUs sold most. Sales are paid
//! orders net of refunds; days are the chain's calendar days in its time zone.
//!
//! One use case with two faces: the admin dashboard renders it and `GET /api/v1/reports/sales`
//! serialises it.

use chrono::{Days, NaiveDate};
use quanyu_domain::{
    Money,
    authz::Permission,
    order::OrderChannel,
    time::{TimeZone, Timestamp},
};
use quanyu_store::{ChannelSales, PlaceFilter, SkuSales, StoreSales};

use crate::{App, AppResult, Ctx, org::scoped_place};

/// How many days the daily series and the channel, store and SKU rankings cover.
pub const REPORT_DAYS: u32 = 30;
/// How many stores and SKUs the rankings list.
pub const TOP_N: u32 = 10;

/// Orders and net sales of a period, with the parts bought online and by members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SalesTotals {
    pub orders: i64,
    /// Paid less refunded.
    pub net: Money,
    /// The part of `net` ordered online (delivery, pickup, appointment).
    pub online: Money,
    /// The part of `net` bought by members.
    pub member: Money,
}

impl SalesTotals {
    fn add_row(&mut self, row: &ChannelSales) {
        let online = OrderChannel::parse(&row.channel).is_ok_and(OrderChannel::is_online);
        self.orders += row.orders;
        self.net = plus(self.net, Money::from_fen(row.net));
        self.member = plus(self.member, Money::from_fen(row.member_net));
        if online {
            self.online = plus(self.online, Money::from_fen(row.net));
        }
    }

    fn add(&mut self, other: &SalesTotals) {
        self.orders += other.orders;
        self.net = plus(self.net, other.net);
        self.online = plus(self.online, other.online);
        self.member = plus(self.member, other.member);
    }

    /// The online share of net sales in basis points (1/100 %), `None` without sales.
    pub fn online_share_bp(&self) -> Option<i64> {
        share_bp(self.online, self.net)
    }

    /// The member share of net sales in basis points, `None` without sales.
    pub fn member_share_bp(&self) -> Option<i64> {
        share_bp(self.member, self.net)
    }
}

/// Sums that cannot overflow in practice (i64 分 is ~10^17 yuan); saturate rather than fail a read.
fn plus(a: Money, b: Money) -> Money {
    a.checked_add(b).unwrap_or(Money::from_fen(i64::MAX))
}

fn share_bp(part: Money, whole: Money) -> Option<i64> {
    (whole.fen() > 0).then(|| ((i128::from(part.fen()) * 10_000) / i128::from(whole.fen())) as i64)
}

/// One calendar day of sales.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySales {
    pub day: NaiveDate,
    pub totals: SalesTotals,
}

/// One channel's sales over the report's days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTotals {
    pub channel: OrderChannel,
    pub orders: i64,
    pub net: Money,
}

/// The sales report of the viewer's scope as of a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesReport {
    pub as_of: Timestamp,
    /// The place reported on after narrowing to the viewer's scope (both `None`: the chain).
    pub place: PlaceFilter,
    pub time_zone: TimeZone,
    pub today: SalesTotals,
    pub last_7_days: SalesTotals,
    pub last_30_days: SalesTotals,
    /// [`REPORT_DAYS`] days, oldest first, ending today.
    pub daily: Vec<DaySales>,
    /// Every channel over the report's days, in [`OrderChannel::ALL`] order (zero rows included).
    pub by_channel: Vec<ChannelTotals>,
    pub top_stores: Vec<StoreSales>,
    pub top_skus: Vec<SkuSales>,
}

impl App {
    /// The sales report as of `at` for `requested` (narrowed to the viewer's scope: HQ sees
    /// the chain, a region manager their region, a store manager their store).
    pub async fn sales_report(&self, ctx: &Ctx, requested: PlaceFilter, at: Timestamp) -> AppResult<SalesReport> {
        ctx.require(Permission::ReadReports)?;
        read_tx!(self, |tx| {
            let place = scoped_place(ctx, tx, requested).await?;
            let time_zone = crate::org::chain_in(tx).await?.time_zone;
            let today = time_zone.local_date(at);
            let first = today - Days::new(u64::from(REPORT_DAYS - 1));
            let mut daily = Vec::with_capacity(REPORT_DAYS as usize);
            let mut channels = vec![SalesTotals::default(); OrderChannel::ALL.len()];
            for offset in 0..REPORT_DAYS {
                let day = first + Days::new(u64::from(offset));
                let (from, to) = (time_zone.day_start(day), time_zone.day_start(day + Days::new(1)));
                let mut totals = SalesTotals::default();
                for row in tx.sales_by_channel(&place, from, to).await? {
                    totals.add_row(&row);
                    if let Some(i) = OrderChannel::ALL.iter().position(|c| c.as_str() == row.channel) {
                        channels[i].add_row(&row);
                    }
                }
                daily.push(DaySales { day, totals });
            }
            let (from, to) = (time_zone.day_start(first), time_zone.day_start(today + Days::new(1)));
            let top_stores = tx.top_stores(&place, from, to, TOP_N).await?;
            let top_skus = tx.top_skus(&place, from, to, TOP_N).await?;
            let sum_last = |days: usize| {
                let mut sum = SalesTotals::default();
                daily.iter().rev().take(days).for_each(|d| sum.add(&d.totals));
                sum
            };
            let (today_totals, last_7_days, last_30_days) = (sum_last(1), sum_last(7), sum_last(REPORT_DAYS as usize));
            let by_channel = OrderChannel::ALL
                .iter()
                .zip(&channels)
                .map(|(&channel, t)| ChannelTotals { channel, orders: t.orders, net: t.net })
                .collect();
            Ok(SalesReport {
                as_of: at,
                place,
                time_zone,
                today: today_totals,
                last_7_days,
                last_30_days,
                daily,
                by_channel,
                top_stores,
                top_skus,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(channel: &str, orders: i64, net: i64, member_net: i64) -> ChannelSales {
        ChannelSales { channel: channel.to_owned(), orders, net, member_net }
    }

    #[test]
    fn totals_split_online_and_member_sales() {
        let mut totals = SalesTotals::default();
        totals.add_row(&row("pos", 3, 6_000, 2_000));
        totals.add_row(&row("delivery", 1, 4_000, 4_000));
        assert_eq!(totals.orders, 4);
        assert_eq!(totals.net, Money::from_fen(10_000));
        assert_eq!(totals.online, Money::from_fen(4_000));
        assert_eq!(totals.online_share_bp(), Some(4_000));
        assert_eq!(totals.member_share_bp(), Some(6_000));
        assert_eq!(SalesTotals::default().online_share_bp(), None);
    }

    #[test]
    fn days_start_at_local_midnight() {
        let shanghai = TimeZone::parse("Asia/Shanghai").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(shanghai.day_start(day).to_rfc3339(), "2026-12-01T16:00:00+00:00");
        assert_eq!(shanghai.local_date(shanghai.day_start(day)), day);
    }
}
