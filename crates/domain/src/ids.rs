//! Typed ids: one UUIDv7 newtype per entity, so a `StoreId` can never be passed where a `SkuId`
//! is expected. v7 ids are time-ordered, which keeps B-tree inserts local and makes an id a
//! usable pagination cursor.

use std::{fmt, str::FromStr};

use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    )*};
}

typed_id! {
    /// A region (区域) of the chain.
    RegionId,
    /// A store (门店).
    StoreId,
    /// A staff member.
    StaffId,
    /// A catalog category.
    CategoryId,
    /// A brand.
    BrandId,
    /// An SPU: a product with one or more variants.
    ProductId,
    /// An SKU: one sellable variant.
    SkuId,
    /// An API token or a login session.
    TokenId,
    /// An audit-log entry.
    AuditId,
    /// An outbox event.
    EventId,
    /// A stock ledger entry.
    StockEntryId,
    /// An order.
    OrderId,
    /// A payment or refund of an order.
    PaymentId,
    /// A stock document: purchase order, requisition, transfer, stocktake or loss report.
    DocumentId,
    /// A customer profile.
    CustomerId,
    /// A membership tier.
    TierId,
    /// A coupon template (券模板).
    CouponTemplateId,
    /// A coupon in a customer's wallet.
    CouponId,
    /// A promotion (促销活动).
    PromotionId,
    /// A promoter profile: a customer's or staff member's invite code, a distributor.
    PromoterId,
    /// A payout request of a distributor.
    PayoutId,
}
