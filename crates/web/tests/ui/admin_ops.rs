//! The admin console's operations pages: stores (with the scatter), staff, catalog, inventory,
//! stock documents and the audit log render for HQ, show a region or store manager only their
//! part of the chain, refuse a cashier, and export every row as CSV.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use quanyu_store::Database;
use serde_json::json;

use crate::support::{TestApp, spawn_app};

quanyu_store::backend_tests!(
    stores_show_the_scatter_and_only_the_viewers_stores,
    store_pages_offer_what_the_role_may_change,
    staff_are_listed_within_scope,
    catalog_search_and_the_store_price_override,
    inventory_shows_levels_low_stock_and_the_ledger,
    documents_list_and_offer_the_steps_the_role_may_take,
    the_audit_log_filters_and_exports,
    a_cashier_is_refused_every_operations_page,
);

/// A product with one SKU (`MILK-1`, ¥12.50); returns the SKU's id.
async fn milk(app: &TestApp) -> String {
    let skus =
        json!([{"code": "MILK-1", "name": "鲜牛奶 1L", "unit": "盒", "base_price": 1250, "barcode": "6901234567892"}]);
    let product = app.create_product("鲜牛奶", skus).await;
    product["skus"][0]["id"].as_str().unwrap().to_owned()
}

fn assert_csv(response: &crate::support::TestResponse) -> Vec<String> {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(response.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
    let text = response.text.strip_prefix('\u{feff}').expect("a byte-order mark for spreadsheets");
    text.lines().map(str::to_owned).collect()
}

async fn stores_show_the_scatter_and_only_the_viewers_stores(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let page = app.get_as(&app.admin, "/admin/stores").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("<svg") && page.text.contains("门店分布"), "the scatter is drawn");
    assert_eq!(page.text.matches("<circle").count(), 3, "one dot per store");
    assert!(page.text.contains(&format!(r#"<a href="/admin/stores/{}">"#, app.store_c)), "dots link to stores");
    for code in ["N-A", "N-B", "S-C", "北区", "南区"] {
        assert!(page.text.contains(code), "{code}");
    }
    assert!(page.text.contains("新开门店") && page.text.contains(r#"data-form="region-create""#), "HQ opens stores");

    let region = app.get_as(&app.region_manager_n, "/admin/stores").await;
    assert_eq!(region.status, StatusCode::OK, "{}", region.text);
    assert!(region.text.contains("N-A") && region.text.contains("N-B") && !region.text.contains("S-C"));
    assert!(!region.text.contains("新开门店"), "only HQ opens stores");
    let store = app.get_as(&app.manager_a, "/admin/stores").await;
    assert!(store.text.contains("N-A") && !store.text.contains("N-B"), "{}", store.text);

    let filtered = app.get_as(&app.admin, &format!("/admin/stores?region_id={}&q=B", app.region_n)).await;
    let row = |id: &str, code: &str| format!(r#"<a href="/admin/stores/{id}">{code}</a>"#);
    assert!(filtered.text.contains(&row(&app.store_b, "N-B")), "{}", filtered.text);
    assert!(!filtered.text.contains(&row(&app.store_a, "N-A")), "filters narrow the table");

    // Column headers sort; the sort reaches the CSV link and the CSV.
    let sorted = app.get_as(&app.admin, "/admin/stores?sort=-code").await;
    let (a_at, c_at) = (sorted.text.find(">N-A</a>").unwrap(), sorted.text.find(">S-C</a>").unwrap());
    assert!(c_at < a_at, "S-C before N-A");
    let header = r#"<th scope="col" aria-sort="descending"><a class="sort" href="&#x2f;admin&#x2f;stores?sort=code">"#;
    assert!(sorted.text.contains(header), "{}", sorted.text);
    assert!(sorted.text.contains("&#x2f;admin&#x2f;stores&#x2f;export.csv?sort=-code"), "{}", sorted.text);
    let csv = assert_csv(&app.get_as(&app.admin, "/admin/stores/export.csv?sort=-code").await);
    assert!(csv[1].starts_with("S-C,") && csv[3].starts_with("N-A,"), "{csv:?}");
    let csv = assert_csv(&app.get_as(&app.admin, "/admin/stores/export.csv").await);
    assert_eq!(csv.len(), 4, "{csv:?}");
    assert!(csv[0].starts_with("code,name,region") && csv.iter().any(|l| l.starts_with("S-C,南区 C 店,南区")));
    let csv = assert_csv(&app.get_as(&app.region_manager_n, "/admin/stores/export.csv").await);
    assert_eq!(csv.len(), 3, "the region's two stores: {csv:?}");
}

async fn store_pages_offer_what_the_role_may_change(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let detail = app.get_as(&app.manager_a, &format!("/admin/stores/{}", app.store_a)).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert!(detail.text.contains(r#"data-form="store-edit""#) && detail.text.contains(r#"name="delivery_radius_m""#));
    assert!(!detail.text.contains(r#"name="code""#), "code and region are HQ's");
    let admin = app.get_as(&app.admin, &format!("/admin/stores/{}", app.store_a)).await;
    assert!(admin.text.contains(r#"name="code""#) && admin.text.contains(r#"name="region_id""#));
    let other = app.get_as(&app.manager_a, &format!("/admin/stores/{}", app.store_b)).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "another store is out of scope");
    assert_eq!(app.get_as(&app.region_manager_n, "/admin/stores/new").await.status, StatusCode::FORBIDDEN);
    let new = app.get_as(&app.admin, "/admin/stores/new").await;
    assert!(new.status == StatusCode::OK && new.text.contains(r#"data-form="store-create""#));
}

async fn staff_are_listed_within_scope(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let all = app.get_as(&app.admin, "/admin/staff").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    for name in ["rm-n", "sm-a", "cashier-a", "cashier-b", "cashier-c", "收银员"] {
        assert!(all.text.contains(name), "{name}");
    }
    let store = app.get_as(&app.manager_a, "/admin/staff").await;
    assert!(store.text.contains("cashier-a") && !store.text.contains("cashier-b") && !store.text.contains("cashier-c"));
    assert!(store.text.contains(r#"data-form="staff-create""#), "managers appoint staff");
    let cashiers = app.get_as(&app.admin, "/admin/staff?role=cashier&q=-b").await;
    assert!(cashiers.text.contains("cashier-b") && !cashiers.text.contains("cashier-a"));
    let detail = app.get_as(&app.manager_a, &format!("/admin/staff/{}", app.cashier_b_id)).await;
    assert_eq!(detail.status, StatusCode::FORBIDDEN, "another store's cashier");
    let detail = app.get_as(&app.admin, &format!("/admin/staff/{}", app.cashier_b_id)).await;
    assert!(detail.text.contains("data-staff-status=\"disabled\""), "HQ may disable: {}", detail.text);
    let csv = assert_csv(&app.get_as(&app.region_manager_n, "/admin/staff/export.csv").await);
    assert!(csv.iter().any(|l| l.starts_with("cashier-b,")) && !csv.iter().any(|l| l.starts_with("cashier-c,")));
}

async fn catalog_search_and_the_store_price_override(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = milk(&app).await;
    let page = app.get_as(&app.manager_a, "/admin/catalog?q=牛奶").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("MILK-1") && page.text.contains("¥12.50"), "{}", page.text);
    assert!(!page.text.contains(r#"data-form="product-create""#), "only HQ edits the catalog");
    assert!(app.get_as(&app.admin, "/admin/catalog").await.text.contains(r#"data-form="product-create""#));
    let none = app.get_as(&app.admin, "/admin/catalog?q=不存在").await;
    assert!(!none.text.contains("MILK-1"));

    let path = format!("/api/v1/stores/{}/skus/{sku}", app.store_a);
    let set = app.request_as(&app.manager_a, "PUT", &path, Some(json!({"price": 990, "member_price": 900}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let page = app.get_as(&app.manager_a, &format!("/admin/catalog/skus/{sku}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(r#"data-form="store-price""#) && page.text.contains("¥9.90"), "{}", page.text);
    assert!(page.text.contains(r#"value="9.90""#) && page.text.contains("门店改价"), "the override, in yuan");
    assert!(page.text.contains(r#"value="12.50""#), "the SKU editor shows yuan");
    let other = app.get_as(&app.admin, &format!("/admin/catalog/skus/{sku}?store_id={}", app.store_b)).await;
    assert!(other.text.contains("¥12.50") && !other.text.contains("¥9.90"), "store B keeps the chain price");

    let csv = assert_csv(&app.get_as(&app.admin, "/admin/catalog/export.csv?q=MILK").await);
    assert_eq!(csv.len(), 2, "{csv:?}");
    assert!(csv[1].starts_with("MILK-1,6901234567892,鲜牛奶 1L,盒,false,12.50,"), "{csv:?}");
}

async fn inventory_shows_levels_low_stock_and_the_ledger(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = milk(&app).await;
    let movements = format!("/api/v1/stores/{}/stock/movements", app.store_a);
    let receipt = json!({"sku_id": sku, "kind": "purchase_receipt", "quantity": 12, "reference": "DN-1"});
    assert_eq!(app.post_with_key(&app.manager_a, &movements, "r-1", receipt).await.status, StatusCode::CREATED);
    let loss = json!({"sku_id": sku, "kind": "loss", "quantity": 2, "reason": "破损"});
    assert_eq!(app.post_with_key(&app.manager_a, &movements, "l-1", loss).await.status, StatusCode::CREATED);
    let policy = format!("/api/v1/stores/{}/stock-policies/{sku}", app.store_a);
    let set = app.request_as(&app.manager_a, "PUT", &policy, Some(json!({"reorder_point": 20, "target": 50}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    let page = app.get_as(&app.manager_a, "/admin/inventory").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("鲜牛奶 1L") && page.text.contains(r#"<tr class="low">"#), "{}", page.text);
    assert!(page.text.contains("补货建议") && page.text.contains("<strong>40</strong>"), "reorder to the target");
    assert!(page.text.contains(r#"data-form="movement""#));
    assert!(!page.text.contains("data-reconcile"), "the books are HQ's to check");
    assert!(app.get_as(&app.admin, "/admin/inventory").await.text.contains("data-reconcile"));

    let ledger = app.get_as(&app.manager_a, &format!("/admin/inventory/{}/{sku}", app.store_a)).await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.text);
    assert!(ledger.text.contains("采购入库") && ledger.text.contains("报损") && ledger.text.contains("破损"));
    assert!(ledger.text.contains("DN-1") && ledger.text.contains(r#"id="kpi-on-hand">10<"#), "{}", ledger.text);

    let out = app.get_as(&app.manager_a, &format!("/admin/inventory?store_id={}", app.store_b)).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN, "another store's stock");
    let csv =
        assert_csv(&app.get_as(&app.admin, &format!("/admin/inventory/export.csv?store_id={}", app.store_a)).await);
    assert_eq!(csv[1], "N-A 北区 A 店,MILK-1,鲜牛奶 1L,盒,10,0,0,0,0,10", "{csv:?}");
}

async fn documents_list_and_offer_the_steps_the_role_may_take(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = milk(&app).await;
    let body =
        json!({"kind": "loss", "store_id": app.store_a, "lines": [{"sku_id": sku, "quantity": 1, "reason": "过期"}]});
    let loss = app.post_with_key(&app.manager_a, "/api/v1/stock-documents", "loss-1", body).await;
    assert_eq!(loss.status, StatusCode::CREATED, "{}", loss.body);
    let (id, number) = (loss.body["id"].as_str().unwrap(), loss.body["number"].as_str().unwrap());

    let list = app.get_as(&app.region_manager_n, "/admin/documents?status=submitted").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains(number) && list.text.contains("报损单") && list.text.contains("待审批"));
    let none = app.get_as(&app.region_manager_n, "/admin/documents?status=posted").await;
    assert!(!none.text.contains(number));

    // The store manager raised it; the region manager approves it.
    let mine = app.get_as(&app.manager_a, &format!("/admin/documents/{id}")).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert!(mine.text.contains(r#"value="cancel""#) && !mine.text.contains(r#"value="approve""#), "{}", mine.text);
    let region = app.get_as(&app.region_manager_n, &format!("/admin/documents/{id}")).await;
    assert!(region.text.contains(r#"value="approve""#) && region.text.contains(r#"value="reject""#));
    assert!(region.text.contains("鲜牛奶 1L") && region.text.contains("过期"));

    let csv = assert_csv(&app.get_as(&app.admin, "/admin/documents/export.csv?kind=loss").await);
    assert_eq!(csv.len(), 2, "one row per line: {csv:?}");
    assert!(csv[1].starts_with(&format!("{number},loss,submitted,N-A 北区 A 店,")), "{csv:?}");
    let south = app.get_as(&app.admin, &format!("/admin/documents?store_id={}", app.store_c)).await;
    assert!(!south.text.contains(number));
}

async fn the_audit_log_filters_and_exports(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let path = format!("/api/v1/stores/{}", app.store_a);
    let patch = app.request_as(&app.manager_a, "PATCH", &path, Some(json!({"delivery_radius_m": 4500}))).await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.body);

    let page = app.get_as(&app.admin, "/admin/audit?action=store.updated").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("store.updated") && page.text.contains("delivery_radius_m"), "{}", page.text);
    assert!(page.text.contains("<del>3000</del>") && page.text.contains("<ins>4500</ins>"), "{}", page.text);
    assert!(!page.text.contains(">store.created<"), "filtered by action");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d");
    let later = app.get_as(&app.admin, &format!("/admin/audit?action=store.updated&from={tomorrow}")).await;
    assert!(!later.text.contains("delivery_radius_m"), "filtered by day");
    let bad = app.get_as(&app.admin, "/admin/audit?from=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let csv = assert_csv(&app.get_as(&app.admin, "/admin/audit/export.csv?action=store.updated").await);
    assert_eq!(csv.len(), 2, "{csv:?}");
    assert!(csv[1].contains(",sm-a,store.updated,store,") && csv[1].contains("delivery_radius_m: 3000 → 4500"));
    let all = assert_csv(&app.get_as(&app.admin, "/admin/audit/export.csv").await);
    assert!(all.len() > 10, "every entry: {}", all.len());
    assert_eq!(app.get_as(&app.manager_a, "/admin/audit").await.status, StatusCode::FORBIDDEN);
}

async fn a_cashier_is_refused_every_operations_page(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = milk(&app).await;
    let pages = [
        "/admin/stores".to_owned(),
        "/admin/stores/export.csv".to_owned(),
        format!("/admin/stores/{}", app.store_a),
        "/admin/staff".to_owned(),
        "/admin/catalog".to_owned(),
        format!("/admin/catalog/skus/{sku}"),
        "/admin/documents".to_owned(),
        "/admin/documents/export.csv".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/audit/export.csv".to_owned(),
    ];
    for page in &pages {
        let response = app.get_as(&app.cashier_a, page).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{page}: {}", response.text);
        assert!(response.text.contains("<html"), "an error page, not a file: {page}");
    }
    // Stock is every role's to read; the page offers nothing to change.
    let stock = app.get_as(&app.cashier_a, "/admin/inventory").await;
    assert_eq!(stock.status, StatusCode::OK);
    assert!(!stock.text.contains(r#"data-form="movement""#));
    let stranger = app.send(axum::http::Request::get("/admin/audit/export.csv"), None).await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER);
}
