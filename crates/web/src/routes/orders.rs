//! Orders: create, pay, fulfil, cancel, refund, and read with their timeline.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, LineDraft, OrderDetail, OrderDraft, PaymentDraft, RefundDraft, parse_step};
use quanyu_domain::{
    geo::Datum,
    ids::{OrderId, RegionId, SkuId, StoreId},
    order::{DeliveryLocation, Order, OrderLine},
};
use quanyu_store::{OrderFilter, OrderStep, PaymentRecord, PlaceFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, StepOut, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentOut {
    /// The rule that gave it: member_price…
    source: String,
    /// 分; negative for a discount.
    amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineOut {
    line_no: i32,
    sku_id: Uuid,
    sku_name: String,
    /// Units, or grams when sold by weight.
    quantity: i64,
    /// Per unit, or per kg when sold by weight (分).
    unit_price: i64,
    sold_by_weight: bool,
    base_amount: i64,
    adjustments: Vec<AdjustmentOut>,
    /// What is charged for the line: base_amount + Σ adjustments.
    amount: i64,
    refunded_quantity: i64,
    refunded_amount: i64,
}

impl From<&OrderLine> for OrderLineOut {
    fn from(l: &OrderLine) -> Self {
        let b = &l.breakdown;
        OrderLineOut {
            line_no: l.line_no,
            sku_id: l.sku_id.as_uuid(),
            sku_name: l.sku_name.clone(),
            quantity: b.quantity,
            unit_price: b.unit_price.fen(),
            sold_by_weight: b.sold_by_weight,
            base_amount: b.base_amount.fen(),
            adjustments: b
                .adjustments
                .iter()
                .map(|a| AdjustmentOut { source: a.source.clone(), amount: a.amount.fen() })
                .collect(),
            amount: b.amount.fen(),
            refunded_quantity: l.refunded_quantity,
            refunded_amount: l.refunded_amount.fen(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOut {
    id: Uuid,
    /// payment or refund.
    kind: String,
    /// cash or card.
    method: String,
    amount: i64,
    reference: Option<String>,
    /// Cash handed over, when the till recorded it, and the change given.
    #[serde(skip_serializing_if = "Option::is_none")]
    tendered: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<i64>,
    at: DateTime<Utc>,
}

impl From<&PaymentRecord> for PaymentOut {
    fn from(p: &PaymentRecord) -> Self {
        PaymentOut {
            id: p.id.as_uuid(),
            kind: p.kind.clone(),
            method: p.method.as_str().to_owned(),
            amount: p.amount.fen(),
            reference: p.reference.clone(),
            tendered: p.tendered.map(quanyu_domain::Money::fen),
            change: p.tendered.and_then(|t| quanyu_domain::order::cash_change(p.amount, t)).map(|c| c.fen()),
            at: p.at,
        }
    }
}

/// Where a delivery goes, as the order keeps it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryLocationOut {
    /// Latitude in GCJ-02 (what AMap, Tencent and WeChat maps show), whatever datum was sent.
    lat: f64,
    /// Longitude in GCJ-02.
    lng: f64,
    /// The datum of `lat` and `lng`: always `gcj02`.
    datum: String,
    /// The datum the point was sent in (the order's `coord`): `gcj02`, or `wgs84` from a GPS,
    /// converted to GCJ-02 when taken.
    sent_datum: String,
    /// Great-circle metres from the store serving the order, rounded.
    distance_m: u32,
}

impl From<&DeliveryLocation> for DeliveryLocationOut {
    fn from(l: &DeliveryLocation) -> Self {
        DeliveryLocationOut {
            lat: l.point.lat(),
            lng: l.point.lng(),
            datum: Datum::Gcj02.as_str().to_owned(),
            sent_datum: l.sent_in.as_str().to_owned(),
            distance_m: l.distance_m,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    id: Uuid,
    store_id: Uuid,
    /// delivery, pickup, pos, scan_to_buy, table_pay_first, table_eat_first or appointment.
    channel: String,
    /// created, paid, picking, ready, dispatched, completed, cancelled, partially_refunded, refunded.
    status: String,
    pickup_code: Option<String>,
    customer_phone: Option<String>,
    customer_id: Option<Uuid>,
    delivery_address: Option<String>,
    /// A delivery's point, when one was given, with its distance from the serving store.
    delivery_location: Option<DeliveryLocationOut>,
    note: Option<String>,
    /// The table of a table order (桌号): always on an eat-first bill.
    table: Option<String>,
    lines: Vec<OrderLineOut>,
    /// Σ base amounts (分).
    subtotal: i64,
    /// Σ adjustments (分, zero or negative).
    discount: i64,
    /// Deliveries: ¥5, free from ¥39 of goods or for a tier with free delivery (分).
    delivery_fee: i64,
    total: i64,
    paid: i64,
    refunded: i64,
    /// Until when an unpaid order holds its stock.
    hold_expires_at: Option<DateTime<Utc>>,
    /// By when the goods were promised (ready for pickup, or delivered).
    promised_at: Option<DateTime<Utc>>,
    fulfilled_at: Option<DateTime<Utc>>,
    /// Whether the promise was kept, once fulfilled.
    on_time: Option<bool>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Present on single-order reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<StepOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payments: Option<Vec<PaymentOut>>,
}

impl OrderOut {
    pub fn new(o: &Order, steps: Option<&[OrderStep]>, payments: Option<&[PaymentRecord]>) -> OrderOut {
        OrderOut {
            id: o.id.as_uuid(),
            store_id: o.store_id.as_uuid(),
            channel: o.channel.as_str().to_owned(),
            status: o.status.as_str().to_owned(),
            pickup_code: o.pickup_code.clone(),
            customer_phone: o.customer_phone.as_ref().map(|p| p.as_str().to_owned()),
            customer_id: o.customer_id.map(|c| c.as_uuid()),
            delivery_address: o.delivery_address.clone(),
            delivery_location: o.delivery_location.as_ref().map(DeliveryLocationOut::from),
            note: o.note.clone(),
            table: o.table.as_ref().map(|t| t.as_str().to_owned()),
            lines: o.lines.iter().map(OrderLineOut::from).collect(),
            subtotal: o.subtotal.fen(),
            discount: o.discount.fen(),
            delivery_fee: o.delivery_fee.fen(),
            total: o.total.fen(),
            paid: o.paid.fen(),
            refunded: o.refunded.fen(),
            hold_expires_at: o.hold_expires_at,
            promised_at: o.promised_at,
            fulfilled_at: o.fulfilled_at,
            on_time: o.on_time(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            timeline: steps.map(|s| s.iter().map(StepOut::from).collect()),
            payments: payments.map(|p| p.iter().map(PaymentOut::from).collect()),
        }
    }

    pub fn detail(d: &OrderDetail) -> OrderOut {
        OrderOut::new(&d.order, Some(&d.steps), Some(&d.payments))
    }

    /// An order without its timeline and payments, as lists show it.
    pub(crate) fn summary(o: &Order) -> OrderOut {
        OrderOut::new(o, None, None)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineIn {
    sku_id: Uuid,
    /// Units, or grams for goods sold by weight.
    quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    /// Omit for a delivery with `delivery_location`: the order goes to the nearest open store
    /// that delivers there and has every line in stock.
    store_id: Option<Uuid>,
    channel: String,
    /// Required unless the order takes a flash-sale reservation.
    #[serde(default)]
    lines: Vec<OrderLineIn>,
    /// A held flash-sale reservation to turn into this order (then no `lines`): one line at the
    /// flash price, holding stock for what remains of the reservation's time. The order is the
    /// member's (or, after a merge, the surviving profile's); what one person orders of a sale
    /// under all their ids stays within its per-customer limit (`flash_sale_limit_reached`).
    flash_reservation_id: Option<Uuid>,
    /// The buyer is a member: member prices apply.
    #[serde(default)]
    member: bool,
    /// The member who buys (earns points on payment). With only `customer_phone`, the member
    /// holding that phone, if any.
    customer_id: Option<Uuid>,
    customer_phone: Option<String>,
    /// Required for delivery.
    delivery_address: Option<String>,
    /// Where to deliver (GCJ-02 unless `coord` is `wgs84`). With `store_id`, it must lie within
    /// that store's delivery radius (`outside_delivery_radius`). The order keeps it in GCJ-02,
    /// with the datum sent and the distance from its store (`delivery_location` of the order).
    delivery_location: Option<super::org::LocationIn>,
    coord: Option<String>,
    /// By when the goods are promised. Required for an appointment (the booked time, in the
    /// future; an unpaid booking holds its stock until then). In the future, within the booking
    /// horizon (30 days unless configured; `beyond_booking_horizon`) and within the store's
    /// opening hours on its clock: a time when it is closed is refused (`outside_opening_hours`,
    /// naming its hours and when it next opens, also as the error's `next_open_at`). Default:
    /// an hour (delivery) or half an hour (pickup) of the store's open time — from now when it
    /// is open and stays open that long, else from its next opening (at 21:45, a pickup from a
    /// store open 08:00-22:00 is promised for 08:30 the next morning). Refused for the in-store
    /// channels.
    promised_at: Option<DateTime<Utc>>,
    note: Option<String>,
    /// The table (桌号, e.g. "A3"; at most 16 characters on one line, Latin letters kept in
    /// upper case): required for `table_eat_first`, optional for `table_pay_first`, refused
    /// (`not_for_channel`) for other channels. A table with an open eat-first bill takes no
    /// second one (`table_occupied`, naming the open bill's `order_id`).
    table: Option<String>,
    /// Coupons from the buyer's wallet (`customer_id` required): each must apply, or the order
    /// is refused with the reason; they are used by this order.
    #[serde(default)]
    coupon_ids: Vec<Uuid>,
    /// Points to spend (`customer_id` required): whole blocks of 100 to the yuan, at most half
    /// the goods.
    points: Option<i64>,
    /// The invite code of the share link the order came through: a distributor earns
    /// commission on it, a guide gets the online sale.
    promoter_code: Option<String>,
    /// Opens (no `group_id`) or joins a group buy: one unit at the group price (then no
    /// `lines`; `customer_id` required).
    group_buy: Option<GroupJoinIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLinesIn {
    /// The items to add (1 to 200, counting the bill's lines).
    lines: Vec<OrderLineIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupJoinIn {
    offer_id: Uuid,
    group_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// cash or card.
    method: String,
    /// What is due, in 分.
    amount: i64,
    /// The card terminal's reference (required for card).
    reference: Option<String>,
    /// Cash only: what the customer handed over in 分, at least `amount`; the order's payments
    /// then show it and the change.
    tendered: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundLineIn {
    line_no: i32,
    quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundIn {
    lines: Vec<RefundLineIn>,
    reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepIn {
    /// start_picking, mark_ready, dispatch or complete.
    step: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    store_id: Option<Uuid>,
    region_id: Option<Uuid>,
    status: Option<String>,
    channel: Option<String>,
    /// Orders created at or after this moment.
    created_from: Option<DateTime<Utc>>,
    /// Orders created before this moment.
    created_before: Option<DateTime<Utc>>,
    /// One member's orders.
    customer_id: Option<Uuid>,
    /// One table's orders ("a3" finds table A3).
    table: Option<String>,
    /// `created_at` (the default, also called `oldest`) or `total`; `-` first for descending
    /// (`newest` is `-created_at`).
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Creates an order, pricing each line and holding its stock. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = OrderIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = OrderOut),
              (status = 409, description = "insufficient_stock, sku_unavailable, table_occupied"),
              (status = 422, description = "beyond_booking_horizon, outside_opening_hours, not_for_channel")))]
pub async fn create_order(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<OrderIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let datum = super::org::parse_datum(input.coord.as_deref())?;
    let draft = OrderDraft {
        store_id: input.store_id.map(StoreId::from_uuid),
        delivery_location: input.delivery_location.map(|l| (l.lat, l.lng, datum)),
        promised_at: input.promised_at,
        channel: input.channel,
        lines: input
            .lines
            .into_iter()
            .map(|l| LineDraft { sku_id: Some(SkuId::from_uuid(l.sku_id)), quantity: l.quantity })
            .collect(),
        member: input.member,
        customer_id: input.customer_id.map(quanyu_domain::ids::CustomerId::from_uuid),
        customer_phone: input.customer_phone,
        delivery_address: input.delivery_address,
        note: input.note,
        table: input.table,
        flash_reservation: input.flash_reservation_id,
        coupon_ids: input.coupon_ids.into_iter().map(quanyu_domain::ids::CouponId::from_uuid).collect(),
        points: input.points,
        promoter_code: input.promoter_code,
        group_buy: input.group_buy.map(|g| quanyu_app::GroupJoin { offer_id: g.offer_id, group_id: g.group_id }),
    };
    let reply = json_reply(OrderOut::detail);
    Ok(created(state.app.create_order(&ctx, draft, &reply).await?, &reply))
}

/// Adds items to an open eat-first table bill (加菜): their stock is held and the bill is priced
/// again as one cart. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/orders/{id}/lines", tag = "orders", request_body = OrderLinesIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = OrderOut),
              (status = 409, description = "illegal_transition (not an open eat-first bill), insufficient_stock")))]
pub async fn add_order_lines(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<OrderLinesIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let lines = create
        .body
        .lines
        .into_iter()
        .map(|l| LineDraft { sku_id: Some(SkuId::from_uuid(l.sku_id)), quantity: l.quantity })
        .collect();
    let reply = json_reply(OrderOut::detail);
    Ok(created(state.app.add_order_lines(&ctx, OrderId::from_uuid(id), lines, &reply).await?, &reply))
}

/// Orders within the caller's scope, oldest first unless `sort` says otherwise.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery), responses((status = 200, body = ListOut<OrderOut>)))]
pub async fn list_orders(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> Result<Response, ApiError> {
    let filter = OrderFilter {
        place: PlaceFilter {
            region_id: query.region_id.map(RegionId::from_uuid),
            store_id: query.store_id.map(StoreId::from_uuid),
        },
        status: query.status,
        channel: query.channel,
        created_from: query.created_from,
        created_before: query.created_before,
        customer_id: query.customer_id.map(quanyu_domain::ids::CustomerId::from_uuid),
        table: query.table,
        sort: quanyu_app::order_sort(query.sort.as_deref())?.into(),
    };
    let listing = state.app.list_orders(&ctx, filter, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |o| OrderOut::new(&o, None, None))))
}

/// One order with its timeline and payments.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", responses((status = 200, body = OrderOut)))]
pub async fn get_order(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(OrderOut::detail(&state.app.get_order(&ctx, OrderId::from_uuid(id)).await?)))
}

/// Takes payment of what is due (cash, or card with the terminal's reference). `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/orders/{id}/payments", tag = "orders", request_body = PaymentIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = OrderOut), (status = 422, description = "amount_mismatch, tendered_short, tendered_too_much")))]
pub async fn pay_order(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<PaymentIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = PaymentDraft {
        method: input.method,
        amount: input.amount,
        reference: input.reference,
        tendered: input.tendered,
    };
    let reply = json_reply(OrderOut::detail);
    Ok(created(state.app.pay_order(&ctx, OrderId::from_uuid(id), draft, &reply).await?, &reply))
}

/// Moves an order one fulfilment step on.
#[utoipa::path(post, path = "/api/v1/orders/{id}/steps", tag = "orders", request_body = StepIn,
    responses((status = 200, body = OrderOut), (status = 409, description = "illegal_transition")))]
pub async fn advance_order(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<StepIn>,
) -> Result<Response, ApiError> {
    let event = parse_step(input.step.trim())?;
    Ok(ok(OrderOut::detail(&state.app.advance_order(&ctx, OrderId::from_uuid(id), event).await?)))
}

/// Cancels an order that has not been handed over, releasing its stock and money.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", responses((status = 200, body = OrderOut)))]
pub async fn cancel_order(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(OrderOut::detail(&state.app.cancel_order(&ctx, OrderId::from_uuid(id)).await?)))
}

/// Refunds some units of some lines of a completed order: what was paid for those units, never
/// the delivery fee (the delivery was made; an order not yet handed over is cancelled instead,
/// which gives back everything). `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/orders/{id}/refunds", tag = "orders", request_body = RefundIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = OrderOut)))]
pub async fn refund_order(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<RefundIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft =
        RefundDraft { lines: input.lines.iter().map(|l| (l.line_no, l.quantity)).collect(), reason: input.reason };
    let reply = json_reply(OrderOut::detail);
    Ok(created(state.app.refund_order(&ctx, OrderId::from_uuid(id), draft, &reply).await?, &reply))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickItemOut {
    sku_id: Uuid,
    sku_name: String,
    /// Units, or grams for goods sold by weight.
    quantity: i64,
    /// The orders that need it, most urgent first.
    order_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickingListOut {
    /// Paid deliveries and pickups and those being picked, earliest promise first.
    orders: Vec<OrderOut>,
    /// What to fetch for all of them, SKU by SKU.
    items: Vec<PickItemOut>,
}

/// A store's picking list (拣货单): the orders waiting to be picked and what to fetch for them.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/picking-list", tag = "orders",
    responses((status = 200, body = PickingListOut)))]
pub async fn picking_list(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let list = state.app.picking_list(&ctx, StoreId::from_uuid(store_id)).await?;
    Ok(ok(PickingListOut {
        orders: list.orders.iter().map(|o| OrderOut::new(o, None, None)).collect(),
        items: list
            .items
            .iter()
            .map(|i| PickItemOut {
                sku_id: i.sku_id.as_uuid(),
                sku_name: i.sku_name.clone(),
                quantity: i.quantity,
                order_ids: i.orders.iter().map(|o| o.as_uuid()).collect(),
            })
            .collect(),
    }))
}
