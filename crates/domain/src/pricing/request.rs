//! What a quote is asked for: the cart, who buys, through which channel and when, the
//! promotions configured for the store, the coupons and points the customer chose, and the
//! delivery fee. Plain data with public fields, as the app assembles it from the catalog, the
//! customer's wallet and the marketing tables; [`PriceRequest::validate`] checks it before
//! anything is priced.

use crate::Expected;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    DomainError, DomainResult, Money,
    catalog::Channel,
    ids::{CategoryId, SkuId, StoreId},
    time::Timestamp,
};

/// A whole rate in basis points: 10,000 is 100% (the customer pays everything).
pub const FULL_RATE_BP: u32 = 10_000;

/// Everything a quote depends on: [`quote`](super::quote) is a pure function of this value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRequest {
    pub lines: Vec<CartLine>,
    pub customer: Customer,
    pub channel: Channel,
    /// The store that sells: a coupon limited to other stores is `wrong_store`.
    pub store_id: StoreId,
    /// The instant priced: promotions and coupons must be valid then.
    pub at: Timestamp,
    /// Promotions configured for the store. The engine keeps those in force at `at` for this
    /// customer; their order in this list does not matter.
    pub promotions: Vec<Promotion>,
    /// Coupons the customer chose, in the order chosen: of two that cannot stack, the first wins.
    pub coupons: Vec<Coupon>,
    pub points: Option<PointsRedemption>,
    /// `None` when nothing is delivered (in store, pickup).
    pub delivery: Option<Delivery>,
}

/// One line of the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    /// Unique within the cart; orders the lines and breaks allocation ties.
    pub line_no: i32,
    pub sku_id: SkuId,
    pub category_id: CategoryId,
    /// The category's ancestors, so that a rule scoped to 乳品 dairy also matches 酸奶 yoghurt.
    pub ancestor_category_ids: Vec<CategoryId>,
    /// Units, or grams when sold by weight.
    pub quantity: i64,
    /// Quantity in grams and prices per kilogram; such lines take no unit-based promotion
    /// (buy N get M, second item, bundle).
    pub sold_by_weight: bool,
    /// The regular price in this store and channel (`catalog::effective_price`).
    pub unit_price: Money,
    /// The member price, for members, when the SKU has one.
    pub member_unit_price: Option<Money>,
    /// The flash-sale or activity price (秒杀价 / 活动价) the line was reserved at.
    pub activity_price: Option<ActivityPrice>,
}

/// A price set by a sale for this line (a flash-sale reservation, an activity page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityPrice {
    /// The sale or activity, named in the adjustment's source.
    pub activity_id: Uuid,
    /// Per unit, or per kilogram.
    pub unit_price: Money,
}

/// The facts about the buyer that rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Customer {
    pub is_member: bool,
    /// The customer has never completed an order (新人首单).
    pub first_order: bool,
}

/// When a rule is valid: from `starts_at` (inclusive) until `ends_at` (exclusive); an open end
/// is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeWindow {
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

impl TimeWindow {
    /// Always valid.
    pub const ALWAYS: TimeWindow = TimeWindow { starts_at: None, ends_at: None };

    pub fn contains(&self, at: Timestamp) -> bool {
        self.starts_at.is_none_or(|start| start <= at) && self.ends_at.is_none_or(|end| at < end)
    }
}

/// Which lines a promotion or coupon covers. Stored as `{"type": "categories", "ids": […]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", content = "ids", rename_all = "snake_case")]
pub enum Scope {
    /// 全场: every line.
    #[default]
    All,
    /// Lines whose category, or one of its ancestors, is listed.
    Categories(Vec<CategoryId>),
    /// Lines of the listed SKUs.
    Skus(Vec<SkuId>),
}

impl Scope {
    pub fn covers(&self, line: &CartLine) -> bool {
        match self {
            Scope::All => true,
            Scope::Categories(categories) => std::iter::once(&line.category_id)
                .chain(&line.ancestor_category_ids)
                .any(|category| categories.contains(category)),
            Scope::Skus(skus) => skus.contains(&line.sku_id),
        }
    }
}

named_enum! {
    /// Who a promotion is for.
    pub enum Audience for "audience" {
        Everyone = "everyone",
        /// 会员专享.
        Members = "members",
        /// 新人首单: customers placing their first order.
        FirstOrder = "first_order",
    }
}

impl Audience {
    pub fn includes(self, customer: Customer) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::Members => customer.is_member,
            Audience::FirstOrder => customer.first_order,
        }
    }
}

/// A promotion (促销活动) configured for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    /// Unique among the promotions of a request; the last tie-break between promotions.
    pub id: Uuid,
    /// The merchant's name for it, such as "周末鲜果节".
    pub name: String,
    pub kind: PromotionKind,
    /// Higher wins when promotions compete for a line.
    pub priority: i32,
    /// 不与其他活动同享: on the lines it takes, no other promotion applies.
    pub exclusive: bool,
    pub window: TimeWindow,
    pub audience: Audience,
    pub scope: Scope,
}

/// What a promotion does. Stored as JSON tagged by `type` (`amount_off_ladder`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PromotionKind {
    /// 限时特价: the listed SKUs sell at these prices (per unit or per kilogram).
    LimitedTimePrice { prices: Vec<SkuPrice> },
    /// 买N送M: of every `buy + free` units in scope, the `free` cheapest are free (买一送一 is
    /// buy 1, free 1).
    BuyGetFree { buy: u32, free: u32 },
    /// 第二件X折: of every two units on a line, the second costs `pay_bp` of its price.
    SecondItem { pay_bp: u32 },
    /// 组合价: the listed SKUs, in the listed quantities, together for `price`, as many
    /// times as the cart holds complete sets.
    Bundle { items: Vec<BundleItem>, price: Money },
    /// 满减: spend at least a tier's threshold, save its amount (the highest tier reached). With
    /// `per_each` (每满减), that tier's amount is saved once per whole threshold spent.
    AmountOffLadder { tiers: Vec<AmountOffTier>, per_each: bool },
    /// 满折: spend at least a tier's threshold, pay its rate (the highest tier reached).
    PercentOffLadder { tiers: Vec<PercentOffTier> },
}

/// A price for one SKU in a [`PromotionKind::LimitedTimePrice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuPrice {
    pub sku_id: SkuId,
    pub unit_price: Money,
}

/// One SKU of a [`PromotionKind::Bundle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleItem {
    pub sku_id: SkuId,
    pub quantity: u32,
}

/// 满 `threshold` 减 `amount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountOffTier {
    pub threshold: Money,
    pub amount: Money,
}

/// 满 `threshold` 打 `pay_bp` 折.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PercentOffTier {
    pub threshold: Money,
    /// What the customer pays, in basis points: 9,000 is 9折.
    pub pay_bp: u32,
}

/// A coupon from the customer's wallet (优惠券), chosen for this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    /// The customer's coupon (not its template); named in the adjustment's source.
    pub id: Uuid,
    pub template_name: String,
    pub kind: CouponKind,
    /// What the lines in scope must come to, after promotions, for the coupon to apply. Zero
    /// for a no-threshold coupon (无门槛).
    pub threshold: Money,
    /// `All` for an order coupon; categories or SKUs for a category or product coupon.
    pub scope: Scope,
    pub window: TimeWindow,
    /// Where it may be redeemed; empty for every channel.
    pub channels: Vec<Channel>,
    /// The stores it may be redeemed in; empty for every store.
    pub stores: Vec<StoreId>,
}

/// What a coupon takes off. Stored as JSON tagged by `type` (`amount_off`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CouponKind {
    /// 满减券 (无门槛券 with a zero threshold): a fixed amount.
    AmountOff { amount: Money },
    /// 折扣券: the lines in scope cost `pay_bp` of their amount, saving at most `cap`.
    PercentOff { pay_bp: u32, cap: Option<Money> },
    /// 运费券: takes `amount` off the delivery fee, or all of it when `None`.
    Delivery { amount: Option<Money> },
}

/// Points (积分) the customer wants to spend on this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsRedemption {
    /// At most the customer's balance (the app checks it); fewer may be used.
    pub points: i64,
    pub rate: PointsRate,
    /// The most points may pay of the goods, in basis points: 5,000 is half.
    pub max_share_bp: u32,
}

/// `points` points are worth `fen` 分, and points are spent in whole multiples of `points`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsRate {
    pub points: i64,
    pub fen: i64,
}

/// The delivery fee of a delivered order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub fee: Money,
    /// 满X免运费: goods at or above this, after coupons, are delivered free.
    pub free_threshold: Option<Money>,
}

impl PriceRequest {
    /// Checks what the types cannot: positive quantities, prices in range, rates at most 100%,
    /// unique line numbers and promotion ids, well-formed tiers and bundles.
    pub fn validate(&self) -> DomainResult<()> {
        if has_duplicates(self.lines.iter().map(|line| line.line_no)) {
            return Err(DomainError::Malformed { field: "lines.line_no", expected: Expected::UniqueLineNo });
        }
        for line in &self.lines {
            if line.quantity <= 0 {
                return Err(DomainError::OutOfRange { field: "lines.quantity", min: 1, max: i64::MAX });
            }
            price("lines.unit_price", line.unit_price)?;
            line.member_unit_price.map_or(Ok(()), |p| price("lines.member_unit_price", p))?;
            line.activity_price.map_or(Ok(()), |p| price("lines.activity_price", p.unit_price))?;
        }
        if has_duplicates(self.promotions.iter().map(|promotion| promotion.id)) {
            return Err(DomainError::Malformed { field: "promotions.id", expected: Expected::UniquePromotionId });
        }
        self.promotions.iter().try_for_each(|promotion| promotion.kind.validate())?;
        for coupon in &self.coupons {
            price("coupons.threshold", coupon.threshold)?;
            match coupon.kind {
                CouponKind::AmountOff { amount } => price("coupons.amount", amount)?,
                CouponKind::PercentOff { pay_bp, cap } => {
                    rate("coupons.pay_bp", pay_bp)?;
                    cap.map_or(Ok(()), |cap| price("coupons.cap", cap))?;
                }
                CouponKind::Delivery { amount } => amount.map_or(Ok(()), |a| price("coupons.amount", a))?,
            }
        }
        if let Some(points) = self.points {
            if points.points < 0 {
                return Err(DomainError::OutOfRange { field: "points.points", min: 0, max: i64::MAX });
            }
            if points.rate.points <= 0 || points.rate.fen <= 0 {
                return Err(DomainError::OutOfRange { field: "points.rate", min: 1, max: i64::MAX });
            }
            rate("points.max_share_bp", points.max_share_bp)?;
        }
        if let Some(delivery) = self.delivery {
            price("delivery.fee", delivery.fee)?;
            delivery.free_threshold.map_or(Ok(()), |t| price("delivery.free_threshold", t))?;
        }
        Ok(())
    }
}

impl PromotionKind {
    /// Checks a promotion's parameters: positive counts, prices in range, rates at most 100%,
    /// each SKU once, well-formed tiers and bundles.
    pub fn validate(&self) -> DomainResult<()> {
        match self {
            PromotionKind::LimitedTimePrice { prices } => {
                prices.iter().try_for_each(|p| price("promotions.prices", p.unit_price))?;
                unique_skus("promotions.prices", prices.iter().map(|p| p.sku_id))
            }
            PromotionKind::BuyGetFree { buy, free } => {
                if *buy == 0 || *free == 0 {
                    return Err(DomainError::OutOfRange { field: "promotions.buy_free", min: 1, max: u32::MAX.into() });
                }
                Ok(())
            }
            PromotionKind::SecondItem { pay_bp } => rate("promotions.pay_bp", *pay_bp),
            PromotionKind::Bundle { items, price: bundle_price } => {
                price("promotions.price", *bundle_price)?;
                if items.is_empty() || items.iter().any(|item| item.quantity == 0) {
                    return Err(DomainError::Malformed {
                        field: "promotions.items",
                        expected: Expected::PromotionItems,
                    });
                }
                unique_skus("promotions.items", items.iter().map(|item| item.sku_id))
            }
            PromotionKind::AmountOffLadder { tiers, per_each } => {
                if tiers.is_empty() || (*per_each && tiers.iter().any(|tier| tier.threshold == Money::ZERO)) {
                    return Err(DomainError::Malformed {
                        field: "promotions.tiers",
                        expected: Expected::PromotionTiers,
                    });
                }
                tiers.iter().try_for_each(|tier| {
                    price("promotions.tiers", tier.threshold)?;
                    price("promotions.tiers", tier.amount)
                })
            }
            PromotionKind::PercentOffLadder { tiers } => {
                if tiers.is_empty() {
                    return Err(DomainError::Required { field: "promotions.tiers" });
                }
                tiers.iter().try_for_each(|tier| {
                    price("promotions.tiers", tier.threshold)?;
                    rate("promotions.tiers", tier.pay_bp)
                })
            }
        }
    }
}

fn price(field: &'static str, amount: Money) -> DomainResult<()> {
    Money::price(field, amount.fen()).map(drop)
}

fn rate(field: &'static str, bp: u32) -> DomainResult<()> {
    if bp > FULL_RATE_BP {
        return Err(DomainError::OutOfRange { field, min: 0, max: FULL_RATE_BP.into() });
    }
    Ok(())
}

fn unique_skus(field: &'static str, skus: impl Iterator<Item = SkuId>) -> DomainResult<()> {
    if has_duplicates(skus) {
        return Err(DomainError::Malformed { field, expected: Expected::EachSkuOnce });
    }
    Ok(())
}

fn has_duplicates<T: Ord>(values: impl Iterator<Item = T>) -> bool {
    let mut values: Vec<T> = values.collect();
    values.sort_unstable();
    values.windows(2).any(|pair| matches!(pair, [a, b] if a == b))
}
