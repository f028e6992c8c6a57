//! Members for the demo chain: three tiers (普通会员, 银卡 from ¥500 a year, 金卡 from ¥2,000) and
//! [`DEMO_MEMBERS`] members spread over the stores, each with their home store and the store's
//! guide (`guide-<store code>`), a third with 开卡礼 points, and most with a year of paid orders
//! at the till, delivered or picked up, a few SKUs each, popular ones most often. Generated
//! deterministically from the seed, then written in bulk by `App::seed_history`, which prices
//! the orders from the catalog, earns their points as ledger entries and gives each member the
//! tier their twelve-month spend holds, so customers, points, tiers, orders and audience counts
//! have something to show.

use std::collections::HashMap;

use chrono::{Duration, FixedOffset, NaiveTime, Utc};
use quanyu_app::{App, Ctx, HistoricalMember, HistoricalOrder, TierDraft};
use quanyu_domain::{
    Money,
    catalog::{ListingStatus, Sku},
    ids::{CustomerId, StaffId, StoreId},
    order::{OrderChannel, PaymentMethod},
    org::{Role, Store, StoreKind},
    time::Timestamp,
};
use quanyu_store::{SkuFilter, StaffFilter, StoreFilter};

use crate::{rng::Rng, seeding::no_reply};

/// How many members the demo seeds unless told otherwise.
pub const DEMO_MEMBERS: usize = 20_000;
const SURNAMES: [&str; 16] =
    ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "朱", "胡", "林", "沈"];
const PHONE_PREFIXES: [&str; 6] = ["139", "138", "137", "186", "159", "177"];
/// How far back orders go: inside the twelve months that count for tiers and before any
/// points expire.
const HISTORY_DAYS: i64 = 360;
/// How far back members joined.
const MEMBERSHIP_DAYS: i64 = 720;
/// Opening hours of the history (Beijing time), in minutes after midnight.
const TRADING_MINUTES: (i64, i64) = (8 * 60, 21 * 60 + 30);

/// A member as written, for what is handed out to members afterwards.
#[derive(Debug, Clone, Copy)]
pub struct DemoMember {
    pub id: CustomerId,
    pub home_store_id: StoreId,
    pub guide_id: Option<StaffId>,
}

/// What [`seed`] wrote.
#[derive(Debug, Clone)]
pub struct SeededMembers {
    pub members: Vec<DemoMember>,
    pub orders: usize,
    pub points: i64,
    pub spend: Money,
}

/// The SKUs the history buys from (and promotions pick from): active, sold in stores, in
/// catalog order, so the first are the chain's core assortment, its most popular goods.
pub async fn shelf(app: &App) -> anyhow::Result<Vec<Sku>> {
    let ctx = Ctx::system();
    let mut shelf = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.list_skus(&ctx, SkuFilter::default(), cursor.as_deref(), Some(500)).await?;
        shelf.extend(page.items.into_iter().filter(|s| s.status == ListingStatus::Active && !s.online_only));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(shelf),
        }
    }
}

/// Creates the tiers, then `count` members with their history.
pub async fn seed(app: &App, seed: u64, count: usize, shelf: &[Sku]) -> anyhow::Result<SeededMembers> {
    let system = Ctx::system();
    // The last is sold, not earned: PLUS, ¥99 a year, reached by spend only at ¥1,000,000.
    let tiers = [
        ("member", "普通会员", 0, 10_000, false, None),
        ("silver", "银卡", 50_000, 12_000, false, None),
        ("gold", "金卡", 200_000, 15_000, true, None),
        ("plus", "PLUS 付费会员", 100_000_000, 15_000, true, Some((9_900, 365))),
    ];
    for (code, name, threshold, bp, free_delivery, paid) in tiers {
        let draft = TierDraft {
            code: code.into(),
            name: name.into(),
            spend_threshold: threshold,
            points_multiplier_bp: Some(bp),
            free_delivery,
            paid_price: paid.map(|(price, _)| price),
            paid_days: paid.map(|(_, days)| days),
            // Birthday points, a right of the higher tiers.
            birthday_points: Some(match code {
                "silver" => 200,
                "gold" | "plus" => 500,
                _ => 0,
            }),
        };
        app.create_tier(&system, draft, &no_reply).await?;
    }
    anyhow::ensure!(!shelf.is_empty(), "the demo catalog has nothing to sell in stores");

    let guides = guides(app).await?;
    let stores: Vec<(Store, Option<StaffId>)> = stores(app)
        .await?
        .into_iter()
        .map(|store| {
            let guide = guides.get(&format!("guide-{}", store.code.to_lowercase())).copied();
            (store, guide)
        })
        .collect();
    anyhow::ensure!(!stores.is_empty(), "the demo chain has no stores");
    let plan = plan(&mut Rng::new(seed ^ 0x0C05_70E5), Utc::now(), &stores, shelf, count);
    let seeded = app.seed_history(&system, &plan).await?;
    let members = seeded
        .customers
        .iter()
        .zip(&plan)
        .map(|(&id, member)| DemoMember { id, home_store_id: member.home_store_id, guide_id: member.guide_id })
        .collect();
    Ok(SeededMembers { members, orders: seeded.orders, points: seeded.points, spend: seeded.spend })
}

/// The members and their orders, oldest member first (so ordinals follow joining).
fn plan(
    rng: &mut Rng,
    now: Timestamp,
    stores: &[(Store, Option<StaffId>)],
    shelf: &[Sku],
    count: usize,
) -> Vec<HistoricalMember> {
    // Bigger stores have more members.
    let weights: Vec<i64> = stores.iter().map(|(s, _)| 200 + i64::from(s.area_m2.min(2_000))).collect();
    let mut members: Vec<HistoricalMember> = (0..count)
        .map(|n| {
            let (store, guide) = &stores[weighted(rng, &weights)];
            let joined_days = rng.range(1, MEMBERSHIP_DAYS);
            let joined_at = day(now, joined_days) + Duration::minutes(rng.range(TRADING_MINUTES.0, TRADING_MINUTES.1));
            let title = if rng.chance(0.55) { "女士" } else { "先生" };
            let welcome_points = if rng.chance(0.3) { rng.range(1, 5) * 100 } else { 0 };
            // Each phone number is the member's number after its prefix: never two alike.
            let phone = format!("{}{:08}", rng.pick(&PHONE_PREFIXES), n + 1);
            let orders = orders(rng, now, joined_days, store, stores, shelf);
            HistoricalMember {
                phone,
                display_name: Some(format!("{}{title}", rng.pick(&SURNAMES))),
                home_store_id: store.id,
                guide_id: *guide,
                joined_at,
                welcome_points,
                orders,
            }
        })
        .collect();
    members.sort_by(|a, b| (a.joined_at, &a.phone).cmp(&(b.joined_at, &b.phone)));
    members
}

/// A member's orders: none for a fifth, up to eight for the loyal tenth, at most one a week of
/// membership; mostly at the home store, most at the till.
fn orders(
    rng: &mut Rng,
    now: Timestamp,
    joined_days: i64,
    home: &Store,
    stores: &[(Store, Option<StaffId>)],
    shelf: &[Sku],
) -> Vec<HistoricalOrder> {
    let segment = rng.unit();
    let (wanted, basket) = match segment {
        s if s < 0.2 => (0, 0),
        s if s < 0.65 => (rng.range(1, 3), 3),
        s if s < 0.9 => (rng.range(4, 6), 5),
        _ => (rng.range(7, 8), 8),
    };
    // Orders fall on days after joining, within the history.
    let span = (joined_days - 1).min(HISTORY_DAYS);
    let wanted = wanted.min(span / 7 + i64::from(span > 0));
    (0..wanted)
        .map(|_| {
            let placed_at =
                day(now, rng.range(1, span)) + Duration::minutes(rng.range(TRADING_MINUTES.0, TRADING_MINUTES.1));
            let store = if rng.chance(0.85) { home } else { &rng.pick(stores).0 };
            let channel = match rng.unit() {
                c if c < 0.6 => OrderChannel::Pos,
                c if c < 0.85 => OrderChannel::Delivery,
                _ => OrderChannel::Pickup,
            };
            let completed_at = match channel {
                OrderChannel::Delivery => Some(placed_at + Duration::minutes(rng.range(25, 75))),
                OrderChannel::Pickup => Some(placed_at + Duration::minutes(rng.range(20, 150))),
                _ => None,
            };
            let delivery_address = (channel == OrderChannel::Delivery).then(|| address(rng, store));
            let (method, reference) = if rng.chance(0.7) {
                (PaymentMethod::Card, Some(format!("T{:010}", rng.range(0, 9_999_999_999))))
            } else {
                (PaymentMethod::Cash, None)
            };
            let count = rng.range(1, basket.max(1)) as usize;
            let lines = basket_lines(rng, shelf, count);
            HistoricalOrder {
                store_id: store.id,
                channel,
                lines,
                method,
                reference,
                placed_at,
                completed_at,
                delivery_address,
            }
        })
        .collect()
}

/// `count` distinct SKUs, the first of the shelf far more often than the rest, in sensible
/// quantities (grams for goods sold by weight).
fn basket_lines(rng: &mut Rng, shelf: &[Sku], count: usize) -> Vec<(quanyu_domain::ids::SkuId, i64)> {
    let mut lines: Vec<(quanyu_domain::ids::SkuId, i64)> = Vec::with_capacity(count);
    for _ in 0..count * 2 {
        if lines.len() == count {
            break;
        }
        let sku = &shelf[((shelf.len() as f64) * rng.unit().powi(3)) as usize];
        if lines.iter().any(|(id, _)| *id == sku.id) {
            continue;
        }
        let quantity = if sku.sold_by_weight {
            rng.range(3, 15) * 100
        } else {
            match rng.unit() {
                q if q < 0.7 => 1,
                q if q < 0.9 => 2,
                _ => rng.range(3, 4),
            }
        };
        lines.push((sku.id, quantity));
    }
    lines
}

/// An index into `weights`, each as likely as its weight.
fn weighted(rng: &mut Rng, weights: &[i64]) -> usize {
    let mut pick = rng.range(0, weights.iter().sum::<i64>() - 1);
    for (index, weight) in weights.iter().enumerate() {
        if pick < *weight {
            return index;
        }
        pick -= weight;
    }
    weights.len() - 1
}

/// Midnight in Beijing `days_ago` days before `now`'s day.
fn day(now: Timestamp, days_ago: i64) -> Timestamp {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is an offset");
    let midnight = now.with_timezone(&beijing).date_naive().and_time(NaiveTime::MIN) - Duration::days(days_ago);
    midnight.and_local_timezone(beijing).single().map_or(now, |t| t.with_timezone(&Utc))
}

/// An address near the store: its neighbourhood (the store is named after it), a lane, a
/// building and a flat.
fn address(rng: &mut Rng, store: &Store) -> String {
    let neighbourhood = store.name.rsplit('·').next().unwrap_or(&store.name).trim_end_matches('店');
    format!("{neighbourhood}{}弄{}号{}室", rng.range(1, 999), rng.range(1, 40), rng.range(101, 2_302))
}

async fn guides(app: &App) -> anyhow::Result<HashMap<String, StaffId>> {
    let ctx = Ctx::system();
    let mut guides = HashMap::new();
    let mut cursor = None;
    loop {
        let filter = StaffFilter { role: Some(Role::Guide), ..StaffFilter::default() };
        let page = app.list_staff(&ctx, filter, cursor.as_deref(), Some(500)).await?;
        guides.extend(page.items.into_iter().map(|s| (s.username, s.id)));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(guides),
        }
    }
}

/// The chain's stores (not its warehouses), in id order.
pub async fn stores(app: &App) -> anyhow::Result<Vec<Store>> {
    let ctx = Ctx::system();
    let mut stores = Vec::new();
    let mut cursor = None;
    loop {
        let filter = StoreFilter { kind: Some(StoreKind::Store), ..StoreFilter::default() };
        let page = app.list_stores(&ctx, filter, cursor.as_deref(), Some(500)).await?;
        stores.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(stores),
        }
    }
}
