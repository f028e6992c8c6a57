//! Tags and saved audiences on each backend: staff tag the customers they see, marketing tags a
//! list by identifier (unknown rows reported), audiences select on tags, and a saved audience
//! counts the members as they are when read.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{AppError, Ctx, CustomerDraft, LineDraft, OrderDraft, PaymentDraft, RegionDraft, StorePatch};
use quanyu_domain::{
    customer::TagRule,
    events::{EventMessage, EventType},
};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, shop, shop_on_shards, staff};

quanyu_store::backend_tests!(
    the_audience_index_follows_changes_made_anywhere,
    tags_select_members_and_saved_audiences_stay_current,
    tags_select_members_and_saved_audiences_stay_current_on_three_audience_shards,
    rule_tags_stick_by_behaviour_and_slide_off,
);

/// A count reflects changes made since the index was read — here at once, in another instance
/// within a catch-up interval — without reading every member again: the index (which would
/// otherwise serve for an hour) reloads the members the log of changes names, on whichever of
/// its shards they live.
async fn the_audience_index_follows_changes_made_anywhere(db: Arc<dyn Database>) {
    let (app, cashier, store, _) = shop_on_shards(db.clone(), 2).await;
    let system = Ctx::system();
    let mut members = Vec::new();
    for n in 0..6 {
        let draft =
            CustomerDraft { identities: vec![("phone".into(), format!("1390000000{n}"))], ..Default::default() };
        members.push(fresh(app.register_customer(&cashier, draft, &no_reply).await.unwrap()).customer.id);
    }
    app.create_tag(&system, "常客", "manual", None).await.unwrap();
    assert_eq!(app.audience_count(&system, "#常客 or points >= 500").await.unwrap(), 0, "the index is read");

    // Here: at once, a new tag included.
    app.set_customer_tag(&cashier, members[5], "常客", true).await.unwrap();
    assert_eq!(app.audience_count(&system, "#常客").await.unwrap(), 1);
    app.create_tag(&system, "新标签", "manual", None).await.unwrap();
    assert_eq!(app.audience_count(&system, "#新标签").await.unwrap(), 0, "known at once");

    // Another instance on the same database: its changes show after a catch-up interval.
    let other = quanyu_app::App::new(
        db,
        quanyu_app::AppConfig { passwords: quanyu_app::PasswordHasher::fast_for_tests(), ..Default::default() },
    );
    other.set_customer_tag(&system, members[0], "常客", true).await.unwrap();
    other.set_customer_tag(&system, members[5], "常客", false).await.unwrap();
    other.set_customer_tag(&system, members[1], "新标签", true).await.unwrap();
    let gift = keyed(&system, "gift-1");
    other.adjust_points(&gift, members[2], 600, Some("活动奖励"), &no_reply).await.unwrap();
    tokio::time::sleep(quanyu_app::CATCH_UP_EVERY + std::time::Duration::from_millis(50)).await;
    assert_eq!(app.audience_count(&system, "#常客").await.unwrap(), 1, "tagged and untagged elsewhere");
    assert_eq!(app.audience_count(&system, "#新标签").await.unwrap(), 1);
    assert_eq!(app.audience_count(&system, "points >= 500").await.unwrap(), 1);
    let members_of = |expression: &'static str| {
        let (app, system) = (app.clone(), system.clone());
        async move {
            let rows = app.audience_members(&system, expression).await.unwrap();
            rows.into_iter().map(|(c, _)| c.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(members_of("#常客 or #新标签").await, [members[0], members[1]]);
    assert_eq!(members_of("points >= 500").await, [members[2]]);

    // A tag defined elsewhere and carried by nobody is not in the log: known when first named.
    other.create_tag(&system, "别处的标签", "manual", None).await.unwrap();
    assert_eq!(app.audience_count(&system, "#别处的标签 or #常客").await.unwrap(), 1);
    let unknown = app.audience_count(&system, "#没有的标签").await.unwrap_err();
    assert!(matches!(unknown, AppError::Expression(_)), "{unknown:?}");

    // The members' home store moved to another region elsewhere: their `region` follows.
    assert_eq!(app.audience_count(&system, "region = N").await.unwrap(), 6);
    let south = RegionDraft { code: "S".into(), name: "南区".into() };
    let south = fresh(other.create_region(&system, south, &no_reply).await.unwrap()).id;
    other.update_store(&system, store, StorePatch { region_id: Some(south), ..Default::default() }).await.unwrap();
    tokio::time::sleep(quanyu_app::CATCH_UP_EVERY + std::time::Duration::from_millis(50)).await;
    assert_eq!(app.audience_count(&system, "region = N").await.unwrap(), 0);
    assert_eq!(app.audience_count(&system, "region = S and #常客").await.unwrap(), 1);
    // Moved back here: at once.
    let regions = app.list_regions(&system, None, None).await.unwrap().items;
    let north = regions.into_iter().find(|r| r.code == "N").unwrap().id;
    app.update_store(&system, store, StorePatch { region_id: Some(north), ..Default::default() }).await.unwrap();
    assert_eq!(app.audience_count(&system, "region = N").await.unwrap(), 6);
}

async fn tags_select_members_and_saved_audiences_stay_current(db: Arc<dyn Database>) {
    tags_select_members_and_saved_audiences_stay_current_on(db, 1).await;
}

/// The same with the audience index cut into three shards (its members between them).
async fn tags_select_members_and_saved_audiences_stay_current_on_three_audience_shards(db: Arc<dyn Database>) {
    tags_select_members_and_saved_audiences_stay_current_on(db, 3).await;
}

async fn tags_select_members_and_saved_audiences_stay_current_on(db: Arc<dyn Database>, audience_shards: usize) {
    let (app, cashier, store, _) = shop_on_shards(db, audience_shards).await;
    let system = Ctx::system();
    let mut members = Vec::new();
    for n in 0..4 {
        let draft =
            CustomerDraft { identities: vec![("phone".into(), format!("1380000000{n}"))], ..Default::default() };
        members.push(fresh(app.register_customer(&cashier, draft, &no_reply).await.unwrap()).customer.id);
    }
    let forbidden = app.create_tag(&cashier, "投诉", "manual", None).await.unwrap_err();
    assert!(matches!(forbidden, AppError::Forbidden));
    app.create_tag(&system, "投诉", "manual", Some("客诉过的顾客")).await.unwrap();
    app.create_tag(&system, "双11中奖", "imported", None).await.unwrap();
    assert!(matches!(app.create_tag(&system, "投诉", "manual", None).await, Err(AppError::Duplicate(_))));

    let tags = app.set_customer_tag(&cashier, members[0], "投诉", true).await.unwrap();
    assert_eq!(tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["投诉"]);
    let unknown = app.set_customer_tag(&cashier, members[0], "不存在", true).await.unwrap_err();
    assert!(matches!(unknown, AppError::UnknownReference { field: "tag", .. }));
    let (guide_id, guide) = staff(&app, "guide", "guide", Some(store), None).await;
    app.set_customer_tag(&guide, members[1], "投诉", true).await.unwrap();
    app.set_customer_tag(&guide, members[1], "投诉", false).await.unwrap();

    let rows = vec![
        ("phone".to_owned(), "138 0000 0001".to_owned()),
        ("phone".to_owned(), "13800000002".to_owned()),
        ("phone".to_owned(), "13999999999".to_owned()),
        ("fax".to_owned(), "010-1234".to_owned()),
        ("phone".to_owned(), "13800000002".to_owned()),
    ];
    let imported = app.import_tag(&system, "双11中奖", &rows).await.unwrap();
    assert_eq!((imported.tagged, imported.already, imported.unknown), (2, 1, vec![2, 3]));

    let listed = app.tags(&system).await.unwrap();
    let counts: Vec<_> = listed.iter().map(|(t, n)| (t.name.as_str(), *n)).collect();
    assert_eq!(counts, [("双11中奖", 2), ("投诉", 1)]);
    let (saved, count) = app.save_audience(&system, "中奖未投诉", "#双11中奖 and not #投诉").await.unwrap();
    assert_eq!(count, 2);
    let typo = app.save_audience(&system, "错", "#不存在").await.unwrap_err();
    assert!(matches!(typo, AppError::Expression(_)), "an unknown tag is named: {typo:?}");
    assert_eq!(app.audience_count(&system, r#"tag("投诉") or #双11中奖"#).await.unwrap(), 3);
    let listed = app.saved_audiences(&system, None, None).await.unwrap().items;
    assert_eq!((listed.len(), listed[0].1), (1, 2));
    assert_eq!(app.saved_audience(&system, saved.id).await.unwrap().0.expression, "#双11中奖 and not #投诉");
    // Many saved audiences page by name, each once.
    for name in ["b 复购", "a 新客", "c 沉默"] {
        app.save_audience(&system, name, "#双11中奖").await.unwrap();
    }
    let (mut names, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = app.saved_audiences(&system, cursor.as_deref(), Some(2)).await.unwrap();
        names.extend(page.items.iter().map(|(a, _)| a.name.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!((names.len(), &names[..3]), (4, &["a 新客".to_owned(), "b 复购".to_owned(), "c 沉默".to_owned()][..]));
    assert_eq!(names, sorted, "by name");

    // Hand-offs: a coupon to every member of the audience, once however often it runs; the
    // members with a guide to that guide as follow-ups.
    let template = quanyu_app::CouponTemplateDraft::new(
        "中奖加赠券",
        quanyu_domain::pricing::CouponKind::AmountOff { amount: quanyu_domain::Money::from_fen(1_000) },
        0,
    );
    let template = fresh(app.create_coupon_template(&system, template, &no_reply).await.unwrap()).id;
    let handed = app.issue_to_audience(&system, saved.id, template).await.unwrap();
    assert_eq!((handed.issued, handed.already, handed.refused), (2, 0, 0));
    let again = app.issue_to_audience(&system, saved.id, template).await.unwrap();
    assert_eq!((again.issued, again.already), (0, 2), "no member twice");
    app.assign_guide(&system, members[1], Some(guide_id)).await.unwrap();
    assert_eq!(app.assign_to_guides(&system, saved.id, "邀请参加品鉴会").await.unwrap(), 1, "member 2 has no guide");
    assert_eq!(app.assign_to_guides(&system, saved.id, "邀请参加品鉴会").await.unwrap(), 0);
    let open = app.guide_tasks(&guide, guide_id, "open", None, None).await.unwrap().items;
    assert_eq!((open.len(), open[0].customer_id), (1, members[1]));
    assert!(matches!(app.finish_guide_task(&cashier, open[0].id, None).await, Err(AppError::Forbidden)));
    let done = app.finish_guide_task(&guide, open[0].id, Some("已电话邀请")).await.unwrap();
    assert_eq!(done.status, "done");
    assert!(matches!(app.finish_guide_task(&guide, open[0].id, None).await, Err(AppError::StatusChanged)));

    // Lookalike: the seed (members 1 and 2, the winners) is what member 0 resembles most, since
    // 0 shares the complaint tag with nobody in the seed but member 3 has nothing at all.
    app.create_tag(&system, "爱红酒", "manual", None).await.unwrap();
    for &member in &members[..3] {
        app.set_customer_tag(&cashier, member, "爱红酒", true).await.unwrap();
    }
    let alike = app.audience_lookalike(&system, "#双11中奖", 10).await.unwrap();
    let found: Vec<_> = alike.iter().map(|(c, _, _, features)| (c.id, features.clone())).collect();
    assert_eq!(found, [(members[0], vec!["#爱红酒".to_owned()])], "member 3 shares nothing with the seed");
    let cashier_may_not = app.audience_lookalike(&cashier, "#双11中奖", 10).await.unwrap_err();
    assert!(matches!(cashier_may_not, AppError::Forbidden));
}

async fn rule_tags_stick_by_behaviour_and_slide_off(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let system = Ctx::system();
    let dairy = app.list_categories(&system).await.unwrap().into_iter().find(|c| c.name == "乳品").unwrap().id;
    let fresh_rule = TagRule { event: "Order Paid".into(), category_id: Some(dairy), min_count: 3, window_days: 30 };
    app.create_rule_tag(&system, "乳品常客", fresh_rule, None).await.unwrap();
    let browsing = TagRule { event: "Product Viewed".into(), category_id: None, min_count: 2, window_days: 7 };
    app.create_rule_tag(&system, "爱逛", browsing.clone(), None).await.unwrap();
    let bad = TagRule { category_id: Some(dairy), ..browsing };
    assert!(matches!(app.create_rule_tag(&system, "错", bad, None).await, Err(AppError::Invalid(_))));

    let draft = CustomerDraft { identities: vec![("phone".into(), "13800138000".into())], ..Default::default() };
    let member = fresh(app.register_customer(&cashier, draft, &no_reply).await.unwrap()).customer.id;
    let names = |app: quanyu_app::App| async move {
        app.customer_tags(&Ctx::system(), member).await.unwrap().into_iter().map(|t| t.name).collect::<Vec<_>>()
    };
    for n in 0..3 {
        let draft = OrderDraft {
            store_id: Some(store),
            channel: "pos".into(),
            customer_id: Some(member),
            lines: vec![LineDraft { sku_id: Some(sku), quantity: 1 }],
            ..OrderDraft::default()
        };
        let order = fresh(app.create_order(&keyed(&cashier, &format!("o-{n}")), draft, &no_reply).await.unwrap()).order;
        assert!(names(app.clone()).await.is_empty(), "not before the third order is paid");
        let payment =
            PaymentDraft { method: "cash".into(), amount: order.total.fen(), reference: None, tendered: None };
        app.pay_order(&keyed(&cashier, &format!("p-{n}")), order.id, payment, &no_reply).await.unwrap();
    }
    assert_eq!(names(app.clone()).await, ["乳品常客"], "three dairy orders in 30 days");

    let source = fresh(app.create_event_source(&system, "app", &no_reply).await.unwrap());
    let source = app.event_source(&source.write_key).await.unwrap();
    let viewed = |id: &str| EventMessage {
        kind: EventType::Track,
        message_id: id.into(),
        name: Some("Product Viewed".into()),
        user_id: Some(member.to_string()),
        anonymous_id: None,
        previous_id: None,
        timestamp: None,
        properties: "{}".into(),
        traits: "{}".into(),
        context: "{}".into(),
    };
    app.ingest(&source, vec![viewed("v-1")]).await.unwrap();
    app.ingest(&source, vec![viewed("v-1")]).await.unwrap();
    assert_eq!(names(app.clone()).await, ["乳品常客"], "a retried event counts once");
    app.ingest(&source, vec![viewed("v-1"), viewed("v-2")]).await.unwrap();
    assert_eq!(names(app.clone()).await, ["乳品常客", "爱逛"]);

    assert_eq!(app.refresh_rule_tags(Utc::now() + Duration::days(8)).await.unwrap(), 1, "the views slid out");
    assert_eq!(names(app.clone()).await, ["乳品常客"]);
    assert_eq!(app.refresh_rule_tags(Utc::now() + Duration::days(31)).await.unwrap(), 1);
    assert!(names(app.clone()).await.is_empty());
}
