//! Use cases of stock documents (单据): purchase orders and their receipts, requisitions and
//! transfers (approve, ship, receive), stocktakes (count, submit, approve) and loss reports; and
//! the reorder policies behind low-stock alerts and reorder suggestions.
//!
//! Who may take which step, and where:
//! - creating, counting, receiving, closing and cancelling: `ManageStock` at the document's
//!   location (a transfer may also be raised by its source);
//! - approving and rejecting: `ApproveStock` at the document's location;
//! - shipping: `ManageStock` at the source.
//!
//! Every step that moves stock does so through keyed ledger entries in the step's transaction,
//! requires an idempotency key, and first claims the document at the revision it read, so a
//! concurrent step on the same document waits and then fails with `StatusChanged`.

use chrono::NaiveTime;
use quanyu_domain::{
    DomainError, Expected,
    authz::{Permission, StorePlace},
    documents::{
        self, DocumentError, DocumentEvent, DocumentKind, DocumentLine, DocumentStatus, Postings, StepSite,
        StockDocument,
    },
    ids::{DocumentId, SkuId, StoreId},
    inventory::{Qty, StockLevels},
    org::Store,
    text,
};
use quanyu_store::{DocumentFilter, DocumentStep, Page, PlaceFilter, Sorting, StockPolicy, Tx};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written,
    change::Change,
    inventory::{apply_batch, batch_entries},
    listing::Cursor,
    org::{scoped_place, store_in_scope},
    write::now,
};

/// The most lines one document may carry (a stocktake of a whole store included).
pub const MAX_DOCUMENT_LINES: usize = 5_000;

#[derive(Debug, Clone, Default)]
pub struct DocumentLineDraft {
    pub sku_id: Option<SkuId>,
    /// Ordered, asked for or lost: units, or grams for goods sold by weight. Not given for a
    /// stocktake.
    pub quantity: i64,
    /// Why the goods were lost (required on a loss report).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DocumentDraft {
    /// `purchase`, `requisition`, `transfer`, `stocktake` or `loss`.
    pub kind: String,
    /// Where goods arrive, are counted or are lost.
    pub store_id: Option<StoreId>,
    /// Where goods come from (transfer: required; requisition: may be left to the approver).
    pub source_store_id: Option<StoreId>,
    /// Who sells the goods (purchase: required).
    pub supplier: Option<String>,
    pub note: Option<String>,
    /// A stocktake with no lines counts every SKU the store holds.
    pub lines: Vec<DocumentLineDraft>,
}

/// A step on a document as a caller asks for it.
#[derive(Debug, Clone, Default)]
pub struct DocumentStepDraft {
    /// `receive`, `close`, `approve`, `reject`, `ship`, `count`, `submit` or `cancel`.
    pub step: String,
    /// Quantities per line number: received, approved, shipped or counted. Left out: the
    /// step's default (everything outstanding, as asked, as approved, as shipped).
    pub lines: Option<Vec<(i32, i64)>>,
    /// Approving a requisition: where the goods will come from, if the request named none.
    pub source_store_id: Option<StoreId>,
    pub note: Option<String>,
}

/// A document with its timeline.
#[derive(Debug, Clone)]
pub struct DocumentDetail {
    pub document: StockDocument,
    pub steps: Vec<DocumentStep>,
}

/// A store's policy for an SKU, its stock, and what reordering would bring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockOutlook {
    pub policy: StockPolicy,
    pub levels: StockLevels,
    /// Still to arrive on open purchase orders, requisitions and transfers not yet shipped.
    pub expected: i64,
    /// Available, in transit and expected together have fallen to the reorder point.
    pub low: bool,
    /// What to order to be back at the target (zero when not low).
    pub suggested: i64,
}

impl From<DocumentError> for AppError {
    fn from(err: DocumentError) -> AppError {
        match err {
            DocumentError::Invalid(domain) => AppError::Invalid(domain),
            other => AppError::DocumentLines(other),
        }
    }
}

impl App {
    /// Raises a document. Requires an idempotency key.
    pub async fn create_document(
        &self,
        ctx: &Ctx,
        draft: DocumentDraft,
        reply: Reply<'_, DocumentDetail>,
    ) -> AppResult<Written<DocumentDetail>> {
        ctx.require(Permission::ManageStock)?;
        ctx.require_idempotency_key()?;
        let kind = DocumentKind::parse(draft.kind.trim())?;
        let store_id = draft.store_id.ok_or(DomainError::Required { field: "store_id" })?;
        let supplier = text::optional("supplier", draft.supplier.as_deref(), 100)?;
        if kind == DocumentKind::Purchase && supplier.is_none() {
            return Err(DomainError::Required { field: "supplier" }.into());
        }
        if kind == DocumentKind::Transfer && draft.source_store_id.is_none() {
            return Err(DomainError::Required { field: "source_store_id" }.into());
        }
        let source_store_id = draft.source_store_id.filter(|_| kind.ships());
        if source_store_id == Some(store_id) {
            return Err(DomainError::Malformed { field: "source_store_id", expected: Expected::AnotherLocation }.into());
        }
        let note = text::optional("note", draft.note.as_deref(), 500)?;
        if draft.lines.len() > MAX_DOCUMENT_LINES || (draft.lines.is_empty() && kind != DocumentKind::Stocktake) {
            return Err(DomainError::OutOfRange { field: "lines", min: 1, max: MAX_DOCUMENT_LINES as i64 }.into());
        }
        let mut lines = Vec::with_capacity(draft.lines.len());
        for (index, line) in draft.lines.iter().enumerate() {
            let sku_id = line.sku_id.ok_or(DomainError::Required { field: "sku_id" })?;
            let quantity =
                if kind == DocumentKind::Stocktake { 0 } else { Qty::positive("quantity", line.quantity)?.get() };
            let mut line_ = DocumentLine::new(line_no(index), sku_id, quantity);
            line_.reason = text::optional("reason", line.reason.as_deref(), 200)?;
            if kind == DocumentKind::Loss && line_.reason.is_none() {
                return Err(DomainError::Required { field: "reason" }.into());
            }
            lines.push(line_);
        }
        let mut seen = std::collections::HashSet::new();
        if !lines.iter().all(|l| seen.insert(l.sku_id)) {
            return Err(DomainError::Malformed { field: "lines", expected: Expected::EachSkuOnOneLine }.into());
        }
        let id = DocumentId::new();
        write_idempotent!(self, ctx, reply, |tx| {
            let store = match (kind, source_store_id) {
                // A transfer may be raised by either end.
                (DocumentKind::Transfer, Some(source)) => {
                    let store = tx.get_store(store_id).await?.ok_or(AppError::NotFound { entity: "store" })?;
                    let from = tx
                        .get_store(source)
                        .await?
                        .ok_or(AppError::UnknownReference { field: "source_store_id", entity: "store" })?;
                    if !covers(ctx, &store) && !covers(ctx, &from) {
                        return Err(AppError::OutOfScope);
                    }
                    store
                }
                (_, source) => {
                    let store = store_in_scope(ctx, tx, store_id).await?;
                    if let Some(source) = source
                        && tx.get_store(source).await?.is_none()
                    {
                        return Err(AppError::UnknownReference { field: "source_store_id", entity: "store" });
                    }
                    store
                }
            };
            for line in &lines {
                if tx.get_sku(line.sku_id).await?.is_none() {
                    return Err(AppError::UnknownReference { field: "sku_id", entity: "sku" });
                }
            }
            if kind == DocumentKind::Stocktake && lines.is_empty() {
                lines = whole_store_sheet(tx, store_id).await?;
                if lines.is_empty() {
                    return Err(AppError::NothingToCount);
                }
            }
            let at = now();
            let day = store.time_zone.business_day(at, NaiveTime::MIN).format("%Y%m%d");
            let suffix = id.as_uuid().simple().to_string();
            let document = StockDocument {
                id,
                kind,
                number: format!("{}-{day}-{}", kind.prefix(), suffix[suffix.len() - 8..].to_uppercase()),
                store_id,
                source_store_id,
                supplier: supplier.clone().filter(|_| kind == DocumentKind::Purchase),
                status: kind.initial_status(),
                revision: 0,
                note: note.clone(),
                lines: std::mem::take(&mut lines),
                created_by: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
                created_at: at,
                updated_at: at,
            };
            tx.insert_document(&document).await?;
            record_step(tx, ctx, &document, "created", None, note.clone()).await?;
            Change::new("stock_document.created", "stock_document", id)
                .in_store(store_id)
                .set("kind", &kind.as_str())
                .set("number", &document.number)
                .set("lines", &document.lines.len())
                .record(tx, Some(ctx))
                .await?;
            detail(tx, id).await
        })
    }

    /// Takes one step on a document. Requires an idempotency key.
    pub async fn document_step(
        &self,
        ctx: &Ctx,
        id: DocumentId,
        draft: DocumentStepDraft,
        reply: Reply<'_, DocumentDetail>,
    ) -> AppResult<Written<DocumentDetail>> {
        ctx.require(Permission::ReadStock)?;
        ctx.require_idempotency_key()?;
        let event = DocumentEvent::parse(draft.step.trim())?;
        let note = text::optional("note", draft.note.as_deref(), 500)?;
        if draft.lines.as_ref().is_some_and(|l| l.len() > MAX_DOCUMENT_LINES) {
            return Err(DomainError::OutOfRange { field: "lines", min: 0, max: MAX_DOCUMENT_LINES as i64 }.into());
        }
        write_idempotent!(self, ctx, reply, |tx| {
            let mut document = tx.get_document(id).await?.ok_or(AppError::NotFound { entity: "stock_document" })?;
            let before = document.status;
            let store = tx.get_store(document.store_id).await?.ok_or(AppError::NotFound { entity: "store" })?;
            let lines = draft.lines.as_deref();
            let key = format!("document:{id}:{}", document.revision);
            if !tx.claim_document(id, document.revision).await? {
                return Err(AppError::StatusChanged);
            }
            document.revision += 1;
            let event = take(tx, ctx, &mut document, &store, event, lines, draft.source_store_id, &key).await?;
            document.status = documents::transition(document.kind, before, event)?;
            let event = event.as_str();
            document.updated_at = now();
            if !tx.update_document(&document).await? {
                return Err(AppError::StatusChanged);
            }
            record_step(tx, ctx, &document, event, Some(before), note.clone()).await?;
            Change::new("stock_document.step", "stock_document", id)
                .in_store(document.store_id)
                .set("step", &event)
                .diff("status", &before.as_str(), &document.status.as_str())
                .record(tx, Some(ctx))
                .await?;
            detail(tx, id).await
        })
    }

    pub async fn document(&self, ctx: &Ctx, id: DocumentId) -> AppResult<DocumentDetail> {
        ctx.require(Permission::ReadStock)?;
        read_tx!(self, |tx| {
            let detail = detail(tx, id).await?;
            let mut visible = false;
            for place in [Some(detail.document.store_id), detail.document.source_store_id].into_iter().flatten() {
                if let Some(store) = tx.get_store(place).await? {
                    visible |= covers(ctx, &store);
                }
            }
            if visible { Ok(detail) } else { Err(AppError::OutOfScope) }
        })
    }

    /// The steps `ctx` may take on `document` now: the state machine's open steps that the
    /// actor's permissions and scope allow (the buttons a page offers; taking one checks again).
    pub async fn steps_open_to(&self, ctx: &Ctx, document: &StockDocument) -> AppResult<Vec<DocumentEvent>> {
        let steps = documents::open_steps(document.kind, document.status);
        read_tx!(self, |tx| {
            let store = tx.get_store(document.store_id).await?;
            let source = match document.source_store_id {
                Some(id) => tx.get_store(id).await?,
                None => None,
            };
            Ok(steps
                .into_iter()
                .filter(|&event| {
                    let (permissions, site) = documents::step_authority(document.kind, event);
                    let place = match site {
                        StepSite::Store => store.as_ref(),
                        StepSite::Source => source.as_ref(),
                    };
                    place.is_some_and(|place| allow(ctx, permissions, place).is_ok())
                })
                .collect())
        })
    }

    /// Documents touching the requested place (within the actor's scope), oldest first.
    pub async fn documents(
        &self,
        ctx: &Ctx,
        place: PlaceFilter,
        kind: Option<&str>,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<StockDocument>> {
        ctx.require(Permission::ReadStock)?;
        let kind = kind.map(DocumentKind::parse).transpose()?;
        let statuses = status.map(DocumentStatus::parse).transpose()?.into_iter().collect();
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| {
            let place = scoped_place(ctx, tx, place).await?;
            let filter = DocumentFilter { place, destination: None, kind, statuses };
            Ok(tx.list_documents(&filter, page).await?)
        })?;
        Ok(Listing::from_rows(rows, page, |d| d.id.as_uuid()))
    }

    /// Sets when a store should reorder an SKU (`reorder_point`) and up to what (`target`).
    pub async fn set_stock_policy(
        &self,
        ctx: &Ctx,
        store_id: StoreId,
        sku_id: SkuId,
        reorder_point: i64,
        target: i64,
    ) -> AppResult<StockPolicy> {
        ctx.require(Permission::ManageStock)?;
        if !(0..Qty::MAX.get()).contains(&reorder_point) {
            return Err(DomainError::OutOfRange { field: "reorder_point", min: 0, max: Qty::MAX.get() - 1 }.into());
        }
        if target <= reorder_point || target > Qty::MAX.get() {
            let min = reorder_point.saturating_add(1);
            return Err(DomainError::OutOfRange { field: "target", min, max: Qty::MAX.get() }.into());
        }
        write_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            if tx.get_sku(sku_id).await?.is_none() {
                return Err(AppError::NotFound { entity: "sku" });
            }
            let policy = StockPolicy { store_id, sku_id, reorder_point, target, updated_at: now() };
            tx.put_stock_policy(&policy).await?;
            Change::new("stock_policy.set", "stock_policy", format!("{store_id}/{sku_id}"))
                .in_store(store_id)
                .set("reorder_point", &reorder_point)
                .set("target", &target)
                .record(tx, Some(ctx))
                .await?;
            Ok(policy)
        })
    }

    pub async fn delete_stock_policy(&self, ctx: &Ctx, store_id: StoreId, sku_id: SkuId) -> AppResult<()> {
        ctx.require(Permission::ManageStock)?;
        write_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            if !tx.delete_stock_policy(store_id, sku_id).await? {
                return Err(AppError::NotFound { entity: "stock_policy" });
            }
            Change::new("stock_policy.deleted", "stock_policy", format!("{store_id}/{sku_id}"))
                .in_store(store_id)
                .record(tx, Some(ctx))
                .await?;
            Ok(())
        })
    }

    /// Every SKU the store keeps a policy for, with what it has, what it expects and what to
    /// reorder; `only_low` keeps the ones at or below their reorder point (the suggestions).
    pub async fn stock_outlook(&self, ctx: &Ctx, store_id: StoreId, only_low: bool) -> AppResult<Vec<StockOutlook>> {
        ctx.require(Permission::ReadStock)?;
        read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            let expected = expected_arrivals(tx, store_id).await?;
            let mut outlook = Vec::new();
            let mut page = Page::first(Page::MAX_LIMIT);
            loop {
                let batch = tx.stock_policies(store_id, page).await?;
                let full = batch.len() == page.limit as usize;
                page.after = batch.last().map(|(p, _)| p.sku_id.as_uuid());
                for (policy, levels) in batch {
                    let expected = expected.get(&policy.sku_id).copied().unwrap_or(0);
                    let suggested = documents::reorder_quantity(
                        levels.available().get(),
                        levels.in_transit.get(),
                        expected,
                        policy.reorder_point,
                        policy.target,
                    );
                    let low = suggested > 0;
                    if low || !only_low {
                        outlook.push(StockOutlook { policy, levels, expected, low, suggested });
                    }
                }
                if !full {
                    break;
                }
            }
            Ok(outlook)
        })
    }
}

/// Applies an event's stock effects and quantities to the document; returns the event as the
/// state machine should see it (a purchase receipt learns whether it completes the order).
#[allow(clippy::too_many_arguments)]
async fn take(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    document: &mut StockDocument,
    store: &Store,
    event: DocumentEvent,
    lines: Option<&[(i32, i64)]>,
    source_store_id: Option<StoreId>,
    key: &str,
) -> AppResult<DocumentEvent> {
    use DocumentEvent as E;
    use DocumentKind as K;
    // Refuse an illegal step before touching stock, with the state machine's own words.
    documents::transition(document.kind, document.status, event)?;
    let (permissions, site) = documents::step_authority(document.kind, event);
    if site == StepSite::Store {
        allow(ctx, permissions, store)?;
    }
    let reference = document.number.clone();
    match (document.kind, event) {
        (K::Purchase, E::Receive { .. }) => {
            let (postings, complete) = documents::receive_purchase(&mut document.lines, lines)?;
            post(tx, ctx, store.id, &postings, &format!("{key}:in"), &reference).await?;
            return Ok(E::Receive { complete });
        }
        (K::Requisition | K::Transfer, E::Approve) => {
            if document.source_store_id.is_none() {
                let source = source_store_id.ok_or(DomainError::Required { field: "source_store_id" })?;
                if source == document.store_id {
                    return Err(DomainError::Malformed {
                        field: "source_store_id",
                        expected: Expected::AnotherLocation,
                    }
                    .into());
                }
                if tx.get_store(source).await?.is_none() {
                    return Err(AppError::UnknownReference { field: "source_store_id", entity: "store" });
                }
                document.source_store_id = Some(source);
            }
            documents::approve_shipment(&mut document.lines, lines)?;
        }
        (K::Requisition | K::Transfer, E::Ship) => {
            let source_id = document.source_store_id.ok_or(AppError::NotFound { entity: "store" })?;
            let source = tx.get_store(source_id).await?.ok_or(AppError::NotFound { entity: "store" })?;
            allow(ctx, permissions, &source)?;
            let (out, transit) = documents::ship(document.kind, &mut document.lines, lines)?;
            post(tx, ctx, source_id, &out, &format!("{key}:out"), &reference).await?;
            post(tx, ctx, store.id, &transit, &format!("{key}:transit"), &reference).await?;
        }
        (K::Requisition | K::Transfer, E::Receive { .. }) => {
            let postings = documents::receive_shipment(document.kind, &mut document.lines, lines)?;
            post(tx, ctx, store.id, &postings, &format!("{key}:in"), &reference).await?;
        }
        (K::Stocktake, E::Count) => {
            let counts = lines.ok_or(DomainError::Required { field: "lines" })?;
            documents::record_counts(&mut document.lines, counts)?;
        }
        (K::Stocktake, E::Submit) => {
            let mut book = std::collections::HashMap::new();
            for line in &document.lines {
                let on_hand = tx.get_stock(store.id, line.sku_id).await?.map_or(0, |r| r.levels.on_hand.get());
                book.insert(line.sku_id, on_hand);
            }
            documents::submit_count(&mut document.lines, |sku| book.get(&sku).copied().unwrap_or(0))?;
        }
        (K::Stocktake, E::Approve) => {
            post(tx, ctx, store.id, &documents::stocktake_postings(&document.lines), &format!("{key}:adj"), &reference)
                .await?;
        }
        (K::Loss, E::Approve) => {
            post(tx, ctx, store.id, &documents::loss_postings(&document.lines), &format!("{key}:loss"), &reference)
                .await?;
        }
        // Rejecting, cancelling and closing change no stock; the state machine refused the rest.
        _ => {}
    }
    Ok(event)
}

/// Writes postings as ledger entries at one location, all or nothing.
async fn post(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    store_id: StoreId,
    postings: &Postings,
    key: &str,
    reference: &str,
) -> AppResult<()> {
    if postings.changes.is_empty() {
        return Ok(());
    }
    let mut entries = batch_entries(ctx, store_id, postings.label, &postings.changes, key, Some(reference))?;
    for entry in &mut entries {
        entry.reason = postings.reason_of(entry.sku_id).map(str::to_owned);
    }
    apply_batch(tx, store_id, &entries).await?;
    Ok(())
}

/// A count sheet of every SKU the store holds or expects.
async fn whole_store_sheet(tx: &mut dyn Tx, store_id: StoreId) -> AppResult<Vec<DocumentLine>> {
    let mut lines = Vec::new();
    let mut page = Page::first(Page::MAX_LIMIT);
    loop {
        let batch = tx.list_stock(store_id, &Sorting::default(), page).await?;
        let full = batch.len() == page.limit as usize;
        page.after = batch.last().map(|r| r.sku_id.as_uuid());
        for row in batch.into_iter().filter(|r| r.levels.on_hand.get() > 0) {
            lines.push(DocumentLine::new(line_no(lines.len()), row.sku_id, 0));
        }
        if lines.len() > MAX_DOCUMENT_LINES {
            return Err(DomainError::OutOfRange { field: "lines", min: 1, max: MAX_DOCUMENT_LINES as i64 }.into());
        }
        if !full {
            break;
        }
    }
    Ok(lines)
}

/// What is still to arrive at a store per SKU, from its open inbound documents.
async fn expected_arrivals(tx: &mut dyn Tx, store_id: StoreId) -> AppResult<std::collections::HashMap<SkuId, i64>> {
    let filter = DocumentFilter {
        destination: Some(store_id),
        statuses: DocumentStatus::ALL.iter().copied().filter(|s| s.is_inbound()).collect(),
        ..DocumentFilter::default()
    };
    let mut expected = std::collections::HashMap::new();
    let mut page = Page::first(Page::MAX_LIMIT);
    loop {
        let batch = tx.list_documents(&filter, page).await?;
        let full = batch.len() == page.limit as usize;
        page.after = batch.last().map(|d| d.id.as_uuid());
        for document in &batch {
            for line in &document.lines {
                *expected.entry(line.sku_id).or_insert(0i64) += line.outstanding(document.kind, document.status);
            }
        }
        if !full {
            break;
        }
    }
    Ok(expected)
}

fn covers(ctx: &Ctx, store: &Store) -> bool {
    ctx.actor.covers_store(StorePlace { store_id: store.id, region_id: store.region_id })
}

/// The actor holds one of `permissions` (see [`documents::step_authority`]) and covers `store`.
fn allow(ctx: &Ctx, permissions: &[Permission], store: &Store) -> AppResult<()> {
    if !permissions.iter().any(|&p| ctx.actor.can(p)) {
        return Err(AppError::Forbidden);
    }
    if covers(ctx, store) { Ok(()) } else { Err(AppError::OutOfScope) }
}

fn line_no(index: usize) -> i32 {
    i32::try_from(index + 1).unwrap_or(i32::MAX)
}

async fn detail(tx: &mut dyn Tx, id: DocumentId) -> AppResult<DocumentDetail> {
    let document = tx.get_document(id).await?.ok_or(AppError::NotFound { entity: "stock_document" })?;
    Ok(DocumentDetail { steps: tx.document_steps(id).await?, document })
}

async fn record_step(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    document: &StockDocument,
    event: &str,
    from: Option<DocumentStatus>,
    note: Option<String>,
) -> AppResult<()> {
    tx.append_document_step(&DocumentStep {
        id: uuid::Uuid::now_v7(),
        subject: document.id,
        event: event.to_owned(),
        from_status: from.map(|s| s.as_str().to_owned()),
        to_status: document.status.as_str().to_owned(),
        actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
        note,
        at: now(),
    })
    .await?;
    Ok(())
}
