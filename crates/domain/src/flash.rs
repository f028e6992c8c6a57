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
