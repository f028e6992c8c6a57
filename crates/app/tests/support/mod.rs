//! Helpers shared by the use-case tests: writes without a rendered reply, and contexts with an
//! idempotency key.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::sync::Arc;

use quanyu_app::{
    App, AppConfig, CategoryDraft, Ctx, Idempotency, PasswordHasher, PriceDraft, ProductDraft, RegionDraft, SkuDraft,
    StaffDraft, StoreDraft, StoredReply, Written,
};
use quanyu_domain::{
    ids::{RegionId, SkuId, StaffId, StoreId},
    inventory::{MovementKind, StockChange},
};
use quanyu_store::Database;

/// A reply renderer for tests that read the returned value, not the stored reply.
pub fn no_reply<T>(_: &T) -> StoredReply {
    StoredReply { status: 201, body: vec![] }
}

/// The value of a write that must have run now (not replayed).
pub fn fresh<T>(written: Written<T>) -> T {
    match written {
        Written::Fresh(value) => value,
        Written::Replayed(_) => panic!("a fresh write was expected"),
    }
}

/// `ctx` carrying the idempotency key `key` (its fingerprint too, so a retry replays).
pub fn keyed(ctx: &Ctx, key: &str) -> Ctx {
    Ctx { idempotency: Some(Idempotency { key: key.into(), fingerprint: key.into() }), ..ctx.clone() }
}

/// Opens a store (or a warehouse, by `kind`) in Shanghai.
pub async fn store(app: &App, code: &str, region: RegionId, kind: &str) -> StoreId {
    let draft = StoreDraft {
        code: code.into(),
        name: format!("{code} 店"),
        region_id: Some(region),
        address: "上海".into(),
        lat: 31.2,
        lng: 121.4,
        area_m2: 100,
        kind: Some(kind.into()),
        ..StoreDraft::default()
    };
    fresh(app.create_store(&Ctx::system(), draft, &no_reply).await.unwrap()).id
}

/// Appoints a staff member and logs them in: their id and context.
pub async fn staff(
    app: &App,
    username: &str,
    role: &str,
    store: Option<StoreId>,
    region: Option<RegionId>,
) -> (StaffId, Ctx) {
    let draft = StaffDraft {
        username: username.into(),
        display_name: username.into(),
        role: role.into(),
        store_id: store,
        region_id: region,
        password: "long-enough-1".into(),
        ..StaffDraft::default()
    };
    let id = fresh(app.create_staff(&Ctx::system(), draft, &no_reply).await.unwrap()).id;
    let login = app.login(username, "long-enough-1", &Default::default()).await.unwrap();
    (id, Ctx::new(app.authenticate(&login.secret).await.unwrap()))
}

/// A chain with one store holding 10 of one SKU, and a cashier's context there.
pub async fn shop(db: Arc<dyn Database>) -> (App, Ctx, StoreId, SkuId) {
    shop_on_shards(db, 1).await
}

/// [`shop`], its audience index cut into `audience_shards` shards (audience tests run on one and
/// on several: a few members are cut between shards too).
pub async fn shop_on_shards(db: Arc<dyn Database>, audience_shards: usize) -> (App, Ctx, StoreId, SkuId) {
    let config = AppConfig { passwords: PasswordHasher::fast_for_tests(), audience_shards, ..AppConfig::default() };
    let app = App::new(db, config);
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
        opening_hours: Some("00:00-24:00".into()),
        ..StoreDraft::default()
    };
    let store = fresh(app.create_store(&system, draft, &no_reply).await.unwrap()).id;
    let category = fresh(
        app.create_category(&system, CategoryDraft { name: "乳品".into(), ..Default::default() }, &no_reply)
            .await
            .unwrap(),
    );
    let product = ProductDraft {
        name: "牛奶".into(),
        category_id: Some(category.id),
        skus: vec![SkuDraft {
            code: "MILK".into(),
            name: "1L".into(),
            unit: "盒".into(),
            prices: PriceDraft { base: 1200, ..Default::default() },
            ..Default::default()
        }],
        ..Default::default()
    };
    let (_, skus) = fresh(app.create_product(&system, product, &no_reply).await.unwrap());
    let sku = skus[0].id;
    let receipt = [(sku, StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: 10 })];
    app.change_stock(&system, store, "purchase_receipt", &receipt, "po-1", None).await.unwrap();
    let cashier = StaffDraft {
        username: "cashier".into(),
        display_name: "收银".into(),
        role: "cashier".into(),
        store_id: Some(store),
        password: "long-enough-1".into(),
        ..StaffDraft::default()
    };
    fresh(app.create_staff(&system, cashier, &no_reply).await.unwrap());
    let login = app.login("cashier", "long-enough-1", &Default::default()).await.unwrap();
    let ctx = Ctx::new(app.authenticate(&login.secret).await.unwrap());
    (app, ctx, store, sku)
}

/// Registers the member holding `phone` (or finds them).
pub async fn member(app: &App, ctx: &Ctx, phone: &str) -> quanyu_domain::ids::CustomerId {
    let draft = quanyu_app::CustomerDraft { identities: vec![("phone".into(), phone.into())], ..Default::default() };
    fresh(app.register_customer(ctx, draft, &no_reply).await.unwrap()).customer.id
}

/// A till order of `quantity` of `sku` for `buyer`, paid in cash; `key` and `{key}-pay` are its
/// idempotency keys. Returns the order as paid.
pub async fn paid_order(
    app: &App,
    ctx: &Ctx,
    store: StoreId,
    sku: SkuId,
    buyer: quanyu_domain::ids::CustomerId,
    quantity: i64,
    key: &str,
) -> quanyu_domain::order::Order {
    let draft = quanyu_app::OrderDraft {
        store_id: Some(store),
        channel: "pos".into(),
        customer_id: Some(buyer),
        lines: vec![quanyu_app::LineDraft { sku_id: Some(sku), quantity }],
        ..quanyu_app::OrderDraft::default()
    };
    let order = fresh(app.create_order(&keyed(ctx, key), draft, &no_reply).await.unwrap()).order;
    let payment =
        quanyu_app::PaymentDraft { method: "cash".into(), amount: order.total.fen(), reference: None, tendered: None };
    fresh(app.pay_order(&keyed(ctx, &format!("{key}-pay")), order.id, payment, &no_reply).await.unwrap()).order
}
