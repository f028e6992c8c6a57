//! Opening stock for the demo chain, moved the way a real chain moves it: every location
//! receives a purchase order of the chain's core assortment from its supplier; each store keeps reorder points for its
//! staple SKUs; and one store has a requisition waiting for its region's approval.

use anyhow::Context as _;
use quanyu_app::{App, Ctx, DocumentDraft, DocumentLineDraft, DocumentStepDraft};
use quanyu_domain::{
    ids::{DocumentId, SkuId},
    org::{Store, StoreKind},
};
use quanyu_store::{SkuFilter, StoreFilter};

use crate::{
    demo_data::DemoChain,
    rng::Rng,
    seeding::{fresh, keyed, no_reply},
};

const SUPPLIER: &str = "鲜丰供应链有限公司";
/// The assortment every location stocks: the first SKUs of the catalog (the first pages a
/// newcomer sees), so any of them can be ordered anywhere. Kept small so the demo seeds in
/// seconds.
const ASSORTMENT: usize = 120;
/// SKUs per store with a reorder policy (the first of the catalog: staples).
const POLICIES_PER_STORE: usize = 12;

/// Seeds the opening stock of every store and warehouse.
pub async fn seed(app: &App, chain: &DemoChain, seed: u64) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed ^ 0x5EED_5700C);
    let stocked: std::collections::HashSet<&str> =
        chain.skus.iter().filter(|s| s.kind != "service").map(|s| s.code.as_str()).collect();
    let by_weight: std::collections::HashSet<&str> =
        chain.skus.iter().filter(|s| s.sold_by_weight == "true").map(|s| s.code.as_str()).collect();
    let skus: Vec<(SkuId, bool)> = all_skus(app)
        .await?
        .into_iter()
        .filter(|(_, code)| stocked.contains(code.as_str()))
        .map(|(id, code)| (id, by_weight.contains(code.as_str())))
        .take(ASSORTMENT)
        .collect();
    let locations = all_locations(app).await?;
    for (n, location) in locations.iter().enumerate() {
        let warehouse = location.kind == StoreKind::Warehouse;
        let lines = skus
            .iter()
            .map(|&(sku_id, weighed)| {
                let quantity = match (warehouse, weighed) {
                    (true, true) => 200_000,
                    (true, false) => 500,
                    (false, true) => rng.range(2, 20) * 1_000,
                    (false, false) => rng.range(3, 60),
                };
                DocumentLineDraft { sku_id: Some(sku_id), quantity, reason: None }
            })
            .collect();
        let draft = DocumentDraft {
            kind: "purchase".into(),
            store_id: Some(location.id),
            supplier: Some(SUPPLIER.into()),
            note: Some("开业首批进货".into()),
            lines,
            ..DocumentDraft::default()
        };
        let po = create(app, &format!("demo:po:{n}"), draft).await?;
        step(app, &format!("demo:po:{n}:receive"), po, "receive").await?;
    }

    let ctx = Ctx::system();
    for store in locations.iter().filter(|l| l.kind == StoreKind::Store) {
        for &(sku_id, weighed) in skus.iter().take(POLICIES_PER_STORE) {
            let (point, target) = if weighed { (5_000, 20_000) } else { (10, 40) };
            app.set_stock_policy(&ctx, store.id, sku_id, point, target).await?;
        }
    }

    // SH001 asks its warehouse for more of three staples; the region manager has yet to approve.
    let first = locations.iter().find(|l| l.code == "SH001").context("the demo store SH001 vanished")?;
    let warehouse = locations.iter().find(|l| l.code == "SHW01").context("the demo warehouse SHW01 vanished")?;
    let lines = skus
        .iter()
        .filter(|(_, weighed)| !weighed)
        .take(3)
        .map(|&(sku_id, _)| DocumentLineDraft { sku_id: Some(sku_id), quantity: 24, reason: None })
        .collect();
    let draft = DocumentDraft {
        kind: "requisition".into(),
        store_id: Some(first.id),
        source_store_id: Some(warehouse.id),
        note: Some("周末促销备货".into()),
        lines,
        ..DocumentDraft::default()
    };
    create(app, "demo:requisition:0", draft).await?;
    Ok(())
}

async fn create(app: &App, key: &str, draft: DocumentDraft) -> anyhow::Result<DocumentId> {
    Ok(fresh(app.create_document(&keyed(key), draft, &no_reply).await?)?.document.id)
}

async fn step(app: &App, key: &str, id: DocumentId, step: &str) -> anyhow::Result<()> {
    let draft = DocumentStepDraft { step: step.into(), ..DocumentStepDraft::default() };
    app.document_step(&keyed(key), id, draft, &no_reply).await?;
    Ok(())
}

async fn all_skus(app: &App) -> anyhow::Result<Vec<(SkuId, String)>> {
    let ctx = Ctx::system();
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.list_skus(&ctx, SkuFilter::default(), cursor.as_deref(), Some(500)).await?;
        out.extend(page.items.into_iter().map(|s| (s.id, s.code)));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(out),
        }
    }
}

async fn all_locations(app: &App) -> anyhow::Result<Vec<Store>> {
    let ctx = Ctx::system();
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.list_stores(&ctx, StoreFilter::default(), cursor.as_deref(), Some(500)).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(out),
        }
    }
}
