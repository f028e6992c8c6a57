//! Group buy (拼团): an offer sells a SKU at a group price to groups of `group_size` customers
//! who gather within `window_minutes` of the group being opened.
//!
//! A customer opens a group (its leader) or joins an open one by placing an order at the group
//! price; that order takes a seat, one per customer. The seat count is a guarded counter, so of
//! two buyers racing for the last seat one wins. The group *forms* when every seat is taken by a
//! paid order; until then its orders are not fulfilled. An unpaid order that is cancelled (or
//! whose hold runs out) gives its seat back. A group still short when its window ends *fails*:
//! every order in it is cancelled, and those paid are refunded in full.

use crate::Expected;
use crate::{
    DomainError, DomainResult, Money,
    ids::{SkuId, StaffId, StoreId},
    time::Timestamp,
};

/// Group sizes a merchant may set.
pub const MIN_GROUP_SIZE: i64 = 2;
pub const MAX_GROUP_SIZE: i64 = 100;
/// The longest a group may gather: 7 days.
pub const MAX_WINDOW_MINUTES: i64 = 7 * 24 * 60;

/// A group-buy offer on one SKU of one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBuyOffer {
    pub id: uuid::Uuid,
    pub name: String,
    pub store_id: StoreId,
    pub sku_id: SkuId,
    /// Per unit; each member buys one unit.
    pub group_price: Money,
    pub group_size: i64,
    /// How long a group gathers after it is opened.
    pub window_minutes: i64,
    /// When groups may be opened.
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: Option<StaffId>,
    pub created_at: Timestamp,
}

impl GroupBuyOffer {
    pub fn validate(&self) -> DomainResult<()> {
        Money::price("group_price", self.group_price.fen())?;
        if !(MIN_GROUP_SIZE..=MAX_GROUP_SIZE).contains(&self.group_size) {
            return Err(DomainError::OutOfRange { field: "group_size", min: MIN_GROUP_SIZE, max: MAX_GROUP_SIZE });
        }
        if !(1..=MAX_WINDOW_MINUTES).contains(&self.window_minutes) {
            return Err(DomainError::OutOfRange { field: "window_minutes", min: 1, max: MAX_WINDOW_MINUTES });
        }
        if self.ends_at <= self.starts_at {
            return Err(DomainError::Malformed { field: "ends_at", expected: Expected::AfterStart });
        }
        Ok(())
    }

    /// Whether a group may be opened at `at`.
    pub fn open_at(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

named_enum! {
    /// Where a group stands.
    pub enum GroupStatus for "status" {
        /// Gathering members.
        Open = "open",
        /// Every seat taken by a paid order: its orders are fulfilled.
        Formed = "formed",
        /// Its window ended short of members: its orders were cancelled and refunded.
        Failed = "failed",
    }
}

/// One group of an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBuy {
    pub id: uuid::Uuid,
    pub offer_id: uuid::Uuid,
    pub size: i64,
    /// Seats taken by orders not cancelled.
    pub seats: i64,
    pub status: GroupStatus,
    pub opened_at: Timestamp,
    pub expires_at: Timestamp,
    pub formed_at: Option<Timestamp>,
}

impl GroupBuy {
    /// A new group of `offer` opened at `at`, with its leader's seat.
    pub fn open(offer: &GroupBuyOffer, at: Timestamp) -> GroupBuy {
        GroupBuy {
            id: uuid::Uuid::now_v7(),
            offer_id: offer.id,
            size: offer.group_size,
            seats: 1,
            status: GroupStatus::Open,
            opened_at: at,
            expires_at: at + chrono::Duration::minutes(offer.window_minutes),
            formed_at: None,
        }
    }

    /// Whether a group with `paid` paid orders is complete.
    pub fn forms_with(&self, paid: i64) -> bool {
        self.status == GroupStatus::Open && paid >= self.size
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _, Utc};

    use super::*;

    fn offer() -> GroupBuyOffer {
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 2, 0, 0).unwrap();
        GroupBuyOffer {
            id: uuid::Uuid::now_v7(),
            name: "3人团".into(),
            store_id: StoreId::new(),
            sku_id: SkuId::new(),
            group_price: Money::from_fen(990),
            group_size: 3,
            window_minutes: 24 * 60,
            starts_at: at,
            ends_at: at + Duration::days(7),
            created_by: None,
            created_at: at,
        }
    }

    #[test]
    fn offers_are_checked() {
        assert_eq!(offer().validate(), Ok(()));
        assert!(GroupBuyOffer { group_size: 1, ..offer() }.validate().is_err());
        assert!(GroupBuyOffer { window_minutes: 0, ..offer() }.validate().is_err());
        assert!(GroupBuyOffer { ends_at: offer().starts_at, ..offer() }.validate().is_err());
    }

    #[test]
    fn a_group_gathers_within_its_window_and_forms_when_every_seat_is_paid() {
        let offer = offer();
        let group = GroupBuy::open(&offer, offer.starts_at);
        assert_eq!((group.seats, group.expires_at), (1, offer.starts_at + Duration::days(1)));
        assert!(!group.forms_with(2));
        assert!(group.forms_with(3));
        assert!(!GroupBuy { status: GroupStatus::Failed, ..group }.forms_with(3));
        assert!(offer.open_at(offer.starts_at) && !offer.open_at(offer.ends_at));
    }
}
