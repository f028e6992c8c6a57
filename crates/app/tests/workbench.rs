//! The guide workbench on each backend: a guide's customer book holds only their customers,
//! searched by name or phone and filtered by tag and stage, with masked phones, tags and scores
//! read in batches; the task board orders follow-ups by when they fall due; the KPIs count
//! customers, attributed sales by month and tasks done; other roles have no book.

use std::sync::Arc;

use chrono::Utc;
use quanyu_app::{AppError, BookQuery, Ctx, CustomerDraft, LineDraft, OrderDraft, PaymentDraft};
use quanyu_domain::{ids::StaffId, referral::PromoterOwner};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, shop_on_shards, staff};

quanyu_store::backend_tests!(
    a_guides_book_board_and_kpis_are_theirs,
    a_guides_book_board_and_kpis_are_theirs_on_three_audience_shards
);

async fn a_guides_book_board_and_kpis_are_theirs(db: Arc<dyn Database>) {
    a_guides_book_board_and_kpis_are_theirs_on(db, 1).await;
}

/// The same with the audience index cut into three shards (its members between them).
async fn a_guides_book_board_and_kpis_are_theirs_on_three_audience_shards(db: Arc<dyn Database>) {
    a_guides_book_board_and_kpis_are_theirs_on(db, 3).await;
}

async fn a_guides_book_board_and_kpis_are_theirs_on(db: Arc<dyn Database>, audience_shards: usize) {
    let (app, cashier, store, sku) = shop_on_shards(db, audience_shards).await;
    let system = Ctx::system();
    let (guide_id, guide) = staff(&app, "guide", "guide", Some(store), None).await;
    let (other_id, _) = staff(&app, "guide2", "guide", Some(store), None).await;
    let register = |phone: &str, name: &str, guide: StaffId| CustomerDraft {
        identities: vec![("phone".into(), phone.into())],
        display_name: Some(name.into()),
        guide_id: Some(guide),
        ..Default::default()
    };
    let mut mine = Vec::new();
    for (phone, name) in [("13800000001", "王丽"), ("13800000002", "李娜"), ("13900000003", "王强")] {
        mine.push(fresh(app.register_customer(&guide, register(phone, name, guide_id), &no_reply).await.unwrap()));
    }
    fresh(app.register_customer(&cashier, register("13700000009", "王五", other_id), &no_reply).await.unwrap());
    app.create_tag(&system, "高潜", "manual", None).await.unwrap();
    app.set_customer_tag(&guide, mine[1].customer.id, "高潜", true).await.unwrap();

    let book = |query: BookQuery| {
        let (app, guide) = (app.clone(), guide.clone());
        async move { app.guide_customers(&guide, guide_id, query, None, None).await.unwrap().items }
    };
    let all = book(BookQuery::default()).await;
    assert_eq!(all.len(), 3, "only the guide's own customers");
    let second = all.iter().find(|c| c.customer.id == mine[1].customer.id).unwrap();
    assert_eq!(second.phone.as_deref(), Some("138****0002"));
    assert_eq!(second.tags, ["高潜"]);
    assert_eq!(second.stage_label(), Some("引入期"), "scored on the spot before the first rebuild");
    let names = |cards: Vec<quanyu_app::CustomerCard>| {
        let mut names: Vec<String> = cards.into_iter().filter_map(|c| c.customer.display_name).collect();
        names.sort();
        names
    };
    assert_eq!(names(book(BookQuery { text: Some("王".into()), ..Default::default() }).await), ["王丽", "王强"]);
    assert_eq!(names(book(BookQuery { text: Some("0003".into()), ..Default::default() }).await), ["王强"]);
    assert_eq!(names(book(BookQuery { tag: Some("高潜".into()), ..Default::default() }).await), ["李娜"]);
    let paged = app.guide_customers(&guide, guide_id, BookQuery::default(), None, Some(2)).await.unwrap();
    let cursor = paged.next_cursor.expect("a second page").0;
    let rest = app.guide_customers(&guide, guide_id, BookQuery::default(), Some(&cursor), Some(2)).await.unwrap();
    assert_eq!((paged.items.len(), rest.items.len(), rest.next_cursor), (2, 1, None));
    let stage = BookQuery { stage: Some("dormant".into()), ..Default::default() };
    let unknown = app.guide_customers(&guide, guide_id, stage, None, None).await.unwrap_err();
    assert!(matches!(unknown, AppError::Invalid(_)), "{unknown:?}");

    // The nightly scores give every customer a stage; the book filters on it.
    app.rebuild_scores(Utc::now()).await.unwrap();
    let scored = book(BookQuery { stage: Some("introduction".into()), ..Default::default() }).await;
    assert_eq!(scored.len(), 3);
    assert_eq!(scored[0].stage_label(), Some("引入期"));
    assert!(scored[0].segment().is_some());

    let refused = app.guide_customers(&cashier, cashier.actor.staff_id, BookQuery::default(), None, None).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "a cashier has no customer book: {refused:?}");
    let others = app.guide_customers(&cashier, guide_id, BookQuery::default(), None, None).await;
    assert!(matches!(others, Err(AppError::Forbidden)), "nor reads a guide's: {others:?}");

    // Follow-ups handed out from an audience fall due three days later.
    let (audience, _) = app.save_audience(&system, "高潜顾客", "#高潜").await.unwrap();
    assert_eq!(app.assign_to_guides(&system, audience.id, "回访").await.unwrap(), 1);
    let now = Utc::now();
    let board = app.guide_task_board(&guide, guide_id, now).await.unwrap();
    assert_eq!(board.len(), 1);
    assert_eq!(board[0].customer.as_ref().map(|c| c.customer.id), Some(mine[1].customer.id));
    assert!(!board[0].overdue);
    let later = app.guide_task_board(&guide, guide_id, now + chrono::Duration::days(4)).await.unwrap();
    assert!(later[0].overdue, "overdue once the three days have passed");
    app.finish_guide_task(&guide, board[0].task.id, Some("已电话联系")).await.unwrap();
    assert!(app.guide_task_board(&guide, guide_id, now).await.unwrap().is_empty());

    // A sale through the guide's link counts in this month's figures.
    let link = app.invite_profile(&guide, PromoterOwner::Staff(guide_id)).await.unwrap();
    let draft = OrderDraft {
        store_id: Some(store),
        channel: "pickup".into(),
        customer_id: Some(mine[0].customer.id),
        promoter_code: Some(link.code.clone()),
        lines: vec![LineDraft { sku_id: Some(sku), quantity: 2 }],
        ..OrderDraft::default()
    };
    let order = fresh(app.create_order(&keyed(&cashier, "o-1"), draft, &no_reply).await.unwrap()).order;
    let payment = PaymentDraft { method: "cash".into(), amount: order.total.fen(), reference: None, tendered: None };
    app.pay_order(&keyed(&cashier, "pay"), order.id, payment, &no_reply).await.unwrap();
    let kpis = app.guide_kpis(&guide, guide_id, Utc::now()).await.unwrap();
    assert_eq!((kpis.customers, kpis.customers_this_month), (3, 3));
    assert_eq!((kpis.sales_this_month.fen(), kpis.orders_this_month), (2_400, 1));
    assert_eq!((kpis.sales_total.fen(), kpis.orders_total), (2_400, 1));
    assert_eq!((kpis.tasks.open, kpis.tasks.done, kpis.tasks.done_since), (0, 1, 1));
    assert_eq!(kpis.months.len(), quanyu_app::KPI_MONTHS);
    assert_eq!(kpis.months.last().map(|m| m.sales.fen()), Some(2_400));
    assert!(kpis.months[..quanyu_app::KPI_MONTHS - 1].iter().all(|m| m.orders == 0));
    let refused = app.guide_kpis(&cashier, guide_id, Utc::now()).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    let not_a_guide = app.guide_kpis(&system, cashier.actor.staff_id, Utc::now()).await;
    assert!(matches!(not_a_guide, Err(AppError::NotAGuide)), "{not_a_guide:?}");
}
