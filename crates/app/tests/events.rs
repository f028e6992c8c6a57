//! Customer events on each backend: domain changes (sign-up, orders, coupons) reach the
//! customer's timeline through the outbox relay once, however often it runs; events ingested
//! from an SDK before the visitor identified themselves join the customer on identify.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{Ctx, CustomerDraft, LineDraft, OrderDraft, PaymentDraft};
use quanyu_domain::events::{EventMessage, EventType};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, shop};

quanyu_store::backend_tests!(domain_changes_reach_the_timeline_once, anonymous_events_join_the_customer_on_identify,);

async fn domain_changes_reach_the_timeline_once(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let draft = CustomerDraft { identities: vec![("phone".into(), "13800138000".into())], ..Default::default() };
    let member = fresh(app.register_customer(&cashier, draft, &no_reply).await.unwrap()).customer.id;
    let order = OrderDraft {
        store_id: Some(store),
        channel: "pos".into(),
        customer_id: Some(member),
        lines: vec![LineDraft { sku_id: Some(sku), quantity: 1 }],
        ..OrderDraft::default()
    };
    let order = fresh(app.create_order(&keyed(&cashier, "o-1"), order, &no_reply).await.unwrap()).order;
    let payment = PaymentDraft { method: "cash".into(), amount: order.total.fen(), reference: None, tendered: None };
    app.pay_order(&keyed(&cashier, "pay"), order.id, payment, &no_reply).await.unwrap();

    assert_eq!(app.relay_outbox(Utc::now()).await.unwrap(), 0, "changes this fresh may still be committing");
    let later = Utc::now() + Duration::seconds(5);
    assert!(app.relay_outbox(later).await.unwrap() > 0);
    assert_eq!(app.relay_outbox(later).await.unwrap(), 0, "nothing twice");
    let timeline = app.customer_events(&Ctx::system(), member, None, None).await.unwrap().items;
    let names: Vec<_> = timeline.iter().filter_map(|e| e.message.name.as_deref()).collect();
    assert_eq!(
        names,
        ["Order Paid", "Lifecycle Stage Changed", "Order Placed", "Signed Up"],
        "a first order starts growth"
    );
    assert!(timeline.iter().all(|e| e.customer_id == Some(member)));
}

async fn anonymous_events_join_the_customer_on_identify(db: Arc<dyn Database>) {
    let (app, cashier, _, _) = shop(db).await;
    let source = fresh(app.create_event_source(&Ctx::system(), "小程序", &no_reply).await.unwrap());
    let source = app.event_source(&source.write_key).await.unwrap();
    let draft = CustomerDraft { identities: vec![("phone".into(), "13800138000".into())], ..Default::default() };
    let member = fresh(app.register_customer(&cashier, draft, &no_reply).await.unwrap()).customer.id;
    let message = |kind, id: &str, user: Option<String>| EventMessage {
        kind,
        message_id: id.into(),
        name: (kind == EventType::Track).then(|| "Product Viewed".to_owned()),
        user_id: user,
        anonymous_id: Some("anon-7".into()),
        previous_id: None,
        timestamp: None,
        properties: "{}".into(),
        traits: "{}".into(),
        context: "{}".into(),
    };
    let first = app.ingest(&source, vec![message(EventType::Track, "m-1", None)]).await.unwrap();
    assert_eq!((first.accepted, first.duplicates), (1, 0));
    assert!(app.customer_events(&Ctx::system(), member, None, None).await.unwrap().items.is_empty());
    let batch = vec![
        message(EventType::Identify, "m-2", Some(member.to_string())),
        message(EventType::Track, "m-3", None),
        message(EventType::Track, "m-1", None),
    ];
    let second = app.ingest(&source, batch).await.unwrap();
    assert_eq!((second.accepted, second.duplicates), (2, 1), "m-1 was stored before");
    let timeline = app.customer_events(&Ctx::system(), member, None, None).await.unwrap().items;
    let ids: Vec<_> = timeline.iter().map(|e| e.message.message_id.as_str()).collect();
    assert_eq!(ids, ["m-3", "m-2", "m-1"], "the event from before the identify is theirs too");
}
