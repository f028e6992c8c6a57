//! The guide workbench over HTTP: a guide sees only their own customers (phones masked), finds
//! them by phone and tag, opens one; their follow-ups are listed until done; the share page gives
//! product links carrying their promoter code with a QR code; a sale through such a link shows in
//! their KPIs. Cashiers and pickers have no workbench.

use std::sync::Arc;

use axum::http::{Request, StatusCode};
use quanyu_store::Database;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, spawn_app};

quanyu_store::backend_tests!(
    a_guide_sees_only_their_customers,
    other_roles_have_no_workbench,
    follow_ups_are_listed_until_done,
    share_links_carry_the_guides_code_and_sales_count,
);

/// A guide of store A: (staff id, session token).
async fn guide(app: &TestApp, username: &str) -> (String, String) {
    let body = json!({"username": username, "display_name": format!("导购{username}"), "role": "guide",
                      "store_id": app.store_a, "password": PASSWORD});
    let created = app.post_as(&app.admin, "/api/v1/staff", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    (created.body["id"].as_str().unwrap().to_owned(), app.login(username).await)
}

/// Registers a customer of store A bound to `guide_id`; returns their id.
async fn customer(app: &TestApp, token: &str, phone: &str, name: &str, guide_id: &str) -> String {
    let body = json!({"identities": [{"kind": "phone", "value": phone}], "display_name": name,
                      "home_store_id": app.store_a, "guide_id": guide_id});
    let created = app.post_with_key(token, "/api/v1/customers", &format!("reg-{phone}"), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

async fn page(app: &TestApp, token: &str, path: &str) -> crate::support::TestResponse {
    app.request_with_cookie("GET", path, &format!("quanyu_session={token}")).await
}

async fn a_guide_sees_only_their_customers(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let (me, token) = guide(&app, "guide-a").await;
    let (other, other_token) = guide(&app, "guide-a2").await;
    let wang = customer(&app, &token, "13800000001", "王丽", &me).await;
    customer(&app, &token, "13800000002", "李娜", &me).await;
    customer(&app, &other_token, "13800000003", "别人的顾客", &other).await;
    let tag = app.post_as(&app.admin, "/api/v1/tags", json!({"name": "高潜"})).await;
    assert_eq!(tag.status, StatusCode::CREATED, "{}", tag.body);
    app.post_as(&app.admin, "/api/v1/tags", json!({"name": "复购"})).await;
    let tagged = app.post_as(&token, &format!("/api/v1/customers/{wang}/tags"), json!({"tag": "高潜"})).await;
    assert_eq!(tagged.status, StatusCode::OK, "{}", tagged.body);

    let list = page(&app, &token, "/guide").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("王丽") && list.text.contains("李娜"), "{}", list.text);
    assert!(!list.text.contains("别人的顾客"), "another guide's customer is not listed");
    assert!(list.text.contains("138****0001") && !list.text.contains("13800000001"), "phones are masked");
    assert!(list.text.contains("高潜") && list.text.contains(&format!("/guide/c/{wang}")));
    let by_phone = page(&app, &token, "/guide?q=0002").await;
    assert!(by_phone.text.contains("李娜") && !by_phone.text.contains("王丽"), "{}", by_phone.text);
    let by_tag = page(&app, &token, &format!("/guide?tag={}", "%E9%AB%98%E6%BD%9C")).await;
    assert!(by_tag.text.contains("王丽") && !by_tag.text.contains("李娜"), "{}", by_tag.text);
    let english = app
        .send(Request::get("/guide?q=nobody").header("cookie", format!("quanyu_session={token}; quanyu_lang=en")), None)
        .await;
    assert!(english.text.contains("No customers match."), "{}", english.text);

    // The API answers the same book.
    let book = app.get_as(&token, &format!("/api/v1/staff/{me}/customer-book?q=%E7%8E%8B")).await;
    assert_eq!(book.status, StatusCode::OK, "{}", book.body);
    let items = book.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["phone"].as_str(), items[0]["tags"].clone()), (Some("138****0001"), json!(["高潜"])));
    let bad = app.get_as(&token, &format!("/api/v1/staff/{me}/customer-book?stage=asleep")).await;
    assert_eq!(bad.body["error"]["field"], "stage", "{}", bad.body);

    let one = page(&app, &token, &format!("/guide/c/{wang}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert!(one.text.contains("王丽") && one.text.contains("138****0001"), "{}", one.text);
    assert!(!one.text.contains("13800000001"), "identities are masked on the customer page too");
    assert!(one.text.contains(&format!("data-tag-form=\"{wang}\"")) && one.text.contains("<option value=\"复购\">"));
    assert!(!one.text.contains("<option value=\"高潜\">"), "a tag the customer carries is not offered again");
    assert!(one.text.contains("目前没有可送的优惠券"), "no coupon templates in this chain yet");
}

async fn other_roles_have_no_workbench(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    for (token, who) in [(&app.cashier_a, "cashier"), (&app.picker_a, "picker")] {
        for path in ["/guide", "/guide/tasks", "/guide/share", "/guide/kpis"] {
            let refused = page(&app, token, path).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{who} {path}: {}", refused.text);
        }
    }
    let api = app.get_as(&app.cashier_a, &format!("/api/v1/staff/{}/kpis", app.cashier_b_id)).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);
    let (me, _) = guide(&app, "guide-a").await;
    let manager = app.get_as(&app.manager_a, &format!("/api/v1/staff/{me}/kpis")).await;
    assert_eq!(manager.status, StatusCode::OK, "a store manager reads their guide's KPIs: {}", manager.body);
}

async fn follow_ups_are_listed_until_done(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let (me, token) = guide(&app, "guide-a").await;
    let wang = customer(&app, &token, "13800000001", "王丽", &me).await;
    customer(&app, &token, "13800000002", "李娜", &me).await;
    app.post_as(&app.admin, "/api/v1/tags", json!({"name": "回访"})).await;
    app.post_as(&token, &format!("/api/v1/customers/{wang}/tags"), json!({"tag": "回访"})).await;
    let audience = app.post_as(&app.admin, "/api/v1/audiences", json!({"name": "待回访", "expression": "#回访"})).await;
    assert_eq!(audience.status, StatusCode::CREATED, "{}", audience.body);
    let handed = app
        .post_as(
            &app.admin,
            &format!("/api/v1/audiences/{}/guide-tasks", audience.body["id"].as_str().unwrap()),
            json!({"title": "生日回访"}),
        )
        .await;
    assert!(handed.status.is_success(), "{}", handed.body);

    let board = page(&app, &token, "/guide/tasks").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.text);
    assert!(board.text.contains("生日回访") && board.text.contains(&format!("/guide/c/{wang}")), "{}", board.text);
    assert!(board.text.contains("待完成（1）") && !board.text.contains("已逾期"), "a new task is due, not overdue");
    let api: Value = app.get_as(&token, &format!("/api/v1/staff/{me}/task-board")).await.body;
    let task = api[0]["task"]["id"].as_str().unwrap().to_owned();
    assert_eq!(api[0]["customer"]["display_name"], "王丽");
    let customer_page = page(&app, &token, &format!("/guide/c/{wang}")).await;
    assert!(customer_page.text.contains(&format!("data-task-done=\"{task}\"")), "contact noted from the customer");

    let done = app.post_as(&token, &format!("/api/v1/guide-tasks/{task}/done"), json!({"note": "已电话联系"})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let board = page(&app, &token, "/guide/tasks").await;
    assert!(!board.text.contains("生日回访") && board.text.contains("没有待跟进的任务"), "{}", board.text);
    let kpis = app.get_as(&token, &format!("/api/v1/staff/{me}/kpis")).await.body;
    assert_eq!((kpis["tasks_done"].as_i64(), kpis["tasks_done_this_month"].as_i64()), (Some(1), Some(1)));
}

async fn share_links_carry_the_guides_code_and_sales_count(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let (me, token) = guide(&app, "guide-a").await;
    let buyer = customer(&app, &token, "13800000001", "王丽", &me).await;
    let product = app
        .create_product("有机牛奶", json!([{"code": "MILK-1", "name": "1L", "unit": "盒", "base_price": 1590}]))
        .await;
    let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let movements = format!("/api/v1/stores/{}/stock/movements", app.store_a);
    let receipt = json!({"sku_id": sku, "kind": "purchase_receipt", "quantity": 10});
    assert!(app.post_with_key(&app.manager_a, &movements, "po-1", receipt).await.status.is_success());
    let code = app.post_as(&token, &format!("/api/v1/staff/{me}/invite"), json!({})).await.body["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let search = page(&app, &token, "/guide/share?q=%E7%89%9B%E5%A5%B6").await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.text);
    assert!(search.text.contains("有机牛奶") && search.text.contains("¥15.90"), "{}", search.text);
    let invite = format!("value=\"{}\"", format!("/m/i/{code}").replace('/', "&#x2f;"));
    assert!(search.text.contains(&invite), "the invite link until a pick: {}", search.text);
    let picked = app
        .send(
            Request::get(format!("/guide/share?sku={sku}"))
                .header("cookie", format!("quanyu_session={token}"))
                .header("host", "shop.test:8080"),
            None,
        )
        .await;
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.text);
    let link = format!("http://shop.test:8080/m/p/{sku}?ref={code}");
    assert!(picked.text.contains(&format!("value=\"{}\"", link.replace('/', "&#x2f;"))), "{}", picked.text);
    assert!(picked.text.contains("<svg") && picked.text.contains("data-copy"), "a QR code and a copy button");
    let missing = page(&app, &token, &format!("/guide/share?sku={}", uuid_nil())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);

    // The customer orders through the link as the mall will place it, and pays.
    let order = json!({"store_id": app.store_a, "channel": "pickup", "customer_id": buyer,
                       "promoter_code": code, "lines": [{"sku_id": sku, "quantity": 2}]});
    let created = app.post_with_key(&app.admin, "/api/v1/orders", "mall-1", order).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let total = created.body["total"].as_i64().unwrap();
    let paid = app
        .post_with_key(
            &app.admin,
            &format!("/api/v1/orders/{id}/payments"),
            "mall-1-pay",
            json!({"method": "cash", "amount": total}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

    let kpis = page(&app, &token, "/guide/kpis").await;
    assert_eq!(kpis.status, StatusCode::OK, "{}", kpis.text);
    assert!(kpis.text.contains("¥31.80") && kpis.text.contains("<rect"), "{}", kpis.text);
    let api = app.get_as(&token, &format!("/api/v1/staff/{me}/kpis")).await.body;
    assert_eq!((api["sales_this_month"].as_i64(), api["orders_this_month"].as_i64()), (Some(3180), Some(1)));
    assert_eq!((api["customers"].as_i64(), api["customers_this_month"].as_i64()), (Some(1), Some(1)));
    assert_eq!(api["months"].as_array().map(Vec::len), Some(6));
}

fn uuid_nil() -> &'static str {
    "00000000-0000-0000-0000-000000000000"
}
