//! RFM and lifecycle stages on each backend: payments move a customer's scores at once, the
//! nightly rebuild moves everyone through the stages as time passes, and audiences select on
//! stage and scores.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{AppError, Ctx, RefundDraft, ScoringRules};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, member, no_reply, paid_order, shop, shop_on_shards};

quanyu_store::backend_tests!(
    customers_move_through_the_stages,
    customers_move_through_the_stages_on_three_audience_shards,
    the_rebuild_stores_what_each_customers_own_aggregates_score,
    a_rebuild_records_each_stage_change_once
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
    // Ordered today (or yesterday, should the test straddle midnight UTC); the browser never did.
    assert_eq!(app.audience_count(&system, "last_order_days <= 1").await.unwrap(), 2);
    assert_eq!(app.audience_count(&system, "last_order_days between 0 and 1 and orders_365d >= 3").await.unwrap(), 1);
    assert_eq!(app.audience_count(&system, "last_order_days > 1 or last_order_days >= 100000").await.unwrap(), 0);
    assert_eq!(app.audience_count(&system, "not last_order_days >= 0").await.unwrap(), 1, "never ordered");
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

/// The full rebuild (columnar, from one read of every order) stores for each live customer what
/// the per-customer path gives: their own SQL aggregates (`score_input`, what a first payment
/// and the profile use) scored by `assess`. With a partial and a whole refund, an unpaid and a
/// cancelled order, a customer merged into another, one without orders, and rebuilds on the
/// window's first instant, just after it, and later.
async fn the_rebuild_stores_what_each_customers_own_aggregates_score(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let system = Ctx::system();
    let phones = ["13800000011", "13800000012", "13800000013", "13800000014"];
    let mut customers = Vec::new();
    for phone in phones {
        customers.push(member(&app, &cashier, phone).await);
    }
    let [often, refunded, absorbed, never] = customers[..] else { unreachable!() };
    let first = paid_order(&app, &cashier, store, sku, often, 1, "o-1").await;
    paid_order(&app, &cashier, store, sku, often, 2, "o-2").await;
    let partly = paid_order(&app, &cashier, store, sku, refunded, 2, "r-1").await;
    let wholly = paid_order(&app, &cashier, store, sku, refunded, 1, "r-2").await;
    for (order, quantity, key) in [(partly.id, 1, "r-1-back"), (wholly.id, 1, "r-2-back")] {
        let refund = RefundDraft { lines: vec![(1, quantity)], reason: None };
        app.refund_order(&keyed(&cashier, key), order, refund, &no_reply).await.unwrap();
    }
    let unpaid = quanyu_app::OrderDraft {
        store_id: Some(store),
        channel: "pos".into(),
        customer_id: Some(never),
        lines: vec![quanyu_app::LineDraft { sku_id: Some(sku), quantity: 1 }],
        ..quanyu_app::OrderDraft::default()
    };
    fresh(app.create_order(&keyed(&cashier, "u-1"), unpaid.clone(), &no_reply).await.unwrap());
    let cancelled = fresh(app.create_order(&keyed(&cashier, "u-2"), unpaid, &no_reply).await.unwrap()).order;
    app.cancel_order(&cashier, cancelled.id).await.unwrap();
    paid_order(&app, &cashier, store, sku, absorbed, 3, "m-1").await;
    app.merge_customers(&system, often, absorbed, None).await.unwrap();

    let edge = first.created_at + Duration::days(365);
    let rebuilds = [Utc::now(), Utc::now() + Duration::days(100), edge, edge + Duration::microseconds(1)];
    let mut orders_of_often = Vec::new();
    for at in rebuilds {
        assert_eq!(app.rebuild_scores(at).await.unwrap(), 3, "the live customers");
        let rules = app.scoring_rules(&system).await.unwrap();
        let since = at - Duration::days(365);
        let day = |t: chrono::DateTime<Utc>| t.timestamp().div_euclid(86_400);
        let mut tx = app.database().read().await.unwrap();
        for customer in [often, refunded, never] {
            let input = tx.score_input(customer, since).await.unwrap().unwrap();
            let activity = quanyu_audience::Activity {
                registered_day: day(input.registered_at),
                last_order_day: input.last_order_at.map(day),
                orders: input.orders,
                spend: input.spend,
            };
            let expected = quanyu_audience::assess(&activity, day(at), &rules);
            let stored = tx.get_scores(customer).await.unwrap().unwrap();
            assert_eq!(
                (stored.orders, stored.spend, stored.last_order_at),
                (input.orders, input.spend, input.last_order_at),
                "{customer} at {at}"
            );
            let rfm = (i64::from(expected.rfm.r), i64::from(expected.rfm.f), i64::from(expected.rfm.m));
            assert_eq!((stored.r, stored.f, stored.m), rfm, "{customer} at {at}");
            assert_eq!(stored.stage, expected.stage.as_str(), "{customer} at {at}");
        }
        orders_of_often.push(tx.get_scores(often).await.unwrap().unwrap().orders);
    }
    assert_eq!(orders_of_often, [3, 3, 3, 2], "the merged orders count; the first leaves the window after its edge");

    // Computed tags: a wrong one is taken off and the right ones stay; none once the window is
    // empty.
    let tags = |id| {
        let app = app.clone();
        async move {
            let tags = app.customer_tags(&Ctx::system(), id).await.unwrap();
            tags.into_iter().map(|t| t.name).collect::<Vec<_>>()
        }
    };
    app.rebuild_scores(Utc::now()).await.unwrap();
    let right = tags(often).await;
    assert!(
        right.iter().any(|t| t.starts_with("偏好:")) && right.iter().any(|t| t.starts_with("消费力:")),
        "{right:?}"
    );
    assert!(tags(never).await.is_empty());
    let wrong = ["消费力:高", "消费力:中", "消费力:低"].into_iter().find(|t| !right.iter().any(|r| r == t)).unwrap();
    app.set_customer_tag(&system, often, wrong, true).await.unwrap();
    app.set_customer_tag(&system, never, wrong, true).await.unwrap();
    app.rebuild_scores(Utc::now()).await.unwrap();
    assert_eq!(tags(often).await, right);
    assert!(tags(never).await.is_empty());
    app.rebuild_scores(Utc::now() + Duration::days(400)).await.unwrap();
    assert!(tags(often).await.is_empty() && tags(refunded).await.is_empty());
}

/// Each stage a rebuild moves a customer into is recorded once, in the audit log and the outbox
/// alike; a rebuild that moves no one records nothing.
async fn a_rebuild_records_each_stage_change_once(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let (buyer, browser) = (member(&app, &cashier, "13800000021").await, member(&app, &cashier, "13800000022").await);
    paid_order(&app, &cashier, store, sku, buyer, 1, "s-1").await;
    let recorded = |id: quanyu_domain::ids::CustomerId| {
        let app = app.clone();
        async move {
            let filter = quanyu_store::AuditFilter {
                action: Some("customer.stage_changed".into()),
                entity_id: Some(id.to_string()),
                ..Default::default()
            };
            let audited = app.list_audit(&Ctx::system(), filter, None, Some(500)).await.unwrap().items;
            let mut tx = app.database().read().await.unwrap();
            let events = tx.events_after(0, 10_000).await.unwrap();
            let relayed = events.iter().filter(|e| e.kind == "customer.stage_changed" && e.entity_id == id.to_string());
            let audited: Vec<String> = audited.iter().rev().map(|e| e.changes[0].after.clone().unwrap()).collect();
            let relayed: Vec<String> =
                relayed.map(|e| e.payload["changes"][0]["after"].as_str().unwrap().into()).collect();
            assert_eq!(audited, relayed, "the outbox relays what the audit log records");
            audited
        }
    };
    let before = (recorded(buyer).await, recorded(browser).await);
    let now = Utc::now();
    for at in [now, now, now + Duration::days(70), now + Duration::days(70), now + Duration::days(71)] {
        app.rebuild_scores(at).await.unwrap();
    }
    let stage = |id| {
        let app = app.clone();
        async move { app.customer_scores(&Ctx::system(), id).await.unwrap().stage }
    };
    assert_eq!((stage(buyer).await, stage(browser).await), ("decline".into(), "silence".into()));
    let after = (recorded(buyer).await, recorded(browser).await);
    let added = |before: &[String], after: &[String]| after[before.len()..].to_vec();
    assert_eq!(added(&before.0, &after.0), ["decline"], "{after:?}");
    let browser_stages = added(&before.1, &after.1);
    let first_scored = if before.1.is_empty() { vec!["introduction".to_owned()] } else { vec![] };
    assert_eq!(browser_stages, [first_scored, vec!["silence".to_owned()]].concat(), "{after:?}");
}
