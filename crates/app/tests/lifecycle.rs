//! RFM and lifecycle stages on each backend: payments move a customer's scores at once, the
//! nightly rebuild moves everyone through the stages as time passes, and audiences select on
//! stage and scores.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{App, AppError, Ctx, CustomerDraft, LineDraft, OrderDraft, PaymentDraft, RefundDraft, ScoringRules};
use quanyu_domain::ids::{CustomerId, SkuId, StoreId};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, shop};

quanyu_store::backend_tests!(customers_move_through_the_stages,);

async fn member(app: &App, ctx: &Ctx, phone: &str) -> CustomerId {
    let draft = CustomerDraft { identities: vec![("phone".into(), phone.into())], ..Default::default() };
    fresh(app.register_customer(ctx, draft, &no_reply).await.unwrap()).customer.id
}

async fn buy(
    app: &App,
    ctx: &Ctx,
    store: StoreId,
    sku: SkuId,
    buyer: CustomerId,
    key: &str,
) -> quanyu_domain::ids::OrderId {
    let draft = OrderDraft {
        store_id: Some(store),
        channel: "pos".into(),
        customer_id: Some(buyer),
        lines: vec![LineDraft { sku_id: Some(sku), quantity: 1 }],
        ..OrderDraft::default()
    };
    let order = fresh(app.create_order(&keyed(ctx, key), draft, &no_reply).await.unwrap()).order;
    let payment = PaymentDraft { method: "cash".into(), amount: order.total.fen(), reference: None };
    app.pay_order(&keyed(ctx, &format!("{key}-pay")), order.id, payment, &no_reply).await.unwrap();
    order.id
}

async fn customers_move_through_the_stages(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let system = Ctx::system();
    let (loyal, once, browser) = (
        member(&app, &cashier, "13800000001").await,
        member(&app, &cashier, "13800000002").await,
        member(&app, &cashier, "13800000003").await,
    );
    let stage = |id| {
        let app = app.clone();
        async move { app.customer_scores(&Ctx::system(), id).await.unwrap().stage }
    };
    assert_eq!(stage(browser).await, "introduction");
    let first = buy(&app, &cashier, store, sku, loyal, "a-1").await;
    assert_eq!(stage(loyal).await, "growth", "moved by the payment itself");
    buy(&app, &cashier, store, sku, loyal, "a-2").await;
    buy(&app, &cashier, store, sku, loyal, "a-3").await;
    buy(&app, &cashier, store, sku, once, "b-1").await;
    let scores = app.customer_scores(&system, loyal).await.unwrap();
    assert_eq!((scores.stage.as_str(), scores.orders, scores.spend), ("maturity", 3, 3_600));
    assert_eq!((scores.r, scores.f, scores.m), (5, 3, 1));
    app.refund_order(&keyed(&cashier, "r-1"), first, RefundDraft { lines: vec![(1, 1)], reason: None }, &no_reply)
        .await
        .unwrap();
    assert_eq!(app.customer_scores(&system, loyal).await.unwrap().spend, 2_400, "a refund takes its amount off");

    let now = Utc::now();
    assert_eq!(app.rebuild_scores(now).await.unwrap(), 3);
    assert_eq!(app.customer_scores(&system, loyal).await.unwrap().orders, 3, "the rebuild agrees with the increments");
    app.rebuild_scores(now + Duration::days(70)).await.unwrap();
    assert_eq!(
        (stage(loyal).await, stage(once).await, stage(browser).await),
        ("decline".into(), "decline".into(), "silence".into())
    );
    let entered = app.customer_scores(&system, loyal).await.unwrap().stage_entered_at;
    app.rebuild_scores(now + Duration::days(71)).await.unwrap();
    assert_eq!(
        app.customer_scores(&system, loyal).await.unwrap().stage_entered_at,
        entered,
        "still the day it declined"
    );
    app.rebuild_scores(now + Duration::days(200)).await.unwrap();
    assert_eq!(app.audience_count(&system, r#"stage = "churned""#).await.unwrap(), 3);
    assert_eq!(app.audience_count(&system, r#"stage = "churned" AND orders_365d >= 3"#).await.unwrap(), 1);

    let mut rules = ScoringRules::default();
    rules.lifecycle.silence_after_days = 30;
    let refused = app.set_scoring_rules(&system, rules).await.unwrap_err();
    assert!(matches!(refused, AppError::Invalid(_)), "silence before decline: {refused:?}");
    let forbidden = app.set_scoring_rules(&cashier, ScoringRules::default()).await.unwrap_err();
    assert!(matches!(forbidden, AppError::Forbidden));
}
