//! The order state machine: which events move an order from which status to which, per
//! channel. Only the transitions listed here exist; anything else is refused with the status
//! and event named, so a client knows why.

named_enum! {
    /// How the customer buys and receives.
    pub enum OrderChannel for "channel" {
        /// 到家: delivered from a store.
        Delivery = "delivery",
        /// 到店自提: ordered online, collected in store.
        Pickup = "pickup",
        /// A cashier rings it up.
        Pos = "pos",
        /// 扫码购: the customer scans and pays in store.
        ScanToBuy = "scan_to_buy",
        /// 扫码点单, pay first.
        TablePayFirst = "table_pay_first",
        /// 扫码点单, eat first: an open bill (预结单) that accepts more items until paid.
        TableEatFirst = "table_eat_first",
        /// 预约到店: a booked visit.
        Appointment = "appointment",
    }
}

impl OrderChannel {
    /// Whether the customer ordered online (the mall: delivery, pickup, a booked visit) rather
    /// than in the store; the dashboard's online share counts these.
    pub fn is_online(self) -> bool {
        matches!(self, OrderChannel::Delivery | OrderChannel::Pickup | OrderChannel::Appointment)
    }

    /// Whether the sale is made in the store — at a till, at a table, or by the shopper scanning in
    /// the aisle: the till lists these as the day's sales, finds them by receipt and refunds them.
    pub fn sold_in_store(self) -> bool {
        matches!(
            self,
            OrderChannel::Pos | OrderChannel::ScanToBuy | OrderChannel::TablePayFirst | OrderChannel::TableEatFirst
        )
    }

    /// Whether the goods are handed over at the moment of payment (no fulfilment steps).
    pub fn completes_on_payment(self) -> bool {
        matches!(self, OrderChannel::Pos | OrderChannel::ScanToBuy | OrderChannel::TableEatFirst)
    }

    /// Whether the customer is promised a time (`promised_at`): a delivery, a pickup, a booked
    /// visit. The in-store channels hand over at once and take none.
    pub fn takes_promised_time(self) -> bool {
        matches!(self, OrderChannel::Delivery | OrderChannel::Pickup | OrderChannel::Appointment)
    }
}

named_enum! {
    pub enum OrderStatus for "status" {
        /// Placed, not paid (an eat-first table bill is open in this status).
        Created = "created",
        Paid = "paid",
        Picking = "picking",
        /// Packed and waiting for the customer (pickup).
        Ready = "ready",
        /// With the courier (delivery).
        Dispatched = "dispatched",
        Completed = "completed",
        Cancelled = "cancelled",
        PartiallyRefunded = "partially_refunded",
        Refunded = "refunded",
    }
}

impl OrderStatus {
    /// No event moves an order out of a final status.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Cancelled | OrderStatus::Refunded)
    }
}

/// Something that happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderEvent {
    Pay,
    StartPicking,
    /// Packed for pickup.
    MarkReady,
    /// Handed to the courier.
    Dispatch,
    /// Collected, delivered, served or visited.
    Complete,
    Cancel,
    /// A refund of some lines (`all_lines`: nothing paid remains unrefunded afterwards).
    Refund {
        all_lines: bool,
    },
    /// More items on an open eat-first bill (加菜).
    AddLines,
}

impl OrderEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderEvent::Pay => "pay",
            OrderEvent::StartPicking => "start_picking",
            OrderEvent::MarkReady => "mark_ready",
            OrderEvent::Dispatch => "dispatch",
            OrderEvent::Complete => "complete",
            OrderEvent::Cancel => "cancel",
            OrderEvent::Refund { .. } => "refund",
            OrderEvent::AddLines => "add_lines",
        }
    }
}

/// What a person may do next to an order in `status`: the fulfilment steps, cancelling and a
/// partial refund that the state machine allows (payment is left to the till).
pub fn next_events(channel: OrderChannel, status: OrderStatus) -> Vec<OrderEvent> {
    [
        OrderEvent::StartPicking,
        OrderEvent::MarkReady,
        OrderEvent::Dispatch,
        OrderEvent::Complete,
        OrderEvent::Cancel,
        OrderEvent::Refund { all_lines: false },
    ]
    .into_iter()
    .filter(|&event| transition(channel, status, event).is_ok())
    .collect()
}

/// The status after `event`, or `IllegalTransition`.
pub fn transition(
    channel: OrderChannel,
    status: OrderStatus,
    event: OrderEvent,
) -> Result<OrderStatus, IllegalTransition> {
    use OrderEvent as E;
    use OrderStatus as S;
    let next = match (status, event) {
        (S::Created, E::Pay) if channel.completes_on_payment() => Some(S::Completed),
        (S::Created, E::Pay) => Some(S::Paid),
        (S::Created, E::AddLines) if channel == OrderChannel::TableEatFirst => Some(S::Created),
        (S::Created | S::Paid, E::Cancel) => Some(S::Cancelled),
        (S::Picking, E::Cancel) if matches!(channel, OrderChannel::Delivery | OrderChannel::Pickup) => {
            Some(S::Cancelled)
        }
        (S::Paid, E::StartPicking) if matches!(channel, OrderChannel::Delivery | OrderChannel::Pickup) => {
            Some(S::Picking)
        }
        (S::Picking, E::MarkReady) if channel == OrderChannel::Pickup => Some(S::Ready),
        (S::Picking, E::Dispatch) if channel == OrderChannel::Delivery => Some(S::Dispatched),
        (S::Ready, E::Complete) | (S::Dispatched, E::Complete) => Some(S::Completed),
        (S::Paid, E::Complete) if matches!(channel, OrderChannel::TablePayFirst | OrderChannel::Appointment) => {
            Some(S::Completed)
        }
        (S::Completed | S::PartiallyRefunded, E::Refund { all_lines: true }) => Some(S::Refunded),
        (S::Completed | S::PartiallyRefunded, E::Refund { all_lines: false }) => Some(S::PartiallyRefunded),
        _ => None,
    };
    next.ok_or(IllegalTransition { channel, status, event })
}

/// An event that the order's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {} order that is {} cannot {}", channel.as_str(), status.as_str(), event.as_str())]
pub struct IllegalTransition {
    pub channel: OrderChannel,
    pub status: OrderStatus,
    pub event: OrderEvent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(channel: OrderChannel, events: &[OrderEvent]) -> Result<OrderStatus, IllegalTransition> {
        events.iter().try_fold(OrderStatus::Created, |status, &event| transition(channel, status, event))
    }

    #[test]
    fn happy_paths_per_channel() {
        use OrderEvent::*;
        let done = Ok(OrderStatus::Completed);
        assert_eq!(run(OrderChannel::Delivery, &[Pay, StartPicking, Dispatch, Complete]), done);
        assert_eq!(run(OrderChannel::Pickup, &[Pay, StartPicking, MarkReady, Complete]), done);
        assert_eq!(run(OrderChannel::Pos, &[Pay]), done);
        assert_eq!(run(OrderChannel::ScanToBuy, &[Pay]), done);
        assert_eq!(run(OrderChannel::TableEatFirst, &[Pay]), done);
        assert_eq!(run(OrderChannel::TablePayFirst, &[Pay, Complete]), done);
        assert_eq!(run(OrderChannel::Appointment, &[Pay, Complete]), done);
        assert_eq!(run(OrderChannel::TableEatFirst, &[AddLines, AddLines, Pay]), done, "an open bill takes more");
    }

    #[test]
    fn only_an_open_eat_first_bill_takes_more_items() {
        use OrderEvent::*;
        assert!(run(OrderChannel::TableEatFirst, &[Pay, AddLines]).is_err(), "settled");
        assert!(run(OrderChannel::TableEatFirst, &[Cancel, AddLines]).is_err(), "voided");
        for channel in OrderChannel::ALL.iter().filter(|&&c| c != OrderChannel::TableEatFirst) {
            let refused = run(*channel, &[AddLines]).unwrap_err();
            assert_eq!((refused.status, refused.event), (OrderStatus::Created, AddLines), "{channel:?}");
        }
    }

    #[test]
    fn change_is_what_was_handed_over_beyond_what_is_due() {
        let fen = crate::Money::from_fen;
        assert_eq!(cash_change(fen(3750), fen(10_000)), Some(fen(6250)));
        assert_eq!(cash_change(fen(3750), fen(3750)), Some(fen(0)));
        assert_eq!(cash_change(fen(3750), fen(3700)), None, "short");
    }

    #[test]
    fn a_refund_names_a_repeated_or_settled_line() {
        let mut lines = vec![line(1, 3), line(2, 2)];
        lines[1].refunded_quantity = 2;
        assert_eq!(check_refund_lines(&lines, &[(1, 1), (1, 2)]), Err(RefundLineError::Repeated { line_no: 1 }));
        assert_eq!(check_refund_lines(&lines, &[(2, 1)]), Err(RefundLineError::NothingLeft { line_no: 2 }));
        assert_eq!(check_refund_lines(&lines, &[(1, 3), (9, 1)]), Ok(()), "unknown lines are the caller's to name");
    }

    fn line(line_no: i32, quantity: i64) -> OrderLine {
        OrderLine {
            line_no,
            sku_id: crate::ids::SkuId::from_uuid(uuid::Uuid::nil()),
            sku_name: "x".into(),
            breakdown: LineBreakdown::price(crate::Money::from_fen(100), None, quantity, false).unwrap(),
            refunded_quantity: 0,
            refunded_amount: crate::Money::ZERO,
        }
    }

    #[test]
    fn next_events_follow_the_state_machine() {
        use OrderEvent::*;
        assert_eq!(next_events(OrderChannel::Delivery, OrderStatus::Paid), vec![StartPicking, Cancel]);
        assert_eq!(next_events(OrderChannel::Pickup, OrderStatus::Picking), vec![MarkReady, Cancel]);
        assert_eq!(next_events(OrderChannel::Pos, OrderStatus::Completed), vec![Refund { all_lines: false }]);
        assert!(next_events(OrderChannel::Pos, OrderStatus::Cancelled).is_empty());
    }

    #[test]
    fn refunds_and_cancellations() {
        use OrderEvent::*;
        let partly = run(OrderChannel::Pos, &[Pay, Refund { all_lines: false }]);
        assert_eq!(partly, Ok(OrderStatus::PartiallyRefunded));
        let fully = run(OrderChannel::Pos, &[Pay, Refund { all_lines: false }, Refund { all_lines: true }]);
        assert_eq!(fully, Ok(OrderStatus::Refunded));
        assert_eq!(run(OrderChannel::Delivery, &[Pay, StartPicking, Cancel]), Ok(OrderStatus::Cancelled));
        let late = run(OrderChannel::Delivery, &[Pay, StartPicking, Dispatch, Cancel]).unwrap_err();
        assert_eq!(late.to_string(), "a delivery order that is dispatched cannot cancel");
        assert!(run(OrderChannel::Pickup, &[Pay, StartPicking, Dispatch]).is_err(), "pickups are not dispatched");
        assert!(run(OrderChannel::Delivery, &[StartPicking]).is_err(), "no picking before payment");
    }

    fn event() -> impl Strategy<Value = OrderEvent> {
        use OrderEvent::*;
        prop_oneof![
            Just(Pay),
            Just(StartPicking),
            Just(MarkReady),
            Just(Dispatch),
            Just(Complete),
            Just(Cancel),
            any::<bool>().prop_map(|all_lines| Refund { all_lines }),
            Just(AddLines),
        ]
    }

    proptest! {
        /// Final statuses stay final, nothing returns to `created` once it left it, and an
        /// order is never refunded without having completed.
        #[test]
        fn the_machine_only_moves_forward(channel in proptest::sample::select(OrderChannel::ALL.to_vec()),
                                          events in proptest::collection::vec(event(), 0..20)) {
            let mut status = OrderStatus::Created;
            let mut completed = false;
            for event in events {
                match transition(channel, status, event) {
                    Ok(next) => {
                        prop_assert!(!status.is_final());
                        prop_assert!(next != OrderStatus::Created || status == OrderStatus::Created);
                        if matches!(next, OrderStatus::Refunded | OrderStatus::PartiallyRefunded) {
                            prop_assert!(completed);
                        }
                        completed |= next == OrderStatus::Completed;
                        status = next;
                    }
                    Err(err) => prop_assert_eq!(err.status, status),
                }
            }
        }
    }
}

/// What one order line costs: the price it started from, each adjustment with where it came
/// from, and what is charged. Later issues add promotions, coupons and points as adjustments;
/// the line always satisfies `amount = base_amount + Σ adjustments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineBreakdown {
    /// Per unit, or per kilogram for goods sold by weight.
    pub unit_price: crate::Money,
    /// Units, or grams for goods sold by weight.
    pub quantity: i64,
    pub sold_by_weight: bool,
    pub base_amount: crate::Money,
    pub adjustments: Vec<Adjustment>,
    pub amount: crate::Money,
}

/// A change to a line's price and the rule that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// `member_price`, `store_override`, later `promotion:…`, `coupon:…`.
    pub source: String,
    /// Negative for a discount.
    pub amount: crate::Money,
}

/// Why a line cannot be priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("the quantity must be positive")]
    NonPositiveQuantity,
    #[error("the amount overflows")]
    Overflow,
}

impl LineBreakdown {
    /// Prices `quantity` at `unit_price`, with a member price when one applies. For goods sold
    /// by weight the price is per kilogram and the quantity in grams; the amount is rounded
    /// half up to the 分 once, here.
    pub fn price(
        unit_price: crate::Money,
        member_unit_price: Option<crate::Money>,
        quantity: i64,
        sold_by_weight: bool,
    ) -> Result<LineBreakdown, PricingError> {
        if quantity <= 0 {
            return Err(PricingError::NonPositiveQuantity);
        }
        let extend = |price: crate::Money| -> Result<crate::Money, PricingError> {
            let raw = i128::from(price.fen()) * i128::from(quantity);
            let fen = if sold_by_weight { (raw + 500) / 1000 } else { raw };
            i64::try_from(fen).map(crate::Money::from_fen).map_err(|_| PricingError::Overflow)
        };
        let base_amount = extend(unit_price)?;
        let mut adjustments = Vec::new();
        if let Some(member) = member_unit_price.filter(|m| *m < unit_price) {
            let discount = extend(member)?.checked_sub(base_amount).ok_or(PricingError::Overflow)?;
            adjustments.push(Adjustment { source: "member_price".to_owned(), amount: discount });
        }
        let amount = adjustments
            .iter()
            .try_fold(base_amount, |sum, a| sum.checked_add(a.amount))
            .ok_or(PricingError::Overflow)?;
        Ok(LineBreakdown { unit_price, quantity, sold_by_weight, base_amount, adjustments, amount })
    }
}

/// The most change a till gives for one cash payment: ¥10,000, a hundred ¥100 notes beyond
/// what is due. More than that is a typing slip (an extra zero, a barcode in the amount field),
/// and a change that large would be printed on every receipt reprint.
pub const MAX_CASH_CHANGE: crate::Money = crate::Money::from_fen(1_000_000);

/// The change for a cash payment of `due` when the customer hands over `tendered`, or `None`
/// when that is not enough.
pub fn cash_change(due: crate::Money, tendered: crate::Money) -> Option<crate::Money> {
    tendered.checked_sub(due).filter(|change| !change.is_negative())
}

/// Why the lines of a refund request do not fit the order, beyond a line number that does not
/// exist or a quantity out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundLineError {
    #[error("line {line_no} appears twice")]
    Repeated { line_no: i32 },
    #[error("line {line_no} has nothing left to refund")]
    NothingLeft { line_no: i32 },
}

/// Checks a refund's (line number, quantity) pairs against the order's lines: each line named
/// once, and none already refunded in full.
pub fn check_refund_lines(lines: &[OrderLine], requested: &[(i32, i64)]) -> Result<(), RefundLineError> {
    let mut seen = std::collections::BTreeSet::new();
    for &(line_no, _) in requested {
        if !seen.insert(line_no) {
            return Err(RefundLineError::Repeated { line_no });
        }
        if lines.iter().any(|l| l.line_no == line_no && l.refunded_quantity >= l.breakdown.quantity) {
            return Err(RefundLineError::NothingLeft { line_no });
        }
    }
    Ok(())
}

/// The money to give back for `quantity` more units of a line of which `refunded_quantity`
/// units worth `refunded_amount` were already refunded. Proportional, rounded down, with the
/// last refund taking the remainder: however a line is refunded in parts, the parts sum to
/// exactly what was paid for it.
pub fn refund_amount(
    line_amount: crate::Money,
    line_quantity: i64,
    refunded_quantity: i64,
    refunded_amount: crate::Money,
    quantity: i64,
) -> Option<crate::Money> {
    let remaining = line_quantity.checked_sub(refunded_quantity)?;
    if quantity <= 0 || quantity > remaining {
        return None;
    }
    if quantity == remaining {
        return line_amount.checked_sub(refunded_amount);
    }
    let share = i128::from(line_amount.fen()) * i128::from(quantity) / i128::from(line_quantity);
    i64::try_from(share).ok().map(crate::Money::from_fen)
}

#[cfg(test)]
mod pricing_tests {
    use super::*;
    use crate::Money;
    use proptest::prelude::*;

    #[test]
    fn weighed_goods_round_half_up_once() {
        // 1,234 g at ¥23.90/kg is ¥29.4926 → ¥29.49.
        let line = LineBreakdown::price(Money::from_fen(2390), None, 1234, true).unwrap();
        assert_eq!(line.amount, Money::from_fen(2949));
        // 500 g at ¥0.01/kg is half a 分 → rounds up to 1.
        assert_eq!(LineBreakdown::price(Money::from_fen(1), None, 500, true).unwrap().amount, Money::from_fen(1));
    }

    #[test]
    fn member_price_is_an_explained_adjustment() {
        let line = LineBreakdown::price(Money::from_fen(1290), Some(Money::from_fen(1090)), 3, false).unwrap();
        assert_eq!(line.base_amount, Money::from_fen(3870));
        assert_eq!(line.adjustments, vec![Adjustment { source: "member_price".into(), amount: Money::from_fen(-600) }]);
        assert_eq!(line.amount, Money::from_fen(3270));
        assert!(LineBreakdown::price(Money::from_fen(1), None, 0, false).is_err());
    }

    proptest! {
        /// Refunding a line in any number of parts returns exactly what was paid for it, and
        /// never more than what remains.
        #[test]
        fn refunds_in_parts_sum_to_the_line(amount in 0i64..10_000_000, parts in proptest::collection::vec(1i64..5, 1..8)) {
            let quantity: i64 = parts.iter().sum();
            let (mut refunded_qty, mut refunded) = (0, Money::ZERO);
            for part in parts {
                let give = refund_amount(Money::from_fen(amount), quantity, refunded_qty, refunded, part).unwrap();
                prop_assert!(!give.is_negative());
                refunded = refunded.checked_add(give).unwrap();
                refunded_qty += part;
                prop_assert!(refunded <= Money::from_fen(amount));
            }
            prop_assert_eq!(refunded, Money::from_fen(amount));
        }
    }
}

named_enum! {
    /// How a payment was made.
    pub enum PaymentMethod for "method" {
        Cash = "cash",
        /// A bank-card terminal; the terminal's reference is recorded.
        Card = "card",
        /// The buyer's stored value (储值): debited from, and refunded to, their balance.
        StoredValue = "stored_value",
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// 1-based position in the order.
    pub line_no: i32,
    pub sku_id: crate::ids::SkuId,
    /// The SKU's name when ordered, kept for receipts.
    pub sku_name: String,
    pub breakdown: LineBreakdown,
    pub refunded_quantity: i64,
    pub refunded_amount: crate::Money,
}

/// Where a delivery goes (配送位置), kept on the order for the dispatcher and the rider.
///
/// The point is GCJ-02 whatever datum the caller sent it in: stores are kept in GCJ-02 and the
/// distance is taken there, and the maps a dispatcher or a rider opens in China (AMap, Tencent,
/// WeChat) are GCJ-02, so the stored point goes on them as it is. The datum the caller sent is
/// kept beside it, so a point that came from a GPS (WGS-84) can be had back ([`Self::as_sent`])
/// and a point sent in the wrong datum (several hundred metres off) can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryLocation {
    /// GCJ-02.
    pub point: crate::geo::Coordinates,
    /// The datum the caller gave the point in.
    pub sent_in: crate::geo::Datum,
    /// Great-circle metres from the store serving the order, rounded.
    pub distance_m: u32,
}

impl DeliveryLocation {
    /// The point in the datum the caller sent it in (WGS-84 to well under a millimetre).
    pub fn as_sent(&self) -> crate::geo::Coordinates {
        match self.sent_in {
            crate::geo::Datum::Gcj02 => self.point,
            crate::geo::Datum::Wgs84 => self.point.gcj02_to_wgs84(),
        }
    }
}

/// An order: what was bought, where, through which channel, and how far it has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: crate::ids::OrderId,
    pub store_id: crate::ids::StoreId,
    pub channel: OrderChannel,
    pub status: OrderStatus,
    /// Six digits the customer shows at the counter (pickup orders).
    pub pickup_code: Option<String>,
    pub customer_phone: Option<crate::text::Phone>,
    /// The member who buys: earns points, and later coupons and attribution.
    pub customer_id: Option<crate::ids::CustomerId>,
    pub delivery_address: Option<String>,
    /// Where a delivery goes, when the caller gave a point (a delivery naming its store may
    /// give only the address).
    pub delivery_location: Option<DeliveryLocation>,
    pub note: Option<String>,
    /// The table a table order is for (桌号): always on an eat-first bill, perhaps on a
    /// pay-first order, never on other channels.
    pub table: Option<crate::table::TableLabel>,
    pub lines: Vec<OrderLine>,
    /// Σ base amounts.
    pub subtotal: crate::Money,
    /// Σ adjustments (zero or negative).
    pub discount: crate::Money,
    /// What the delivery costs (not part of any line; zero except for deliveries).
    pub delivery_fee: crate::Money,
    pub total: crate::Money,
    pub paid: crate::Money,
    pub refunded: crate::Money,
    /// Until when an unpaid order holds its stock.
    pub hold_expires_at: Option<crate::time::Timestamp>,
    /// By when the customer was promised the goods: ready for pickup, or delivered.
    pub promised_at: Option<crate::time::Timestamp>,
    /// When that promise was kept or broken: packed for pickup, or delivered.
    pub fulfilled_at: Option<crate::time::Timestamp>,
    pub created_by: Option<crate::ids::StaffId>,
    pub created_at: crate::time::Timestamp,
    pub updated_at: crate::time::Timestamp,
}

impl Order {
    /// Totals of `lines` and a delivery fee: (subtotal, discount, total), or `None` on
    /// overflow. The total is what the lines cost plus the fee.
    pub fn totals(
        lines: &[OrderLine],
        delivery_fee: crate::Money,
    ) -> Option<(crate::Money, crate::Money, crate::Money)> {
        let subtotal = crate::Money::checked_sum(lines.iter().map(|l| l.breakdown.base_amount))?;
        let goods = crate::Money::checked_sum(lines.iter().map(|l| l.breakdown.amount))?;
        Some((subtotal, goods.checked_sub(subtotal)?, goods.checked_add(delivery_fee)?))
    }

    /// Whether the promise was kept; `None` until fulfilled or when nothing was promised.
    pub fn on_time(&self) -> Option<bool> {
        Some(self.fulfilled_at? <= self.promised_at?)
    }

    /// Whether every line has been refunded in full.
    pub fn fully_refunded(&self) -> bool {
        self.lines.iter().all(|l| l.refunded_quantity == l.breakdown.quantity)
    }
}

/// One SKU to fetch from the shelves for a wave of orders (拣货单).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickItem {
    pub sku_id: crate::ids::SkuId,
    pub sku_name: String,
    /// Units, or grams for goods sold by weight.
    pub quantity: i64,
    /// The orders that need it, most urgent first.
    pub orders: Vec<crate::ids::OrderId>,
}

/// Orders waiting to be picked, most urgent first (earliest promise, then oldest), and what to
/// fetch for all of them, SKU by SKU. Only paid deliveries and pickups, and those being picked,
/// are on the list; refunded units are not fetched.
pub fn picking_list(orders: &[Order]) -> (Vec<&Order>, Vec<PickItem>) {
    let mut waiting: Vec<&Order> = orders
        .iter()
        .filter(|o| matches!(o.channel, OrderChannel::Delivery | OrderChannel::Pickup))
        .filter(|o| matches!(o.status, OrderStatus::Paid | OrderStatus::Picking))
        .collect();
    waiting.sort_by_key(|o| (o.promised_at.is_none(), o.promised_at, o.created_at, o.id));
    let mut items: Vec<PickItem> = Vec::new();
    for order in &waiting {
        for line in &order.lines {
            let quantity = line.breakdown.quantity - line.refunded_quantity;
            if quantity <= 0 {
                continue;
            }
            match items.iter_mut().find(|i| i.sku_id == line.sku_id) {
                Some(item) => {
                    item.quantity = item.quantity.saturating_add(quantity);
                    if item.orders.last() != Some(&order.id) {
                        item.orders.push(order.id);
                    }
                }
                None => items.push(PickItem {
                    sku_id: line.sku_id,
                    sku_name: line.sku_name.clone(),
                    quantity,
                    orders: vec![order.id],
                }),
            }
        }
    }
    items.sort_by(|a, b| a.sku_name.cmp(&b.sku_name).then(a.sku_id.cmp(&b.sku_id)));
    (waiting, items)
}

#[cfg(test)]
mod picking_tests {
    use super::*;
    use crate::{
        Money,
        ids::{OrderId, SkuId, StoreId},
    };

    fn order(channel: OrderChannel, status: OrderStatus, promised_in_min: Option<i64>, lines: &[(u128, i64)]) -> Order {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Order {
            id: OrderId::new(),
            store_id: StoreId::from_uuid(uuid::Uuid::nil()),
            channel,
            status,
            pickup_code: None,
            customer_phone: None,
            customer_id: None,
            delivery_address: None,
            delivery_location: None,
            note: None,
            table: None,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, &(sku, quantity))| OrderLine {
                    line_no: i as i32 + 1,
                    sku_id: SkuId::from_uuid(uuid::Uuid::from_u128(sku)),
                    sku_name: format!("sku {sku}"),
                    breakdown: LineBreakdown::price(Money::from_fen(100), None, quantity, false).unwrap(),
                    refunded_quantity: 0,
                    refunded_amount: Money::ZERO,
                })
                .collect(),
            subtotal: Money::ZERO,
            discount: Money::ZERO,
            delivery_fee: Money::ZERO,
            total: Money::ZERO,
            paid: Money::ZERO,
            refunded: Money::ZERO,
            hold_expires_at: None,
            promised_at: promised_in_min.map(|m| at + chrono::Duration::minutes(m)),
            fulfilled_at: None,
            created_by: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_most_urgent_orders_come_first_and_skus_are_summed() {
        let later = order(OrderChannel::Delivery, OrderStatus::Paid, Some(60), &[(1, 2), (2, 1)]);
        let sooner = order(OrderChannel::Pickup, OrderStatus::Picking, Some(30), &[(1, 3)]);
        let unpaid = order(OrderChannel::Delivery, OrderStatus::Created, Some(10), &[(1, 9)]);
        let till = order(OrderChannel::Pos, OrderStatus::Paid, None, &[(2, 9)]);
        let orders = [later.clone(), unpaid, sooner.clone(), till];
        let (waiting, items) = picking_list(&orders);
        assert_eq!(waiting.iter().map(|o| o.id).collect::<Vec<_>>(), vec![sooner.id, later.id]);
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].quantity, items[0].orders.clone()), (5, vec![sooner.id, later.id]));
        assert_eq!((items[1].quantity, items[1].orders.clone()), (1, vec![later.id]));
    }

    #[test]
    fn a_delivery_point_sent_from_a_gps_is_had_back() {
        use crate::geo::{Coordinates, Datum};
        let gps = Coordinates::new(31.2304, 121.4737).unwrap();
        let kept = DeliveryLocation { point: Datum::Wgs84.to_gcj02(gps), sent_in: Datum::Wgs84, distance_m: 0 };
        assert!(kept.point.distance_m(&gps) > 100.0, "kept in GCJ-02, not as sent");
        assert!(kept.as_sent().distance_m(&gps) < 0.001, "{:?}", kept.as_sent());
        let map = DeliveryLocation { sent_in: Datum::Gcj02, ..kept };
        assert_eq!(map.as_sent(), map.point);
    }
}
