//! Group buys on each backend: the last seat of a group goes to one of the buyers racing for it;
//! a group forms when every seat is paid and only then are its orders fulfilled; a group short
//! of members when its window ends fails and its paid orders are refunded.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{App, AppError, Ctx, CustomerDraft, GroupJoin, GroupOfferDraft, OrderDraft, PaymentDraft};
use quanyu_domain::{
    ids::{CustomerId, SkuId, StoreId},
    order::{Order, OrderEvent, OrderStatus},
};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, shop};

quanyu_store::backend_tests!(the_last_seat_goes_to_one_buyer, groups_form_when_paid_and_fail_when_short,);

async fn offer(app: &App, store: StoreId, sku: SkuId, size: i64) -> uuid::Uuid {
    let draft = GroupOfferDraft {
        name: format!("{size}人团"),
        store_id: Some(store),
        sku_id: Some(sku),
        group_price: 900,
        group_size: size,
        window_minutes: 60,
        starts_at: Utc::now() - Duration::hours(1),
        ends_at: Utc::now() + Duration::days(1),
    };
    fresh(app.create_group_offer(&Ctx::system(), draft, &no_reply).await.unwrap()).id
}

async fn members(app: &App, ctx: &Ctx, count: usize) -> Vec<CustomerId> {
    let mut ids = Vec::new();
    for n in 0..count {
        let draft =
            CustomerDraft { identities: vec![("phone".into(), format!("1380000{n:04}"))], ..Default::default() };
        ids.push(fresh(app.register_customer(ctx, draft, &no_reply).await.unwrap()).customer.id);
    }
    ids
}

fn join(store: StoreId, buyer: CustomerId, offer_id: uuid::Uuid, group_id: Option<uuid::Uuid>) -> OrderDraft {
    OrderDraft {
        store_id: Some(store),
        channel: "pickup".into(),
        customer_id: Some(buyer),
        group_buy: Some(GroupJoin { offer_id, group_id }),
        ..OrderDraft::default()
    }
}

async fn place(app: &App, ctx: &Ctx, draft: OrderDraft, key: &str) -> Result<Order, AppError> {
    app.create_order(&keyed(ctx, key), draft, &no_reply).await.map(|w| fresh(w).order)
}

async fn pay(app: &App, ctx: &Ctx, order: &Order, key: &str) {
    let payment = PaymentDraft { method: "cash".into(), amount: order.total.fen(), reference: None, tendered: None };
    app.pay_order(&keyed(ctx, key), order.id, payment, &no_reply).await.unwrap();
}

async fn group_of(app: &App, order: &Order) -> uuid::Uuid {
    let mut tx = app.database().read().await.unwrap();
    tx.group_of_order(order.id).await.unwrap().unwrap().id
}

async fn the_last_seat_goes_to_one_buyer(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let offer_id = offer(&app, store, sku, 3).await;
    let buyers = members(&app, &cashier, 6).await;
    let leader = place(&app, &cashier, join(store, buyers[0], offer_id, None), "o-0").await.unwrap();
    assert_eq!(leader.total.fen(), 900, "one unit at the group price");
    let group = group_of(&app, &leader).await;
    place(&app, &cashier, join(store, buyers[1], offer_id, Some(group)), "o-1").await.unwrap();
    let twice = place(&app, &cashier, join(store, buyers[1], offer_id, Some(group)), "o-1b").await.unwrap_err();
    assert!(matches!(twice, AppError::AlreadyInGroup), "{twice:?}");

    let tasks: Vec<_> = buyers[2..]
        .iter()
        .enumerate()
        .map(|(n, &buyer)| {
            let (app, ctx) = (app.clone(), cashier.clone());
            tokio::spawn(async move {
                place(&app, &ctx, join(store, buyer, offer_id, Some(group)), &format!("race-{n}")).await
            })
        })
        .collect();
    let mut seated = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => seated += 1,
            Err(AppError::GroupFull) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(seated, 1, "one buyer takes the last seat");
    let detail = app.group(&cashier, group).await.unwrap();
    assert_eq!((detail.group.seats, detail.orders.len()), (3, 3));
    let mut tx = app.database().read().await.unwrap();
    let row = tx.get_stock(store, sku).await.unwrap().unwrap();
    assert_eq!(row.levels.reserved.get(), 3, "the refused buyers hold no stock");
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}

async fn groups_form_when_paid_and_fail_when_short(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let offer_id = offer(&app, store, sku, 2).await;
    let buyers = members(&app, &cashier, 3).await;

    let leader = place(&app, &cashier, join(store, buyers[0], offer_id, None), "a-0").await.unwrap();
    let group = group_of(&app, &leader).await;
    pay(&app, &cashier, &leader, "a-0-pay").await;
    let early = app.advance_order(&cashier, leader.id, OrderEvent::StartPicking).await.unwrap_err();
    assert!(matches!(early, AppError::GroupNotFormed), "{early:?}");
    let second = place(&app, &cashier, join(store, buyers[1], offer_id, Some(group)), "a-1").await.unwrap();
    assert_eq!(app.group(&cashier, group).await.unwrap().group.status.as_str(), "open", "seated but not paid");
    pay(&app, &cashier, &second, "a-1-pay").await;
    assert_eq!(app.group(&cashier, group).await.unwrap().group.status.as_str(), "formed");
    app.advance_order(&cashier, leader.id, OrderEvent::StartPicking).await.unwrap();

    // A lonely leader: the window ends short of members, and the paid order is refunded.
    let lonely = place(&app, &cashier, join(store, buyers[2], offer_id, None), "b-0").await.unwrap();
    pay(&app, &cashier, &lonely, "b-0-pay").await;
    assert_eq!(app.expire_group_buys(Utc::now()).await.unwrap(), 0, "still gathering");
    let later = Utc::now() + Duration::minutes(61);
    assert_eq!(app.expire_group_buys(later).await.unwrap(), 1);
    assert_eq!(app.expire_group_buys(later).await.unwrap(), 0, "failed once");
    let detail = app.get_order(&cashier, lonely.id).await.unwrap();
    assert_eq!(detail.order.status, OrderStatus::Cancelled);
    assert_eq!(detail.order.refunded, detail.order.paid, "refunded in full");
    let group = group_of(&app, &lonely).await;
    assert_eq!(app.group(&cashier, group).await.unwrap().group.status.as_str(), "failed");
    let mut tx = app.database().read().await.unwrap();
    let row = tx.get_stock(store, sku).await.unwrap().unwrap();
    assert_eq!((row.levels.committed.get(), row.levels.reserved.get()), (2, 0), "the formed group's two orders");
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}
