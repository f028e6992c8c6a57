//! Flash sales raced by many buyers at once, on each backend: exactly what the quota and the
//! stock allow is sold, no buyer beats the per-customer limit, and the books add up.

use std::{collections::HashMap, sync::Arc};

use chrono::Duration;
use quanyu_app::{
    App, AppConfig, AppError, CategoryDraft, Ctx, CustomerDraft, FlashSaleDraft, OrderDraft, Origin, PasswordHasher,
    PaymentDraft, PriceDraft, ProductDraft, Refusal, RegionDraft, Shopper, SkuDraft, StoreDraft,
};
use quanyu_domain::{
    DomainError, Money,
    flash::{
        Buyer, BuyerBuf,
        journal::{JournalEntry, JournalRecord},
        member_buyer,
    },
    ids::{CustomerId, SkuId, StockEntryId, StoreId},
    inventory::{MovementKind, Qty, StockChange},
};
use quanyu_store::{Database, FlashJournalAppend, FlashSale, StockEntry};
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
    one_key_on_two_sales_is_two_reservations,
    a_sale_that_cannot_be_materialised_holds_up_no_other,
    one_member_is_one_buyer_however_named,
    a_buyer_is_a_member_id_or_a_members_phone,
    sales_already_over_or_with_a_limit_above_the_quota_are_refused,
    an_order_waits_only_for_the_journal_up_to_its_reservation,
    a_person_orders_within_the_limit_under_every_id_merged_into_them,
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

/// A sale that ended an hour ago, written straight to the database: creating one already over
/// is refused.
async fn ended_sale(db: &Arc<dyn Database>, store: StoreId, sku: SkuId) -> Uuid {
    let now = chrono::Utc::now();
    let sale = FlashSale {
        id: Uuid::now_v7(),
        store_id: store,
        sku_id: sku,
        price: Money::from_fen(990),
        quota: 10,
        sold: 0,
        per_customer_limit: 2,
        hold_minutes: 10,
        starts_at: now - Duration::hours(2),
        ends_at: now - Duration::hours(1),
        created_at: now - Duration::hours(3),
        journal_seq: 0,
    };
    let mut tx = db.write().await.unwrap();
    tx.insert_flash_sale(&sale).await.unwrap();
    tx.commit().await.unwrap();
    sale.id
}

/// A member registered with `phone`.
async fn register(app: &App, phone: &str) -> CustomerId {
    let draft = CustomerDraft { identities: vec![("phone".into(), phone.into())], ..Default::default() };
    fresh(app.register_customer(&Ctx::system(), draft, &no_reply).await.unwrap()).customer.id
}

/// The member id a test's buyer `label` stands for: the same label, the same member. Sales
/// that never become orders need no registered member (a member id is not read while the sale
/// is on).
fn member(label: &str) -> String {
    let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    Uuid::from_u128(u128::from(hash) << 64 | label.len() as u128).to_string()
}

/// The stock entry of a journal record reserving one unit of `sale`, appended by hand.
fn reserve_one(store: StoreId, sku: SkuId, sale: Uuid, key: &str, at: quanyu_domain::time::Timestamp) -> StockEntry {
    StockEntry {
        id: StockEntryId::new(),
        store_id: store,
        sku_id: sku,
        change: "flash_reserve".into(),
        deltas: StockChange::Reserve(Qty::new(1)).deltas().unwrap(),
        reason: None,
        reference: Some(format!("flash_sale:{sale}")),
        idempotency_key: format!("flash:{sale}:{key}"),
        actor_id: None,
        at,
    }
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
                let result = app.reserve_flash_sale(&keyed(&key), sale_id, &member(&buyer), 1).await;
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
        let again = app.reserve_flash_sale(&keyed(&key), sale_id, &member(&buyer), 1).await;
        assert!(again.is_ok() || matches!(again, Err(AppError::FlashSale(_))));
        assert_eq!(app.get_flash_sale(&Ctx::system(), sale_id).await.unwrap().sold, 10);
    }
}

async fn an_armed_sale_sells_and_an_unknown_one_is_not_armed(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let unknown = Uuid::now_v7();
    assert!(matches!(app.arm_flash_sale(unknown).await, Err(AppError::NotFound { entity: "flash_sale" })));
    // Nothing is left behind for the unknown id: a buyer gets the same answer.
    let asked = app.reserve_flash_sale(&keyed("k"), unknown, &member("a"), 1).await;
    assert!(matches!(asked, Err(AppError::NotFound { entity: "flash_sale" })), "{asked:?}");
    // Created to start in a day: not armed at creation; armed by hand, it is ready to sell.
    let later = sale(&app, store, sku, 10, 2, Duration::days(1)).await;
    app.arm_flash_sale(later).await.unwrap();
    let refused = app.reserve_flash_sale(&keyed("k"), later, &member("a"), 1).await;
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

    let ended = ended_sale(&db, store, sku).await;
    let refused = app.reserve_flash_sale(&keyed("k"), ended, &member("a"), 1).await;
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
    assert!(refused.iter().all(|r| *r == Refusal::OutOfStock), "the quota remains, the stock does not: {refused:?}");
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
    assert_eq!(refused, [Refusal::OutOfStock; 3]);
    assert_eq!(app.get_flash_sale(&Ctx::system(), sale_id).await.unwrap().sold, 0);
    let mut tx = db.read().await.unwrap();
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}

async fn sales_outside_their_window_refuse(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db, 5).await;
    let later = sale(&app, store, sku, 5, 1, Duration::hours(1)).await;
    let refused = app.reserve_flash_sale(&keyed("early"), later, &member("b1"), 1).await;
    assert!(matches!(refused, Err(AppError::FlashSale(Refusal::NotActive))), "{refused:?}");
    let unkeyed = app.reserve_flash_sale(&Ctx::system(), later, &member("b1"), 1).await;
    assert!(matches!(unkeyed, Err(AppError::IdempotencyKeyRequired)));
    // A sale that does not exist is not found, however often it is asked for.
    let unknown = Uuid::now_v7();
    for key in ["u1", "u2"] {
        let missing = app.reserve_flash_sale(&keyed(key), unknown, &member("b1"), 1).await;
        assert!(matches!(missing, Err(AppError::NotFound { entity: "flash_sale" })), "{missing:?}");
    }
}

async fn reservations_become_orders_or_give_everything_back(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 10).await;
    let sale_id = sale(&app, store, sku, 5, 2, -Duration::minutes(1)).await;
    let alice = register(&app, "13900000001").await;
    let bob = register(&app, "13900000002").await;
    let carol = register(&app, "13900000003").await;
    let first = app.reserve_flash_sale(&keyed("r1"), sale_id, &alice.to_string(), 2).await.unwrap();
    let second = app.reserve_flash_sale(&keyed("r2"), sale_id, &bob.to_string(), 1).await.unwrap();
    let third = app.reserve_flash_sale(&keyed("r3"), sale_id, &carol.to_string(), 1).await.unwrap();
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
    let mut expected = vec![(member_buyer(alice), 2), (member_buyer(bob), 0), (member_buyer(carol), 0)];
    expected.sort();
    assert_eq!(buyers, expected);
    let late = app.create_order(&keyed("o4"), draft(third.id), &no_reply).await.unwrap_err();
    assert!(matches!(late, AppError::ReservationNotHeld), "{late:?}");
    // What came back can be bought again.
    app.reserve_flash_sale(&keyed("r4"), sale_id, &carol.to_string(), 2).await.unwrap();
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
    let first = app.reserve_flash_sale(&keyed("late-1"), sale_id, &member("late"), 1).await;
    assert!(matches!(first, Err(AppError::FlashSale(Refusal::SoldOut))), "{first:?}");
    let (buyer, _) = bought.iter().find(|(_, n)| **n > 0).unwrap();
    let mine = (0..3).map(|r| format!("k{}-{r}", &buyer[1..]));
    let mut found = Vec::new();
    for key in mine {
        let (a, b) = (
            app.reserve_flash_sale(&keyed(&key), sale_id, &member(buyer), 1).await,
            other.reserve_flash_sale(&keyed(&key), sale_id, &member(buyer), 1).await,
        );
        if let (Ok(a), Ok(b)) = (a, b) {
            assert_eq!((a.id, a.at), (b.id, b.at), "both instances answer a retry alike");
            found.push(a.id);
        }
    }
    assert_eq!(found.len() as i64, bought[buyer]);

    // A third instance, started afterwards, replays the journal: the books agree.
    let third = instance(db.clone());
    let again = third.reserve_flash_sale(&keyed(&format!("k{}-0", &buyer[1..])), sale_id, &member(buyer), 1).await;
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
        async move { app.reserve_flash_sale(&keyed(buyer), sale_id, &member(buyer), 1).await }
    };
    reserve("b0").await.unwrap();
    reserve("b1").await.unwrap();
    assert!(matches!(reserve("b2").await, Err(AppError::FlashSale(Refusal::OutOfStock))));
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
    assert!(matches!(refused, Err(AppError::FlashSale(Refusal::OutOfStock))), "{refused:?}");
    assert_eq!(app.get_flash_sale(&Ctx::system(), sale_id).await.unwrap().sold, 3);
    let mut tx = db.read().await.unwrap();
    let levels = tx.get_stock(store, sku).await.unwrap().unwrap().levels;
    assert_eq!((levels.on_hand.get(), levels.reserved.get(), levels.available().get()), (3, 3, 0));
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}

/// The same buyer and key on two sales are two requests (keys are the buyer's, per sale): both
/// reservations become rows, and orders.
async fn one_key_on_two_sales_is_two_reservations(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 10).await;
    let x = sale(&app, store, sku, 5, 1, -Duration::minutes(1)).await;
    let y = sale(&app, store, sku, 5, 1, -Duration::minutes(1)).await;
    let buyer = register(&app, "13911111111").await.to_string();
    let on_x = app.reserve_flash_sale(&keyed("same-key"), x, &buyer, 1).await.unwrap();
    let on_y = app.reserve_flash_sale(&keyed("same-key"), y, &buyer, 1).await.unwrap();
    assert_ne!(on_x.id, on_y.id);
    app.materialize_flash_sales(None).await.unwrap();
    let mut tx = db.read().await.unwrap();
    for held in [&on_x, &on_y] {
        let row = tx.get_flash_reservation(held.id).await.unwrap();
        assert_eq!(row.map(|r| r.idempotency_key), Some(held.idempotency_key.clone()), "a row, its key kept");
    }
    drop(tx);
    for (n, held) in [on_x, on_y].iter().enumerate() {
        let draft = OrderDraft { channel: "pickup".into(), flash_reservation: Some(held.id), ..OrderDraft::default() };
        app.create_order(&keyed(&format!("o{n}")), draft, &no_reply).await.unwrap();
    }
}

/// One sale's journal holding a record that cannot be materialised does not stop any other
/// sale's reservations from becoming rows (behind the rush, and as an order needs them), being
/// ordered, or expiring.
async fn a_sale_that_cannot_be_materialised_holds_up_no_other(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 10).await;
    // Made first, so every pass over the sales meets it first.
    let broken = sale(&app, store, sku, 5, 1, -Duration::minutes(1)).await;
    let fine = sale(&app, store, sku, 5, 1, -Duration::minutes(1)).await;
    let now = chrono::Utc::now();
    let stock = reserve_one(store, sku, broken, "damaged", now);
    let damaged = FlashJournalAppend { at: now, reservations: 1, units: 1, payload: b"\x09damaged", stock: &stock };
    assert!(db.append_flash_batch(broken, 0, &damaged).await.unwrap());

    let (alice, bob) = (register(&app, "13900000011").await, register(&app, "13900000012").await);
    let kept = app.reserve_flash_sale(&keyed("k1"), fine, &alice.to_string(), 1).await.unwrap();
    let lapsing = app.reserve_flash_sale(&keyed("k2"), fine, &bob.to_string(), 1).await.unwrap();
    // Behind the rush, the background task makes them rows.
    let mut waited = 0;
    while db.read().await.unwrap().get_flash_reservation(kept.id).await.unwrap().is_none() {
        assert!(waited < 100, "the background task materialised nothing of the other sale");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    // A reservation made since becomes a row as its order needs it.
    let carol = register(&app, "13900000013").await.to_string();
    let late = app.reserve_flash_sale(&keyed("k3"), fine, &carol, 1).await.unwrap();
    for (key, held) in [("o1", &kept), ("o2", &late)] {
        let draft = OrderDraft { channel: "pickup".into(), flash_reservation: Some(held.id), ..OrderDraft::default() };
        app.create_order(&keyed(key), draft, &no_reply).await.unwrap();
    }
    assert_eq!(app.expire_flash_reservations(lapsing.at + Duration::minutes(11)).await.unwrap(), 1, "bob's lapsed");
    assert!(app.materialize_flash_sales(Some(broken)).await.is_err(), "the damaged sale itself still fails");
    assert!(app.materialize_flash_sales(None).await.is_ok(), "every sale's pass skips it");
}

/// QA #3: a member is one buyer whether staff name them by phone (with or without +86 and
/// spaces), by member id in either case, or they reserve themselves in the mall.
async fn one_member_is_one_buyer_however_named(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let sale_id = sale(&app, store, sku, 10, 1, -Duration::minutes(1)).await;
    let member = register(&app, "13800019934").await;
    let id = member.to_string();
    let first = app.reserve_flash_sale(&keyed("by-phone"), sale_id, "13800019934", 1).await.unwrap();
    assert_eq!(first.buyer, BuyerBuf::Member(member));
    let upper = id.to_uppercase();
    for (key, named) in [("plus-86", "+86 138 0001 9934"), ("lower", id.as_str()), ("upper", upper.as_str())] {
        let again = app.reserve_flash_sale(&keyed(key), sale_id, named, 1).await;
        assert!(matches!(again, Err(AppError::FlashSale(Refusal::LimitReached))), "{named}: {again:?}");
    }
    let shopper = |key: &str| Shopper {
        customer_id: member,
        session_id: Uuid::now_v7(),
        origin: Origin::default(),
        idempotency: keyed(key).idempotency,
    };
    let in_the_mall = app.shop_reserve_flash(&shopper("shop-1"), sale_id, 1).await;
    assert!(matches!(in_the_mall, Err(AppError::FlashSale(Refusal::LimitReached))), "{in_the_mall:?}");
    // And the other way round: what the shopper reserved counts when staff name them.
    let other = sale(&app, store, sku, 10, 1, -Duration::minutes(1)).await;
    app.shop_reserve_flash(&shopper("shop-2"), other, 1).await.unwrap();
    let by_staff = app.reserve_flash_sale(&keyed("upper-2"), other, &upper, 1).await;
    assert!(matches!(by_staff, Err(AppError::FlashSale(Refusal::LimitReached))), "{by_staff:?}");
    for sale_id in [sale_id, other] {
        let (sale, buyers) = app.get_flash_sale_buyers(&Ctx::system(), sale_id).await.unwrap();
        assert_eq!((sale.sold, buyers), (1, vec![(member_buyer(member), 1)]));
    }
}

/// A buyer that names no member is refused before anything is queued or journalled: a phone
/// no member holds, and any other text (control characters included).
async fn a_buyer_is_a_member_id_or_a_members_phone(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let sale_id = sale(&app, store, sku, 10, 1, -Duration::minutes(1)).await;
    let unknown = app.reserve_flash_sale(&keyed("u"), sale_id, "13900009999", 1).await;
    assert!(matches!(unknown, Err(AppError::UnknownReference { field: "buyer", entity: "customer" })), "{unknown:?}");
    let shoppers_name = member_buyer(CustomerId::new());
    for (n, named) in ["alice", "null", "+86null", "a\u{0}b", "", shoppers_name.as_str()].into_iter().enumerate() {
        let refused = app.reserve_flash_sale(&keyed(&format!("m{n}")), sale_id, named, 1).await;
        assert!(
            matches!(refused, Err(AppError::Invalid(DomainError::Malformed { field: "buyer", .. }))),
            "{named:?}: {refused:?}"
        );
    }
    let sale = app.get_flash_sale(&Ctx::system(), sale_id).await.unwrap();
    assert_eq!((sale.sold, sale.journal_seq), (0, 0), "nothing journalled");
}

/// QA #13: a sale already over, or whose per-customer limit exceeds its quota, is refused.
async fn sales_already_over_or_with_a_limit_above_the_quota_are_refused(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db, 5).await;
    let now = chrono::Utc::now();
    let draft = FlashSaleDraft {
        store_id: Some(store),
        sku_id: Some(sku),
        price: 990,
        quota: 2,
        per_customer_limit: 1,
        starts_at: Some(now - Duration::hours(2)),
        ends_at: Some(now - Duration::hours(1)),
        hold_minutes: None,
    };
    let over = app.create_flash_sale(&Ctx::system(), draft.clone(), &no_reply).await;
    assert!(matches!(over, Err(AppError::Invalid(DomainError::Malformed { field: "ends_at", .. }))), "{over:?}");
    let unreachable = FlashSaleDraft { ends_at: Some(now + Duration::hours(1)), per_customer_limit: 3, ..draft };
    let unreachable = app.create_flash_sale(&Ctx::system(), unreachable, &no_reply).await;
    assert!(
        matches!(
            unreachable,
            Err(AppError::Invalid(DomainError::OutOfRange { field: "per_customer_limit", min: 1, max: 2 }))
        ),
        "{unreachable:?}"
    );
}

/// An order from a reservation that is not a row yet materialises the journal up to the
/// reservation's own batch (its id carries the batch's millisecond), not every record after it:
/// right after a big rush, an early buyer's order does not wait for the whole rush's rows.
async fn an_order_waits_only_for_the_journal_up_to_its_reservation(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 10).await;
    let sale_id = sale(&app, store, sku, 5, 1, -Duration::minutes(1)).await;
    let (alice, bob) = (register(&app, "13900000021").await, register(&app, "13900000022").await);
    // Two batches a second apart, appended as owners append them (no owner runs here, so no
    // background task materialises them behind the test's back).
    let now = chrono::Utc::now();
    let mut made = Vec::new();
    for (seq, (member, at)) in
        [(alice, now - Duration::seconds(2)), (bob, now - Duration::seconds(1))].into_iter().enumerate()
    {
        let at = quanyu_domain::time::Timestamp::from_timestamp_micros(at.timestamp_micros()).unwrap();
        let id = uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis() as u64, &[7; 10]).into_uuid();
        let key = format!("k{seq}");
        let entry = JournalEntry { id, quantity: 1, buyer: Buyer::Member(member), key: &key };
        let record = JournalRecord { at, expires_at: at + Duration::minutes(15), entries: vec![entry] };
        let stock = reserve_one(store, sku, sale_id, &format!("batch:{id}"), at);
        let payload = record.encode();
        let append = FlashJournalAppend { at, reservations: 1, units: 1, payload: &payload, stock: &stock };
        assert!(db.append_flash_batch(sale_id, seq as i64, &append).await.unwrap());
        made.push((id, member));
    }
    let materialised = || async { db.read().await.unwrap().flash_materialized_seq(sale_id).await.unwrap() };
    assert_eq!(materialised().await, 0);

    for (n, (reservation, member)) in made.into_iter().enumerate() {
        let draft = OrderDraft {
            channel: "pickup".into(),
            flash_reservation: Some(reservation),
            customer_id: Some(member),
            ..OrderDraft::default()
        };
        app.create_order(&keyed(&format!("o{n}")), draft, &no_reply).await.unwrap();
        assert_eq!(materialised().await, n as i64 + 1, "the journal up to reservation {n}'s batch, and no further");
    }
    // An id that is no reservation is still looked for everywhere, and not found.
    let unknown =
        OrderDraft { channel: "pickup".into(), flash_reservation: Some(Uuid::now_v7()), ..OrderDraft::default() };
    let refused = app.create_order(&keyed("o-unknown"), unknown, &no_reply).await;
    assert!(matches!(refused, Err(AppError::NotFound { entity: "flash_reservation" })), "{refused:?}");
}

/// QA #F4: the rush counts the limit per member id without reading it, so after a merge a
/// person could hold past the limit under the id merged away, before or after the merge. What
/// they order across their ids stays within it: first ordered, first served; the rest is
/// refused and its hold runs out.
async fn a_person_orders_within_the_limit_under_every_id_merged_into_them(db: Arc<dyn Database>) {
    let (app, store, sku) = setup(db.clone(), 30).await;
    let sale_id = sale(&app, store, sku, 10, 2, -Duration::minutes(1)).await;
    let (kept, absorbed, other) =
        (register(&app, "13800020001").await, register(&app, "13800020002").await, register(&app, "13800020003").await);
    let draft = |reservation: Uuid| OrderDraft {
        channel: "pickup".into(),
        flash_reservation: Some(reservation),
        ..OrderDraft::default()
    };
    // Before the merge, the id to be absorbed holds one.
    let early = app.reserve_flash_sale(&keyed("x-1"), sale_id, &absorbed.to_string(), 1).await.unwrap();
    app.merge_customers(&Ctx::system(), kept, absorbed, Some("同一人")).await.unwrap();
    // After it, the survivor reaches the limit on their own id, and the absorbed id asks again.
    let kept_two = app.reserve_flash_sale(&keyed("k-1"), sale_id, &kept.to_string(), 2).await.unwrap();
    let late = app.reserve_flash_sale(&keyed("x-2"), sale_id, &absorbed.to_string(), 1).await.unwrap();
    let ordered = fresh(app.create_order(&keyed("o-k"), draft(kept_two.id), &no_reply).await.unwrap());
    assert_eq!(ordered.order.customer_id, Some(kept));
    for (key, held) in [("o-x1", &early), ("o-x2", &late)] {
        let refused = app.create_order(&keyed(key), draft(held.id), &no_reply).await;
        assert!(matches!(refused, Err(AppError::FlashSale(Refusal::LimitReached))), "{refused:?}");
        let row = db.read().await.unwrap().get_flash_reservation(held.id).await.unwrap().unwrap();
        assert_eq!(row.status.as_str(), "held", "refused, the hold stays until it runs out");
    }
    // Someone else is not held back by it.
    let theirs = app.reserve_flash_sale(&keyed("y-1"), sale_id, &other.to_string(), 2).await.unwrap();
    let fine = fresh(app.create_order(&keyed("o-y"), draft(theirs.id), &no_reply).await.unwrap());
    assert_eq!(fine.order.customer_id, Some(other));
}
