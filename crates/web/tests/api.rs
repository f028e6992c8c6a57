//! The HTTP API, in process: every test runs against a fresh database on each backend
//! (SQLite always; PostgreSQL when `QUANYU_TEST_POSTGRES` is set).

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use quanyu_store::Database;
use serde_json::{Value, json};
use support::{spawn_app, with};

quanyu_store::backend_tests!(
    login_gives_a_token_and_a_cookie,
    wrong_passwords_are_refused_then_rate_limited,
    requests_without_credentials_are_refused,
    admin_lists_the_stores_page_by_page,
    creating_a_store_validates_every_field_and_writes_nothing_on_error,
    idempotency_key_replays_the_first_response,
    sku_with_a_store_price_override_reads_back,
    catalog_rejects_bad_money_and_duplicate_barcodes,
    store_staff_cannot_touch_another_store,
    region_manager_sees_only_their_region,
    staff_appointments_respect_rank_and_scope,
    errors_speak_the_callers_language,
    every_write_is_audited_with_actor_and_origin,
    docs_health_and_metrics_are_served,
    nearest_stores_come_by_distance_with_delivery,
    api_tokens_act_for_their_admin_and_can_be_revoked,
    stock_moves_only_through_keyed_ledger_entries,
    an_order_moves_stock_and_money_exactly_once,
    fulfilment_follows_the_channel,
    deliveries_go_to_the_nearest_store_with_stock,
    flash_sales_sell_their_quota_once,
    stock_documents_move_goods_between_stores,
    shipments_send_unnamed_lines_as_approved_and_losses_keep_their_reason,
    control_characters_are_refused_before_anything_is_stored,
    customers_have_one_identity_across_channels,
    price_quotes_explain_member_prices_points_and_delivery,
    audiences_count_members_while_typing,
    coupons_and_promotions_through_the_api,
    referral_commission_and_stored_value_through_the_api,
    events_arrive_as_the_segment_spec_sends_them,
    tags_and_saved_audiences_through_the_api,
);

async fn login_gives_a_token_and_a_cookie(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let response =
        app.post_anonymous("/api/v1/auth/login", json!({"login": "ADMIN", "password": support::PASSWORD})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let cookie = response.headers.get("set-cookie").expect("a session cookie").to_str().unwrap().to_owned();
    assert!(cookie.starts_with("quanyu_session=") && cookie.contains("HttpOnly"), "{cookie}");
    assert_eq!(response.body["staff"]["role"], "hq_admin");
    let token = response.body["token"].as_str().unwrap();
    let me = app.get_as(token, "/api/v1/me").await;
    assert_eq!(me.body["username"], "admin");
    // The cookie alone authenticates too.
    let session = cookie.split(';').next().unwrap();
    let me = app.request_with_cookie("GET", "/api/v1/me", session).await;
    assert_eq!(me.status, StatusCode::OK);
    // Logging in by phone works; logging out ends the session.
    let by_phone =
        app.post_anonymous("/api/v1/auth/login", json!({"login": "13900000001", "password": support::PASSWORD})).await;
    assert_eq!(by_phone.status, StatusCode::OK, "{}", by_phone.body);
    let logout = app.post_as(token, "/api/v1/auth/logout", json!({})).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get_as(token, "/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

async fn wrong_passwords_are_refused_then_rate_limited(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    for _ in 0..5 {
        let response =
            app.post_anonymous("/api/v1/auth/login", json!({"login": "admin", "password": "wrong-password"})).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(response.body["error"]["code"], "invalid_credentials");
    }
    let locked =
        app.post_anonymous("/api/v1/auth/login", json!({"login": "admin", "password": support::PASSWORD})).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.body["error"]["code"], "too_many_attempts");
    assert!(locked.headers.contains_key("retry-after"));
    let unknown = app.post_anonymous("/api/v1/auth/login", json!({"login": "nobody", "password": "whatever1"})).await;
    assert_eq!(unknown.body["error"]["code"], "invalid_credentials", "unknown logins look like wrong passwords");
}

async fn requests_without_credentials_are_refused(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    for path in ["/api/v1/stores", "/api/v1/skus", "/api/v1/me", "/api/v1/audit-log"] {
        let response = app.get_as("not-a-token", path).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(response.body["error"]["code"], "unauthenticated");
    }
    let missing = app.get_as("", "/api/v1/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"]["code"], "route_not_found");
}

/// Every page of `path` (a list with a query) two items at a time: the codes seen, and the
/// cursor of the first page.
async fn codes_page_by_page(app: &support::TestApp, path: &str) -> (Vec<String>, Option<String>) {
    let (mut seen, mut first_cursor) = (Vec::new(), None);
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{path}&limit=2&cursor={c}"),
            None => format!("{path}&limit=2"),
        };
        let page = app.get_as(&app.admin, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["code"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => {
                first_cursor.get_or_insert_with(|| next.to_owned());
                cursor = Some(next.to_owned());
            }
            None => break,
        }
    }
    (seen, first_cursor)
}

async fn admin_lists_the_stores_page_by_page(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let (seen, _) = codes_page_by_page(&app, "/api/v1/stores?q=").await;
    assert_eq!(seen, ["N-A", "N-B", "S-C"]);
    // Sorted by a column, the cursor carries its value; it only fits the sort it came from.
    let (seen, cursor) = codes_page_by_page(&app, "/api/v1/stores?sort=-code").await;
    assert_eq!(seen, ["S-C", "N-B", "N-A"]);
    let (seen, _) = codes_page_by_page(&app, "/api/v1/stores?sort=-created_at").await;
    assert_eq!(seen, ["S-C", "N-B", "N-A"]);
    let wrong = app.get_as(&app.admin, &format!("/api/v1/stores?sort=code&cursor={}", cursor.unwrap())).await;
    assert_eq!(wrong.body["error"]["code"], "malformed", "{}", wrong.body);
    let unknown = app.get_as(&app.admin, "/api/v1/stores?sort=colour").await;
    assert_eq!(unknown.body["error"]["code"], "unknown_value", "{}", unknown.body);
    // Equal prices fall back to creation order, in the same direction.
    let prices = [("P-1", 500), ("P-2", 1500), ("P-3", 500), ("P-4", 900), ("P-5", 1500)];
    let skus: Vec<Value> = prices
        .iter()
        .map(|(code, price)| json!({"code": code, "name": code, "unit": "个", "base_price": price}))
        .collect();
    app.create_product("文具", Value::Array(skus)).await;
    let (by_price, _) = codes_page_by_page(&app, "/api/v1/skus?sort=-base_price").await;
    assert_eq!(by_price, ["P-5", "P-2", "P-4", "P-3", "P-1"]);
    let (by_price, _) = codes_page_by_page(&app, "/api/v1/skus?sort=base_price").await;
    assert_eq!(by_price, ["P-1", "P-3", "P-4", "P-2", "P-5"]);
    let bad = app.get_as(&app.admin, "/api/v1/stores?limit=0").await;
    assert_eq!(bad.body["error"]["code"], "out_of_range");
    let bad = app.get_as(&app.admin, "/api/v1/stores?cursor=garbage").await;
    assert_eq!(bad.body["error"]["code"], "malformed");
    let searched = app.get_as(&app.admin, "/api/v1/stores?q=n-b").await;
    assert_eq!(searched.body["items"].as_array().unwrap().len(), 1);
}

async fn creating_a_store_validates_every_field_and_writes_nothing_on_error(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let good = app.store_body("N-D");
    let created = app.post_as(&app.admin, "/api/v1/stores", good.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["delivery_radius_m"], 3000);
    assert_eq!(created.body["opening_hours"], "08:00-22:00");
    let id = created.body["id"].as_str().unwrap();
    let read = app.get_as(&app.admin, &format!("/api/v1/stores/{id}")).await;
    assert_eq!(read.body, created.body);

    let cases: Vec<(Value, StatusCode, &str, Option<&str>)> = vec![
        (good.clone(), StatusCode::CONFLICT, "duplicate_store_code", Some("code")),
        (
            with(&app.store_body("X1"), "location", json!({"lat": 95.0, "lng": 121.0})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_coordinates",
            Some("location"),
        ),
        (
            with(&app.store_body("X2"), "colour", json!("red")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("colour"),
        ),
        (
            with(&app.store_body("X3"), "area_m2", json!("big")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_type",
            Some("area_m2"),
        ),
        (
            with(&app.store_body("X4"), "area_m2", json!(0)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
            Some("area_m2"),
        ),
        (
            with(&app.store_body("X5"), "opening_hours", json!("8am-10pm")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed",
            Some("opening_hours"),
        ),
        (
            with(&app.store_body("X6"), "region_id", json!(uuid::Uuid::now_v7())),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            Some("region_id"),
        ),
        (
            with(&app.store_body("X7"), "code", json!("上海一店")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed",
            Some("code"),
        ),
    ];
    for (body, status, code, field) in cases {
        let response = app.post_as(&app.admin, "/api/v1/stores", body).await;
        assert_eq!(
            (response.status, response.body["error"]["code"].as_str()),
            (status, Some(code)),
            "{}",
            response.body
        );
        assert_eq!(response.body["error"]["field"].as_str(), field);
    }
    let stores = app.get_as(&app.admin, "/api/v1/stores").await;
    assert_eq!(stores.body["items"].as_array().unwrap().len(), 4, "only N-D was added");
    let not_json = app.raw("POST", "/api/v1/stores", &app.admin, "text/plain", "hello").await;
    assert_eq!(not_json.body["error"]["code"], "unsupported_media_type");
    let broken = app.raw("POST", "/api/v1/stores", &app.admin, "application/json", "{\"code\":").await;
    assert_eq!(broken.body["error"]["code"], "invalid_json");
    assert_eq!(broken.body["error"]["message"], "请求体不是合法的 JSON：第 1 行第 8 列处意外结束");
    let broken = app.raw("POST", "/api/v1/stores", &app.admin, "application/json", "{\"code\": x}").await;
    assert_eq!(broken.body["error"]["message"], "请求体不是合法的 JSON：第 1 行第 10 列有误");
}

async fn idempotency_key_replays_the_first_response(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let body = app.store_body("N-IDEM");
    let first = app.post_with_key(&app.admin, "/api/v1/stores", "key-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = app.post_with_key(&app.admin, "/api/v1/stores", "key-1", body.clone()).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "the same response");
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let other = app.post_with_key(&app.admin, "/api/v1/stores", "key-1", app.store_body("N-OTHER")).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.body["error"]["code"], "idempotency_key_reused");
    let stores = app.get_as(&app.admin, "/api/v1/stores?q=N-").await;
    let codes: Vec<&str> =
        stores.body["items"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "N-IDEM").count(), 1);
    assert!(!codes.contains(&"N-OTHER"));
    let bad_key = app.post_with_key(&app.admin, "/api/v1/stores", "", body).await;
    assert_eq!(bad_key.body["error"]["code"], "invalid_idempotency_key");
}

async fn sku_with_a_store_price_override_reads_back(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let product = app
        .create_product(
            "烟台红富士苹果",
            json!([{
                "code": "APPLE-500", "barcode": "6901234567892", "name": "500g 盒装", "unit": "盒",
                "base_price": 1290, "online_price": 1190, "member_price": 1090
            }]),
        )
        .await;
    let sku_id = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let sku = app.get_as(&app.admin, &format!("/api/v1/skus/{sku_id}")).await;
    assert_eq!(sku.body["prices"]["base"], 1290);
    assert_eq!(sku.body["barcode"], "6901234567892");

    let path = format!("/api/v1/stores/{}/skus/{sku_id}", app.store_a);
    let put = app.request_as(&app.admin, "PUT", &path, Some(json!({"price": 1250, "available_online": false}))).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let pricing = app.get_as(&app.admin, &path).await;
    assert_eq!(pricing.body["in_store"]["regular"], 1250);
    assert_eq!(pricing.body["in_store"]["regular_source"], "store_override");
    assert_eq!(pricing.body["in_store"]["member"], 1090);
    assert_eq!(pricing.body["online"]["available"], false);
    let elsewhere = app.get_as(&app.admin, &format!("/api/v1/stores/{}/skus/{sku_id}", app.store_b)).await;
    assert_eq!(elsewhere.body["online"]["regular"], 1190);
    assert_eq!(elsewhere.body["online"]["regular_source"], "channel");

    let by_barcode = app.get_as(&app.admin, "/api/v1/skus?barcode=6901234567892").await;
    assert_eq!(by_barcode.body["items"][0]["id"], sku_id.as_str());
    let patched = app
        .request_as(
            &app.admin,
            "PATCH",
            &format!("/api/v1/skus/{sku_id}"),
            Some(json!({"member_price": null, "base_price": 1300})),
        )
        .await;
    assert_eq!(patched.body["prices"]["member"], Value::Null);
    assert_eq!(patched.body["prices"]["base"], 1300);
    let overrides = app.get_as(&app.admin, &format!("/api/v1/stores/{}/skus", app.store_a)).await;
    assert_eq!(overrides.body["items"].as_array().unwrap().len(), 1);
    let cleared = app.request_as(&app.admin, "DELETE", &path, None).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
}

async fn catalog_rejects_bad_money_and_duplicate_barcodes(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let product = app.create_product("矿泉水", json!([])).await;
    let product_id = product["id"].as_str().unwrap();
    let sku = |code: &str, barcode: &str, price: Value| json!({"product_id": product_id, "code": code, "barcode": barcode, "name": "550ml", "unit": "瓶", "base_price": price});
    let ok = app.post_as(&app.admin, "/api/v1/skus", sku("W-1", "6921168509256", json!(200))).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let cases = [
        (sku("W-2", "6921168509256", json!(200)), StatusCode::CONFLICT, "duplicate_barcode"),
        (sku("W-1", "6921168500017", json!(200)), StatusCode::CONFLICT, "duplicate_sku_code"),
        (sku("W-3", "6921168500024", json!(-1)), StatusCode::UNPROCESSABLE_ENTITY, "negative_money"),
        (sku("W-4", "6921168500031", json!(99_999_999_999_i64)), StatusCode::UNPROCESSABLE_ENTITY, "money_overflow"),
        (sku("W-5", "6921168500048", json!(1e30)), StatusCode::UNPROCESSABLE_ENTITY, "money_overflow"),
        (sku("W-6", "6921168500040", json!(200)), StatusCode::UNPROCESSABLE_ENTITY, "malformed"),
    ];
    for (body, status, code) in cases {
        let response = app.post_as(&app.admin, "/api/v1/skus", body).await;
        assert_eq!(
            (response.status, response.body["error"]["code"].as_str()),
            (status, Some(code)),
            "{}",
            response.body
        );
    }
    let skus = app.get_as(&app.admin, &format!("/api/v1/skus?product_id={product_id}")).await;
    assert_eq!(skus.body["items"].as_array().unwrap().len(), 1, "nothing else was written");
}

async fn store_staff_cannot_touch_another_store(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let product =
        app.create_product("牛奶", json!([{"code": "MILK-1", "name": "1L", "unit": "盒", "base_price": 1500}])).await;
    let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let (a, b) = (app.store_a.clone(), app.store_b.clone());
    // Every route that reaches another store's data, for the manager and the cashier of A.
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/stores/{b}"), None),
        ("PATCH", format!("/api/v1/stores/{b}"), Some(json!({"name": "hijacked"}))),
        ("GET", format!("/api/v1/stores/{b}/skus"), None),
        ("GET", format!("/api/v1/stores/{b}/skus/{sku}"), None),
        ("PUT", format!("/api/v1/stores/{b}/skus/{sku}"), Some(json!({"price": 1}))),
        ("DELETE", format!("/api/v1/stores/{b}/skus/{sku}"), None),
        ("GET", format!("/api/v1/stores?region_id={}", app.region_s), None),
        ("GET", format!("/api/v1/staff?store_id={b}"), None),
        ("GET", format!("/api/v1/staff/{}", app.cashier_b_id), None),
        ("PATCH", format!("/api/v1/staff/{}", app.cashier_b_id), Some(json!({"display_name": "x"}))),
        ("GET", format!("/api/v1/regions/{}", app.region_s), None),
        ("GET", format!("/api/v1/stores/{b}/stock"), None),
        ("GET", format!("/api/v1/stores/{b}/stock/{sku}"), None),
        ("GET", format!("/api/v1/stores/{b}/stock/{sku}/ledger"), None),
        ("GET", format!("/api/v1/stores/{b}/stock-policies"), None),
        ("PUT", format!("/api/v1/stores/{b}/stock-policies/{sku}"), Some(json!({"reorder_point": 1, "target": 5}))),
        ("DELETE", format!("/api/v1/stores/{b}/stock-policies/{sku}"), None),
        ("GET", format!("/api/v1/stores/{b}/reorder-suggestions"), None),
        ("GET", format!("/api/v1/stock-documents?store_id={b}"), None),
        ("GET", format!("/api/v1/orders?store_id={b}"), None),
        ("GET", format!("/api/v1/stores/{b}/picking-list"), None),
        ("GET", format!("/api/v1/customers?store_id={b}"), None),
        (
            "POST",
            "/api/v1/staff".to_owned(),
            Some(
                json!({"username": "intruder", "display_name": "x", "role": "cashier", "store_id": b, "password": "long-enough-1"}),
            ),
        ),
    ];
    for token in [&app.manager_a, &app.cashier_a] {
        for (method, path, body) in &routes {
            let response = app.request_as(token, method, path, body.clone()).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {path}: {}", response.body);
            let code = response.body["error"]["code"].as_str().unwrap();
            assert!(code == "out_of_scope" || code == "forbidden", "{method} {path}: {code}");
        }
    }
    // Their own store stays reachable, and lists show only it.
    let own = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{a}")).await;
    assert_eq!(own.status, StatusCode::OK);
    let list = app.get_as(&app.cashier_a, "/api/v1/stores").await;
    let ids: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a.as_str()]);
    let own_price = app
        .request_as(&app.manager_a, "PUT", &format!("/api/v1/stores/{a}/skus/{sku}"), Some(json!({"price": 1450})))
        .await;
    assert_eq!(own_price.status, StatusCode::OK, "{}", own_price.body);
    let cashier_price = app
        .request_as(&app.cashier_a, "PUT", &format!("/api/v1/stores/{a}/skus/{sku}"), Some(json!({"price": 1})))
        .await;
    assert_eq!(cashier_price.body["error"]["code"], "forbidden");
    for path in ["/api/v1/audit-log", "/api/v1/api-tokens"] {
        let response = app.get_as(&app.cashier_a, path).await;
        assert_eq!(response.body["error"]["code"], "forbidden", "{path}");
    }
    // Nothing of B changed.
    let b_store = app.get_as(&app.admin, &format!("/api/v1/stores/{b}")).await;
    assert_eq!(b_store.body["name"], "北区 B 店");
    let b_price = app.get_as(&app.admin, &format!("/api/v1/stores/{b}/skus/{sku}")).await;
    assert_eq!(b_price.body["settings"], Value::Null);
}

async fn region_manager_sees_only_their_region(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let list = app.get_as(&app.region_manager_n, "/api/v1/stores").await;
    let codes: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["N-A", "N-B"]);
    let south = app.get_as(&app.region_manager_n, &format!("/api/v1/stores/{}", app.store_c)).await;
    assert_eq!(south.body["error"]["code"], "out_of_scope");
    let regions = app.get_as(&app.region_manager_n, "/api/v1/regions").await;
    assert_eq!(regions.body["items"].as_array().unwrap().len(), 1);
    let staff = app.get_as(&app.region_manager_n, "/api/v1/staff").await;
    let names: Vec<&str> =
        staff.body["items"].as_array().unwrap().iter().map(|s| s["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"cashier-a") && names.contains(&"cashier-b") && !names.contains(&"cashier-c"), "{names:?}");
    let recode = app
        .request_as(
            &app.region_manager_n,
            "PATCH",
            &format!("/api/v1/stores/{}", app.store_a),
            Some(json!({"code": "N-Z"})),
        )
        .await;
    assert_eq!(recode.body["error"]["code"], "forbidden", "codes are HQ's");
    let hours = app
        .request_as(
            &app.region_manager_n,
            "PATCH",
            &format!("/api/v1/stores/{}", app.store_a),
            Some(json!({"opening_hours": "07:00-23:00", "phone": null})),
        )
        .await;
    assert_eq!(hours.status, StatusCode::OK, "{}", hours.body);
    assert_eq!(hours.body["opening_hours"], "07:00-23:00");
}

async fn staff_appointments_respect_rank_and_scope(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let new_cashier = json!({"username": "cashier-a2", "display_name": "收银员二", "phone": "13800000042", "role": "cashier", "store_id": app.store_a, "password": "long-enough-1"});
    let created = app.post_as(&app.manager_a, "/api/v1/staff", new_cashier.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["store_id"], app.store_a.as_str());
    let again = app.post_as(&app.manager_a, "/api/v1/staff", with(&new_cashier, "phone", json!("13800000043"))).await;
    assert_eq!(again.body["error"]["code"], "duplicate_username");
    let phone = app.post_as(&app.manager_a, "/api/v1/staff", with(&new_cashier, "username", json!("cashier-a3"))).await;
    assert_eq!(phone.body["error"]["code"], "duplicate_phone");
    let peer = with(&with(&new_cashier, "username", json!("sm-a2")), "role", json!("store_manager"));
    let peer = app.post_as(&app.manager_a, "/api/v1/staff", with(&peer, "phone", Value::Null)).await;
    assert_eq!(peer.body["error"]["code"], "forbidden", "managers appoint juniors only");
    let mismatch = app
        .post_as(
            &app.admin,
            "/api/v1/staff",
            json!({"username": "odd", "display_name": "x", "role": "cashier", "password": "long-enough-1"}),
        )
        .await;
    assert_eq!(mismatch.body["error"]["code"], "required");
    assert_eq!(mismatch.body["error"]["field"], "store_id");
    let short = app
        .post_as(
            &app.admin,
            "/api/v1/staff",
            json!({"username": "short", "display_name": "x", "role": "hq_ops", "password": "short"}),
        )
        .await;
    assert_eq!(short.body["error"]["field"], "password");
    // A cashier may change their own name but not their role.
    let me = app.get_as(&app.cashier_a, "/api/v1/me").await;
    let my_id = me.body["id"].as_str().unwrap();
    let rename = app
        .request_as(&app.cashier_a, "PATCH", &format!("/api/v1/staff/{my_id}"), Some(json!({"display_name": "小王"})))
        .await;
    assert_eq!(rename.body["display_name"], "小王");
    let promote = app
        .request_as(&app.cashier_a, "PATCH", &format!("/api/v1/staff/{my_id}"), Some(json!({"role": "store_manager"})))
        .await;
    assert_eq!(promote.body["error"]["code"], "forbidden");
    // Disabling a member ends their access.
    let disabled = app
        .request_as(&app.manager_a, "PATCH", &format!("/api/v1/staff/{my_id}"), Some(json!({"status": "disabled"})))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_eq!(app.get_as(&app.cashier_a, "/api/v1/me").await.body["error"]["code"], "account_disabled");
}

async fn errors_speak_the_callers_language(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let path = format!("/api/v1/stores/{}", uuid::Uuid::now_v7());
    let zh = app.get_as(&app.admin, &path).await;
    assert_eq!(zh.body["error"]["code"], "not_found");
    assert_eq!(zh.body["error"]["message"], "找不到该门店");
    let en = app.get_as_lang(&app.admin, &path, "en-US,en;q=0.9").await;
    assert_eq!(en.body["error"]["code"], "not_found");
    assert_eq!(en.body["error"]["message"], "No such store");
}

async fn every_write_is_audited_with_actor_and_origin(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let created = app.post_as(&app.admin, "/api/v1/stores", app.store_body("N-AUD")).await;
    let id = created.body["id"].as_str().unwrap();
    app.request_as(&app.admin, "PATCH", &format!("/api/v1/stores/{id}"), Some(json!({"name": "改名后"}))).await;
    let log = app.get_as(&app.admin, &format!("/api/v1/audit-log?entity_type=store&entity_id={id}")).await;
    let entries = log.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", log.body);
    assert_eq!(entries[0]["action"], "store.updated", "newest first");
    assert_eq!(entries[0]["actor_name"], "admin");
    assert_eq!(entries[0]["user_agent"], "quanyu-tests");
    let change = entries[0]["changes"].as_array().unwrap();
    assert_eq!(change.len(), 1);
    assert_eq!(change[0], json!({"field": "name", "before": "北区 N-AUD 店", "after": "改名后"}));
    assert_eq!(entries[1]["action"], "store.created");
}

async fn docs_health_and_metrics_are_served(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let health = app.get_as("", "/healthz").await;
    assert_eq!(health.body["status"], "ok");
    let spec = app.get_as("", "/api/openapi.json").await;
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/api/v1/stores", "/api/v1/skus/{id}", "/api/v1/auth/login", "/api/v1/audit-log"] {
        assert!(spec.body["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    let docs = app.raw("GET", "/api/docs", "", "", "").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.contains("/api/v1/stores") && !docs.text.contains("<script"));
    let metrics = app.raw("GET", "/metrics", "", "", "").await;
    assert!(metrics.text.contains("http_requests_total"), "{}", metrics.text);
}

async fn nearest_stores_come_by_distance_with_delivery(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    // Stores sit at (31.23, 121.47), (31.24, 121.47) and (31.10, 121.47), GCJ-02.
    let near_a = app.get_as("", "/api/v1/stores/nearest?lat=31.231&lng=121.47").await;
    assert_eq!(near_a.status, StatusCode::OK, "{}", near_a.body);
    let items = near_a.body["items"].as_array().unwrap();
    let codes: Vec<&str> = items.iter().map(|n| n["store"]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["N-A", "N-B", "S-C"]);
    assert_eq!(items[0]["distance_m"], 111);
    assert_eq!(items[0]["delivers"], true);
    assert_eq!(items[2]["delivers"], false, "S-C is ~14 km away");
    // The same place as a GPS reports it (WGS-84) lands on the same nearest store.
    let gps = app.get_as("", "/api/v1/stores/nearest?lat=31.2330&lng=121.4655&coord=wgs84&limit=1").await;
    assert_eq!(gps.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(gps.body["items"][0]["store"]["code"], "N-A");
    for (query, code) in [
        ("lat=91&lng=121", "invalid_coordinates"),
        ("lat=31&lng=121&coord=bd09", "unknown_value"),
        ("lat=31&lng=121&limit=0", "out_of_range"),
        ("lat=abc&lng=121", "invalid_parameter"),
        ("lat=31&lng=121&sku=01a24aa2-2997-716f-a4fa-000000000000", "unknown_reference"),
    ] {
        let response = app.get_as("", &format!("/api/v1/stores/nearest?{query}")).await;
        assert_eq!(response.body["error"]["code"], code, "{query}");
    }
    // A paused store is not offered.
    app.request_as(&app.admin, "PATCH", &format!("/api/v1/stores/{}", app.store_a), Some(json!({"status": "paused"})))
        .await;
    let after = app.get_as("", "/api/v1/stores/nearest?lat=31.231&lng=121.47").await;
    assert_eq!(after.body["items"][0]["store"]["code"], "N-B");
}

async fn api_tokens_act_for_their_admin_and_can_be_revoked(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let created = app
        .post_with_key(&app.admin, "/api/v1/api-tokens", "erp-1", json!({"name": "ERP sync", "expires_in_days": 30}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let token = created.body["token"].as_str().expect("the secret, once").to_owned();
    let replay = app
        .post_with_key(&app.admin, "/api/v1/api-tokens", "erp-1", json!({"name": "ERP sync", "expires_in_days": 30}))
        .await;
    assert_eq!(replay.body["id"], created.body["id"], "the same token, not a second one");
    assert!(replay.body.get("token").is_none(), "a replay never shows the secret");
    let me = app.get_as(&token, "/api/v1/me").await;
    assert_eq!(me.body["username"], "admin");
    let listed = app.get_as(&app.admin, "/api/v1/api-tokens").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let id = created.body["id"].as_str().unwrap();
    let revoked = app.request_as(&app.admin, "DELETE", &format!("/api/v1/api-tokens/{id}"), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get_as(&token, "/api/v1/me").await.body["error"]["code"], "unauthenticated");
    let bad = app.post_as(&app.admin, "/api/v1/api-tokens", json!({"name": "x", "expires_in_days": 0})).await;
    assert_eq!(bad.body["error"]["code"], "out_of_range");
}

async fn stock_moves_only_through_keyed_ledger_entries(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let product = app
        .create_product("鸡蛋", json!([{"code": "EGG-10", "name": "10 枚", "unit": "盒", "base_price": 1590}]))
        .await;
    let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let movements = format!("/api/v1/stores/{}/stock/movements", app.store_a);
    let receipt = json!({"sku_id": sku, "kind": "purchase_receipt", "quantity": 10, "reference": "PO-1"});
    let first = app.post_with_key(&app.manager_a, &movements, "po-1", receipt.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["stock"]["on_hand"], 10);
    let again = app.post_with_key(&app.manager_a, &movements, "po-1", receipt.clone()).await;
    assert_eq!(again.body, first.body, "a retry moves nothing");
    let unkeyed = app.post_as(&app.manager_a, &movements, receipt.clone()).await;
    assert_eq!(
        (unkeyed.status, unkeyed.body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_key_required"))
    );
    let cases = [
        (json!({"sku_id": sku, "kind": "loss", "quantity": 2}), "required"),
        (json!({"sku_id": sku, "kind": "loss", "quantity": 11, "reason": "破损"}), "insufficient_stock"),
        (json!({"sku_id": sku, "kind": "sale", "quantity": 1}), "unknown_value"),
        (json!({"sku_id": sku, "kind": "purchase_receipt", "quantity": -3}), "out_of_range"),
        (json!({"sku_id": sku, "kind": "stocktake_adjustment", "quantity": 0}), "out_of_range"),
    ];
    for (index, (body, code)) in cases.into_iter().enumerate() {
        let response = app.post_with_key(&app.manager_a, &movements, &format!("bad-{index}"), body).await;
        assert_eq!(response.body["error"]["code"], code, "{}", response.body);
    }
    let loss = app
        .post_with_key(
            &app.manager_a,
            &movements,
            "loss-1",
            json!({"sku_id": sku, "kind": "loss", "quantity": 3, "reason": "破损"}),
        )
        .await;
    assert_eq!(loss.body["stock"]["available"], 7, "{}", loss.body);
    let count = app
        .post_with_key(
            &app.manager_a,
            &movements,
            "count-1",
            json!({"sku_id": sku, "kind": "stocktake_adjustment", "quantity": -1}),
        )
        .await;
    assert_eq!(count.body["stock"]["on_hand"], 6);

    // Everyone in the store may read the stock; nobody may move another store's.
    let stock = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/stock/{sku}", app.store_a)).await;
    assert_eq!(stock.body["on_hand"], 6);
    let cashier_moves = app.post_with_key(&app.cashier_a, &movements, "c-1", receipt.clone()).await;
    assert_eq!(cashier_moves.body["error"]["code"], "forbidden");
    let elsewhere = format!("/api/v1/stores/{}/stock/movements", app.store_b);
    let other = app.post_with_key(&app.manager_a, &elsewhere, "x-1", receipt).await;
    assert_eq!(other.body["error"]["code"], "out_of_scope");
    let other_read = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/stock", app.store_b)).await;
    assert_eq!(other_read.body["error"]["code"], "out_of_scope");

    let ledger = app.get_as(&app.manager_a, &format!("/api/v1/stores/{}/stock/{sku}/ledger", app.store_a)).await;
    let changes: Vec<&str> =
        ledger.body["items"].as_array().unwrap().iter().map(|e| e["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["stocktake_adjustment", "loss", "purchase_receipt"]);
    let listed = app.get_as(&app.manager_a, &format!("/api/v1/stores/{}/stock", app.store_a)).await;
    assert_eq!(listed.body["items"][0]["on_hand"], 6);
    let reconcile = app.get_as(&app.admin, "/api/v1/inventory/reconcile").await;
    assert_eq!(reconcile.body["sound"], true, "{}", reconcile.body);
    assert_eq!(app.get_as(&app.manager_a, "/api/v1/inventory/reconcile").await.body["error"]["code"], "forbidden");
}

async fn stock_of(app: &support::TestApp, sku: &str) -> Value {
    app.get_as(&app.manager_a, &format!("/api/v1/stores/{}/stock/{sku}", app.store_a)).await.body
}

async fn an_order_moves_stock_and_money_exactly_once(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let eggs = app
        .stocked_sku(
            "鸡蛋",
            json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590, "member_price": 1490}),
            10,
        )
        .await;
    let apples = app
        .stocked_sku(
            "苹果",
            json!({"code": "APL", "name": "散称", "unit": "kg", "sold_by_weight": true, "base_price": 2390}),
            5000,
        )
        .await;
    let order = json!({"store_id": app.store_a, "channel": "pos", "member": true,
                       "lines": [{"sku_id": eggs, "quantity": 2}, {"sku_id": apples, "quantity": 1234}]});
    let unkeyed = app.post_as(&app.cashier_a, "/api/v1/orders", order.clone()).await;
    assert_eq!(unkeyed.body["error"]["code"], "idempotency_key_required");
    let created = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pos-1", order.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let again = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pos-1", order.clone()).await;
    assert_eq!(again.body["id"], created.body["id"], "one order for one key");
    // 2 × ¥15.90 less the member price, plus 1,234 g at ¥23.90/kg = ¥29.49.
    assert_eq!(created.body["lines"][0]["adjustments"][0], json!({"source": "member_price", "amount": -200}));
    assert_eq!(created.body["lines"][1]["amount"], 2949);
    assert_eq!(created.body["total"], 2980 + 2949);
    assert_eq!(stock_of(&app, &eggs).await["reserved"], 2);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let pay = format!("/api/v1/orders/{id}/payments");
    let wrong = app.post_with_key(&app.cashier_a, &pay, "pay-0", json!({"method": "cash", "amount": 100})).await;
    assert_eq!(wrong.body["error"]["code"], "amount_mismatch");
    let paid = app.post_with_key(&app.cashier_a, &pay, "pay-1", json!({"method": "cash", "amount": 5929})).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!(paid.body["status"], "completed", "a POS sale hands the goods over at payment");
    let replayed = app.post_with_key(&app.cashier_a, &pay, "pay-1", json!({"method": "cash", "amount": 5929})).await;
    assert_eq!(replayed.body, paid.body);
    let twice = app.post_with_key(&app.cashier_a, &pay, "pay-2", json!({"method": "cash", "amount": 5929})).await;
    assert_eq!(twice.body["error"]["code"], "illegal_transition");
    let egg_stock = stock_of(&app, &eggs).await;
    assert_eq!((egg_stock["on_hand"].as_i64(), egg_stock["reserved"].as_i64()), (Some(8), Some(0)));

    // Refund one of the two boxes of eggs: half the line's paid amount, and the box is back.
    let refund = format!("/api/v1/orders/{id}/refunds");
    let refunded = app
        .post_with_key(
            &app.cashier_a,
            &refund,
            "rf-1",
            json!({"lines": [{"line_no": 1, "quantity": 1}], "reason": "破损"}),
        )
        .await;
    assert_eq!(refunded.status, StatusCode::CREATED, "{}", refunded.body);
    assert_eq!(refunded.body["status"], "partially_refunded");
    assert_eq!(refunded.body["refunded"], 1490);
    assert_eq!(stock_of(&app, &eggs).await["on_hand"], 9);
    let too_many =
        app.post_with_key(&app.cashier_a, &refund, "rf-2", json!({"lines": [{"line_no": 1, "quantity": 2}]})).await;
    assert_eq!(too_many.body["error"]["code"], "out_of_range");
    let rest = app
        .post_with_key(
            &app.cashier_a,
            &refund,
            "rf-3",
            json!({"lines": [{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1234}]}),
        )
        .await;
    assert_eq!(rest.body["status"], "refunded", "{}", rest.body);
    assert_eq!(rest.body["refunded"], rest.body["paid"], "exactly what was paid came back");
    let detail = app.get_as(&app.cashier_a, &format!("/api/v1/orders/{id}")).await;
    let events: Vec<&str> =
        detail.body["timeline"].as_array().unwrap().iter().map(|s| s["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["created", "pay", "refund", "refund"]);
    assert_eq!(detail.body["payments"].as_array().unwrap().len(), 3);

    // More than there is: refused, nothing held.
    let greedy = json!({"store_id": app.store_a, "channel": "pos", "lines": [{"sku_id": eggs, "quantity": 11}]});
    let refused = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pos-2", greedy).await;
    assert_eq!(refused.body["error"]["code"], "insufficient_stock");
    assert_eq!(stock_of(&app, &eggs).await["reserved"], 0);
    // Store B's staff cannot see it; the books add up.
    let other = app.login("cashier-b").await;
    assert_eq!(app.get_as(&other, &format!("/api/v1/orders/{id}")).await.body["error"]["code"], "out_of_scope");
    assert_eq!(app.get_as(&app.admin, "/api/v1/inventory/reconcile").await.body["sound"], true);
}

async fn fulfilment_follows_the_channel(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let milk = app
        .stocked_sku(
            "牛奶",
            json!({"code": "MILK", "name": "1L", "unit": "盒", "base_price": 1200, "online_price": 1100}),
            5,
        )
        .await;
    let pickup = json!({"store_id": app.store_a, "channel": "pickup", "lines": [{"sku_id": milk, "quantity": 2}]});
    let created = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pk-1", pickup).await;
    assert_eq!(created.body["total"], 2200, "the online price");
    assert_eq!(created.body["pickup_code"].as_str().map(str::len), Some(6));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let pay = format!("/api/v1/orders/{id}/payments");
    let no_ref = app.post_with_key(&app.cashier_a, &pay, "p-1", json!({"method": "card", "amount": 2200})).await;
    assert_eq!(
        (no_ref.body["error"]["code"].as_str(), no_ref.body["error"]["field"].as_str()),
        (Some("required"), Some("reference"))
    );
    let paid = app
        .post_with_key(&app.cashier_a, &pay, "p-2", json!({"method": "card", "amount": 2200, "reference": "T-0042"}))
        .await;
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(stock_of(&app, &milk).await["committed"], 2);
    let picking = app.get_as(&app.picker_a, &format!("/api/v1/stores/{}/picking-list", app.store_a)).await;
    assert_eq!(picking.body["orders"][0]["id"], id.as_str(), "{}", picking.body);
    assert_eq!(
        picking.body["items"],
        json!([{"sku_id": milk, "sku_name": "牛奶 1L", "quantity": 2, "order_ids": [id]}])
    );
    let steps = format!("/api/v1/orders/{id}/steps");
    let dispatch = app.post_as(&app.picker_a, &steps, json!({"step": "dispatch"})).await;
    assert_eq!(dispatch.body["error"]["code"], "illegal_transition", "pickups are not dispatched");
    for (step, status) in [("start_picking", "picking"), ("mark_ready", "ready"), ("complete", "completed")] {
        let moved = app.post_as(&app.picker_a, &steps, json!({"step": step})).await;
        assert_eq!(moved.body["status"], status, "{}", moved.body);
    }
    let stock = stock_of(&app, &milk).await;
    assert_eq!((stock["on_hand"].as_i64(), stock["committed"].as_i64()), (Some(3), Some(0)));
    let picked = app.get_as(&app.picker_a, &format!("/api/v1/stores/{}/picking-list", app.store_a)).await;
    assert_eq!(picked.body, json!({"orders": [], "items": []}), "nothing left to pick");
    let done = app.get_as(&app.manager_a, &format!("/api/v1/orders/{id}")).await;
    assert!(done.body["promised_at"].is_string() && done.body["fulfilled_at"].is_string());
    assert_eq!(done.body["on_time"], true, "ready well within the half hour promised");
    let picker_sells = app
        .post_with_key(
            &app.picker_a,
            "/api/v1/orders",
            "pk-2",
            json!({"store_id": app.store_a, "channel": "pos", "lines": [{"sku_id": milk, "quantity": 1}]}),
        )
        .await;
    assert_eq!(picker_sells.body["error"]["code"], "forbidden");

    // Delivery needs an address; cancelling an unpaid order releases its hold.
    let no_address =
        json!({"store_id": app.store_a, "channel": "delivery", "lines": [{"sku_id": milk, "quantity": 1}]});
    let refused = app.post_with_key(&app.cashier_a, "/api/v1/orders", "dl-0", no_address.clone()).await;
    assert_eq!(refused.body["error"]["field"], "delivery_address");
    let delivery = app
        .post_with_key(
            &app.cashier_a,
            "/api/v1/orders",
            "dl-1",
            with(&no_address, "delivery_address", json!("上海市静安区 1 号")),
        )
        .await;
    assert_eq!(stock_of(&app, &milk).await["reserved"], 1);
    let delivery_id = delivery.body["id"].as_str().unwrap();
    let cancelled = app.post_as(&app.cashier_a, &format!("/api/v1/orders/{delivery_id}/cancel"), json!({})).await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.body);
    assert_eq!(stock_of(&app, &milk).await["reserved"], 0);
    let list = app.get_as(&app.manager_a, "/api/v1/orders?status=cancelled").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get_as(&app.admin, "/api/v1/inventory/reconcile").await.body["sound"], true);
}

async fn deliveries_go_to_the_nearest_store_with_stock(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    // Only store A (31.23) holds eggs; the customer is next to store B (31.24).
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    let near_b = app.get_as("", &format!("/api/v1/stores/nearest?lat=31.241&lng=121.47&sku={eggs}")).await;
    let first = &near_b.body["items"][0];
    assert_eq!((first["store"]["code"].as_str(), first["in_stock"].as_bool()), (Some("N-B"), Some(false)));
    assert_eq!(near_b.body["items"][1]["available"], 10);
    let order = json!({"channel": "delivery", "delivery_address": "上海市某路 8 号",
                       "delivery_location": {"lat": 31.241, "lng": 121.47},
                       "lines": [{"sku_id": eggs, "quantity": 2}]});
    let routed = app.post_with_key(&app.admin, "/api/v1/orders", "route-1", order.clone()).await;
    assert_eq!(routed.status, StatusCode::CREATED, "{}", routed.body);
    assert_eq!(routed.body["store_id"], app.store_a.as_str(), "B has no eggs, A delivers there");
    // Two boxes at ¥15.90 are under the ¥39 of free delivery: ¥5 on top, as a quote would say.
    assert_eq!((routed.body["delivery_fee"].as_i64(), routed.body["total"].as_i64()), (Some(500), Some(3680)));
    let quoted = app
        .post_as(
            &app.admin,
            "/api/v1/price-quotes",
            json!({"store_id": app.store_a, "channel": "delivery", "lines": [{"sku_id": eggs, "quantity": 2}]}),
        )
        .await;
    assert_eq!(quoted.body["total_payable"], routed.body["total"], "the order costs what the quote said");
    let greedy = with(&order, "lines", json!([{"sku_id": eggs, "quantity": 9}]));
    let none = app.post_with_key(&app.admin, "/api/v1/orders", "route-2", greedy).await;
    assert_eq!(none.body["error"]["code"], "no_store_can_serve");
    let far = with(&order, "delivery_location", json!({"lat": 31.0, "lng": 121.0}));
    let too_far = app.post_with_key(&app.admin, "/api/v1/orders", "route-3", far).await;
    assert_eq!(too_far.body["error"]["code"], "no_store_can_serve");
    // Delivered, then every box returned: the goods' money goes back, the delivery made does not
    // (an order not yet handed over is cancelled instead, which gives back everything).
    let id = routed.body["id"].as_str().unwrap();
    let paid = app
        .post_with_key(
            &app.admin,
            &format!("/api/v1/orders/{id}/payments"),
            "route-pay",
            json!({"method": "cash", "amount": 3680}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);
    for step in ["start_picking", "dispatch", "complete"] {
        let moved = app.post_as(&app.admin, &format!("/api/v1/orders/{id}/steps"), json!({"step": step})).await;
        assert_eq!(moved.status, StatusCode::OK, "{step}: {}", moved.body);
    }
    let returned = app
        .post_with_key(
            &app.admin,
            &format!("/api/v1/orders/{id}/refunds"),
            "route-refund",
            json!({"lines": [{"line_no": 1, "quantity": 2}]}),
        )
        .await;
    assert_eq!(
        (returned.body["status"].as_str(), returned.body["refunded"].as_i64()),
        (Some("refunded"), Some(3180)),
        "{}",
        returned.body
    );
}

async fn flash_sales_sell_their_quota_once(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let cherries = app
        .stocked_sku("车厘子", json!({"code": "CHERRY", "name": "500g", "unit": "盒", "base_price": 6900}), 10)
        .await;
    let now = chrono::Utc::now();
    let offer = json!({"store_id": app.store_a, "sku_id": cherries, "price": 990, "quota": 2, "per_customer_limit": 1,
                       "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1)});
    let cashier_tries = app.post_as(&app.cashier_a, "/api/v1/flash-sales", offer.clone()).await;
    assert_eq!(cashier_tries.body["error"]["code"], "forbidden");
    let created = app.post_as(&app.manager_a, "/api/v1/flash-sales", offer).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let reserve = format!("/api/v1/flash-sales/{}/reservations", created.body["id"].as_str().unwrap());
    // A buyer is a member, named by phone or member id.
    let mut members = Vec::new();
    for phone in ["13800000001", "13800000002", "13800000003"] {
        let body = json!({"identities": [{"kind": "phone", "value": phone}]});
        let member = app.post_as(&app.cashier_a, "/api/v1/customers", body).await;
        assert_eq!(member.status, StatusCode::CREATED, "{}", member.body);
        members.push(member.body["id"].as_str().unwrap().to_owned());
    }
    let unknown =
        app.post_with_key(&app.cashier_a, &reserve, "r0", json!({"buyer": "13900009999", "quantity": 1})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    assert_eq!(
        (unknown.body["error"]["code"].as_str(), unknown.body["error"]["field"].as_str()),
        (Some("unknown_reference"), Some("buyer"))
    );
    for (n, named) in ["a\u{0}b", "alice", "+86null", &format!("customer:{}", members[0])].into_iter().enumerate() {
        let refused =
            app.post_with_key(&app.cashier_a, &reserve, &format!("m{n}"), json!({"buyer": named, "quantity": 1})).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{named:?}: {}", refused.body);
        assert_eq!(
            (refused.body["error"]["code"].as_str(), refused.body["error"]["field"].as_str()),
            (Some("malformed"), Some("buyer"))
        );
    }
    let unkeyed = app.post_as(&app.cashier_a, &reserve, json!({"buyer": "13800000001", "quantity": 1})).await;
    assert_eq!(unkeyed.body["error"]["code"], "idempotency_key_required");
    let first = app.post_with_key(&app.cashier_a, &reserve, "r1", json!({"buyer": "13800000001", "quantity": 1})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let retry = app.post_with_key(&app.cashier_a, &reserve, "r1", json!({"buyer": "13800000001", "quantity": 1})).await;
    assert_eq!(retry.body["id"], first.body["id"], "a retry finds its reservation");
    let reused =
        app.post_with_key(&app.cashier_a, &reserve, "r1", json!({"buyer": "13800000001", "quantity": 2})).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reused.body);
    assert_eq!(reused.body["error"]["code"], "idempotency_key_reused");
    let again = app.post_with_key(&app.cashier_a, &reserve, "r2", json!({"buyer": "13800000001", "quantity": 1})).await;
    assert_eq!(again.body["error"]["code"], "flash_sale_limit_reached");
    // The same member by id, in either case: the same buyer.
    for (key, named) in [("r2-id", members[0].clone()), ("r2-upper", members[0].to_uppercase())] {
        let again = app.post_with_key(&app.cashier_a, &reserve, key, json!({"buyer": named, "quantity": 1})).await;
        assert_eq!(again.body["error"]["code"], "flash_sale_limit_reached", "{named}");
    }
    assert_eq!(first.body["buyer"], format!("customer:{}", members[0]));
    let second =
        app.post_with_key(&app.cashier_a, &reserve, "r3", json!({"buyer": "13800000002", "quantity": 1})).await;
    assert_eq!(second.status, StatusCode::CREATED);
    let late = app.post_with_key(&app.cashier_a, &reserve, "r4", json!({"buyer": members[2], "quantity": 1})).await;
    assert_eq!(late.body["error"]["code"], "flash_sale_sold_out");
    let read =
        app.get_as(&app.manager_a, &format!("/api/v1/flash-sales/{}", created.body["id"].as_str().unwrap())).await;
    assert_eq!((read.body["sold"].as_i64(), read.body["remaining"].as_i64()), (Some(2), Some(0)));
    assert_eq!(stock_of(&app, &cherries).await["reserved"], 2);
    assert_eq!(first.body["status"], "held");
    assert!(first.body["expires_at"].is_string());

    // The reservation becomes an order at the flash price, holding the same stock.
    let order = json!({"channel": "pos", "flash_reservation_id": first.body["id"]});
    let ordered = app.post_with_key(&app.cashier_a, "/api/v1/orders", "fo-1", order.clone()).await;
    assert_eq!(ordered.status, StatusCode::CREATED, "{}", ordered.body);
    assert_eq!(ordered.body["total"], read.body["price"]);
    assert_eq!(stock_of(&app, &cherries).await["reserved"], 2, "the hold moved, it did not double");
    let again = app.post_with_key(&app.cashier_a, "/api/v1/orders", "fo-2", order).await;
    assert_eq!(again.body["error"]["code"], "reservation_not_held");
}

async fn stock_documents_move_goods_between_stores(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let milk =
        app.stocked_sku("牛奶", json!({"code": "MILK-D", "name": "1L", "unit": "盒", "base_price": 1500}), 20).await;
    let (a, b) = (app.store_a.clone(), app.store_b.clone());
    let transfer = json!({"kind": "transfer", "store_id": b, "source_store_id": a,
                          "lines": [{"sku_id": milk, "quantity": 5}], "note": "B 店缺货"});
    let unkeyed = app.post_as(&app.manager_a, "/api/v1/stock-documents", transfer.clone()).await;
    assert_eq!(unkeyed.body["error"]["code"], "idempotency_key_required");
    let created = app.post_with_key(&app.manager_a, "/api/v1/stock-documents", "tr-1", transfer).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "submitted");
    assert!(created.body["number"].as_str().unwrap().starts_with("TR-"));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let steps = format!("/api/v1/stock-documents/{id}/steps");

    let by_manager = app.post_with_key(&app.manager_a, &steps, "a-0", json!({"step": "approve"})).await;
    assert_eq!(
        (by_manager.status, by_manager.body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let approved = app.post_with_key(&app.region_manager_n, &steps, "a-1", json!({"step": "approve"})).await;
    assert_eq!(approved.body["status"], "approved", "{}", approved.body);
    let shipped = app.post_with_key(&app.manager_a, &steps, "s-1", json!({"step": "ship"})).await;
    assert_eq!(shipped.body["status"], "shipped", "{}", shipped.body);
    assert_eq!(stock_of(&app, &milk).await["on_hand"], 15);
    let in_b = app.get_as(&app.admin, &format!("/api/v1/stores/{b}/stock/{milk}")).await;
    assert_eq!((in_b.body["on_hand"].as_i64(), in_b.body["in_transit"].as_i64()), (Some(0), Some(5)));
    let cashier_b = app.login("cashier-b").await;
    let by_cashier = app.post_with_key(&cashier_b, &steps, "r-0", json!({"step": "receive"})).await;
    assert_eq!(by_cashier.body["error"]["code"], "forbidden");
    let received = app
        .post_with_key(&app.admin, &steps, "r-1", json!({"step": "receive", "lines": [{"line_no": 1, "quantity": 4}]}))
        .await;
    assert_eq!(received.body["status"], "received", "{}", received.body);
    assert_eq!(received.body["lines"][0]["difference"], -1);
    let events: Vec<&str> =
        received.body["timeline"].as_array().unwrap().iter().map(|s| s["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["created", "approve", "ship", "receive"]);
    let in_b = app.get_as(&app.admin, &format!("/api/v1/stores/{b}/stock/{milk}")).await;
    assert_eq!((in_b.body["on_hand"].as_i64(), in_b.body["in_transit"].as_i64()), (Some(4), Some(0)));

    let again = app.request_as(&app.admin, "POST", &steps, Some(json!({"step": "receive"}))).await;
    assert_eq!(again.body["error"]["code"], "idempotency_key_required");
    let twice = app.post_with_key_lang(&app.admin, &steps, "r-2", json!({"step": "receive"}), "en").await;
    assert_eq!(
        (twice.status, twice.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal_document_transition"))
    );
    assert_eq!(twice.body["error"]["message"], "The transfer document is received and cannot receive");
    let unknown = app.post_with_key(&app.admin, &steps, "x-1", json!({"step": "fly"})).await;
    assert_eq!(unknown.body["error"]["code"], "unknown_value");

    // Visible to both ends and their region, not to another region's staff.
    let listed =
        app.get_as(&app.region_manager_n, &format!("/api/v1/stock-documents?store_id={b}&kind=transfer")).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.body);
    let cashier_c = app.login("cashier-c").await;
    let hidden = app.get_as(&cashier_c, &format!("/api/v1/stock-documents/{id}")).await;
    assert_eq!(hidden.body["error"]["code"], "out_of_scope");
    let elsewhere =
        json!({"kind": "loss", "store_id": b, "lines": [{"sku_id": milk, "quantity": 1, "reason": "破损"}]});
    let foreign = app.post_with_key(&app.manager_a, "/api/v1/stock-documents", "ls-b", elsewhere).await;
    assert_eq!(foreign.body["error"]["code"], "out_of_scope");

    // A purchase order still open counts as expected stock in the reorder suggestion.
    let po =
        json!({"kind": "purchase", "store_id": a, "supplier": "光明乳业", "lines": [{"sku_id": milk, "quantity": 3}]});
    let po = app.post_with_key(&app.manager_a, "/api/v1/stock-documents", "po-open", po).await;
    let po_steps = format!("/api/v1/stock-documents/{}/steps", po.body["id"].as_str().unwrap());
    let over = app
        .post_with_key(
            &app.manager_a,
            &po_steps,
            "po-r",
            json!({"step": "receive", "lines": [{"line_no": 1, "quantity": 5}]}),
        )
        .await;
    assert_eq!(
        (over.body["error"]["code"].as_str(), over.body["error"]["field"].as_str()),
        (Some("document_lines"), Some("lines"))
    );
    let policy = format!("/api/v1/stores/{a}/stock-policies/{milk}");
    let bad = app.request_as(&app.manager_a, "PUT", &policy, Some(json!({"reorder_point": 20, "target": 20}))).await;
    assert_eq!(bad.body["error"]["code"], "out_of_range");
    let set = app.request_as(&app.manager_a, "PUT", &policy, Some(json!({"reorder_point": 20, "target": 50}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let suggestions = app.get_as(&app.manager_a, &format!("/api/v1/stores/{a}/reorder-suggestions")).await;
    let first = &suggestions.body["items"][0];
    // 15 available and 3 expected: 18 is at most 20, so order 32 to be back at 50.
    assert_eq!(
        (first["available"].as_i64(), first["expected"].as_i64(), first["suggested"].as_i64()),
        (Some(15), Some(3), Some(32))
    );
    let none_in_b = app.get_as(&app.admin, &format!("/api/v1/stores/{b}/reorder-suggestions")).await;
    assert_eq!(none_in_b.body["items"], json!([]));
    let removed = app.request_as(&app.manager_a, "DELETE", &policy, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);

    let reconcile = app.get_as(&app.admin, "/api/v1/inventory/reconcile").await;
    assert_eq!(reconcile.body["sound"], true, "{}", reconcile.body);
}

async fn shipments_send_unnamed_lines_as_approved_and_losses_keep_their_reason(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let juice =
        app.stocked_sku("果汁", json!({"code": "JUICE", "name": "1L", "unit": "瓶", "base_price": 900}), 30).await;
    let bread =
        app.stocked_sku("面包", json!({"code": "BREAD", "name": "袋", "unit": "袋", "base_price": 600}), 30).await;
    let (a, b) = (app.store_a.clone(), app.store_b.clone());
    let transfer = json!({"kind": "transfer", "store_id": b, "source_store_id": a,
                          "lines": [{"sku_id": juice, "quantity": 24}, {"sku_id": bread, "quantity": 24}]});
    let created = app.post_with_key(&app.manager_a, "/api/v1/stock-documents", "tr-p", transfer).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let steps = format!("/api/v1/stock-documents/{}/steps", created.body["id"].as_str().unwrap());

    // Approving more than was asked is refused; less is allowed, and a line left out gets
    // what it asked for.
    let greedy = json!({"step": "approve", "lines": [{"line_no": 1, "quantity": 1000}]});
    let refused = app.post_with_key(&app.region_manager_n, &steps, "tr-p-a0", greedy).await;
    assert_eq!(
        (refused.status, refused.body["error"]["code"].as_str(), refused.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("document_lines"), Some("lines")),
        "{}",
        refused.body
    );
    let approve = json!({"step": "approve", "lines": [{"line_no": 1, "quantity": 20}]});
    let approved = app.post_with_key(&app.region_manager_n, &steps, "tr-p-a1", approve).await;
    let granted: Vec<i64> =
        approved.body["lines"].as_array().unwrap().iter().map(|l| l["approved"].as_i64().unwrap()).collect();
    assert_eq!(granted, [20, 24], "{}", approved.body);

    // Naming one line ships the other as approved.
    let ship = json!({"step": "ship", "lines": [{"line_no": 1, "quantity": 18}]});
    let shipped = app.post_with_key(&app.manager_a, &steps, "tr-p-s", ship).await;
    assert_eq!(shipped.body["status"], "shipped", "{}", shipped.body);
    let sent: Vec<i64> =
        shipped.body["lines"].as_array().unwrap().iter().map(|l| l["shipped"].as_i64().unwrap()).collect();
    assert_eq!(sent, [18, 24]);
    assert_eq!(stock_of(&app, &juice).await["on_hand"], 12);
    assert_eq!(stock_of(&app, &bread).await["on_hand"], 6);
    let in_b = app.get_as(&app.admin, &format!("/api/v1/stores/{b}/stock/{bread}")).await;
    assert_eq!(in_b.body["in_transit"], 24);

    // A loss report's line reason reaches the ledger, as a direct loss movement's does.
    let loss = json!({"kind": "loss", "store_id": a,
                      "lines": [{"sku_id": juice, "quantity": 2, "reason": "腐烂 rotten"}]});
    let report = app.post_with_key(&app.manager_a, "/api/v1/stock-documents", "ls-r", loss).await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.body);
    let number = report.body["number"].as_str().unwrap().to_owned();
    let loss_steps = format!("/api/v1/stock-documents/{}/steps", report.body["id"].as_str().unwrap());
    let posted = app.post_with_key(&app.region_manager_n, &loss_steps, "ls-r-a", json!({"step": "approve"})).await;
    assert_eq!(posted.body["status"], "posted", "{}", posted.body);
    let ledger = app.get_as(&app.manager_a, &format!("/api/v1/stores/{a}/stock/{juice}/ledger")).await;
    let entry = &ledger.body["items"][0];
    assert_eq!(
        (
            entry["change"].as_str(),
            entry["delta_on_hand"].as_i64(),
            entry["reason"].as_str(),
            entry["reference"].as_str()
        ),
        (Some("loss"), Some(-2), Some("腐烂 rotten"), Some(number.as_str())),
        "{}",
        ledger.body
    );
    let reconcile = app.get_as(&app.admin, "/api/v1/inventory/reconcile").await;
    assert_eq!(reconcile.body["sound"], true, "{}", reconcile.body);
}

/// NUL cannot be stored by PostgreSQL and is silently kept by SQLite: every backend refuses it,
/// naming the field, before anything is written.
async fn control_characters_are_refused_before_anything_is_stored(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let tea = app.stocked_sku("茶", json!({"code": "TEA", "name": "盒", "unit": "盒", "base_price": 3000}), 10).await;
    let a = app.store_a.clone();
    let order = json!({"store_id": a, "channel": "pos", "lines": [{"sku_id": tea, "quantity": 1}]});
    let movements = format!("/api/v1/stores/{a}/stock/movements");
    let cases = [
        ("/api/v1/orders", with(&order, "note", json!("a\u{0}b")), "note"),
        (movements.as_str(), json!({"sku_id": tea, "kind": "loss", "quantity": 1, "reason": "x\u{0}y"}), "reason"),
        (
            "/api/v1/stock-documents",
            json!({"kind": "purchase", "store_id": a, "supplier": "s\u{0}", "lines": [{"sku_id": tea, "quantity": 1}]}),
            "supplier",
        ),
        (
            "/api/v1/stock-documents",
            json!({"kind": "loss", "store_id": a, "lines": [{"sku_id": tea, "quantity": 1, "reason": "\u{1b}[31m"}]}),
            "reason",
        ),
    ];
    for (index, (path, body, field)) in cases.into_iter().enumerate() {
        let refused = app.post_with_key(&app.manager_a, path, &format!("nul-{index}"), body).await;
        assert_eq!(
            (refused.status, refused.body["error"]["code"].as_str(), refused.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_text"), Some(field)),
            "{path}: {}",
            refused.body
        );
    }
    let listed = app.get_as(&app.manager_a, "/api/v1/skus?q=%00").await;
    assert_eq!(listed.body["error"]["code"], "invalid_text", "{}", listed.body);
    assert_eq!(stock_of(&app, &tea).await["on_hand"], 10, "nothing moved");
    assert_eq!(stock_of(&app, &tea).await["reserved"], 0, "nothing held");
    let documents = app.get_as(&app.manager_a, &format!("/api/v1/stock-documents?store_id={a}")).await;
    assert_eq!(documents.body["items"], json!([]), "no document was raised");

    // Lines, tabs and any printable script are text.
    let note = "第一行\r\n第二行\t👨‍👩‍👧 \u{202e} RTL";
    let created =
        app.post_with_key(&app.manager_a, "/api/v1/orders", "note-ok", with(&order, "note", json!(note))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["note"], note);

    // A flash-sale buyer is refused before it reaches the sale's journal: a buyer is a member
    // id or phone, so any other text is malformed.
    let now = chrono::Utc::now();
    let offer = json!({"store_id": a, "sku_id": tea, "price": 990, "quota": 2, "per_customer_limit": 1,
                       "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1)});
    let sale = app.post_as(&app.manager_a, "/api/v1/flash-sales", offer).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.body);
    let reserve = format!("/api/v1/flash-sales/{}/reservations", sale.body["id"].as_str().unwrap());
    let refused =
        app.post_with_key(&app.cashier_a, &reserve, "r-nul", json!({"buyer": "a\u{0}b", "quantity": 1})).await;
    assert_eq!(
        (refused.status, refused.body["error"]["code"].as_str(), refused.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("malformed"), Some("buyer")),
        "{}",
        refused.body
    );
    // Its message says what a buyer is in the caller's language: all Chinese by default (the
    // field's API name aside), all English when asked.
    let zh = refused.body["error"]["message"].as_str().unwrap();
    assert!(zh.contains("会员") && zh.contains("手机号") && !zh.contains("member"), "{zh}");
    let words = zh.trim_start_matches("buyer").split(|c: char| !c.is_ascii_alphabetic());
    assert!(words.filter(|w| w.len() > 2).count() == 0, "no English words: {zh}");
    let builder = axum::http::Request::post(&reserve)
        .header("authorization", format!("Bearer {}", app.cashier_a))
        .header("content-type", "application/json")
        .header("idempotency-key", "r-nul-en")
        .header("accept-language", "en");
    let refused = app.send(builder, Some(json!({"buyer": "a\u{0}b", "quantity": 1}))).await;
    assert_eq!(
        refused.body["error"]["message"].as_str(),
        Some("buyer is malformed; expected a member id or phone"),
        "{}",
        refused.body
    );
    let read = app.get_as(&app.manager_a, &format!("/api/v1/flash-sales/{}", sale.body["id"].as_str().unwrap())).await;
    assert_eq!(read.body["remaining"], 2, "{}", read.body);
}

async fn customers_have_one_identity_across_channels(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let phone = json!({"identities": [{"kind": "phone", "value": "138-0013-8000"}], "display_name": "王女士"});
    let first = app.post_as(&app.cashier_a, "/api/v1/customers", phone).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(
        (first.body["matched_existing"].as_bool(), first.body["home_store_id"].as_str()),
        (Some(false), Some(app.store_a.as_str()))
    );
    let id = first.body["id"].as_str().unwrap().to_owned();
    let wechat = json!({"identities": [{"kind": "phone", "value": "13800138000"}, {"kind": "wechat_openid", "value": "oWx_12345678"}]});
    let again = app.post_as(&app.cashier_a, "/api/v1/customers", wechat).await;
    assert_eq!((again.body["id"].as_str(), again.body["matched_existing"].as_bool()), (Some(id.as_str()), Some(true)));
    let read = app.get_as(&app.manager_a, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(read.body["identities"].as_array().unwrap().len(), 2, "{}", read.body);

    let cashier_b = app.login("cashier-b").await;
    let by_id = app.get_as(&cashier_b, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(by_id.body["error"]["code"], "out_of_scope");
    let at_till = app.get_as(&cashier_b, "/api/v1/customers/lookup?kind=wechat_openid&value=oWx_12345678").await;
    assert_eq!(at_till.body["id"], id.as_str(), "any store finds a member by an identifier");
    let missing = app.get_as_lang(&cashier_b, "/api/v1/customers/lookup?kind=phone&value=13900000000", "en").await;
    assert_eq!(
        (missing.status, missing.body["error"]["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("No such customer"))
    );

    let other = app
        .post_as(
            &app.cashier_a,
            "/api/v1/customers",
            json!({"identities": [{"kind": "member_card", "value": "VIP88888"}]}),
        )
        .await;
    let other_id = other.body["id"].as_str().unwrap().to_owned();
    let both = json!({"identities": [{"kind": "phone", "value": "13800138000"}, {"kind": "member_card", "value": "VIP88888"}]});
    let conflict = app.post_as(&app.cashier_a, "/api/v1/customers", both).await;
    assert_eq!(
        (conflict.status, conflict.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("identities_conflict"))
    );
    let taken = app
        .post_as(
            &app.cashier_a,
            &format!("/api/v1/customers/{other_id}/identities"),
            json!({"kind": "phone", "value": "13800138000"}),
        )
        .await;
    assert_eq!(taken.body["error"]["code"], "identity_taken");
    let bad = app
        .post_as(&app.cashier_a, "/api/v1/customers", json!({"identities": [{"kind": "email", "value": "a@b.cn"}]}))
        .await;
    assert_eq!(
        (bad.body["error"]["code"].as_str(), bad.body["error"]["field"].as_str()),
        (Some("unknown_value"), Some("kind"))
    );

    let merge = format!("/api/v1/customers/{id}/merge");
    let by_cashier = app.post_as(&app.cashier_a, &merge, json!({"absorbed_id": other_id})).await;
    assert_eq!(by_cashier.body["error"]["code"], "forbidden");
    let merged = app.post_as(&app.manager_a, &merge, json!({"absorbed_id": other_id, "reason": "同一人"})).await;
    assert_eq!(merged.body["identities"].as_array().unwrap().len(), 3, "{}", merged.body);
    let resolved = app.get_as(&app.manager_a, &format!("/api/v1/customers/{other_id}")).await;
    assert_eq!(resolved.body["id"], id.as_str(), "the absorbed id resolves to the survivor");
    let twice = app.post_as(&app.manager_a, &merge, json!({"absorbed_id": other_id})).await;
    assert_eq!(twice.body["error"]["code"], "already_merged");

    // Support undoes it: the absorbed profile stands on its own again, once.
    let unmerge = format!("/api/v1/customers/{other_id}/unmerge");
    let undone = app.post_as(&app.manager_a, &unmerge, json!({"reason": "不是同一人"})).await;
    assert_eq!(undone.status, StatusCode::OK, "{}", undone.body);
    assert_eq!(
        (undone.body["survivor"]["id"].as_str(), undone.body["restored"]["id"].as_str()),
        (Some(id.as_str()), Some(other_id.as_str()))
    );
    let again = app.post_as(&app.manager_a, &unmerge, json!({})).await;
    assert_eq!((again.status, again.body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_merged")));
    let resolved = app.get_as(&app.manager_a, &format!("/api/v1/customers/{other_id}")).await;
    assert_eq!(resolved.body["id"], other_id.as_str());
}

async fn price_quotes_explain_member_prices_points_and_delivery(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let product = app
        .create_product(
            "牛奶",
            json!([{"code": "MILK-Q", "name": "1L", "unit": "盒", "base_price": 1200, "member_price": 1000}]),
        )
        .await;
    let milk = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let member = app
        .post_as(
            &app.cashier_a,
            "/api/v1/customers",
            json!({"identities": [{"kind": "phone", "value": "13800138000"}]}),
        )
        .await;
    let member = member.body["id"].as_str().unwrap().to_owned();
    let gift = app
        .post_with_key(
            &app.admin,
            &format!("/api/v1/customers/{member}/points/adjustments"),
            "gift",
            json!({"points": 500, "reason": "开卡礼"}),
        )
        .await;
    assert_eq!(gift.status, StatusCode::CREATED, "{}", gift.body);

    let cart = |extra: Value| {
        let mut body =
            json!({"store_id": app.store_a, "channel": "pickup", "lines": [{"sku_id": milk, "quantity": 3}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let guest = app.post_as(&app.cashier_a, "/api/v1/price-quotes", cart(json!({}))).await;
    assert_eq!((guest.status, guest.body["total_payable"].as_i64()), (StatusCode::OK, Some(3600)), "{}", guest.body);
    let as_member = app.post_as(&app.cashier_a, "/api/v1/price-quotes", cart(json!({"customer_id": member}))).await;
    assert_eq!(as_member.body["total_payable"], 3000);
    assert_eq!(as_member.body["lines"][0]["adjustments"][0]["source"], "member_price");
    let with_points =
        app.post_as(&app.cashier_a, "/api/v1/price-quotes", cart(json!({"customer_id": member, "points": 500}))).await;
    assert_eq!(
        (with_points.body["points_used"].as_i64(), with_points.body["total_payable"].as_i64()),
        (Some(500), Some(2500))
    );
    let delivered = app
        .post_as(&app.cashier_a, "/api/v1/price-quotes", cart(json!({"customer_id": member, "channel": "delivery"})))
        .await;
    assert_eq!(
        (delivered.body["delivery_fee"].as_i64(), delivered.body["total_payable"].as_i64()),
        (Some(500), Some(3500))
    );
    let greedy =
        app.post_as(&app.cashier_a, "/api/v1/price-quotes", cart(json!({"customer_id": member, "points": 900}))).await;
    assert_eq!(greedy.body["error"]["code"], "insufficient_points");
    let anonymous_points = app.post_as(&app.cashier_a, "/api/v1/price-quotes", cart(json!({"points": 100}))).await;
    assert_eq!(anonymous_points.body["error"]["field"], "customer_id");

    // A tier with free delivery: new members start in it, and their deliveries cost nothing.
    let plus = json!({"code": "plus", "name": "PLUS 会员", "spend_threshold": 0, "free_delivery": true});
    let by_cashier = app.post_as(&app.cashier_a, "/api/v1/member-tiers", plus.clone()).await;
    assert_eq!(by_cashier.body["error"]["code"], "forbidden");
    let tier = app.post_as(&app.admin, "/api/v1/member-tiers", plus).await;
    assert_eq!(tier.status, StatusCode::CREATED, "{}", tier.body);
    let tiers = app.get_as(&app.cashier_a, "/api/v1/member-tiers").await;
    assert_eq!(tiers.body["items"][0]["code"], "plus");
    let newcomer = app
        .post_as(
            &app.cashier_a,
            "/api/v1/customers",
            json!({"identities": [{"kind": "phone", "value": "13900139000"}]}),
        )
        .await;
    assert_eq!(newcomer.body["tier_id"], tier.body["id"]);
    let free = app
        .post_as(
            &app.cashier_a,
            "/api/v1/price-quotes",
            cart(json!({"customer_id": newcomer.body["id"], "channel": "delivery"})),
        )
        .await;
    assert_eq!((free.body["delivery_fee"].as_i64(), free.body["total_payable"].as_i64()), (Some(0), Some(3000)));
}

async fn audiences_count_members_while_typing(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let silver = json!({"code": "silver", "name": "银卡", "spend_threshold": 0});
    assert_eq!(app.post_as(&app.admin, "/api/v1/member-tiers", silver).await.status, StatusCode::CREATED);
    let mut members = Vec::new();
    for phone in ["13800000001", "13800000002", "13800000003"] {
        let body = json!({"identities": [{"kind": "phone", "value": phone}]});
        members
            .push(app.post_as(&app.cashier_a, "/api/v1/customers", body).await.body["id"].as_str().unwrap().to_owned());
    }
    let cashier_c = app.login("cashier-c").await;
    let south = json!({"identities": [{"kind": "phone", "value": "13900000009"}]});
    assert_eq!(app.post_as(&cashier_c, "/api/v1/customers", south).await.status, StatusCode::CREATED);
    let gift = json!({"points": 600, "reason": "活动奖励"});
    let adjust = format!("/api/v1/customers/{}/points/adjustments", members[0]);
    assert_eq!(app.post_with_key(&app.admin, &adjust, "g-1", gift).await.status, StatusCode::CREATED);

    let count = |token: String, expression: &str| {
        let body = json!({"expression": expression});
        let app = &app;
        async move { app.post_as(&token, "/api/v1/audiences/count", body).await }
    };
    for (expression, expected) in [
        ("tier = silver", 4),
        ("points >= 500", 1),
        ("region = N AND NOT points >= 500", 2),
        ("(region = S or points between 100 and 1000) and tier in (silver, gold)", 2),
        ("home_store = \"N-A\" && spend_365d = 0", 3),
    ] {
        let counted = count(app.admin.clone(), expression).await;
        assert_eq!(counted.body["count"], expected, "{expression}: {}", counted.body);
    }
    let in_store = count(app.cashier_a.clone(), "tier = silver").await;
    assert_eq!(in_store.body["count"], 3, "store staff count their store's members");

    let builder = axum::http::Request::post("/api/v1/audiences/count")
        .header("authorization", format!("Bearer {}", app.admin))
        .header("content-type", "application/json")
        .header("accept-language", "en");
    let broken = app.send(builder, Some(json!({"expression": "points >= "}))).await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(broken.body["error"]["field"], "expression");
    let message = broken.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("column 11"), "{message}");
    assert_eq!(
        message,
        "The audience expression is wrong at line 1, column 11: expected a number for \"points\" at column 11, found end of input"
    );
    // In Chinese (the default) the whole message is Chinese, the names as written.
    let unknown = count(app.admin.clone(), "vip = 1").await;
    assert_eq!(unknown.body["error"]["code"], "unknown_field");
    assert_eq!(unknown.body["error"]["message"], "人群表达式第 1 行第 1 列有误：没有字段“vip”");
    let broken = count(app.admin.clone(), "(tier = silver").await;
    assert_eq!(
        broken.body["error"]["message"],
        "人群表达式第 1 行第 15 列有误：这里应为与第 1 列的“(”配对的“)”，实际是表达式结尾"
    );
    let mismatched = count(app.admin.clone(), "points = gold").await;
    assert_eq!(
        mismatched.body["error"]["message"],
        "人群表达式第 1 行第 10 列有误：数值字段“points”需要数字，实际是\"gold\""
    );

    // HQ exports the members of a segment as CSV; store staff may not.
    let export = json!({"expression": "region = N and points >= 500"});
    let refused = app.post_as(&app.cashier_a, "/api/v1/audiences/export", export.clone()).await;
    assert_eq!(refused.body["error"]["code"], "forbidden");
    let csv = app.post_as(&app.admin, "/api/v1/audiences/export", export).await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "ordinal,customer_id,display_name,phone,home_store_id,guide_id");
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[1].contains(&members[0]) && lines[1].contains("13800000001"), "{}", lines[1]);
}

async fn coupons_and_promotions_through_the_api(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let milk =
        app.stocked_sku("牛奶", json!({"code": "MILK-C", "name": "1L", "unit": "盒", "base_price": 1200}), 10).await;
    let bad = app.post_as(&app.admin, "/api/v1/coupon-templates", json!({"name": "折扣", "type": "percent_off"})).await;
    assert_eq!(
        (bad.body["error"]["code"].as_str(), bad.body["error"]["field"].as_str()),
        (Some("required"), Some("pay_bp"))
    );
    let both = json!({"name": "满30减5", "type": "amount_off", "amount": 500, "threshold": 3000, "valid_days": 7,
                      "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2026-02-01T00:00:00Z"});
    let both = app.post_as(&app.admin, "/api/v1/coupon-templates", both).await;
    assert_eq!(both.body["error"]["field"], "validity", "{}", both.body);
    let body = json!({"name": "满30减5", "type": "amount_off", "amount": 500, "threshold": 3000, "valid_days": 7,
                      "claimable": true, "per_customer_limit": 1});
    let by_cashier = app.post_as(&app.cashier_a, "/api/v1/coupon-templates", body.clone()).await;
    assert_eq!(by_cashier.body["error"]["code"], "forbidden");
    let template = app.post_as(&app.admin, "/api/v1/coupon-templates", body).await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);
    assert_eq!(template.body["rule"], "满30减5");
    let template = template.body["id"].as_str().unwrap().to_owned();
    let promotion = json!({"name": "周末满减", "type": "amount_off_ladder", "tiers": [{"threshold": 3000, "amount": 300}],
                           "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z",
                           "store_ids": [app.store_a]});
    let promotion = app.post_as(&app.admin, "/api/v1/promotions", promotion).await;
    assert_eq!(promotion.status, StatusCode::CREATED, "{}", promotion.body);
    assert_eq!(promotion.body["tiers"][0]["amount"], 300);

    let member = app
        .post_as(
            &app.cashier_a,
            "/api/v1/customers",
            json!({"identities": [{"kind": "phone", "value": "13800138000"}]}),
        )
        .await;
    let member = member.body["id"].as_str().unwrap().to_owned();
    let issue = format!("/api/v1/coupon-templates/{template}/coupons");
    let claim = json!({"customer_id": member, "claim": true});
    let unkeyed = app.post_as(&app.cashier_a, &issue, claim.clone()).await;
    assert_eq!(unkeyed.body["error"]["code"], "idempotency_key_required");
    let claimed = app.post_with_key(&app.cashier_a, &issue, "claim-1", claim.clone()).await;
    assert_eq!(
        (claimed.status, claimed.body["state"].as_str()),
        (StatusCode::CREATED, Some("usable")),
        "{}",
        claimed.body
    );
    let twice = app.post_with_key(&app.cashier_a, &issue, "claim-2", claim).await;
    assert_eq!(
        (twice.status, twice.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("coupon_limit_reached"))
    );
    let coupon = claimed.body["id"].as_str().unwrap().to_owned();
    let wallet = app.get_as(&app.cashier_a, &format!("/api/v1/customers/{member}/coupons")).await;
    assert_eq!(wallet.body["items"][0]["rule"], "满30减5");

    let cart = json!({"store_id": app.store_a, "channel": "pos", "customer_id": member, "coupon_ids": [coupon],
                      "lines": [{"sku_id": milk, "quantity": 3}]});
    let quote = app.post_as(&app.cashier_a, "/api/v1/price-quotes", cart.clone()).await;
    let applied: Vec<_> = quote.body["applied"].as_array().unwrap().iter().map(|r| r["name"].clone()).collect();
    assert_eq!(applied, [json!("周末满减"), json!("满30减5")], "{}", quote.body);
    assert_eq!(quote.body["total_payable"], 3600 - 300 - 500);
    let order = app.post_with_key(&app.cashier_a, "/api/v1/orders", "o-1", cart.clone()).await;
    assert_eq!((order.status, order.body["total"].as_i64()), (StatusCode::CREATED, Some(2800)), "{}", order.body);
    let reused = app.post_with_key(&app.cashier_a, "/api/v1/orders", "o-2", cart).await;
    assert_eq!(reused.body["error"]["code"], "coupon_unavailable");
    let wallet = app.get_as_lang(&app.cashier_a, &format!("/api/v1/customers/{member}/coupons"), "en").await;
    assert_eq!(wallet.body["items"][0]["state"], "used");
    let reconcile = app.get_as(&app.admin, "/api/v1/coupons/reconcile").await;
    assert_eq!(reconcile.body, json!([]));
    let ended = app
        .post_as(&app.admin, &format!("/api/v1/promotions/{}/end", promotion.body["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(ended.body["ended"], true);
}

async fn referral_commission_and_stored_value_through_the_api(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let milk =
        app.stocked_sku("牛奶", json!({"code": "MILK-R", "name": "1L", "unit": "盒", "base_price": 1000}), 10).await;
    let customer = |phone: &str, extra: Value| {
        let mut body = json!({"identities": [{"kind": "phone", "value": phone}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let agent = app.post_as(&app.cashier_a, "/api/v1/customers", customer("13800000001", json!({}))).await;
    let agent = agent.body["id"].as_str().unwrap().to_owned();
    let rules = json!({"level1_bp": 1000, "level2_bp": 0, "return_window_days": 7});
    let by_cashier = app.request_as(&app.cashier_a, "PUT", "/api/v1/commission-rules", Some(rules.clone())).await;
    assert_eq!(by_cashier.body["error"]["code"], "forbidden");
    let set = app.request_as(&app.admin, "PUT", "/api/v1/commission-rules", Some(rules)).await;
    assert_eq!(set.body["level1_bp"], 1000, "{}", set.body);
    let both = app.post_as(&app.admin, "/api/v1/distributors", json!({})).await;
    assert_eq!(both.body["error"]["field"], "customer_id");
    let distributor = app.post_as(&app.admin, "/api/v1/distributors", json!({"customer_id": agent})).await;
    assert_eq!(distributor.body["distributor"], true, "{}", distributor.body);
    let code = distributor.body["code"].as_str().unwrap().to_owned();
    assert_eq!(distributor.body["link"], format!("/m/i/{code}"));
    let invite = app.post_as(&app.cashier_a, &format!("/api/v1/customers/{agent}/invite"), json!({})).await;
    assert_eq!(invite.body["code"], code.as_str(), "one code per customer");
    let malformed =
        app.post_as(&app.cashier_a, "/api/v1/customers", customer("13800000002", json!({"invite_code": "??"}))).await;
    assert_eq!(malformed.body["error"]["field"], "invite_code");
    let buyer = app
        .post_as(
            &app.cashier_a,
            "/api/v1/customers",
            customer("13800000002", json!({"invite_code": code, "device_id": "d-1"})),
        )
        .await;
    let buyer = buyer.body["id"].as_str().unwrap().to_owned();

    let top_up = format!("/api/v1/customers/{buyer}/stored-value/top-ups");
    let topped = app
        .post_with_key(&app.cashier_a, &top_up, "t-1", json!({"amount": 2000, "bonus": 200, "method": "cash"}))
        .await;
    assert_eq!((topped.status, topped.body["balance"].as_i64()), (StatusCode::CREATED, Some(2200)), "{}", topped.body);
    let order = json!({"store_id": app.store_a, "channel": "pos", "customer_id": buyer,
                       "lines": [{"sku_id": milk, "quantity": 3}]});
    let order = app.post_with_key(&app.cashier_a, "/api/v1/orders", "o-1", order).await;
    let id = order.body["id"].as_str().unwrap().to_owned();
    let pay = format!("/api/v1/orders/{id}/payments");
    let paid = app.post_with_key(&app.cashier_a, &pay, "p-1", json!({"method": "stored_value", "amount": 3000})).await;
    assert_eq!(paid.body["error"]["code"], "insufficient_stored_value", "{}", paid.body);
    let paid = app.post_with_key(&app.cashier_a, &pay, "p-2", json!({"method": "cash", "amount": 3000})).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

    let promoter = distributor.body["id"].as_str().unwrap();
    let statement = app.get_as(&app.admin, &format!("/api/v1/promoters/{promoter}/commissions")).await;
    assert_eq!(statement.body["balance"]["frozen"], 300, "{}", statement.body);
    assert_eq!(statement.body["items"][0]["kind"], "accrue");
    let referrals = app.get_as(&app.admin, &format!("/api/v1/promoters/{promoter}/referrals")).await;
    assert_eq!(referrals.body["items"][0]["counted"], true);
    let payout = app
        .post_with_key(&app.admin, &format!("/api/v1/promoters/{promoter}/payouts"), "po-1", json!({"amount": 200}))
        .await;
    assert_eq!(payout.body["error"]["code"], "payout_not_enough", "frozen money is not available yet");
    for reconcile in ["/api/v1/commissions/reconcile", "/api/v1/stored-value/reconcile", "/api/v1/coupons/reconcile"] {
        assert_eq!(app.get_as(&app.admin, reconcile).await.body, json!([]), "{reconcile}");
    }
}

async fn events_arrive_as_the_segment_spec_sends_them(db: Arc<dyn Database>) {
    use base64::Engine as _;
    let app = spawn_app(db).await;
    let by_cashier = app.post_as(&app.cashier_a, "/api/v1/event-sources", json!({"name": "小程序"})).await;
    assert_eq!(by_cashier.body["error"]["code"], "forbidden");
    let source = app.post_as(&app.admin, "/api/v1/event-sources", json!({"name": "小程序"})).await;
    assert_eq!(source.status, StatusCode::CREATED, "{}", source.body);
    let key = source.body["write_key"].as_str().unwrap().to_owned();
    let listed = app.get_as(&app.admin, "/api/v1/event-sources").await;
    assert!(listed.body[0].get("write_key").is_none(), "the key is shown once");
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")));
    let send = |path: &str, body: Value, auth: Option<&str>| {
        let mut builder = axum::http::Request::post(path.to_owned()).header("content-type", "application/json");
        if let Some(auth) = auth {
            builder = builder.header("authorization", auth.to_owned());
        }
        app.send(builder, Some(body))
    };

    let anonymous = send("/v1/track", json!({"event": "Product Viewed", "anonymousId": "a-1"}), None).await;
    assert_eq!(
        (anonymous.status, anonymous.body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let bad = send("/v1/track", json!({"event": "Product Viewed"}), Some(&basic)).await;
    assert_eq!((bad.status, bad.body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("missing_identity")));
    assert_eq!(bad.body["error"]["message"], "事件格式有误：须有 userId 或 anonymousId");

    let member = app
        .post_as(
            &app.cashier_a,
            "/api/v1/customers",
            json!({"identities": [{"kind": "phone", "value": "13800138000"}]}),
        )
        .await;
    let member = member.body["id"].as_str().unwrap().to_owned();
    let batch = json!({"batch": [
        {"type": "page", "name": "首页", "anonymousId": "a-1", "messageId": "m-1", "timestamp": "2026-11-30T08:00:00Z"},
        {"type": "track", "anonymousId": "a-1", "messageId": "m-2"},
        {"type": "identify", "userId": member, "anonymousId": "a-1", "messageId": "m-3", "traits": {"name": "王女士"}},
        {"type": "track", "event": "Product Viewed", "anonymousId": "a-1", "messageId": "m-4",
         "properties": {"sku": "MILK", "price": 12.9}},
        {"type": "purchase", "userId": member, "messageId": "m-5"}
    ], "context": {"app": {"name": "quanyu-mall"}}, "writeKey": key});
    let sent = send("/v1/batch", batch.clone(), None).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!((sent.body["accepted"].as_u64(), sent.body["duplicates"].as_u64()), (Some(3), Some(0)));
    let rejected: Vec<_> =
        sent.body["rejected"].as_array().unwrap().iter().map(|r| (r["index"].clone(), r["code"].clone())).collect();
    assert_eq!(rejected, [(json!(1), json!("missing_event")), (json!(4), json!("invalid_type"))]);
    assert_eq!(sent.body["rejected"][1]["message"], "未知的消息类型 purchase", "in the caller's language");
    let english = axum::http::Request::post("/v1/batch")
        .header("content-type", "application/json")
        .header("accept-language", "en");
    let english = app
        .send(
            english,
            Some(json!({"batch": [
        {"type": "track", "anonymousId": "a-9"}, {}, {"type": "page", "anonymousId": "a-9", "messageId": "m-9"}
    ], "writeKey": key})),
        )
        .await;
    let messages: Vec<_> = english.body["rejected"].as_array().unwrap().iter().map(|r| r["message"].clone()).collect();
    assert_eq!(messages, [json!("a track message needs an event name"), json!("type is required")], "{}", english.body);
    let again = send("/v1/batch", batch, Some(&basic)).await;
    assert_eq!(
        (again.body["accepted"].as_u64(), again.body["duplicates"].as_u64()),
        (Some(0), Some(3)),
        "a retry is stored once"
    );

    let timeline = app.get_as(&app.cashier_a, &format!("/api/v1/customers/{member}/events")).await;
    let kinds: Vec<_> = timeline.body["items"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(
        kinds,
        [json!("track"), json!("identify"), json!("page")],
        "the page viewed before logging in is theirs"
    );
    assert_eq!(timeline.body["items"][0]["properties"]["sku"], "MILK");
    assert_eq!(timeline.body["items"][2]["context"]["app"]["name"], "quanyu-mall", "the batch's context");
    assert_eq!(timeline.body["items"][2]["occurred_at"], "2026-11-30T08:00:00Z");

    let profile = app.get_as(&app.cashier_a, &format!("/api/v1/customers/{member}/profile")).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
    assert_eq!(
        (profile.body["lifecycle"]["stage"].as_str(), profile.body["lifecycle"]["label"].as_str()),
        (Some("introduction"), Some("引入期"))
    );
    assert_eq!(profile.body["rfm"]["segment"], "一般挽留客户");
    assert_eq!(profile.body["timeline"]["items"].as_array().unwrap().len(), 3);
    assert_eq!(profile.body["customer"]["identities"][0]["kind"], "phone");
    let rules = app.get_as(&app.admin, "/api/v1/scoring-rules").await;
    assert_eq!(rules.body["maturity_orders"], 3);
    let mut bad = rules.body.clone();
    bad["recency_days"] = json!([90, 30, 7, 180]);
    let refused = app.request_as(&app.admin, "PUT", "/api/v1/scoring-rules", Some(bad)).await;
    assert_eq!(refused.body["error"]["field"], "bins");

    let huge = json!({"batch": [{"type": "track", "event": "x", "anonymousId": "a", "properties": {"pad": "x".repeat(600 * 1024)}}]});
    let too_big = send("/v1/batch", huge, Some(&basic)).await;
    assert_eq!(
        (too_big.status, too_big.body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
}

async fn tags_and_saved_audiences_through_the_api(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let mut members = Vec::new();
    for phone in ["13800000001", "13800000002", "13800000003"] {
        let body = json!({"identities": [{"kind": "phone", "value": phone}]});
        members
            .push(app.post_as(&app.cashier_a, "/api/v1/customers", body).await.body["id"].as_str().unwrap().to_owned());
    }
    let tag = app.post_as(&app.admin, "/api/v1/tags", json!({"name": "投诉", "description": "客诉过"})).await;
    assert_eq!(tag.status, StatusCode::CREATED, "{}", tag.body);
    let rule = json!({"name": "常逛", "rule": {"event": "Product Viewed", "min_count": 3, "window_days": 7}});
    let rule = app.post_as(&app.admin, "/api/v1/tags", rule).await;
    assert_eq!(rule.body["kind"], "rule", "{}", rule.body);
    let imported = app.post_as(&app.admin, "/api/v1/tags", json!({"name": "中奖", "kind": "imported"})).await;
    assert_eq!(imported.status, StatusCode::CREATED);

    let tagged =
        app.post_as(&app.cashier_a, &format!("/api/v1/customers/{}/tags", members[0]), json!({"tag": "投诉"})).await;
    assert_eq!(tagged.body[0]["name"], "投诉", "{}", tagged.body);
    let csv = "phone\n13800000002\n13800000003\n13900000000\n";
    let import = app.raw("POST", "/api/v1/tag-imports?tag=%E4%B8%AD%E5%A5%96", &app.admin, "text/csv", csv).await;
    assert_eq!(
        (import.body["tagged"].as_u64(), import.body["unknown_rows"].clone()),
        (Some(2), json!([3])),
        "{}",
        import.body
    );

    let saved = app
        .post_as(&app.admin, "/api/v1/audiences", json!({"name": "中奖未投诉", "expression": "#中奖 and not #投诉"}))
        .await;
    assert_eq!((saved.status, saved.body["count"].as_u64()), (StatusCode::CREATED, Some(2)), "{}", saved.body);
    let unknown = app.post_as(&app.admin, "/api/v1/audiences/count", json!({"expression": "#不存在"})).await;
    assert_eq!(unknown.body["error"]["code"], "unknown_tag");
    let listed = app.get_as(&app.admin, "/api/v1/tags").await;
    let counts: Vec<_> =
        listed.body.as_array().unwrap().iter().map(|t| (t["name"].clone(), t["customers"].clone())).collect();
    assert_eq!(counts, [(json!("中奖"), json!(2)), (json!("常逛"), json!(0)), (json!("投诉"), json!(1))]);
    let profile = app.get_as(&app.cashier_a, &format!("/api/v1/customers/{}/profile", members[0])).await;
    assert_eq!(profile.body["tags"], json!(["投诉"]));
}
