//! Use cases of the guide workbench (导购工作台): a guide's customer book (their bound customers
//! with masked phone, tags, lifecycle stage and RFM, searched and filtered, a page at a time with
//! one batch read per attribute rather than one per customer), their open follow-ups ordered by
//! when they fall due, and their KPIs (customers added, attributed online sales by month, tasks
//! done), and what a guide may share or give: the SKUs their store sells online and the coupon
//! templates they may give or share a claim link to.
//!
//! A guide reads their own workbench; staff who read staff read a guide's within their scope.
//! Other roles have no customer book: asking for their own is refused.

use std::collections::HashMap;

use chrono::{Datelike, FixedOffset, TimeZone};
use quanyu_audience::{
    Rfm, Stage,
    lifecycle::{rfm_segment, rfm_segment_code},
};
use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    catalog::{Channel, EffectivePrice, ListingStatus, Sku},
    customer::{Customer, Identity, follow_up_due},
    ids::{CustomerId, SkuId, StaffId},
    marketing::{CouponTemplate, IssueSource},
    org::{Role, Scope, Staff},
    text,
    time::Timestamp,
};
use quanyu_store::{CustomerFilter, CustomerScores, CustomerSearch, GuideTask, GuideTaskCounts, Page, SkuFilter, Tx};

use crate::{
    App, AppError, AppResult, Ctx, Listing, coupons::accepted_in_scope, lifecycle::current_scores, listing::Cursor,
    write::now,
};

/// The most open follow-ups the task board shows at once.
pub const MAX_TASK_BOARD: u32 = 200;
/// How many months of attributed sales the KPIs chart.
pub const KPI_MONTHS: usize = 6;

/// What a guide's customer book narrows on.
#[derive(Debug, Clone, Default)]
pub struct BookQuery {
    /// Part of the name or phone number.
    pub text: Option<String>,
    /// A lifecycle stage: `introduction`, `growth`, `maturity`, `decline`, `silence`, `churned`
    /// (as of the last rebuild of the scores).
    pub stage: Option<String>,
    /// A tag's name.
    pub tag: Option<String>,
}

/// A customer as a list shows them: enough to recognise and prioritise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerCard {
    pub customer: Customer,
    /// The first phone, masked as staff see it (`138****0001`).
    pub phone: Option<String>,
    /// Tag names, by name.
    pub tags: Vec<String>,
    /// The stored scores, or for a customer registered since the last rebuild, computed now.
    pub scores: Option<CustomerScores>,
}

impl CustomerCard {
    /// The RFM segment (重要价值客户…), once scored.
    pub fn segment(&self) -> Option<&'static str> {
        self.rfm().map(rfm_segment)
    }

    /// The RFM segment's code (`important_value`…), once scored.
    pub fn segment_code(&self) -> Option<&'static str> {
        self.rfm().map(rfm_segment_code)
    }

    fn rfm(&self) -> Option<Rfm> {
        let score = |v: i64| u8::try_from(v).unwrap_or(0);
        self.scores.as_ref().map(|s| Rfm { r: score(s.r), f: score(s.f), m: score(s.m) })
    }

    /// The stage's label (成长期…), once scored.
    pub fn stage_label(&self) -> Option<&'static str> {
        self.scores.as_ref().map(|s| crate::stage_label(&s.stage)).filter(|l| !l.is_empty())
    }
}

/// An open follow-up with when it falls due and whom it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCard {
    pub task: GuideTask,
    pub due_at: Timestamp,
    pub overdue: bool,
    /// `None` when the customer was merged away since.
    pub customer: Option<CustomerCard>,
}

/// A month's attributed online sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthSales {
    /// The first moment of the month, China Standard Time.
    pub starts_at: Timestamp,
    pub sales: Money,
    pub orders: i64,
}

/// A guide's KPIs as of a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct GuideKpis {
    pub guide: Staff,
    /// The start of the current month, China Standard Time.
    pub month_starts_at: Timestamp,
    /// Customers bound to the guide now.
    pub customers: i64,
    /// Of those, the ones who joined this month.
    pub customers_this_month: i64,
    /// Attributed online sales net of refunds, and their orders: this month, and ever.
    pub sales_this_month: Money,
    pub orders_this_month: i64,
    pub sales_total: Money,
    pub orders_total: i64,
    /// `done_since` counts the tasks done this month.
    pub tasks: GuideTaskCounts,
    /// The last [`KPI_MONTHS`] months, oldest first, this month last.
    pub months: Vec<MonthSales>,
}

impl App {
    /// A guide's bound customers matching `query`, in id order, each with masked phone, tags
    /// and scores.
    pub async fn guide_customers(
        &self,
        ctx: &Ctx,
        guide_id: StaffId,
        query: BookQuery,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<CustomerCard>> {
        let guide = self.guide_in_reach(ctx, guide_id).await?;
        let search = CustomerSearch {
            filter: CustomerFilter { guide_id: Some(guide.id), ..CustomerFilter::default() },
            text: text::optional("q", query.text.as_deref(), 50)?,
            stage: match query.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(raw) => Some(
                    Stage::parse(raw)
                        .ok_or_else(|| DomainError::UnknownValue { field: "stage", value: raw.to_owned() })?
                        .as_str()
                        .to_owned(),
                ),
            },
            tag: text::optional("tag", query.tag.as_deref(), 40)?,
        };
        let page = Cursor::page(cursor, limit)?;
        let cards = read_tx!(self, |tx| {
            let rows = tx.search_customers(&search, page).await?;
            cards(tx, rows).await
        })?;
        Ok(Listing::from_rows(cards, page, |c| c.customer.id.as_uuid()))
    }

    /// A guide's open follow-ups (up to [`MAX_TASK_BOARD`]), overdue first, then by due time.
    pub async fn guide_task_board(&self, ctx: &Ctx, guide_id: StaffId, at: Timestamp) -> AppResult<Vec<TaskCard>> {
        let guide = self.guide_in_reach(ctx, guide_id).await?;
        let tasks = self.guide_tasks(ctx, guide.id, "open", None, Some(MAX_TASK_BOARD)).await?.items;
        let ids: Vec<CustomerId> = tasks.iter().map(|t| t.customer_id).collect();
        let cards: HashMap<CustomerId, CustomerCard> = read_tx!(self, |tx| {
            let rows = tx.customers_by_ids(&ids).await?;
            cards(tx, rows).await
        })?
        .into_iter()
        .map(|c| (c.customer.id, c))
        .collect();
        let mut board: Vec<TaskCard> = tasks
            .into_iter()
            .map(|task| {
                let due_at = follow_up_due(task.created_at);
                let customer = cards.get(&task.customer_id).cloned();
                TaskCard { due_at, overdue: due_at < at, customer, task }
            })
            .collect();
        board.sort_by_key(|t| (t.due_at, t.task.id));
        Ok(board)
    }

    /// A guide's KPIs as of `at`.
    pub async fn guide_kpis(&self, ctx: &Ctx, guide_id: StaffId, at: Timestamp) -> AppResult<GuideKpis> {
        let guide = self.guide_in_reach(ctx, guide_id).await?;
        let starts = month_starts(at, KPI_MONTHS);
        let month_starts_at = *starts.last().ok_or_else(|| AppError::Internal("no months".into()))?;
        read_tx!(self, |tx| {
            let customers = tx.customers_of_guide(guide.id).await?;
            let customers_this_month = tx.customers_of_guide_since(guide.id, month_starts_at).await?;
            let (sales_total, orders_total) = tx.guide_sales_since(guide.id, Timestamp::UNIX_EPOCH).await?;
            // Sales since each month's start; a month's own is the difference to the next one's.
            let mut since = Vec::with_capacity(starts.len());
            for start in &starts {
                since.push(tx.guide_sales_since(guide.id, *start).await?);
            }
            let months = starts
                .iter()
                .enumerate()
                .map(|(i, starts_at)| {
                    let (sales, orders) = since[i];
                    let (later_sales, later_orders) = since.get(i + 1).copied().unwrap_or((Money::ZERO, 0));
                    MonthSales {
                        starts_at: *starts_at,
                        sales: sales.checked_sub(later_sales).unwrap_or(Money::ZERO),
                        orders: orders - later_orders,
                    }
                })
                .collect();
            let (sales_this_month, orders_this_month) = since.last().copied().unwrap_or((Money::ZERO, 0));
            let tasks = tx.guide_task_counts(guide.id, month_starts_at).await?;
            Ok(GuideKpis {
                guide: guide.clone(),
                month_starts_at,
                customers,
                customers_this_month,
                sales_this_month,
                orders_this_month,
                sales_total,
                orders_total,
                tasks,
                months,
            })
        })
    }

    /// SKUs matching `search` (code, SKU or product name) that the caller's store sells
    /// online, at most `limit` of them: what a guide may share a link to.
    pub async fn shareable_skus(&self, ctx: &Ctx, search: &str, limit: u32) -> AppResult<Vec<ShareableSku>> {
        let search = text::required("q", search, 50)?;
        let filter = SkuFilter { search: Some(search), ..SkuFilter::default() };
        // Twice the rows asked for, since some are not sold online here.
        let skus = self.list_skus(ctx, filter, None, Some(limit.saturating_mul(2).clamp(1, 100))).await?.items;
        let mut found = Vec::with_capacity(limit as usize);
        for sku in skus {
            if found.len() >= limit as usize {
                break;
            }
            match self.shareable_sku(ctx, sku.id).await {
                Ok(shareable) => found.push(shareable),
                Err(AppError::SkuUnavailable { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(found)
    }

    /// An SKU the caller's store sells online, with its product's name and the online price
    /// there; `SkuUnavailable` when it does not sell it.
    pub async fn shareable_sku(&self, ctx: &Ctx, sku_id: SkuId) -> AppResult<ShareableSku> {
        let Scope::Store(store_id) = ctx.actor.scope() else {
            return Err(AppError::OutOfScope);
        };
        let pricing = self.store_pricing(ctx, store_id, sku_id).await?;
        if !pricing.online.available || pricing.sku.status != ListingStatus::Active {
            return Err(AppError::SkuUnavailable { sku_id });
        }
        let (product, _) = self.get_product(ctx, pricing.sku.product_id).await?;
        Ok(ShareableSku { product_name: product.name, price: pricing.online, sku: pricing.sku })
    }

    /// Coupon templates the caller may give a customer now (active, in date, accepted by
    /// their store).
    pub async fn templates_to_give(&self, ctx: &Ctx, at: Timestamp) -> AppResult<Vec<CouponTemplate>> {
        ctx.require(Permission::IssueCoupons)?;
        let templates = self.coupon_templates(ctx, Default::default(), None, Some(Page::MAX_LIMIT)).await?.items;
        Ok(templates
            .into_iter()
            .filter(|t| t.issuable(IssueSource::Staff, at).is_ok() && accepted_in_scope(ctx, t))
            .collect())
    }

    /// Coupon templates a guide may share a claim link to: customers may claim them now, online,
    /// and the guide's store accepts them.
    pub async fn templates_to_share(&self, ctx: &Ctx, at: Timestamp) -> AppResult<Vec<CouponTemplate>> {
        Ok(self
            .templates_to_give(ctx, at)
            .await?
            .into_iter()
            .filter(|t| t.issuable(IssueSource::Claim, at).is_ok() && shareable_online(t))
            .collect())
    }

    /// The guide whose workbench the caller may read: their own if they are a guide, else a
    /// guide they see as staff.
    pub async fn guide_in_reach(&self, ctx: &Ctx, guide_id: StaffId) -> AppResult<Staff> {
        if guide_id == ctx.actor.staff_id && ctx.actor.role() != Role::Guide {
            return Err(AppError::Forbidden);
        }
        let guide = self.get_staff(ctx, guide_id).await?;
        if guide.assignment.role() != Role::Guide {
            return Err(AppError::NotAGuide);
        }
        Ok(guide)
    }
}

/// A product a guide may share, as their store sells it online.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareableSku {
    pub sku: Sku,
    pub product_name: String,
    /// The online price in the guide's store.
    pub price: EffectivePrice,
}

fn shareable_online(template: &CouponTemplate) -> bool {
    template.rules.channels.is_empty() || template.rules.channels.contains(&Channel::Online)
}

/// Cards for customers fetched with their first phone: tags and stored scores in one read each
/// (scores computed on the spot only for customers registered since the last rebuild).
async fn cards(tx: &mut dyn Tx, rows: Vec<(Customer, Option<String>)>) -> AppResult<Vec<CustomerCard>> {
    let ids: Vec<CustomerId> = rows.iter().map(|(c, _)| c.id).collect();
    let mut tags: HashMap<CustomerId, Vec<String>> = HashMap::new();
    for (customer, name) in tx.tag_names_of(&ids).await? {
        tags.entry(customer).or_default().push(name);
    }
    let mut scores: HashMap<CustomerId, CustomerScores> =
        current_scores(tx, &ids, now()).await?.into_iter().map(|s| (s.customer_id, s)).collect();
    Ok(rows
        .into_iter()
        .map(|(customer, phone)| CustomerCard {
            phone: phone.and_then(|p| Identity::parse("phone", &p).ok()).map(|p| p.masked()),
            tags: tags.remove(&customer.id).unwrap_or_default(),
            scores: scores.remove(&customer.id),
            customer,
        })
        .collect())
}

/// The starts of the `count` months up to the one holding `at`, oldest first, in China Standard
/// Time (the chain's clock, which keeps no daylight saving).
pub fn month_starts(at: Timestamp, count: usize) -> Vec<Timestamp> {
    let china = FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    let local = at.with_timezone(&china);
    let (mut year, mut month) = (local.year(), local.month());
    let mut starts = Vec::with_capacity(count);
    for _ in 0..count {
        if let Some(start) = china.with_ymd_and_hms(year, month, 1, 0, 0, 0).single() {
            starts.push(start.with_timezone(&chrono::Utc));
        }
        (year, month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
    }
    starts.reverse();
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_at_midnight_china_time() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-01T01:00:00+08:00").unwrap().to_utc();
        let starts: Vec<String> = month_starts(at, 3).iter().map(|s| s.to_rfc3339()).collect();
        assert_eq!(
            starts,
            ["2026-01-01T00:00:00+08:00", "2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00"]
                .map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc().to_rfc3339())
        );
        let new_year = chrono::DateTime::parse_from_rfc3339("2026-01-15T00:00:00Z").unwrap().to_utc();
        assert_eq!(month_starts(new_year, 2)[0].to_rfc3339(), "2025-11-30T16:00:00+00:00");
    }
}
