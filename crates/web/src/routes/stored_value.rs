//! Stored value (储值): top-ups at the till, a member's balance and ledger, reconciliation.
//! Orders are paid from it with the payment method `stored_value`.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, StoredValueStatement, TopUpDraft};
use quanyu_domain::ids::CustomerId;
use quanyu_store::StoredValueEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUpIn {
    /// 分 paid in.
    amount: i64,
    /// 分 given on top (充值赠送), at most the amount.
    #[serde(default)]
    bonus: i64,
    /// cash or card.
    method: String,
    /// The card terminal's reference (required for card).
    reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredValueEntryOut {
    id: Uuid,
    /// top_up, bonus, pay, refund or adjust.
    kind: String,
    /// 分, signed.
    amount: i64,
    order_id: Option<Uuid>,
    method: Option<String>,
    reference: Option<String>,
    at: DateTime<Utc>,
}

impl From<&StoredValueEntry> for StoredValueEntryOut {
    fn from(e: &StoredValueEntry) -> Self {
        StoredValueEntryOut {
            id: e.id,
            kind: e.kind.clone(),
            amount: e.amount.fen(),
            order_id: e.order_id.map(|o| o.as_uuid()),
            method: e.method.map(|m| m.as_str().to_owned()),
            reference: e.reference.clone(),
            at: e.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredValueOut {
    /// Always the sum of the ledger (分).
    balance: i64,
    items: Vec<StoredValueEntryOut>,
    next_cursor: Option<String>,
}

impl StoredValueOut {
    fn from_statement(statement: StoredValueStatement) -> StoredValueOut {
        let list = ListOut::from_listing(statement.entries, |e| StoredValueEntryOut::from(&e));
        StoredValueOut { balance: statement.balance.fen(), items: list.items, next_cursor: list.next_cursor }
    }
}

/// Tops up a member's stored value (cashiers and above). `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/customers/{id}/stored-value/top-ups", tag = "customers", request_body = TopUpIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = StoredValueOut)))]
pub async fn top_up(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<TopUpIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft =
        TopUpDraft { amount: input.amount, bonus: input.bonus, method: input.method, reference: input.reference };
    let reply = json_reply(|s: &StoredValueStatement| StoredValueOut::from_statement(s.clone()));
    Ok(created(state.app.top_up(&ctx, CustomerId::from_uuid(id), draft, &reply).await?, &reply))
}

/// A member's stored-value balance and ledger, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/stored-value", tag = "customers", params(PageQuery),
    responses((status = 200, body = StoredValueOut)))]
pub async fn statement(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let statement = state.app.stored_value(&ctx, CustomerId::from_uuid(id), page.cursor.as_deref(), page.limit).await?;
    Ok(ok(StoredValueOut::from_statement(statement)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredValueMismatchOut {
    customer_id: Uuid,
    balance: i64,
    ledger: i64,
}

/// Members whose stored-value balance differs from the sum of its ledger; empty when sound.
#[utoipa::path(get, path = "/api/v1/stored-value/reconcile", tag = "customers",
    responses((status = 200, body = Vec<StoredValueMismatchOut>)))]
pub async fn reconcile(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    let mismatches = state.app.reconcile_stored_value(&ctx).await?;
    Ok(ok(mismatches
        .into_iter()
        .map(|(customer, balance, ledger)| StoredValueMismatchOut {
            customer_id: customer.as_uuid(),
            balance: balance.fen(),
            ledger: ledger.fen(),
        })
        .collect::<Vec<_>>()))
}
