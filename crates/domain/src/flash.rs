//! Flash sales (秒杀): what happens to a reservation after the rush, and how its order line is
//! priced.
//!
//! A reservation holds stock (reserved), one unit of the sale's quota per unit and the buyer's
//! count towards the per-customer limit. Within the sale's hold time the buyer turns it into an
//! order, which takes over the held stock; otherwise it is released and everything it held goes
//! back, so unpaid reservations never starve the sale. An order placed from a reservation and
//! cancelled unpaid releases the reservation the same way.

use crate::{
    Money,
    order::{Adjustment, LineBreakdown, PricingError},
};

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

/// The order line of a reservation: the regular price, and the flash price as an explained
/// adjustment (`flash_sale:{sale}`), so the order shows what the buyer saved. A flash price at
/// or above the regular price gives no adjustment.
pub fn order_line(
    regular_unit_price: Money,
    flash_unit_price: Money,
    quantity: i64,
    sold_by_weight: bool,
    sale: impl std::fmt::Display,
) -> Result<LineBreakdown, PricingError> {
    let mut line = LineBreakdown::price(regular_unit_price, None, quantity, sold_by_weight)?;
    let flash = LineBreakdown::price(flash_unit_price, None, quantity, sold_by_weight)?;
    if flash.amount < line.amount {
        let discount = flash.amount.checked_sub(line.amount).ok_or(PricingError::Overflow)?;
        line.adjustments.push(Adjustment { source: format!("flash_sale:{sale}"), amount: discount });
        line.amount = flash.amount;
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flash_price_is_an_explained_discount() {
        let line = order_line(Money::from_fen(5990), Money::from_fen(990), 2, false, "s1").unwrap();
        assert_eq!((line.base_amount.fen(), line.amount.fen()), (11_980, 1_980));
        assert_eq!(
            line.adjustments,
            vec![Adjustment { source: "flash_sale:s1".into(), amount: Money::from_fen(-10_000) }]
        );
        let dearer = order_line(Money::from_fen(990), Money::from_fen(1990), 1, false, "s1").unwrap();
        assert!(dearer.adjustments.is_empty() && dearer.amount.fen() == 990);
    }
}
