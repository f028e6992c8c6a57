//! Use cases of tags (标签) and saved audiences (人群).
//!
//! HQ defines tags; staff tag and untag the customers they see, one at a time; marketing tags a
//! list of customers at once by identifier (an imported list: a campaign's winners, a partner's
//! members), every unknown identifier reported by its row. Rule tags stick by behaviour ("bought
//! fresh ≥ 3 times in 30 days"): each matching paid order or tracked event adds to a daily count
//! and tags the customer the moment the window's count reaches the rule's, in the same
//! transaction; the nightly pass takes the tag off those whose window has slid below it. Tags
//! join the audience index, so
//! expressions select on them (`#投诉`, `tag("VIP 客户")`). A saved audience is an expression
//! with a name: its count is evaluated when read, so it always reflects the members as they are.

pub(crate) mod computed;

use std::collections::{BTreeMap, HashMap};

use quanyu_domain::{
    DomainError, Expected,
    authz::Permission,
    customer::Customer,
    customer::{Identity, ORDER_PAID_EVENT, TagRule},
    ids::{CategoryId, CouponTemplateId, CustomerId, StaffId},
    marketing::{IssueRefusal, IssueSource},
    order::Order,
    text,
};
use quanyu_store::{AudienceSort, GuideTask, SavedAudience, Tag, Tx};

use crate::{App, AppError, AppResult, Ctx, change::Change, coupons::Issued, lifecycle::day, write::now};

/// The most identifiers one import may tag.
pub const MAX_TAG_IMPORT: usize = 100_000;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagImport {
    /// Customers who carry the tag now and did not before.
    pub tagged: u64,
    /// Rows naming a customer who carried it already (or named twice).
    pub already: u64,
    /// Rows (0-based) whose identifier is malformed or belongs to nobody.
    pub unknown: Vec<usize>,
}

impl App {
    /// Defines a tag (HQ marketing). `kind`: `manual` (staff tag by hand) or `imported`.
    pub async fn create_tag(&self, ctx: &Ctx, name: &str, kind: &str, description: Option<&str>) -> AppResult<Tag> {
        ctx.require(Permission::ManageMarketing)?;
        let name = tag_name(name)?;
        let kind = match kind.trim() {
            kind @ ("manual" | "imported") => kind.to_owned(),
            other => return Err(DomainError::UnknownValue { field: "kind", value: other.to_owned() }.into()),
        };
        let tag = Tag {
            id: uuid::Uuid::now_v7(),
            name,
            kind,
            description: text::optional("description", description, 200)?,
            rule: None,
            created_at: now(),
        };
        self.insert_tag(ctx, tag).await
    }

    /// Defines a rule tag (HQ marketing): it sticks to customers by behaviour.
    pub async fn create_rule_tag(
        &self,
        ctx: &Ctx,
        name: &str,
        rule: TagRule,
        description: Option<&str>,
    ) -> AppResult<Tag> {
        ctx.require(Permission::ManageMarketing)?;
        let rule = TagRule::new(rule)?;
        let tag = Tag {
            id: uuid::Uuid::now_v7(),
            name: tag_name(name)?,
            kind: "rule".to_owned(),
            description: text::optional("description", description, 200)?,
            rule: Some(rule),
            created_at: now(),
        };
        self.insert_tag(ctx, tag).await
    }

    async fn insert_tag(&self, ctx: &Ctx, tag: Tag) -> AppResult<Tag> {
        write_tx!(self, |tx| {
            tx.insert_tag(&tag).await?;
            Change::new("tag.created", "tag", tag.id).set("name", &tag.name).record(tx, Some(ctx)).await?;
            Ok(tag.clone())
        })
        .inspect(|tag| self.audience_tag_defined(&tag.name))
    }

    /// Every tag with how many live customers carry it, counted on the audience index (which it
    /// builds if no count has yet).
    pub async fn tags(&self, ctx: &Ctx) -> AppResult<Vec<(Tag, i64)>> {
        ctx.require(Permission::ReadCustomers)?;
        let tags = read_tx!(self, |tx| Ok(tx.list_tags().await?))?;
        let carriers = self.tag_carriers().await?;
        Ok(tags
            .into_iter()
            .map(|tag| {
                let carried = i64::try_from(carriers(&tag.name)).unwrap_or(i64::MAX);
                (tag, carried)
            })
            .collect())
    }

    /// Tags (or, with `on` false, untags) a customer the caller sees.
    pub async fn set_customer_tag(&self, ctx: &Ctx, id: CustomerId, tag: &str, on: bool) -> AppResult<Vec<Tag>> {
        ctx.require(Permission::ManageCustomers)?;
        let customer = self.customer(ctx, id).await?.customer;
        write_tx!(self, |tx| {
            let tag = named(tx, tag).await?;
            let changed = if on {
                tx.tag_customers(tag.id, &[customer.id], &ctx.actor.staff_id.to_string(), now()).await? == 1
            } else {
                tx.untag_customer(tag.id, customer.id).await?
            };
            if changed {
                let action = if on { "customer.tagged" } else { "customer.untagged" };
                Change::new(action, "customer", customer.id).set("tag", &tag.name).record(tx, Some(ctx)).await?;
            }
            Ok(tx.tags_of(customer.id).await?)
        })
        .inspect(|_| self.audience_changed())
    }

    pub async fn customer_tags(&self, ctx: &Ctx, id: CustomerId) -> AppResult<Vec<Tag>> {
        let customer = self.customer(ctx, id).await?.customer;
        read_tx!(self, |tx| Ok(tx.tags_of(customer.id).await?))
    }

    /// Tags every customer a list of (kind, value) identifiers names (HQ marketing).
    pub async fn import_tag(&self, ctx: &Ctx, tag: &str, rows: &[(String, String)]) -> AppResult<TagImport> {
        ctx.require(Permission::ManageMarketing)?;
        if rows.is_empty() || rows.len() > MAX_TAG_IMPORT {
            return Err(DomainError::OutOfRange { field: "rows", min: 1, max: MAX_TAG_IMPORT as i64 }.into());
        }
        write_tx!(self, |tx| {
            let tag = named(tx, tag).await?;
            let mut customers = Vec::with_capacity(rows.len());
            let mut unknown = Vec::new();
            for (row, (kind, value)) in rows.iter().enumerate() {
                let found = match Identity::parse(kind, value) {
                    Ok(identity) => tx.customer_by_identity(&identity).await?,
                    Err(_) => None,
                };
                match found {
                    Some(customer) => customers.push(crate::customers::resolve(tx, customer).await?.id),
                    None => unknown.push(row),
                }
            }
            let tagged = tx.tag_customers(tag.id, &customers, "import", now()).await?;
            Change::new("tag.imported", "tag", tag.id)
                .set("rows", &rows.len())
                .set("tagged", &tagged)
                .record(tx, Some(ctx))
                .await?;
            Ok(TagImport { tagged, already: customers.len() as u64 - tagged, unknown })
        })
        .inspect(|_| self.audience_changed())
    }

    /// Saves an expression under a name (HQ marketing); it must parse.
    pub async fn save_audience(&self, ctx: &Ctx, name: &str, expression: &str) -> AppResult<(SavedAudience, u64)> {
        ctx.require(Permission::ManageMarketing)?;
        let name = text::required("name", name, 64)?;
        let count = self.audience_count(ctx, expression).await?;
        let at = now();
        let audience = SavedAudience {
            id: uuid::Uuid::now_v7(),
            name,
            expression: expression.trim().to_owned(),
            created_by: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
            created_at: at,
            updated_at: at,
        };
        write_tx!(self, |tx| {
            tx.insert_audience(&audience).await?;
            Change::new("audience.saved", "audience", audience.id)
                .set("expression", &audience.expression)
                .record(tx, Some(ctx))
                .await?;
            Ok(())
        })?;
        Ok((audience, count))
    }

    /// Every saved audience with its members counted now (within the caller's scope).
    pub async fn saved_audiences(
        &self,
        ctx: &Ctx,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<crate::Listing<(SavedAudience, u64)>> {
        ctx.require(Permission::ReadCustomers)?;
        let order = quanyu_store::SortOrder { key: Some(AudienceSort::Name), descending: false };
        let mut sorting = quanyu_store::Sorting::from(order);
        let page = crate::Cursor::sorted_page(cursor, limit, &mut sorting)?;
        let saved = read_tx!(self, |tx| Ok(tx.list_audiences(&sorting, page).await?))?;
        let listing = crate::Listing::from_sorted_rows(saved, page, order, |a| a.id);
        let mut counted = Vec::with_capacity(listing.items.len());
        for audience in listing.items {
            let count = self.audience_count(ctx, &audience.expression).await?;
            counted.push((audience, count));
        }
        Ok(crate::Listing { items: counted, next_cursor: listing.next_cursor })
    }

    /// One saved audience, counted now.
    pub async fn saved_audience(&self, ctx: &Ctx, id: uuid::Uuid) -> AppResult<(SavedAudience, u64)> {
        ctx.require(Permission::ReadCustomers)?;
        let audience =
            read_tx!(self, |tx| Ok(tx.get_audience(id).await?))?.ok_or(AppError::NotFound { entity: "audience" })?;
        let count = self.audience_count(ctx, &audience.expression).await?;
        Ok((audience, count))
    }
}

fn tag_name(name: &str) -> AppResult<String> {
    let name = text::required("name", name, 32)?;
    if name.chars().any(|c| c == '"' || c.is_control()) {
        return Err(DomainError::Malformed { field: "name", expected: Expected::TagNameWithoutQuotes }.into());
    }
    Ok(name)
}

/// Counts `by` occurrences of a rule's behaviour for a customer and tags them when the window's
/// count reaches the rule's.
async fn count(tx: &mut dyn Tx, tag: &Tag, rule: &TagRule, customer: CustomerId, by: i64) -> AppResult<()> {
    let at = now();
    let today = day(at);
    let total = tx.bump_rule_count(tag.id, customer, today, by, today - rule.window_days + 1).await?;
    if total >= rule.min_count {
        tx.tag_customers(tag.id, &[customer], "rule", at).await?;
    }
    Ok(())
}

/// A paid order counts for the `Order Paid` rules whose category is on one of its lines.
pub(crate) async fn on_order_paid(tx: &mut dyn Tx, order: &Order) -> AppResult<()> {
    let Some(customer) = order.customer_id else { return Ok(()) };
    let rules: Vec<Tag> = tx
        .rule_tags()
        .await?
        .into_iter()
        .filter(|t| t.rule.as_ref().is_some_and(|r| r.event == ORDER_PAID_EVENT))
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let needs_categories = rules.iter().any(|t| t.rule.as_ref().is_some_and(|r| r.category_id.is_some()));
    let mut categories: Vec<CategoryId> = Vec::new();
    if needs_categories {
        let parents: HashMap<CategoryId, Option<CategoryId>> =
            tx.all_categories().await?.into_iter().map(|c| (c.id, c.parent_id)).collect();
        for line in &order.lines {
            let Some(sku) = tx.get_sku(line.sku_id).await? else { continue };
            let Some(product) = tx.get_product(sku.product_id).await? else { continue };
            let mut next = Some(product.category_id);
            while let Some(category) = next.filter(|c| !categories.contains(c) && categories.len() < 256) {
                categories.push(category);
                next = parents.get(&category).copied().flatten();
            }
        }
    }
    for tag in &rules {
        let Some(rule) = &tag.rule else { continue };
        if rule.category_id.is_none_or(|c| categories.contains(&c)) {
            count(tx, tag, rule, customer, 1).await?;
        }
    }
    Ok(())
}

/// Tracked events count for the rules on their name: each customer's events once per rule,
/// customers in id order and rules in name order, so that writers committing side by side
/// (PostgreSQL) take the counters' row locks in one order and never wait on each other in a
/// circle.
pub(crate) async fn on_events(tx: &mut dyn Tx, events: &[&quanyu_store::StoredEvent]) -> AppResult<()> {
    let rules: Vec<Tag> = tx
        .rule_tags()
        .await?
        .into_iter()
        .filter(|t| t.rule.as_ref().is_some_and(|r| r.event != ORDER_PAID_EVENT))
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let mut counts: BTreeMap<(CustomerId, usize), i64> = BTreeMap::new();
    for event in events {
        let (Some(customer), Some(name)) = (event.customer_id, event.message.name.as_deref()) else { continue };
        if event.message.kind != quanyu_domain::events::EventType::Track {
            continue;
        }
        for (at, tag) in rules.iter().enumerate() {
            if tag.rule.as_ref().is_some_and(|r| r.event == name) {
                *counts.entry((customer, at)).or_default() += 1;
            }
        }
    }
    for ((customer, at), by) in counts {
        let tag = &rules[at];
        if let Some(rule) = &tag.rule {
            count(tx, tag, rule, customer, by).await?;
        }
    }
    Ok(())
}

impl App {
    /// The nightly pass of rule tags: takes each off the customers whose window has slid below
    /// its count. Returns how many tags were taken off.
    pub async fn refresh_rule_tags(&self, at: quanyu_domain::time::Timestamp) -> AppResult<u64> {
        let ctx = Ctx::system();
        write_tx!(self, |tx| {
            let mut removed = 0;
            for tag in tx.rule_tags().await? {
                let Some(rule) = &tag.rule else { continue };
                let gone = tx.expire_rule_tag(tag.id, day(at) - rule.window_days + 1, rule.min_count).await?;
                if gone > 0 {
                    Change::new("tag.rule_expired", "tag", tag.id).set("removed", &gone).record(tx, Some(&ctx)).await?;
                }
                removed += gone;
            }
            Ok(removed)
        })
    }
}

/// What handing a coupon to an audience did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AudienceIssue {
    /// Members given a coupon now.
    pub issued: u64,
    /// Members given one by an earlier hand-off of the same audience and template.
    pub already: u64,
    /// Members the template refused (their limit reached), and those left when its budget ran out.
    pub refused: u64,
}

/// Members per transaction of a hand-off.
const HAND_OFF_BATCH: usize = 200;

impl App {
    /// The members of a saved audience now, as customers (HQ marketing; at most
    /// [`crate::MAX_EXPORT`]).
    async fn audience_customers(
        &self,
        ctx: &Ctx,
        audience_id: uuid::Uuid,
    ) -> AppResult<(SavedAudience, Vec<Customer>)> {
        ctx.require(Permission::ManageMarketing)?;
        let audience = read_tx!(self, |tx| Ok(tx.get_audience(audience_id).await?))?
            .ok_or(AppError::NotFound { entity: "audience" })?;
        let members = self.select(ctx, &audience.expression).await?;
        if members.len() > crate::MAX_EXPORT {
            return Err(AppError::TooManyMembers { count: members.len(), max: crate::MAX_EXPORT });
        }
        let ordinals: Vec<i64> = members.iter().map(i64::from).collect();
        let mut customers = Vec::with_capacity(ordinals.len());
        for chunk in ordinals.chunks(1_000) {
            let rows = read_tx!(self, |tx| Ok(tx.customers_by_ordinals(chunk).await?))?;
            customers.extend(rows.into_iter().map(|(customer, _)| customer));
        }
        Ok((audience, customers))
    }

    /// Gives every member of a saved audience a coupon of the template (HQ marketing), once per
    /// audience, template and member however often it is run; stops when the template's budget
    /// is spent.
    pub async fn issue_to_audience(
        &self,
        ctx: &Ctx,
        audience_id: uuid::Uuid,
        template_id: CouponTemplateId,
    ) -> AppResult<AudienceIssue> {
        let (audience, customers) = self.audience_customers(ctx, audience_id).await?;
        let template = read_tx!(self, |tx| crate::coupons::template(tx, template_id).await)?;
        let mut outcome = AudienceIssue::default();
        for chunk in customers.chunks(HAND_OFF_BATCH) {
            let budget_spent = write_tx!(self, |tx| {
                for customer in chunk {
                    let key = format!("audience:{}:{}:{}", audience.id, template.id, customer.id);
                    match crate::coupons::issue_keyed(tx, ctx, &template, customer.id, IssueSource::Audience, key)
                        .await?
                    {
                        Issued::New => outcome.issued += 1,
                        Issued::Already => outcome.already += 1,
                        Issued::Refused(IssueRefusal::LimitReached) => outcome.refused += 1,
                        Issued::Refused(_) => return Ok(true),
                    }
                }
                Ok(false)
            })?;
            if budget_spent {
                let handled = outcome.issued + outcome.already + outcome.refused;
                outcome.refused += customers.len() as u64 - handled.min(customers.len() as u64);
                break;
            }
        }
        write_tx!(self, |tx| {
            Change::new("audience.coupons_issued", "audience", audience.id)
                .set("template", &template.id)
                .set("issued", &outcome.issued)
                .record(tx, Some(ctx))
                .await
        })?;
        Ok(outcome)
    }

    /// Hands the members of a saved audience to their guides as follow-up tasks (HQ marketing);
    /// members without a guide are left out. Returns how many tasks were new.
    pub async fn assign_to_guides(&self, ctx: &Ctx, audience_id: uuid::Uuid, title: &str) -> AppResult<u64> {
        let title = text::required("title", title, 100)?;
        let (audience, customers) = self.audience_customers(ctx, audience_id).await?;
        let at = now();
        let tasks: Vec<GuideTask> = customers
            .iter()
            .filter_map(|customer| {
                Some(GuideTask {
                    id: uuid::Uuid::now_v7(),
                    guide_id: customer.guide_id?,
                    customer_id: customer.id,
                    audience_id: audience.id,
                    title: title.clone(),
                    status: "open".to_owned(),
                    note: None,
                    created_at: at,
                    done_at: None,
                })
            })
            .collect();
        write_tx!(self, |tx| {
            let created = tx.insert_guide_tasks(&tasks).await?;
            Change::new("audience.handed_to_guides", "audience", audience.id)
                .set("tasks", &created)
                .record(tx, Some(ctx))
                .await?;
            Ok(created)
        })
    }

    /// A guide's follow-up tasks (`open` or `done`), newest first: their own, or any for staff
    /// who read staff.
    pub async fn guide_tasks(
        &self,
        ctx: &Ctx,
        guide_id: StaffId,
        status: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<crate::Listing<GuideTask>> {
        if guide_id != ctx.actor.staff_id {
            ctx.require(Permission::ReadStaff)?;
            self.get_staff(ctx, guide_id).await?;
        }
        if !matches!(status, "open" | "done") {
            return Err(DomainError::UnknownValue { field: "status", value: status.to_owned() }.into());
        }
        let page = crate::listing::Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| Ok(tx.guide_tasks(guide_id, status, page).await?))?;
        Ok(crate::Listing::from_rows(rows, page, |t| t.id))
    }

    /// A guide marks their follow-up done, with a note of how it went.
    pub async fn finish_guide_task(&self, ctx: &Ctx, id: uuid::Uuid, note: Option<&str>) -> AppResult<GuideTask> {
        let note = text::optional("note", note, 500)?;
        write_tx!(self, |tx| {
            let task = tx.get_guide_task(id).await?.ok_or(AppError::NotFound { entity: "guide_task" })?;
            if task.guide_id != ctx.actor.staff_id {
                return Err(AppError::Forbidden);
            }
            if !tx.finish_guide_task(id, note.as_deref(), now()).await? {
                return Err(AppError::StatusChanged);
            }
            tx.get_guide_task(id).await?.ok_or(AppError::NotFound { entity: "guide_task" })
        })
    }
}

async fn named(tx: &mut dyn Tx, name: &str) -> AppResult<Tag> {
    text::plain("tag", name)?;
    tx.tag_by_name(name.trim()).await?.ok_or(AppError::UnknownReference { field: "tag", entity: "tag" })
}
