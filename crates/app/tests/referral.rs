//! Referral and distribution on each backend: referrals reward both sides once and refuse
//! self-invites and repeated devices; invite tasks pay out once; commission accrues at payment
//! for two levels, stays frozen through the return window, is released by the sweeper and
//! reversed per refunded unit (from available once released); payouts move money between
//! buckets; a guide's share link credits the online sale; the books add up.

use std::sync::Arc;

use chrono::{Duration, Utc};
use quanyu_app::{
    App, AppError, CommissionRulesDraft, CouponTemplateDraft, Ctx, CustomerDraft, InviteTaskDraft, LineDraft,
    OrderDraft, PaymentDraft, RefundDraft,
};
use quanyu_domain::{
    Money,
    ids::CustomerId,
    pricing::CouponKind,
    referral::{Buckets, PromoterOwner, ReferralProgram},
};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, paid_order, shop, staff};

quanyu_store::backend_tests!(
    referrals_reward_both_sides_once_and_refuse_abuse,
    commission_freezes_releases_and_reverses_per_unit,
    a_guides_share_link_credits_the_online_sale,
);

async fn register(app: &App, ctx: &Ctx, phone: &str, code: Option<&str>, device: Option<&str>) -> CustomerId {
    let draft = CustomerDraft {
        identities: vec![("phone".into(), phone.into())],
        invite_code: code.map(str::to_owned),
        device_id: device.map(str::to_owned),
        ..Default::default()
    };
    fresh(app.register_customer(ctx, draft, &no_reply).await.unwrap()).customer.id
}

async fn points(app: &App, customer: CustomerId) -> i64 {
    app.customer_points(&Ctx::system(), customer, None, None).await.unwrap().balance
}

async fn coupons(app: &App, customer: CustomerId) -> usize {
    app.customer_coupons(&Ctx::system(), customer, None, None).await.unwrap().items.len()
}

async fn referrals_reward_both_sides_once_and_refuse_abuse(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let system = Ctx::system();
    let thanks = CouponTemplateDraft::new("邀请有礼", CouponKind::AmountOff { amount: Money::from_fen(1_000) }, 0);
    let thanks = fresh(app.create_coupon_template(&system, thanks, &no_reply).await.unwrap()).id;
    let program = ReferralProgram {
        inviter_points: 200,
        inviter_template_id: Some(thanks),
        invitee_points: 100,
        invitee_template_id: None,
    };
    app.set_referral_program(&system, program).await.unwrap();
    let task = InviteTaskDraft {
        name: "邀请2位好友得500积分".into(),
        invites_needed: 2,
        starts_at: Utc::now() - Duration::hours(1),
        ends_at: Utc::now() + Duration::days(7),
        reward_points: 500,
        reward_template_id: None,
    };
    fresh(app.create_invite_task(&system, task, &no_reply).await.unwrap());

    let inviter = register(&app, &cashier, "13800000001", None, None).await;
    let profile = app.invite_profile(&cashier, PromoterOwner::Customer(inviter)).await.unwrap();
    assert_eq!(app.invite_profile(&cashier, PromoterOwner::Customer(inviter)).await.unwrap().code, profile.code);
    assert!(profile.link().ends_with(&profile.code));
    let code = profile.code.to_lowercase();

    let friend = register(&app, &cashier, "13800000002", Some(&code), Some("phone-1")).await;
    assert_eq!(points(&app, friend).await, 100, "the invitee's welcome");
    let same_phone = register(&app, &cashier, "13800000003", Some(&code), Some("phone-1")).await;
    assert_eq!(points(&app, same_phone).await, 0, "a device collects once");
    register(&app, &cashier, "13800000001", Some(&code), None).await;
    assert_eq!(points(&app, inviter).await, 0, "inviting oneself earns nothing");
    let unknown = app
        .register_customer(
            &cashier,
            CustomerDraft {
                identities: vec![("phone".into(), "13800000009".into())],
                invite_code: Some("ZZZZZZZZ".into()),
                ..Default::default()
            },
            &no_reply,
        )
        .await
        .unwrap_err();
    assert!(matches!(unknown, AppError::UnknownReference { field: "invite_code", .. }), "{unknown:?}");
    let referrals = app.referrals(&system, profile.id, None, None).await.unwrap().items;
    let refusals: Vec<_> = referrals.iter().map(|r| r.refusal.map(|x| x.as_str())).collect();
    assert_eq!(refusals, [Some("same_device"), None], "newest first; the inviter's own visit is no referral");

    paid_order(&app, &cashier, store, sku, friend, 1, "o-1").await;
    assert_eq!((points(&app, inviter).await, coupons(&app, inviter).await), (200, 1), "rewarded at the first order");
    paid_order(&app, &cashier, store, sku, friend, 1, "o-2").await;
    assert_eq!((points(&app, inviter).await, coupons(&app, inviter).await), (200, 1), "once");

    register(&app, &cashier, "13800000004", Some(&code), Some("phone-2")).await;
    assert_eq!(points(&app, inviter).await, 700, "two friends complete the task");
    register(&app, &cashier, "13800000005", Some(&code), Some("phone-3")).await;
    assert_eq!(points(&app, inviter).await, 700, "a task pays once");
    assert_eq!(app.reconcile_points(&system).await.unwrap(), vec![]);
}

async fn commission_freezes_releases_and_reverses_per_unit(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let system = Ctx::system();
    let rules =
        CommissionRulesDraft { level1_bp: 1_000, level2_bp: 500, return_window_days: Some(7), sku_rates: vec![] };
    app.set_commission_rules(&system, rules).await.unwrap();
    let (leader_id, leader) = staff(&app, "agent-lead", "guide", Some(store), None).await;
    let leader_profile = app.make_distributor(&system, PromoterOwner::Staff(leader_id), None).await.unwrap();
    let agent = register(&app, &cashier, "13800000001", None, None).await;
    let agent_profile =
        app.make_distributor(&system, PromoterOwner::Customer(agent), Some(&leader_profile.code)).await.unwrap();
    assert_eq!(agent_profile.parent_id, Some(leader_profile.id));
    let looping = app.make_distributor(&system, PromoterOwner::Staff(leader_id), Some(&agent_profile.code)).await;
    assert!(matches!(looping, Err(AppError::Invalid(_))), "a recruit cannot become one's parent");

    let buyer = register(&app, &cashier, "13800000002", Some(&agent_profile.code), None).await;
    let order = paid_order(&app, &cashier, store, sku, buyer, 3, "o-1").await;
    let balance = |id| {
        let app = app.clone();
        async move { app.commission_statement(&Ctx::system(), id, None, None).await.unwrap().balance }
    };
    let fen = Money::from_fen;
    // ¥36 paid: 10% to the agent, 5% to who recruited them, both frozen.
    assert_eq!(balance(agent_profile.id).await, Buckets { frozen: fen(360), ..Buckets::default() });
    assert_eq!(balance(leader_profile.id).await, Buckets { frozen: fen(180), ..Buckets::default() });

    let refund = RefundDraft { lines: vec![(1, 1)], reason: None };
    app.refund_order(&keyed(&cashier, "r-1"), order.id, refund, &no_reply).await.unwrap();
    assert_eq!(balance(agent_profile.id).await.frozen, fen(240), "a third reversed while frozen");
    assert_eq!(app.release_commissions(Utc::now()).await.unwrap(), 0, "the return window is still open");
    assert_eq!(app.release_commissions(Utc::now() + Duration::days(8)).await.unwrap(), 2);
    assert_eq!(app.release_commissions(Utc::now() + Duration::days(8)).await.unwrap(), 0, "released once");
    assert_eq!(balance(agent_profile.id).await, Buckets { available: fen(240), ..Buckets::default() });

    let refund = RefundDraft { lines: vec![(1, 1)], reason: None };
    app.refund_order(&keyed(&cashier, "r-2"), order.id, refund, &no_reply).await.unwrap();
    assert_eq!(balance(agent_profile.id).await.available, fen(120), "after release, from what is available");
    assert_eq!(balance(leader_profile.id).await.available, fen(60));

    let too_much = app.request_payout(&keyed(&system, "p-0"), agent_profile.id, 500, &no_reply).await;
    assert!(matches!(too_much, Err(AppError::Payout(_))), "{too_much:?}");
    let rejected = fresh(app.request_payout(&keyed(&system, "p-1"), agent_profile.id, 120, &no_reply).await.unwrap());
    assert_eq!(balance(agent_profile.id).await, Buckets { pending: fen(120), ..Buckets::default() });
    app.settle_payout(&system, rejected.id, false, Some("账户信息有误")).await.unwrap();
    assert_eq!(balance(agent_profile.id).await, Buckets { available: fen(120), ..Buckets::default() });
    let payout = fresh(app.request_payout(&keyed(&system, "p-2"), agent_profile.id, 100, &no_reply).await.unwrap());
    app.settle_payout(&system, payout.id, true, Some("WX-T-001")).await.unwrap();
    assert!(matches!(app.settle_payout(&system, payout.id, false, None).await, Err(AppError::StatusChanged)));
    // HQ's list of requests names who asked, newest first, by status.
    let all = app.payouts(&system, None, None, None).await.unwrap().items;
    let listed: Vec<_> = all.iter().map(|(p, who)| (p.id, p.status.as_str(), who.id)).collect();
    assert_eq!(listed, [(payout.id, "paid", agent_profile.id), (rejected.id, "rejected", agent_profile.id)]);
    let rejected_only = app.payouts(&system, Some("rejected"), None, None).await.unwrap().items;
    assert_eq!(rejected_only.len(), 1);
    // Promoters by what they were paid, most first, one a page: the cursor carries the amount.
    let by_paid = quanyu_app::parse_sort::<quanyu_store::PromoterSort>(Some("-paid_out")).unwrap();
    let first = app.promoters(&system, false, by_paid, None, Some(1)).await.unwrap();
    assert_eq!((first.items[0].0.id, first.items[0].1.paid_out), (agent_profile.id, fen(100)));
    let cursor = first.next_cursor.expect("more promoters").0;
    let second = app.promoters(&system, false, by_paid, Some(&cursor), Some(1)).await.unwrap();
    assert!(second.items[0].1.paid_out < fen(100), "{:?}", second.items);
    assert_eq!(
        balance(agent_profile.id).await,
        Buckets { available: fen(20), paid_out: fen(100), ..Buckets::default() }
    );
    // The leader asks from the till for their own money, below the ¥1 minimum.
    let small = app.request_payout(&keyed(&leader, "p-3"), leader_profile.id, 60, &no_reply).await;
    assert!(matches!(small, Err(AppError::Payout(_))), "{small:?}");
    let others = app.request_payout(&keyed(&leader, "p-4"), agent_profile.id, 100, &no_reply).await;
    assert!(matches!(others, Err(AppError::Forbidden)), "not someone else's: {others:?}");
    let statement = app.commission_statement(&system, agent_profile.id, None, None).await.unwrap();
    let kinds: Vec<_> = statement.entries.items.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["pay_out", "request_payout", "reject_payout", "request_payout", "reverse", "release", "reverse", "accrue"]
    );
    assert_eq!(app.reconcile_commissions(&system).await.unwrap(), vec![], "balances = sums of the ledger");
}

async fn a_guides_share_link_credits_the_online_sale(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db).await;
    let (guide_id, guide) = staff(&app, "guide", "guide", Some(store), None).await;
    let link = app.invite_profile(&guide, PromoterOwner::Staff(guide_id)).await.unwrap();
    let buyer = register(&app, &cashier, "13800000002", None, None).await;
    let draft = OrderDraft {
        store_id: Some(store),
        channel: "pickup".into(),
        customer_id: Some(buyer),
        promoter_code: Some(link.code.clone()),
        lines: vec![LineDraft { sku_id: Some(sku), quantity: 2 }],
        ..OrderDraft::default()
    };
    let order = fresh(app.create_order(&keyed(&cashier, "o-1"), draft, &no_reply).await.unwrap()).order;
    let payment = PaymentDraft { method: "cash".into(), amount: order.total.fen(), reference: None, tendered: None };
    app.pay_order(&keyed(&cashier, "pay"), order.id, payment, &no_reply).await.unwrap();
    let since = Utc::now() - Duration::days(1);
    let kpis = app.guide_performance(&guide, guide_id, since).await.unwrap();
    assert_eq!((kpis.attributed_sales.fen(), kpis.attributed_orders), (2_400, 1));
    app.cancel_order(&cashier, order.id).await.unwrap();
    let kpis = app.guide_performance(&guide, guide_id, since).await.unwrap();
    assert_eq!(kpis.attributed_sales, Money::ZERO, "a cancelled sale is taken back");
    let others = app.guide_performance(&cashier, guide_id, since).await;
    assert!(matches!(others, Err(AppError::Forbidden)), "a cashier does not read a guide's figures");
}
