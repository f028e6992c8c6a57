//! The order state machine: which events move an order from which status to which, per
//! channel. Only the transitions listed here exist; anything else is refused with the status
//! and event named, so a client knows why.

use crate::{DomainError, DomainResult};

/// How the customer buys and receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderChannel {
    /// 到家: delivered from a store.
    Delivery,
    /// 到店自提: ordered online, collected in store.
    Pickup,
    /// A cashier rings it up.
    Pos,
    /// 扫码购: the customer scans and pays in store.
    ScanToBuy,
    /// 扫码点单, pay first.
    TablePayFirst,
    /// 扫码点单, eat first: an open bill (预结单) that accepts more items until paid.
    TableEatFirst,
    /// 预约到店: a booked visit.
    Appointment,
}

impl OrderChannel {
    pub const ALL: [OrderChannel; 7] = [
        OrderChannel::Delivery,
        OrderChannel::Pickup,
        OrderChannel::Pos,
        OrderChannel::ScanToBuy,
        OrderChannel::TablePayFirst,
        OrderChannel::TableEatFirst,
        OrderChannel::Appointment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderChannel::Delivery => "delivery",
            OrderChannel::Pickup => "pickup",
            OrderChannel::Pos => "pos",
            OrderChannel::ScanToBuy => "scan_to_buy",
            OrderChannel::TablePayFirst => "table_pay_first",
            OrderChannel::TableEatFirst => "table_eat_first",
            OrderChannel::Appointment => "appointment",
        }
    }

    pub fn parse(raw: &str) -> DomainResult<OrderChannel> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == raw)
            .ok_or_else(|| DomainError::UnknownValue { field: "channel", value: raw.to_owned() })
    }

    /// Whether the goods are handed over at the moment of payment (no fulfilment steps).
    pub fn completes_on_payment(self) -> bool {
        matches!(self, OrderChannel::Pos | OrderChannel::ScanToBuy | OrderChannel::TableEatFirst)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Placed, not paid (an eat-first table bill is open in this status).
    Created,
    Paid,
    Picking,
    /// Packed and waiting for the customer (pickup).
    Ready,
    /// With the courier (delivery).
    Dispatched,
    Completed,
    Cancelled,
    PartiallyRefunded,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::Created,
        OrderStatus::Paid,
        OrderStatus::Picking,
        OrderStatus::Ready,
        OrderStatus::Dispatched,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "created",
            OrderStatus::Paid => "paid",
            OrderStatus::Picking => "picking",
            OrderStatus::Ready => "ready",
            OrderStatus::Dispatched => "dispatched",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> DomainResult<OrderStatus> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| DomainError::UnknownValue { field: "status", value: raw.to_owned() })
    }

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
        }
    }
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
        ]
    }

    proptest! {
        /// Final statuses stay final, nothing returns to `created`, and an order is never
        /// refunded without having completed.
        #[test]
        fn the_machine_only_moves_forward(channel in proptest::sample::select(OrderChannel::ALL.to_vec()),
                                          events in proptest::collection::vec(event(), 0..20)) {
            let mut status = OrderStatus::Created;
            let mut completed = false;
            for event in events {
                match transition(channel, status, event) {
                    Ok(next) => {
                        prop_assert!(!status.is_final());
                        prop_assert_ne!(next, OrderStatus::Created);
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
