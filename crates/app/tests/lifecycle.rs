//! RFM and lifecycle stages on each backend: payments move a customer's scores at once, the
//! nightly rebuild moves everyone through the stages as time passes, and audiences select on
//! stage and scores.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{AppError, Ctx, RefundDraft, ScoringRules};
use quanyu_store::Database;

mod support;

use support::{keyed, member, no_reply, paid_order, shop_on_shards};

quanyu_store::backend_tests!(
    customers_move_through_the_stages,
    customers_move_through_the_stages_on_three_audience_shards
);

async fn customers_move_through_the_stages(db: Arc<dyn Database>) {
    customers_move_through_the_stages_on(db, 1).await;
}

/// The same with the audience index cut into three shards (its members between them).
async fn customers_move_through_the_stages_on_three_audience_shards(db: Arc<dyn Database>) {
    customers_move_through_the_stages_on(db, 3).await;
}

async fn customers_move_through_the_stages_on(db: Arc<dyn Database>, audience_shards: usize) {
    let (app, cashier, store, sku) = shop_on_shards(db, audience_shards).await;
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
    let first = paid_order(&app, &cashier, store, sku, loyal, 1, "a-1").await.id;
    assert_eq!(stage(loyal).await, "growth", "moved by the payment itself");
    paid_order(&app, &cashier, store, sku, loyal, 1, "a-2").await;
    paid_order(&app, &cashier, store, sku, loyal, 1, "a-3").await;
    paid_order(&app, &cashier, store, sku, once, 1, "b-1").await;
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
    let tags = |id| {
        let app = app.clone();
        async move {
            let tags = app.customer_tags(&Ctx::system(), id).await.unwrap();
            tags.into_iter().map(|t| t.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(tags(loyal).await, ["偏好:乳品", "消费力:低"], "computed by the rebuild");
    assert!(tags(browser).await.is_empty(), "nothing bought, nothing computed");
    assert_eq!(app.audience_count(&system, r#"tag("偏好:乳品")"#).await.unwrap(), 2);
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
