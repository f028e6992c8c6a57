//! Flash sales (秒杀): what happens to a reservation after the rush. Its order line is priced by
//! the price engine, with the flash price as the line's activity price (step 1).
//!
//! A reservation holds stock (reserved), one unit of the sale's quota per unit and the buyer's
//! count towards the per-customer limit. Within the sale's hold time the buyer turns it into an
//! order, which takes over the held stock; otherwise it is released and everything it held goes
//! back, so unpaid reservations never starve the sale. An order placed from a reservation and
//! cancelled unpaid releases the reservation the same way.
//!
//! The rush itself: [`book`] is the owner's in-memory view of one sale (who holds what, which
//! request keys were used) and decides a batch of requests; [`journal`] is the compact record
//! of one committed batch, the only row a batch writes for its buyers.

pub mod book;
pub mod journal;

use crate::ids::CustomerId;

/// How a member is named as a flash sale's buyer, whoever reserves for them (the mall's shopper
/// themselves, or staff naming them by id or phone): the per-customer limit counts per buyer,
/// so one member has exactly one buyer name.
const MEMBER_BUYER: &str = "customer:";

/// The buyer name of a member.
pub fn member_buyer(customer: CustomerId) -> String {
    format!("{MEMBER_BUYER}{customer}")
}

/// The member a buyer name is ([`member_buyer`]'s inverse); `None` for any other name.
pub fn buyer_member(buyer: &str) -> Option<CustomerId> {
    buyer.strip_prefix(MEMBER_BUYER)?.parse().ok()
}

named_enum! {
    /// Where a reservation stands.
    pub enum HoldStatus for "status" {
        /// Stock, quota and the buyer's count are held.
        Held = "held",
        /// Turned into an order, which now holds the stock.
        Ordered = "ordered",
        /// Given back: it expired, or its order was cancelled unpaid.
        Released = "released",
    }
}

/// Why one buyer's request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Before the sale's start or after its end.
    NotActive,
    /// The buyer would hold more than the per-customer limit.
    LimitReached,
    /// Not enough of the quota or of the store's stock is left.
    SoldOut,
}

#[cfg(test)]
mod buyer_tests {
    use super::*;

    #[test]
    fn a_member_has_one_buyer_name() {
        let member = CustomerId::new();
        let name = member_buyer(member);
        assert_eq!(name, format!("customer:{}", member.as_uuid().hyphenated()));
        assert_eq!(buyer_member(&name), Some(member));
        assert_eq!(buyer_member("13800019934"), None);
        assert_eq!(buyer_member("customer:not-a-uuid"), None);
    }
}
