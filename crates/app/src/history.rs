//! Seeding a member history in bulk: customers with their phone, home store and guide, and the
//! orders they paid over the past months, written straight through the repositories in
//! transactions of a few hundred members (the demo's twenty thousand members would take minutes
//! one use case at a time). For the demo and for bringing a chain's past over from another
//! system; only the operator at the machine ([`Ctx::system`]) may do it.
//!
//! What is written is what the use cases would have written then: each order is priced line by
//! line from the catalog and the store's prices ([`LineBreakdown::price`], member prices
//! included), paid, and walked through its channel's steps to completed, at the times given;
//! the member's tier follows their twelve-month spend (upgrades at payment, the review's answer
//! at the end) and each payment earns its points as a keyed ledger entry at its time, so points
//! balances equal their ledger. The coupon rules apply as at registration and at the first paid
//! order (new-member gift, first-order voucher), issued now, and RFM scores and lifecycle stages
//! are rebuilt once at the end.
//!
//! What is left out, deliberately: historical orders move no stock (the goods left the shelves
//! long ago, and stock levels stay equal to their ledger), take no promotion, coupon or points
//! at checkout and are attributed to no promoter; each member records one `customer.created`
//! change (audit entry and outbox event, with their number of orders), the orders none, so the
//! audit log and event timelines are not flooded with the past.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use quanyu_domain::{
    DomainError, Expected, Money,
    catalog::{Channel, Product, Sku, StoreSku, effective_price},
    customer::{Customer, Identity},
    ids::{CustomerId, OrderId, PaymentId, SkuId, StaffId, StoreId},
    loyalty::{self, PointsRule, Tier},
    marketing::AutoIssue,
    order::{LineBreakdown, Order, OrderChannel, OrderEvent, OrderLine, OrderStatus, PaymentMethod, transition},
    org::{Role, Scope, StaffStatus, StoreKind},
    text,
    time::Timestamp,
};
use quanyu_store::{OrderStep, Page, PaymentRecord, PointsEntry, Tx};

use crate::{
    App, AppError, AppResult, Ctx, DEFAULT_DELIVERY_PROMISE, DEFAULT_PICKUP_PROMISE, DELIVERY_FEE, FREE_DELIVERY_FROM,
    change::Change, write::now,
};

/// Members written per transaction: large enough to amortise the commit, small enough that the
/// single SQLite writer is not held for long.
const BATCH: usize = 500;
/// The most points a member may be given on joining.
const MAX_WELCOME_POINTS: i64 = 1_000_000;

/// A member of the history, with what they bought.
#[derive(Debug, Clone)]
pub struct HistoricalMember {
    pub phone: String,
    pub display_name: Option<String>,
    pub home_store_id: StoreId,
    /// A guide of the home store.
    pub guide_id: Option<StaffId>,
    pub joined_at: Timestamp,
    /// Points given on joining (开卡礼), as a reasoned adjustment; zero for none.
    pub welcome_points: i64,
    /// Their paid orders, in any order; none placed before `joined_at`.
    pub orders: Vec<HistoricalOrder>,
}

/// An order as it happened: placed, paid at once, and handed over.
#[derive(Debug, Clone)]
pub struct HistoricalOrder {
    pub store_id: StoreId,
    pub channel: OrderChannel,
    /// (SKU, units, or grams when sold by weight).
    pub lines: Vec<(SkuId, i64)>,
    pub method: PaymentMethod,
    /// The card terminal's reference (cards only).
    pub reference: Option<String>,
    pub placed_at: Timestamp,
    /// When it was completed (delivered, collected); `None` for channels that complete at
    /// payment (the till, scan to buy).
    pub completed_at: Option<Timestamp>,
    /// Deliveries only.
    pub delivery_address: Option<String>,
}

/// What [`App::seed_history`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySeeded {
    /// The new customers, in the order given.
    pub customers: Vec<CustomerId>,
    pub orders: usize,
    /// Points earned by the orders and given on joining.
    pub points: i64,
    /// What the orders were paid in all.
    pub spend: Money,
}

impl App {
    /// Writes `members` as new customers with their paid orders, points and tiers (see the
    /// module), then rescores every customer (RFM and lifecycle stage). Everything is checked
    /// before the first write; then members are written in transactions of a few hundred. A
    /// phone already registered fails its batch (the batches before it stay written).
    pub async fn seed_history(&self, ctx: &Ctx, members: &[HistoricalMember]) -> AppResult<HistorySeeded> {
        if !ctx.is_system() {
            return Err(AppError::Forbidden);
        }
        let at = now();
        let checked: Vec<Checked> = members.iter().map(|member| check(member, at)).collect::<AppResult<_>>()?;
        let catalog = read_tx!(self, |tx| Catalog::load(tx, members).await)?;
        let mut seeded = HistorySeeded { customers: Vec::with_capacity(members.len()), ..HistorySeeded::default() };
        for batch in checked.chunks(BATCH) {
            let written = write_tx!(self, |tx| {
                let mut written = HistorySeeded::default();
                for member in batch {
                    write_member(tx, ctx, &catalog, member, at, &mut written).await?;
                }
                Ok(written)
            })?;
            seeded.customers.extend(written.customers);
            seeded.orders += written.orders;
            seeded.points += written.points;
            seeded.spend =
                seeded.spend.checked_add(written.spend).ok_or(DomainError::MoneyOverflow { field: "spend" })?;
        }
        // A payment keeps its customer's RFM scores current; a history is scored in one pass.
        self.rebuild_scores(at).await?;
        Ok(seeded)
    }
}

/// A member whose values have been checked.
struct Checked<'a> {
    member: &'a HistoricalMember,
    phone: Identity,
    display_name: Option<String>,
    /// The orders, oldest first.
    orders: Vec<&'a HistoricalOrder>,
}

fn check(member: &HistoricalMember, at: Timestamp) -> AppResult<Checked<'_>> {
    let phone = Identity::parse("phone", &member.phone)?;
    let display_name = Customer::validate_name(member.display_name.as_deref())?;
    if !(0..=MAX_WELCOME_POINTS).contains(&member.welcome_points) {
        return Err(DomainError::OutOfRange { field: "welcome_points", min: 0, max: MAX_WELCOME_POINTS }.into());
    }
    if member.joined_at > at {
        return Err(DomainError::Malformed { field: "joined_at", expected: Expected::TimeInPast }.into());
    }
    let mut orders: Vec<&HistoricalOrder> = member.orders.iter().collect();
    orders.sort_by_key(|order| order.placed_at);
    for order in &orders {
        if order.lines.is_empty() || order.lines.len() > 200 {
            return Err(DomainError::OutOfRange { field: "lines", min: 1, max: 200 }.into());
        }
        for &(_, quantity) in &order.lines {
            quanyu_domain::inventory::Qty::positive("quantity", quantity)?;
        }
        let completes_on_payment = order.channel.completes_on_payment();
        let done = order.completed_at.unwrap_or(order.placed_at);
        if order.placed_at < member.joined_at || done < order.placed_at || done > at {
            return Err(DomainError::Malformed { field: "placed_at", expected: Expected::HistoricalOrderTimes }.into());
        }
        if completes_on_payment != order.completed_at.is_none() {
            return Err(
                DomainError::Malformed { field: "completed_at", expected: Expected::CompletedAtForChannel }.into()
            );
        }
        if order.channel == OrderChannel::Delivery && order.delivery_address.is_none() {
            return Err(DomainError::Required { field: "delivery_address" }.into());
        }
        if order.method == PaymentMethod::Card && order.reference.is_none() {
            return Err(DomainError::Required { field: "reference" }.into());
        }
    }
    Ok(Checked { member, phone, display_name, orders })
}

/// What the orders are priced and named from, read once.
struct Catalog {
    tiers: Vec<Tier>,
    skus: HashMap<SkuId, (Sku, Option<Product>)>,
    /// The stores' own settings, by store and SKU.
    settings: HashMap<(StoreId, SkuId), StoreSku>,
}

impl Catalog {
    /// Reads what `members` refer to, checking that every store trades, every guide is an
    /// active guide of the member's home store and every SKU exists.
    async fn load(tx: &mut dyn Tx, members: &[HistoricalMember]) -> AppResult<Catalog> {
        let mut stores: HashSet<StoreId> = HashSet::new();
        let mut guides: HashMap<StaffId, StoreId> = HashMap::new();
        let mut skus = HashMap::new();
        for member in members {
            stores.insert(member.home_store_id);
            if let Some(guide_id) = member.guide_id {
                let store_id = match guides.get(&guide_id) {
                    Some(store_id) => *store_id,
                    None => {
                        let store_id = guide_store(tx, guide_id).await?;
                        guides.insert(guide_id, store_id);
                        store_id
                    }
                };
                if store_id != member.home_store_id {
                    return Err(AppError::NotAGuide);
                }
            }
            for order in &member.orders {
                stores.insert(order.store_id);
                for &(sku_id, _) in &order.lines {
                    if skus.contains_key(&sku_id) {
                        continue;
                    }
                    let sku = tx
                        .get_sku(sku_id)
                        .await?
                        .ok_or(AppError::UnknownReference { field: "sku_id", entity: "sku" })?;
                    let product = tx.get_product(sku.product_id).await?;
                    skus.insert(sku_id, (sku, product));
                }
            }
        }
        let mut settings = HashMap::new();
        for &store_id in &stores {
            let store = tx
                .get_store(store_id)
                .await?
                .ok_or(AppError::UnknownReference { field: "store_id", entity: "store" })?;
            if store.kind != StoreKind::Store {
                return Err(AppError::StoreNotTrading);
            }
            let mut page = Page::first(Page::MAX_LIMIT);
            loop {
                let rows = tx.list_store_skus(store_id, page).await?;
                let full = rows.len() >= page.limit as usize;
                page.after = rows.last().map(|s| s.sku_id.as_uuid());
                settings.extend(rows.into_iter().map(|s| ((store_id, s.sku_id), s)));
                if !full {
                    break;
                }
            }
        }
        Ok(Catalog { tiers: tx.list_tiers().await?, skus, settings })
    }

    /// An order line at the member's prices of the store and channel then.
    fn line(&self, order: &HistoricalOrder, line_no: usize, sku_id: SkuId, quantity: i64) -> AppResult<OrderLine> {
        let (sku, product) = self.skus.get(&sku_id).ok_or(AppError::NotFound { entity: "sku" })?;
        let channel = match order.channel {
            OrderChannel::Delivery | OrderChannel::Pickup | OrderChannel::Appointment => Channel::Online,
            _ => Channel::Store,
        };
        let price = effective_price(sku, channel, self.settings.get(&(order.store_id, sku_id)));
        if !price.available {
            return Err(AppError::SkuUnavailable { sku_id });
        }
        let member = (price.member < price.regular).then_some(price.member);
        let breakdown = LineBreakdown::price(price.regular, member, quantity, sku.sold_by_weight)
            .map_err(|_| DomainError::MoneyOverflow { field: "lines" })?;
        let sku_name = match product {
            Some(p) if p.name != sku.name => format!("{} {}", p.name, sku.name),
            _ => sku.name.clone(),
        };
        Ok(OrderLine {
            line_no: i32::try_from(line_no).unwrap_or(i32::MAX),
            sku_id,
            sku_name,
            breakdown,
            refunded_quantity: 0,
            refunded_amount: Money::ZERO,
        })
    }
}

/// The store of an active guide.
async fn guide_store(tx: &mut dyn Tx, guide_id: StaffId) -> AppResult<StoreId> {
    let guide =
        tx.get_staff(guide_id).await?.ok_or(AppError::UnknownReference { field: "guide_id", entity: "staff" })?;
    match (guide.assignment.role(), guide.assignment.scope(), guide.status) {
        (Role::Guide, Scope::Store(store_id), StaffStatus::Active) => Ok(store_id),
        _ => Err(AppError::NotAGuide),
    }
}

/// Writes one member: the customer and their phone, the new-member coupons, the welcome points,
/// then each order oldest first with its payment, steps, points and tier.
async fn write_member(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    catalog: &Catalog,
    checked: &Checked<'_>,
    at: Timestamp,
    written: &mut HistorySeeded,
) -> AppResult<()> {
    let member = checked.member;
    let joined = member.joined_at;
    let window = Duration::days(loyalty::TIER_WINDOW_DAYS);
    let rule = PointsRule::default();
    let mut customer = Customer {
        id: CustomerId::from_uuid(id_at(joined)),
        ordinal: tx.next_customer_ordinal().await?,
        display_name: checked.display_name.clone(),
        home_store_id: Some(member.home_store_id),
        guide_id: member.guide_id,
        tier_id: loyalty::tier_for(&catalog.tiers, Money::ZERO).map(|t| t.id),
        merged_into: None,
        created_at: joined,
        updated_at: joined,
    };
    // Priced and earned first, in memory, so the customer row is written once with the tier
    // their spend holds now.
    let mut paid: Vec<(Timestamp, Money)> = Vec::with_capacity(checked.orders.len());
    let mut held = customer.tier_id.and_then(|id| catalog.tiers.iter().find(|t| t.id == id));
    let mut orders = Vec::with_capacity(checked.orders.len());
    for draft in &checked.orders {
        let free_delivery = held.is_some_and(|t| t.free_delivery);
        let order = historical_order(catalog, draft, &customer, &checked.phone, free_delivery)?;
        paid.push((order.created_at, order.paid));
        let spend = spend_since(&paid, order.created_at - window)?;
        // A payment lifts the member at once; nothing moves them down until the review.
        if let Some(reached) = loyalty::tier_for(&catalog.tiers, spend)
            && held.is_none_or(|h| reached.spend_threshold > h.spend_threshold)
        {
            held = Some(reached);
        }
        let points = loyalty::earned_at(order.paid, rule, held.map_or(10_000, |t| t.points_multiplier_bp));
        orders.push((order, draft.method, draft.reference.clone(), points));
    }
    // Where the daily review puts them: the tier of the last twelve months' spend.
    let reviewed = loyalty::tier_for(&catalog.tiers, spend_since(&paid, at - window)?);
    customer.tier_id = reviewed.map(|t| t.id);
    customer.updated_at = orders.last().map_or(joined, |(order, ..)| order.updated_at);
    tx.insert_customer(&customer).await?;
    tx.add_identity(customer.id, &checked.phone, joined).await?;
    crate::coupons::auto_issue(tx, ctx, AutoIssue::NewMember, customer.id).await?;
    Change::new("customer.created", "customer", customer.id)
        .in_store(member.home_store_id)
        .set("identities", &checked.phone)
        .set("orders", &orders.len())
        .record(tx, Some(ctx))
        .await?;
    if member.welcome_points > 0 {
        let entry = PointsEntry {
            id: id_at(joined),
            customer_id: customer.id,
            kind: "adjust".to_owned(),
            points: member.welcome_points,
            order_id: None,
            reason: Some("开卡礼".to_owned()),
            expires_at: None,
            idempotency_key: format!("history:{}:welcome", customer.id),
            actor_id: None,
            at: joined,
        };
        apply_points(tx, &entry).await?;
        written.points += member.welcome_points;
    }
    for (index, (order, method, reference, points)) in orders.iter().enumerate() {
        write_order(tx, order, *method, reference.clone()).await?;
        let paid_at = payment_time(order);
        if *points > 0 {
            let entry = PointsEntry {
                id: id_at(paid_at),
                customer_id: customer.id,
                kind: "earn".to_owned(),
                points: *points,
                order_id: Some(order.id),
                reason: None,
                expires_at: Some(paid_at + Duration::days(rule.lifetime_days)),
                idempotency_key: format!("order:{}:earn", order.id),
                actor_id: None,
                at: paid_at,
            };
            apply_points(tx, &entry).await?;
            written.points += points;
        }
        if index == 0 {
            crate::coupons::auto_issue(tx, ctx, AutoIssue::FirstOrderPaid, customer.id).await?;
        }
        written.spend = written.spend.checked_add(order.paid).ok_or(DomainError::MoneyOverflow { field: "spend" })?;
    }
    written.orders += orders.len();
    written.customers.push(customer.id);
    Ok(())
}

/// A completed, paid order for `draft`, priced at the member's prices.
fn historical_order(
    catalog: &Catalog,
    draft: &HistoricalOrder,
    customer: &Customer,
    phone: &Identity,
    free_delivery: bool,
) -> AppResult<Order> {
    let lines = draft
        .lines
        .iter()
        .enumerate()
        .map(|(index, &(sku_id, quantity))| catalog.line(draft, index + 1, sku_id, quantity))
        .collect::<AppResult<Vec<_>>>()?;
    let goods = Money::checked_sum(lines.iter().map(|l| l.breakdown.amount))
        .ok_or(DomainError::MoneyOverflow { field: "lines" })?;
    // The delivery fee as a quote charges it: ¥5, free from ¥39 or for a tier that delivers free.
    let delivery_fee = if draft.channel != OrderChannel::Delivery || free_delivery || goods >= FREE_DELIVERY_FROM {
        Money::ZERO
    } else {
        DELIVERY_FEE
    };
    let (subtotal, discount, total) =
        Order::totals(&lines, delivery_fee).ok_or(DomainError::MoneyOverflow { field: "lines" })?;
    let placed = draft.placed_at;
    let completed = draft.completed_at.unwrap_or(placed + PAYING);
    let (promised_at, fulfilled_at) = match draft.channel {
        OrderChannel::Delivery => (Some(placed + DEFAULT_DELIVERY_PROMISE), Some(completed)),
        OrderChannel::Pickup => (Some(placed + DEFAULT_PICKUP_PROMISE), Some(step_time(placed, completed, 2, 3))),
        _ => (None, None),
    };
    let online = matches!(draft.channel, OrderChannel::Delivery | OrderChannel::Pickup);
    Ok(Order {
        id: OrderId::from_uuid(id_at(placed)),
        store_id: draft.store_id,
        channel: draft.channel,
        status: OrderStatus::Completed,
        pickup_code: (draft.channel == OrderChannel::Pickup)
            .then(|| format!("{:06}", rand::Rng::random_range(&mut rand::rng(), 0..1_000_000))),
        customer_phone: if online { Some(quanyu_domain::text::Phone::parse(phone.value())?) } else { None },
        customer_id: Some(customer.id),
        delivery_address: text::optional("delivery_address", draft.delivery_address.as_deref(), 256)?,
        // History from another system brings an address, not a point.
        delivery_location: None,
        note: None,
        table: None,
        lines,
        subtotal,
        discount,
        delivery_fee,
        total,
        paid: total,
        refunded: Money::ZERO,
        hold_expires_at: None,
        promised_at,
        fulfilled_at,
        created_by: None,
        created_at: placed,
        updated_at: completed.max(placed + PAYING),
    })
}

/// How long paying takes after an order is placed (at the till, at checkout online).
const PAYING: Duration = Duration::minutes(1);

fn payment_time(order: &Order) -> Timestamp {
    order.created_at + PAYING
}

/// The instant `part`/`of` of the way from `from` to `to`.
fn step_time(from: Timestamp, to: Timestamp, part: i32, of: i32) -> Timestamp {
    from + (to - from) * part / of
}

/// Writes a historical order with its payment and its timeline, from placed to completed.
async fn write_order(
    tx: &mut dyn Tx,
    order: &Order,
    method: PaymentMethod,
    reference: Option<String>,
) -> AppResult<()> {
    use OrderEvent as E;
    tx.insert_order(order).await?;
    let paid_at = payment_time(order);
    tx.insert_payment(&PaymentRecord {
        id: PaymentId::from_uuid(id_at(paid_at)),
        order_id: order.id,
        kind: "payment".into(),
        method,
        amount: order.paid,
        reference: text::optional("reference", reference.as_deref(), 64)?,
        tendered: None,
        at: paid_at,
    })
    .await?;
    let fulfilment: &[OrderEvent] = match order.channel {
        OrderChannel::Delivery => &[E::StartPicking, E::Dispatch, E::Complete],
        OrderChannel::Pickup => &[E::StartPicking, E::MarkReady, E::Complete],
        OrderChannel::TablePayFirst | OrderChannel::Appointment => &[E::Complete],
        _ => &[],
    };
    let steps = fulfilment.len() as i32;
    let mut status = OrderStatus::Created;
    append_step(tx, order, "created", None, status, order.created_at).await?;
    let mut events = vec![(E::Pay, paid_at)];
    events.extend(
        fulfilment.iter().zip(1..).map(|(&event, n)| (event, step_time(paid_at, order.updated_at, n, steps.max(1)))),
    );
    for (event, at) in events {
        let next = transition(order.channel, status, event)?;
        append_step(tx, order, event.as_str(), Some(status), next, at).await?;
        status = next;
    }
    if status != OrderStatus::Completed {
        return Err(AppError::Internal(format!(
            "a historical {} order ends {}",
            order.channel.as_str(),
            status.as_str()
        )));
    }
    Ok(())
}

async fn append_step(
    tx: &mut dyn Tx,
    order: &Order,
    event: &str,
    from: Option<OrderStatus>,
    to: OrderStatus,
    at: Timestamp,
) -> AppResult<()> {
    tx.append_order_step(&OrderStep {
        id: id_at(at),
        subject: order.id,
        event: event.to_owned(),
        from_status: from.map(|s| s.as_str().to_owned()),
        to_status: to.as_str().to_owned(),
        actor_id: None,
        note: None,
        at,
    })
    .await?;
    Ok(())
}

async fn apply_points(tx: &mut dyn Tx, entry: &PointsEntry) -> AppResult<()> {
    match tx.apply_points(entry).await? {
        Some(_) => Ok(()),
        None => Err(AppError::Internal(format!("points for customer {} were refused", entry.customer_id))),
    }
}

/// What was paid at or after `since`.
fn spend_since(paid: &[(Timestamp, Money)], since: Timestamp) -> AppResult<Money> {
    Money::checked_sum(paid.iter().filter(|(at, _)| *at >= since).map(|(_, amount)| *amount))
        .ok_or_else(|| DomainError::MoneyOverflow { field: "spend" }.into())
}

/// A UUIDv7 for an instant in the past, so what is seeded sorts among what happened then (ids
/// are the lists' order and cursors).
fn id_at(at: Timestamp) -> uuid::Uuid {
    let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, at.timestamp_subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use quanyu_domain::pricing::CouponKind;

    use super::*;
    use crate::{
        AppConfig, CategoryDraft, CouponTemplateDraft, PasswordHasher, PriceDraft, ProductDraft, RegionDraft, SkuDraft,
        StaffDraft, StoreDraft, StoredReply, TierDraft, Written,
    };

    fn no_reply<T>(_: &T) -> StoredReply {
        StoredReply { status: 201, body: Vec::new() }
    }

    fn fresh<T>(written: Written<T>) -> T {
        match written {
            Written::Fresh(value) => value,
            Written::Replayed(_) => panic!("a fresh write was expected"),
        }
    }

    /// A chain of one store with a guide, one SKU at ¥12 (¥10 for members), tiers from ¥0 and
    /// ¥30, and a coupon for new members and one after the first order.
    async fn chain(app: &App) -> (StoreId, StaffId, SkuId) {
        let system = Ctx::system();
        let region = RegionDraft { code: "N".into(), name: "北区".into() };
        let region = fresh(app.create_region(&system, region, &no_reply).await.unwrap()).id;
        let store = StoreDraft {
            code: "A".into(),
            name: "A 店".into(),
            region_id: Some(region),
            address: "上海".into(),
            lat: 31.2,
            lng: 121.4,
            area_m2: 100,
            ..StoreDraft::default()
        };
        let store = fresh(app.create_store(&system, store, &no_reply).await.unwrap()).id;
        let guide = StaffDraft {
            username: "guide-a".into(),
            display_name: "导购".into(),
            role: "guide".into(),
            store_id: Some(store),
            password: "long-enough-1".into(),
            ..StaffDraft::default()
        };
        let guide = fresh(app.create_staff(&system, guide, &no_reply).await.unwrap()).id;
        let category = CategoryDraft { name: "乳品".into(), ..Default::default() };
        let category = fresh(app.create_category(&system, category, &no_reply).await.unwrap()).id;
        let product = ProductDraft {
            name: "牛奶".into(),
            category_id: Some(category),
            skus: vec![SkuDraft {
                code: "MILK".into(),
                name: "1L".into(),
                unit: "盒".into(),
                prices: PriceDraft { base: 1_200, member: Some(1_000), ..Default::default() },
                ..Default::default()
            }],
            ..Default::default()
        };
        let sku = fresh(app.create_product(&system, product, &no_reply).await.unwrap()).1[0].id;
        for (code, threshold, bp) in [("member", 0, 10_000), ("silver", 3_000, 20_000)] {
            let tier = TierDraft {
                code: code.into(),
                name: code.into(),
                spend_threshold: threshold,
                points_multiplier_bp: Some(bp),
                ..TierDraft::default()
            };
            app.create_tier(&system, tier, &no_reply).await.unwrap();
        }
        for rule in ["new_member", "first_order_paid"] {
            let template = CouponTemplateDraft {
                per_customer_limit: Some(1),
                auto_issue: Some(rule.into()),
                ..CouponTemplateDraft::new(rule, CouponKind::AmountOff { amount: Money::from_fen(500) }, 0)
            };
            app.create_coupon_template(&system, template, &no_reply).await.unwrap();
        }
        (store, guide, sku)
    }

    #[tokio::test]
    async fn a_history_earns_its_points_and_tier_and_reconciles() {
        let db = quanyu_store::testing::sqlite().await;
        let app =
            App::new(db.database(), AppConfig { passwords: PasswordHasher::fast_for_tests(), ..Default::default() });
        let (store, guide, sku) = chain(&app).await;
        let system = Ctx::system();
        let at = now();
        let order = |channel, days: i64, quantity| HistoricalOrder {
            store_id: store,
            channel,
            lines: vec![(sku, quantity)],
            method: PaymentMethod::Cash,
            reference: None,
            placed_at: at - Duration::days(days),
            completed_at: (channel == OrderChannel::Delivery)
                .then(|| at - Duration::days(days) + Duration::minutes(40)),
            delivery_address: (channel == OrderChannel::Delivery).then(|| "人民广场 1 号".to_owned()),
        };
        let member = |phone: &str, orders| HistoricalMember {
            phone: phone.into(),
            display_name: Some("王女士".into()),
            home_store_id: store,
            guide_id: Some(guide),
            joined_at: at - Duration::days(100),
            welcome_points: 200,
            orders,
        };
        // ¥20 at the till (×1: 20 points), then ¥20 delivered (+¥5 fee): ¥45 reaches silver
        // (×2: 50 points); points earned at the tier held when paying.
        let members = [
            member("13800000001", vec![order(OrderChannel::Delivery, 10, 2), order(OrderChannel::Pos, 50, 2)]),
            member("13800000002", vec![]),
        ];
        let cashier = Ctx::new(quanyu_domain::authz::Actor {
            staff_id: guide,
            username: "guide-a".into(),
            assignment: quanyu_domain::org::Assignment::new(Role::Guide, Scope::Store(store)).unwrap(),
            home_region: None,
        });
        assert!(matches!(app.seed_history(&cashier, &members).await, Err(AppError::Forbidden)));

        let seeded = app.seed_history(&system, &members).await.unwrap();
        assert_eq!((seeded.customers.len(), seeded.orders, seeded.spend), (2, 2, Money::from_fen(4_500)));
        assert_eq!(seeded.points, 200 + 20 + 50 + 200);
        let buyer = app.customer(&system, seeded.customers[0]).await.unwrap().customer;
        let tiers = app.tiers(&system).await.unwrap();
        assert_eq!(tiers.iter().find(|t| Some(t.id) == buyer.tier_id).unwrap().code, "silver");
        assert_eq!(app.customer_points(&system, buyer.id, None, None).await.unwrap().balance, 270);
        let orders = app.list_orders(&system, Default::default(), None, None).await.unwrap().items;
        assert_eq!(orders.len(), 2);
        assert!(orders[0].created_at < orders[1].created_at, "listed in the order they were placed");
        let delivered = &orders[1];
        assert_eq!(
            (delivered.status, delivered.delivery_fee, delivered.paid),
            (OrderStatus::Completed, DELIVERY_FEE, Money::from_fen(2_500))
        );
        let steps: Vec<String> =
            app.get_order(&system, delivered.id).await.unwrap().steps.into_iter().map(|s| s.event).collect();
        assert_eq!(steps, ["created", "pay", "start_picking", "dispatch", "complete"]);
        let wallet = app.customer_coupons(&system, buyer.id, None, None).await.unwrap().items;
        assert_eq!(wallet.len(), 2, "the new-member gift and the first-order voucher");
        let scores = app.customer_scores(&system, buyer.id).await.unwrap();
        assert_eq!((scores.orders, scores.spend), (2, 4_500), "scored from the history");
        assert!(app.reconcile_points(&system).await.unwrap().is_empty());
        assert!(app.reconcile_coupons(&system).await.unwrap().is_empty());

        let again = app.seed_history(&system, &members[1..]).await;
        assert!(matches!(again, Err(AppError::Duplicate(_))), "{again:?}");
    }

    #[test]
    fn spend_counts_only_the_window() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let paid = [(at - Duration::days(400), Money::from_fen(900)), (at - Duration::days(10), Money::from_fen(100))];
        assert_eq!(spend_since(&paid, at - Duration::days(365)).unwrap(), Money::from_fen(100));
        assert_eq!(spend_since(&paid, at - Duration::days(500)).unwrap(), Money::from_fen(1_000));
    }

    #[test]
    fn backdated_ids_sort_by_their_instant() {
        let at = now() - Duration::days(1);
        let (earlier, later) = (id_at(at - Duration::seconds(1)), id_at(at));
        assert!(earlier < later);
        assert!(later < uuid::Uuid::now_v7());
    }
}
