//! Orders through the API, on each backend (SQLite always; PostgreSQL when
//! `QUANYU_TEST_POSTGRES` is set): what an order may not be asked (a delivery beyond its
//! store's radius, a booked visit without a time, a time the channel does not use, negative
//! points, a till's change beyond reason, a refund naming a line twice or a settled line), an
//! eat-first bill that takes more items while it is open, and the table a table order is for; a
//! delivery keeping where it goes (and showing it to the console and its export); promised times
//! within the booking horizon and the store's opening hours, also for a delivery routed by its point
//! while the stores are closed.

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use quanyu_store::Database;
use serde_json::json;
use support::{TestApp, spawn_app, spawn_app_with, with};

quanyu_store::backend_tests!(
    orders_refuse_what_they_cannot_keep,
    appointments_keep_their_time_and_hold_until_it,
    an_eat_first_bill_takes_more_items_while_open,
    an_open_bill_is_priced_again_as_one_cart,
    a_table_has_one_open_bill_that_the_till_lists,
    a_delivery_keeps_where_it_goes,
    promised_times_stay_within_the_booking_horizon,
    promised_times_fall_within_the_stores_opening_hours,
    a_delivery_routed_after_closing_is_promised_from_the_next_opening,
    a_table_typed_full_width_is_the_same_table,
    waiters_adding_to_one_bill_at_once_all_get_through,
    a_store_open_too_short_for_the_usual_promise_says_so,
);

async fn stock_of(app: &TestApp, sku: &str) -> (i64, i64, i64) {
    let body = app.get_as(&app.manager_a, &format!("/api/v1/stores/{}/stock/{sku}", app.store_a)).await.body;
    let level = |name: &str| body[name].as_i64().unwrap();
    (level("on_hand"), level("reserved"), level("committed"))
}

fn code(response: &support::TestResponse) -> (StatusCode, &str) {
    (response.status, response.body["error"]["code"].as_str().unwrap_or(""))
}

async fn orders_refuse_what_they_cannot_keep(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    let lines = json!([{"sku_id": eggs, "quantity": 1}]);

    // Store A (31.23, 121.47) delivers within 3 km: next door yes, Beijing no, in either datum.
    let delivery = json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "某路 8 号",
                          "delivery_location": {"lat": 31.241, "lng": 121.47}, "lines": lines});
    let near = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-near", delivery.clone()).await;
    assert_eq!(near.status, StatusCode::CREATED, "{}", near.body);
    let beijing = with(&delivery, "delivery_location", json!({"lat": 39.9, "lng": 116.4}));
    let far = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-far", beijing.clone()).await;
    assert_eq!(code(&far), (StatusCode::CONFLICT, "outside_delivery_radius"), "{}", far.body);
    assert_eq!(far.body["error"]["field"], "delivery_location");
    let far_wgs = with(&beijing, "coord", json!("wgs84"));
    let far_wgs = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-far-wgs", far_wgs).await;
    assert_eq!(code(&far_wgs), (StatusCode::CONFLICT, "outside_delivery_radius"));
    let english = app.post_with_key_lang(&app.cashier_a, "/api/v1/orders", "d-far-en", beijing, "en").await;
    let message = english.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("beyond its delivery radius of 3000 m"), "{message}");
    // A delivery naming its store without a location is still taken (the address is enough).
    let no_point = app
        .post_with_key(
            &app.cashier_a,
            "/api/v1/orders",
            "d-nopoint",
            json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "某路 8 号", "lines": lines}),
        )
        .await;
    assert_eq!(no_point.status, StatusCode::CREATED, "{}", no_point.body);
    assert_eq!(stock_of(&app, &eggs).await, (10, 2, 0), "only the two taken hold stock");

    // A promised time on a till sale is refused, not ignored; negative points too.
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let till = json!({"store_id": app.store_a, "channel": "pos", "lines": lines});
    for (key, channel) in [("t-pos", "pos"), ("t-scan", "scan_to_buy"), ("t-eat", "table_eat_first")] {
        let timed = with(&with(&till, "channel", json!(channel)), "promised_at", json!(soon));
        let refused = app.post_with_key(&app.cashier_a, "/api/v1/orders", key, timed).await;
        assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "not_for_channel"), "{channel}");
        assert_eq!(refused.body["error"]["field"], "promised_at");
    }
    let negative =
        app.post_with_key(&app.cashier_a, "/api/v1/orders", "t-pts", with(&till, "points", json!(-100))).await;
    assert_eq!(code(&negative), (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"), "{}", negative.body);
    assert_eq!(negative.body["error"]["field"], "points");
    let quote = json!({"store_id": app.store_a, "channel": "pos", "lines": lines, "points": -100});
    let negative_quote = app.post_as(&app.cashier_a, "/api/v1/price-quotes", quote).await;
    assert_eq!(code(&negative_quote), (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"), "{}", negative_quote.body);
    assert_eq!(stock_of(&app, &eggs).await, (10, 2, 0), "nothing refused holds stock");

    // The till's change is at most ¥10,000.
    let sale = app
        .post_with_key(
            &app.cashier_a,
            "/api/v1/orders",
            "t-sale",
            with(&till, "lines", json!([{"sku_id": eggs, "quantity": 3}])),
        )
        .await;
    let pay = format!("/api/v1/orders/{}/payments", sale.body["id"].as_str().unwrap());
    let huge = json!({"method": "cash", "amount": 4770, "tendered": i64::MAX});
    let refused = app.post_with_key(&app.cashier_a, &pay, "p-huge", huge).await;
    assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "tendered_too_much"), "{}", refused.body);
    let just_over = json!({"method": "cash", "amount": 4770, "tendered": 4770 + 1_000_001});
    let refused = app.post_with_key(&app.cashier_a, &pay, "p-over", just_over).await;
    assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "tendered_too_much"));
    let most = json!({"method": "cash", "amount": 4770, "tendered": 4770 + 1_000_000});
    let paid = app.post_with_key(&app.cashier_a, &pay, "p-most", most).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!(paid.body["payments"][0]["change"], 1_000_000);

    // A refund names each line once, and a line with nothing left says so.
    let refunds = format!("/api/v1/orders/{}/refunds", sale.body["id"].as_str().unwrap());
    let twice = json!({"lines": [{"line_no": 1, "quantity": 1}, {"line_no": 1, "quantity": 1}]});
    let refused = app.post_with_key(&app.cashier_a, &refunds, "r-twice", twice).await;
    assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "line_repeated"), "{}", refused.body);
    let all =
        app.post_with_key(&app.cashier_a, &refunds, "r-all", json!({"lines": [{"line_no": 1, "quantity": 3}]})).await;
    assert_eq!(all.body["status"], "refunded", "{}", all.body);
    let again =
        app.post_with_key(&app.cashier_a, &refunds, "r-again", json!({"lines": [{"line_no": 1, "quantity": 1}]})).await;
    assert_eq!(code(&again), (StatusCode::UNPROCESSABLE_ENTITY, "line_fully_refunded"), "{}", again.body);
    assert_eq!(app.get_as(&app.admin, "/api/v1/inventory/reconcile").await.body["sound"], true);
}

async fn appointments_keep_their_time_and_hold_until_it(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    let visit = json!({"store_id": app.store_a, "channel": "appointment", "lines": [{"sku_id": eggs, "quantity": 1}]});
    let untimed = app.post_with_key(&app.cashier_a, "/api/v1/orders", "a-0", visit.clone()).await;
    assert_eq!(code(&untimed), (StatusCode::UNPROCESSABLE_ENTITY, "required"), "{}", untimed.body);
    assert_eq!(untimed.body["error"]["field"], "promised_at");
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let late =
        app.post_with_key(&app.cashier_a, "/api/v1/orders", "a-1", with(&visit, "promised_at", json!(past))).await;
    assert_eq!(code(&late), (StatusCode::UNPROCESSABLE_ENTITY, "malformed"), "{}", late.body);
    let booked = chrono::Utc::now() + chrono::Duration::days(2);
    let created =
        app.post_with_key(&app.cashier_a, "/api/v1/orders", "a-2", with(&visit, "promised_at", json!(booked))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let at = |field: &str| created.body[field].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert_eq!(at("promised_at").timestamp(), booked.timestamp(), "the booked time is kept");
    assert_eq!(at("hold_expires_at"), at("promised_at"), "an unpaid booking holds its stock until then");
    assert_eq!(stock_of(&app, &eggs).await, (10, 1, 0));
}

async fn an_eat_first_bill_takes_more_items_while_open(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let tea =
        app.stocked_sku("奶茶", json!({"code": "TEA", "name": "大杯", "unit": "杯", "base_price": 1500}), 10).await;
    let cake =
        app.stocked_sku("蛋糕", json!({"code": "CAKE", "name": "切块", "unit": "块", "base_price": 2000}), 10).await;
    let bill = json!({"store_id": app.store_a, "channel": "table_eat_first", "table": "A1",
                      "lines": [{"sku_id": tea, "quantity": 2}]});
    let opened = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-1", bill).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    let id = opened.body["id"].as_str().unwrap().to_owned();
    let add = format!("/api/v1/orders/{id}/lines");
    let more = json!({"lines": [{"sku_id": cake, "quantity": 1}, {"sku_id": tea, "quantity": 1}, {"sku_id": cake, "quantity": 2}]});
    let unkeyed = app.post_as(&app.cashier_a, &add, more.clone()).await;
    assert_eq!(code(&unkeyed), (StatusCode::BAD_REQUEST, "idempotency_key_required"));
    let added = app.post_with_key(&app.cashier_a, &add, "add-1", more.clone()).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let replayed = app.post_with_key(&app.cashier_a, &add, "add-1", more.clone()).await;
    assert_eq!(replayed.body, added.body, "a retry adds nothing");
    let line_nos: Vec<_> = added.body["lines"].as_array().unwrap().iter().map(|l| l["line_no"].as_i64()).collect();
    assert_eq!(line_nos, [Some(1), Some(2), Some(3), Some(4)]);
    assert_eq!(added.body["total"], 3 * 1500 + 3 * 2000);
    assert_eq!((stock_of(&app, &tea).await, stock_of(&app, &cake).await), ((10, 3, 0), (10, 3, 0)));
    let events: Vec<_> =
        added.body["timeline"].as_array().unwrap().iter().map(|s| s["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events, ["created", "add_lines"]);
    let quoted = app
        .post_as(
            &app.cashier_a,
            "/api/v1/price-quotes",
            json!({"store_id": app.store_a, "channel": "table_eat_first", "lines": [
                {"sku_id": tea, "quantity": 2}, {"sku_id": cake, "quantity": 1},
                {"sku_id": tea, "quantity": 1}, {"sku_id": cake, "quantity": 2}]}),
        )
        .await;
    assert_eq!(quoted.body["total_payable"], added.body["total"], "the bill costs what a fresh order would");
    let too_much =
        app.post_with_key(&app.cashier_a, &add, "add-2", json!({"lines": [{"sku_id": tea, "quantity": 8}]})).await;
    assert_eq!(code(&too_much), (StatusCode::CONFLICT, "insufficient_stock"));
    assert_eq!(stock_of(&app, &tea).await, (10, 3, 0), "nothing held by the refused add");

    // Settling sells everything on the bill; a settled bill takes nothing more.
    let pay = format!("/api/v1/orders/{id}/payments");
    let paid = app.post_with_key(&app.cashier_a, &pay, "pay-1", json!({"method": "cash", "amount": 10_500})).await;
    assert_eq!(paid.body["status"], "completed", "{}", paid.body);
    assert_eq!((stock_of(&app, &tea).await, stock_of(&app, &cake).await), ((7, 0, 0), (7, 0, 0)));
    let after =
        app.post_with_key(&app.cashier_a, &add, "add-3", json!({"lines": [{"sku_id": tea, "quantity": 1}]})).await;
    assert_eq!(code(&after), (StatusCode::CONFLICT, "illegal_transition"), "{}", after.body);
    assert_eq!(after.body["error"]["message"], "订单当前状态（已完成）不允许此操作（加菜）");

    // A voided bill gives back everything it held, the added items too.
    let second = json!({"store_id": app.store_a, "channel": "table_eat_first", "table": "A1",
                        "lines": [{"sku_id": tea, "quantity": 1}]});
    let second = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-2", second).await;
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let more = json!({"lines": [{"sku_id": cake, "quantity": 2}]});
    let added = app.post_with_key(&app.cashier_a, &format!("/api/v1/orders/{second_id}/lines"), "add-4", more).await;
    assert_eq!(added.body["total"], 1500 + 4000, "{}", added.body);
    assert_eq!((stock_of(&app, &tea).await, stock_of(&app, &cake).await), ((7, 1, 0), (7, 2, 0)));
    let voided = app.post_as(&app.cashier_a, &format!("/api/v1/orders/{second_id}/cancel"), json!({})).await;
    assert_eq!(voided.body["status"], "cancelled", "{}", voided.body);
    assert_eq!((stock_of(&app, &tea).await, stock_of(&app, &cake).await), ((7, 0, 0), (7, 0, 0)));

    // Only an eat-first bill takes more.
    let delivery = json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "某路 8 号",
                          "lines": [{"sku_id": tea, "quantity": 1}]});
    let delivery = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-1", delivery).await;
    let path = format!("/api/v1/orders/{}/lines", delivery.body["id"].as_str().unwrap());
    let refused =
        app.post_with_key(&app.cashier_a, &path, "add-5", json!({"lines": [{"sku_id": tea, "quantity": 1}]})).await;
    assert_eq!(code(&refused), (StatusCode::CONFLICT, "illegal_transition"), "{}", refused.body);
    assert_eq!(stock_of(&app, &tea).await, (7, 1, 0), "only the delivery's own unit is held");
    assert_eq!(app.get_as(&app.admin, "/api/v1/inventory/reconcile").await.body["sound"], true);
    let spec = app.get_as("", "/api/openapi.json").await;
    assert!(spec.body["paths"]["/api/v1/orders/{id}/lines"]["post"].is_object(), "in the OpenAPI document");
}

async fn an_open_bill_is_priced_again_as_one_cart(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let milk = app
        .stocked_sku(
            "牛奶",
            json!({"code": "MILK", "name": "1L", "unit": "盒", "base_price": 1000, "member_price": 900}),
            10,
        )
        .await;
    let promotion = json!({"name": "满30减3", "type": "amount_off_ladder", "tiers": [{"threshold": 3000, "amount": 300}],
                           "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z",
                           "store_ids": [app.store_a]});
    let promotion = app.post_as(&app.admin, "/api/v1/promotions", promotion).await;
    assert_eq!(promotion.status, StatusCode::CREATED, "{}", promotion.body);
    let template = json!({"name": "满20减5", "type": "amount_off", "amount": 500, "threshold": 2000, "valid_days": 7,
                          "claimable": true, "per_customer_limit": 1});
    let template = app.post_as(&app.admin, "/api/v1/coupon-templates", template).await;
    let template = template.body["id"].as_str().unwrap().to_owned();
    let member = app
        .post_as(
            &app.cashier_a,
            "/api/v1/customers",
            json!({"identities": [{"kind": "phone", "value": "13800138000"}]}),
        )
        .await;
    let member = member.body["id"].as_str().unwrap().to_owned();
    let claim = json!({"customer_id": member, "claim": true});
    let coupon = app
        .post_with_key(&app.cashier_a, &format!("/api/v1/coupon-templates/{template}/coupons"), "claim-1", claim)
        .await;
    let coupon = coupon.body["id"].as_str().unwrap().to_owned();

    // Three at the member price are ¥27, under the ¥30 of the ladder: only the coupon applies.
    let bill = json!({"store_id": app.store_a, "channel": "table_eat_first", "customer_id": member, "table": "8",
                      "coupon_ids": [coupon], "lines": [{"sku_id": milk, "quantity": 3}]});
    let opened = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-1", bill).await;
    assert_eq!(opened.body["total"], 2700 - 500, "{}", opened.body);
    // A fourth reaches the ladder: the whole bill is priced again, the coupon still on it.
    let add = format!("/api/v1/orders/{}/lines", opened.body["id"].as_str().unwrap());
    let added =
        app.post_with_key(&app.cashier_a, &add, "add-1", json!({"lines": [{"sku_id": milk, "quantity": 1}]})).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let quote = json!({"store_id": app.store_a, "channel": "table_eat_first", "customer_id": member,
                       "lines": [{"sku_id": milk, "quantity": 3}, {"sku_id": milk, "quantity": 1}]});
    let quoted = app.post_as(&app.cashier_a, "/api/v1/price-quotes", quote).await;
    assert_eq!(quoted.body["total_payable"], 3600 - 300, "{}", quoted.body);
    assert_eq!(added.body["total"], 3600 - 300 - 500, "the fresh quote less the coupon the bill holds");
    assert_eq!(added.body["subtotal"].as_i64().unwrap() + added.body["discount"].as_i64().unwrap(), 2800);
    let sources: Vec<_> = added.body["lines"][1]["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["source"].as_str().unwrap().split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(sources, ["member_price", "promotion", "coupon"], "{}", added.body);
    let paid = app
        .post_with_key(
            &app.cashier_a,
            &format!("/api/v1/orders/{}/payments", opened.body["id"].as_str().unwrap()),
            "pay-1",
            json!({"method": "cash", "amount": 2800}),
        )
        .await;
    assert_eq!(paid.body["status"], "completed", "{}", paid.body);
    assert_eq!(stock_of(&app, &milk).await, (6, 0, 0));
    assert_eq!(app.get_as(&app.admin, "/api/v1/coupons/reconcile").await.body, json!([]));
}

async fn a_table_has_one_open_bill_that_the_till_lists(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let coffee =
        app.stocked_sku("拿铁", json!({"code": "LATTE", "name": "中杯", "unit": "杯", "base_price": 2800}), 20).await;
    let bread = app
        .stocked_sku(
            "欧包",
            json!({"code": "BREAD", "name": "称重", "unit": "kg", "base_price": 6000,
                                     "sold_by_weight": true}),
            5000,
        )
        .await;
    let line = json!([{"sku_id": coffee, "quantity": 1}]);
    let order = |channel: &str, table: Option<&str>| {
        let mut body = json!({"store_id": app.store_a, "channel": channel, "lines": line});
        if let Some(table) = table {
            body["table"] = json!(table);
        }
        body
    };

    // An eat-first bill names its table; other channels than the table ones take none.
    let cases = [
        ("t-none", order("table_eat_first", None), "required"),
        ("t-blank", order("table_eat_first", Some("  ")), "required"),
        ("t-long", order("table_eat_first", Some("12345678901234567")), "too_long"),
        ("t-nul", order("table_eat_first", Some("A\u{0}3")), "invalid_text"),
        ("t-lines", order("table_eat_first", Some("A\n3")), "malformed"),
        ("t-pos", order("pos", Some("A3")), "not_for_channel"),
        ("t-pickup", order("pickup", Some("A3")), "not_for_channel"),
    ];
    for (key, body, expected) in cases {
        let refused = app.post_with_key(&app.cashier_a, "/api/v1/orders", key, body).await;
        assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, expected), "{key}: {}", refused.body);
        assert_eq!(refused.body["error"]["field"], "table", "{key}");
    }
    let pay_first = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pf-1", order("table_pay_first", None)).await;
    assert_eq!((pay_first.status, &pay_first.body["table"]), (StatusCode::CREATED, &json!(null)), "{}", pay_first.body);
    let pay_first =
        app.post_with_key(&app.cashier_a, "/api/v1/orders", "pf-2", order("table_pay_first", Some("a3"))).await;
    assert_eq!(pay_first.body["table"], "A3", "{}", pay_first.body);
    assert_eq!(stock_of(&app, &coffee).await, (20, 2, 0), "only the two taken hold stock");

    // Table A3 opens a bill ("a3" is A3); a second bill for it is refused, naming the first.
    let opened =
        app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-1", order("table_eat_first", Some(" a3"))).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    let id = opened.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get_as(&app.cashier_a, &format!("/api/v1/orders/{id}")).await.body["table"], "A3");
    let second = order("table_eat_first", Some("A3"));
    let occupied = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-2", second.clone()).await;
    assert_eq!(code(&occupied), (StatusCode::CONFLICT, "table_occupied"), "{}", occupied.body);
    assert_eq!((&occupied.body["error"]["field"], &occupied.body["error"]["order_id"]), (&json!("table"), &json!(id)));
    let receipt_no = id[id.len() - 8..].to_uppercase();
    let message = occupied.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("A3") && message.contains(&receipt_no), "{message}");
    let english = app.post_with_key_lang(&app.cashier_a, "/api/v1/orders", "b-2-en", second, "en").await;
    let message = english.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Table A3 already has an open bill"), "{message}");
    assert_eq!(stock_of(&app, &coffee).await, (20, 3, 0), "the refused bill holds nothing");
    let b1 = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-3", order("table_eat_first", Some("B1"))).await;
    assert_eq!(b1.status, StatusCode::CREATED, "another table is free: {}", b1.body);

    // The till lists the store's open bills by table, with what each has ordered and owes.
    let weighed = json!({"lines": [{"sku_id": coffee, "quantity": 1}, {"sku_id": bread, "quantity": 350}]});
    let added = app.post_with_key(&app.cashier_a, &format!("/api/v1/orders/{id}/lines"), "add-1", weighed).await;
    assert_eq!(added.body["total"], 2 * 2800 + 2100, "{}", added.body);
    let tables = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-tables", app.store_a)).await;
    assert_eq!(tables.status, StatusCode::OK, "{}", tables.body);
    let listed: Vec<_> = tables.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap(), t["item_count"].as_i64().unwrap(), t["total"].as_i64().unwrap()))
        .collect();
    assert_eq!(listed, [("A3", 3, 7700), ("B1", 1, 2800)], "two cups and one weighed bread; by table");
    assert_eq!(tables.body["items"][0]["receipt_no"], receipt_no);
    assert_eq!(tables.body["items"][0]["order"]["id"], id);
    assert_eq!(tables.body["items"][0]["opened_at"], opened.body["created_at"]);
    let elsewhere = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-tables", app.store_b)).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN, "another store's tables: {}", elsewhere.body);

    // The order list finds a table's orders, however its label is typed.
    let listed = app.get_as(&app.cashier_a, "/api/v1/orders?table=a3").await;
    let ids: Vec<_> = listed.body["items"].as_array().unwrap().iter().map(|o| o["channel"].as_str().unwrap()).collect();
    assert_eq!(ids, ["table_pay_first", "table_eat_first"], "{}", listed.body);
    let listed = app.get_as(&app.cashier_a, "/api/v1/orders?table=A3&channel=table_eat_first").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["id"], id);
    let refused = app.get_as(&app.cashier_a, "/api/v1/orders?table=12345678901234567").await;
    assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "too_long"));

    // Voided, the table is free again; settled too.
    let voided = app.post_as(&app.cashier_a, &format!("/api/v1/orders/{id}/cancel"), json!({})).await;
    assert_eq!(voided.body["status"], "cancelled", "{}", voided.body);
    let again = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-4", order("table_eat_first", Some("A3"))).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let pay = format!("/api/v1/orders/{}/payments", again.body["id"].as_str().unwrap());
    let paid = app.post_with_key(&app.cashier_a, &pay, "pay-1", json!({"method": "cash", "amount": 2800})).await;
    assert_eq!(paid.body["status"], "completed", "{}", paid.body);
    let tables = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-tables", app.store_a)).await;
    let open: Vec<_> = tables.body["items"].as_array().unwrap().iter().map(|t| t["table"].clone()).collect();
    assert_eq!(open, [json!("B1")]);
    let third = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b-5", order("table_eat_first", Some("A3"))).await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.body);
    assert_eq!(app.get_as(&app.admin, "/api/v1/inventory/reconcile").await.body["sound"], true);
    let spec = app.get_as("", "/api/openapi.json").await;
    assert!(spec.body["paths"]["/api/v1/stores/{store_id}/till-tables"]["get"].is_object(), "in the OpenAPI document");
}

/// The order's point as the API answers it: (lat, lng, datum, sent_datum, distance_m).
fn delivery_point(order: &serde_json::Value) -> (f64, f64, &str, &str, u64) {
    let point = &order["delivery_location"];
    (
        point["lat"].as_f64().unwrap(),
        point["lng"].as_f64().unwrap(),
        point["datum"].as_str().unwrap(),
        point["sent_datum"].as_str().unwrap(),
        point["distance_m"].as_u64().unwrap(),
    )
}

async fn a_delivery_keeps_where_it_goes(db: Arc<dyn Database>) {
    use quanyu_domain::geo::Coordinates;
    let app = spawn_app(db).await;
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    let lines = json!([{"sku_id": eggs, "quantity": 1}]);

    // A map's point (GCJ-02) is kept as sent, with its distance from store A (31.23, 121.47):
    // 0.011° of latitude north, 1223 m.
    let delivery = json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "北京东路 1 号",
                          "delivery_location": {"lat": 31.241, "lng": 121.47}, "lines": lines});
    let mapped = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-map", delivery.clone()).await;
    assert_eq!(mapped.status, StatusCode::CREATED, "{}", mapped.body);
    assert_eq!(delivery_point(&mapped.body), (31.241, 121.47, "gcj02", "gcj02", 1223), "{}", mapped.body);
    let id = mapped.body["id"].as_str().unwrap().to_owned();
    let read = app.get_as(&app.manager_a, &format!("/api/v1/orders/{id}")).await;
    assert_eq!(read.body["delivery_location"], mapped.body["delivery_location"], "stored, not only answered");
    assert_eq!(read.body["delivery_address"], "北京东路 1 号");

    // A GPS point (WGS-84) is kept in GCJ-02, several hundred metres from the numbers sent, and
    // says it came as WGS-84: shifted back it is the point sent.
    let gps = with(&delivery, "coord", json!("wgs84"));
    let gps = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-gps", gps).await;
    assert_eq!(gps.status, StatusCode::CREATED, "{}", gps.body);
    let (lat, lng, datum, sent, distance) = delivery_point(&gps.body);
    assert_eq!((datum, sent), ("gcj02", "wgs84"));
    let kept = Coordinates::new(lat, lng).unwrap();
    let as_sent = Coordinates::new(31.241, 121.47).unwrap();
    assert!(kept.distance_m(&as_sent) > 300.0, "converted: {lat}, {lng}");
    assert!(kept.gcj02_to_wgs84().distance_m(&as_sent) < 0.001, "{lat}, {lng}");
    let store_a = Coordinates::new(31.23, 121.47).unwrap();
    assert_eq!(distance, store_a.distance_m(&kept).round() as u64, "measured from the converted point");
    assert_ne!(distance, 1223);

    // Routed without a store: the distance is from the store that serves it (A, the one with
    // the eggs), not from the nearest (B, 100 m away).
    let routed = json!({"channel": "delivery", "delivery_address": "北京东路 1 号",
                        "delivery_location": {"lat": 31.241, "lng": 121.47}, "lines": lines});
    let routed = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-routed", routed).await;
    assert_eq!(routed.status, StatusCode::CREATED, "{}", routed.body);
    assert_eq!(routed.body["store_id"], app.store_a.as_str());
    assert_eq!(delivery_point(&routed.body).4, 1223);

    // An address alone keeps no point; nor does a pickup that was sent one.
    let address_only = with(&delivery, "delivery_location", serde_json::Value::Null);
    let address_only = app.post_with_key(&app.cashier_a, "/api/v1/orders", "d-addr", address_only).await;
    assert_eq!(address_only.status, StatusCode::CREATED, "{}", address_only.body);
    assert!(address_only.body["delivery_location"].is_null(), "{}", address_only.body);
    let pickup = with(&with(&delivery, "channel", json!("pickup")), "delivery_address", serde_json::Value::Null);
    let pickup = app.post_with_key(&app.cashier_a, "/api/v1/orders", "p-point", pickup).await;
    assert_eq!(pickup.status, StatusCode::CREATED, "{}", pickup.body);
    assert!(pickup.body["delivery_location"].is_null(), "{}", pickup.body);

    // The console's order page shows the point and the distance; the export has them.
    let session = format!("quanyu_session={}", app.manager_a);
    let detail = app.request_with_cookie("GET", &format!("/admin/orders/{id}"), &session).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert!(detail.text.contains("31.241, 121.47") && detail.text.contains("1223 米"), "{}", detail.text);
    let gps_id = gps.body["id"].as_str().unwrap();
    let gps_detail = app.request_with_cookie("GET", &format!("/admin/orders/{gps_id}"), &session).await;
    assert!(gps_detail.text.contains(&format!("{lat}, {lng}")) && gps_detail.text.contains("WGS-84"));
    assert!(!detail.text.contains("WGS-84"), "a map's point is not said to come from a GPS");
    let csv = app.request_with_cookie("GET", "/admin/orders.csv", &session).await;
    let csv: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert!(csv[0].ends_with("配送地址,配送纬度（GCJ-02）,配送经度（GCJ-02）,距门店（米）"), "{}", csv[0]);
    let row = |id: &str| csv.iter().find(|l| l.starts_with(id)).copied().unwrap_or_default();
    assert!(row(&id).ends_with(",北京东路 1 号,31.241,121.47,1223"), "{}", row(&id));
    assert!(row(gps_id).ends_with(&format!(",{lat},{lng},{distance}")), "every digit: {}", row(gps_id));
    let address_only = address_only.body["id"].as_str().unwrap();
    assert!(row(address_only).ends_with(",北京东路 1 号,,,"), "{}", row(address_only));
}

async fn promised_times_stay_within_the_booking_horizon(db: Arc<dyn Database>) {
    let app =
        spawn_app_with(db, |config| quanyu_app::AppConfig { booking_horizon: chrono::Duration::days(7), ..config })
            .await;
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    let lines = json!([{"sku_id": eggs, "quantity": 1}]);
    let now = chrono::Utc::now();
    let visit = json!({"store_id": app.store_a, "channel": "appointment", "lines": lines});
    let pickup = json!({"store_id": app.store_a, "channel": "pickup", "lines": lines});
    let delivery =
        json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "某路 8 号", "lines": lines});

    // Within the horizon is taken; beyond it is refused on every channel with a promised time,
    // a year's typo included, and holds nothing.
    for (channel, order) in [("appointment", &visit), ("pickup", &pickup), ("delivery", &delivery)] {
        let within = with(order, "promised_at", json!(now + chrono::Duration::days(6)));
        let taken = app.post_with_key(&app.cashier_a, "/api/v1/orders", &format!("{channel}-6d"), within).await;
        assert_eq!(taken.status, StatusCode::CREATED, "{channel}: {}", taken.body);
        for (days, label) in [(8, "8d"), (366, "typo")] {
            let beyond = with(order, "promised_at", json!(now + chrono::Duration::days(days)));
            let refused =
                app.post_with_key(&app.cashier_a, "/api/v1/orders", &format!("{channel}-{label}"), beyond).await;
            assert_eq!(
                code(&refused),
                (StatusCode::UNPROCESSABLE_ENTITY, "beyond_booking_horizon"),
                "{channel}: {}",
                refused.body
            );
            assert_eq!(refused.body["error"]["field"], "promised_at");
        }
        // A delivery or pickup promised in the past is refused too, as a booking is.
        let past = with(order, "promised_at", json!(now - chrono::Duration::minutes(5)));
        let late = app.post_with_key(&app.cashier_a, "/api/v1/orders", &format!("{channel}-past"), past).await;
        assert_eq!(code(&late), (StatusCode::UNPROCESSABLE_ENTITY, "malformed"), "{channel}: {}", late.body);
    }
    assert_eq!(stock_of(&app, &eggs).await, (10, 3, 0), "only the three taken hold stock");
    let english = app
        .post_with_key_lang(
            &app.cashier_a,
            "/api/v1/orders",
            "a-en",
            with(&visit, "promised_at", json!(now + chrono::Duration::days(8))),
            "en",
        )
        .await;
    let message = english.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 7 days ahead"), "{message}");

    // The default horizon is 30 days.
    assert_eq!(quanyu_app::AppConfig::default().booking_horizon, chrono::Duration::days(30));
}

async fn promised_times_fall_within_the_stores_opening_hours(db: Arc<dyn Database>) {
    use chrono::{Duration, DurationRound as _, Utc};
    let app = spawn_app(db).await;
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    let lines = json!([{"sku_id": eggs, "quantity": 1}]);
    let visit = json!({"store_id": app.store_a, "channel": "appointment", "lines": lines});
    let pickup = json!({"store_id": app.store_a, "channel": "pickup", "lines": lines});
    let delivery =
        json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "某路 8 号", "lines": lines});
    let promised = |order: &support::TestResponse| {
        order.body["promised_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap()
    };
    let now = Utc::now();
    // Today's opening, to the minute, as an instant; the next one is a day later (no DST).
    let opened = (now - Duration::hours(2)).duration_trunc(Duration::minutes(1)).unwrap();

    // Open from two hours ago to two hours ahead: a time within is taken on every channel; one
    // after closing is refused, naming the hours and the next opening, and holds nothing.
    let hours = app.set_hours_around(now, -Duration::hours(2), Duration::hours(2)).await;
    for (channel, order) in [("appointment", &visit), ("pickup", &pickup), ("delivery", &delivery)] {
        let within = with(order, "promised_at", json!(now + Duration::hours(1)));
        let taken = app.post_with_key(&app.cashier_a, "/api/v1/orders", &format!("{channel}-in"), within).await;
        assert_eq!(taken.status, StatusCode::CREATED, "{channel}: {}", taken.body);
        let closed = with(order, "promised_at", json!(now + Duration::hours(3)));
        let refused = app.post_with_key(&app.cashier_a, "/api/v1/orders", &format!("{channel}-out"), closed).await;
        assert_eq!(
            code(&refused),
            (StatusCode::UNPROCESSABLE_ENTITY, "outside_opening_hours"),
            "{channel}: {}",
            refused.body
        );
        assert_eq!(refused.body["error"]["field"], "promised_at");
        let next_open = opened + Duration::days(1);
        assert_eq!(refused.body["error"]["next_open_at"], next_open.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let message = refused.body["error"]["message"].as_str().unwrap();
        let opens_local = next_open.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string();
        assert!(message.contains(&format!("门店营业时间为 {hours}")) && message.ends_with(&opens_local), "{message}");
    }
    assert_eq!(stock_of(&app, &eggs).await, (10, 3, 0), "only the three taken hold stock");
    let english = app
        .post_with_key_lang(
            &app.cashier_a,
            "/api/v1/orders",
            "visit-en",
            with(&visit, "promised_at", json!(now + Duration::hours(3))),
            "en",
        )
        .await;
    let message = english.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("The store is open {hours} (Asia/Shanghai)")), "{message}");

    // With no time asked, a pickup is ready in half an hour while the store stays open.
    let soon = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pickup-default", pickup.clone()).await;
    assert_eq!(soon.status, StatusCode::CREATED, "{}", soon.body);
    let ready = promised(&soon) - (now + Duration::minutes(30));
    assert!(ready >= Duration::zero() && ready < Duration::minutes(1), "{}", soon.body);

    // Closing in 20 minutes: half an hour of work does not fit, so a pickup is promised for
    // half an hour after tomorrow's opening and a delivery an hour after, not after closing.
    app.set_hours_around(now, -Duration::hours(2), Duration::minutes(20)).await;
    let late = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pickup-late", pickup.clone()).await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.body);
    assert_eq!(promised(&late), opened + Duration::days(1) + Duration::minutes(30));
    let late = app.post_with_key(&app.cashier_a, "/api/v1/orders", "delivery-late", delivery.clone()).await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.body);
    assert_eq!(promised(&late), opened + Duration::days(1) + Duration::hours(1));

    // Closed until an hour from now: counted from the opening.
    app.set_hours_around(now, Duration::hours(1), Duration::hours(5)).await;
    let opens = (now + Duration::hours(1)).duration_trunc(Duration::minutes(1)).unwrap();
    let early = app.post_with_key(&app.cashier_a, "/api/v1/orders", "pickup-early", pickup).await;
    assert_eq!(early.status, StatusCode::CREATED, "{}", early.body);
    assert_eq!(promised(&early), opens + Duration::minutes(30));
    assert_eq!(app.get_as(&app.admin, "/api/v1/inventory/reconcile").await.body["sound"], true);
}

async fn a_delivery_routed_after_closing_is_promised_from_the_next_opening(db: Arc<dyn Database>) {
    use chrono::{DateTime, Duration, DurationRound as _, Utc};
    let app = spawn_app(db).await;
    // Only store A holds eggs; the point is within its radius, as the mall sends it (no store).
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    let order = json!({"channel": "delivery", "delivery_address": "上海市某路 8 号",
                       "delivery_location": {"lat": 31.241, "lng": 121.47},
                       "lines": [{"sku_id": eggs, "quantity": 1}]});
    let promised =
        |order: &support::TestResponse| order.body["promised_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    let now = Utc::now();
    // Closed now, open from an hour ahead until five hours ahead.
    app.set_hours_around(now, Duration::hours(1), Duration::hours(5)).await;
    let opens = (now + Duration::hours(1)).duration_trunc(Duration::minutes(1)).unwrap();

    // No time asked: routed to A all the same, promised an hour after it opens.
    let routed = app.post_with_key(&app.admin, "/api/v1/orders", "routed-default", order.clone()).await;
    assert_eq!(routed.status, StatusCode::CREATED, "{}", routed.body);
    assert_eq!(routed.body["store_id"], app.store_a.as_str());
    assert_eq!(promised(&routed), opens + Duration::hours(1));
    // A time asked within its opening is kept.
    let asked = (now + Duration::hours(3)).duration_trunc(Duration::seconds(1)).unwrap();
    let within = with(&order, "promised_at", json!(asked));
    let routed = app.post_with_key(&app.admin, "/api/v1/orders", "routed-asked", within).await;
    assert_eq!(routed.status, StatusCode::CREATED, "{}", routed.body);
    assert_eq!((routed.body["store_id"].as_str(), promised(&routed)), (Some(app.store_a.as_str()), asked));
    // A time after it closes is answered with its hours, not as no store serving the point.
    let late = with(&order, "promised_at", json!(now + Duration::hours(6)));
    let refused = app.post_with_key(&app.admin, "/api/v1/orders", "routed-late", late).await;
    assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "outside_opening_hours"), "{}", refused.body);
    assert_eq!(stock_of(&app, &eggs).await, (10, 2, 0), "the two taken hold stock");
}

async fn a_table_typed_full_width_is_the_same_table(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let coffee =
        app.stocked_sku("拿铁", json!({"code": "LATTE", "name": "中杯", "unit": "杯", "base_price": 2800}), 20).await;
    let bill = |table: &str| {
        json!({"store_id": app.store_a, "channel": "table_eat_first", "table": table,
               "lines": [{"sku_id": coffee, "quantity": 1}]})
    };
    let opened = app.post_with_key(&app.cashier_a, "/api/v1/orders", "a3", bill("A3")).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    // A Chinese input method in full-width mode types Ａ３: the same table, already taken.
    let typed = app.post_with_key(&app.cashier_a, "/api/v1/orders", "a3-wide", bill("Ａ３")).await;
    assert_eq!(code(&typed), (StatusCode::CONFLICT, "table_occupied"), "{}", typed.body);
    assert_eq!(typed.body["error"]["order_id"], opened.body["id"]);
    // A label that only looks like A3 is refused rather than made a table of its own.
    for (key, label) in [("a3-zwsp", "A3\u{200B}"), ("a3-rtl", "\u{202E}A3"), ("a3-bom", "\u{FEFF}A3")] {
        let refused = app.post_with_key(&app.cashier_a, "/api/v1/orders", key, bill(label)).await;
        assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "malformed"), "{key}: {}", refused.body);
        assert_eq!(refused.body["error"]["field"], "table");
    }
    // Found by the label however it is typed; the till lists the one bill.
    let found = app.get_as(&app.cashier_a, "/api/v1/orders?table=%EF%BC%A1%EF%BC%93").await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1, "{}", found.body);
    let tables = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-tables", app.store_a)).await;
    let labels: Vec<&str> =
        tables.body["items"].as_array().unwrap().iter().map(|t| t["table"].as_str().unwrap()).collect();
    assert_eq!(labels, ["A3"]);
    assert_eq!(stock_of(&app, &coffee).await, (20, 1, 0), "only the one bill holds stock");
}

async fn waiters_adding_to_one_bill_at_once_all_get_through(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let coffee =
        app.stocked_sku("拿铁", json!({"code": "LATTE", "name": "中杯", "unit": "杯", "base_price": 2800}), 50).await;
    let one = json!([{"sku_id": coffee, "quantity": 1}]);
    let bill = json!({"store_id": app.store_a, "channel": "table_eat_first", "table": "B7", "lines": one});
    let opened = app.post_with_key(&app.cashier_a, "/api/v1/orders", "b7", bill).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    let path = format!("/api/v1/orders/{}/lines", opened.body["id"].as_str().unwrap());
    // Twelve adds of one cup each, at once, each with its own key: none is turned away.
    let adds = (0..12).map(|i| {
        let (app, path, one) = (&app, &path, &one);
        async move { app.post_with_key(&app.cashier_a, path, &format!("add-{i}"), json!({"lines": one})).await }
    });
    for added in futures::future::join_all(adds).await {
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    let order = app.get_as(&app.cashier_a, &format!("/api/v1/orders/{}", opened.body["id"].as_str().unwrap())).await;
    let cups: i64 = order.body["lines"].as_array().unwrap().iter().map(|l| l["quantity"].as_i64().unwrap()).sum();
    assert_eq!(cups, 13, "{}", order.body);
    assert_eq!(order.body["total"], 13 * 2800);
    assert_eq!(stock_of(&app, &coffee).await, (50, 13, 0));
    assert_eq!(app.get_as(&app.admin, "/api/v1/inventory/reconcile").await.body["sound"], true);
}

async fn a_store_open_too_short_for_the_usual_promise_says_so(db: Arc<dyn Database>) {
    use chrono::{Duration, Utc};
    let app = spawn_app(db).await;
    let eggs =
        app.stocked_sku("鸡蛋", json!({"code": "EGG", "name": "10 枚", "unit": "盒", "base_price": 1590}), 10).await;
    // Open half an hour a day: a delivery's usual hour never fits, and no time was chosen.
    app.set_hours_around(Utc::now(), -Duration::minutes(10), Duration::minutes(20)).await;
    let delivery = json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "某路 8 号",
                          "lines": [{"sku_id": eggs, "quantity": 1}]});
    let refused = app.post_with_key(&app.cashier_a, "/api/v1/orders", "too-short", delivery.clone()).await;
    assert_eq!(code(&refused), (StatusCode::UNPROCESSABLE_ENTITY, "outside_opening_hours"), "{}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("营业时间太短") && !message.contains("所选时间"), "{message}");
    let english = app.post_with_key_lang(&app.cashier_a, "/api/v1/orders", "too-short-en", delivery, "en").await;
    let message = english.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("too short") && !message.contains("chosen time"), "{message}");
}
