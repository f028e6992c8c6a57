//! Coupons, promotions and points at checkout, on each backend: wallets follow the templates'
//! budgets, limits and rules; a coupon raced by two checkouts is used once and a points balance
//! raced by two redemptions is spent once; refunds and cancellations give back exactly what the
//! undone lines used; promotions price quotes and orders while they run; the books add up.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{
    App, AppError, CouponTemplateDraft, Ctx, LineDraft, OrderDraft, PaymentDraft, PromotionDraft, QuoteDraft,
    RefundDraft, Written,
};
use quanyu_domain::{
    Money,
    ids::{CouponId, CouponTemplateId, CustomerId, SkuId, StoreId},
    marketing::{CouponState, IssueRefusal},
    pricing::{AmountOffTier, CouponKind, PromotionKind, RejectionReason, Scope},
};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, member, no_reply, shop, staff};

quanyu_store::backend_tests!(
    wallets_follow_budgets_limits_and_rules,
    coupons_and_points_pay_and_come_back_exactly,
    one_coupon_raced_by_checkouts_is_used_once,
    one_points_balance_raced_by_redemptions_is_spent_once,
    promotions_price_while_they_run,
    birthday_gifts_arrive_once_a_year,
);

fn template(name: &str, kind: CouponKind, threshold: i64) -> CouponTemplateDraft {
    CouponTemplateDraft::new(name, kind, threshold)
}

fn yuan_off(yuan: i64) -> CouponKind {
    CouponKind::AmountOff { amount: Money::from_fen(yuan * 100) }
}

async fn define(app: &App, draft: CouponTemplateDraft) -> CouponTemplateId {
    fresh(app.create_coupon_template(&Ctx::system(), draft, &no_reply).await.unwrap()).id
}

async fn issue(
    app: &App,
    ctx: &Ctx,
    template: CouponTemplateId,
    customer: CustomerId,
    claim: bool,
    key: &str,
) -> Result<CouponId, AppError> {
    app.issue_coupon(&keyed(ctx, key), template, customer, claim, &no_reply).await.map(|w| fresh(w).coupon.id)
}

fn refusal(result: Result<CouponId, AppError>) -> IssueRefusal {
    match result {
        Err(AppError::CouponIssue(refusal)) => refusal,
        other => panic!("a refusal was expected: {other:?}"),
    }
}

async fn wallet(app: &App, customer: CustomerId) -> Vec<(String, &'static str)> {
    let listing = app.customer_coupons(&Ctx::system(), customer, None, None).await.unwrap();
    listing.items.iter().map(|w| (w.template.name.clone(), w.coupon.state_at(Utc::now()).as_str())).collect()
}

async fn wallets_follow_budgets_limits_and_rules(db: Arc<dyn Database>) {
    let (app, cashier, store, _) = shop(db).await;
    let (_, guide) = staff(&app, "guide", "guide", Some(store), None).await;
    let gift = template("新人礼", yuan_off(5), 0);
    define(&app, CouponTemplateDraft { auto_issue: Some("new_member".into()), ..gift }).await;
    let claimable = CouponTemplateDraft {
        claimable: true,
        per_customer_limit: Some(1),
        budget_count: Some(2),
        ..template("满30减5", yuan_off(5), 3_000)
    };
    let claimable = define(&app, claimable).await;
    let by_staff = define(&app, template("导购专享9折", CouponKind::PercentOff { pay_bp: 9_000, cap: None }, 0)).await;

    let (first, second, third) = (
        member(&app, &cashier, "13800000001").await,
        member(&app, &cashier, "13800000002").await,
        member(&app, &cashier, "13800000003").await,
    );
    assert_eq!(wallet(&app, first).await, [("新人礼".to_owned(), "usable")], "the gift arrives with registration");
    // Registering again (same phone) identifies the member and gives no second gift.
    member(&app, &cashier, "13800000001").await;
    assert_eq!(wallet(&app, first).await.len(), 1);

    let claimed = issue(&app, &cashier, claimable, first, true, "c-1").await.unwrap();
    let retried = app.issue_coupon(&keyed(&cashier, "c-1"), claimable, first, true, &no_reply).await.unwrap();
    assert!(matches!(retried, Written::Replayed(_)), "a retried tap issues one coupon");
    assert_eq!(refusal(issue(&app, &cashier, claimable, first, true, "c-2").await), IssueRefusal::LimitReached);
    issue(&app, &cashier, claimable, second, true, "c-3").await.unwrap();
    assert_eq!(refusal(issue(&app, &cashier, claimable, third, true, "c-4").await), IssueRefusal::BudgetSpent);
    assert_eq!(refusal(issue(&app, &cashier, by_staff, third, true, "c-5").await), IssueRefusal::NotClaimable);
    let forbidden = issue(&app, &cashier, by_staff, third, false, "c-6").await.unwrap_err();
    assert!(matches!(forbidden, AppError::Forbidden), "cashiers do not hand out coupons: {forbidden:?}");
    issue(&app, &guide, by_staff, third, false, "c-7").await.unwrap();
    app.set_coupon_template_status(&Ctx::system(), by_staff, "paused").await.unwrap();
    assert_eq!(refusal(issue(&app, &guide, by_staff, third, false, "c-8").await), IssueRefusal::NotActive);

    let templates = app.coupon_templates(&cashier, Default::default(), None, None).await.unwrap().items;
    let counts: Vec<_> = templates.iter().map(|t| (t.name.as_str(), t.issued)).collect();
    assert_eq!(counts, [("新人礼", 3), ("满30减5", 2), ("导购专享9折", 1)]);
    // Fewest issued first, one a page: every template once, in that order.
    let fewest = quanyu_app::parse_sort(Some("issued")).unwrap();
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = app.coupon_templates(&cashier, fewest, cursor.as_deref(), Some(1)).await.unwrap();
        seen.extend(page.items.iter().map(|t| t.issued));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => break,
        }
    }
    assert_eq!(seen, [1, 2, 3]);

    let voided = app.void_coupon(&Ctx::system(), claimed, Some("发错了")).await.unwrap();
    assert_eq!(voided.coupon.state_at(Utc::now()), CouponState::Voided);
    assert!(matches!(
        app.void_coupon(&Ctx::system(), claimed, Some("again")).await,
        Err(AppError::CouponUnavailable { .. })
    ));
    assert_eq!(app.reconcile_coupons(&Ctx::system()).await.unwrap(), vec![], "statuses match the ledger");
}

fn milk(store: StoreId, sku: SkuId, customer: CustomerId, quantity: i64) -> OrderDraft {
    OrderDraft {
        store_id: Some(store),
        channel: "pos".into(),
        customer_id: Some(customer),
        lines: vec![LineDraft { sku_id: Some(sku), quantity }],
        ..OrderDraft::default()
    }
}

async fn balance(app: &App, customer: CustomerId) -> i64 {
    app.customer_points(&Ctx::system(), customer, None, None).await.unwrap().balance
}

async fn coupons_and_points_pay_and_come_back_exactly(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let system = Ctx::system();
    let coupon_template = define(&app, template("满30减5", yuan_off(5), 3_000)).await;
    let buyer = member(&app, &cashier, "13800138000").await;
    app.adjust_points(&keyed(&system, "gift"), buyer, 1_000, Some("开卡礼"), &no_reply).await.unwrap();
    let coupon = issue(&app, &system, coupon_template, buyer, false, "issue").await.unwrap();

    // Three milks at ¥12: ¥36, the coupon takes ¥5 and 1,000 points pay ¥10.
    let quote = QuoteDraft {
        store_id: Some(store),
        channel: "pos".into(),
        lines: vec![LineDraft { sku_id: Some(sku), quantity: 3 }],
        customer_id: Some(buyer),
        points: Some(1_000),
        coupon_ids: vec![coupon],
    };
    let quoted = app.quote(&cashier, quote).await.unwrap();
    let sources: Vec<_> = quoted.applied.iter().map(|rule| rule.source.clone()).collect();
    assert_eq!(sources, [format!("coupon:{coupon}"), "points".to_owned()]);
    assert_eq!((quoted.total_payable.fen(), quoted.points_used), (2_100, 1_000));

    let draft = OrderDraft { points: Some(1_000), coupon_ids: vec![coupon], ..milk(store, sku, buyer, 3) };
    let order = fresh(app.create_order(&keyed(&cashier, "o-1"), draft.clone(), &no_reply).await.unwrap()).order;
    assert_eq!(order.total.fen(), 2_100);
    assert_eq!(balance(&app, buyer).await, 0, "the points are spent when the order is placed");
    let again = app.create_order(&keyed(&cashier, "o-2"), draft, &no_reply).await.unwrap_err();
    assert!(matches!(again, AppError::CouponUnavailable { .. }), "a used coupon is gone: {again:?}");
    let payment = PaymentDraft { method: "cash".into(), amount: 2_100, reference: None, tendered: None };
    app.pay_order(&keyed(&cashier, "pay"), order.id, payment, &no_reply).await.unwrap();
    assert_eq!(balance(&app, buyer).await, 21, "a point per yuan paid in cash");

    // One milk back: a third of the cash, of the points spent and of the points earned.
    let refund = RefundDraft { lines: vec![(1, 1)], reason: None };
    let detail = fresh(app.refund_order(&keyed(&cashier, "r-1"), order.id, refund, &no_reply).await.unwrap());
    assert_eq!(detail.order.refunded.fen(), 700);
    assert_eq!(balance(&app, buyer).await, 21 - 7 + 333);
    assert_eq!(wallet(&app, buyer).await, [("满30减5".to_owned(), "used")], "a partial refund keeps the coupon used");
    // The rest: everything comes back, the coupon too (its template restores on refund).
    let refund = RefundDraft { lines: vec![(1, 2)], reason: None };
    let detail = fresh(app.refund_order(&keyed(&cashier, "r-2"), order.id, refund, &no_reply).await.unwrap());
    assert_eq!(detail.order.refunded.fen(), 2_100);
    assert_eq!(balance(&app, buyer).await, 1_000, "the points spent, and none of those earned");
    assert_eq!(wallet(&app, buyer).await, [("满30减5".to_owned(), "usable")]);

    // A cancelled order gives its coupon and points back at once.
    let draft = OrderDraft { points: Some(500), coupon_ids: vec![coupon], ..milk(store, sku, buyer, 3) };
    let order = fresh(app.create_order(&keyed(&cashier, "o-3"), draft, &no_reply).await.unwrap()).order;
    assert_eq!((order.total.fen(), balance(&app, buyer).await), (2_600, 500));
    app.cancel_order(&cashier, order.id).await.unwrap();
    assert_eq!(balance(&app, buyer).await, 1_000);
    assert_eq!(wallet(&app, buyer).await, [("满30减5".to_owned(), "usable")]);

    // A coupon the order would not use is refused with the reason, and nothing is taken.
    let draft = OrderDraft { coupon_ids: vec![coupon], ..milk(store, sku, buyer, 2) };
    let short = app.create_order(&keyed(&cashier, "o-4"), draft, &no_reply).await.unwrap_err();
    assert!(
        matches!(short, AppError::CouponNotApplicable { reason: RejectionReason::ThresholdNotMet, .. }),
        "¥24 is short of ¥30: {short:?}"
    );
    assert_eq!(app.reconcile_points(&system).await.unwrap(), vec![]);
    assert_eq!(app.reconcile_coupons(&system).await.unwrap(), vec![]);
}

async fn one_coupon_raced_by_checkouts_is_used_once(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let coupon_template = define(&app, template("无门槛减3", yuan_off(3), 0)).await;
    let buyer = member(&app, &cashier, "13800138000").await;
    let coupon = issue(&app, &Ctx::system(), coupon_template, buyer, false, "issue").await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|n| {
            let (app, ctx) = (app.clone(), keyed(&cashier, &format!("o-{n}")));
            let draft = OrderDraft { coupon_ids: vec![coupon], ..milk(store, sku, buyer, 1) };
            tokio::spawn(async move { app.create_order(&ctx, draft, &no_reply).await })
        })
        .collect();
    let mut placed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => placed += 1,
            Err(AppError::CouponUnavailable { .. }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(placed, 1, "one checkout uses the coupon");
    assert_eq!(app.reconcile_coupons(&Ctx::system()).await.unwrap(), vec![]);
}

async fn one_points_balance_raced_by_redemptions_is_spent_once(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let buyer = member(&app, &cashier, "13800138000").await;
    app.adjust_points(&keyed(&Ctx::system(), "gift"), buyer, 500, Some("开卡礼"), &no_reply).await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|n| {
            let (app, ctx) = (app.clone(), keyed(&cashier, &format!("o-{n}")));
            let draft = OrderDraft { points: Some(500), ..milk(store, sku, buyer, 1) };
            tokio::spawn(async move { app.create_order(&ctx, draft, &no_reply).await })
        })
        .collect();
    let mut placed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => placed += 1,
            Err(AppError::InsufficientPoints { .. }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(placed, 1, "the balance pays once");
    assert_eq!(balance(&app, buyer).await, 0);
    assert_eq!(app.reconcile_points(&Ctx::system()).await.unwrap(), vec![]);
}

async fn promotions_price_while_they_run(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let system = Ctx::system();
    let now = Utc::now();
    let ladder = |threshold: i64, amount: i64| PromotionKind::AmountOffLadder {
        tiers: vec![AmountOffTier { threshold: Money::from_fen(threshold), amount: Money::from_fen(amount) }],
        per_each: false,
    };
    let promotion = |name: &str, kind, audience: &str, stores| PromotionDraft {
        name: name.into(),
        kind,
        priority: 0,
        exclusive: false,
        starts_at: now - Duration::hours(1),
        ends_at: now + Duration::days(1),
        audience: audience.into(),
        scope: Scope::All,
        channels: Vec::new(),
        store_ids: stores,
    };
    let weekend = promotion("周末满减", ladder(3_000, 600), "everyone", vec![store]);
    let weekend = fresh(app.create_promotion(&system, weekend, &no_reply).await.unwrap()).id;
    let first = promotion(
        "新人首单立减",
        PromotionKind::PercentOffLadder {
            tiers: vec![quanyu_domain::pricing::PercentOffTier { threshold: Money::ZERO, pay_bp: 9_000 }],
        },
        "first_order",
        Vec::new(),
    );
    fresh(app.create_promotion(&system, first, &no_reply).await.unwrap());
    let past = PromotionDraft {
        ends_at: now - Duration::minutes(1),
        ..promotion("已结束", ladder(0, 100), "everyone", vec![])
    };
    fresh(app.create_promotion(&system, past, &no_reply).await.unwrap());
    let later = PromotionDraft {
        starts_at: now + Duration::hours(1),
        ..promotion("未开始", ladder(0, 100), "everyone", vec![])
    };
    fresh(app.create_promotion(&system, later, &no_reply).await.unwrap());
    let gift = define(
        &app,
        CouponTemplateDraft {
            auto_issue: Some("first_order_paid".into()), ..template("复购券", yuan_off(5), 5_000)
        },
    )
    .await;

    let buyer = member(&app, &cashier, "13800138000").await;
    let quote = |customer| QuoteDraft {
        store_id: Some(store),
        channel: "pos".into(),
        lines: vec![LineDraft { sku_id: Some(sku), quantity: 3 }],
        customer_id: customer,
        ..QuoteDraft::default()
    };
    let names = |breakdown: &quanyu_domain::pricing::PriceBreakdown| -> Vec<String> {
        breakdown.applied.iter().map(|rule| rule.name.clone()).collect()
    };
    let anonymous = app.quote(&cashier, quote(None)).await.unwrap();
    assert_eq!(names(&anonymous), ["周末满减"]);
    assert_eq!(anonymous.total_payable.fen(), 3_000);
    let newcomer = app.quote(&cashier, quote(Some(buyer))).await.unwrap();
    assert_eq!(names(&newcomer), ["周末满减", "新人首单立减"], "a first order takes both ladders");
    // ¥36 − ¥6 = ¥30, then 9折 on ¥30.
    assert_eq!(newcomer.total_payable.fen(), 2_700);

    let order =
        fresh(app.create_order(&keyed(&cashier, "o-1"), milk(store, sku, buyer, 3), &no_reply).await.unwrap()).order;
    assert_eq!(order.total.fen(), 2_700, "the order stores what the quote showed");
    assert!(app.customer_coupons(&system, buyer, None, None).await.unwrap().items.is_empty());
    let payment = PaymentDraft { method: "cash".into(), amount: 2_700, reference: None, tendered: None };
    app.pay_order(&keyed(&cashier, "pay-1"), order.id, payment, &no_reply).await.unwrap();
    assert_eq!(wallet(&app, buyer).await, [("复购券".to_owned(), "usable")], "the voucher after the first order");
    assert_eq!(app.coupon_template(&system, gift).await.unwrap().issued, 1);

    let regular = app.quote(&cashier, quote(Some(buyer))).await.unwrap();
    assert_eq!(names(&regular), ["周末满减"], "no longer a first order");
    app.end_promotion(&system, weekend).await.unwrap();
    let ended = app.quote(&cashier, quote(Some(buyer))).await.unwrap();
    assert!(ended.applied.is_empty(), "{:?}", names(&ended));
    assert_eq!(ended.total_payable.fen(), 3_600);
}

async fn birthday_gifts_arrive_once_a_year(db: Arc<dyn Database>) {
    let (app, cashier, _, _) = shop(db).await;
    let now = Utc::now();
    assert_eq!(app.birthday_gifts(now).await.unwrap(), 0, "no birthday template, nothing to look at");
    let tier = quanyu_app::TierDraft {
        code: "member".into(),
        name: "会员".into(),
        birthday_points: Some(88),
        ..Default::default()
    };
    app.create_tier(&Ctx::system(), tier, &no_reply).await.unwrap();
    let gift = CouponTemplateDraft { auto_issue: Some("birthday".into()), ..template("生日礼", yuan_off(20), 0) };
    define(&app, gift).await;
    let today = now.with_timezone(&quanyu_domain::time::TimeZone::SHANGHAI.tz()).date_naive();
    let (celebrant, other) = (member(&app, &cashier, "13800000001").await, member(&app, &cashier, "13800000002").await);
    let birthday = |month, day| quanyu_domain::customer::Birthday::new(month, day, Some(1990)).unwrap();
    use chrono::Datelike as _;
    app.set_birthday(&cashier, celebrant, Some(birthday(today.month(), today.day()))).await.unwrap();
    let tomorrow = today.succ_opt().unwrap();
    app.set_birthday(&cashier, other, Some(birthday(tomorrow.month(), tomorrow.day()))).await.unwrap();
    assert_eq!(app.birthday(&cashier, celebrant).await.unwrap().map(|b| b.day()), Some(today.day()));

    assert_eq!(app.birthday_gifts(now).await.unwrap(), 1);
    assert_eq!(app.birthday_gifts(now).await.unwrap(), 1, "looked at again");
    assert_eq!(wallet(&app, celebrant).await.len(), 1, "but given once");
    assert_eq!(balance(&app, celebrant).await, 88);
    assert!(wallet(&app, other).await.is_empty());
    app.birthday_gifts(now + Duration::days(365)).await.unwrap();
    assert_eq!(wallet(&app, celebrant).await.len(), 2, "again next year");
    assert_eq!(balance(&app, celebrant).await, 176, "the tier's birthday points, once a year");
}
