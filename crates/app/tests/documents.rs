//! Stock documents on each backend: purchase orders received in parts, requisitions and
//! transfers through transit with their differences, stocktakes and loss reports posted on
//! approval, who may take which step, reorder suggestions, and racing receipts applied once.

use std::sync::Arc;

use quanyu_app::{
    App, AppConfig, AppError, CategoryDraft, Ctx, DocumentDetail, DocumentDraft, DocumentLineDraft, DocumentStepDraft,
    PasswordHasher, PriceDraft, ProductDraft, RegionDraft, SkuDraft, Written,
};
use quanyu_domain::{
    documents::DocumentError,
    ids::{DocumentId, SkuId, StoreId},
    inventory::StockLevels,
};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, staff, store};

quanyu_store::backend_tests!(
    purchase_orders_are_received_in_parts,
    requisitions_pass_through_transit_and_record_differences,
    stocktakes_and_losses_post_on_approval,
    racing_receipts_of_one_order_apply_once,
);

/// Region N with stores A and B and warehouse W; region S with store C. Milk (units) and
/// apples (by weight). Staff: `sm-a` (manager of A), `wm` (manager of W), `rm` (region N),
/// `sm-c` (manager of C).
struct Chain {
    app: App,
    db: Arc<dyn Database>,
    a: StoreId,
    b: StoreId,
    w: StoreId,
    c: StoreId,
    milk: SkuId,
    apple: SkuId,
    sm_a: Ctx,
    wm: Ctx,
    rm: Ctx,
    sm_c: Ctx,
}

async fn setup(db: Arc<dyn Database>) -> Chain {
    let app = App::new(db.clone(), AppConfig { passwords: PasswordHasher::fast_for_tests(), ..AppConfig::default() });
    let system = Ctx::system();
    let region = |code: &str| RegionDraft { code: code.into(), name: format!("{code} 区") };
    let north = fresh(app.create_region(&system, region("N"), &no_reply).await.unwrap()).id;
    let south = fresh(app.create_region(&system, region("S"), &no_reply).await.unwrap()).id;
    let (a, b) = (store(&app, "A", north, "store").await, store(&app, "B", north, "store").await);
    let w = store(&app, "W", north, "warehouse").await;
    let c = store(&app, "C", south, "store").await;
    let category = fresh(
        app.create_category(&system, CategoryDraft { name: "生鲜".into(), ..Default::default() }, &no_reply)
            .await
            .unwrap(),
    );
    let sku = |code: &str, weighed: bool| SkuDraft {
        code: code.into(),
        name: code.into(),
        unit: if weighed { "kg" } else { "盒" }.into(),
        sold_by_weight: weighed,
        prices: PriceDraft { base: 1200, ..Default::default() },
        ..Default::default()
    };
    let product = ProductDraft {
        name: "早餐".into(),
        category_id: Some(category.id),
        skus: vec![sku("MILK", false), sku("APPLE", true)],
        ..Default::default()
    };
    let (_, skus) = fresh(app.create_product(&system, product, &no_reply).await.unwrap());
    Chain {
        sm_a: staff(&app, "sm-a", "store_manager", Some(a), None).await.1,
        wm: staff(&app, "wm", "store_manager", Some(w), None).await.1,
        rm: staff(&app, "rm", "region_manager", None, Some(north)).await.1,
        sm_c: staff(&app, "sm-c", "store_manager", Some(c), None).await.1,
        app,
        db,
        a,
        b,
        w,
        c,
        milk: skus[0].id,
        apple: skus[1].id,
    }
}

impl Chain {
    async fn create(&self, ctx: &Ctx, key: &str, draft: DocumentDraft) -> Result<DocumentDetail, AppError> {
        self.app.create_document(&keyed(ctx, key), draft, &no_reply).await.map(fresh)
    }

    async fn step(
        &self,
        ctx: &Ctx,
        key: &str,
        id: DocumentId,
        step: &str,
        lines: Option<Vec<(i32, i64)>>,
    ) -> Result<DocumentDetail, AppError> {
        let draft = DocumentStepDraft { step: step.into(), lines, ..DocumentStepDraft::default() };
        self.app.document_step(&keyed(ctx, key), id, draft, &no_reply).await.map(fresh)
    }

    async fn levels(&self, store: StoreId, sku: SkuId) -> StockLevels {
        let mut tx = self.db.read().await.unwrap();
        tx.get_stock(store, sku).await.unwrap().map_or_else(StockLevels::default, |r| r.levels)
    }

    async fn books_balance(&self) {
        let mut tx = self.db.read().await.unwrap();
        assert_eq!(tx.reconcile_stock().await.unwrap(), vec![], "every level equals the sum of its ledger");
    }

    /// A received purchase order of `milk` units at `store`.
    async fn stock(&self, store: StoreId, milk: i64, key: &str) {
        let po = self.create(&Ctx::system(), key, purchase(store, &[(self.milk, milk)])).await.unwrap();
        self.step(&Ctx::system(), &format!("{key}:in"), po.document.id, "receive", None).await.unwrap();
    }
}

fn lines(items: &[(SkuId, i64)]) -> Vec<DocumentLineDraft> {
    items.iter().map(|&(sku, quantity)| DocumentLineDraft { sku_id: Some(sku), quantity, reason: None }).collect()
}

fn purchase(store: StoreId, items: &[(SkuId, i64)]) -> DocumentDraft {
    DocumentDraft {
        kind: "purchase".into(),
        store_id: Some(store),
        supplier: Some("光明乳业".into()),
        lines: lines(items),
        ..DocumentDraft::default()
    }
}

async fn purchase_orders_are_received_in_parts(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let (app, sm_a) = (&chain.app, &chain.sm_a);
    let po = chain.create(sm_a, "po", purchase(chain.a, &[(chain.milk, 10), (chain.apple, 5_000)])).await.unwrap();
    assert_eq!(po.document.status.as_str(), "open");
    assert!(po.document.number.starts_with("PO-"), "{}", po.document.number);
    let id = po.document.id;

    let part = chain.step(sm_a, "r1", id, "receive", Some(vec![(1, 4)])).await.unwrap();
    assert_eq!(part.document.status.as_str(), "partially_received");
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 4);
    // A retry of the same receipt replays and moves nothing.
    let draft = DocumentStepDraft { step: "receive".into(), lines: Some(vec![(1, 4)]), ..Default::default() };
    let again = app.document_step(&keyed(sm_a, "r1"), id, draft, &no_reply).await.unwrap();
    assert!(matches!(again, Written::Replayed(_)));
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 4);

    let over = chain.step(sm_a, "r2", id, "receive", Some(vec![(1, 7)])).await.unwrap_err();
    assert!(
        matches!(over, AppError::DocumentLines(DocumentError::TooMuch { line_no: 1, max: 6, requested: 7, .. })),
        "{over:?}"
    );
    let outsider = chain.step(&chain.sm_c, "r3", id, "receive", None).await.unwrap_err();
    assert!(matches!(outsider, AppError::OutOfScope), "{outsider:?}");

    let rest = chain.step(sm_a, "r4", id, "receive", None).await.unwrap();
    assert_eq!(rest.document.status.as_str(), "received");
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 10);
    assert_eq!(chain.levels(chain.a, chain.apple).await.on_hand.get(), 5_000, "grams");
    let events: Vec<_> = rest.steps.iter().map(|s| s.event.as_str()).collect();
    assert_eq!(events, ["created", "receive", "receive"]);
    let closed = chain.step(sm_a, "r5", id, "close", None).await.unwrap_err();
    assert!(matches!(closed, AppError::IllegalDocumentTransition(_)), "{closed:?}");

    // An order received in part can be closed short; what never came is no longer expected.
    let short = chain.create(sm_a, "po2", purchase(chain.a, &[(chain.milk, 10)])).await.unwrap();
    chain.step(sm_a, "s1", short.document.id, "receive", Some(vec![(1, 3)])).await.unwrap();
    let closed = chain.step(sm_a, "s2", short.document.id, "close", None).await.unwrap();
    assert_eq!(closed.document.status.as_str(), "closed");
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 13);
    chain.books_balance().await;
}

async fn requisitions_pass_through_transit_and_record_differences(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let (app, sm_a, rm, wm) = (&chain.app, &chain.sm_a, &chain.rm, &chain.wm);
    chain.stock(chain.w, 100, "w-po").await;
    app.set_stock_policy(sm_a, chain.a, chain.milk, 10, 30).await.unwrap();
    let low = app.stock_outlook(sm_a, chain.a, true).await.unwrap();
    assert_eq!((low.len(), low[0].suggested), (1, 30), "nothing on hand: reorder up to the target");

    let draft = DocumentDraft {
        kind: "requisition".into(),
        store_id: Some(chain.a),
        lines: lines(&[(chain.milk, 10)]),
        ..DocumentDraft::default()
    };
    let rq = chain.create(sm_a, "rq", draft).await.unwrap();
    let id = rq.document.id;
    assert_eq!(rq.document.status.as_str(), "submitted");
    let outlook = app.stock_outlook(sm_a, chain.a, false).await.unwrap();
    assert_eq!((outlook[0].expected, outlook[0].suggested), (10, 20), "what was asked for is expected");

    // The steps a page offers each person: what the state machine allows, their role and scope permit.
    let offered = |ctx: Ctx, document: quanyu_domain::documents::StockDocument| async move {
        let steps = app.steps_open_to(&ctx, &document).await.unwrap();
        steps.into_iter().map(|s| s.as_str()).collect::<Vec<_>>()
    };
    assert_eq!(offered(sm_a.clone(), rq.document.clone()).await, ["cancel"]);
    assert_eq!(offered(rm.clone(), rq.document.clone()).await, ["approve", "reject", "cancel"]);
    assert!(offered(chain.sm_c.clone(), rq.document.clone()).await.is_empty(), "another region's store");
    let forbidden = chain.step(sm_a, "a0", id, "approve", None).await.unwrap_err();
    assert!(matches!(forbidden, AppError::Forbidden), "a store manager does not approve: {forbidden:?}");
    let no_source = chain.step(rm, "a1", id, "approve", None).await.unwrap_err();
    assert!(matches!(no_source, AppError::Invalid(_)), "{no_source:?}");
    let draft = DocumentStepDraft {
        step: "approve".into(),
        lines: Some(vec![(1, 8)]),
        source_store_id: Some(chain.w),
        note: Some("仓库只够 8 箱".into()),
    };
    let approved = fresh(app.document_step(&keyed(rm, "a2"), id, draft, &no_reply).await.unwrap());
    assert_eq!((approved.document.status.as_str(), approved.document.lines[0].approved), ("approved", Some(8)));
    assert_eq!(approved.document.source_store_id, Some(chain.w));

    assert_eq!(offered(wm.clone(), approved.document.clone()).await, ["ship"], "the source ships");
    assert_eq!(offered(sm_a.clone(), approved.document.clone()).await, ["cancel"]);
    let wrong_end = chain.step(sm_a, "s0", id, "ship", None).await.unwrap_err();
    assert!(matches!(wrong_end, AppError::OutOfScope), "the source ships: {wrong_end:?}");
    let shipped = chain.step(wm, "s1", id, "ship", None).await.unwrap();
    assert_eq!(shipped.document.status.as_str(), "shipped");
    assert_eq!(chain.levels(chain.w, chain.milk).await.on_hand.get(), 92);
    let there = chain.levels(chain.a, chain.milk).await;
    assert_eq!((there.on_hand.get(), there.in_transit.get()), (0, 8));

    let received = chain.step(sm_a, "r1", id, "receive", Some(vec![(1, 7)])).await.unwrap();
    assert_eq!(received.document.status.as_str(), "received");
    assert_eq!(received.document.lines[0].difference(), Some(-1), "one box missing on arrival");
    let there = chain.levels(chain.a, chain.milk).await;
    assert_eq!((there.on_hand.get(), there.in_transit.get()), (7, 0));
    let outlook = app.stock_outlook(sm_a, chain.a, false).await.unwrap();
    assert_eq!((outlook[0].expected, outlook[0].low, outlook[0].suggested), (0, true, 23));

    // A transfer between stores: raised by the receiving store, approved by the region.
    let draft = DocumentDraft {
        kind: "transfer".into(),
        store_id: Some(chain.b),
        source_store_id: Some(chain.a),
        lines: lines(&[(chain.milk, 5)]),
        ..DocumentDraft::default()
    };
    let tr = chain.create(sm_a, "tr", draft).await.unwrap();
    chain.step(rm, "t1", tr.document.id, "approve", None).await.unwrap();
    chain.step(sm_a, "t2", tr.document.id, "ship", None).await.unwrap();
    let done = chain.step(rm, "t3", tr.document.id, "receive", None).await.unwrap();
    assert_eq!(done.document.lines[0].difference(), Some(0));
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 2);
    assert_eq!(chain.levels(chain.b, chain.milk).await.on_hand.get(), 5);
    let mut tx = chain.db.read().await.unwrap();
    let ledger = tx.list_stock_entries(chain.b, chain.milk, quanyu_store::Page::first(10)).await.unwrap();
    let kinds: Vec<_> = ledger.iter().map(|e| e.change.as_str()).collect();
    assert_eq!(kinds, ["transfer_in", "in_transit"], "newest first");
    drop(tx);

    // Another region's manager sees none of it.
    let hidden = app.document(&chain.sm_c, id).await.unwrap_err();
    assert!(matches!(hidden, AppError::OutOfScope));
    chain.books_balance().await;
}

async fn stocktakes_and_losses_post_on_approval(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let (sm_a, rm) = (&chain.sm_a, &chain.rm);
    chain.stock(chain.a, 10, "a-po").await;

    let sheet = DocumentDraft { kind: "stocktake".into(), store_id: Some(chain.a), ..DocumentDraft::default() };
    let st = chain.create(sm_a, "st", sheet).await.unwrap();
    assert_eq!(st.document.status.as_str(), "counting");
    assert_eq!(st.document.lines.len(), 1, "a whole-store sheet lists what the store holds");
    let id = st.document.id;
    let early = chain.step(sm_a, "c0", id, "submit", None).await.unwrap_err();
    assert!(matches!(early, AppError::DocumentLines(DocumentError::NotCounted { line_no: 1 })), "{early:?}");
    chain.step(sm_a, "c1", id, "count", Some(vec![(1, 12)])).await.unwrap();
    let submitted = chain.step(sm_a, "c2", id, "submit", None).await.unwrap();
    assert_eq!((submitted.document.lines[0].book, submitted.document.lines[0].variance()), (Some(10), Some(2)));
    let posted = chain.step(rm, "c3", id, "approve", None).await.unwrap();
    assert_eq!(posted.document.status.as_str(), "posted");
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 12);

    let no_reason = DocumentDraft {
        kind: "loss".into(),
        store_id: Some(chain.a),
        lines: lines(&[(chain.milk, 3)]),
        ..DocumentDraft::default()
    };
    assert!(matches!(chain.create(sm_a, "l0", no_reason.clone()).await, Err(AppError::Invalid(_))));
    let mut loss = no_reason;
    loss.lines[0].reason = Some("冷柜故障".into());
    let ls = chain.create(sm_a, "l1", loss).await.unwrap();
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 12, "nothing moves before approval");
    chain.step(rm, "l2", ls.document.id, "approve", None).await.unwrap();
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 9);
    let again = chain.step(rm, "l3", ls.document.id, "approve", None).await.unwrap_err();
    assert!(matches!(again, AppError::IllegalDocumentTransition(_)));
    chain.books_balance().await;
}

async fn racing_receipts_of_one_order_apply_once(db: Arc<dyn Database>) {
    let chain = setup(db).await;
    let po = chain.create(&chain.sm_a, "po", purchase(chain.a, &[(chain.milk, 10)])).await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|n| {
            let (app, ctx, id) = (chain.app.clone(), keyed(&chain.sm_a, &format!("race-{n}")), po.document.id);
            tokio::spawn(async move {
                let draft =
                    DocumentStepDraft { step: "receive".into(), lines: Some(vec![(1, 6)]), ..Default::default() };
                app.document_step(&ctx, id, draft, &no_reply).await
            })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => applied += 1,
            Err(AppError::StatusChanged | AppError::DocumentLines(DocumentError::TooMuch { .. })) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(applied, 1, "6 of 10 fits once");
    assert_eq!(chain.levels(chain.a, chain.milk).await.on_hand.get(), 6);
    let _ = (chain.b, chain.c, chain.apple);
    chain.books_balance().await;
}
