//! The storage conformance suite: the same behaviour asked of every backend (the quickwit
//! pattern). Each test runs on SQLite, and on PostgreSQL when `QUANYU_TEST_POSTGRES` is set.

use std::{collections::BTreeMap, future::Future, pin::Pin, sync::Arc};

use chrono::{SubsecRound as _, Utc};
use quanyu_domain::{
    Money,
    catalog::{Barcode, Brand, Category, ImageUrl, ListingStatus, Product, ProductKind, Sku, SkuPrices, StoreSku},
    geo::Coordinates,
    ids::{AuditId, BrandId, CategoryId, EventId, ProductId, RegionId, SkuId, StaffId, StoreId, TokenId},
    org::{Assignment, Chain, OpeningHours, Region, Role, Scope, Staff, StaffStatus, Store, StoreKind, StoreStatus},
    text::Phone,
    time::{TimeZone, Timestamp},
};
use quanyu_store::{
    AuditEntry, AuditFilter, Database, FieldChange, IdempotencyRecord, OutboxEvent, Page, PlaceFilter, SkuFilter,
    SortOrder, SortValue, Sorting, StaffFilter, StoreError, StoreFilter, StoreResult, StoreSort, TokenKind,
    TokenRecord, Tx, UniqueKey,
};

quanyu_store::backend_tests!(
    audience_changes_name_who_changed_after_a_cursor,
    audience_changes_name_a_moved_stores_customers,
    audience_changes_are_not_named_again_while_an_older_transaction_runs,
    events_are_stored_once_per_message_id,
    migrating_again_applies_nothing,
    the_chain_is_a_single_row,
    regions_and_stores_round_trip_and_filter,
    pages_cover_every_row_once,
    sorted_pages_follow_the_column_then_the_id,
    unique_rules_name_their_key,
    missing_references_are_refused,
    dropped_transactions_roll_back,
    read_transactions_cannot_write,
    staff_round_trip_and_log_in_by_username_or_phone,
    staff_lists_follow_the_place,
    tokens_are_found_by_hash_and_revoked_once,
    catalog_round_trips,
    store_settings_upsert_and_delete,
    audit_log_is_newest_first_and_filtered,
    outbox_events_are_numbered_in_order,
    idempotency_keys_are_claimed_once,
    both_backends_reach_the_same_logical_schema,
    flash_reservation_keys_are_unique_per_sale,
    stock_changes_are_guarded_and_add_up,
    whole_table_scans_read_back_what_was_written,
    flash_sales_starting_by_span_every_store_soonest_first,
    a_table_has_one_open_bill_at_a_time,
    orders_keep_their_delivery_point_exactly,
);

fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

fn region(code: &str) -> Region {
    Region {
        id: RegionId::new(),
        code: code.into(),
        name: format!("区域 {code}"),
        created_at: now(),
        updated_at: now(),
    }
}

fn store(code: &str, region_id: RegionId) -> Store {
    Store {
        id: StoreId::new(),
        region_id,
        code: code.into(),
        name: format!("门店 {code}"),
        address: "上海市黄浦区".into(),
        location: Coordinates::new(31.2304, 121.4737).unwrap(),
        opening_hours: OpeningHours::parse("08:00-22:00").unwrap(),
        time_zone: TimeZone::SHANGHAI,
        area_m2: 320,
        delivery_radius_m: 3000,
        phone: Some("021-12345678".into()),
        kind: StoreKind::Store,
        status: StoreStatus::Open,
        created_at: now(),
        updated_at: now(),
    }
}

fn staff(username: &str, role: Role, scope: Scope, phone: Option<&str>) -> Staff {
    Staff {
        id: StaffId::new(),
        username: username.into(),
        display_name: username.to_uppercase(),
        phone: phone.map(|p| Phone::parse(p).unwrap()),
        assignment: Assignment::new(role, scope).unwrap(),
        status: StaffStatus::Active,
        created_at: now(),
        updated_at: now(),
    }
}

fn category(name: &str, parent_id: Option<CategoryId>) -> Category {
    Category {
        id: CategoryId::new(),
        parent_id,
        name: name.into(),
        sort_order: 0,
        created_at: now(),
        updated_at: now(),
    }
}

fn product(category_id: CategoryId, brand_id: Option<BrandId>) -> Product {
    Product {
        id: ProductId::new(),
        name: "烟台苹果".into(),
        category_id,
        brand_id,
        kind: ProductKind::Fresh,
        description: Some("脆甜".into()),
        images: vec![ImageUrl::parse("images", "https://img.example.cn/apple.jpg").unwrap()],
        status: ListingStatus::Active,
        created_at: now(),
        updated_at: now(),
    }
}

/// A flash sale of 10 units at ¥1, one per customer, created now.
fn flash_sale(store_id: StoreId, sku_id: SkuId, starts_at: Timestamp, ends_at: Timestamp) -> quanyu_store::FlashSale {
    quanyu_store::FlashSale {
        id: uuid::Uuid::now_v7(),
        store_id,
        sku_id,
        price: Money::from_fen(100),
        quota: 10,
        sold: 0,
        per_customer_limit: 1,
        hold_minutes: 15,
        starts_at,
        ends_at,
        created_at: now(),
        journal_seq: 0,
    }
}

fn sku(product_id: ProductId, code: &str, barcode: Option<&str>) -> Sku {
    Sku {
        id: SkuId::new(),
        product_id,
        code: code.into(),
        barcode: barcode.map(|b| Barcode::parse(b).unwrap()),
        name: "500g".into(),
        unit: "盒".into(),
        sold_by_weight: false,
        attributes: BTreeMap::from([("产地".to_owned(), "烟台".to_owned())]),
        images: vec![],
        prices: SkuPrices {
            base: Money::from_fen(1290),
            store: None,
            online: Some(Money::from_fen(1190)),
            member: Some(Money::from_fen(1090)),
            cost: Some(Money::from_fen(800)),
        },
        online_only: false,
        status: ListingStatus::Active,
        created_at: now(),
        updated_at: now(),
    }
}

async fn write(db: &Arc<dyn Database>) -> Box<dyn Tx> {
    db.write().await.unwrap()
}

async fn read(db: &Arc<dyn Database>) -> Box<dyn Tx> {
    db.read().await.unwrap()
}

/// An unpaid order of one line in `store_id`, created now.
fn order(store_id: StoreId, sku_id: SkuId, channel: quanyu_domain::order::OrderChannel) -> quanyu_domain::order::Order {
    use quanyu_domain::order::{LineBreakdown, Order, OrderLine, OrderStatus};
    let breakdown = LineBreakdown::price(Money::from_fen(1290), None, 2, false).unwrap();
    let total = breakdown.amount;
    Order {
        id: quanyu_domain::ids::OrderId::new(),
        store_id,
        channel,
        status: OrderStatus::Created,
        pickup_code: None,
        customer_phone: None,
        customer_id: None,
        delivery_address: None,
        delivery_location: None,
        table: None,
        note: None,
        lines: vec![OrderLine {
            line_no: 1,
            sku_id,
            sku_name: "500g".into(),
            breakdown,
            refunded_quantity: 0,
            refunded_amount: Money::ZERO,
        }],
        subtotal: total,
        discount: Money::ZERO,
        delivery_fee: Money::ZERO,
        total,
        paid: Money::ZERO,
        refunded: Money::ZERO,
        hold_expires_at: Some(now()),
        promised_at: None,
        fulfilled_at: None,
        created_by: None,
        created_at: now(),
        updated_at: now(),
    }
}

/// A region with two stores, committed.
async fn seed_places(db: &Arc<dyn Database>) -> (Region, Store, Store) {
    let north = region("N");
    let (a, b) = (store("N-A", north.id), store("N-B", north.id));
    let mut tx = write(db).await;
    tx.insert_region(&north).await.unwrap();
    tx.insert_store(&a).await.unwrap();
    tx.insert_store(&b).await.unwrap();
    tx.commit().await.unwrap();
    (north, a, b)
}

/// Events are stored once per source and messageId: a repeat within one bulk insert, a
/// messageId stored before, and one that a concurrent writer commits while this one writes.
async fn events_are_stored_once_per_message_id(db: Arc<dyn Database>) {
    use quanyu_domain::events::{EventMessage, EventType};
    use quanyu_store::{EventSource, StoredEvent};

    let source = EventSource {
        id: uuid::Uuid::now_v7(),
        name: "小程序".into(),
        key_hash: "key".into(),
        created_by: None,
        created_at: now(),
        revoked_at: None,
    };
    let mut tx = write(&db).await;
    tx.insert_event_source(&source).await.unwrap();
    tx.commit().await.unwrap();
    let event = |message_id: &str| StoredEvent {
        id: uuid::Uuid::now_v7(),
        source_id: source.id,
        message: EventMessage {
            kind: EventType::Track,
            message_id: message_id.into(),
            name: Some("Product Viewed".into()),
            user_id: None,
            anonymous_id: Some("anon-1".into()),
            previous_id: None,
            timestamp: None,
            properties: r#"{"sku": "MILK"}"#.into(),
            traits: "{}".into(),
            context: "{}".into(),
        },
        customer_id: None,
        occurred_at: now(),
        received_at: now(),
    };
    let mut tx = write(&db).await;
    let mut events = [event("m-1"), event("m-2"), event("m-1")];
    assert_eq!(tx.insert_events(&mut events).await.unwrap(), [true, true, false]);
    assert!(events.iter().all(|e| e.customer_id.is_none()), "anon-1 is tied to no customer");
    tx.commit().await.unwrap();

    // The first writer holds m-3, not yet committed, while a second one writes m-2, m-3, m-4
    // (on PostgreSQL the second's bulk path then meets m-3 in the unique index).
    let mut first = write(&db).await;
    assert_eq!(first.insert_events(&mut [event("m-3")]).await.unwrap(), [true]);
    let second = tokio::spawn({
        let db = Arc::clone(&db);
        let mut events = vec![event("m-2"), event("m-3"), event("m-4")];
        async move {
            let mut tx = db.write().await.unwrap();
            let stored = tx.insert_events(&mut events).await.unwrap();
            tx.commit().await.unwrap();
            stored
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), [false, false, true]);
}

async fn migrating_again_applies_nothing(db: Arc<dyn Database>) {
    assert_eq!(db.migrate().await.unwrap(), vec![]);
}

async fn the_chain_is_a_single_row(db: Arc<dyn Database>) {
    let mut tx = write(&db).await;
    assert_eq!(tx.get_chain().await.unwrap(), None);
    let mut chain = Chain { name: "鲜丰".into(), time_zone: TimeZone::SHANGHAI, updated_at: now() };
    tx.put_chain(&chain).await.unwrap();
    chain.name = "鲜丰生活".into();
    chain.time_zone = TimeZone::parse("Asia/Urumqi").unwrap();
    tx.put_chain(&chain).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(read(&db).await.get_chain().await.unwrap(), Some(chain));
}

async fn regions_and_stores_round_trip_and_filter(db: Arc<dyn Database>) {
    let (north, a, mut b) = seed_places(&db).await;
    let south = region("S");
    let c = store("S-C", south.id);
    let mut tx = write(&db).await;
    tx.insert_region(&south).await.unwrap();
    tx.insert_store(&c).await.unwrap();
    b.name = "改名".into();
    b.status = StoreStatus::Paused;
    b.phone = None;
    assert!(tx.update_store(&b).await.unwrap());
    assert!(!tx.update_store(&store("GHOST", north.id)).await.unwrap(), "no such row");
    tx.commit().await.unwrap();

    let mut tx = read(&db).await;
    assert_eq!(tx.get_region(north.id).await.unwrap(), Some(north.clone()));
    assert_eq!(tx.get_store(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(tx.get_store(b.id).await.unwrap(), Some(b.clone()));
    assert_eq!(tx.get_store_by_code("S-C").await.unwrap(), Some(c.clone()));
    let codes = |stores: Vec<Store>| stores.into_iter().map(|s| s.code).collect::<Vec<_>>();
    let all = Page::first(50);
    let in_north =
        StoreFilter { place: PlaceFilter { region_id: Some(north.id), store_id: None }, ..Default::default() };
    assert_eq!(codes(tx.list_stores(&in_north, all).await.unwrap()), ["N-A", "N-B"]);
    let open = StoreFilter { status: Some("open".into()), ..Default::default() };
    assert_eq!(codes(tx.list_stores(&open, all).await.unwrap()), ["N-A", "S-C"]);
    let search = StoreFilter { search: Some("n-".into()), ..Default::default() };
    assert_eq!(codes(tx.list_stores(&search, all).await.unwrap()), ["N-A", "N-B"]);
    let literal = StoreFilter { search: Some("%".into()), ..Default::default() };
    assert_eq!(tx.list_stores(&literal, all).await.unwrap(), vec![], "% is a character, not a wildcard");
    let one = StoreFilter { place: PlaceFilter { store_id: Some(c.id), region_id: None }, ..Default::default() };
    assert_eq!(codes(tx.list_stores(&one, all).await.unwrap()), ["S-C"]);
    assert_eq!(tx.list_regions(Some(south.id), all).await.unwrap(), vec![south]);
}

async fn pages_cover_every_row_once(db: Arc<dyn Database>) {
    let north = region("N");
    let mut tx = write(&db).await;
    tx.insert_region(&north).await.unwrap();
    for i in 0..7 {
        tx.insert_store(&store(&format!("S{i}"), north.id)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    let mut seen = Vec::new();
    let mut page = Page::first(3);
    loop {
        let batch = tx.list_stores(&StoreFilter::default(), page).await.unwrap();
        seen.extend(batch.iter().map(|s| s.code.clone()));
        match batch.last() {
            Some(last) if batch.len() == 3 => page.after = Some(last.id.as_uuid()),
            _ => break,
        }
    }
    assert_eq!(seen, ["S0", "S1", "S2", "S3", "S4", "S5", "S6"]);
}

/// Keyset pages of a sorted listing: every row once, in the column's order with ties broken by
/// id, in both directions, for an integer and a text column (non-ASCII names included).
async fn sorted_pages_follow_the_column_then_the_id(db: Arc<dyn Database>) {
    let north = region("N");
    let mut tx = write(&db).await;
    tx.insert_region(&north).await.unwrap();
    let mut stores = Vec::new();
    for (i, (area, name)) in [(90, "静安"), (30, "b"), (90, "A"), (10, "浦东"), (30, "a"), (90, "a")].iter().enumerate()
    {
        let store = Store { area_m2: *area, name: (*name).into(), ..store(&format!("S{i}"), north.id) };
        tx.insert_store(&store).await.unwrap();
        stores.push(store);
    }
    tx.commit().await.unwrap();

    let mut tx = read(&db).await;
    for (key, descending) in [(StoreSort::Area, true), (StoreSort::Area, false), (StoreSort::Name, false)] {
        let value = |s: &Store| match key {
            StoreSort::Area => SortValue::Int(s.area_m2.into()),
            _ => SortValue::Text(s.name.clone()),
        };
        let mut sorting = Sorting::from(SortOrder { key: Some(key), descending });
        let mut page = Page::first(2);
        let mut seen: Vec<Store> = Vec::new();
        loop {
            let batch = tx.list_stores(&StoreFilter { sort: sorting.clone(), ..StoreFilter::default() }, page).await;
            let batch = batch.unwrap();
            seen.extend(batch.iter().cloned());
            match batch.last() {
                Some(last) if batch.len() == 2 => {
                    page.after = Some(last.id.as_uuid());
                    sorting.after = Some(value(last));
                }
                _ => break,
            }
        }
        let mut expected = stores.clone();
        expected.sort_by(|a, b| {
            let by_key = match key {
                StoreSort::Area => a.area_m2.cmp(&b.area_m2),
                _ => a.name.as_bytes().cmp(b.name.as_bytes()),
            };
            by_key.then(a.id.as_uuid().cmp(&b.id.as_uuid()))
        });
        if descending {
            expected.reverse();
        }
        let codes = |list: &[Store]| list.iter().map(|s| s.code.clone()).collect::<Vec<_>>();
        if key == StoreSort::Name {
            // Text order is the database's collation: only the paging is checked here, not
            // where the collation puts upper case or 浦东.
            let mut seen_codes = codes(&seen);
            seen_codes.sort();
            assert_eq!(seen_codes, codes(&stores), "every store once");
            continue;
        }
        assert_eq!(codes(&seen), codes(&expected), "{key:?} descending={descending}");
    }
}

async fn unique_rules_name_their_key(db: Arc<dyn Database>) {
    let (north, a, _) = seed_places(&db).await;
    let root = category("生鲜", None);
    let brand =
        Brand { id: BrandId::new(), name: "农夫山泉".into(), logo_url: None, created_at: now(), updated_at: now() };
    let apple = product(root.id, None);
    let mut tx = write(&db).await;
    tx.insert_category(&root).await.unwrap();
    tx.insert_brand(&brand).await.unwrap();
    tx.insert_product(&apple).await.unwrap();
    tx.insert_sku(&sku(apple.id, "A-1", Some("6901234567892"))).await.unwrap();
    tx.insert_staff(&staff("li", Role::Cashier, Scope::Store(a.id), Some("13800000001")), "h").await.unwrap();
    tx.commit().await.unwrap();

    let cases: Vec<(UniqueKey, Attempt)> = vec![
        (UniqueKey::RegionCode, Box::new(|tx| Box::pin(async move { tx.insert_region(&region("N")).await }))),
        (
            UniqueKey::StoreCode,
            Box::new(move |tx| Box::pin(async move { tx.insert_store(&store("N-A", north.id)).await })),
        ),
        (
            UniqueKey::Username,
            Box::new(|tx| {
                Box::pin(async move { tx.insert_staff(&staff("li", Role::HqOps, Scope::All, None), "h").await })
            }),
        ),
        (
            UniqueKey::StaffPhone,
            Box::new(|tx| {
                Box::pin(async move {
                    tx.insert_staff(&staff("wang", Role::HqOps, Scope::All, Some("13800000001")), "h").await
                })
            }),
        ),
        (
            UniqueKey::BrandName,
            Box::new(|tx| {
                Box::pin(async move {
                    let twin = Brand {
                        id: BrandId::new(),
                        name: "农夫山泉".into(),
                        logo_url: None,
                        created_at: now(),
                        updated_at: now(),
                    };
                    tx.insert_brand(&twin).await
                })
            }),
        ),
        (
            UniqueKey::CategoryName,
            Box::new(|tx| Box::pin(async move { tx.insert_category(&category("生鲜", None)).await })),
        ),
        (
            UniqueKey::SkuCode,
            Box::new(move |tx| Box::pin(async move { tx.insert_sku(&sku(apple.id, "A-1", None)).await })),
        ),
        (
            UniqueKey::Barcode,
            Box::new(move |tx| {
                Box::pin(async move { tx.insert_sku(&sku(apple.id, "A-2", Some("6901234567892"))).await })
            }),
        ),
    ];
    for (key, attempt) in cases {
        let mut tx = write(&db).await;
        match attempt(&mut *tx).await {
            Err(StoreError::Duplicate(found)) => assert_eq!(found, key),
            other => panic!("{key:?}: expected a duplicate, got {other:?}"),
        }
    }
    // Siblings are unique per parent: the same name under another parent is fine.
    let mut tx = write(&db).await;
    tx.insert_category(&category("生鲜", Some(root.id))).await.unwrap();
    let barcodeless = [sku(apple.id, "A-3", None), sku(apple.id, "A-4", None)];
    for s in &barcodeless {
        tx.insert_sku(s).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// One write that must break a unique rule.
type Attempt = Box<dyn for<'t> FnOnce(&'t mut dyn Tx) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + 't>>>;

async fn missing_references_are_refused(db: Arc<dyn Database>) {
    let mut tx = write(&db).await;
    let orphan = store("LOST", RegionId::new());
    assert!(matches!(tx.insert_store(&orphan).await, Err(StoreError::MissingReference)));
    drop(tx);
    let mut tx = write(&db).await;
    assert!(matches!(tx.insert_product(&product(CategoryId::new(), None)).await, Err(StoreError::MissingReference)));
}

async fn dropped_transactions_roll_back(db: Arc<dyn Database>) {
    let north = region("N");
    let mut tx = write(&db).await;
    tx.insert_region(&north).await.unwrap();
    drop(tx);
    assert_eq!(read(&db).await.get_region(north.id).await.unwrap(), None);
}

async fn read_transactions_cannot_write(db: Arc<dyn Database>) {
    let mut tx = read(&db).await;
    assert!(tx.insert_region(&region("N")).await.is_err());
}

async fn staff_round_trip_and_log_in_by_username_or_phone(db: Arc<dyn Database>) {
    let (north, a, _) = seed_places(&db).await;
    let mut cashier = staff("cashier-a", Role::Cashier, Scope::Store(a.id), Some("13900000009"));
    let manager = staff("rm-n", Role::RegionManager, Scope::Region(north.id), None);
    let mut tx = write(&db).await;
    tx.insert_staff(&cashier, "hash-1").await.unwrap();
    tx.insert_staff(&manager, "hash-2").await.unwrap();
    cashier.display_name = "小王".into();
    cashier.status = StaffStatus::Disabled;
    assert!(tx.update_staff(&cashier).await.unwrap());
    assert!(tx.set_password_hash(cashier.id, "hash-3").await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    assert_eq!(tx.get_staff(cashier.id).await.unwrap(), Some(cashier.clone()));
    assert_eq!(tx.get_staff(manager.id).await.unwrap(), Some(manager.clone()));
    assert_eq!(tx.find_staff_for_login("cashier-a").await.unwrap(), Some((cashier.clone(), "hash-3".into())));
    assert_eq!(tx.find_staff_for_login("13900000009").await.unwrap(), Some((cashier, "hash-3".into())));
    assert_eq!(tx.find_staff_for_login("nobody").await.unwrap(), None);
}

async fn staff_lists_follow_the_place(db: Arc<dyn Database>) {
    let (north, a, b) = seed_places(&db).await;
    let south = region("S");
    let c = store("S-C", south.id);
    let members = [
        staff("admin", Role::HqAdmin, Scope::All, None),
        staff("rm-n", Role::RegionManager, Scope::Region(north.id), None),
        staff("rm-s", Role::RegionManager, Scope::Region(south.id), None),
        staff("cashier-a", Role::Cashier, Scope::Store(a.id), None),
        staff("guide-b", Role::Guide, Scope::Store(b.id), None),
        staff("cashier-c", Role::Cashier, Scope::Store(c.id), None),
    ];
    let mut tx = write(&db).await;
    tx.insert_region(&south).await.unwrap();
    tx.insert_store(&c).await.unwrap();
    for member in &members {
        tx.insert_staff(member, "h").await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    let names = |list: Vec<Staff>| list.into_iter().map(|s| s.username).collect::<Vec<_>>();
    let all = Page::first(50);
    let in_north =
        StaffFilter { place: PlaceFilter { region_id: Some(north.id), store_id: None }, ..Default::default() };
    assert_eq!(names(tx.list_staff(&in_north, all).await.unwrap()), ["rm-n", "cashier-a", "guide-b"]);
    let in_a = StaffFilter { place: PlaceFilter { store_id: Some(a.id), region_id: None }, ..Default::default() };
    assert_eq!(names(tx.list_staff(&in_a, all).await.unwrap()), ["cashier-a"]);
    let cashiers = StaffFilter { role: Some(Role::Cashier), ..Default::default() };
    assert_eq!(names(tx.list_staff(&cashiers, all).await.unwrap()), ["cashier-a", "cashier-c"]);
    assert_eq!(tx.list_staff(&StaffFilter::default(), all).await.unwrap().len(), 6);
}

async fn tokens_are_found_by_hash_and_revoked_once(db: Arc<dyn Database>) {
    let admin = staff("admin", Role::HqAdmin, Scope::All, None);
    let token = |kind: TokenKind, hash: &str| TokenRecord {
        id: TokenId::new(),
        staff_id: admin.id,
        kind,
        name: if kind == TokenKind::Api { "ERP".into() } else { String::new() },
        secret_hash: hash.into(),
        created_at: now(),
        expires_at: Some(now() + chrono::Duration::hours(1)),
        revoked_at: None,
    };
    let (session, api) = (token(TokenKind::Session, "aaa"), token(TokenKind::Api, "bbb"));
    let mut tx = write(&db).await;
    tx.insert_staff(&admin, "h").await.unwrap();
    tx.insert_token(&session).await.unwrap();
    tx.insert_token(&api).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = write(&db).await;
    assert_eq!(tx.find_token_by_hash("aaa").await.unwrap(), Some(session.clone()));
    assert_eq!(tx.list_tokens(TokenKind::Api, Page::first(10)).await.unwrap(), vec![api.clone()]);
    let at = now();
    assert!(tx.revoke_token(session.id, at).await.unwrap());
    assert!(!tx.revoke_token(session.id, at).await.unwrap(), "already revoked");
    assert_eq!(tx.get_token(session.id).await.unwrap().unwrap().revoked_at, Some(at));
    assert!(matches!(tx.insert_token(&token(TokenKind::Session, "bbb")).await, Err(StoreError::Duplicate(_))));
}

async fn catalog_round_trips(db: Arc<dyn Database>) {
    let fresh = category("生鲜", None);
    let mut fruit = category("水果", Some(fresh.id));
    let brand = Brand {
        id: BrandId::new(),
        name: "佳沛".into(),
        logo_url: Some(ImageUrl::parse("logo_url", "https://img.example.cn/zespri.png").unwrap()),
        created_at: now(),
        updated_at: now(),
    };
    let mut apple = product(fruit.id, Some(brand.id));
    let mut small = sku(apple.id, "APPLE-500", Some("6901234567892"));
    let large = sku(apple.id, "APPLE-1000", None);
    let mut tx = write(&db).await;
    tx.insert_category(&fresh).await.unwrap();
    tx.insert_category(&fruit).await.unwrap();
    tx.insert_brand(&brand).await.unwrap();
    tx.insert_product(&apple).await.unwrap();
    tx.insert_sku(&small).await.unwrap();
    tx.insert_sku(&large).await.unwrap();
    fruit.sort_order = 3;
    fruit.name = "时令水果".into();
    assert!(tx.update_category(&fruit).await.unwrap());
    apple.brand_id = None;
    apple.images = vec![];
    assert!(tx.update_product(&apple).await.unwrap());
    small.prices.member = None;
    small.sold_by_weight = true;
    small.barcode = None;
    assert!(tx.update_sku(&small).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = read(&db).await;
    assert_eq!(tx.get_category(fruit.id).await.unwrap(), Some(fruit.clone()));
    assert_eq!(tx.all_categories().await.unwrap(), vec![fresh.clone(), fruit.clone()], "by sort order");
    assert_eq!(tx.get_brand(brand.id).await.unwrap(), Some(brand.clone()));
    assert_eq!(tx.list_brands(Some("佳"), Page::first(10)).await.unwrap(), vec![brand]);
    assert_eq!(tx.get_product(apple.id).await.unwrap(), Some(apple.clone()));
    assert_eq!(tx.get_sku(small.id).await.unwrap(), Some(small.clone()));
    assert_eq!(tx.get_sku_by_barcode("6901234567892").await.unwrap(), None, "the barcode was removed");
    let by_product = SkuFilter { product_id: Some(apple.id), ..Default::default() };
    assert_eq!(tx.list_skus(&by_product, Page::first(10)).await.unwrap(), vec![small.clone(), large.clone()]);
    let by_category = SkuFilter { category_id: Some(fruit.id), ..Default::default() };
    assert_eq!(tx.list_skus(&by_category, Page::first(10)).await.unwrap().len(), 2);
    let by_product_name = SkuFilter { search: Some("苹果".into()), ..Default::default() };
    assert_eq!(tx.list_skus(&by_product_name, Page::first(10)).await.unwrap().len(), 2);
    let by_code = SkuFilter { search: Some("apple-1000".into()), ..Default::default() };
    assert_eq!(tx.list_skus(&by_code, Page::first(10)).await.unwrap(), vec![large.clone()]);
    let mut named = tx.get_skus(&[large.id, SkuId::new(), small.id]).await.unwrap();
    named.sort_by_key(|(s, _)| s.code.clone());
    let mut expected = vec![(small.clone(), apple.name.clone()), (large.clone(), apple.name.clone())];
    expected.sort_by_key(|(s, _)| s.code.clone());
    assert_eq!(named, expected, "unknown ids are skipped");
    assert!(tx.get_skus(&[]).await.unwrap().is_empty());
    let below = SkuFilter { category_id: Some(fresh.id), ..Default::default() };
    assert_eq!(tx.list_skus(&below, Page::first(10)).await.unwrap().len(), 2, "a category lists those below it");
    let parent = quanyu_store::ProductFilter { category_id: Some(fresh.id), ..Default::default() };
    assert_eq!(tx.list_products(&parent, Page::first(10)).await.unwrap(), vec![apple.clone()]);
    let fruit_only = quanyu_store::ProductFilter { category_id: Some(fruit.id), ..Default::default() };
    assert_eq!(tx.list_products(&fruit_only, Page::first(10)).await.unwrap(), vec![apple]);
    drop(tx);
    let vegetables = category("蔬菜", Some(fresh.id));
    let mut tx = write(&db).await;
    tx.insert_category(&vegetables).await.unwrap();
    tx.commit().await.unwrap();
    let elsewhere = quanyu_store::ProductFilter { category_id: Some(vegetables.id), ..Default::default() };
    assert_eq!(read(&db).await.list_products(&elsewhere, Page::first(10)).await.unwrap(), vec![], "not its sibling's");
}

async fn store_settings_upsert_and_delete(db: Arc<dyn Database>) {
    let (_, a, b) = seed_places(&db).await;
    let root = category("粮油", None);
    let rice = product(root.id, None);
    let bag = sku(rice.id, "RICE-5KG", None);
    let mut tx = write(&db).await;
    tx.insert_category(&root).await.unwrap();
    tx.insert_product(&rice).await.unwrap();
    tx.insert_sku(&bag).await.unwrap();
    let mut settings = StoreSku {
        store_id: a.id,
        sku_id: bag.id,
        price: Some(Money::from_fen(4990)),
        member_price: None,
        available_in_store: true,
        available_online: false,
        updated_at: now(),
    };
    tx.put_store_sku(&settings).await.unwrap();
    settings.price = Some(Money::from_fen(4890));
    settings.available_online = true;
    tx.put_store_sku(&settings).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = write(&db).await;
    assert_eq!(tx.get_store_sku(a.id, bag.id).await.unwrap(), Some(settings));
    assert_eq!(tx.get_store_sku(b.id, bag.id).await.unwrap(), None);
    assert_eq!(tx.list_store_skus(a.id, Page::first(10)).await.unwrap(), vec![settings]);
    assert!(tx.delete_store_sku(a.id, bag.id).await.unwrap());
    assert!(!tx.delete_store_sku(a.id, bag.id).await.unwrap());
}

async fn audit_log_is_newest_first_and_filtered(db: Arc<dyn Database>) {
    let store_id = StoreId::new();
    let entry = |action: &str, entity_id: &str, store: Option<StoreId>| AuditEntry {
        id: AuditId::new(),
        at: now(),
        actor_id: None,
        actor_name: "system".into(),
        action: action.into(),
        entity_type: "store".into(),
        entity_id: entity_id.into(),
        store_id: store,
        ip: Some("10.0.0.1".into()),
        user_agent: None,
        changes: vec![FieldChange { field: "name".into(), before: None, after: Some("新店".into()) }],
    };
    let entries = [
        entry("store.created", "1", Some(store_id)),
        entry("store.updated", "1", Some(store_id)),
        entry("store.created", "2", None),
    ];
    let mut tx = write(&db).await;
    for e in &entries {
        tx.append_audit(e).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    let all = tx.list_audit(&AuditFilter::default(), Page::first(10)).await.unwrap();
    assert_eq!(all, vec![entries[2].clone(), entries[1].clone(), entries[0].clone()]);
    let first_store = AuditFilter { entity_id: Some("1".into()), ..Default::default() };
    assert_eq!(tx.list_audit(&first_store, Page::first(10)).await.unwrap().len(), 2);
    let by_store = AuditFilter { store_id: Some(store_id), ..Default::default() };
    assert_eq!(tx.list_audit(&by_store, Page::first(10)).await.unwrap().len(), 2);
    let older = Page { after: Some(entries[1].id.as_uuid()), limit: 10 };
    assert_eq!(tx.list_audit(&AuditFilter::default(), older).await.unwrap(), vec![entries[0].clone()]);
    let created = AuditFilter { action: Some("store.created".into()), ..Default::default() };
    assert_eq!(tx.list_audit(&created, Page::first(10)).await.unwrap(), vec![entries[2].clone(), entries[0].clone()]);
    let hour = chrono::Duration::hours(1);
    let this_hour = AuditFilter { since: Some(now() - hour), until: Some(now() + hour), ..Default::default() };
    assert_eq!(tx.list_audit(&this_hour, Page::first(10)).await.unwrap().len(), 3);
    let later = AuditFilter { since: Some(now() + hour), ..Default::default() };
    assert!(tx.list_audit(&later, Page::first(10)).await.unwrap().is_empty());
    let earlier = AuditFilter { until: Some(now() - hour), ..Default::default() };
    assert!(tx.list_audit(&earlier, Page::first(10)).await.unwrap().is_empty());
}

async fn outbox_events_are_numbered_in_order(db: Arc<dyn Database>) {
    let mut tx = write(&db).await;
    let mut seqs = Vec::new();
    for kind in ["store.created", "store.updated", "sku.created"] {
        let event = OutboxEvent {
            id: EventId::new(),
            seq: 0,
            at: now(),
            kind: kind.into(),
            entity_type: "store".into(),
            entity_id: "1".into(),
            payload: serde_json::json!({ "kind": kind }),
        };
        seqs.push(tx.append_event(&event).await.unwrap());
    }
    tx.commit().await.unwrap();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let mut tx = read(&db).await;
    let after_first = tx.events_after(seqs[0], 10).await.unwrap();
    assert_eq!(after_first.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["store.updated", "sku.created"]);
    assert_eq!(after_first[1].payload, serde_json::json!({ "kind": "sku.created" }));
    drop(tx);

    // Many at once (more than one statement's worth) keep their order.
    let many: Vec<OutboxEvent> = (0..1_201)
        .map(|n| OutboxEvent {
            id: EventId::new(),
            seq: 0,
            at: now(),
            kind: "customer.stage_changed".into(),
            entity_type: "customer".into(),
            entity_id: n.to_string(),
            payload: serde_json::json!({ "n": n }),
        })
        .collect();
    let mut tx = write(&db).await;
    tx.append_events(&many).await.unwrap();
    tx.append_events(&[]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    let appended = tx.events_after(seqs[2], 5_000).await.unwrap();
    assert_eq!(appended.iter().map(|e| e.id).collect::<Vec<_>>(), many.iter().map(|e| e.id).collect::<Vec<_>>());
    assert_eq!(appended[1_200].payload, serde_json::json!({ "n": 1_200 }));
    assert!(appended.windows(2).all(|w| w[0].seq < w[1].seq));
}

async fn idempotency_keys_are_claimed_once(db: Arc<dyn Database>) {
    let actor = StaffId::new();
    let mut record = IdempotencyRecord {
        actor_id: actor,
        key: "k1".into(),
        fingerprint: "f".into(),
        status: 0,
        body: vec![],
        created_at: now(),
    };
    let mut tx = write(&db).await;
    tx.insert_idempotency(&record).await.unwrap();
    record.status = 201;
    record.body = b"{\"id\":1}".to_vec();
    assert!(tx.complete_idempotency(&record).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = write(&db).await;
    assert_eq!(tx.get_idempotency(actor, "k1").await.unwrap(), Some(record.clone()));
    assert_eq!(tx.get_idempotency(StaffId::new(), "k1").await.unwrap(), None, "keys are per actor");
    assert!(matches!(tx.insert_idempotency(&record).await, Err(StoreError::Duplicate(UniqueKey::IdempotencyKey))));
}

async fn both_backends_reach_the_same_logical_schema(db: Arc<dyn Database>) {
    let schema = db.logical_schema().await.unwrap();
    assert!(schema.columns.iter().all(|c| !c.logical_type.starts_with("unknown")), "{schema:?}");
    assert!(schema.columns.iter().any(|c| c.table == "skus" && c.column == "barcode" && c.nullable));
    // Compare with the other backend when both are available.
    let other = match db.backend() {
        quanyu_store::Backend::Sqlite => quanyu_store::testing::postgres().await,
        quanyu_store::Backend::Postgres => Some(quanyu_store::testing::sqlite().await),
    };
    if let Some(other) = other {
        let theirs = other.database().logical_schema().await.unwrap();
        let differences: Vec<_> = schema
            .columns
            .iter()
            .filter(|c| !theirs.columns.contains(c))
            .chain(theirs.columns.iter().filter(|c| !schema.columns.contains(c)))
            .collect();
        assert!(differences.is_empty(), "the backends differ: {differences:#?}");
    }
}

async fn stock_changes_are_guarded_and_add_up(db: Arc<dyn Database>) {
    use quanyu_domain::{
        ids::StockEntryId,
        inventory::{MovementKind, Qty, StockChange},
    };
    use quanyu_store::StockEntry;
    let (_, a, b) = seed_places(&db).await;
    let root = category("蛋类", None);
    let eggs = product(root.id, None);
    let box30 = sku(eggs.id, "EGG-30", None);
    let mut tx = write(&db).await;
    tx.insert_category(&root).await.unwrap();
    tx.insert_product(&eggs).await.unwrap();
    tx.insert_sku(&box30).await.unwrap();
    tx.commit().await.unwrap();
    let entry = |change: StockChange, key: &str| StockEntry {
        id: StockEntryId::new(),
        store_id: a.id,
        sku_id: box30.id,
        change: "test".into(),
        deltas: change.deltas().unwrap(),
        reason: None,
        reference: Some("PO-9".into()),
        idempotency_key: key.into(),
        actor_id: None,
        at: now(),
    };
    let mut tx = write(&db).await;
    let received =
        tx.apply_stock(&entry(StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: 5 }, "k1")).await;
    assert_eq!(received.unwrap().unwrap().on_hand, Qty::new(5));
    assert_eq!(tx.apply_stock(&entry(StockChange::Reserve(Qty::new(6)), "k2")).await.unwrap(), None, "refused");
    let held = tx.apply_stock(&entry(StockChange::Reserve(Qty::new(5)), "k3")).await.unwrap().unwrap();
    assert_eq!(held.available(), Qty::ZERO);
    assert_eq!(tx.apply_stock(&entry(StockChange::SellAvailable(Qty::new(1)), "k4")).await.unwrap(), None);
    let elsewhere = StockEntry { store_id: b.id, ..entry(StockChange::Reserve(Qty::new(1)), "k5") };
    assert_eq!(tx.apply_stock(&elsewhere).await.unwrap(), None, "nothing to reserve where nothing was received");
    tx.commit().await.unwrap();
    let mut tx = write(&db).await;
    let reused = tx.apply_stock(&entry(StockChange::Release(Qty::new(1)), "k1")).await;
    assert!(matches!(reused, Err(StoreError::Duplicate(UniqueKey::StockEntryKey))), "{reused:?}");
    drop(tx);
    let mut tx = read(&db).await;
    assert_eq!(tx.stock_entry_by_key("k3").await.unwrap().unwrap().deltas.reserved, 5);
    let entries = tx.list_stock_entries(a.id, box30.id, Page::first(10)).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.idempotency_key.as_str()).collect::<Vec<_>>(), ["k3", "k1"]);
    let row = tx.get_stock(a.id, box30.id).await.unwrap().unwrap();
    assert_eq!((row.levels.on_hand, row.levels.reserved), (Qty::new(5), Qty::new(5)));
    assert_eq!(tx.list_stock(a.id, &Sorting::default(), Page::first(10)).await.unwrap(), vec![row]);
    assert_eq!(tx.reconcile_stock().await.unwrap(), vec![]);
}

/// The sales not over at `at` that start by `until`, in every store: a sale ending exactly at
/// `at` is over, one starting exactly at `until` is in; soonest first, cut at the limit.
async fn flash_sales_starting_by_span_every_store_soonest_first(db: Arc<dyn Database>) {
    use chrono::Duration;
    let (_, a, b) = seed_places(&db).await;
    let root = category("饮料", None);
    let cola = product(root.id, None);
    let can = sku(cola.id, "COLA-330", None);
    let (at, until) = (now(), now() + Duration::minutes(10));
    let sale =
        |store_id: StoreId, starts_at: Timestamp, ends_at: Timestamp| flash_sale(store_id, can.id, starts_at, ends_at);
    let hour = Duration::hours(1);
    let ended_at_at = sale(a.id, at - hour, at);
    let ended_before = sale(b.id, at - hour, at - Duration::minutes(1));
    let running = sale(a.id, at - hour, at + hour);
    let starting_at_until = sale(b.id, until, until + hour);
    let starting_soon = sale(b.id, at + Duration::minutes(5), at + hour);
    let starting_after = sale(a.id, until + Duration::microseconds(1), until + hour);
    let mut tx = write(&db).await;
    tx.insert_category(&root).await.unwrap();
    tx.insert_product(&cola).await.unwrap();
    tx.insert_sku(&can).await.unwrap();
    for s in [&ended_at_at, &ended_before, &running, &starting_at_until, &starting_soon, &starting_after] {
        tx.insert_flash_sale(s).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    let found = tx.flash_sales_starting_by(at, until, 10).await.unwrap();
    assert_eq!(found, [running.id, starting_soon.id, starting_at_until.id]);
    assert_eq!(tx.flash_sales_starting_by(at, until, 2).await.unwrap(), [running.id, starting_soon.id]);
    assert_eq!(tx.flash_sales_starting_by(at, at, 10).await.unwrap(), [running.id], "only what has started");
}

/// A reservation's request key is unique within its sale only: the same buyer and key on two
/// sales are two reservations, the same key twice in one sale is refused and named.
async fn flash_reservation_keys_are_unique_per_sale(db: Arc<dyn Database>) {
    use chrono::Duration;
    use quanyu_domain::{
        flash::{Buyer, BuyerBuf, HoldStatus},
        ids::CustomerId,
    };
    use quanyu_store::{FlashReservation, StoreError, UniqueKey};
    let (_, a, _) = seed_places(&db).await;
    let root = category("饮料", None);
    let cola = product(root.id, None);
    let can = sku(cola.id, "COLA-330", None);
    let at = now();
    let sale = || flash_sale(a.id, can.id, at, at + Duration::hours(1));
    let (x, y) = (sale(), sale());
    let (alice, bob) = (CustomerId::new(), CustomerId::new());
    let held = |sale_id: uuid::Uuid, buyer: BuyerBuf| FlashReservation {
        id: uuid::Uuid::now_v7(),
        sale_id,
        buyer,
        quantity: 1,
        idempotency_key: "same-key".into(),
        at,
        status: HoldStatus::Held,
        expires_at: at + Duration::minutes(15),
        order_id: None,
    };
    let named = || BuyerBuf::Named("13800138000".into());
    let mut tx = write(&db).await;
    tx.insert_category(&root).await.unwrap();
    tx.insert_product(&cola).await.unwrap();
    tx.insert_sku(&can).await.unwrap();
    tx.insert_flash_sale(&x).await.unwrap();
    tx.insert_flash_sale(&y).await.unwrap();
    // One key is each buyer's own, in each sale.
    let first = held(x.id, BuyerBuf::Member(alice));
    let by_name = held(x.id, named());
    tx.insert_flash_reservations(&[first.clone(), held(y.id, BuyerBuf::Member(alice))]).await.unwrap();
    tx.insert_flash_reservations(&[held(x.id, BuyerBuf::Member(bob)), by_name.clone()]).await.unwrap();
    tx.add_flash_buyers(x.id, &[(BuyerBuf::Member(alice), 1), (named(), 1)]).await.unwrap();
    tx.add_flash_buyers(x.id, &[(BuyerBuf::Member(alice), 2), (BuyerBuf::Member(bob), 1)]).await.unwrap();
    tx.commit().await.unwrap();
    for again in [held(x.id, BuyerBuf::Member(alice)), held(x.id, named())] {
        let mut tx = write(&db).await;
        let twice = tx.insert_flash_reservations(&[again]).await.unwrap_err();
        assert!(matches!(twice, StoreError::Duplicate(UniqueKey::FlashReservationKey)), "{twice:?}");
        assert_eq!(twice.to_string(), "a flash-sale reservation key with this value already exists");
    }
    let mut tx = read(&db).await;
    let mut rows = tx.flash_sale_reservations(x.id).await.unwrap();
    rows.sort_by_key(|r| r.id);
    let mut expect = vec![first.clone(), by_name.clone()];
    expect.push(rows.iter().find(|r| r.buyer == BuyerBuf::Member(bob)).unwrap().clone());
    expect.sort_by_key(|r| r.id);
    assert_eq!(rows, expect, "members by id and a named buyer read back as written");
    assert_eq!(tx.flash_sale_reservations(y.id).await.unwrap().len(), 1);
    let mut buyers = tx.flash_sale_buyers(x.id).await.unwrap();
    buyers.sort();
    let mut counted = vec![(BuyerBuf::Member(alice), 3), (BuyerBuf::Member(bob), 1), (named(), 1)];
    counted.sort();
    assert_eq!(buyers, counted);
    drop(tx);

    // Released units, by buyer of either kind.
    let mut tx = write(&db).await;
    tx.insert_flash_release(&first).await.unwrap();
    tx.insert_flash_release(&by_name).await.unwrap();
    tx.release_buyer_quota(x.id, Buyer::Member(alice), 1).await.unwrap();
    tx.release_buyer_quota(x.id, Buyer::Named("13800138000"), 1).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    let asked = [Buyer::Member(alice), Buyer::Member(bob), Buyer::Named("13800138000"), Buyer::Named("other")];
    let mut released = tx.flash_released_units(x.id, &asked).await.unwrap();
    released.sort();
    let mut expect = vec![(BuyerBuf::Member(alice), 1), (named(), 1)];
    expect.sort();
    assert_eq!(released, expect);
    let mut buyers = tx.flash_sale_buyers(x.id).await.unwrap();
    buyers.sort();
    let mut counted = vec![(BuyerBuf::Member(alice), 2), (BuyerBuf::Member(bob), 1), (named(), 0)];
    counted.sort();
    assert_eq!(buyers, counted);
}

/// The full rebuild's scans (on SQLite through the C API, not sqlx) read back exactly what the
/// repositories wrote: live customers only, every scores column (a missing last order, times to
/// the microsecond), and only the tags asked for.
async fn whole_table_scans_read_back_what_was_written(db: Arc<dyn Database>) {
    use quanyu_domain::{customer::Customer, ids::CustomerId};
    use quanyu_store::{CustomerScores, Tag};

    let registered = now() - chrono::Duration::days(400) + chrono::Duration::microseconds(123_457);
    let customer = |ordinal: i64, merged_into: Option<CustomerId>| Customer {
        merged_into,
        created_at: registered + chrono::Duration::seconds(ordinal),
        ..member(ordinal, registered)
    };
    let (kept, other) = (customer(1, None), customer(2, None));
    let absorbed = customer(3, Some(kept.id));
    let scores = |c: &Customer, last_order_at, stage: &str| CustomerScores {
        customer_id: c.id,
        orders: 3,
        spend: 12_345,
        last_order_at,
        r: 5,
        f: 2,
        m: 1,
        stage: stage.into(),
        stage_entered_at: registered,
        updated_at: now(),
    };
    let rows = [
        scores(&kept, Some(now() - chrono::Duration::microseconds(1)), "growth"),
        scores(&other, None, "introduction"),
    ];
    let tag = |name: &str| Tag {
        id: uuid::Uuid::now_v7(),
        name: name.into(),
        kind: "computed".into(),
        description: None,
        rule: None,
        created_at: now(),
    };
    let (asked, other_tag) = (tag("消费力:高"), tag("偏好:乳品"));
    let mut tx = write(&db).await;
    for c in [&kept, &other, &absorbed] {
        tx.insert_customer(c).await.unwrap();
    }
    tx.put_scores(&rows).await.unwrap();
    tx.insert_tag(&asked).await.unwrap();
    tx.insert_tag(&other_tag).await.unwrap();
    tx.tag_customers(asked.id, &[kept.id, other.id], "computed", now()).await.unwrap();
    tx.tag_customers(other_tag.id, &[kept.id], "computed", now()).await.unwrap();
    assert_eq!(tx.untag_customers(asked.id, &[other.id, absorbed.id]).await.unwrap(), 1);
    tx.commit().await.unwrap();

    let mut tx = read(&db).await;
    let mut live = Vec::new();
    tx.scan_live_customers(&mut |id, at| live.push((id, at))).await.unwrap();
    live.sort();
    let mut expected = vec![(kept.id, kept.created_at), (other.id, other.created_at)];
    expected.sort();
    assert_eq!(live, expected);
    let mut scanned = Vec::new();
    tx.scan_scores(&mut |row| scanned.push(row)).await.unwrap();
    scanned.sort_by_key(|row| row.customer_id);
    let mut rows = rows.to_vec();
    rows.sort_by_key(|row| row.customer_id);
    assert_eq!(scanned, rows);
    let mut tagged = Vec::new();
    tx.scan_tagged(&[asked.id], &mut |customer, tag| tagged.push((customer, tag))).await.unwrap();
    assert_eq!(tagged, [(kept.id, asked.id)]);
    tx.scan_tagged(&[], &mut |_, _| panic!("no tags asked")).await.unwrap();
}

/// The log of audience changes names every customer whose tags, scores, points, tier or home
/// store changed after a cursor, each once per read; the rows and tags of just those customers
/// read back. A read may name a customer again (on PostgreSQL, while other transactions hold
/// the cursor back) but never one that did not change.
async fn audience_changes_name_who_changed_after_a_cursor(db: Arc<dyn Database>) {
    use quanyu_store::{CustomerScores, Tag};

    let customer = |ordinal: i64| member(ordinal, now());
    let changes = |cursor: &quanyu_store::AudienceCursor, limit: u32| {
        let (db, cursor) = (db.clone(), cursor.clone());
        async move { read(&db).await.audience_changes(&cursor, limit).await.unwrap() }
    };
    let start = read(&db).await.audience_cursor().await.unwrap();
    let (a, b, c) = (customer(1), customer(2), customer(3));
    let vip = Tag {
        id: uuid::Uuid::now_v7(),
        name: "vip".into(),
        kind: "manual".into(),
        description: None,
        rule: None,
        created_at: now(),
    };
    let mut tx = write(&db).await;
    for customer in [&a, &b, &c] {
        tx.insert_customer(customer).await.unwrap();
    }
    tx.insert_tag(&vip).await.unwrap();
    tx.commit().await.unwrap();
    let (seen, after_insert) = changes(&start, 10).await;
    assert_eq!(seen.map(sorted), Some(vec![1, 2, 3]), "new customers");
    let again = changes(&after_insert, 10).await.0.expect("within the limit");
    assert!(again.iter().all(|o| [1, 2, 3].contains(o)), "nothing that did not change: {again:?}");

    let mut tx = write(&db).await;
    tx.tag_customers(vip.id, &[a.id], "manual", now()).await.unwrap();
    let scores = CustomerScores {
        customer_id: b.id,
        orders: 1,
        spend: 990,
        last_order_at: Some(now()),
        r: 5,
        f: 1,
        m: 1,
        stage: "introduction".into(),
        stage_entered_at: now(),
        updated_at: now(),
    };
    tx.put_scores(&[scores]).await.unwrap();
    tx.commit().await.unwrap();
    let (seen, after_tagging) = changes(&after_insert, 10).await;
    let seen = seen.expect("within the limit");
    assert!(seen.contains(&1) && seen.contains(&2), "tagged, and scored: {seen:?}");
    assert_eq!(changes(&after_insert, 1).await.0, None, "more than the limit: read everyone instead");

    let mut tx = write(&db).await;
    assert_eq!(tx.untag_customers(vip.id, &[a.id]).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let (seen, _) = changes(&after_tagging, 10).await;
    assert!(seen.expect("within the limit").contains(&1), "untagged");

    let mut tx = write(&db).await;
    tx.tag_customers(vip.id, &[c.id], "manual", now()).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    let rows = tx.audience_rows_of(&[2, 3, 99]).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.ordinal, r.spend, r.stage.clone())).collect::<Vec<_>>(),
        [(2, 990, Some("introduction".to_owned())), (3, 0, None)]
    );
    assert_eq!(tx.tag_rows_of(&[1, 3]).await.unwrap(), [(3, "vip".to_owned())]);
    assert_eq!(tx.tag_rows(2, 3).await.unwrap(), [(3, "vip".to_owned())], "a range of ordinals");
    assert_eq!(tx.tag_rows(0, 2).await.unwrap(), [], "its bounds: after, up to");
    assert_eq!(tx.tag_rows(3, 99).await.unwrap(), []);
    assert_eq!(tx.list_tags().await.unwrap(), std::slice::from_ref(&vip));
    drop(tx);

    let mut tx = write(&db).await;
    assert!(tx.prune_audience_changes(now() - chrono::Duration::hours(1)).await.unwrap() == 0, "all recent");
    assert!(tx.prune_audience_changes(now() + chrono::Duration::hours(1)).await.unwrap() >= 6);
    tx.commit().await.unwrap();
    assert_eq!(changes(&start, 10).await.0, Some(vec![]), "pruned");
}

/// A change committed while an older transaction is still open (on PostgreSQL it holds the
/// cursor back) is named once, not again by the next read from the cursor that read it; it is
/// named again only from a cursor taken before it.
async fn audience_changes_are_not_named_again_while_an_older_transaction_runs(db: Arc<dyn Database>) {
    let (a, b) = (member(1, now()), member(2, now()));
    let mut tx = write(&db).await;
    tx.insert_customer(&a).await.unwrap();
    tx.commit().await.unwrap();
    let start = read(&db).await.audience_cursor().await.unwrap();
    // SQLite has one writer: nothing can commit beside an open write there.
    let older = match db.backend() {
        quanyu_store::Backend::Postgres => {
            let mut older = write(&db).await;
            older.insert_customer(&member(3, now())).await.unwrap();
            Some(older)
        }
        _ => None,
    };
    let mut tx = write(&db).await;
    tx.insert_customer(&b).await.unwrap();
    tx.commit().await.unwrap();
    let (named, next) = read(&db).await.audience_changes(&start, 100).await.unwrap();
    assert!(named.expect("within the limit").contains(&2), "the committed change");
    let (again, next) = read(&db).await.audience_changes(&next, 100).await.unwrap();
    assert!(!again.expect("within the limit").contains(&2), "not named again from the cursor that read it");
    if let Some(older) = older {
        older.commit().await.unwrap();
    }
    let (last, _) = read(&db).await.audience_changes(&next, 100).await.unwrap();
    let last = last.expect("within the limit");
    assert!(!last.contains(&2), "{last:?}");
    if db.backend() == quanyu_store::Backend::Postgres {
        assert!(last.contains(&3), "the older transaction's change, once it committed");
    }
}

/// A store that moves to another region or takes a new code changes its customers' `region` and
/// `home_store`, and a region's new code its stores' customers': the log names them; a store
/// saved unchanged, or renamed only, names nobody.
async fn audience_changes_name_a_moved_stores_customers(db: Arc<dyn Database>) {
    let (north, south) = (region("N"), region("S"));
    let (mut a, b) = (store("A", north.id), store("B", north.id));
    let (mut x, mut y, z) = (member(1, now()), member(2, now()), member(3, now()));
    (x.home_store_id, y.home_store_id) = (Some(a.id), Some(b.id));
    let mut tx = write(&db).await;
    tx.insert_region(&north).await.unwrap();
    tx.insert_region(&south).await.unwrap();
    tx.insert_store(&a).await.unwrap();
    tx.insert_store(&b).await.unwrap();
    for customer in [&x, &y, &z] {
        tx.insert_customer(customer).await.unwrap();
    }
    tx.commit().await.unwrap();
    // Who the log names for the changes committed since `mark()`, which empties the log (on
    // PostgreSQL the cursor may lag behind work committed earlier, held back by others).
    let mark = || {
        let db = db.clone();
        async move {
            let mut tx = write(&db).await;
            tx.prune_audience_changes(now() + chrono::Duration::hours(1)).await.unwrap();
            tx.commit().await.unwrap();
            read(&db).await.audience_cursor().await.unwrap()
        }
    };
    let named_since = |cursor: quanyu_store::AudienceCursor| {
        let db = db.clone();
        async move { sorted(read(&db).await.audience_changes(&cursor, 100).await.unwrap().0.unwrap()) }
    };

    let since = mark().await;
    a.name = "A 店（新名）".into();
    let mut tx = write(&db).await;
    assert!(tx.update_store(&a).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(named_since(since).await, Vec::<i64>::new(), "a new name alone changes nobody's attributes");

    let since = mark().await;
    a.region_id = south.id;
    let mut tx = write(&db).await;
    assert!(tx.update_store(&a).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(named_since(since).await, [1], "the moved store's customer");

    let since = mark().await;
    a.code = "A2".into();
    let mut tx = write(&db).await;
    assert!(tx.update_store(&a).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(named_since(since).await, [1], "a store's new code");

    let since = mark().await;
    let north = Region { code: "N2".into(), ..north };
    let mut tx = write(&db).await;
    assert!(tx.update_region(&north).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(named_since(since).await, [2], "the region's remaining store's customer");
}

/// A live customer with no store, guide or tier, registered `at`.
fn member(ordinal: i64, at: Timestamp) -> quanyu_domain::customer::Customer {
    quanyu_domain::customer::Customer {
        id: quanyu_domain::ids::CustomerId::new(),
        ordinal,
        display_name: None,
        home_store_id: None,
        guide_id: None,
        tier_id: None,
        merged_into: None,
        created_at: at,
        updated_at: at,
    }
}

fn sorted(mut ordinals: Vec<i64>) -> Vec<i64> {
    ordinals.sort_unstable();
    ordinals
}

/// An order of `channel` and `status` at `store`, for `table`, with no lines.
fn table_order(store: StoreId, channel: &str, status: &str, table: Option<&str>) -> quanyu_domain::order::Order {
    use quanyu_domain::order::{Order, OrderChannel, OrderStatus};
    Order {
        id: quanyu_domain::ids::OrderId::new(),
        store_id: store,
        channel: OrderChannel::parse(channel).unwrap(),
        status: OrderStatus::parse(status).unwrap(),
        pickup_code: None,
        customer_phone: None,
        customer_id: None,
        delivery_address: None,
        note: None,
        table: table.map(|t| quanyu_domain::table::TableLabel::parse(t).unwrap()),
        delivery_location: None,
        lines: Vec::new(),
        subtotal: Money::ZERO,
        discount: Money::ZERO,
        delivery_fee: Money::ZERO,
        total: Money::ZERO,
        paid: Money::ZERO,
        refunded: Money::ZERO,
        hold_expires_at: None,
        promised_at: None,
        fulfilled_at: None,
        created_by: None,
        created_at: now(),
        updated_at: now(),
    }
}

/// A table of a store has one open eat-first bill at a time, however many writers open one at
/// once: other stores, other channels, settled bills and bills without a table are not held up.
/// The store's open bills read back by table, and the order list finds a table's orders.
async fn a_table_has_one_open_bill_at_a_time(db: Arc<dyn Database>) {
    use quanyu_domain::order::OrderStatus;
    use quanyu_store::OrderFilter;
    let (_, a, b) = seed_places(&db).await;
    let eat =
        |store: &Store, status: &str, table: Option<&str>| table_order(store.id, "table_eat_first", status, table);
    let open_a3 = eat(&a, "created", Some("A3"));
    let mut tx = write(&db).await;
    for order in [
        &open_a3,
        &eat(&b, "created", Some("A3")),
        &table_order(a.id, "table_pay_first", "created", Some("A3")),
        &eat(&a, "completed", Some("A3")),
        &eat(&a, "created", Some("B1")),
        &eat(&a, "created", None),
        &eat(&a, "created", None),
    ] {
        tx.insert_order(order).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = write(&db).await;
    let twice = tx.insert_order(&eat(&a, "created", Some("A3"))).await.unwrap_err();
    assert!(matches!(twice, StoreError::Duplicate(UniqueKey::OpenTableBill)), "{twice:?}");
    drop(tx);

    let mut tx = read(&db).await;
    assert_eq!(tx.get_order(open_a3.id).await.unwrap().unwrap().table, open_a3.table, "the table reads back");
    let open: Vec<_> = tx.open_table_bills(a.id, None).await.unwrap().into_iter().map(|o| o.table).collect();
    let label = |t: &str| Some(quanyu_domain::table::TableLabel::parse(t).unwrap());
    assert_eq!(open, [label("A3"), label("B1"), None, None], "by table, unlabelled last on both backends");
    let at_a3 = tx.open_table_bills(a.id, Some("A3")).await.unwrap();
    assert_eq!(at_a3.iter().map(|o| o.id).collect::<Vec<_>>(), [open_a3.id]);
    let filter = |table: &str| OrderFilter {
        place: PlaceFilter { store_id: Some(a.id), region_id: None },
        table: Some(table.into()),
        ..OrderFilter::default()
    };
    assert_eq!(tx.list_orders(&filter("A3"), Page::first(10)).await.unwrap().len(), 3, "open, pay-first, settled");
    assert_eq!(tx.list_orders(&filter("C9"), Page::first(10)).await.unwrap().len(), 0);
    drop(tx);

    // Two writers open table A7 at once: the second waits for the first, then is refused.
    let mut first = write(&db).await;
    first.insert_order(&eat(&a, "created", Some("A7"))).await.unwrap();
    let second = tokio::spawn({
        let (db, bill) = (Arc::clone(&db), eat(&a, "created", Some("A7")));
        async move {
            let mut tx = db.write().await.unwrap();
            tx.insert_order(&bill).await?;
            tx.commit().await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.commit().await.unwrap();
    let lost = second.await.unwrap().unwrap_err();
    assert!(matches!(lost, StoreError::Duplicate(UniqueKey::OpenTableBill)), "{lost:?}");

    // Settled, the table takes its next bill.
    let mut settled = open_a3.clone();
    settled.status = OrderStatus::Completed;
    settled.updated_at = now() + chrono::Duration::seconds(1);
    let mut tx = write(&db).await;
    assert!(tx.update_order(&settled, OrderStatus::Created, open_a3.updated_at).await.unwrap());
    tx.insert_order(&eat(&a, "created", Some("A3"))).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(&db).await;
    assert_eq!(tx.open_table_bills(a.id, None).await.unwrap().len(), 5);
    assert_eq!(tx.open_table_bills(b.id, None).await.unwrap().len(), 1);
}

/// A delivery's point reads back bit for bit (GCJ-02 with every digit a conversion gives, and
/// the datum it was sent in), through a single read and a list; an order without one has none.
async fn orders_keep_their_delivery_point_exactly(db: Arc<dyn Database>) {
    use quanyu_domain::{
        geo::Datum,
        order::{DeliveryLocation, OrderChannel},
    };
    use quanyu_store::OrderFilter;
    let (_, a, _) = seed_places(&db).await;
    let root = category("蛋类", None);
    let eggs = product(root.id, None);
    let box10 = sku(eggs.id, "EGG-10", None);
    let gps = Coordinates::new(31.241_234_567, 121.470_000_123).unwrap();
    let point = Datum::Wgs84.to_gcj02(gps);
    let delivery = quanyu_domain::order::Order {
        delivery_address: Some("北京东路 1 号".into()),
        delivery_location: Some(DeliveryLocation { point, sent_in: Datum::Wgs84, distance_m: 1_234 }),
        ..order(a.id, box10.id, OrderChannel::Delivery)
    };
    let on_a_map = quanyu_domain::order::Order {
        delivery_location: Some(DeliveryLocation { point: gps, sent_in: Datum::Gcj02, distance_m: 0 }),
        ..order(a.id, box10.id, OrderChannel::Delivery)
    };
    let till = order(a.id, box10.id, OrderChannel::Pos);
    let mut tx = write(&db).await;
    tx.insert_category(&root).await.unwrap();
    tx.insert_product(&eggs).await.unwrap();
    tx.insert_sku(&box10).await.unwrap();
    for written in [&delivery, &on_a_map, &till] {
        tx.insert_order(written).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = read(&db).await;
    for written in [&delivery, &on_a_map, &till] {
        let found = tx.get_order(written.id).await.unwrap().unwrap();
        assert_eq!(&found, written);
        let bits = |o: &quanyu_domain::order::Order| {
            o.delivery_location.map(|l| (l.point.lat().to_bits(), l.point.lng().to_bits()))
        };
        assert_eq!(bits(&found), bits(written), "the point's every bit");
    }
    let listed = tx.list_orders(&OrderFilter::default(), Page::first(10)).await.unwrap();
    let listed: Vec<_> = listed.iter().map(|o| (o.id, o.delivery_location)).collect();
    for written in [&delivery, &on_a_map, &till] {
        assert!(listed.contains(&(written.id, written.delivery_location)), "{listed:?}");
    }
}
