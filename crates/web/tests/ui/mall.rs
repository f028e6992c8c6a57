//! The H5 mall over HTTP: customer sign-in by phone and code (wrong codes, attempts, the resend
//! limit, the session cookie), the shop API (own orders only, idempotent create and pay with
//! stored value, a chosen time within the store's hours) and the mall's pages (store finder,
//! sign-in redirects, share links that remember `quanyu_ref`, the invite QR code, where a
//! delivery goes).

use std::sync::Arc;

use axum::http::{Request, StatusCode, header};
use quanyu_store::Database;
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse, spawn_app};

quanyu_store::backend_tests!(
    sign_in_by_code_sets_a_customer_cookie,
    a_code_allows_five_tries,
    one_client_cannot_text_every_phone,
    shop_orders_are_the_customers_own_and_idempotent,
    delivery_checkout_routes_to_the_nearest_store,
    the_mall_promises_times_within_the_stores_hours,
    mall_pages_send_visitors_where_they_belong,
    share_links_remember_the_promoter_for_orders,
    flash_sales_reserve_then_order_as_the_customer,
    flash_reservations_in_the_mall_answer_what_the_route_documents,
);

const PHONE: &str = "13812341234";

async fn send_code(app: &TestApp, phone: &str) -> TestResponse {
    app.post_anonymous("/api/v1/shop/login-codes", json!({ "phone": phone })).await
}

async fn sign_in_with(app: &TestApp, body: Value, cookie: Option<&str>) -> TestResponse {
    let mut builder = Request::post("/api/v1/shop/sessions").header("content-type", "application/json");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    app.send(builder, Some(body)).await
}

/// Signs `phone` in and returns its `quanyu_customer=…` cookie.
async fn customer(app: &TestApp, phone: &str, cookie: Option<&str>) -> String {
    assert_eq!(send_code(app, phone).await.status, StatusCode::ACCEPTED);
    let code = app.last_code(phone);
    let signed_in = sign_in_with(app, json!({ "phone": phone, "code": code, "store_id": app.store_a }), cookie).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    session_of(&signed_in)
}

fn session_of(response: &TestResponse) -> String {
    let set = response.headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn as_customer(
    app: &TestApp,
    cookie: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> TestResponse {
    let mut builder = Request::builder().method(method).uri(path).header("cookie", cookie);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    app.send(builder, body).await
}

async fn sign_in_by_code_sets_a_customer_cookie(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sent = send_code(&app, PHONE).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    assert_eq!(sent.body["resend_after_s"], 60);
    // The message goes to the phone; only its hash is kept.
    let code = app.last_code(PHONE);
    assert_eq!(code.len(), 6);
    // A second code within the minute is refused, next to the phone field.
    let again = send_code(&app, PHONE).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        (again.body["error"]["code"].as_str(), again.body["error"]["field"].as_str()),
        (Some("login_code_too_soon"), Some("phone"))
    );
    assert!(again.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(app.sms.sent().len(), 1, "no second SMS");
    let bad_phone = send_code(&app, "12345").await;
    assert_eq!(bad_phone.body["error"]["field"], "phone");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = sign_in_with(&app, json!({ "phone": PHONE, "code": wrong }), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (refused.body["error"]["code"].as_str(), refused.body["error"]["field"].as_str()),
        (Some("login_code_wrong"), Some("code"))
    );
    assert!(!refused.headers.contains_key(header::SET_COOKIE));

    let signed_in = sign_in_with(&app, json!({ "phone": PHONE, "code": code }), None).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(signed_in.body["registered"], true, "a new phone registers");
    let set = signed_in.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("quanyu_customer=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let cookie = session_of(&signed_in);

    // A used code does not work twice.
    let reused = sign_in_with(&app, json!({ "phone": PHONE, "code": code }), None).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);

    let me = as_customer(&app, &cookie, "GET", "/api/v1/shop/me", None, None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["phone"], PHONE);
    assert_eq!(me.body["stored_value"], 0);
    // A staff session is not a customer, and a customer session is not staff.
    let staff = app.get_as(&app.admin, "/api/v1/shop/me").await;
    assert_eq!(staff.status, StatusCode::UNAUTHORIZED);
    let secret = cookie.split_once('=').unwrap().1;
    assert_eq!(app.get_as(secret, "/api/v1/me").await.status, StatusCode::UNAUTHORIZED);

    let out = as_customer(&app, &cookie, "DELETE", "/api/v1/shop/sessions/current", None, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let gone = as_customer(&app, &cookie, "GET", "/api/v1/shop/me", None, None).await;
    assert_eq!(gone.body["error"]["code"], "unauthenticated");
}

/// Each phone waits a minute between codes; one client may ask for 20 codes an hour in all, so
/// it cannot send SMS to phone after phone.
async fn one_client_cannot_text_every_phone(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    for n in 0..20 {
        let sent = send_code(&app, &format!("139{n:08}")).await;
        assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    }
    let refused = send_code(&app, "13700000000").await;
    assert_eq!(
        (refused.status, refused.body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    assert!(refused.headers.contains_key("retry-after"));
    assert!(app.sms.sent().iter().all(|(phone, _)| phone != "13700000000"), "no SMS went out");
}

async fn a_code_allows_five_tries(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    send_code(&app, PHONE).await;
    let code = app.last_code(PHONE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let refused = sign_in_with(&app, json!({ "phone": PHONE, "code": wrong }), None).await;
        assert_eq!(refused.body["error"]["code"], "login_code_wrong");
        assert!(refused.body["error"]["message"].as_str().unwrap().contains(&left.to_string()), "{}", refused.body);
    }
    // The right code is no use once the tries are spent.
    let spent = sign_in_with(&app, json!({ "phone": PHONE, "code": code }), None).await;
    assert_eq!(
        (spent.status, spent.body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("login_code_attempts_used"))
    );
    // A phone that was never sent a code cannot sign in.
    let never = sign_in_with(&app, json!({ "phone": "13900009999", "code": "123456" }), None).await;
    assert_eq!(never.body["error"]["code"], "login_code_wrong");
}

/// A product with `stock` units at store A; returns its SKU id.
async fn stocked_sku(app: &TestApp, stock: i64) -> String {
    let product = app
        .create_product("鸡蛋", json!([{"code": "EGG-10", "name": "10 枚", "unit": "盒", "base_price": 1590}]))
        .await;
    let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let movements = format!("/api/v1/stores/{}/stock/movements", app.store_a);
    let receipt = json!({"sku_id": sku, "kind": "purchase_receipt", "quantity": stock, "reference": "PO-1"});
    let received = app.post_with_key(&app.manager_a, &movements, "po-1", receipt).await;
    assert_eq!(received.status, StatusCode::CREATED, "{}", received.body);
    sku
}

async fn shop_orders_are_the_customers_own_and_idempotent(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = stocked_sku(&app, 10).await;
    let alice = customer(&app, PHONE, None).await;
    let bob = customer(&app, "13900001111", None).await;

    let quote = json!({"store_id": app.store_a, "channel": "pickup", "lines": [{"sku_id": sku, "quantity": 2}]});
    let quoted = as_customer(&app, &alice, "POST", "/api/v1/shop/price-quotes", None, Some(quote)).await;
    assert_eq!((quoted.status, quoted.body["total_payable"].as_i64()), (StatusCode::OK, Some(3180)), "{}", quoted.body);

    let body = json!({"store_id": app.store_a, "channel": "pickup", "lines": [{"sku_id": sku, "quantity": 2}]});
    let unkeyed = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", None, Some(body.clone())).await;
    assert_eq!(unkeyed.body["error"]["code"], "idempotency_key_required");
    let pos = json!({"store_id": app.store_a, "channel": "pos", "lines": [{"sku_id": sku, "quantity": 1}]});
    let refused = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("pos-1"), Some(pos)).await;
    assert_eq!(refused.body["error"]["field"], "channel", "the mall sells for delivery and pickup only");

    let created = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("order-1"), Some(body.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["status"], "created");
    assert_eq!(created.body["total"], 3180);
    let me = as_customer(&app, &alice, "GET", "/api/v1/shop/me", None, None).await;
    assert_eq!(created.body["customer_id"], me.body["customer_id"], "bought by the signed-in customer");
    let replayed = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("order-1"), Some(body.clone())).await;
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    assert_eq!(replayed.body["id"], created.body["id"]);
    // The same key from another customer is theirs alone: it creates their own order.
    let bobs = as_customer(&app, &bob, "POST", "/api/v1/shop/orders", Some("order-1"), Some(body)).await;
    assert_eq!(bobs.status, StatusCode::CREATED);
    assert_ne!(bobs.body["id"], created.body["id"]);
    assert!(!bobs.headers.contains_key("idempotent-replayed"));

    // Own orders only.
    let path = format!("/api/v1/shop/orders/{id}");
    assert_eq!(as_customer(&app, &bob, "GET", &path, None, None).await.status, StatusCode::NOT_FOUND);
    let mine = as_customer(&app, &alice, "GET", "/api/v1/shop/orders", None, None).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["id"], id.as_str());

    // Paying from stored value needs a balance; the top-up is the till's.
    let pay = format!("/api/v1/shop/orders/{id}/payments");
    let broke = as_customer(&app, &alice, "POST", &pay, Some("pay-1"), Some(json!({"amount": 3180}))).await;
    assert_eq!(broke.body["error"]["code"], "insufficient_stored_value", "{}", broke.body);
    let alice_id = me.body["customer_id"].as_str().unwrap();
    let top_up = format!("/api/v1/customers/{alice_id}/stored-value/top-ups");
    let topped = app.post_with_key(&app.cashier_a, &top_up, "top-1", json!({"amount": 5000, "method": "cash"})).await;
    assert_eq!(topped.status, StatusCode::CREATED, "{}", topped.body);
    let stolen = as_customer(&app, &bob, "POST", &pay, Some("pay-b"), Some(json!({"amount": 3180}))).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND, "nobody pays another's order");
    let wrong = as_customer(&app, &alice, "POST", &pay, Some("pay-2"), Some(json!({"amount": 100}))).await;
    assert_eq!(wrong.body["error"]["code"], "amount_mismatch");
    let paid = as_customer(&app, &alice, "POST", &pay, Some("pay-3"), Some(json!({"amount": 3180}))).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!((paid.body["status"].as_str(), paid.body["paid"].as_i64()), (Some("paid"), Some(3180)));
    assert_eq!(paid.body["payments"][0]["method"], "stored_value");
    assert!(paid.body["pickup_code"].as_str().is_some_and(|c| c.len() == 6));
    let again = as_customer(&app, &alice, "POST", &pay, Some("pay-3"), Some(json!({"amount": 3180}))).await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let me = as_customer(&app, &alice, "GET", "/api/v1/shop/me", None, None).await;
    assert_eq!(me.body["stored_value"], 5000 - 3180, "charged once");
    let reconciled = app.get_as(&app.admin, "/api/v1/stored-value/reconcile").await;
    assert_eq!(reconciled.status, StatusCode::OK);
    assert_eq!(reconciled.body.as_array().map(Vec::len), Some(0), "{}", reconciled.body);
}

/// Checkout for delivery: the quote and the order carry the delivery fee, the order goes to
/// the nearest store that delivers there and has the goods, and an address out of every
/// store's reach is refused with a reason.
async fn delivery_checkout_routes_to_the_nearest_store(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = stocked_sku(&app, 10).await;
    let alice = customer(&app, PHONE, None).await;
    let near_a = json!({"lat": 31.2305, "lng": 121.4702});
    let lines = json!([{"sku_id": sku, "quantity": 1}]);
    let quote = json!({"channel": "delivery", "lines": lines, "store_id": app.store_a});
    let quoted = as_customer(&app, &alice, "POST", "/api/v1/shop/price-quotes", None, Some(quote)).await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.body);
    let fee = quoted.body["delivery_fee"].as_i64().expect("a delivery fee line");
    assert_eq!(quoted.body["total_payable"].as_i64(), Some(1590 + fee), "{}", quoted.body);

    let no_address = json!({"channel": "delivery", "delivery_location": near_a, "lines": lines});
    let refused = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("d-0"), Some(no_address)).await;
    assert_eq!(refused.body["error"]["field"], "delivery_address", "{}", refused.body);
    let order = json!({"channel": "delivery", "delivery_location": near_a, "delivery_address": "北京东路 1 号 3 楼",
                       "lines": lines});
    let created = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("d-1"), Some(order)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["channel"], "delivery");
    assert_eq!(created.body["store_id"], app.store_a.as_str(), "the nearest store with the goods");
    assert_eq!(created.body["delivery_fee"].as_i64(), Some(fee));
    assert_eq!(created.body["total"].as_i64(), Some(1590 + fee));
    assert_eq!(created.body["delivery_address"], "北京东路 1 号 3 楼");

    // The order's page shows where it goes: how far from the store, and the point in small print.
    let cookie = format!("{alice}; quanyu_mall_store={}", app.store_a);
    let page = |id: &str, lang: &'static str| {
        let request = Request::get(format!("/m/orders/{id}")).header("cookie", &cookie).header("accept-language", lang);
        app.send(request, None)
    };
    let metres = created.body["delivery_location"]["distance_m"].as_u64().unwrap();
    let shown = page(created.body["id"].as_str().unwrap(), "zh-CN").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains(&format!("配送距离 {metres} 米")), "{}", shown.text);
    assert!(shown.text.contains("31.2305, 121.4702"), "{}", shown.text);
    // Beyond a kilometre, in kilometres to a decimal; in English too.
    let farther = json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "北京东路 99 号",
                         "delivery_location": {"lat": 31.2507, "lng": 121.47}, "lines": lines});
    let farther = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("d-km"), Some(farther)).await;
    assert_eq!(farther.body["delivery_location"]["distance_m"], 2302, "{}", farther.body);
    let farther = farther.body["id"].as_str().unwrap().to_owned();
    assert!(page(&farther, "zh-CN").await.text.contains("配送距离 2.3 公里"));
    let english = page(&farther, "en").await;
    assert!(english.text.contains("Delivery distance 2.3 km") && english.text.contains("Delivery point"));
    let pickup = json!({"store_id": app.store_a, "channel": "pickup", "lines": lines});
    let pickup = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("p-1"), Some(pickup)).await;
    assert!(
        !page(pickup.body["id"].as_str().unwrap(), "zh-CN").await.text.contains("配送距离"),
        "a pickup goes nowhere"
    );

    let far = json!({"channel": "delivery", "delivery_location": {"lat": 39.9042, "lng": 116.4074},
                     "delivery_address": "北京市", "lines": lines});
    let out_of_reach = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("d-2"), Some(far)).await;
    assert_eq!(out_of_reach.status, StatusCode::CONFLICT, "{}", out_of_reach.body);
    assert_eq!(out_of_reach.body["error"]["code"], "no_store_can_serve");
}

/// A shopper may choose when: within the store's hours on its clock, or refused next to the
/// time field with the hours and the next opening; the checkout shows the field and the hours.
async fn the_mall_promises_times_within_the_stores_hours(db: Arc<dyn Database>) {
    use chrono::{Duration, Utc};
    let app = spawn_app(db).await;
    let sku = stocked_sku(&app, 10).await;
    let alice = customer(&app, PHONE, None).await;
    let now = Utc::now();
    let hours = app.set_hours_around(now, -Duration::hours(2), Duration::hours(2)).await;
    let order = |at: chrono::DateTime<Utc>| {
        json!({"store_id": app.store_a, "channel": "pickup", "lines": [{"sku_id": sku, "quantity": 1}],
               "promised_at": at})
    };
    let closed =
        as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("o-1"), Some(order(now + Duration::hours(3))))
            .await;
    assert_eq!(closed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", closed.body);
    assert_eq!(
        (closed.body["error"]["code"].as_str(), closed.body["error"]["field"].as_str()),
        (Some("outside_opening_hours"), Some("promised_at"))
    );
    assert!(closed.body["error"]["message"].as_str().unwrap().contains(&hours), "{}", closed.body);
    let asked = now + Duration::hours(1);
    let open = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("o-1"), Some(order(asked))).await;
    assert_eq!(open.status, StatusCode::CREATED, "the refused attempt kept nothing of its key: {}", open.body);
    let promised = open.body["promised_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    assert_eq!(promised.timestamp(), asked.timestamp(), "the chosen time is kept");

    let cookie = format!("{alice}; quanyu_mall_store={}", app.store_a);
    let checkout = app.request_with_cookie("GET", "/m/checkout", &cookie).await;
    assert!(checkout.text.contains(r#"name="promised_at" type="datetime-local""#), "{}", checkout.text);
    assert!(checkout.text.contains(&format!("门店营业时间 {hours}")), "{}", checkout.text);
    assert!(checkout.text.contains(r#"data-time-zone="Asia&#x2f;Shanghai""#), "{}", checkout.text);
}

async fn mall_pages_send_visitors_where_they_belong(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    // No store chosen: the mall opens on the store finder.
    let home = app.send(Request::get("/m"), None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("附近门店") && home.text.contains("/assets/mall.js"), "{}", home.text);
    let en = app.send(Request::get("/m/locate").header("accept-language", "en"), None).await;
    assert!(en.text.contains("Stores near you"), "{}", en.text);
    // Signed-in pages send visitors to the customer sign-in, never the staff login.
    for page in ["/m/me", "/m/orders", "/m/checkout", "/m/coupons", "/m/invite"] {
        let response = app.send(Request::get(page), None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(response.headers[header::LOCATION].to_str().unwrap(), format!("/m/login?next={page}"));
    }
    let login = app.send(Request::get("/m/login?next=/m/orders"), None).await;
    assert!(
        login.text.contains("获取验证码") && login.text.contains(r#"data-next="&#x2f;m&#x2f;orders""#),
        "{}",
        login.text
    );

    // With a store and a customer: the catalog, my page and my invite QR code.
    let sku = stocked_sku(&app, 5).await;
    let cookie = format!("{}; quanyu_mall_store={}", customer(&app, PHONE, None).await, app.store_a);
    let home = app.request_with_cookie("GET", "/m", &cookie).await;
    assert!(home.text.contains("北区 A 店") && home.text.contains(&format!("/m/p/{sku}")), "{}", home.text);
    assert!(home.text.contains("¥15.90"));
    let product = app.request_with_cookie("GET", &format!("/m/p/{sku}"), &cookie).await;
    assert!(product.text.contains("会员价") && product.text.contains("加入购物车"), "{}", product.text);
    let me = app.request_with_cookie("GET", "/m/me", &cookie).await;
    assert!(me.text.contains(PHONE) && me.text.contains("储值余额"), "{}", me.text);
    let invite = app.request_with_cookie("GET", "/m/invite", &cookie).await;
    assert!(invite.text.contains("<svg") && invite.text.contains("&#x2f;m&#x2f;i&#x2f;"), "{}", invite.text);
    let checkout = app.request_with_cookie("GET", "/m/checkout", &cookie).await;
    assert_eq!(checkout.status, StatusCode::OK);
    assert!(checkout.text.contains("价格明细"), "{}", checkout.text);
}

async fn share_links_remember_the_promoter_for_orders(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = stocked_sku(&app, 5).await;
    let inviter = customer(&app, PHONE, None).await;
    let invite = as_customer(&app, &inviter, "GET", "/api/v1/shop/invite", None, None).await;
    let code = invite.body["code"].as_str().unwrap().to_owned();
    assert_eq!(invite.body["link"], format!("/m/i/{code}"));

    // The invite link lands, names the inviter and remembers the code for seven days.
    let landing = app.send(Request::get(format!("/m/i/{code}")), None).await;
    assert_eq!(landing.status, StatusCode::OK);
    let set = landing.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with(&format!("quanyu_ref={code};")) && set.contains("Max-Age=604800"), "{set}");
    // An unknown code is no attribution.
    let stale = app.send(Request::get("/m/i/ZZZZZZZZ"), None).await;
    assert!(!stale.headers.contains_key(header::SET_COOKIE));
    // A product shared with ?ref= remembers it too (the last click wins).
    let shared = app
        .send(
            Request::get(format!("/m/p/{sku}?ref={code}"))
                .header("cookie", format!("quanyu_mall_store={}", app.store_a)),
            None,
        )
        .await;
    assert!(shared.headers[header::SET_COOKIE].to_str().unwrap().starts_with("quanyu_ref="));

    // A friend registers through it and orders: the order is attributed to the inviter.
    let ref_cookie = format!("quanyu_ref={code}");
    let friend = customer(&app, "13900002222", Some(&ref_cookie)).await;
    let cookie = format!("{friend}; {ref_cookie}");
    let body = json!({"store_id": app.store_a, "channel": "pickup", "lines": [{"sku_id": sku, "quantity": 1}]});
    let order = as_customer(&app, &cookie, "POST", "/api/v1/shop/orders", Some("o-1"), Some(body)).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let referrals =
        app.get_as(&app.admin, &format!("/api/v1/promoters/{}/referrals", invite.body["id"].as_str().unwrap())).await;
    assert_eq!(referrals.status, StatusCode::OK, "{}", referrals.body);
    assert_eq!(
        referrals.body["items"].as_array().map(Vec::len),
        Some(1),
        "the friend is the inviter's referral: {}",
        referrals.body
    );
}

async fn flash_sales_reserve_then_order_as_the_customer(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = stocked_sku(&app, 10).await;
    let now = chrono::Utc::now();
    let sale = json!({
        "store_id": app.store_a, "sku_id": sku, "price": 990, "quota": 5, "per_customer_limit": 1,
        "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1),
    });
    let created = app.post_with_key(&app.manager_a, "/api/v1/flash-sales", "fs-1", sale).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let sale_id = created.body["id"].as_str().unwrap().to_owned();

    // The store's home page leads to it, and its page counts down.
    let store = format!("quanyu_mall_store={}", app.store_a);
    let home = app.request_with_cookie("GET", "/m", &store).await;
    assert!(home.text.contains(&format!("/m/flash/{sale_id}")) && home.text.contains("抢购中"), "{}", home.text);
    let page = app.request_with_cookie("GET", &format!("/m/flash/{sale_id}"), &store).await;
    assert!(page.text.contains("data-ends=") && page.text.contains("¥9.90"), "{}", page.text);

    let alice = customer(&app, PHONE, None).await;
    let bob = customer(&app, "13900001111", None).await;
    let reserve = format!("/api/v1/shop/flash-sales/{sale_id}/reservations");
    let held = as_customer(&app, &alice, "POST", &reserve, Some("r-1"), Some(json!({"quantity": 1}))).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    let again = as_customer(&app, &alice, "POST", &reserve, Some("r-1"), Some(json!({"quantity": 1}))).await;
    assert_eq!(again.body["id"], held.body["id"], "a retried tap finds its reservation");
    let more = as_customer(&app, &alice, "POST", &reserve, Some("r-2"), Some(json!({"quantity": 1}))).await;
    assert_eq!(more.body["error"]["code"], "flash_sale_limit_reached", "{}", more.body);

    let order = json!({"store_id": app.store_a, "channel": "pickup", "flash_reservation_id": held.body["id"]});
    let stolen = as_customer(&app, &bob, "POST", "/api/v1/shop/orders", Some("o-1"), Some(order.clone())).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND, "only the buyer orders a reservation");
    let ordered = as_customer(&app, &alice, "POST", "/api/v1/shop/orders", Some("o-1"), Some(order)).await;
    assert_eq!(ordered.status, StatusCode::CREATED, "{}", ordered.body);
    assert_eq!(ordered.body["total"], 990);
}

/// The refusals `POST /api/v1/shop/flash-sales/{id}/reservations` documents beyond the three it
/// used to name, as the mall's customer meets them.
async fn flash_reservations_in_the_mall_answer_what_the_route_documents(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sku = stocked_sku(&app, 1).await;
    let now = chrono::Utc::now();
    let sale = json!({
        "store_id": app.store_a, "sku_id": sku, "price": 990, "quota": 5, "per_customer_limit": 2,
        "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1),
    });
    let created = app.post_with_key(&app.manager_a, "/api/v1/flash-sales", "fs-1", sale).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let reserve = format!("/api/v1/shop/flash-sales/{}/reservations", created.body["id"].as_str().unwrap());
    let alice = customer(&app, PHONE, None).await;
    let bob = customer(&app, "13900001111", None).await;
    let code = |r: &TestResponse| (r.status, r.body["error"]["code"].as_str().unwrap_or("").to_owned());
    let refused = |status: StatusCode, code: &str| (status, code.to_owned());

    let held = as_customer(&app, &alice, "POST", &reserve, Some("r-1"), Some(json!({"quantity": 1}))).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    // The quota has four left, the store none.
    let no_stock = as_customer(&app, &bob, "POST", &reserve, Some("r-1"), Some(json!({"quantity": 1}))).await;
    assert_eq!(code(&no_stock), refused(StatusCode::CONFLICT, "flash_sale_out_of_stock"), "{}", no_stock.body);
    let other_quantity = as_customer(&app, &alice, "POST", &reserve, Some("r-1"), Some(json!({"quantity": 2}))).await;
    assert_eq!(code(&other_quantity), refused(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    let none = as_customer(&app, &bob, "POST", &reserve, Some("r-2"), Some(json!({"quantity": 0}))).await;
    assert_eq!(code(&none), refused(StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"), "{}", none.body);
    let unkeyed = as_customer(&app, &bob, "POST", &reserve, None, Some(json!({"quantity": 1}))).await;
    assert_eq!(code(&unkeyed), refused(StatusCode::BAD_REQUEST, "idempotency_key_required"), "{}", unkeyed.body);
    let nowhere = format!("/api/v1/shop/flash-sales/{}/reservations", uuid::Uuid::now_v7());
    let unknown = as_customer(&app, &bob, "POST", &nowhere, Some("r-3"), Some(json!({"quantity": 1}))).await;
    assert_eq!(code(&unknown), refused(StatusCode::NOT_FOUND, "not_found"), "{}", unknown.body);
    let anonymous = as_customer(&app, "", "POST", &reserve, Some("r-4"), Some(json!({"quantity": 1}))).await;
    assert_eq!(code(&anonymous), refused(StatusCode::UNAUTHORIZED, "unauthenticated"), "{}", anonymous.body);
}
