//! Customers on each backend: identifiers resolve to one profile (also when first visits race),
//! merges are for trusted staff only and keep the absorbed id resolving, guides are bound within
//! their store and handed over in one step, and store staff see their stores' customers but find
//! any member by an identifier.

use std::sync::Arc;

use quanyu_app::{App, AppConfig, AppError, Ctx, CustomerDraft, CustomerProfile, PasswordHasher, RegionDraft};
use quanyu_domain::ids::{StaffId, StoreId};
use quanyu_store::{AuditFilter, CustomerFilter, Database, PlaceFilter, UniqueKey};

mod support;

use support::{fresh, keyed, no_reply, staff, store};

quanyu_store::backend_tests!(
    identifiers_resolve_to_one_customer,
    racing_first_visits_make_one_customer,
    merges_are_trusted_and_the_absorbed_id_resolves,
    a_merge_is_undone_exactly_and_can_be_made_again,
    an_undo_is_refused_when_the_survivor_spent_what_came_with_the_merge,
    guides_are_bound_in_their_store_and_handed_over,
    store_staff_see_their_customers_and_find_any_member,
);

struct Chain {
    app: App,
    a: StoreId,
    manager_a: Ctx,
    cashier_a: Ctx,
    cashier_b: Ctx,
    guides: Vec<StaffId>,
    guide_b: StaffId,
}

async fn setup(db: Arc<dyn Database>) -> Chain {
    let app = App::new(db, AppConfig { passwords: PasswordHasher::fast_for_tests(), ..AppConfig::default() });
    let region = RegionDraft { code: "N".into(), name: "北区".into() };
    let region = fresh(app.create_region(&Ctx::system(), region, &no_reply).await.unwrap()).id;
    let (a, b) = (store(&app, "A", region, "store").await, store(&app, "B", region, "store").await);
    let (_, manager_a) = staff(&app, "sm-a", "store_manager", Some(a), None).await;
    let (_, cashier_a) = staff(&app, "cashier-a", "cashier", Some(a), None).await;
    let (_, cashier_b) = staff(&app, "cashier-b", "cashier", Some(b), None).await;
    let (g1, _) = staff(&app, "guide-1", "guide", Some(a), None).await;
    let (g2, _) = staff(&app, "guide-2", "guide", Some(a), None).await;
    let (guide_b, _) = staff(&app, "guide-b", "guide", Some(b), None).await;
    Chain { app, a, manager_a, cashier_a, cashier_b, guides: vec![g1, g2], guide_b }
}

fn ids(pairs: &[(&str, &str)]) -> CustomerDraft {
    CustomerDraft {
        identities: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..CustomerDraft::default()
    }
}

async fn register(chain: &Chain, ctx: &Ctx, pairs: &[(&str, &str)]) -> Result<CustomerProfile, AppError> {
    chain.app.register_customer(ctx, ids(pairs), &no_reply).await.map(fresh)
}

async fn identifiers_resolve_to_one_customer(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let till = &chain.cashier_a;
    let first = register(&chain, till, &[("phone", "138 0013 8000")]).await.unwrap();
    assert!(!first.matched_existing);
    assert_eq!(first.customer.ordinal, 1);
    assert_eq!(first.customer.home_store_id, Some(chain.a), "a store's cashier registers into the store");
    let again = register(&chain, till, &[("phone", "+8613800138000"), ("wechat_openid", "oAbC123456")]).await.unwrap();
    assert!(again.matched_existing);
    assert_eq!(again.customer.id, first.customer.id);
    assert_eq!(again.identities.len(), 2, "the openid was added to the same profile");
    let by_card = register(&chain, till, &[("wechat_openid", "oAbC123456"), ("member_card", "vip0001")]).await.unwrap();
    assert_eq!(by_card.customer.id, first.customer.id);
    let found = chain.app.find_customer(till, "member_card", "VIP0001").await.unwrap();
    assert_eq!(found.customer.id, first.customer.id);

    let other = register(&chain, till, &[("phone", "13900139000")]).await.unwrap();
    assert_eq!(other.customer.ordinal, 2, "ordinals are dense");
    let both = register(&chain, till, &[("phone", "13800138000"), ("phone", "13900139000")]).await.unwrap_err();
    assert!(matches!(both, AppError::IdentitiesConflict), "{both:?}");
    let taken = chain.app.add_customer_identity(till, other.customer.id, "member_card", "VIP0001").await.unwrap_err();
    assert!(matches!(taken, AppError::Duplicate(UniqueKey::CustomerIdentity)), "{taken:?}");
    assert!(matches!(register(&chain, till, &[("email", "a@b.cn")]).await, Err(AppError::Invalid(_))));
}

async fn racing_first_visits_make_one_customer(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let (app, ctx) = (chain.app.clone(), keyed(&chain.cashier_a, &format!("visit-{n}")));
            tokio::spawn(async move { app.register_customer(&ctx, ids(&[("phone", "13700137000")]), &no_reply).await })
        })
        .collect();
    let mut customers = Vec::new();
    for task in tasks {
        customers.push(fresh(task.await.unwrap().unwrap()).customer.id);
    }
    customers.sort();
    customers.dedup();
    assert_eq!(customers.len(), 1, "one person, one profile");
    let next = register(&chain, &chain.cashier_a, &[("phone", "13600136000")]).await.unwrap();
    assert_eq!(next.customer.ordinal, 2, "the losers' ordinals were never taken");
}

async fn merges_are_trusted_and_the_absorbed_id_resolves(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let app = &chain.app;
    let kept = register(&chain, &chain.cashier_a, &[("phone", "13800138000")]).await.unwrap().customer;
    let dup = register(&chain, &chain.cashier_a, &[("wechat_unionid", "uNiOn-0001"), ("member_card", "C123456")])
        .await
        .unwrap()
        .customer;
    let refused = app.merge_customers(&chain.cashier_a, kept.id, dup.id, None).await.unwrap_err();
    assert!(matches!(refused, AppError::Forbidden), "cashiers do not merge: {refused:?}");
    let merged = app.merge_customers(&chain.manager_a, kept.id, dup.id, Some("同一手机号的微信会员")).await.unwrap();
    assert_eq!(merged.identities.len(), 3, "every identifier moved over");
    let resolved = app.customer(&chain.manager_a, dup.id).await.unwrap();
    assert_eq!(resolved.customer.id, kept.id, "the absorbed id keeps resolving");
    assert_eq!(app.find_customer(&chain.cashier_a, "member_card", "C123456").await.unwrap().customer.id, kept.id);
    let twice = app.merge_customers(&chain.manager_a, kept.id, dup.id, None).await.unwrap_err();
    assert!(matches!(twice, AppError::CustomerMerge(_)), "{twice:?}");
    let listed = app.list_customers(&chain.manager_a, CustomerFilter::default(), None, None).await.unwrap();
    assert_eq!(listed.items.iter().map(|c| c.id).collect::<Vec<_>>(), vec![kept.id], "merged-away profiles are gone");
    let audit = AuditFilter { entity_type: Some("customer".into()), ..AuditFilter::default() };
    let entries = app.list_audit(&Ctx::system(), audit, None, None).await.unwrap();
    assert!(entries.items.iter().any(|e| e.action == "customer.merged"), "the merge is audited");
}

async fn guides_are_bound_in_their_store_and_handed_over(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let (app, manager) = (&chain.app, &chain.manager_a);
    let (g1, g2) = (chain.guides[0], chain.guides[1]);
    let mut customers = Vec::new();
    for phone in ["13800000001", "13800000002", "13800000003"] {
        let customer = register(&chain, &chain.cashier_a, &[("phone", phone)]).await.unwrap().customer;
        app.assign_guide(manager, customer.id, Some(g1)).await.unwrap();
        customers.push(customer.id);
    }
    let elsewhere = app.assign_guide(manager, customers[0], Some(chain.guide_b)).await.unwrap_err();
    assert!(matches!(elsewhere, AppError::NotAGuide), "a guide of another store: {elsewhere:?}");
    let by_cashier = app.hand_over_customers(&chain.cashier_a, g1, g2).await.unwrap_err();
    assert!(matches!(by_cashier, AppError::Forbidden));
    assert_eq!(app.hand_over_customers(manager, g1, g2).await.unwrap(), 3);
    let filter = |guide| CustomerFilter { guide_id: Some(guide), ..CustomerFilter::default() };
    assert_eq!(app.list_customers(manager, filter(g2), None, None).await.unwrap().items.len(), 3);
    assert!(app.list_customers(manager, filter(g1), None, None).await.unwrap().items.is_empty(), "nobody left behind");
}

async fn store_staff_see_their_customers_and_find_any_member(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let app = &chain.app;
    let member = register(&chain, &chain.cashier_a, &[("phone", "13800138000")]).await.unwrap().customer;
    let by_id = app.customer(&chain.cashier_b, member.id).await.unwrap_err();
    assert!(matches!(by_id, AppError::OutOfScope), "{by_id:?}");
    let at_the_till = app.find_customer(&chain.cashier_b, "phone", "13800138000").await.unwrap();
    assert_eq!(at_the_till.customer.id, member.id, "a member is found at any store's till");
    let place = PlaceFilter { store_id: Some(chain.a), region_id: None };
    let listing =
        app.list_customers(&chain.cashier_b, CustomerFilter { place, ..Default::default() }, None, None).await;
    assert!(matches!(listing, Err(AppError::OutOfScope)));
    let own = app.list_customers(&chain.cashier_b, CustomerFilter::default(), None, None).await.unwrap();
    assert!(own.items.is_empty(), "B's list holds B's customers only");
}

async fn a_merge_is_undone_exactly_and_can_be_made_again(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let (app, manager) = (&chain.app, &chain.manager_a);
    let hq = Ctx::system();
    let kept = register(&chain, &chain.cashier_a, &[("phone", "13800138000")]).await.unwrap().customer;
    let dup = register(&chain, &chain.cashier_a, &[("wechat_unionid", "uNiOn-0002"), ("member_card", "C654321")])
        .await
        .unwrap()
        .customer;
    app.create_tag(&hq, "老顾客", "manual", None).await.unwrap();
    app.create_tag(&hq, "母婴", "manual", None).await.unwrap();
    app.set_customer_tag(manager, kept.id, "老顾客", true).await.unwrap();
    app.set_customer_tag(manager, dup.id, "老顾客", true).await.unwrap();
    app.set_customer_tag(manager, dup.id, "母婴", true).await.unwrap();
    app.adjust_points(&keyed(manager, "p-kept"), kept.id, 100, Some("开卡"), &no_reply).await.unwrap();
    app.adjust_points(&keyed(manager, "p-dup"), dup.id, 300, Some("开卡"), &no_reply).await.unwrap();
    let birthday = quanyu_domain::customer::Birthday::new(5, 20, None).unwrap();
    app.set_birthday(manager, dup.id, Some(birthday)).await.unwrap();

    app.merge_customers(manager, kept.id, dup.id, Some("同一人")).await.unwrap();
    let points = |id| async move { app.customer_points(manager, id, None, None).await.unwrap().balance };
    assert_eq!(points(kept.id).await, 400);
    // The survivor earns more after the merge: that stays with it.
    app.adjust_points(&keyed(manager, "p-after"), kept.id, 50, Some("消费"), &no_reply).await.unwrap();

    let refused = app.unmerge_customer(&chain.cashier_a, dup.id, None).await.unwrap_err();
    assert!(matches!(refused, AppError::Forbidden), "{refused:?}");
    let not_merged = app.unmerge_customer(manager, kept.id, None).await.unwrap_err();
    assert!(matches!(not_merged, AppError::CustomerMerge(_)), "{not_merged:?}");
    let (survivor, restored) = app.unmerge_customer(manager, dup.id, Some("合并错了")).await.unwrap();
    assert_eq!(survivor.customer.id, kept.id);
    assert_eq!(restored.customer.id, dup.id);
    assert_eq!(survivor.identities.len(), 1, "the phone stays");
    assert_eq!(restored.identities.len(), 2, "the WeChat id and the card go back");
    assert_eq!(app.find_customer(&chain.cashier_a, "member_card", "C654321").await.unwrap().customer.id, dup.id);
    assert_eq!(app.customer(manager, dup.id).await.unwrap().customer.id, dup.id, "the id resolves to itself again");
    assert_eq!((points(kept.id).await, points(dup.id).await), (150, 300));
    let names = |tags: Vec<quanyu_store::Tag>| {
        let mut names: Vec<String> = tags.into_iter().map(|t| t.name).collect();
        names.sort();
        names
    };
    assert_eq!(names(app.customer_tags(manager, kept.id).await.unwrap()), vec!["老顾客"]);
    assert_eq!(names(app.customer_tags(manager, dup.id).await.unwrap()), vec!["母婴", "老顾客"]);
    assert_eq!(app.birthday(manager, kept.id).await.unwrap(), None, "the birthday the merge lent goes back");
    assert_eq!(app.birthday(manager, dup.id).await.unwrap(), Some(birthday));
    let again = app.unmerge_customer(manager, dup.id, None).await.unwrap_err();
    assert!(matches!(again, AppError::CustomerMerge(_)), "undone once: {again:?}");
    let audit = AuditFilter { entity_type: Some("customer".into()), ..AuditFilter::default() };
    let entries = app.list_audit(&hq, audit, None, None).await.unwrap();
    assert!(entries.items.iter().any(|e| e.action == "customer.unmerged"), "the undo is audited");

    // Found to be one person after all: merged again, and undone again.
    let merged = app.merge_customers(manager, kept.id, dup.id, None).await.unwrap();
    assert_eq!(merged.identities.len(), 3);
    assert_eq!(points(kept.id).await, 450);
    app.unmerge_customer(manager, dup.id, None).await.unwrap();
    assert_eq!((points(kept.id).await, points(dup.id).await), (150, 300));
}

async fn an_undo_is_refused_when_the_survivor_spent_what_came_with_the_merge(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let (app, manager) = (&chain.app, &chain.manager_a);
    let kept = register(&chain, &chain.cashier_a, &[("phone", "13700137000")]).await.unwrap().customer;
    let dup = register(&chain, &chain.cashier_a, &[("member_card", "C777777")]).await.unwrap().customer;
    app.adjust_points(&keyed(manager, "p-dup"), dup.id, 300, Some("开卡"), &no_reply).await.unwrap();
    app.merge_customers(manager, kept.id, dup.id, None).await.unwrap();
    app.adjust_points(&keyed(manager, "p-spend"), kept.id, -250, Some("兑换"), &no_reply).await.unwrap();
    let refused = app.unmerge_customer(manager, dup.id, None).await.unwrap_err();
    assert!(
        matches!(
            refused,
            AppError::CustomerMerge(quanyu_domain::customer::MergeError::UndoOverdraws { ledger: "points" })
        ),
        "{refused:?}"
    );
    // Nothing moved: the merge still stands.
    assert_eq!(app.customer(manager, dup.id).await.unwrap().customer.id, kept.id);
    assert_eq!(app.customer_points(manager, kept.id, None, None).await.unwrap().balance, 50);
}
