//! Customer events on each backend: domain changes (sign-up, orders, coupons) reach the
//! customer's timeline through the outbox relay once, however often it runs; events ingested
//! from an SDK before the visitor identified themselves join the customer on identify.

use std::{collections::HashSet, sync::Arc};

use chrono::{Duration, Utc};
use quanyu_app::{App, Ctx, CustomerDraft, Ingested, LineDraft, OrderDraft, PaymentDraft};
use quanyu_domain::events::{EventMessage, EventType};
use quanyu_domain::ids::CustomerId;
use quanyu_store::{Database, EventSource};

mod support;

use support::{fresh, keyed, no_reply, shop};

quanyu_store::backend_tests!(
    domain_changes_reach_the_timeline_once,
    anonymous_events_join_the_customer_on_identify,
    overlapping_batches_at_once_store_each_message_once,
    identifies_racing_tracks_of_the_same_visitor_join_them_all,
);

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

    // Later tracks of the visitor, with no user, are theirs as they arrive.
    let third = app.ingest(&source, vec![message(EventType::Track, "m-4", None)]).await.unwrap();
    assert_eq!((third.accepted, third.duplicates), (1, 0));
    let timeline = app.customer_events(&Ctx::system(), member, None, None).await.unwrap().items;
    assert_eq!(timeline.first().map(|e| e.message.message_id.as_str()), Some("m-4"));
    assert_eq!(timeline.len(), 4);
}

/// A batch the database undoes to break a deadlock (`40P01`) is written again, whole: the
/// identify's stitch and every event, each stored once, and the sender told of each message
/// once. PostgreSQL only (SQLite has one writer). Taking every lock in one order keeps real
/// deadlocks out of the tests, so a trigger raises the error on the batch's first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_undone_by_a_deadlock_is_written_again() {
    let Some(db) = quanyu_store::testing::postgres().await else {
        eprintln!("skipped: {} is not set", quanyu_store::testing::POSTGRES_VAR);
        return;
    };
    let (app, cashier, _, _) = shop(db.database()).await;
    let source = source(&app).await;
    let draft = CustomerDraft { identities: vec![("phone".into(), "13800138009".into())], ..Default::default() };
    let member = fresh(app.register_customer(&cashier, draft, &no_reply).await.unwrap()).customer.id;
    db.execute(
        "CREATE SEQUENCE insert_attempts; \
         CREATE FUNCTION deadlock_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF nextval('insert_attempts') = 1 THEN \
             RAISE EXCEPTION 'a deadlock, on purpose' USING ERRCODE = '40P01'; \
           END IF; \
           RETURN NULL; \
         END $$; \
         CREATE TRIGGER deadlock_once BEFORE INSERT ON customer_events \
           FOR EACH STATEMENT EXECUTE FUNCTION deadlock_once();",
    )
    .await;
    let batch = || {
        vec![
            visit(EventType::Track, "d-1", "anon-9", None),
            visit(EventType::Identify, "d-2", "anon-9", Some(member)),
            visit(EventType::Track, "d-3", "anon-9", None),
        ]
    };
    let first = app.ingest(&source, batch()).await.expect("written on the second attempt");
    assert_eq!((first.accepted, first.duplicates), (3, 0));
    let timeline = app.customer_events(&Ctx::system(), member, None, None).await.unwrap().items;
    let ids: Vec<_> = timeline.iter().map(|e| e.message.message_id.as_str()).collect();
    assert_eq!(ids, ["d-3", "d-2", "d-1"], "every event once, all the member's");
    let again = app.ingest(&source, batch()).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 3));
}

/// A track (or an identify, with a user) from an anonymous visitor.
fn visit(kind: EventType, id: &str, anonymous_id: &str, user: Option<CustomerId>) -> EventMessage {
    EventMessage {
        kind,
        message_id: id.into(),
        name: (kind == EventType::Track).then(|| "Product Viewed".to_owned()),
        user_id: user.map(|u| u.to_string()),
        anonymous_id: Some(anonymous_id.into()),
        previous_id: None,
        timestamp: None,
        properties: "{}".into(),
        traits: "{}".into(),
        context: "{}".into(),
    }
}

async fn source(app: &App) -> EventSource {
    let created = fresh(app.create_event_source(&Ctx::system(), "app", &no_reply).await.unwrap());
    app.event_source(&created.write_key).await.unwrap()
}

/// Sends the lanes at once, each from its own task that sends its batches one after another;
/// returns what became of each batch, lane by lane.
async fn ingest_at_once(app: &App, source: &EventSource, lanes: Vec<Vec<Vec<EventMessage>>>) -> Vec<Ingested> {
    let sends: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let (app, source) = (app.clone(), source.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for batch in lane {
                    outcomes.push(app.ingest(&source, batch).await.unwrap());
                }
                outcomes
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for send in sends {
        outcomes.extend(send.await.unwrap());
    }
    outcomes
}

/// Batches sent side by side that share messageIds, in opposite orders (on PostgreSQL their
/// commits overlap): each message is stored once, and every batch is told which of its
/// messages were.
async fn overlapping_batches_at_once_store_each_message_once(db: Arc<dyn Database>) {
    let (app, _, _, _) = shop(db).await;
    let source = source(&app).await;
    let lanes: Vec<Vec<Vec<EventMessage>>> = (0..8)
        .map(|lane| {
            (0..6)
                .map(|round| {
                    let mut ids: Vec<usize> = (0..150).map(|k| (round * 97 + k * 7) % 900).collect();
                    if lane % 2 == 1 {
                        ids.reverse();
                    }
                    let visitor = |i: usize| format!("a-{}", i % 40);
                    ids.iter().map(|i| visit(EventType::Track, &format!("m-{i}"), &visitor(*i), None)).collect()
                })
                .collect()
        })
        .collect();
    let batches: Vec<&Vec<EventMessage>> = lanes.iter().flatten().collect();
    let distinct: HashSet<&str> = batches.iter().copied().flatten().map(|m| m.message_id.as_str()).collect();
    let every: Vec<EventMessage> = distinct.iter().map(|id| visit(EventType::Track, id, "a-0", None)).collect();
    let outcomes = ingest_at_once(&app, &source, lanes.clone()).await;
    for (batch, outcome) in batches.iter().zip(&outcomes) {
        assert_eq!(outcome.accepted + outcome.duplicates, batch.len() as u64);
    }
    let accepted: u64 = outcomes.iter().map(|o| o.accepted).sum();
    assert_eq!(accepted, distinct.len() as u64, "each message stored by exactly one batch");
    let again = app.ingest(&source, every).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, distinct.len() as u64), "all of them are stored");
}

/// Identifies sent at the same time as tracks of the same visitors: however the commits fall,
/// every track ends on the timeline of the customer its visitor became.
async fn identifies_racing_tracks_of_the_same_visitor_join_them_all(db: Arc<dyn Database>) {
    let (app, cashier, _, _) = shop(db).await;
    let source = source(&app).await;
    let mut members = Vec::new();
    for n in 0..6 {
        let draft =
            CustomerDraft { identities: vec![("phone".into(), format!("1380013800{n}"))], ..Default::default() };
        members.push(fresh(app.register_customer(&cashier, draft, &no_reply).await.unwrap()).customer.id);
    }
    // Two lanes per visitor, side by side, each sending its batches one after another: five
    // rounds of tracks, and a round of tracks, the identify and another round.
    let tracks = |n: usize, round: usize| -> Vec<EventMessage> {
        (0..20).map(|k| visit(EventType::Track, &format!("t-{n}-{round}-{k}"), &format!("visitor-{n}"), None)).collect()
    };
    let lanes: Vec<Vec<Vec<EventMessage>>> = members
        .iter()
        .enumerate()
        .flat_map(|(n, member)| {
            let identify = visit(EventType::Identify, &format!("i-{n}"), &format!("visitor-{n}"), Some(*member));
            [(0..5).map(|round| tracks(n, round)).collect(), vec![tracks(n, 5), vec![identify], tracks(n, 6)]]
        })
        .collect();
    ingest_at_once(&app, &source, lanes).await;
    for (n, member) in members.iter().enumerate() {
        let mut timeline = Vec::new();
        let mut cursor = None;
        loop {
            let page = app.customer_events(&Ctx::system(), *member, cursor.as_deref(), Some(100)).await.unwrap();
            timeline.extend(page.items.iter().map(|e| e.message.message_id.clone()));
            match page.next_cursor {
                Some(next) => cursor = Some(next.0),
                None => break,
            }
        }
        assert_eq!(timeline.len(), 141, "visitor {n}: seven rounds of 20 tracks and the identify");
    }
}
