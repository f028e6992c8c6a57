//! The POS face (`/pos`): the till a cashier (or the store manager) rings sales up on, and the
//! printable receipt of a sale.
//!
//! The till page is a shell rendered with the store; `static/pos.js` does the selling through
//! the JSON API (till lookups of items and members, quotes, orders, payments, refunds), so every
//! price comes from the server's quote and every write carries an `Idempotency-Key`. Held sales
//! (挂单) live in the till's `localStorage`, keyed by store: a parked cart holds no stock and no
//! money and is re-quoted on resume, so it needs no server state. The receipt is rendered here
//! from the same use case the API reads orders with; an open table bill's receipt page is its
//! pre-settlement bill (预结单), marked as not paid yet.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use quanyu_app::{AppError, Receipt};
use quanyu_domain::{
    Money,
    ids::{OrderId, StoreId},
    order::PaymentMethod,
    org::{Role, Scope},
};
use serde::Serialize;

use super::page::{Staff, UiError, templates};
use crate::{ApiError, AppState, Lang};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(till)).route("/receipts/{order_id}", get(receipt))
}

/// The store whose till `staff` may work: cashiers and store managers, at their own store.
/// Anyone else is told who the till is for, in both languages like every API error.
fn till_store(staff: &Staff) -> Result<StoreId, UiError> {
    let actor = &staff.ctx.actor;
    match (actor.role(), actor.assignment.scope()) {
        (Role::Cashier | Role::StoreManager, Scope::Store(store)) => Ok(store),
        _ => {
            let text = |lang| templates().text(lang, "pos-forbidden");
            let refusal = ApiError::new(StatusCode::FORBIDDEN, "forbidden", text(Lang::Zh), text(Lang::En));
            Err(UiError::Api(refusal, staff.lang))
        }
    }
}

#[derive(Serialize)]
struct StoreView {
    id: String,
    code: String,
    name: String,
}

/// The till.
async fn till(State(state): State<AppState>, staff: Staff) -> Result<impl IntoResponse, UiError> {
    let store_id = till_store(&staff)?;
    let store = state.app.get_store(&staff.ctx, store_id).await.map_err(|e| UiError::api(e, staff.lang))?;
    let store = StoreView { id: store.id.to_string(), code: store.code, name: store.name };
    staff.render("pos/till.html", minijinja::context! { store })
}

/// A receipt line: what was sold, what it cost, what came off and what went back.
#[derive(Serialize)]
struct ReceiptLine {
    line_no: i32,
    name: String,
    quantity: i64,
    sold_by_weight: bool,
    unit_price: i64,
    base_amount: i64,
    amount: i64,
    refunded_quantity: i64,
    refunded_amount: i64,
}

/// The discounts of a sale by kind (member price, promotions, coupons, points), for one line
/// each on the receipt.
#[derive(Serialize)]
struct DiscountView {
    /// `activity_price`, `member_price`, `time_limited_price`, `promotion`, `coupon`, `points`
    /// or `other`.
    kind: &'static str,
    amount: i64,
}

#[derive(Serialize)]
struct PaymentView {
    kind: String,
    method: &'static str,
    amount: i64,
    reference: Option<String>,
    at: String,
}

#[derive(Serialize)]
struct ReceiptView {
    order_id: String,
    receipt_no: String,
    status: &'static str,
    /// The table of a table order.
    table: Option<String>,
    /// An open eat-first bill: printed as its pre-settlement bill (预结单), not paid yet.
    prebill: bool,
    created_at: String,
    store: StoreView,
    store_address: String,
    store_phone: Option<String>,
    lines: Vec<ReceiptLine>,
    discounts: Vec<DiscountView>,
    subtotal: i64,
    discount: i64,
    total: i64,
    paid: i64,
    refunded: i64,
    payments: Vec<PaymentView>,
    /// Cash handed over and the change given, when the till says what it took.
    tendered: Option<i64>,
    change: Option<i64>,
    member_name: Option<String>,
    member_phone: Option<String>,
    member_tier: Option<String>,
    points_earned: i64,
    points_redeemed: i64,
    points_taken_back: i64,
}

/// The kind of discount an adjustment's source names.
fn discount_kind(source: &str) -> &'static str {
    match source.split(':').next().unwrap_or_default() {
        "activity_price" => "activity_price",
        "member_price" => "member_price",
        "time_limited_price" => "time_limited_price",
        "promotion" => "promotion",
        "coupon" => "coupon",
        "points" => "points",
        _ => "other",
    }
}

impl ReceiptView {
    fn new(receipt: Receipt) -> ReceiptView {
        let Receipt { detail, store, receipt_no, member, points } = receipt;
        let order = detail.order;
        let mut discounts: Vec<DiscountView> = Vec::new();
        for adjustment in order.lines.iter().flat_map(|l| &l.breakdown.adjustments) {
            let kind = discount_kind(&adjustment.source);
            match discounts.iter_mut().find(|d| d.kind == kind) {
                Some(d) => d.amount = d.amount.saturating_add(adjustment.amount.fen()),
                None => discounts.push(DiscountView { kind, amount: adjustment.amount.fen() }),
            }
        }
        // The cash payment the till recorded what was handed over for, and the change from it.
        let cash = detail.payments.iter().find(|p| p.kind == "payment" && p.method == PaymentMethod::Cash);
        let tendered = cash.and_then(|p| p.tendered.map(|t| (p.amount, t)));
        let change = tendered.and_then(|(amount, t)| quanyu_domain::order::cash_change(amount, t)).map(Money::fen);
        ReceiptView {
            order_id: order.id.to_string(),
            receipt_no,
            status: order.status.as_str(),
            table: order.table.as_ref().map(|t| t.as_str().to_owned()),
            prebill: quanyu_domain::table::is_open_bill(&order),
            created_at: order.created_at.to_rfc3339(),
            store: StoreView { id: store.id.to_string(), code: store.code, name: store.name },
            store_address: store.address,
            store_phone: store.phone,
            lines: order
                .lines
                .iter()
                .map(|l| ReceiptLine {
                    line_no: l.line_no,
                    name: l.sku_name.clone(),
                    quantity: l.breakdown.quantity,
                    sold_by_weight: l.breakdown.sold_by_weight,
                    unit_price: l.breakdown.unit_price.fen(),
                    base_amount: l.breakdown.base_amount.fen(),
                    amount: l.breakdown.amount.fen(),
                    refunded_quantity: l.refunded_quantity,
                    refunded_amount: l.refunded_amount.fen(),
                })
                .collect(),
            discounts,
            subtotal: order.subtotal.fen(),
            discount: order.discount.fen(),
            total: order.total.fen(),
            paid: order.paid.fen(),
            refunded: order.refunded.fen(),
            payments: detail
                .payments
                .iter()
                .map(|p| PaymentView {
                    kind: p.kind.clone(),
                    method: p.method.as_str(),
                    amount: p.amount.fen(),
                    reference: p.reference.clone(),
                    at: p.at.to_rfc3339(),
                })
                .collect(),
            tendered: change.and(tendered.map(|(_, t)| t.fen())),
            change,
            member_name: member.as_ref().and_then(|m| m.display_name.clone()),
            member_phone: member.as_ref().and_then(|m| m.masked_phone.clone()),
            member_tier: member.as_ref().and_then(|m| m.tier_name.clone()),
            points_earned: points.earned,
            points_redeemed: points.redeemed,
            points_taken_back: points.taken_back,
        }
    }
}

/// A sale's receipt, or an open table bill's pre-settlement bill, laid out for 58/80 mm paper
/// when printed.
async fn receipt(
    State(state): State<AppState>,
    staff: Staff,
    Path(order_id): Path<String>,
) -> Result<impl IntoResponse, UiError> {
    till_store(&staff)?;
    let not_found = || UiError::api(AppError::NotFound { entity: "order" }, staff.lang);
    let id = uuid::Uuid::parse_str(&order_id).map_err(|_| not_found())?;
    let receipt =
        state.app.receipt(&staff.ctx, OrderId::from_uuid(id)).await.map_err(|e| UiError::api(e, staff.lang))?;
    let view = ReceiptView::new(receipt);
    staff.render("pos/receipt.html", minijinja::context! { receipt => minijinja::Value::from_serialize(&view) })
}

#[cfg(test)]
mod tests {
    use quanyu_domain::order::{OrderStatus, PaymentMethod};

    use super::discount_kind;
    use crate::{Lang, ui::page::templates};

    /// The receipt builds these keys at render time, so the template check cannot see them.
    #[test]
    fn every_status_method_and_discount_kind_has_words() {
        let statuses = [
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
        let mut keys: Vec<String> = statuses.iter().map(|s| format!("pos-status-{}", s.as_str())).collect();
        keys.extend(PaymentMethod::ALL.iter().map(|m| format!("pos-method-{}", m.as_str())));
        keys.extend(["payment", "refund"].map(|k| format!("pos-payment-{k}")));
        for source in
            ["activity_price:1", "member_price", "time_limited_price:2", "promotion:3", "coupon:4", "points", "x"]
        {
            keys.push(format!("pos-discount-{}", discount_kind(source)));
        }
        for lang in [Lang::Zh, Lang::En] {
            for key in &keys {
                assert_ne!(templates().text(lang, key), *key, "{key} missing in {lang:?}");
            }
        }
    }
}
