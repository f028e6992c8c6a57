//! The POS face and the till API it stands on: the till renders for a cashier or store manager
//! at their store and no one else; barcodes and names find SKUs priced for the store's till; a
//! store's sales of today are listed and found by receipt number; the receipt prints the sale,
//! the change, the member's points and what was refunded; an open table bill prints as its
//! pre-settlement bill, not paid yet, and the admin's order page names the table.

use std::sync::Arc;

use axum::http::StatusCode;
use quanyu_store::Database;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, spawn_app};

quanyu_store::backend_tests!(
    the_till_renders_for_a_cashier_at_their_store,
    the_till_is_refused_to_other_roles,
    the_till_finds_items_by_barcode_and_name,
    the_receipt_prints_the_sale_change_points_and_refunds,
    todays_sales_are_listed_and_found_by_receipt_number,
    a_member_of_any_store_is_served_at_the_till,
    an_open_table_bill_prints_as_its_pre_settlement_bill,
);

/// A product with one SKU (barcode given), with `quantity` received at store A.
async fn stocked(app: &TestApp, name: &str, sku: Value, quantity: i64) -> String {
    let product = app.create_product(name, json!([sku])).await;
    let sku_id = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let movements = format!("/api/v1/stores/{}/stock/movements", app.store_a);
    let body = json!({"sku_id": sku_id, "kind": "purchase_receipt", "quantity": quantity});
    let receipt = app.post_with_key(&app.manager_a, &movements, &format!("po-{sku_id}"), body).await;
    assert_eq!(receipt.status, StatusCode::CREATED, "{}", receipt.body);
    sku_id
}

fn cookie(token: &str) -> String {
    format!("quanyu_session={token}")
}

/// A paid till sale at store A: two boxes of eggs and 1,234 g of apples, for `customer`.
async fn till_sale(app: &TestApp, customer: Option<&str>) -> (String, Value) {
    let eggs = stocked(
        app,
        "鸡蛋",
        json!({"code": "EGG", "barcode": "6901234567892", "name": "10 枚", "unit": "盒",
               "base_price": 1590, "member_price": 1490}),
        10,
    )
    .await;
    let apples = stocked(
        app,
        "苹果",
        json!({"code": "APL", "barcode": "2000001", "name": "散称", "unit": "kg", "sold_by_weight": true,
               "base_price": 2390}),
        5000,
    )
    .await;
    let mut order = json!({"store_id": app.store_a, "channel": "pos",
                           "lines": [{"sku_id": eggs, "quantity": 2}, {"sku_id": apples, "quantity": 1234}]});
    if let Some(customer) = customer {
        order["customer_id"] = json!(customer);
    }
    let created = app.post_with_key(&app.cashier_a, "/api/v1/orders", "till-1", order).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let due = created.body["total"].as_i64().unwrap();
    let payments = format!("/api/v1/orders/{id}/payments");
    let short = app
        .post_with_key(
            &app.cashier_a,
            &payments,
            "till-pay-0",
            json!({"method": "cash", "amount": due, "tendered": due - 1}),
        )
        .await;
    assert_eq!(
        (short.body["error"]["code"].as_str(), short.body["error"]["field"].as_str()),
        (Some("tendered_short"), Some("tendered"))
    );
    let card = json!({"method": "card", "amount": due, "reference": "T-1", "tendered": 10_000});
    let card = app.post_with_key(&app.cashier_a, &payments, "till-pay-c", card).await;
    assert_eq!(card.body["error"]["field"], "tendered", "only cash is handed over");
    // The customer hands over ¥100; the payment keeps it, and the change.
    let pay = json!({"method": "cash", "amount": due, "tendered": 10_000});
    let paid = app.post_with_key(&app.cashier_a, &payments, "till-pay-1", pay).await;
    assert_eq!(paid.body["payments"][0]["tendered"], 10_000, "{}", paid.body);
    assert_eq!(paid.body["payments"][0]["change"], 10_000 - due);
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    (id, paid.body)
}

async fn the_till_renders_for_a_cashier_at_their_store(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let page = app.request_with_cookie("GET", "/pos", &cookie(&app.cashier_a)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("北区 A 店") && page.text.contains(&format!("data-store-id=\"{}\"", app.store_a)));
    assert!(page.text.contains("/assets/pos.js") && page.text.contains("id=\"barcode\""), "{}", page.text);
    assert!(page.text.contains("收款") && page.text.contains("<kbd>F8</kbd>"), "shortcuts on the buttons");
    assert!(page.text.contains("桌台") && page.text.contains("id=\"tables-dialog\""), "the tables view");
    // The strings the script shows are in the page, in the reader's language.
    let data = page.text.split("id=\"pos-data\">").nth(1).unwrap().split("</script>").next().unwrap();
    let data: Value = serde_json::from_str(data).unwrap();
    assert_eq!(data["text"]["unknownBarcode"], "没有找到这个条码的商品");
    assert_eq!(data["text"]["tableConfirmVoid"], "作废桌台 {table} 的账单？已点的商品将退回库存。");
    let english = app.request_with_cookie("GET", "/pos", &format!("{}; quanyu_lang=en", cookie(&app.cashier_a))).await;
    assert!(english.text.contains("No item has this barcode") && english.text.contains(">Pay <kbd>"));
    // The store manager may work the till too.
    let manager = app.request_with_cookie("GET", "/pos", &cookie(&app.manager_a)).await;
    assert_eq!(manager.status, StatusCode::OK);
}

async fn the_till_is_refused_to_other_roles(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let guide = json!({"username": "guide-a", "display_name": "导购 A", "role": "guide", "store_id": app.store_a,
                       "password": PASSWORD});
    let created = app.post_as(&app.admin, "/api/v1/staff", guide).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let guide = app.login("guide-a").await;
    for token in [&guide, &app.picker_a, &app.admin] {
        let page = app.request_with_cookie("GET", "/pos", &cookie(token)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text);
        assert!(page.text.contains("收银台只供门店的收银员和店长使用"), "{}", page.text);
        let receipt =
            app.request_with_cookie("GET", "/pos/receipts/00000000-0000-0000-0000-000000000000", &cookie(token)).await;
        assert_eq!(receipt.status, StatusCode::FORBIDDEN);
    }
}

async fn the_till_finds_items_by_barcode_and_name(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let eggs = stocked(
        &app,
        "鸡蛋",
        json!({"code": "EGG", "barcode": "6901234567892", "name": "10 枚", "unit": "盒",
               "base_price": 1590, "member_price": 1490}),
        10,
    )
    .await;
    let path = |query: &str| format!("/api/v1/stores/{}/till-items?{query}", app.store_a);
    let found = app.get_as(&app.cashier_a, &path("barcode=6901234567892")).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let item = &found.body["items"][0];
    assert_eq!(item["sku_id"], json!(eggs));
    assert_eq!(item["name"], "鸡蛋 10 枚");
    assert_eq!((item["price"].as_i64(), item["member_price"].as_i64()), (Some(1590), Some(1490)));
    assert_eq!((item["available"].as_bool(), item["stock_available"].as_i64()), (Some(true), Some(10)));
    // The store's own price and availability are what the till sells at.
    let settings = format!("/api/v1/stores/{}/skus/{eggs}", app.store_a);
    let put = app
        .request_as(&app.manager_a, "PUT", &settings, Some(json!({"price": 1500, "available_in_store": false})))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let found = app.get_as(&app.cashier_a, &path("barcode=6901234567892")).await;
    assert_eq!(
        (found.body["items"][0]["price"].as_i64(), found.body["items"][0]["available"].as_bool()),
        (Some(1500), Some(false))
    );

    let unknown = app.get_as(&app.cashier_a, &path("barcode=6901234567885")).await;
    assert_eq!((unknown.status, unknown.body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let malformed = app.get_as_lang(&app.cashier_a, &path("barcode=12"), "en").await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.body["error"]["field"], "barcode");
    let nothing = app.get_as(&app.cashier_a, &path("")).await;
    assert_eq!(
        (nothing.body["error"]["code"].as_str(), nothing.body["error"]["field"].as_str()),
        (Some("required"), Some("barcode"))
    );
    let by_name = app.get_as(&app.cashier_a, &path("q=%E9%B8%A1%E8%9B%8B")).await;
    assert_eq!(by_name.body["items"][0]["sku_id"], json!(eggs), "{}", by_name.body);
    // Another store's till is out of reach.
    let other = format!("/api/v1/stores/{}/till-items?barcode=6901234567892", app.store_b);
    assert_eq!(app.get_as(&app.cashier_a, &other).await.status, StatusCode::FORBIDDEN);
}

async fn the_receipt_prints_the_sale_change_points_and_refunds(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let member = json!({"identities": [{"kind": "phone", "value": "13800138000"}], "display_name": "王小姐"});
    let member = app.post_with_key(&app.cashier_a, "/api/v1/customers", "member-1", member).await;
    assert_eq!(member.status, StatusCode::CREATED, "{}", member.body);
    let (id, paid) = till_sale(&app, member.body["id"].as_str()).await;
    let total = paid["total"].as_i64().unwrap();
    // Member prices: 2 × ¥14.90 + 1,234 g at ¥23.90/kg (¥29.49).
    assert_eq!(total, 2980 + 2949);
    let page = app.request_with_cookie("GET", &format!("/pos/receipts/{id}"), &cookie(&app.cashier_a)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let receipt_no = id.replace('-', "")[24..].to_uppercase();
    for expected in [
        "北区 A 店",
        receipt_no.as_str(),
        "鸡蛋 10 枚",
        "1.234 kg",
        "¥59.29",
        "会员价优惠",
        "-¥2.00",
        "data-change>¥40.71<",
        "王小姐",
        "138****8000",
        "data-points-earned>59<",
        "现金",
        "data-print",
    ] {
        assert!(page.text.contains(expected), "{expected} missing from\n{}", page.text);
    }
    assert!(!page.text.contains("data-refunded"), "nothing refunded yet");

    let refund = json!({"lines": [{"line_no": 1, "quantity": 1}]});
    let refunded = app.post_with_key(&app.cashier_a, &format!("/api/v1/orders/{id}/refunds"), "rf-1", refund).await;
    assert_eq!(refunded.status, StatusCode::CREATED, "{}", refunded.body);
    let page = app.request_with_cookie("GET", &format!("/pos/receipts/{id}"), &cookie(&app.cashier_a)).await;
    assert!(page.text.contains("data-refunded>¥14.90<") && page.text.contains("已退 1，¥14.90"), "{}", page.text);
    // A reprint after the refund still shows the sale's cash and change.
    assert!(page.text.contains("部分退款") && page.text.contains("data-change>¥40.71<"), "{}", page.text);
    let english = app
        .request_with_cookie(
            "GET",
            &format!("/pos/receipts/{id}"),
            &format!("{}; quanyu_lang=en", cookie(&app.cashier_a)),
        )
        .await;
    assert!(english.text.contains("Refunded 1, ¥14.90") && english.text.contains("Points earned"), "{}", english.text);

    let missing = app.request_with_cookie("GET", "/pos/receipts/not-an-id", &cookie(&app.cashier_a)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let cashier_b = app.login("cashier-b").await;
    let elsewhere = app.request_with_cookie("GET", &format!("/pos/receipts/{id}"), &cookie(&cashier_b)).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN, "another store's receipt");
}

async fn todays_sales_are_listed_and_found_by_receipt_number(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let (id, _) = till_sale(&app, None).await;
    let today = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-orders", app.store_a)).await;
    assert_eq!(today.status, StatusCode::OK, "{}", today.body);
    let receipt_no = id.replace('-', "")[24..].to_uppercase();
    assert_eq!(today.body["items"][0]["order"]["id"], json!(id));
    assert_eq!(today.body["items"][0]["receipt_no"], json!(receipt_no));
    assert_eq!(today.body["items"][0]["order"]["status"], "completed");

    let typed = receipt_no.to_lowercase();
    let found =
        app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-orders?receipt_no={typed}", app.store_a)).await;
    assert_eq!(found.body["items"].as_array().map(Vec::len), Some(1), "{}", found.body);
    let other = if receipt_no == "00000000" { "00000001" } else { "00000000" };
    let none =
        app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-orders?receipt_no={other}", app.store_a)).await;
    assert_eq!(none.body["items"].as_array().map(Vec::len), Some(0));
    let bad = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-orders?receipt_no=xyz", app.store_a)).await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("receipt_no"))
    );
    // A table's bill settled at the till is one of the day's sales too, and found by its receipt;
    // a delivery is not sold in the store.
    let coffee =
        stocked(&app, "拿铁", json!({"code": "LATTE", "name": "中杯", "unit": "杯", "base_price": 2800}), 5).await;
    let bill = json!({"store_id": app.store_a, "channel": "table_eat_first", "table": "a3",
                      "lines": [{"sku_id": coffee, "quantity": 1}]});
    let bill = app.post_with_key(&app.cashier_a, "/api/v1/orders", "bill-1", bill).await;
    assert_eq!(bill.status, StatusCode::CREATED, "{}", bill.body);
    let bill_id = bill.body["id"].as_str().unwrap().to_owned();
    let settle = json!({"method": "cash", "amount": 2800});
    let settled =
        app.post_with_key(&app.cashier_a, &format!("/api/v1/orders/{bill_id}/payments"), "bill-pay", settle).await;
    assert_eq!(settled.body["status"], "completed", "{}", settled.body);
    let delivery = json!({"store_id": app.store_a, "channel": "delivery", "delivery_address": "上海市徐汇区",
                          "lines": [{"sku_id": coffee, "quantity": 1}]});
    let delivery = app.post_with_key(&app.cashier_a, "/api/v1/orders", "delivery-1", delivery).await;
    assert_eq!(delivery.status, StatusCode::CREATED, "{}", delivery.body);
    let today = app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-orders", app.store_a)).await;
    let listed: Vec<_> = today.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["order"]["id"].clone(), i["order"]["table"].clone()))
        .collect();
    assert_eq!(listed, [(json!(bill_id), json!("A3")), (json!(id), json!(null))], "{}", today.body);
    let bill_no = bill_id.replace('-', "")[24..].to_owned();
    let found =
        app.get_as(&app.cashier_a, &format!("/api/v1/stores/{}/till-orders?receipt_no={bill_no}", app.store_a)).await;
    assert_eq!(found.body["items"][0]["order"]["id"], json!(bill_id), "{}", found.body);

    // Store B's till has sold nothing, and store A's list is not B's cashier's to read.
    let store_b = app.get_as(&app.admin, &format!("/api/v1/stores/{}/till-orders", app.store_b)).await;
    assert_eq!(store_b.body["items"].as_array().map(Vec::len), Some(0));
    let cashier_b = app.login("cashier-b").await;
    let refused = app.get_as(&cashier_b, &format!("/api/v1/stores/{}/till-orders", app.store_a)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn a_member_of_any_store_is_served_at_the_till(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let eggs = stocked(
        &app,
        "鸡蛋",
        json!({"code": "EGG", "barcode": "6901234567892", "name": "10 枚", "unit": "盒",
               "base_price": 1590, "member_price": 1490}),
        10,
    )
    .await;
    // A member of store B, with a coupon in their wallet.
    let cashier_b = app.login("cashier-b").await;
    let member = json!({"identities": [{"kind": "phone", "value": "13900139000"}], "display_name": "李先生"});
    let member = app.post_with_key(&cashier_b, "/api/v1/customers", "member-b", member).await;
    assert_eq!(member.status, StatusCode::CREATED, "{}", member.body);
    let member_id = member.body["id"].as_str().unwrap().to_owned();
    let template = json!({"name": "立减 2 元", "type": "amount_off", "amount": 200, "threshold": 0, "valid_days": 30});
    let template = app.post_with_key(&app.admin, "/api/v1/coupon-templates", "tpl-1", template).await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);
    let issue = format!("/api/v1/coupon-templates/{}/coupons", template.body["id"].as_str().unwrap());
    let coupon = app.post_with_key(&app.admin, &issue, "cp-1", json!({"customer_id": member_id})).await;
    assert_eq!(coupon.status, StatusCode::CREATED, "{}", coupon.body);

    // Store A's till finds them by phone, with their usable coupon.
    let path = |value: &str| format!("/api/v1/stores/{}/till-member?kind=phone&value={value}", app.store_a);
    let found = app.get_as(&app.cashier_a, &path("139-0013-9000")).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["customer"]["id"], json!(member_id));
    assert_eq!(found.body["points_balance"], 0);
    assert_eq!(found.body["coupons"][0]["id"], coupon.body["id"]);
    // …and prices the cart for them with the coupon and the member price.
    let quote = json!({"store_id": app.store_a, "channel": "pos", "customer_id": member_id,
                       "coupon_ids": [coupon.body["id"]], "lines": [{"sku_id": eggs, "quantity": 1}]});
    let quoted = app.post_as(&app.cashier_a, "/api/v1/price-quotes", quote).await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.body);
    assert_eq!(quoted.body["total_payable"], 1490 - 200);

    let unknown = app.get_as(&app.cashier_a, &path("13700137000")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app.get_as(&app.cashier_a, &path("12345")).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A picker does not sell, and a till of another store is out of reach.
    assert_eq!(app.get_as(&app.picker_a, &path("13900139000")).await.status, StatusCode::FORBIDDEN);
    let elsewhere = format!("/api/v1/stores/{}/till-member?kind=phone&value=13900139000", app.store_c);
    assert_eq!(app.get_as(&app.cashier_a, &elsewhere).await.status, StatusCode::FORBIDDEN);
}

async fn an_open_table_bill_prints_as_its_pre_settlement_bill(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let cake = stocked(
        &app,
        "芝士蛋糕",
        json!({"code": "CAKE", "name": "切块", "unit": "块", "barcode": "6901234567892", "base_price": 2800}),
        10,
    )
    .await;
    let bill = json!({"store_id": app.store_a, "channel": "table_eat_first", "table": "A3",
                      "lines": [{"sku_id": cake, "quantity": 2}]});
    let bill = app.post_with_key(&app.cashier_a, "/api/v1/orders", "bill-1", bill).await;
    assert_eq!(bill.status, StatusCode::CREATED, "{}", bill.body);
    let id = bill.body["id"].as_str().unwrap().to_owned();
    let page = app.request_with_cookie("GET", &format!("/pos/receipts/{id}"), &cookie(&app.cashier_a)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for expected in [
        "<title>预结单",
        "data-prebill",
        "未结账，仅供核对",
        "data-table>A3<",
        "data-due>¥56.00<",
        "打印预结单",
        "返回收银台",
    ] {
        assert!(page.text.contains(expected), "{expected} missing from\n{}", page.text);
    }
    assert!(!page.text.contains("实付"), "nothing is paid on a pre-settlement bill");
    let english = app
        .request_with_cookie(
            "GET",
            &format!("/pos/receipts/{id}"),
            &format!("{}; quanyu_lang=en", cookie(&app.cashier_a)),
        )
        .await;
    assert!(english.text.contains("Pre-settlement bill") && english.text.contains("not paid yet"), "{}", english.text);

    // Settled, the same page is its receipt; the table stays on it, and on the admin's page.
    let pay = json!({"method": "cash", "amount": 5600, "tendered": 10_000});
    let paid = app.post_with_key(&app.cashier_a, &format!("/api/v1/orders/{id}/payments"), "pay-1", pay).await;
    assert_eq!(paid.body["status"], "completed", "{}", paid.body);
    let page = app.request_with_cookie("GET", &format!("/pos/receipts/{id}"), &cookie(&app.cashier_a)).await;
    assert!(!page.text.contains("data-prebill") && page.text.contains("data-table>A3<"), "{}", page.text);
    assert!(page.text.contains("data-change>¥44.00<") && page.text.contains("谢谢惠顾"), "{}", page.text);
    let admin = app.request_with_cookie("GET", &format!("/admin/orders/{id}"), &cookie(&app.admin)).await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.text);
    assert!(admin.text.contains("桌号") && admin.text.contains("data-order-table>A3<"), "{}", admin.text);
}
