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
