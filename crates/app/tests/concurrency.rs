//! Use cases raced against themselves on each backend: a retried create has exactly one
//! effect, and a unique rule holds under concurrent writers.

use std::sync::Arc;

use quanyu_app::{
    App, AppConfig, AppError, Ctx, Idempotency, PasswordHasher, RegionDraft, StaffDraft, StoreDraft, StoredReply,
    Written,
};
use quanyu_domain::ids::RegionId;
use quanyu_store::{Database, Page, StoreFilter, UniqueKey};

quanyu_store::backend_tests!(
    racing_retries_of_one_create_have_one_effect,
    racing_creates_of_one_code_let_exactly_one_win,
    every_write_leaves_an_audit_entry_and_an_event,
    racing_buyers_never_oversell,
);

const TASKS: usize = 8;

fn app(db: Arc<dyn Database>) -> App {
    App::new(db, AppConfig { passwords: PasswordHasher::fast_for_tests(), ..AppConfig::default() })
}

fn reply(store: &quanyu_domain::org::Store) -> StoredReply {
    StoredReply { status: 201, body: store.id.to_string().into_bytes() }
}

async fn region(app: &App) -> RegionId {
    let draft = RegionDraft { code: "N".into(), name: "北区".into() };
    match app.create_region(&Ctx::system(), draft, &|_| StoredReply { status: 201, body: vec![] }).await.unwrap() {
        Written::Fresh(region) => region.id,
        Written::Replayed(_) => unreachable!("no key was given"),
    }
}

/// An HQ admin's context, as a logged-in request would have it.
async fn admin(app: &App) -> Ctx {
    let draft = StaffDraft {
        username: "boss".into(),
        display_name: "Boss".into(),
        role: "hq_admin".into(),
        password: "long-enough-1".into(),
        ..StaffDraft::default()
    };
    app.create_staff(&Ctx::system(), draft, &|_| StoredReply { status: 201, body: vec![] }).await.unwrap();
    let login = app.login("boss", "long-enough-1", &Default::default()).await.unwrap();
    Ctx::new(app.authenticate(&login.secret).await.unwrap())
}

fn store_draft(code: &str, region_id: RegionId) -> StoreDraft {
    StoreDraft {
        code: code.into(),
        name: format!("门店 {code}"),
        region_id: Some(region_id),
        address: "上海市".into(),
        lat: 31.2,
        lng: 121.4,
        area_m2: 100,
        ..StoreDraft::default()
    }
}

async fn store_count(db: &Arc<dyn Database>) -> usize {
    let mut tx = db.read().await.unwrap();
    tx.list_stores(&StoreFilter::default(), Page::first(Page::MAX_LIMIT)).await.unwrap().len()
}

async fn racing_retries_of_one_create_have_one_effect(db: Arc<dyn Database>) {
    let app = app(db.clone());
    let region_id = region(&app).await;
    let mut ctx = admin(&app).await;
    ctx.idempotency = Some(Idempotency { key: "retry-me".into(), fingerprint: "f1".into() });
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (app, ctx) = (app.clone(), ctx.clone());
            tokio::spawn(async move { app.create_store(&ctx, store_draft("RACE", region_id), &reply).await })
        })
        .collect();
    let mut bodies = Vec::new();
    let mut fresh = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Written::Fresh(store) => {
                fresh += 1;
                bodies.push(reply(&store).body);
            }
            Written::Replayed(stored) => bodies.push(stored.body),
        }
    }
    assert_eq!(fresh, 1, "exactly one request ran the change");
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every caller got the same reply");
    assert_eq!(store_count(&db).await, 1);
}

async fn racing_creates_of_one_code_let_exactly_one_win(db: Arc<dyn Database>) {
    let app = app(db.clone());
    let region_id = region(&app).await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.create_store(&Ctx::system(), store_draft("SAME", region_id), &reply).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(AppError::Duplicate(UniqueKey::StoreCode)) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store_count(&db).await, 1);
}

async fn every_write_leaves_an_audit_entry_and_an_event(db: Arc<dyn Database>) {
    let app = app(db.clone());
    let region_id = region(&app).await;
    for code in ["A", "B", "C"] {
        app.create_store(&Ctx::system(), store_draft(code, region_id), &reply).await.unwrap();
    }
    let mut tx = db.read().await.unwrap();
    let audit = tx.list_audit(&quanyu_store::AuditFilter::default(), Page::first(100)).await.unwrap();
    assert_eq!(audit.len(), 4, "one region and three stores");
    assert!(audit.iter().all(|entry| entry.actor_id.is_none() && entry.actor_name == "system"));
    let events = tx.events_after(0, 100).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["region.created", "store.created", "store.created", "store.created"]);
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
}

async fn racing_buyers_never_oversell(db: Arc<dyn Database>) {
    use quanyu_domain::inventory::{MovementKind, Qty, StockChange};
    const STOCK: i64 = 7;
    const BUYERS: usize = 24;
    let app = app(db.clone());
    let region_id = region(&app).await;
    let store = match app.create_store(&Ctx::system(), store_draft("HOT", region_id), &reply).await.unwrap() {
        Written::Fresh(store) => store.id,
        Written::Replayed(_) => unreachable!(),
    };
    let category = app
        .create_category(
            &Ctx::system(),
            quanyu_app::CategoryDraft { name: "秒杀".into(), ..Default::default() },
            &|_| StoredReply { status: 201, body: vec![] },
        )
        .await
        .unwrap();
    let Written::Fresh(category) = category else { unreachable!() };
    let draft = quanyu_app::ProductDraft {
        name: "秒杀鸡蛋".into(),
        category_id: Some(category.id),
        skus: vec![quanyu_app::SkuDraft {
            code: "EGG".into(),
            name: "30 枚".into(),
            unit: "盒".into(),
            prices: quanyu_app::PriceDraft { base: 990, ..Default::default() },
            ..Default::default()
        }],
        ..Default::default()
    };
    let Written::Fresh((_, skus)) =
        app.create_product(&Ctx::system(), draft, &|_| StoredReply { status: 201, body: vec![] }).await.unwrap()
    else {
        unreachable!()
    };
    let sku = skus[0].id;
    let receipt = [(sku, StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: STOCK })];
    app.change_stock(&Ctx::system(), store, "purchase_receipt", &receipt, "po-1", None).await.unwrap();

    let tasks: Vec<_> = (0..BUYERS)
        .map(|buyer| {
            let app = app.clone();
            tokio::spawn(async move {
                let hold = [(sku, StockChange::Reserve(Qty::new(1)))];
                app.change_stock(&Ctx::system(), store, "reserve", &hold, &format!("buyer-{buyer}"), None).await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(AppError::InsufficientStock { .. }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(won, STOCK as usize, "exactly the stock was sold");
    let mut tx = db.read().await.unwrap();
    let row = tx.get_stock(store, sku).await.unwrap().unwrap();
    assert_eq!((row.levels.reserved.get(), row.levels.available().get()), (STOCK, 0));
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![], "levels equal the sums of the ledger");
    // A retried batch moves nothing twice.
    let hold = [(sku, StockChange::Reserve(Qty::new(1)))];
    let replay = app.change_stock(&Ctx::system(), store, "reserve", &hold, "buyer-0", None).await;
    assert!(replay.is_ok() || matches!(replay, Err(AppError::InsufficientStock { .. })));
    let row = tx.get_stock(store, sku).await.unwrap().unwrap();
    assert_eq!(row.levels.reserved.get(), STOCK);
}
