//! Use cases of orders: creating an order (pricing its lines and holding its stock), taking
//! payment through a payment provider, moving it through fulfilment, cancelling, refunding
//! lines, and releasing the holds of orders left unpaid.
//!
//! Stock follows the order: created → reserved; paid → committed; handed over → sold; cancelled
//! → released or uncommitted; refunded lines → returned to on hand. Every step is a keyed
//! ledger entry in the order's transaction, and every status change is compare-and-set, so a
//! retried or concurrent request never moves stock or money twice.

mod open_bill;

use chrono::Duration;
use quanyu_domain::{
    DomainError, Expected, Money,
    authz::Permission,
    catalog::ProductKind,
    flash::{HoldStatus, Refusal},
    ids::{OrderId, PaymentId, SkuId, StoreId},
    inventory::{MovementKind, Qty, StockChange},
    marketing::{AutoIssue, Undo},
    order::{Order, OrderChannel, OrderEvent, OrderLine, OrderStatus, PaymentMethod, refund_amount, transition},
    org::{Store, StoreStatus},
    pricing::ActivityPrice,
    table::{TableError, TableLabel, check_table},
    text,
    time::Timestamp,
};
use quanyu_store::{OrderFilter, OrderSort, OrderStep, PaymentRecord, SortOrder, Tx, UniqueKey};
use rand::Rng as _;

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written,
    change::Change,
    inventory::{apply_batch, batch_entries},
    listing::Cursor,
    org::{scoped_place, store_in_scope},
    quotes::{Cart, Points, PricedCart, price_cart},
    staff::parse_phone,
    write::now,
};

/// How long an unpaid order holds its stock.
pub const DEFAULT_HOLD: Duration = Duration::minutes(15);
/// What a delivery promises when the caller names no time: delivered within an hour of the
/// store's open time (see `promised_time`).
pub const DEFAULT_DELIVERY_PROMISE: Duration = Duration::minutes(60);
/// What a pickup promises when the caller names no time: ready within half an hour of the
/// store's open time.
pub const DEFAULT_PICKUP_PROMISE: Duration = Duration::minutes(30);
/// The most lines one order (an eat-first bill with everything added) holds.
pub const MAX_ORDER_LINES: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct LineDraft {
    pub sku_id: Option<SkuId>,
    /// Units, or grams for goods sold by weight.
    pub quantity: i64,
}

#[derive(Debug, Clone, Default)]
pub struct OrderDraft {
    pub store_id: Option<StoreId>,
    pub channel: String,
    pub lines: Vec<LineDraft>,
    /// The buyer is a member (member prices apply).
    pub member: bool,
    /// The member who buys (earns points). With only `customer_phone`, the member holding that
    /// phone, if any.
    pub customer_id: Option<quanyu_domain::ids::CustomerId>,
    pub customer_phone: Option<String>,
    /// Required for delivery.
    pub delivery_address: Option<String>,
    /// Where to deliver; with no `store_id`, a delivery goes to the nearest store that delivers
    /// there and has every line in stock.
    pub delivery_location: Option<(f64, f64, crate::Datum)>,
    /// By when the goods are promised: deliveries and pickups (defaults by channel), and the
    /// booked time of an appointment (required). Other channels take none.
    pub promised_at: Option<quanyu_domain::time::Timestamp>,
    pub note: Option<String>,
    /// The table (桌号): required for an eat-first bill, optional for a pay-first table order,
    /// refused for other channels. Blank is none.
    pub table: Option<String>,
    /// A held flash-sale reservation to turn into this order (no `lines`): one line at the
    /// flash price, taking over the reservation's stock and the rest of its hold time.
    pub flash_reservation: Option<uuid::Uuid>,
    /// Coupons from the buyer's wallet: each must apply, and is used by this order.
    pub coupon_ids: Vec<quanyu_domain::ids::CouponId>,
    /// Points of the buyer's to spend (whole blocks of 100, at most half the goods).
    pub points: Option<i64>,
    /// The invite code of the share link the order came through (a distributor's or a guide's).
    pub promoter_code: Option<String>,
    /// Opens or joins a group buy (no `lines`): one unit at the group price, for a member.
    pub group_buy: Option<crate::GroupJoin>,
}

#[derive(Debug, Clone, Default)]
pub struct PaymentDraft {
    /// `cash` or `card`.
    pub method: String,
    /// Must equal what is due, in 分.
    pub amount: i64,
    /// The card terminal's reference; required for cards.
    pub reference: Option<String>,
    /// Cash only: what the customer handed over, at least the amount; kept with the payment so
    /// the receipt shows the change.
    pub tendered: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct RefundDraft {
    /// (line number, quantity) pairs.
    pub lines: Vec<(i32, i64)>,
    pub reason: Option<String>,
}

/// When an order promises its goods — deliveries, pickups and booked visits; other channels
/// none — always within the store's opening hours on its own clock. A time the caller asks for
/// when the store is closed is refused (`OutsideOpeningHours`, naming the hours and when the
/// store next opens after it). With none asked, a delivery or pickup is promised its usual time
/// (an hour, half an hour) of the store's open time: from now when the store is open and stays
/// open that long, else from its next opening — an order at 21:45 at a store open 08:00-22:00
/// is ready for pickup at 08:30 the next morning, as a shopper ordering late expects, rather
/// than refused or promised for after closing. Only a store whose whole opening is shorter than
/// that usual time refuses a default, as it would the time asked.
fn promised_time(
    store: &Store,
    channel: OrderChannel,
    asked: Option<Timestamp>,
    at: Timestamp,
) -> AppResult<Option<Timestamp>> {
    let outside = |next_open| AppError::OutsideOpeningHours {
        hours: store.opening_hours,
        time_zone: store.time_zone,
        next_open,
        asked: asked.is_some(),
    };
    let usual = match (channel, asked) {
        (_, Some(asked)) if store.is_open_at(asked) => return Ok(Some(asked)),
        (_, Some(asked)) => return Err(outside(store.next_open_from(asked))),
        (OrderChannel::Delivery, None) => DEFAULT_DELIVERY_PROMISE,
        (OrderChannel::Pickup, None) => DEFAULT_PICKUP_PROMISE,
        (OrderChannel::Appointment, None) => return Err(DomainError::Required { field: "promised_at" }.into()),
        (_, None) => return Ok(None),
    };
    match store.ready_after(at, usual) {
        Some(ready) => Ok(Some(ready)),
        None => Err(outside(store.next_open_from(store.closes_after(at).unwrap_or(at)))),
    }
}

/// The most orders one picking list gathers.
pub const MAX_PICKING_ORDERS: usize = 2_000;

/// A store's picking work: orders most urgent first, and the SKUs to fetch for them.
#[derive(Debug, Clone)]
pub struct PickingList {
    pub orders: Vec<Order>,
    pub items: Vec<quanyu_domain::order::PickItem>,
}

/// An order with its timeline and payments.
#[derive(Debug, Clone)]
pub struct OrderDetail {
    pub order: Order,
    pub steps: Vec<OrderStep>,
    pub payments: Vec<PaymentRecord>,
}

/// A fulfilment step a person can take.
pub fn parse_step(raw: &str) -> AppResult<OrderEvent> {
    Ok(match raw {
        "start_picking" => OrderEvent::StartPicking,
        "mark_ready" => OrderEvent::MarkReady,
        "dispatch" => OrderEvent::Dispatch,
        "complete" => OrderEvent::Complete,
        other => return Err(DomainError::UnknownValue { field: "step", value: other.to_owned() }.into()),
    })
}

impl App {
    /// Creates an order: prices the cart through the price engine (as a quote would, the
    /// delivery fee included) and stores that breakdown, and holds its stock (all lines or
    /// none). An eat-first bill for a table that has one open is refused, naming that bill.
    /// Requires an idempotency key.
    pub async fn create_order(
        &self,
        ctx: &Ctx,
        draft: OrderDraft,
        reply: Reply<'_, OrderDetail>,
    ) -> AppResult<Written<OrderDetail>> {
        let store_id = draft.store_id;
        match self.place_order(ctx, draft, reply).await {
            // Another till opened the table's bill between this one's look and its write: the
            // unique rule refused it, and the bill is named once that write is visible.
            Err(AppError::TableOccupied { table, order_id: None }) => {
                let open = match store_id {
                    Some(store_id) => {
                        read_tx!(self, |tx| Ok(tx.open_table_bills(store_id, Some(table.as_str())).await?))?
                    }
                    None => Vec::new(),
                };
                Err(AppError::TableOccupied { order_id: open.first().map(|o| o.id), table })
            }
            placed => placed,
        }
    }

    async fn place_order(
        &self,
        ctx: &Ctx,
        draft: OrderDraft,
        reply: Reply<'_, OrderDetail>,
    ) -> AppResult<Written<OrderDetail>> {
        ctx.require(Permission::SellOrders)?;
        ctx.require_idempotency_key()?;
        let channel = OrderChannel::parse(draft.channel.trim())?;
        let flash = match draft.flash_reservation {
            Some(_) if !draft.lines.is_empty() || draft.group_buy.is_some() => {
                return Err(
                    DomainError::Malformed { field: "lines", expected: Expected::NoLinesWithFlashReservation }.into()
                );
            }
            Some(reservation) => Some(self.flash_sale_of(reservation).await?),
            None => None,
        };
        let group_offer = match draft.group_buy {
            Some(_) if !draft.lines.is_empty() => {
                return Err(DomainError::Malformed { field: "lines", expected: Expected::NoLinesWithGroupBuy }.into());
            }
            Some(join) => Some(read_tx!(self, |tx| crate::group_buys::offer(tx, join.offer_id).await)?),
            None => None,
        };
        let fixed_store = match (&flash, &group_offer) {
            (Some(sale), _) => Some((sale.store_id, Expected::FlashSaleStore)),
            (None, Some(offer)) => Some((offer.store_id, Expected::GroupBuyStore)),
            (None, None) => None,
        };
        // Where a delivery goes, in the stores' datum (and the datum it came in, kept with it):
        // routed to a store that reaches it, or checked against the radius of the store it names.
        let delivery_point = match draft.delivery_location {
            Some((lat, lng, datum)) if channel == OrderChannel::Delivery => Some((
                datum.to_gcj02(
                    quanyu_domain::geo::Coordinates::new(lat, lng)
                        .map_err(|_| DomainError::InvalidCoordinates { field: "delivery_location" })?,
                ),
                datum,
            )),
            _ => None,
        };
        let store_id = match (fixed_store, draft.store_id, delivery_point) {
            (Some((fixed, expected)), Some(store_id), _) if store_id != fixed => {
                return Err(DomainError::Malformed { field: "store_id", expected }.into());
            }
            (Some((fixed, _)), _, _) => fixed,
            (None, Some(store_id), _) => store_id,
            (None, None, Some((point, _))) => {
                let lines: Vec<(SkuId, i64)> =
                    draft.lines.iter().filter_map(|l| l.sku_id.map(|sku| (sku, l.quantity))).collect();
                self.route_delivery(point, crate::Datum::Gcj02, &lines, draft.promised_at)
                    .await?
                    .ok_or(AppError::NoStoreCanServe)?
            }
            (None, None, _) => return Err(DomainError::Required { field: "store_id" }.into()),
        };
        if fixed_store.is_none() && (draft.lines.is_empty() || draft.lines.len() > MAX_ORDER_LINES) {
            return Err(DomainError::OutOfRange { field: "lines", min: 1, max: MAX_ORDER_LINES as i64 }.into());
        }
        let customer_phone = parse_phone(draft.customer_phone.as_deref())?;
        let delivery_address = text::optional("delivery_address", draft.delivery_address.as_deref(), 256)?;
        if channel == OrderChannel::Delivery && delivery_address.is_none() {
            return Err(DomainError::Required { field: "delivery_address" }.into());
        }
        let note = text::optional("note", draft.note.as_deref(), 500)?;
        let promoter_code =
            draft.promoter_code.as_deref().map(quanyu_domain::referral::parse_invite_code).transpose()?;
        let at = now();
        if draft.promised_at.is_some() && !channel.takes_promised_time() {
            return Err(AppError::NotForChannel { field: "promised_at", channel });
        }
        let table =
            draft.table.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(TableLabel::parse).transpose()?;
        let table = check_table(channel, table).map_err(|err| match err {
            TableError::Required => AppError::from(DomainError::Required { field: "table" }),
            TableError::NotForChannel => AppError::NotForChannel { field: "table", channel },
        })?;
        // A time asked for is checked here; against the store's hours, and a default, once the
        // store is read (`promised_time`).
        if channel == OrderChannel::Appointment && draft.promised_at.is_none() {
            return Err(DomainError::Required { field: "promised_at" }.into());
        }
        if draft.promised_at.is_some_and(|p| p <= at) {
            return Err(DomainError::Malformed { field: "promised_at", expected: Expected::TimeInFuture }.into());
        }
        let horizon = self.config.booking_horizon;
        if draft.promised_at.is_some_and(|p| p > at + horizon) {
            return Err(AppError::BeyondBookingHorizon { horizon_days: horizon.num_days(), latest: at + horizon });
        }
        let id = OrderId::new();
        write_idempotent!(self, ctx, reply, |tx| {
            let store = store_in_scope(ctx, tx, store_id).await?;
            if let (OrderChannel::TableEatFirst, Some(table)) = (channel, &table)
                && let Some(open) = tx.open_table_bills(store_id, Some(table.as_str())).await?.first()
            {
                return Err(AppError::TableOccupied { table: table.clone(), order_id: Some(open.id) });
            }
            let delivery_location = delivery_point
                .map(|(point, sent_in)| crate::nearby::delivery_location(&store, point, sent_in))
                .transpose()?;
            let held = match draft.flash_reservation {
                Some(reservation) => Some(held_reservation(tx, reservation, at).await?),
                None => None,
            };
            // A member's reservation is that member's order.
            let member = match held.as_ref().and_then(|h| h.buyer.member()) {
                Some(reserved) => {
                    Some(reservation_member(tx, reserved, draft.customer_id, customer_phone.as_ref()).await?)
                }
                None => buyer(tx, draft.customer_id, customer_phone.as_ref()).await?,
            };
            let customer_id = member.as_ref().map(|m| m.id);
            if store.status != StoreStatus::Open {
                return Err(AppError::StoreNotTrading);
            }
            let promised_at = promised_time(&store, channel, draft.promised_at, at)?;
            // The cart: the caller's lines, or a held flash reservation at its flash price. An
            // unpaid order holds its stock for a while; an eat-first bill until it is settled or
            // voided, a booked visit until its time.
            let mut hold_expires_at = match channel {
                OrderChannel::TableEatFirst => None,
                OrderChannel::Appointment => promised_at,
                _ => Some(at + DEFAULT_HOLD),
            };
            let cart_lines = match (&flash, &held) {
                (Some(sale), Some(held)) => {
                    let reservation = held.id;
                    hold_expires_at = Some(held.expires_at);
                    // The rush counts the limit per member id without reading it, so a person
                    // named by an id merged into another could hold past it; what they order
                    // across all their ids stays within it, first ordered first served.
                    if let Some(person) = member.as_ref() {
                        let ordered = tx.flash_units_ordered_by_person(sale.id, person.id).await?;
                        if ordered + held.quantity > sale.per_customer_limit {
                            return Err(AppError::FlashSale(Refusal::LimitReached));
                        }
                    }
                    if !tx
                        .set_flash_reservation_status(reservation, HoldStatus::Held, HoldStatus::Ordered, Some(id))
                        .await?
                    {
                        return Err(AppError::ReservationNotHeld);
                    }
                    let activity = ActivityPrice { activity_id: sale.id, unit_price: sale.price };
                    vec![(sale.sku_id, held.quantity, Some(activity))]
                }
                _ => match &group_offer {
                    Some(offer) => {
                        let activity = ActivityPrice { activity_id: offer.id, unit_price: offer.group_price };
                        vec![(offer.sku_id, 1, Some(activity))]
                    }
                    None => crate::quotes::cart_lines(&draft.lines)?,
                },
            };
            let chosen = crate::coupons::chosen(tx, customer_id, &draft.coupon_ids).await?;
            let coupons = chosen.iter().map(|(_, priced)| priced.clone()).collect();
            let cart =
                Cart { store_id, channel, lines: &cart_lines, member: member.as_ref(), member_prices: draft.member };
            let PricedCart { breakdown: priced, items } =
                price_cart(tx, &cart, Points::Asked(draft.points), coupons).await?;
            let mut lines = Vec::with_capacity(priced.lines.len());
            let mut holds = Vec::new();
            for ((priced, (sku, product)), &(sku_id, quantity, _)) in priced.lines.iter().zip(&items).zip(&cart_lines) {
                let sku_name = line_name(Some(product), sku);
                // A flash reservation already holds its stock; services hold none.
                if flash.is_none() && product.kind != ProductKind::Service {
                    holds.push((sku_id, StockChange::Reserve(Qty::new(quantity))));
                }
                lines.push(OrderLine {
                    line_no: priced.line_no,
                    sku_id,
                    sku_name,
                    breakdown: priced.to_line_breakdown(),
                    refunded_quantity: 0,
                    refunded_amount: Money::ZERO,
                });
            }
            let delivery_fee = priced.delivery_fee;
            let (subtotal, discount, total) =
                Order::totals(&lines, delivery_fee).ok_or(DomainError::MoneyOverflow { field: "lines" })?;
            let holds = merge_holds(holds)?;
            let entries =
                batch_entries(ctx, store_id, "reserve", &holds, &format!("order:{id}:reserve"), Some(&id.to_string()))?;
            apply_batch(tx, store_id, &entries).await?;
            let order = Order {
                id,
                store_id,
                channel,
                status: OrderStatus::Created,
                pickup_code: (channel == OrderChannel::Pickup)
                    .then(|| format!("{:06}", rand::rng().random_range(0..1_000_000))),
                customer_phone,
                customer_id,
                delivery_address,
                delivery_location,
                note,
                table: table.clone(),
                lines,
                subtotal,
                discount,
                delivery_fee,
                total,
                paid: Money::ZERO,
                refunded: Money::ZERO,
                hold_expires_at,
                promised_at,
                fulfilled_at: None,
                // Staff who took the order; none for the system or a customer ordering for themself.
                created_by: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system() && ctx.acting_customer().is_none()),
                created_at: at,
                updated_at: at,
            };
            tx.insert_order(&order).await.map_err(|err| match (err, &table) {
                (quanyu_store::StoreError::Duplicate(UniqueKey::OpenTableBill), Some(table)) => {
                    AppError::TableOccupied { table: table.clone(), order_id: None }
                }
                (err, _) => err.into(),
            })?;
            crate::coupons::use_on_order(tx, ctx, id, &chosen, &priced).await?;
            crate::loyalty::redeem_for_order(tx, ctx, &order, priced.points_used).await?;
            crate::referral::attribute(tx, &order, promoter_code.as_deref(), member.as_ref()).await?;
            if let (Some(offer), Some(join)) = (&group_offer, draft.group_buy) {
                let buyer = customer_id.ok_or(DomainError::Required { field: "customer_id" })?;
                crate::group_buys::seat(tx, offer, join, &order, buyer, at).await?;
            }
            step(tx, ctx, &order, "created", None).await?;
            Change::new("order.created", "order", id)
                .in_store(store_id)
                .set("channel", &channel.as_str())
                .set("total", &total.fen())
                .record(tx, Some(ctx))
                .await?;
            detail(tx, id).await
        })
    }

    /// Takes payment of what is due. Payment commits the held stock; for channels that hand
    /// the goods over at once (POS, scan-to-buy, eat-first tables) it also sells it.
    pub async fn pay_order(
        &self,
        ctx: &Ctx,
        id: OrderId,
        draft: PaymentDraft,
        reply: Reply<'_, OrderDetail>,
    ) -> AppResult<Written<OrderDetail>> {
        ctx.require(Permission::SellOrders)?;
        ctx.require_idempotency_key()?;
        let method = PaymentMethod::parse(draft.method.trim())?;
        write_idempotent!(self, ctx, reply, |tx| {
            let mut order = order_in_scope(ctx, tx, id).await?;
            let (before, last_updated) = (order.status, order.updated_at);
            let next = transition(order.channel, before, OrderEvent::Pay)?;
            let due = order.total.checked_sub(order.paid).unwrap_or(Money::ZERO);
            if draft.amount != due.fen() {
                return Err(AppError::AmountMismatch { expected: due.fen(), given: draft.amount });
            }
            let tendered = draft.tendered.map(Money::from_fen);
            if let Some(tendered) = tendered {
                if method != PaymentMethod::Cash {
                    return Err(AppError::Invalid(DomainError::Malformed {
                        field: "tendered",
                        expected: Expected::TenderedInCashOnly,
                    }));
                }
                match quanyu_domain::order::cash_change(due, tendered) {
                    None => return Err(AppError::TenderedShort { due: due.fen(), tendered: tendered.fen() }),
                    Some(change) if change > quanyu_domain::order::MAX_CASH_CHANGE => {
                        return Err(AppError::TenderedTooMuch {
                            due: due.fen(),
                            tendered: tendered.fen(),
                            max_change: quanyu_domain::order::MAX_CASH_CHANGE.fen(),
                        });
                    }
                    Some(_) => {}
                }
            }
            let reference =
                crate::payments::provider(method).charge(tx, ctx, &order, due, draft.reference.as_deref()).await?;
            let stocked = stocked_lines(tx, &order).await?;
            let commit: Vec<_> = stocked.iter().map(|(sku, qty)| (*sku, StockChange::Commit(*qty))).collect();
            move_stock(tx, ctx, &order, "commit", &commit).await?;
            if next == OrderStatus::Completed {
                let sell: Vec<_> = stocked.iter().map(|(sku, qty)| (*sku, StockChange::Sell(*qty))).collect();
                move_stock(tx, ctx, &order, "sell", &sell).await?;
            }
            order.status = next;
            order.paid = order.total;
            order.hold_expires_at = None;
            order.updated_at = now();
            save(tx, &order, before, last_updated).await?;
            tx.insert_payment(&PaymentRecord {
                id: PaymentId::new(),
                order_id: id,
                kind: "payment".into(),
                method,
                amount: due,
                reference,
                tendered,
                at: order.updated_at,
            })
            .await?;
            step(tx, ctx, &order, "pay", Some(before)).await?;
            crate::loyalty::earn_for_order(tx, ctx, &order).await?;
            let first_paid = match order.customer_id {
                Some(customer_id) => tx.customer_paid_orders(customer_id).await? == 1,
                None => false,
            };
            if let (Some(customer_id), true) = (order.customer_id, first_paid) {
                crate::coupons::auto_issue(tx, ctx, AutoIssue::FirstOrderPaid, customer_id).await?;
            }
            crate::referral::on_paid(tx, ctx, &order, first_paid).await?;
            crate::group_buys::on_paid(tx, ctx, &order).await?;
            crate::lifecycle::on_order(tx, ctx, &order, 1, order.paid).await?;
            crate::tags::on_order_paid(tx, &order).await?;
            Change::new("order.paid", "order", id)
                .in_store(order.store_id)
                .set("method", &method.as_str())
                .set("amount", &due.fen())
                .record(tx, Some(ctx))
                .await?;
            detail(tx, id).await
        })
    }

    /// Moves an order one fulfilment step on. Goods leave the shelf (are sold) when they are
    /// handed over: packed for pickup, dispatched for delivery, or served/visited on completion.
    pub async fn advance_order(&self, ctx: &Ctx, id: OrderId, event: OrderEvent) -> AppResult<OrderDetail> {
        ctx.require(Permission::FulfilOrders)?;
        if !matches!(
            event,
            OrderEvent::StartPicking | OrderEvent::MarkReady | OrderEvent::Dispatch | OrderEvent::Complete
        ) {
            return Err(DomainError::UnknownValue { field: "step", value: event.as_str().to_owned() }.into());
        }
        write_tx!(self, |tx| {
            let mut order = order_in_scope(ctx, tx, id).await?;
            let (before, last_updated) = (order.status, order.updated_at);
            let next = transition(order.channel, before, event)?;
            crate::group_buys::ensure_formed(tx, &order).await?;
            let hands_over = matches!(next, OrderStatus::Ready | OrderStatus::Dispatched)
                || (next == OrderStatus::Completed && before == OrderStatus::Paid);
            if hands_over {
                let sell: Vec<_> = stocked_lines(tx, &order)
                    .await?
                    .into_iter()
                    .map(|(sku, qty)| (sku, StockChange::Sell(qty)))
                    .collect();
                move_stock(tx, ctx, &order, "sell", &sell).await?;
            }
            order.status = next;
            order.updated_at = now();
            // The promise is kept when a pickup is ready, or a delivery delivered.
            let fulfils = match order.channel {
                OrderChannel::Pickup => next == OrderStatus::Ready,
                OrderChannel::Delivery => next == OrderStatus::Completed,
                _ => false,
            };
            if fulfils {
                order.fulfilled_at = Some(order.updated_at);
            }
            save(tx, &order, before, last_updated).await?;
            step(tx, ctx, &order, event.as_str(), Some(before)).await?;
            Change::new("order.advanced", "order", id)
                .in_store(order.store_id)
                .diff("status", &before.as_str(), &next.as_str())
                .record(tx, Some(ctx))
                .await?;
            detail(tx, id).await
        })
    }

    /// Cancels an order that has not been handed over: releases its hold, or gives back its
    /// committed stock and its payment.
    pub async fn cancel_order(&self, ctx: &Ctx, id: OrderId) -> AppResult<OrderDetail> {
        ctx.require(Permission::SellOrders)?;
        write_tx!(self, |tx| cancel_in(tx, ctx, id, "cancel").await)
    }

    /// Refunds some units of some lines of a completed order: the money paid for exactly those
    /// units goes back (by the method it came in) and the goods return to on hand. A delivery
    /// fee is not refunded, even with every line: the delivery was made. (An order not yet
    /// handed over is cancelled instead, which gives back everything paid.)
    pub async fn refund_order(
        &self,
        ctx: &Ctx,
        id: OrderId,
        draft: RefundDraft,
        reply: Reply<'_, OrderDetail>,
    ) -> AppResult<Written<OrderDetail>> {
        ctx.require(Permission::SellOrders)?;
        ctx.require_idempotency_key()?;
        if draft.lines.is_empty() {
            return Err(DomainError::Required { field: "lines" }.into());
        }
        let reason = text::optional("reason", draft.reason.as_deref(), 200)?;
        write_idempotent!(self, ctx, reply, |tx| {
            let mut order = order_in_scope(ctx, tx, id).await?;
            let (before, last_updated) = (order.status, order.updated_at);
            quanyu_domain::order::check_refund_lines(&order.lines, &draft.lines)?;
            let mut total = Money::ZERO;
            let mut returned = Vec::new();
            for &(line_no, quantity) in &draft.lines {
                let line = order
                    .lines
                    .iter_mut()
                    .find(|l| l.line_no == line_no)
                    .ok_or(AppError::UnknownReference { field: "line_no", entity: "order_line" })?;
                let give = refund_amount(
                    line.breakdown.amount,
                    line.breakdown.quantity,
                    line.refunded_quantity,
                    line.refunded_amount,
                    quantity,
                )
                .ok_or(DomainError::OutOfRange {
                    field: "quantity",
                    min: 1,
                    max: line.breakdown.quantity - line.refunded_quantity,
                })?;
                line.refunded_quantity += quantity;
                line.refunded_amount =
                    line.refunded_amount.checked_add(give).ok_or(DomainError::MoneyOverflow { field: "lines" })?;
                total = total.checked_add(give).ok_or(DomainError::MoneyOverflow { field: "lines" })?;
                returned.push((line.sku_id, quantity));
            }
            let next = transition(order.channel, before, OrderEvent::Refund { all_lines: order.fully_refunded() })?;
            let stocked = stocked_lines(tx, &order).await?;
            let back: Vec<_> = returned
                .iter()
                .filter(|(sku, _)| stocked.iter().any(|(s, _)| s == sku))
                .map(|&(sku, qty)| (sku, StockChange::Move { kind: MovementKind::Return, delta: qty }))
                .collect();
            let payment_id = PaymentId::new();
            let key = format!("order:{id}:refund:{payment_id}");
            let entries =
                batch_entries(ctx, order.store_id, "return", &merge_changes(back)?, &key, Some(&id.to_string()))?;
            apply_batch(tx, order.store_id, &entries).await?;
            order.status = next;
            order.refunded = order.refunded.checked_add(total).ok_or(DomainError::MoneyOverflow { field: "lines" })?;
            order.updated_at = now();
            save(tx, &order, before, last_updated).await?;
            let method = tx.order_payments(id).await?.first().map_or(PaymentMethod::Cash, |p| p.method);
            crate::payments::provider(method).refund(tx, ctx, &order, total, &payment_id.to_string()).await?;
            tx.insert_payment(&PaymentRecord {
                id: payment_id,
                order_id: id,
                kind: "refund".into(),
                method,
                amount: total,
                reference: reason,
                tendered: None,
                at: order.updated_at,
            })
            .await?;
            step(tx, ctx, &order, "refund", Some(before)).await?;
            crate::loyalty::take_back_for_order(tx, ctx, &order).await?;
            crate::loyalty::restore_for_order(tx, ctx, &order, false).await?;
            let undo = if order.fully_refunded() { Undo::FullyRefunded } else { Undo::PartlyRefunded };
            crate::coupons::give_back(tx, ctx, &order, undo).await?;
            crate::referral::on_refunded(tx, &order, false, total, &payment_id.to_string()).await?;
            crate::lifecycle::on_order(tx, ctx, &order, 0, Money::ZERO.checked_sub(total).unwrap_or(Money::ZERO))
                .await?;
            Change::new("order.refunded", "order", id)
                .in_store(order.store_id)
                .set("amount", &total.fen())
                .record(tx, Some(ctx))
                .await?;
            detail(tx, id).await
        })
    }

    pub async fn get_order(&self, ctx: &Ctx, id: OrderId) -> AppResult<OrderDetail> {
        ctx.require(Permission::ReadOrders)?;
        read_tx!(self, |tx| {
            order_in_scope(ctx, tx, id).await?;
            detail(tx, id).await
        })
    }

    /// What a store's pickers have to do: its paid deliveries and pickups and those being
    /// picked, most urgent first, and what to fetch for them SKU by SKU (拣货单).
    pub async fn picking_list(&self, ctx: &Ctx, store_id: StoreId) -> AppResult<PickingList> {
        ctx.require(Permission::ReadOrders)?;
        let orders = read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            let mut orders = Vec::new();
            for status in [OrderStatus::Paid, OrderStatus::Picking] {
                let filter = OrderFilter {
                    place: quanyu_store::PlaceFilter { store_id: Some(store_id), region_id: None },
                    status: Some(status.as_str().to_owned()),
                    ..OrderFilter::default()
                };
                let mut page = quanyu_store::Page::first(quanyu_store::Page::MAX_LIMIT);
                loop {
                    let batch = tx.list_orders(&filter, page).await?;
                    let full = batch.len() == page.limit as usize;
                    page.after = batch.last().map(|o| o.id.as_uuid());
                    orders.extend(batch);
                    if !full || orders.len() >= MAX_PICKING_ORDERS {
                        break;
                    }
                }
            }
            Ok(orders)
        })?;
        let (waiting, items) = quanyu_domain::order::picking_list(&orders);
        let orders = waiting.into_iter().cloned().collect();
        Ok(PickingList { orders, items })
    }

    /// Orders within the scope matching `filter`, a page at a time in id (creation) order.
    pub async fn list_orders(
        &self,
        ctx: &Ctx,
        filter: OrderFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Order>> {
        ctx.require(Permission::ReadOrders)?;
        if let Some(status) = &filter.status {
            OrderStatus::parse(status)?;
        }
        if let Some(channel) = &filter.channel {
            OrderChannel::parse(channel)?;
        }
        let mut filter = filter;
        // A table is looked for as it is stored: "a3" finds table A3.
        filter.table =
            filter.table.as_deref().map(|t| TableLabel::parse(t).map(|t| t.as_str().to_owned())).transpose()?;
        let page = Cursor::sorted_page(cursor, limit, &mut filter.sort)?;
        let order = filter.sort.order;
        let rows = read_tx!(self, |tx| {
            let place = scoped_place(ctx, tx, filter.place).await?;
            Ok(tx.list_orders(&OrderFilter { place, ..filter }, page).await?)
        })?;
        Ok(Listing::from_sorted_rows(rows, page, order, |o| o.id.as_uuid()))
    }

    /// Cancels the unpaid orders whose hold expired by `at`, releasing their stock. Returns how
    /// many it cancelled. Run periodically by the server; safe to run on several instances.
    pub async fn expire_holds(&self, at: quanyu_domain::time::Timestamp) -> AppResult<usize> {
        let expired = read_tx!(self, |tx| Ok(tx.expired_holds(at, 200).await?))?;
        let ctx = Ctx::system();
        let mut cancelled = 0;
        for id in expired {
            match write_tx!(self, |tx| cancel_in(tx, &ctx, id, "expire").await) {
                Ok(_) => cancelled += 1,
                // Paid or cancelled meanwhile: nothing to release.
                Err(AppError::StatusChanged | AppError::IllegalTransition(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(cancelled)
    }
}

impl App {
    /// Releases expired holds (unpaid orders, flash-sale reservations), writes off expired
    /// points and catches the audience index up every `every`, and reviews membership tiers
    /// daily, forever: the server spawns it beside the API.
    pub async fn sweep_expired_holds(self, every: std::time::Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Points lots are checked once: from the beginning on the first tick, then since the last.
        let mut points_since = chrono::DateTime::UNIX_EPOCH;
        let mut reviewed_on = None;
        loop {
            tick.tick().await;
            let at = now();
            // First: after a restart, a sale about to start should not wait behind the day's
            // scores rebuild.
            match self.arm_upcoming_flash_sales(at).await {
                Ok(0) => {}
                Ok(armed) => tracing::info!(armed, "armed flash sales about to start"),
                Err(err) => tracing::warn!(error = %err, "arming upcoming flash sales failed; retrying next tick"),
            }
            match self.stop_ended_flash_owners(at) {
                0 => {}
                stopped => tracing::info!(stopped, "stopped the owners of flash sales that ended"),
            }
            match self.keep_audience_index_current().await {
                Ok(None | Some(crate::CaughtUp::Reloaded(0))) => {}
                Ok(Some(caught_up)) => tracing::debug!(?caught_up, "caught the audience index up"),
                Err(err) => tracing::warn!(error = %err, "catching the audience index up failed; retrying next tick"),
            }
            // Tiers are reviewed, and birthday gifts given, once a day (the first tick of each
            // UTC day).
            if reviewed_on != Some(at.date_naive()) {
                match self.birthday_gifts(at).await {
                    Ok(0) => {}
                    Ok(members) => tracing::info!(members, "gave birthday gifts"),
                    Err(err) => tracing::warn!(error = %err, "giving birthday gifts failed; retrying tomorrow"),
                }
                match self.rebuild_scores(at).await {
                    Ok(scored) => tracing::info!(scored, "rebuilt RFM scores and lifecycle stages"),
                    Err(err) => tracing::warn!(error = %err, "rebuilding customer scores failed; retrying tomorrow"),
                }
                match self.prune_audience_changes(at).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "pruned the log of audience changes"),
                    Err(err) => tracing::warn!(error = %err, "pruning audience changes failed; retrying tomorrow"),
                }
                match self.refresh_rule_tags(at).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "took rule tags off customers whose window slid below"),
                    Err(err) => tracing::warn!(error = %err, "refreshing rule tags failed; retrying tomorrow"),
                }
                match self.review_tiers(at).await {
                    Ok(changed) => {
                        reviewed_on = Some(at.date_naive());
                        if changed > 0 {
                            tracing::info!(changed, "reviewed membership tiers");
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "reviewing tiers failed; retrying next tick"),
                }
            }
            match self.expire_points(points_since, at).await {
                Ok(0) => points_since = at,
                Ok(customers) => {
                    points_since = at;
                    tracing::info!(customers, "wrote off expired points");
                }
                Err(err) => tracing::warn!(error = %err, "expiring points failed; retrying next tick"),
            }
            for _ in 0..20 {
                match self.relay_outbox(now()).await {
                    Ok(500..) => continue,
                    Ok(_) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "relaying the outbox to customer events failed; retrying next tick");
                        break;
                    }
                }
            }
            match self.release_commissions(at).await {
                Ok(0) => {}
                Ok(released) => tracing::info!(released, "released commission past its return window"),
                Err(err) => tracing::warn!(error = %err, "releasing commission failed; retrying next tick"),
            }
            match self.expire_group_buys(at).await {
                Ok(0) => {}
                Ok(failed) => tracing::info!(failed, "failed group buys short of members, refunding their orders"),
                Err(err) => tracing::warn!(error = %err, "failing expired group buys failed; retrying next tick"),
            }
            match self.expire_holds(now()).await {
                Ok(0) => {}
                Ok(released) => tracing::info!(released, "released the stock of unpaid orders past their hold"),
                Err(err) => tracing::warn!(error = %err, "releasing expired holds failed; retrying next tick"),
            }
            match self.expire_flash_reservations(now()).await {
                Ok(0) => {}
                Ok(released) => tracing::info!(released, "released flash-sale reservations past their hold"),
                Err(err) => {
                    tracing::warn!(error = %err, "releasing flash-sale reservations failed; retrying next tick")
                }
            }
        }
    }
}

async fn order_in_scope(ctx: &Ctx, tx: &mut dyn Tx, id: OrderId) -> AppResult<Order> {
    let order = tx.get_order(id).await?.ok_or(AppError::NotFound { entity: "order" })?;
    store_in_scope(ctx, tx, order.store_id).await?;
    Ok(order)
}

async fn detail(tx: &mut dyn Tx, id: OrderId) -> AppResult<OrderDetail> {
    let order = tx.get_order(id).await?.ok_or(AppError::NotFound { entity: "order" })?;
    Ok(OrderDetail { steps: tx.order_steps(id).await?, payments: tx.order_payments(id).await?, order })
}

/// Saves `order` if nobody changed it since it was read (still `expected`, last updated at
/// `last_updated`): an open bill that took more items meanwhile is not paid at its old total.
async fn save(
    tx: &mut dyn Tx,
    order: &Order,
    expected: OrderStatus,
    last_updated: quanyu_domain::time::Timestamp,
) -> AppResult<()> {
    if tx.update_order(order, expected, last_updated).await? { Ok(()) } else { Err(AppError::StatusChanged) }
}

async fn step(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, event: &str, from: Option<OrderStatus>) -> AppResult<()> {
    tx.append_order_step(&OrderStep {
        id: uuid::Uuid::now_v7(),
        subject: order.id,
        event: event.to_owned(),
        from_status: from.map(|s| s.as_str().to_owned()),
        to_status: order.status.as_str().to_owned(),
        actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
        note: None,
        at: now(),
    })
    .await?;
    Ok(())
}

/// The order's quantities per SKU that hold stock (services hold none), summed per SKU.
async fn stocked_lines(tx: &mut dyn Tx, order: &Order) -> AppResult<Vec<(SkuId, Qty)>> {
    let mut holds = Vec::new();
    for line in &order.lines {
        let sku = tx.get_sku(line.sku_id).await?.ok_or(AppError::NotFound { entity: "sku" })?;
        let product = tx.get_product(sku.product_id).await?;
        if product.is_none_or(|p| p.kind != ProductKind::Service) {
            holds.push((line.sku_id, Qty::new(line.breakdown.quantity)));
        }
    }
    Ok(quanyu_domain::inventory::merge_demand(holds).ok_or(DomainError::OutOfRange {
        field: "quantity",
        min: 1,
        max: Qty::MAX.get(),
    })?)
}

async fn move_stock(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    label: &str,
    changes: &[(SkuId, StockChange)],
) -> AppResult<()> {
    let key = format!("order:{}:{label}", order.id);
    let entries = batch_entries(ctx, order.store_id, label, changes, &key, Some(&order.id.to_string()))?;
    apply_batch(tx, order.store_id, &entries).await?;
    Ok(())
}

/// Cancels in the caller's transaction (shared by cancellation and hold expiry).
pub(crate) async fn cancel_in(tx: &mut dyn Tx, ctx: &Ctx, id: OrderId, event: &str) -> AppResult<OrderDetail> {
    let mut order = order_in_scope(ctx, tx, id).await?;
    let (before, last_updated) = (order.status, order.updated_at);
    let next = transition(order.channel, before, OrderEvent::Cancel)?;
    let stocked = stocked_lines(tx, &order).await?;
    if before == OrderStatus::Created {
        let release: Vec<_> = stocked.iter().map(|&(sku, qty)| (sku, StockChange::Release(qty))).collect();
        move_stock(tx, ctx, &order, "release", &release).await?;
    } else {
        let uncommit: Vec<_> = stocked.iter().map(|&(sku, qty)| (sku, StockChange::Uncommit(qty))).collect();
        move_stock(tx, ctx, &order, "uncommit", &uncommit).await?;
        if order.paid > Money::ZERO {
            let method = tx.order_payments(id).await?.first().map_or(PaymentMethod::Cash, |p| p.method);
            crate::payments::provider(method).refund(tx, ctx, &order, order.paid, "cancel").await?;
            tx.insert_payment(&PaymentRecord {
                id: PaymentId::new(),
                order_id: id,
                kind: "refund".into(),
                method,
                amount: order.paid,
                reference: None,
                tendered: None,
                at: now(),
            })
            .await?;
            order.refunded = order.paid;
        }
    }
    // An order placed from a flash-sale reservation gives the sale's quota and the buyer's count
    // back, paid or not: the units were not sold after all.
    if let Some(reservation) = tx.flash_reservation_of_order(id).await? {
        crate::flash::give_back(tx, &reservation, HoldStatus::Ordered).await?;
    }
    order.status = next;
    order.hold_expires_at = None;
    order.updated_at = now();
    save(tx, &order, before, last_updated).await?;
    step(tx, ctx, &order, event, Some(before)).await?;
    crate::loyalty::take_back_for_order(tx, ctx, &order).await?;
    crate::loyalty::restore_for_order(tx, ctx, &order, true).await?;
    crate::coupons::give_back(tx, ctx, &order, Undo::Cancelled).await?;
    crate::group_buys::on_cancelled(tx, &order).await?;
    if order.paid > Money::ZERO {
        let goods = Money::checked_sum(order.lines.iter().map(|l| l.breakdown.amount))
            .ok_or(DomainError::MoneyOverflow { field: "lines" })?;
        crate::referral::on_refunded(tx, &order, true, goods, "cancel").await?;
        crate::lifecycle::on_order(tx, ctx, &order, -1, Money::ZERO.checked_sub(order.paid).unwrap_or(Money::ZERO))
            .await?;
    }
    Change::new("order.cancelled", "order", id)
        .in_store(order.store_id)
        .set("by", &event)
        .record(tx, Some(ctx))
        .await?;
    detail(tx, id).await
}

fn merge_holds(holds: Vec<(SkuId, StockChange)>) -> AppResult<Vec<(SkuId, StockChange)>> {
    let quantities = holds.into_iter().map(|(sku, change)| match change {
        StockChange::Reserve(qty) => (sku, qty),
        _ => (sku, Qty::ZERO),
    });
    let merged = quanyu_domain::inventory::merge_demand(quantities).ok_or(DomainError::OutOfRange {
        field: "quantity",
        min: 1,
        max: Qty::MAX.get(),
    })?;
    Ok(merged.into_iter().map(|(sku, qty)| (sku, StockChange::Reserve(qty))).collect())
}

fn merge_changes(returns: Vec<(SkuId, StockChange)>) -> AppResult<Vec<(SkuId, StockChange)>> {
    let quantities = returns.into_iter().map(|(sku, change)| match change {
        StockChange::Move { delta, .. } => (sku, Qty::new(delta)),
        _ => (sku, Qty::ZERO),
    });
    let merged = quanyu_domain::inventory::merge_demand(quantities).ok_or(DomainError::OutOfRange {
        field: "quantity",
        min: 1,
        max: Qty::MAX.get(),
    })?;
    Ok(merged
        .into_iter()
        .map(|(sku, qty)| (sku, StockChange::Move { kind: MovementKind::Return, delta: qty.get() }))
        .collect())
}

/// A flash-sale reservation that still holds, or why not.
async fn held_reservation(
    tx: &mut dyn Tx,
    reservation: uuid::Uuid,
    at: quanyu_domain::time::Timestamp,
) -> AppResult<quanyu_store::FlashReservation> {
    let held =
        tx.get_flash_reservation(reservation).await?.ok_or(AppError::NotFound { entity: "flash_reservation" })?;
    if held.status != HoldStatus::Held || held.expires_at <= at {
        return Err(AppError::ReservationNotHeld);
    }
    Ok(held)
}

/// What a receipt and a picker read for a line: the product and its variant.
fn line_name(product: Option<&quanyu_domain::catalog::Product>, sku: &quanyu_domain::catalog::Sku) -> String {
    match product {
        Some(p) if p.name != sku.name => format!("{} {}", p.name, sku.name),
        _ => sku.name.clone(),
    }
}

/// The member an order is for: the given customer (as merges resolve it), or the one holding
/// the buyer's phone; `None` for an anonymous buyer.
pub(crate) async fn buyer(
    tx: &mut dyn Tx,
    customer_id: Option<quanyu_domain::ids::CustomerId>,
    phone: Option<&quanyu_domain::text::Phone>,
) -> AppResult<Option<quanyu_domain::customer::Customer>> {
    let id = match (customer_id, phone) {
        (Some(id), _) => id,
        (None, Some(phone)) => match tx.customer_by_identity(&quanyu_domain::customer::Identity::phone(phone)).await? {
            Some(id) => id,
            None => return Ok(None),
        },
        (None, None) => return Ok(None),
    };
    match crate::customers::resolve(tx, id).await {
        Err(AppError::NotFound { .. }) => Err(AppError::UnknownReference { field: "customer_id", entity: "customer" }),
        found => found.map(Some),
    }
}

/// The member a flash reservation made for `reserved` is ordered for: that member (as merges
/// resolve it), whom the caller's `customer_id` or `phone`, when given, must name too.
async fn reservation_member(
    tx: &mut dyn Tx,
    reserved: quanyu_domain::ids::CustomerId,
    customer_id: Option<quanyu_domain::ids::CustomerId>,
    phone: Option<&quanyu_domain::text::Phone>,
) -> AppResult<quanyu_domain::customer::Customer> {
    let member = match crate::customers::resolve(tx, reserved).await {
        Err(AppError::NotFound { .. }) => {
            return Err(AppError::UnknownReference { field: "flash_reservation_id", entity: "customer" });
        }
        found => found?,
    };
    if customer_id.is_some() || phone.is_some() {
        let named = buyer(tx, customer_id, phone).await?;
        if named.map(|c| c.id) != Some(member.id) {
            return Err(AppError::ReservationBuyerMismatch);
        }
    }
    Ok(member)
}

/// Parses the order list's `sort` parameter: `total` or `created_at` (`-` first for
/// descending), with `oldest` (the default) and `newest` kept as the names of creation order.
pub fn order_sort(sort: Option<&str>) -> AppResult<SortOrder<OrderSort>> {
    match sort.map(str::trim) {
        Some("oldest") => Ok(SortOrder { key: None, descending: false }),
        Some("newest") => Ok(SortOrder { key: None, descending: true }),
        other => crate::parse_sort(other),
    }
}
