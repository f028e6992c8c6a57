//! The catalog (产品通: one catalog for every channel): a category tree, brands, SPUs (products)
//! with their SKUs (variants), channel prices, per-store overrides and availability.

use crate::Expected;
use std::collections::BTreeMap;

use crate::{
    DomainError, DomainResult, Money,
    ids::{BrandId, CategoryId, ProductId, SkuId, StoreId},
    text,
    time::Timestamp,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub sort_order: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Category {
    /// How deep the tree may grow (a root is depth 1).
    pub const MAX_DEPTH: usize = 5;

    pub fn validate_name(raw: &str) -> DomainResult<String> {
        text::required("name", raw, 64)
    }

    /// Checks that putting `category` under a parent whose ancestor chain (parent first, root
    /// last) is `parent_chain` keeps a tree: no cycle and not deeper than [`Self::MAX_DEPTH`].
    /// `subtree_height` is the height of the subtree rooted at `category` (1 for a leaf).
    pub fn check_placement(
        category: CategoryId,
        parent_chain: &[CategoryId],
        subtree_height: usize,
    ) -> DomainResult<()> {
        if parent_chain.contains(&category) {
            return Err(DomainError::CategoryCycle);
        }
        if parent_chain.len() + subtree_height > Self::MAX_DEPTH {
            return Err(DomainError::OutOfRange { field: "parent_id", min: 1, max: Self::MAX_DEPTH as i64 });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    pub id: BrandId,
    pub name: String,
    pub logo_url: Option<ImageUrl>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Brand {
    pub fn validate_name(raw: &str) -> DomainResult<String> {
        text::required("name", raw, 64)
    }
}

named_enum! {
    /// What kind of goods a product is; it decides how it is sold and fulfilled.
    pub enum ProductKind for "kind" {
        /// Packaged goods with a fixed unit.
        Standard = "standard",
        /// Fresh produce, meat, seafood: often sold by weight.
        Fresh = "fresh",
        /// Made to order (coffee, bakery, hot food).
        MadeToOrder = "made_to_order",
        /// A service or a member right; no stock.
        Service = "service",
    }
}

named_enum! {
    /// Whether something is on sale.
    pub enum ListingStatus for "status" {
        Active = "active",
        /// Delisted (下架): kept for history, not sold.
        Inactive = "inactive",
    }
}

/// An image address: `http(s)://…`, at most 1024 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(String);

impl ImageUrl {
    pub fn parse(field: &'static str, raw: &str) -> DomainResult<ImageUrl> {
        let url = text::required(field, raw, 1024)?;
        let has_host = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if has_host && !url.contains(char::is_whitespace) {
            Ok(ImageUrl(url))
        } else {
            Err(DomainError::Malformed { field, expected: Expected::HttpUrl })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn parse_all(field: &'static str, raw: &[String]) -> DomainResult<Vec<ImageUrl>> {
        if raw.len() > 20 {
            return Err(DomainError::OutOfRange { field, min: 0, max: 20 });
        }
        raw.iter().map(|u| ImageUrl::parse(field, u)).collect()
    }
}

/// An SPU: what a customer thinks of as one product (e.g. "Fuji apples").
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub category_id: CategoryId,
    pub brand_id: Option<BrandId>,
    pub kind: ProductKind,
    pub description: Option<String>,
    pub images: Vec<ImageUrl>,
    pub status: ListingStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Product {
    pub fn validate_name(raw: &str) -> DomainResult<String> {
        text::required("name", raw, 128)
    }

    pub fn validate_description(raw: Option<&str>) -> DomainResult<Option<String>> {
        text::optional("description", raw, 4000)
    }
}

/// A barcode: a GTIN (8, 12, 13 or 14 digits, check digit verified) or an internal code of 4
/// to 32 letters and digits (in-store codes for weighed goods, legacy POS codes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Barcode(String);

impl Barcode {
    pub fn parse(raw: &str) -> DomainResult<Barcode> {
        let code = raw.trim();
        let malformed = |expected| DomainError::Malformed { field: "barcode", expected };
        if !(4..=32).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(malformed(Expected::BarcodeCharacters));
        }
        let numeric = code.bytes().all(|b| b.is_ascii_digit());
        if numeric && matches!(code.len(), 8 | 12 | 13 | 14) && !gtin_check_digit_ok(code) {
            return Err(malformed(Expected::GtinCheckDigit));
        }
        Ok(Barcode(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The check digit that completes a GTIN body (all digits but the last).
    pub fn gtin_check_digit(body: &str) -> Option<u8> {
        let mut sum = 0u32;
        for (i, b) in body.bytes().rev().enumerate() {
            let d = u32::from(b.checked_sub(b'0').filter(|d| *d < 10)?);
            sum += if i % 2 == 0 { d * 3 } else { d };
        }
        Some(((10 - sum % 10) % 10) as u8)
    }
}

fn gtin_check_digit_ok(code: &str) -> bool {
    let (body, check) = code.split_at(code.len() - 1);
    Barcode::gtin_check_digit(body) == check.parse().ok()
}

/// Free-form variant attributes, e.g. `{"规格": "500g", "产地": "烟台"}`.
pub type Attributes = BTreeMap<String, String>;

pub fn validate_attributes(attributes: &Attributes) -> DomainResult<()> {
    if attributes.len() > 30 {
        return Err(DomainError::OutOfRange { field: "attributes", min: 0, max: 30 });
    }
    for (key, value) in attributes {
        text::required("attributes", key, 32)?;
        if value.chars().count() > 128 {
            return Err(DomainError::TooLong { field: "attributes", max: 128 });
        }
        text::plain("attributes", value)?;
    }
    Ok(())
}

named_enum! {
    /// A channel a price applies to.
    pub enum Channel for "channel" {
        /// In the store: POS, scan-to-buy, table ordering.
        Store = "store",
        /// The online mall: delivery and pickup.
        Online = "online",
    }
}

/// An SKU's chain-wide prices. For an SKU sold by weight, prices are per kilogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkuPrices {
    pub base: Money,
    /// Replaces `base` in the store channel when set.
    pub store: Option<Money>,
    /// Replaces `base` in the online channel when set.
    pub online: Option<Money>,
    /// What members pay, when lower than the regular price.
    pub member: Option<Money>,
    /// Purchase cost, for margin; never shown to customers.
    pub cost: Option<Money>,
}

impl SkuPrices {
    pub fn channel_price(&self, channel: Channel) -> Money {
        match channel {
            Channel::Store => self.store,
            Channel::Online => self.online,
        }
        .unwrap_or(self.base)
    }
}

/// An SKU: one sellable variant of a product, with its own barcode and price.
#[derive(Debug, Clone, PartialEq)]
pub struct Sku {
    pub id: SkuId,
    pub product_id: ProductId,
    /// Unique merchant code (货号).
    pub code: String,
    pub barcode: Option<Barcode>,
    /// Variant name, e.g. "500g 盒装".
    pub name: String,
    /// Sales unit: 个, 盒, kg…
    pub unit: String,
    /// Sold by weight: quantities are grams and prices are per kilogram.
    pub sold_by_weight: bool,
    pub attributes: Attributes,
    pub images: Vec<ImageUrl>,
    pub prices: SkuPrices,
    /// Exists only in the online mall (bundles, services, member rights: 线上 SKU).
    pub online_only: bool,
    pub status: ListingStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Sku {
    pub fn validate_code(raw: &str) -> DomainResult<String> {
        text::code("code", raw, 64)
    }

    pub fn validate_name(raw: &str) -> DomainResult<String> {
        text::required("name", raw, 128)
    }

    pub fn validate_unit(raw: &str) -> DomainResult<String> {
        text::required("unit", raw, 16)
    }
}

/// A store's own settings for an SKU: price override and availability per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreSku {
    pub store_id: StoreId,
    pub sku_id: SkuId,
    /// Replaces the channel price in this store, in both channels.
    pub price: Option<Money>,
    /// Replaces the member price in this store.
    pub member_price: Option<Money>,
    pub available_in_store: bool,
    pub available_online: bool,
    pub updated_at: Timestamp,
}

/// The price an SKU sells at in one store and channel, with where each number came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectivePrice {
    pub regular: Money,
    pub regular_source: PriceSource,
    /// What a member pays: the lower of the member price and the regular price.
    pub member: Money,
    pub available: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    Base,
    Channel,
    StoreOverride,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::Base => "base",
            PriceSource::Channel => "channel",
            PriceSource::StoreOverride => "store_override",
        }
    }
}

/// Resolves an SKU's price in a store and channel: a store override beats the channel price,
/// which beats the base price. Members pay the member price (store override first) when it is
/// lower. An SKU is available when listed, not online-only in the store channel, and not
/// switched off by the store.
pub fn effective_price(sku: &Sku, channel: Channel, store: Option<&StoreSku>) -> EffectivePrice {
    let channel_override = match channel {
        Channel::Store => sku.prices.store,
        Channel::Online => sku.prices.online,
    };
    let (regular, regular_source) = match (store.and_then(|s| s.price), channel_override) {
        (Some(price), _) => (price, PriceSource::StoreOverride),
        (None, Some(price)) => (price, PriceSource::Channel),
        (None, None) => (sku.prices.base, PriceSource::Base),
    };
    let member = store.and_then(|s| s.member_price).or(sku.prices.member).map_or(regular, |m| m.min(regular));
    let store_allows = store.is_none_or(|s| match channel {
        Channel::Store => s.available_in_store,
        Channel::Online => s.available_online,
    });
    let available =
        sku.status == ListingStatus::Active && !(sku.online_only && channel == Channel::Store) && store_allows;
    EffectivePrice { regular, regular_source, member, available }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sku(base: i64, store: Option<i64>, online: Option<i64>, member: Option<i64>) -> Sku {
        let now = chrono::Utc::now();
        Sku {
            id: SkuId::new(),
            product_id: ProductId::new(),
            code: "A1".into(),
            barcode: None,
            name: "500g".into(),
            unit: "盒".into(),
            sold_by_weight: false,
            attributes: Attributes::new(),
            images: vec![],
            prices: SkuPrices {
                base: Money::from_fen(base),
                store: store.map(Money::from_fen),
                online: online.map(Money::from_fen),
                member: member.map(Money::from_fen),
                cost: None,
            },
            online_only: false,
            status: ListingStatus::Active,
            created_at: now,
            updated_at: now,
        }
    }

    fn store_sku(sku: &Sku, price: Option<i64>, member: Option<i64>, in_store: bool, online: bool) -> StoreSku {
        StoreSku {
            store_id: StoreId::new(),
            sku_id: sku.id,
            price: price.map(Money::from_fen),
            member_price: member.map(Money::from_fen),
            available_in_store: in_store,
            available_online: online,
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn price_resolution_table() {
        let fen = Money::from_fen;
        let s = sku(1000, Some(950), Some(900), Some(880));
        let over = store_sku(&s, Some(990), None, true, false);
        let cases = [
            (Channel::Store, None, fen(950), PriceSource::Channel, fen(880), true),
            (Channel::Online, None, fen(900), PriceSource::Channel, fen(880), true),
            (Channel::Store, Some(&over), fen(990), PriceSource::StoreOverride, fen(880), true),
            (Channel::Online, Some(&over), fen(990), PriceSource::StoreOverride, fen(880), false),
        ];
        for (channel, store, regular, source, member, available) in cases {
            let got = effective_price(&s, channel, store);
            assert_eq!(got, EffectivePrice { regular, regular_source: source, member, available }, "{channel:?}");
        }
        let plain = sku(500, None, None, None);
        assert_eq!(effective_price(&plain, Channel::Store, None).regular_source, PriceSource::Base);
    }

    #[test]
    fn online_only_skus_are_not_sold_in_store() {
        let mut s = sku(1000, None, None, None);
        s.online_only = true;
        assert!(!effective_price(&s, Channel::Store, None).available);
        assert!(effective_price(&s, Channel::Online, None).available);
        s.status = ListingStatus::Inactive;
        assert!(!effective_price(&s, Channel::Online, None).available);
    }

    #[test]
    fn barcodes() {
        assert!(Barcode::parse("6901234567892").is_ok());
        assert!(Barcode::parse("6901234567891").is_err(), "bad check digit");
        assert!(Barcode::parse("96385074").is_ok(), "EAN-8");
        assert!(Barcode::parse("ABC123").is_ok(), "internal code");
        assert!(Barcode::parse("12").is_err());
        assert!(Barcode::parse("12 34").is_err());
        assert_eq!(Barcode::gtin_check_digit("690123456789"), Some(2));
    }

    #[test]
    fn category_placement() {
        let (a, b, c) = (CategoryId::new(), CategoryId::new(), CategoryId::new());
        assert_eq!(Category::check_placement(a, &[b, a], 1), Err(DomainError::CategoryCycle));
        assert!(Category::check_placement(a, &[b, c], 1).is_ok());
        assert!(Category::check_placement(a, &[b, c, b, c], 2).is_err(), "too deep");
    }

    #[test]
    fn image_urls() {
        assert!(ImageUrl::parse("images", "https://img.example.cn/a.jpg").is_ok());
        for bad in ["ftp://x/a.jpg", "https://", "https:///a", "/local.png", "https://a b"] {
            assert!(ImageUrl::parse("images", bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn member_never_pays_more(base in 0i64..100_000, store in proptest::option::of(0i64..100_000),
                                  member in proptest::option::of(0i64..100_000),
                                  over in proptest::option::of(0i64..100_000),
                                  over_member in proptest::option::of(0i64..100_000)) {
            let s = sku(base, store, None, member);
            let settings = store_sku(&s, over, over_member, true, true);
            for st in [None, Some(&settings)] {
                let price = effective_price(&s, Channel::Store, st);
                prop_assert!(price.member <= price.regular);
                prop_assert!(!price.member.is_negative());
            }
        }

        #[test]
        fn generated_gtins_validate(body in "[0-9]{12}") {
            let check = Barcode::gtin_check_digit(&body).unwrap();
            let code = format!("{body}{check}");
            prop_assert!(Barcode::parse(&code).is_ok());
        }
    }
}
