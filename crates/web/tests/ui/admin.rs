//! The admin console's insight pages over HTTP: the dashboard and its JSON twin, orders (list,
//! filters, CSV, one order), members (list, lookup, CSV, single customer view), marketing,
//! referral and audiences. Each renders for the HQ admin, is refused to a cashier, and is
//! scoped for a region or store manager.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use quanyu_store::Database;
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse, spawn_app};

quanyu_store::backend_tests!(
    the_sales_report_is_scoped_to_the_viewer,
    the_dashboard_draws_the_report,
    orders_filter_page_and_export,
    an_order_page_shows_its_timeline_and_actions,
    members_list_look_up_export_and_show_one_customer,
    marketing_referral_and_audiences_render_for_hq_only,
    a_malformed_audience_expression_says_where,
);

fn cookie(token: &str) -> String {
    format!("quanyu_session={token}")
}

async fn page(app: &TestApp, token: &str, path: &str) -> TestResponse {
    app.request_with_cookie("GET", path, &cookie(token)).await
}

/// A member with this phone and name, at store A.
async fn member(app: &TestApp, phone: &str, name: &str) -> String {
    let body = json!({"identities": [{"kind": "phone", "value": phone}], "display_name": name,
                      "home_store_id": app.store_a});
    let created = app.post_with_key(&app.admin, "/api/v1/customers", &format!("member-{phone}"), body).await;
    assert!(created.status.is_success(), "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

/// A paid POS sale of `boxes` boxes of a ¥20 item in `store`, to `customer` if any; the order.
async fn sale(app: &TestApp, store: &str, boxes: i64, customer: Option<&str>) -> Value {
    let code = format!("BOX-{store}-{boxes}");
    let category = app.post_as(&app.admin, "/api/v1/categories", json!({"name": format!("{code} 类")})).await;
    let product = app
        .post_as(
            &app.admin,
            "/api/v1/products",
            json!({"name": format!("礼盒 {code}"), "category_id": category.body["id"], "kind": "standard",
                   "skus": [{"code": code, "name": "一盒", "unit": "盒", "base_price": 2000}]}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
    let sku = product.body["skus"][0]["id"].as_str().unwrap().to_owned();
    let receipt = app
        .post_with_key(
            &app.admin,
            &format!("/api/v1/stores/{store}/stock/movements"),
            &format!("po-{code}"),
            json!({"sku_id": sku, "kind": "purchase_receipt", "quantity": 100}),
        )
        .await;
    assert_eq!(receipt.status, StatusCode::CREATED, "{}", receipt.body);
    let mut order = json!({"store_id": store, "channel": "pos", "lines": [{"sku_id": sku, "quantity": boxes}]});
    if let Some(customer) = customer {
        order["customer_id"] = json!(customer);
    }
    let created = app.post_with_key(&app.admin, "/api/v1/orders", &format!("order-{code}"), order).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let total = created.body["total"].as_i64().unwrap();
    let paid = app
        .post_with_key(
            &app.admin,
            &format!("/api/v1/orders/{id}/payments"),
            &format!("pay-{code}"),
            json!({"method": "cash", "amount": total}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    paid.body
}

async fn the_sales_report_is_scoped_to_the_viewer(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let buyer = member(&app, "13800000001", "王女士").await;
    sale(&app, &app.store_a, 3, Some(&buyer)).await;
    sale(&app, &app.store_c, 1, None).await;

    let chain = app.get_as(&app.admin, "/api/v1/reports/sales").await;
    assert_eq!(chain.status, StatusCode::OK, "{}", chain.body);
    let today = &chain.body["today"];
    assert_eq!((today["orders"].as_i64(), today["net"].as_i64()), (Some(2), Some(8000)));
    assert_eq!(today["member"], 6000);
    assert_eq!(today["member_share_bp"], 7500);
    assert_eq!(today["online_share_bp"], 0, "both sales were at the till");
    assert_eq!(chain.body["last_30_days"]["net"], 8000);
    assert_eq!(chain.body["daily"].as_array().unwrap().len(), 30);
    assert_eq!(chain.body["daily"][29]["net"], 8000, "today is the last day of the series");
    let pos = chain.body["by_channel"].as_array().unwrap().iter().find(|c| c["channel"] == "pos").unwrap().clone();
    assert_eq!((pos["orders"].as_i64(), pos["online"].as_bool()), (Some(2), Some(false)));
    assert_eq!(chain.body["top_stores"][0]["store_id"], app.store_a.as_str());
    assert_eq!(chain.body["top_stores"][0]["net"], 6000);
    assert_eq!(chain.body["top_skus"][0]["quantity"], 3);

    // The region manager of N sees store A's sale only; the store manager their store.
    let region = app.get_as(&app.region_manager_n, "/api/v1/reports/sales").await;
    assert_eq!(
        (region.body["today"]["net"].as_i64(), region.body["region_id"].as_str()),
        (Some(6000), Some(app.region_n.as_str()))
    );
    let store = app.get_as(&app.manager_a, "/api/v1/reports/sales").await;
    assert_eq!(store.body["store_id"], app.store_a.as_str());
    let elsewhere = app.get_as(&app.region_manager_n, &format!("/api/v1/reports/sales?store_id={}", app.store_c)).await;
    assert_eq!(elsewhere.body["error"]["code"], "out_of_scope");
    let cashier = app.get_as(&app.cashier_a, "/api/v1/reports/sales").await;
    assert_eq!((cashier.status, cashier.body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
}

async fn the_dashboard_draws_the_report(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    sale(&app, &app.store_a, 2, None).await;
    let dashboard = page(&app, &app.admin, "/admin").await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.text);
    assert!(dashboard.text.contains("全连锁"), "the HQ admin sees the whole chain");
    assert!(dashboard.text.contains("¥40.00"), "today's sales: {}", dashboard.text);
    assert_eq!(dashboard.text.matches("<svg").count(), 2, "two server-drawn charts");
    assert!(dashboard.text.contains("viewBox=\"0 0 720 280\"") && dashboard.text.contains("门店收银"));
    assert!(dashboard.text.contains("北区 A 店"), "the top stores name the store");

    let manager = page(&app, &app.manager_a, "/admin").await;
    assert_eq!(manager.status, StatusCode::OK);
    assert!(manager.text.contains("北区 A 店") && !manager.text.contains("全连锁"));
    let english = app
        .send(
            axum::http::Request::get("/admin").header("cookie", format!("{}; quanyu_lang=en", cookie(&app.admin))),
            None,
        )
        .await;
    assert!(english.text.contains("Daily sales, last 30 days") && english.text.contains("Whole chain"));

    // A cashier has no dashboard: the console sends them on to a section they may open, if any.
    let cashier = page(&app, &app.cashier_a, "/admin").await;
    assert_ne!(cashier.status, StatusCode::OK);
    if cashier.status == StatusCode::SEE_OTHER {
        assert_ne!(cashier.headers[header::LOCATION], "/admin");
    } else {
        assert_eq!(cashier.status, StatusCode::FORBIDDEN);
    }
    assert!(!cashier.text.contains("<svg"));
}

async fn orders_filter_page_and_export(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let buyer = member(&app, "13800000002", "李先生").await;
    let in_a = sale(&app, &app.store_a, 1, Some(&buyer)).await;
    let in_c = sale(&app, &app.store_c, 2, None).await;
    let short = |order: &Value| order["id"].as_str().unwrap()[24..].to_owned();

    let all = page(&app, &app.admin, "/admin/orders").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert!(all.text.contains(&short(&in_a)) && all.text.contains(&short(&in_c)));
    let in_store_a =
        page(&app, &app.admin, &format!("/admin/orders?store_id={}&channel=pos&status=", app.store_a)).await;
    assert!(in_store_a.text.contains(&short(&in_a)) && !in_store_a.text.contains(&short(&in_c)));
    let by_phone = page(&app, &app.admin, "/admin/orders?phone=13800000002").await;
    assert!(by_phone.text.contains(&short(&in_a)) && !by_phone.text.contains(&short(&in_c)));
    let unknown_phone = page(&app, &app.admin, "/admin/orders?phone=13911112222").await;
    assert!(!unknown_phone.text.contains(&short(&in_a)), "no member, no orders");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d");
    let future = page(&app, &app.admin, &format!("/admin/orders?from={tomorrow}")).await;
    assert!(!future.text.contains(&short(&in_a)) && future.text.contains("暂无数据"));
    // One order a page: the pager carries the filter on.
    let first = page(&app, &app.admin, "/admin/orders?sort=oldest").await;
    assert!(first.text.find(&short(&in_a)) < first.text.find(&short(&in_c)), "oldest first");
    // The total's header sorts by total, high to low on the second click.
    let newest = page(&app, &app.admin, "/admin/orders").await;
    let sort_link = |href: &str| format!(r#"<a class="sort" href="{}">"#, href.replace('/', "&#x2f;"));
    let created = format!(r#"aria-sort="descending">{}"#, sort_link("/admin/orders?sort=created_at"));
    assert!(newest.text.contains(&created), "{}", newest.text);
    assert!(newest.text.contains(&sort_link("/admin/orders?sort=total")), "{}", newest.text);
    let by_total = page(&app, &app.admin, "/admin/orders?sort=-total").await;
    assert!(by_total.text.find(&short(&in_c)) < by_total.text.find(&short(&in_a)), "the larger total first");
    assert!(by_total.text.contains(r#"<option value="-total" selected>"#));
    let csv_by_total = page(&app, &app.admin, "/admin/orders.csv?sort=total").await;
    let (a_at, c_at) =
        (csv_by_total.text.find(in_a["id"].as_str().unwrap()), csv_by_total.text.find(in_c["id"].as_str().unwrap()));
    assert!(a_at.is_some() && a_at < c_at, "the CSV follows the sort");

    let csv = page(&app, &app.admin, "/admin/orders.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("orders.csv"));
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("订单号,下单时间,门店,渠道,状态"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "{}", csv.text);
    let row_a = lines.iter().find(|l| l.starts_with(in_a["id"].as_str().unwrap())).unwrap();
    assert!(row_a.contains("北区 A 店") && row_a.contains("门店收银") && row_a.contains("已完成"), "{row_a}");
    assert!(row_a.contains(",20.00,") && row_a.contains(&buyer), "{row_a}");
    let only_c = page(&app, &app.admin, &format!("/admin/orders.csv?store_id={}", app.store_c)).await;
    assert_eq!(only_c.text.lines().count(), 2);
    assert!(only_c.text.contains(",40.00,"));

    // The region manager's list is their region's; a cashier has no order console.
    let region = page(&app, &app.region_manager_n, "/admin/orders").await;
    assert!(region.text.contains(&short(&in_a)) && !region.text.contains(&short(&in_c)));
    assert_eq!(page(&app, &app.cashier_a, "/admin/orders").await.status, StatusCode::FORBIDDEN);
    assert_eq!(page(&app, &app.cashier_a, "/admin/orders.csv").await.status, StatusCode::FORBIDDEN);
}

async fn an_order_page_shows_its_timeline_and_actions(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let sold = sale(&app, &app.store_a, 2, None).await;
    let path = format!("/admin/orders/{}", sold["id"].as_str().unwrap());
    let order = page(&app, &app.admin, &path).await;
    assert_eq!(order.status, StatusCode::OK, "{}", order.text);
    assert!(order.text.contains("创建") && order.text.contains("支付") && order.text.contains("已完成"));
    assert!(order.text.contains("现金") && order.text.contains("¥40.00"), "the payment is listed");
    assert!(order.text.contains("id=\"refund-1\""), "a completed sale may be refunded line by line");
    assert!(!order.text.contains("data-step="), "a POS sale has no fulfilment steps left");
    let elsewhere = sale(&app, &app.store_c, 1, None).await;
    let refused =
        page(&app, &app.region_manager_n, &format!("/admin/orders/{}", elsewhere["id"].as_str().unwrap())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "another region's order");
    assert_eq!(page(&app, &app.cashier_a, &path).await.status, StatusCode::FORBIDDEN);
}

async fn members_list_look_up_export_and_show_one_customer(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let id = member(&app, "13800000003", "赵女士").await;
    sale(&app, &app.store_a, 1, Some(&id)).await;
    let tag = app.post_as(&app.admin, "/api/v1/tags", json!({"name": "爱喝茶"})).await;
    assert_eq!(tag.status, StatusCode::CREATED, "{}", tag.body);
    let tagged = app.post_as(&app.admin, &format!("/api/v1/customers/{id}/tags"), json!({"tag": "爱喝茶"})).await;
    assert!(tagged.status.is_success(), "{}", tagged.body);

    let list = page(&app, &app.admin, "/admin/members").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("赵女士") && list.text.contains("北区 A 店") && list.text.contains("members.csv"));
    // Who joined last comes first with -created_at, and by member number either way.
    member(&app, "13800000004", "钱先生").await;
    let newest = page(&app, &app.admin, "/admin/members?sort=-created_at").await;
    assert!(newest.text.find("钱先生") < newest.text.find("赵女士"), "{}", newest.text);
    assert!(
        newest
            .text
            .contains(r#"aria-sort="descending"><a class="sort" href="&#x2f;admin&#x2f;members?sort=created_at""#)
    );
    let by_number = page(&app, &app.admin, "/admin/members?sort=-ordinal").await;
    assert!(by_number.text.find("钱先生") < by_number.text.find("赵女士"));
    let oldest = page(&app, &app.admin, "/admin/members?sort=ordinal").await;
    assert!(oldest.text.find("赵女士") < oldest.text.find("钱先生"));
    let found = page(&app, &app.admin, "/admin/members?phone=13800000003").await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert_eq!(found.headers[header::LOCATION], format!("/admin/members/{id}").as_str());
    let missing = page(&app, &app.admin, "/admin/members?phone=13999999999").await;
    assert!(missing.text.contains("没有找到这个手机号的会员"));

    let view = page(&app, &app.admin, &format!("/admin/members/{id}")).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text);
    for expected in ["13800000003", "爱喝茶", "RFM", "北区 A 店", "id=\"tag-form\"", "id=\"points-form\""] {
        assert!(view.text.contains(expected), "{expected} missing from the customer view");
    }

    let csv = page(&app, &app.admin, "/admin/members.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("编号,会员 ID,姓名,归属门店"), "{}", lines[0]);
    assert!(lines.iter().any(|l| l.contains(&id) && l.contains("赵女士") && l.contains("北区 A 店")), "{}", csv.text);

    // A store manager reads members, tags them and adjusts points, but may not export them.
    let manager = page(&app, &app.manager_a, "/admin/members").await;
    assert_eq!(manager.status, StatusCode::OK);
    assert!(!manager.text.contains("members.csv"));
    assert_eq!(page(&app, &app.manager_a, "/admin/members.csv").await.status, StatusCode::FORBIDDEN);
    let manager_view = page(&app, &app.manager_a, &format!("/admin/members/{id}")).await;
    assert!(manager_view.text.contains("id=\"tag-form\"") && manager_view.text.contains("id=\"points-form\""));
    assert_eq!(page(&app, &app.cashier_a, "/admin/members").await.status, StatusCode::FORBIDDEN);
}

async fn marketing_referral_and_audiences_render_for_hq_only(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let template = app
        .post_with_key(
            &app.admin,
            "/api/v1/coupon-templates",
            "tpl-1",
            json!({"name": "满59减10", "type": "amount_off", "amount": 1000, "threshold": 5900, "valid_days": 30,
                   "budget_count": 500}),
        )
        .await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);

    let marketing = page(&app, &app.admin, "/admin/marketing").await;
    assert_eq!(marketing.status, StatusCode::OK, "{}", marketing.text);
    for expected in
        ["满59减10", "id=\"coupon-template-form\"", "id=\"promotion-form\"", "id=\"quote-form\"", "marketing-strings"]
    {
        assert!(marketing.text.contains(expected), "{expected} missing from the marketing page");
    }
    // Four SKU pickers (scope, limited-time price, bundle item, playground line), each searchable.
    assert_eq!(marketing.text.matches("data-sku-picker").count(), 4);
    assert_eq!(marketing.text.matches("data-sku-search").count(), 4);
    // Each of the page's two tables sorts on its own, keeping the other's order.
    let sorted = page(&app, &app.admin, "/admin/marketing?coupons_sort=-issued&promotions_sort=name").await;
    let header = r#"aria-sort="descending"><a class="sort" href="&#x2f;admin&#x2f;marketing?promotions_sort=name&amp;coupons_sort=issued#coupons""#;
    assert!(sorted.text.contains(header), "{}", sorted.text);
    assert!(sorted.text.contains("/admin/marketing/coupons.csv?coupons_sort=-issued"));
    let csv = page(&app, &app.admin, "/admin/marketing/coupons.csv?coupons_sort=-issued").await;
    assert_eq!(csv.status, StatusCode::OK);
    let csv = page(&app, &app.admin, "/admin/marketing/coupons.csv").await;
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("名称,规则,类型,状态"), "{}", lines[0]);
    assert!(lines.iter().any(|l| l.starts_with("满59减10,满59减10,满减券,进行中,500,")), "{}", csv.text);

    let promotion = app
        .post_as(
            &app.admin,
            "/api/v1/promotions",
            json!({"name": "周末满200减30", "type": "amount_off_ladder", "tiers": [{"threshold": 20000, "amount": 3000}],
                   "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2036-01-01T00:00:00Z"}),
        )
        .await;
    assert!(promotion.status.is_success(), "{}", promotion.body);
    let promotions = page(&app, &app.admin, "/admin/marketing/promotions.csv").await;
    assert!(
        promotions.text.contains("周末满200减30,满减,2026-01-01 08:00,2036-01-01 08:00,所有顾客,0,否,进行中"),
        "{}",
        promotions.text
    );

    // Store managers give coupons but do not define them; cashiers have no marketing at all.
    let manager = page(&app, &app.manager_a, "/admin/marketing").await;
    assert_eq!(manager.status, StatusCode::OK);
    assert!(manager.text.contains("id=\"quote-form\"") && !manager.text.contains("id=\"coupon-template-form\""));
    assert_eq!(page(&app, &app.cashier_a, "/admin/marketing").await.status, StatusCode::FORBIDDEN);

    let referral = page(&app, &app.admin, "/admin/referral").await;
    assert_eq!(referral.status, StatusCode::OK, "{}", referral.text);
    assert!(referral.text.contains("id=\"rules-form\"") && referral.text.contains("id=\"program-form\""));
    let sorted = page(&app, &app.admin, "/admin/referral?promoters_sort=-available").await;
    assert!(
        sorted.text.contains(
            r#"aria-sort="descending"><a class="sort" href="&#x2f;admin&#x2f;referral?promoters_sort=available""#
        ),
        "{}",
        sorted.text
    );
    let bogus = page(&app, &app.admin, "/admin/referral/promoters.csv?promoters_sort=colour").await;
    assert_ne!(bogus.status, StatusCode::OK, "an unknown sort is refused");
    let payouts = page(&app, &app.admin, "/admin/referral/payouts.csv?payouts=all").await;
    assert_eq!(payouts.status, StatusCode::OK, "{}", payouts.text);
    assert!(payouts.text.trim_start_matches('\u{feff}').starts_with("申请时间,推广员,"), "{}", payouts.text);
    assert!(referral.text.contains(r#"href="/admin/referral/payouts.csv?"#), "the page links its CSV");
    let promoters = page(&app, &app.admin, "/admin/referral/promoters.csv?promoters=all").await;
    assert!(promoters.text.trim_start_matches('\u{feff}').starts_with("名称,邀请码,分销员"), "{}", promoters.text);
    assert_eq!(page(&app, &app.manager_a, "/admin/referral").await.status, StatusCode::FORBIDDEN);

    let saved = app
        .post_as(&app.admin, "/api/v1/audiences", json!({"name": "北区常客", "expression": "orders_365d >= 1"}))
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let audiences = page(&app, &app.admin, "/admin/audiences").await;
    assert_eq!(audiences.status, StatusCode::OK, "{}", audiences.text);
    assert!(audiences.text.contains("北区常客") && audiences.text.contains("last_order_days"));
    assert_eq!(page(&app, &app.cashier_a, "/admin/audiences").await.status, StatusCode::FORBIDDEN);
    assert_eq!(page(&app, &app.manager_a, "/admin/audiences").await.status, StatusCode::FORBIDDEN);
}

async fn a_malformed_audience_expression_says_where(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let bad = app.post_as(&app.admin, "/api/v1/audiences/count", json!({"expression": "points >= and r = 5"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["field"], "expression");
    assert_eq!(bad.body["error"]["position"], json!({"line": 1, "column": 11}));
    let second_line =
        app.post_as(&app.admin, "/api/v1/audiences/count", json!({"expression": "r >= 1 and\n  标签 = 1"})).await;
    assert_eq!(second_line.body["error"]["position"]["line"], 2, "{}", second_line.body);
}
