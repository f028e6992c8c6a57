//! Flash sales raced by many buyers at once, on each backend: exactly what the quota and the
//! stock allow is sold, no buyer beats the per-customer limit, and the books add up.

use std::{collections::HashMap, sync::Arc};

use chrono::Duration;
use quanyu_app::{
    App, AppConfig, AppError, CategoryDraft, Ctx, FlashSaleDraft, OrderDraft, PasswordHasher, PaymentDraft, PriceDraft,
    ProductDraft, Refusal, RegionDraft, SkuDraft, StoreDraft,
};
use quanyu_domain::{
    ids::{SkuId, StoreId},
    inventory::{MovementKind, StockChange},
};
use quanyu_store::Database;
use support::{fresh, no_reply};
use uuid::Uuid;

mod support;

quanyu_store::backend_tests!(
    a_crowd_buys_exactly_the_quota,
    an_armed_sale_sells_and_an_unknown_one_is_not_armed,
    ended_sales_stop_their_owners_and_start_none,
    the_sweeper_arms_sales_about_to_start_once,
    a_sale_the_sweeper_armed_sells,
    stock_below_the_quota_caps_the_sale,
    a_store_that_never_had_the_sku_sells_none,
    sales_outside_their_window_refuse,
    reservations_become_orders_or_give_everything_back,
    two_owners_of_one_sale_share_its_journal,
    the_owner_sees_stock_received_and_taken_behind_its_back,
);

/// An instance of the application over `db`, with nothing of any sale in memory yet.
fn instance(db: Arc<dyn Database>) -> App {
    App::new(db, AppConfig { passwords: PasswordHasher::fast_for_tests(), ..AppConfig::default() })
}

async fn setup(db: Arc<dyn Database>, stock: i64) -> (App, StoreId, SkuId) {
    let app = instance(db);
    let system = Ctx::system();
    let region = fresh(
        app.create_region(&system, RegionDraft { code: "N".into(), name: "北区".into() }, &no_reply).await.unwrap(),
    );
    let draft = StoreDraft {
        code: "A".into(),
        name: "A 店".into(),
        region_id: Some(region.id),
        address: "上海".into(),
        lat: 31.2,
        lng: 121.4,
        area_m2: 100,
        ..StoreDraft::default()
    };
    let store = fresh(app.create_store(&system, draft, &no_reply).await.unwrap()).id;
    let category = fresh(
        app.create_category(&system, CategoryDraft { name: "秒杀".into(), ..Default::default() }, &no_reply)
            .await
            .unwrap(),
    );
    let product = ProductDraft {
        name: "车厘子".into(),
        category_id: Some(category.id),
        skus: vec![SkuDraft {
            code: "CHERRY".into(),
            name: "500g".into(),
            unit: "盒".into(),
            prices: PriceDraft { base: 6900, ..Default::default() },
            ..Default::default()
        }],
        ..Default::default()
    };
    let (_, skus) = fresh(app.create_product(&system, product, &no_reply).await.unwrap());
    if stock > 0 {
        let receipt = [(skus[0].id, StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: stock })];
        app.change_stock(&system, store, "purchase_receipt", &receipt, "po-1", None).await.unwrap();
    }
    (app, store, skus[0].id)
}

async fn sale(app: &App, store: StoreId, sku: SkuId, quota: i64, limit: i64, starts_in: Duration) -> Uuid {
    let now = chrono::Utc::now();
    let draft = FlashSaleDraft {
        store_id: Some(store),
        sku_id: Some(sku),
        price: 990,
        quota,
        per_customer_limit: limit,
        starts_at: Some(now + starts_in),
        ends_at: Some(now + starts_in + Duration::hours(1)),
        hold_minutes: Some(10),
    };
    fresh(app.create_flash_sale(&Ctx::system(), draft, &no_reply).await.unwrap()).id
}

fn keyed(key: &str) -> Ctx {
    support::keyed(&Ctx::system(), key)
}

/// `n` buyers asking once each: (`b{i}`, `k{i}`).
fn once_each(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("b{i}"), format!("k{i}"))).collect()
}

/// Sends every (buyer, key) request at once; returns the successes per buyer and the refusals.
async fn crowd(app: &App, sale_id: Uuid, requests: Vec<(String, String)>) -> (HashMap<String, i64>, Vec<Refusal>) {
    crowd_across(std::slice::from_ref(app), sale_id, requests).await
}

/// The same, the requests dealt in turn to several instances of the application (each with
/// its own owner of the sale) over one database.
async fn crowd_across(
    apps: &[App],
    sale_id: Uuid,
    requests: Vec<(String, String)>,
) -> (HashMap<String, i64>, Vec<Refusal>) {
    let tasks: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(n, (buyer, key))| {
            let app = apps[n % apps.len()].clone();
            tokio::spawn(async move {
                let result = app.reserve_flash_sale(&keyed(&key), sale_id, &buyer, 1).await;
                (buyer, result)
            })
        })
        .collect();
    let (mut bought, mut refused) = (HashMap::new(), Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            (buyer, Ok(reservation)) => *bought.entry(buyer).or_insert(0) += reservation.quantity,
            (_, Err(AppError::FlashSale(refusal))) => refused.push(refusal),
            (_, Err(other)) => panic!("unexpected error: {other:?}"),
        }
    }
    (bought, refused)
}

async fn a_crowd_buys_exactly_the_quota(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let sale_id = sale(&app, store, sku, 10, 2, -Duration::minutes(1)).await;
    // 20 buyers ask twice each, and one greedy buyer five times: 45 requests for 10 units.
    let mut requests: Vec<(String, String)> =
        (0..20).flat_map(|b| (0..2).map(move |r| (format!("b{b}"), format!("k{b}-{r}")))).collect();
    requests.extend((0..5).map(|r| ("greedy".to_owned(), format!("g-{r}"))));
    let (bought, refused) = crowd(&app, sale_id, requests).await;
    assert_eq!(bought.values().sum::<i64>(), 10, "exactly the quota");
    assert!(bought.values().all(|&n| n <= 2), "no buyer beats the limit: {bought:?}");
    assert_eq!(refused.len(), 35);
    let (sale, buyers) = app.get_flash_sale_buyers(&Ctx::system(), sale_id).await.unwrap();
    assert_eq!(sale.sold, 10);
    assert_eq!(buyers.iter().map(|(_, n)| n).sum::<i64>(), 10, "buyer counts match what was sold");
    let mut tx = db.read().await.unwrap();
    let row = tx.get_stock(store, sku).await.unwrap().unwrap();
    assert_eq!((row.levels.reserved.get(), row.levels.available().get()), (10, 20));
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
    drop(tx);
    // A retried request finds its reservation and takes nothing more.
    let (buyer, key) = bought.keys().next().map(|b| (b.clone(), format!("k{}-0", &b[1..]))).unwrap();
    if buyer != "greedy" {
        let again = app.reserve_flash_sale(&keyed(&key), sale_id, &buyer, 1).await;
        assert!(again.is_ok() || matches!(again, Err(AppError::FlashSale(_))));
        assert_eq!(app.get_flash_sale(&Ctx::system(), sale_id).await.unwrap().sold, 10);
    }
}

async fn an_armed_sale_sells_and_an_unknown_one_is_not_armed(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let unknown = Uuid::now_v7();
    assert!(matches!(app.arm_flash_sale(unknown).await, Err(AppError::NotFound { entity: "flash_sale" })));
    // Nothing is left behind for the unknown id: a buyer gets the same answer.
    let asked = app.reserve_flash_sale(&keyed("k"), unknown, "a", 1).await;
    assert!(matches!(asked, Err(AppError::NotFound { entity: "flash_sale" })), "{asked:?}");
    // Created to start in a day: not armed at creation; armed by hand, it is ready to sell.
    let later = sale(&app, store, sku, 10, 2, Duration::days(1)).await;
    app.arm_flash_sale(later).await.unwrap();
    let refused = app.reserve_flash_sale(&keyed("k"), later, "a", 1).await;
    assert!(matches!(refused, Err(AppError::FlashSale(Refusal::NotActive))), "{refused:?}");
    // Created running: armed as it is made; arming again is the same owner.
    let now = sale(&app, store, sku, 10, 2, -Duration::minutes(1)).await;
    app.arm_flash_sale(now).await.unwrap();
    let (bought, refused) = crowd(&app, now, once_each(12)).await;
    assert_eq!((bought.values().sum::<i64>(), refused.len()), (10, 2));
}

/// The sweeper's arming, in an instance that did not create the sales (as after a restart, or
/// for a sale created too far ahead to be armed as it was made): a sale starting in 5 minutes
/// is armed, one starting in a day is not until its start comes near, and nothing twice.
async fn the_sweeper_arms_sales_about_to_start_once(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    sale(&app, store, sku, 10, 2, Duration::minutes(5)).await;
    sale(&app, store, sku, 10, 2, Duration::days(1)).await;
    let restarted = instance(db);
    let now = chrono::Utc::now();
    assert_eq!(restarted.arm_upcoming_flash_sales(now).await.unwrap(), 1, "the sale starting in 5 minutes");
    assert_eq!(restarted.arm_upcoming_flash_sales(now).await.unwrap(), 0, "already armed");
    let tomorrow = now + Duration::days(1);
    assert_eq!(restarted.arm_upcoming_flash_sales(tomorrow).await.unwrap(), 1, "the day-ahead sale, now near");
}

/// A running sale armed by the sweeper in an instance that did not create it sells exactly
/// its quota there.
async fn a_sale_the_sweeper_armed_sells(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let sale_id = sale(&app, store, sku, 10, 2, -Duration::minutes(1)).await;
    let restarted = instance(db);
    assert_eq!(restarted.arm_upcoming_flash_sales(chrono::Utc::now()).await.unwrap(), 1);
    let (bought, refused) = crowd(&restarted, sale_id, once_each(12)).await;
    assert_eq!((bought.values().sum::<i64>(), refused.len()), (10, 2));
    assert_eq!(restarted.get_flash_sale(&Ctx::system(), sale_id).await.unwrap().sold, 10);
}

/// An ended sale's owner is stopped by the sweeper (freeing its book), and none is started
/// for it again: its buyers are refused as before.
async fn ended_sales_stop_their_owners_and_start_none(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let running = sale(&app, store, sku, 10, 2, -Duration::minutes(1)).await;
    let (bought, _) = crowd(&app, running, once_each(3)).await;
    assert_eq!(bought.len(), 3);
    let now = chrono::Utc::now();
    assert_eq!(app.stop_ended_flash_owners(now), 0, "still running");
    assert_eq!(app.stop_ended_flash_owners(now + Duration::hours(2)), 1, "over by then");
    // Stopped, not just forgotten: the sweeper would arm it again (it runs, as far as now goes).
    assert_eq!(app.arm_upcoming_flash_sales(now).await.unwrap(), 1);
    assert_eq!(app.get_flash_sale(&Ctx::system(), running).await.unwrap().sold, 3);

    let ended = sale(&app, store, sku, 10, 2, -Duration::hours(2)).await;
    let refused = app.reserve_flash_sale(&keyed("k"), ended, "a", 1).await;
    assert!(matches!(refused, Err(AppError::FlashSale(Refusal::NotActive))), "{refused:?}");
    assert!(matches!(app.arm_flash_sale(ended).await, Err(AppError::FlashSale(Refusal::NotActive))));
    assert_eq!(app.stop_ended_flash_owners(chrono::Utc::now()), 0, "no owner was started for it");
}

async fn stock_below_the_quota_caps_the_sale(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 3).await;
    let sale_id = sale(&app, store, sku, 10, 1, -Duration::minutes(1)).await;
    let requests = once_each(12);
    let (bought, refused) = crowd(&app, sale_id, requests).await;
    assert_eq!(bought.values().sum::<i64>(), 3, "never more than the stock");
    assert!(refused.iter().all(|r| *r == Refusal::SoldOut));
    let (sale, buyers) = app.get_flash_sale_buyers(&Ctx::system(), sale_id).await.unwrap();
    assert_eq!(sale.sold, 3, "refused claims were undone");
    assert_eq!(buyers.iter().map(|(_, n)| n).sum::<i64>(), 3);
    let mut tx = db.read().await.unwrap();
    assert_eq!(tx.get_stock(store, sku).await.unwrap().unwrap().levels.available().get(), 0);
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}

async fn a_store_that_never_had_the_sku_sells_none(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 0).await;
    let sale_id = sale(&app, store, sku, 5, 1, -Duration::minutes(1)).await;
    let (bought, refused) = crowd(&app, sale_id, once_each(3)).await;
    assert!(bought.is_empty(), "{bought:?}");
    assert_eq!(refused, [Refusal::SoldOut; 3]);
    assert_eq!(app.get_flash_sale(&Ctx::system(), sale_id).await.unwrap().sold, 0);
    let mut tx = db.read().await.unwrap();
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}

async fn sales_outside_their_window_refuse(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db, 5).await;
    let later = sale(&app, store, sku, 5, 1, Duration::hours(1)).await;
    let refused = app.reserve_flash_sale(&keyed("early"), later, "b1", 1).await;
    assert!(matches!(refused, Err(AppError::FlashSale(Refusal::NotActive))), "{refused:?}");
    let unkeyed = app.reserve_flash_sale(&Ctx::system(), later, "b1", 1).await;
    assert!(matches!(unkeyed, Err(AppError::IdempotencyKeyRequired)));
    // A sale that does not exist is not found, however often it is asked for.
    let unknown = Uuid::now_v7();
    for key in ["u1", "u2"] {
        let missing = app.reserve_flash_sale(&keyed(key), unknown, "b1", 1).await;
        assert!(matches!(missing, Err(AppError::NotFound { entity: "flash_sale" })), "{missing:?}");
    }
}

async fn reservations_become_orders_or_give_everything_back(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 10).await;
    let sale_id = sale(&app, store, sku, 5, 2, -Duration::minutes(1)).await;
    let first = app.reserve_flash_sale(&keyed("r1"), sale_id, "alice", 2).await.unwrap();
    let second = app.reserve_flash_sale(&keyed("r2"), sale_id, "bob", 1).await.unwrap();
    let third = app.reserve_flash_sale(&keyed("r3"), sale_id, "carol", 1).await.unwrap();
    assert_eq!(first.status.as_str(), "held");
    assert_eq!(first.expires_at, first.at + Duration::minutes(10));
    let levels = |db: Arc<dyn Database>| async move {
        let mut tx = db.read().await.unwrap();
        let row = tx.get_stock(store, sku).await.unwrap().unwrap();
        assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
        (row.levels.reserved.get(), row.levels.committed.get(), row.levels.on_hand.get())
    };
    assert_eq!(levels(db.clone()).await, (4, 0, 10));

    // Alice orders hers: one line at the flash price, the hold moves to the order.
    let draft = |reservation: Uuid| OrderDraft {
        channel: "pickup".into(),
        flash_reservation: Some(reservation),
        ..OrderDraft::default()
    };
    let order = fresh(app.create_order(&keyed("o1"), draft(first.id), &no_reply).await.unwrap());
    let line = &order.order.lines[0];
    assert_eq!(
        (line.breakdown.quantity, line.breakdown.base_amount.fen(), line.breakdown.amount.fen()),
        (2, 13_800, 1_980)
    );
    assert_eq!(line.breakdown.adjustments[0].source, format!("activity_price:{sale_id}"));
    assert_eq!(order.order.hold_expires_at, Some(first.expires_at), "the order keeps the reservation's time");
    assert_eq!(levels(db.clone()).await, (4, 0, 10), "no second hold");
    let twice = app.create_order(&keyed("o2"), draft(first.id), &no_reply).await.unwrap_err();
    assert!(matches!(twice, AppError::ReservationNotHeld), "{twice:?}");
    let payment = PaymentDraft { method: "cash".into(), amount: 1_980, reference: None, tendered: None };
    app.pay_order(&keyed("p1"), order.order.id, payment, &no_reply).await.unwrap();
    assert_eq!(levels(db.clone()).await, (2, 2, 10));

    // Bob orders and cancels unpaid: stock, quota and his count come back.
    let bobs = fresh(app.create_order(&keyed("o3"), draft(second.id), &no_reply).await.unwrap());
    app.cancel_order(&Ctx::system(), bobs.order.id).await.unwrap();
    // Carol never orders: her hold runs out.
    assert_eq!(app.expire_flash_reservations(third.at + Duration::minutes(9)).await.unwrap(), 0, "not yet");
    assert_eq!(app.expire_flash_reservations(third.at + Duration::minutes(11)).await.unwrap(), 1);
    assert_eq!(app.expire_flash_reservations(third.at + Duration::minutes(11)).await.unwrap(), 0, "once");
    assert_eq!(levels(db.clone()).await, (0, 2, 10));
    let (sale, buyers) = app.get_flash_sale_buyers(&Ctx::system(), sale_id).await.unwrap();
    assert_eq!(sale.sold, 2, "only Alice's paid units stay sold");
    assert_eq!(buyers, vec![("alice".to_owned(), 2), ("bob".to_owned(), 0), ("carol".to_owned(), 0)]);
    let late = app.create_order(&keyed("o4"), draft(third.id), &no_reply).await.unwrap_err();
    assert!(matches!(late, AppError::ReservationNotHeld), "{late:?}");
    // What came back can be bought again.
    app.reserve_flash_sale(&keyed("r4"), sale_id, "carol", 2).await.unwrap();
}

async fn two_owners_of_one_sale_share_its_journal(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 100).await;
    let sale_id = sale(&app, store, sku, 30, 2, -Duration::minutes(1)).await;
    // A second instance of the application: its own book of the sale, the same database.
    let other = instance(db.clone());
    let requests: Vec<(String, String)> =
        (0..40).flat_map(|b| (0..3).map(move |r| (format!("b{b}"), format!("k{b}-{r}")))).collect();
    let (bought, _) = crowd_across(&[app.clone(), other.clone()], sale_id, requests).await;
    assert_eq!(bought.values().sum::<i64>(), 30, "exactly the quota between the two");
    assert!(bought.values().all(|&n| n <= 2), "no buyer beats the limit across instances: {bought:?}");

    // A retry through the instance that did not take it finds the same reservation.
    let first = app.reserve_flash_sale(&keyed("late-1"), sale_id, "late", 1).await;
    assert!(matches!(first, Err(AppError::FlashSale(Refusal::SoldOut))), "{first:?}");
    let (buyer, _) = bought.iter().find(|(_, n)| **n > 0).unwrap();
    let mine = (0..3).map(|r| format!("k{}-{r}", &buyer[1..]));
    let mut found = Vec::new();
    for key in mine {
        let (a, b) = (
            app.reserve_flash_sale(&keyed(&key), sale_id, buyer, 1).await,
            other.reserve_flash_sale(&keyed(&key), sale_id, buyer, 1).await,
        );
        if let (Ok(a), Ok(b)) = (a, b) {
            assert_eq!((a.id, a.at), (b.id, b.at), "both instances answer a retry alike");
            found.push(a.id);
        }
    }
    assert_eq!(found.len() as i64, bought[buyer]);

    // A third instance, started afterwards, replays the journal: the books agree.
    let third = instance(db.clone());
    let again = third.reserve_flash_sale(&keyed(&format!("k{}-0", &buyer[1..])), sale_id, buyer, 1).await;
    assert!(again.is_ok() || matches!(again, Err(AppError::FlashSale(_))), "{again:?}");
    let (sale, buyers) = third.get_flash_sale_buyers(&Ctx::system(), sale_id).await.unwrap();
    assert_eq!(sale.sold, 30);
    assert_eq!(buyers.iter().map(|(_, n)| n).sum::<i64>(), 30, "materialised counts match the journal");
    let mut tx = db.read().await.unwrap();
    let row = tx.get_stock(store, sku).await.unwrap().unwrap();
    assert_eq!(row.levels.reserved.get(), 30);
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}

/// The owner decides batches on what it last read and appended, not on a read per batch: stock
/// received since is sold (a refusal for want of units is checked on a fresh read), and stock
/// taken since is never oversold (the append's guard refuses, and the batch is decided again).
async fn the_owner_sees_stock_received_and_taken_behind_its_back(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 2).await;
    let sale_id = sale(&app, store, sku, 10, 1, -Duration::minutes(1)).await;
    let reserve = |buyer: &'static str| {
        let app = app.clone();
        async move { app.reserve_flash_sale(&keyed(buyer), sale_id, buyer, 1).await }
    };
    reserve("b0").await.unwrap();
    reserve("b1").await.unwrap();
    assert!(matches!(reserve("b2").await, Err(AppError::FlashSale(Refusal::SoldOut))));
    let moved = |delta: i64, kind: MovementKind, key: &'static str| {
        let app = app.clone();
        async move {
            let change = [(sku, StockChange::Move { kind, delta })];
            app.change_stock(&Ctx::system(), store, "adjust", &change, key, None).await.unwrap();
        }
    };
    moved(3, MovementKind::PurchaseReceipt, "po-2").await;
    reserve("b3").await.expect("received stock is sold");
    moved(-2, MovementKind::Loss, "loss-1").await;
    let refused = reserve("b4").await;
    assert!(matches!(refused, Err(AppError::FlashSale(Refusal::SoldOut))), "{refused:?}");
    assert_eq!(app.get_flash_sale(&Ctx::system(), sale_id).await.unwrap().sold, 3);
    let mut tx = db.read().await.unwrap();
    let levels = tx.get_stock(store, sku).await.unwrap().unwrap().levels;
    assert_eq!((levels.on_hand.get(), levels.reserved.get(), levels.available().get()), (3, 3, 0));
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}
