//! Tags and saved audiences on each backend: staff tag the customers they see, marketing tags a
//! list by identifier (unknown rows reported), audiences select on tags, and a saved audience
//! counts the members as they are when read.

use std::sync::Arc;

use quanyu_app::{AppError, Ctx, CustomerDraft};
use quanyu_store::Database;

mod support;

use support::{fresh, no_reply, shop, staff};

quanyu_store::backend_tests!(tags_select_members_and_saved_audiences_stay_current,);

async fn tags_select_members_and_saved_audiences_stay_current(db: Arc<dyn Database>) {
    let (app, cashier, store, _) = shop(db).await;
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
    let (_, guide) = staff(&app, "guide", "guide", Some(store), None).await;
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
    let listed = app.saved_audiences(&system).await.unwrap();
    assert_eq!((listed.len(), listed[0].1), (1, 2));
    assert_eq!(app.saved_audience(&system, saved.id).await.unwrap().0.expression, "#双11中奖 and not #投诉");
}
