//! Stock documents (单据): the paperwork by which goods enter, move between and leave locations.
//!
//! - **Purchase order** 采购单: goods ordered from a supplier for one location, received in one or
//!   more partial receipts; what never arrives can be closed short.
//! - **Requisition** 要货单: a store asks for goods; HQ or its region approves (choosing the
//!   supplying location, usually a warehouse, and the quantities); the supplier ships; the store
//!   receives and any difference is recorded.
//! - **Transfer** 调拨单: the same path between two stores, with its own ledger kinds.
//! - **Stocktake** 盘点单: a count sheet; on submission each line's variance against the book is
//!   fixed; approval posts the variances as adjustments.
//! - **Loss report** 报损单: damaged or expired goods with a reason, posted on approval.
//!
//! This module holds the state machine and the arithmetic of each step: which quantities a step
//! may carry, and which [`StockChange`]s it makes at which location. The use cases persist them.
//! Quantities are units, or grams for goods sold by weight.

use crate::{
    DomainError, DomainResult,
    authz::Permission,
    ids::{DocumentId, SkuId, StaffId, StoreId},
    inventory::{MovementKind, Qty, StockChange},
    time::Timestamp,
};

named_enum! {
    /// What kind of document.
    pub enum DocumentKind for "kind" {
        Purchase = "purchase",
        Requisition = "requisition",
        Transfer = "transfer",
        Stocktake = "stocktake",
        Loss = "loss",
    }
}

impl DocumentKind {
    /// The prefix of the document's number: `PO-20261202-…`.
    pub fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Purchase => "PO",
            DocumentKind::Requisition => "RQ",
            DocumentKind::Transfer => "TR",
            DocumentKind::Stocktake => "ST",
            DocumentKind::Loss => "LS",
        }
    }

    /// Whether goods travel from a source location to the document's location.
    pub fn ships(self) -> bool {
        matches!(self, DocumentKind::Requisition | DocumentKind::Transfer)
    }

    /// The status a new document starts in.
    pub fn initial_status(self) -> DocumentStatus {
        match self {
            DocumentKind::Purchase => DocumentStatus::Open,
            DocumentKind::Stocktake => DocumentStatus::Counting,
            DocumentKind::Requisition | DocumentKind::Transfer | DocumentKind::Loss => DocumentStatus::Submitted,
        }
    }

    /// The ledger kinds of a shipment leaving the source and arriving at the destination.
    fn shipment_kinds(self) -> (MovementKind, MovementKind) {
        match self {
            DocumentKind::Transfer => (MovementKind::TransferOut, MovementKind::TransferIn),
            _ => (MovementKind::RequisitionOut, MovementKind::RequisitionIn),
        }
    }
}

named_enum! {
    /// Where a document stands.
    pub enum DocumentStatus for "status" {
        /// A purchase order waiting for goods.
        Open = "open",
        /// A purchase order of which some goods have arrived.
        PartiallyReceived = "partially_received",
        /// A stocktake being counted.
        Counting = "counting",
        /// Waiting for approval.
        Submitted = "submitted",
        /// Approved; a requisition or transfer waits to be shipped.
        Approved = "approved",
        /// Goods on their way (in transit at the destination).
        Shipped = "shipped",
        /// Everything that will arrive has arrived.
        Received = "received",
        /// A purchase order closed with goods outstanding.
        Closed = "closed",
        /// Stock adjusted (stocktake, loss).
        Posted = "posted",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
}

impl DocumentStatus {
    /// No event moves a document out of a final status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DocumentStatus::Received
                | DocumentStatus::Closed
                | DocumentStatus::Posted
                | DocumentStatus::Rejected
                | DocumentStatus::Cancelled
        )
    }

    /// Whether goods are still expected at the document's location (for reorder suggestions).
    pub fn is_inbound(self) -> bool {
        matches!(
            self,
            DocumentStatus::Open
                | DocumentStatus::PartiallyReceived
                | DocumentStatus::Submitted
                | DocumentStatus::Approved
        )
    }
}

/// Something that happens to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentEvent {
    /// Goods arrive (`complete`: nothing more is expected afterwards).
    Receive {
        complete: bool,
    },
    /// A purchase order stops waiting for what has not come.
    Close,
    /// Counts are recorded on a count sheet (it stays counting).
    Count,
    /// A count sheet is handed in.
    Submit,
    Approve,
    /// A stocktake's rejection sends it back to counting; others end.
    Reject,
    Ship,
    Cancel,
}

impl DocumentEvent {
    /// A step as a caller names it (a receipt's completeness is worked out, not given).
    pub fn parse(raw: &str) -> DomainResult<DocumentEvent> {
        use DocumentEvent::*;
        [Receive { complete: false }, Close, Count, Submit, Approve, Reject, Ship, Cancel]
            .into_iter()
            .find(|e| e.as_str() == raw)
            .ok_or_else(|| DomainError::UnknownValue { field: "step", value: raw.to_owned() })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentEvent::Receive { .. } => "receive",
            DocumentEvent::Close => "close",
            DocumentEvent::Count => "count",
            DocumentEvent::Submit => "submit",
            DocumentEvent::Approve => "approve",
            DocumentEvent::Reject => "reject",
            DocumentEvent::Ship => "ship",
            DocumentEvent::Cancel => "cancel",
        }
    }
}

impl DocumentEvent {
    /// Every step a caller may name, in the order a document usually meets them.
    pub const STEPS: [DocumentEvent; 8] = [
        DocumentEvent::Count,
        DocumentEvent::Submit,
        DocumentEvent::Approve,
        DocumentEvent::Ship,
        DocumentEvent::Receive { complete: false },
        DocumentEvent::Close,
        DocumentEvent::Reject,
        DocumentEvent::Cancel,
    ];
}

/// The steps a `kind` document in `status` allows, whoever takes them (a receipt counts once,
/// however complete it turns out to be).
pub fn open_steps(kind: DocumentKind, status: DocumentStatus) -> Vec<DocumentEvent> {
    DocumentEvent::STEPS
        .into_iter()
        .filter(|&event| match event {
            DocumentEvent::Receive { .. } => [true, false]
                .into_iter()
                .any(|complete| transition(kind, status, DocumentEvent::Receive { complete }).is_ok()),
            _ => transition(kind, status, event).is_ok(),
        })
        .collect()
}

/// The location whose staff may take a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepSite {
    /// Where goods arrive, are counted or are lost.
    Store,
    /// Where shipped goods leave from.
    Source,
}

/// Who may take `event` on a `kind` document: staff holding any of the permissions, with the
/// site in their scope. Steps the state machine never allows need a permission nobody is given.
pub fn step_authority(kind: DocumentKind, event: DocumentEvent) -> (&'static [Permission], StepSite) {
    use DocumentEvent as E;
    use DocumentKind as K;
    const MANAGE: &[Permission] = &[Permission::ManageStock];
    const APPROVE: &[Permission] = &[Permission::ApproveStock];
    match (kind, event) {
        (K::Requisition | K::Transfer, E::Ship) => (MANAGE, StepSite::Source),
        (_, E::Receive { .. } | E::Count | E::Submit) => (MANAGE, StepSite::Store),
        (_, E::Approve | E::Reject) => (APPROVE, StepSite::Store),
        // Whoever manages the location's stock, or approves it, may call a document off.
        (_, E::Cancel | E::Close) => (&[Permission::ManageStock, Permission::ApproveStock], StepSite::Store),
        (_, E::Ship) => (&[], StepSite::Store),
    }
}

/// An event that the document's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {} document that is {} cannot {}", kind.as_str(), status.as_str(), event.as_str())]
pub struct IllegalDocumentTransition {
    pub kind: DocumentKind,
    pub status: DocumentStatus,
    pub event: DocumentEvent,
}

/// The status after `event`, or why not.
pub fn transition(
    kind: DocumentKind,
    status: DocumentStatus,
    event: DocumentEvent,
) -> Result<DocumentStatus, IllegalDocumentTransition> {
    use DocumentEvent as E;
    use DocumentKind as K;
    use DocumentStatus as S;
    let next = match (kind, status, event) {
        (K::Purchase, S::Open | S::PartiallyReceived, E::Receive { complete: true }) => Some(S::Received),
        (K::Purchase, S::Open | S::PartiallyReceived, E::Receive { complete: false }) => Some(S::PartiallyReceived),
        (K::Purchase, S::PartiallyReceived, E::Close) => Some(S::Closed),
        (K::Purchase, S::Open, E::Cancel) => Some(S::Cancelled),

        (K::Requisition | K::Transfer, S::Submitted, E::Approve) => Some(S::Approved),
        (K::Requisition | K::Transfer, S::Submitted, E::Reject) => Some(S::Rejected),
        (K::Requisition | K::Transfer, S::Submitted | S::Approved, E::Cancel) => Some(S::Cancelled),
        (K::Requisition | K::Transfer, S::Approved, E::Ship) => Some(S::Shipped),
        // What does not arrive is recorded as a difference: one receipt ends a shipment.
        (K::Requisition | K::Transfer, S::Shipped, E::Receive { .. }) => Some(S::Received),

        (K::Stocktake, S::Counting, E::Count) => Some(S::Counting),
        (K::Stocktake, S::Counting, E::Submit) => Some(S::Submitted),
        (K::Stocktake, S::Counting, E::Cancel) => Some(S::Cancelled),
        (K::Stocktake, S::Submitted, E::Reject) => Some(S::Counting),
        (K::Stocktake | K::Loss, S::Submitted, E::Approve) => Some(S::Posted),

        (K::Loss, S::Submitted, E::Reject) => Some(S::Rejected),
        (K::Loss, S::Submitted, E::Cancel) => Some(S::Cancelled),
        _ => None,
    };
    next.ok_or(IllegalDocumentTransition { kind, status, event })
}

/// A stock document with its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockDocument {
    pub id: DocumentId,
    pub kind: DocumentKind,
    /// Human-readable and unique: `RQ-20261202-0F3A9C`.
    pub number: String,
    /// The location whose stock the document changes: where goods arrive (purchase,
    /// requisition, transfer), are counted (stocktake) or are lost (loss).
    pub store_id: StoreId,
    /// Where shipped goods come from (requisition, transfer).
    pub source_store_id: Option<StoreId>,
    /// Who sells the goods (purchase).
    pub supplier: Option<String>,
    pub status: DocumentStatus,
    /// Counts saved changes: a save succeeds only over the revision it read.
    pub revision: i64,
    pub note: Option<String>,
    pub lines: Vec<DocumentLine>,
    pub created_by: Option<StaffId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One line of a document. Which quantities are set depends on the kind and how far it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLine {
    pub line_no: i32,
    pub sku_id: SkuId,
    /// Ordered (purchase), asked for (requisition, transfer), lost (loss); unused by a stocktake.
    pub quantity: i64,
    /// What the approver granted (requisition, transfer).
    pub approved: Option<i64>,
    /// What left the source (requisition, transfer).
    pub shipped: Option<i64>,
    /// What arrived so far (purchase: the sum of its receipts; shipments: what the receiver
    /// counted).
    pub received: i64,
    /// A stocktake's counted quantity.
    pub counted: Option<i64>,
    /// On hand by the books when the count was submitted.
    pub book: Option<i64>,
    /// Why goods were lost (loss), or a note on a difference.
    pub reason: Option<String>,
}

impl DocumentLine {
    pub fn new(line_no: i32, sku_id: SkuId, quantity: i64) -> DocumentLine {
        DocumentLine {
            line_no,
            sku_id,
            quantity,
            approved: None,
            shipped: None,
            received: 0,
            counted: None,
            book: None,
            reason: None,
        }
    }

    /// Still expected to arrive: ordered less received (purchase), or approved (shipments not yet
    /// sent), or asked for (not yet approved).
    pub fn outstanding(&self, kind: DocumentKind, status: DocumentStatus) -> i64 {
        if !status.is_inbound() {
            return 0;
        }
        match kind {
            DocumentKind::Purchase => (self.quantity - self.received).max(0),
            DocumentKind::Requisition | DocumentKind::Transfer => self.approved.unwrap_or(self.quantity),
            DocumentKind::Stocktake | DocumentKind::Loss => 0,
        }
    }

    /// The stocktake variance: counted less book (positive: more found than the books say).
    pub fn variance(&self) -> Option<i64> {
        Some(self.counted? - self.book?)
    }

    /// A shipment's difference: received less shipped (negative: goods missing on arrival).
    pub fn difference(&self) -> Option<i64> {
        self.shipped.map(|shipped| self.received - shipped)
    }
}

/// Why a step's quantities are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("line {line_no} does not exist")]
    UnknownLine { line_no: i32 },
    #[error("line {line_no} appears twice")]
    RepeatedLine { line_no: i32 },
    #[error("line {line_no}: at most {max} can be {what}, {requested} given")]
    TooMuch { line_no: i32, what: &'static str, max: i64, requested: i64 },
    #[error("line {line_no} has not been counted")]
    NotCounted { line_no: i32 },
    #[error("nothing would move")]
    Nothing,
    #[error(transparent)]
    Invalid(#[from] DomainError),
}

/// Stock changes at one location: (SKU, change) pairs, with the ledger kind to record them
/// under and, per SKU, the reason its ledger entry carries (a loss report's line reason).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Postings {
    pub changes: Vec<(SkuId, StockChange)>,
    pub label: &'static str,
    pub reasons: Vec<(SkuId, String)>,
}

impl Postings {
    /// The reason recorded for `sku_id`'s change, if any.
    pub fn reason_of(&self, sku_id: SkuId) -> Option<&str> {
        self.reasons.iter().find(|(sku, _)| *sku == sku_id).map(|(_, reason)| reason.as_str())
    }
}

/// Given per-line quantities (`None`: every line's default), checks each against its bound
/// and returns the quantity per line number.
fn per_line(
    lines: &[DocumentLine],
    given: Option<&[(i32, i64)]>,
    what: &'static str,
    bound: impl Fn(&DocumentLine) -> i64,
    allow_zero: bool,
) -> Result<Vec<(usize, i64)>, DocumentError> {
    let Some(given) = given else {
        return Ok(lines.iter().enumerate().map(|(i, l)| (i, bound(l))).filter(|(_, q)| *q > 0).collect());
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(given.len());
    for &(line_no, quantity) in given {
        if !seen.insert(line_no) {
            return Err(DocumentError::RepeatedLine { line_no });
        }
        let index = lines.iter().position(|l| l.line_no == line_no).ok_or(DocumentError::UnknownLine { line_no })?;
        let min = i64::from(!allow_zero);
        if quantity < min || quantity > Qty::MAX.get() {
            return Err(DomainError::OutOfRange { field: "quantity", min, max: Qty::MAX.get() }.into());
        }
        let max = bound(&lines[index]);
        if quantity > max {
            return Err(DocumentError::TooMuch { line_no, what, max, requested: quantity });
        }
        out.push((index, quantity));
    }
    Ok(out)
}

/// A purchase receipt: records `received` (per line; `None`: everything outstanding) and returns
/// the receipt's postings and whether the order is now complete.
pub fn receive_purchase(
    lines: &mut [DocumentLine],
    received: Option<&[(i32, i64)]>,
) -> Result<(Postings, bool), DocumentError> {
    let quantities = per_line(lines, received, "received", |l| (l.quantity - l.received).max(0), false)?;
    if quantities.is_empty() {
        return Err(DocumentError::Nothing);
    }
    let mut changes = Vec::with_capacity(quantities.len());
    for (index, quantity) in quantities {
        let line = &mut lines[index];
        line.received += quantity;
        changes.push((line.sku_id, StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: quantity }));
    }
    let complete = lines.iter().all(|l| l.received >= l.quantity);
    Ok((Postings { changes, label: MovementKind::PurchaseReceipt.as_str(), ..Postings::default() }, complete))
}

/// Approval of a requisition or transfer: grants `approved` per line, at most what the line
/// asked for (`None`: what was asked; a line left out gets what it asked for; zero refuses a
/// line).
pub fn approve_shipment(lines: &mut [DocumentLine], approved: Option<&[(i32, i64)]>) -> Result<(), DocumentError> {
    let granted = match approved {
        Some(_) => per_line(lines, approved, "approved", |l| l.quantity, true)?,
        None => Vec::new(),
    };
    for line in lines.iter_mut() {
        line.approved = Some(line.quantity);
    }
    for (index, quantity) in granted {
        lines[index].approved = Some(quantity);
    }
    if lines.iter().all(|l| l.approved == Some(0)) {
        return Err(DocumentError::Nothing);
    }
    Ok(())
}

/// Shipping a requisition or transfer: `shipped` per line, at most what was approved (`None`:
/// as approved; a line left out ships as approved, as approval and receipt treat lines left
/// out; zero holds a line back). Returns the postings at the source (goods leave) and at the
/// destination (goods in transit).
pub fn ship(
    kind: DocumentKind,
    lines: &mut [DocumentLine],
    shipped: Option<&[(i32, i64)]>,
) -> Result<(Postings, Postings), DocumentError> {
    let mut sent: Vec<i64> = lines.iter().map(|l| l.approved.unwrap_or(0)).collect();
    if shipped.is_some() {
        for (index, quantity) in per_line(lines, shipped, "shipped", |l| l.approved.unwrap_or(0), true)? {
            sent[index] = quantity;
        }
    }
    let (out_kind, _) = kind.shipment_kinds();
    let mut source = Postings { label: out_kind.as_str(), ..Postings::default() };
    let mut destination = Postings { label: "in_transit", ..Postings::default() };
    for (line, quantity) in lines.iter_mut().zip(sent) {
        line.shipped = Some(quantity);
        if quantity > 0 {
            source.changes.push((line.sku_id, StockChange::Move { kind: out_kind, delta: -quantity }));
            destination.changes.push((line.sku_id, StockChange::Dispatched(Qty::new(quantity))));
        }
    }
    if source.changes.is_empty() {
        return Err(DocumentError::Nothing);
    }
    Ok((source, destination))
}

/// Receiving a shipment: what arrived per line, at most what was shipped; a line not named
/// arrived in full. What was shipped and did not arrive leaves transit as missing and stays on
/// the line as its difference. Returns the postings at the destination.
pub fn receive_shipment(
    kind: DocumentKind,
    lines: &mut [DocumentLine],
    received: Option<&[(i32, i64)]>,
) -> Result<Postings, DocumentError> {
    let mut arrived: Vec<i64> = lines.iter().map(|l| l.shipped.unwrap_or(0)).collect();
    if received.is_some() {
        for (index, quantity) in per_line(lines, received, "received", |l| l.shipped.unwrap_or(0), true)? {
            arrived[index] = quantity;
        }
    }
    let (_, in_kind) = kind.shipment_kinds();
    let mut postings = Postings { label: in_kind.as_str(), ..Postings::default() };
    for (line, arrived) in lines.iter_mut().zip(arrived) {
        let shipped = line.shipped.unwrap_or(0);
        line.received = arrived;
        if shipped > 0 {
            let change = StockChange::Received { received: Qty::new(arrived), missing: Qty::new(shipped - arrived) };
            postings.changes.push((line.sku_id, change));
        }
    }
    Ok(postings)
}

/// Fixes each counted line's book quantity (`book_of` gives on hand now) so the variance is
/// what approval will post. Every line must be counted.
pub fn submit_count(lines: &mut [DocumentLine], book_of: impl Fn(SkuId) -> i64) -> Result<(), DocumentError> {
    if let Some(line) = lines.iter().find(|l| l.counted.is_none()) {
        return Err(DocumentError::NotCounted { line_no: line.line_no });
    }
    for line in lines.iter_mut() {
        line.book = Some(book_of(line.sku_id));
    }
    Ok(())
}

/// Records counts on a count sheet (each between 0 and the maximum quantity).
pub fn record_counts(lines: &mut [DocumentLine], counts: &[(i32, i64)]) -> Result<(), DocumentError> {
    let quantities = per_line(lines, Some(counts), "counted", |_| Qty::MAX.get(), true)?;
    for (index, quantity) in quantities {
        lines[index].counted = Some(quantity);
    }
    Ok(())
}

/// The adjustments an approved stocktake posts: each non-zero variance.
pub fn stocktake_postings(lines: &[DocumentLine]) -> Postings {
    let changes = lines
        .iter()
        .filter_map(|l| Some((l.sku_id, l.variance()?)))
        .filter(|(_, variance)| *variance != 0)
        .map(|(sku, delta)| (sku, StockChange::Move { kind: MovementKind::StocktakeAdjustment, delta }))
        .collect();
    Postings { changes, label: MovementKind::StocktakeAdjustment.as_str(), ..Postings::default() }
}

/// The removals an approved loss report posts, each with its line's reason (as a direct loss
/// movement records its reason).
pub fn loss_postings(lines: &[DocumentLine]) -> Postings {
    let changes =
        lines.iter().map(|l| (l.sku_id, StockChange::Move { kind: MovementKind::Loss, delta: -l.quantity })).collect();
    let reasons = lines.iter().filter_map(|l| Some((l.sku_id, l.reason.clone()?))).collect();
    Postings { changes, label: MovementKind::Loss.as_str(), reasons }
}

/// What a location should reorder of one SKU: enough to bring what it will have (available,
/// in transit and still expected) back up to its target when that falls to the reorder point.
pub fn reorder_quantity(available: i64, in_transit: i64, expected: i64, reorder_point: i64, target: i64) -> i64 {
    let projected = available.saturating_add(in_transit).saturating_add(expected);
    if projected > reorder_point { 0 } else { target.saturating_sub(projected).max(0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::StockLevels;
    use proptest::prelude::*;

    fn sku(n: u128) -> SkuId {
        SkuId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn lines(quantities: &[i64]) -> Vec<DocumentLine> {
        quantities.iter().enumerate().map(|(i, q)| DocumentLine::new(i as i32 + 1, sku(i as u128 + 1), *q)).collect()
    }

    #[test]
    fn open_steps_follow_the_state_machine_and_name_who_takes_them() {
        use DocumentEvent as E;
        let names = |kind, status| open_steps(kind, status).into_iter().map(E::as_str).collect::<Vec<_>>();
        assert_eq!(names(DocumentKind::Requisition, DocumentStatus::Submitted), ["approve", "reject", "cancel"]);
        assert_eq!(names(DocumentKind::Requisition, DocumentStatus::Approved), ["ship", "cancel"]);
        assert_eq!(names(DocumentKind::Purchase, DocumentStatus::PartiallyReceived), ["receive", "close"]);
        assert_eq!(names(DocumentKind::Stocktake, DocumentStatus::Counting), ["count", "submit", "cancel"]);
        assert!(names(DocumentKind::Loss, DocumentStatus::Posted).is_empty());
        assert_eq!(step_authority(DocumentKind::Transfer, E::Ship), (&[Permission::ManageStock][..], StepSite::Source));
        assert_eq!(step_authority(DocumentKind::Loss, E::Approve).0, [Permission::ApproveStock]);
        assert_eq!(step_authority(DocumentKind::Purchase, E::Close).0.len(), 2);
    }

    #[test]
    fn purchase_orders_receive_in_parts_and_close_short() {
        let mut po = lines(&[10, 5]);
        let (postings, complete) = receive_purchase(&mut po, Some(&[(1, 4)])).unwrap();
        assert!(!complete);
        assert_eq!(
            postings.changes,
            vec![(sku(1), StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: 4 })]
        );
        let err = receive_purchase(&mut po, Some(&[(1, 7)])).unwrap_err();
        assert_eq!(err, DocumentError::TooMuch { line_no: 1, what: "received", max: 6, requested: 7 });
        let (rest, complete) = receive_purchase(&mut po, None).unwrap();
        assert!(complete);
        assert_eq!(rest.changes.len(), 2);
        assert_eq!(receive_purchase(&mut po, None).unwrap_err(), DocumentError::Nothing);
        assert_eq!(
            transition(DocumentKind::Purchase, DocumentStatus::PartiallyReceived, DocumentEvent::Close),
            Ok(DocumentStatus::Closed)
        );
        assert!(transition(DocumentKind::Purchase, DocumentStatus::Open, DocumentEvent::Close).is_err());
    }

    #[test]
    fn shipments_go_through_transit_and_record_differences() {
        let mut rq = lines(&[10, 3]);
        approve_shipment(&mut rq, Some(&[(1, 8)])).unwrap();
        assert_eq!((rq[0].approved, rq[1].approved), (Some(8), Some(3)));
        assert!(matches!(
            ship(DocumentKind::Requisition, &mut rq.clone(), Some(&[(1, 9)])),
            Err(DocumentError::TooMuch { .. })
        ));
        let (source, destination) = ship(DocumentKind::Requisition, &mut rq, None).unwrap();
        assert_eq!(source.label, "requisition_out");
        assert_eq!(source.changes[0].1, StockChange::Move { kind: MovementKind::RequisitionOut, delta: -8 });
        assert_eq!(destination.changes[1].1, StockChange::Dispatched(Qty::new(3)));
        let arrived = receive_shipment(DocumentKind::Requisition, &mut rq, Some(&[(1, 7), (2, 3)])).unwrap();
        assert_eq!(arrived.label, "requisition_in");
        assert_eq!(arrived.changes[0].1, StockChange::Received { received: Qty::new(7), missing: Qty::new(1) });
        assert_eq!((rq[0].difference(), rq[1].difference()), (Some(-1), Some(0)));

        // The destination's books: in transit while shipped, on hand once received.
        let mut there = StockLevels::default();
        for (_, change) in &destination.changes[..1] {
            there = there.apply(*change).unwrap();
        }
        there = there.apply(arrived.changes[0].1).unwrap();
        assert_eq!((there.on_hand.get(), there.in_transit.get()), (7, 0));
    }

    #[test]
    fn a_line_left_out_of_a_shipment_ships_as_approved() {
        let mut rq = lines(&[24, 24, 24]);
        approve_shipment(&mut rq, Some(&[(1, 20)])).unwrap();
        let (source, destination) = ship(DocumentKind::Requisition, &mut rq, Some(&[(1, 18)])).unwrap();
        let shipped: Vec<_> = rq.iter().map(|l| l.shipped).collect();
        assert_eq!(shipped, [Some(18), Some(24), Some(24)]);
        let left: Vec<_> = source.changes.iter().map(|(sku, c)| (*sku, c.deltas().unwrap().on_hand)).collect();
        assert_eq!(left, [(sku(1), -18), (sku(2), -24), (sku(3), -24)]);
        assert_eq!(destination.changes[2], (sku(3), StockChange::Dispatched(Qty::new(24))));

        // Zero holds a named line back; a line refused at approval stays at zero.
        let mut tr = lines(&[5, 6, 7]);
        approve_shipment(&mut tr, Some(&[(3, 0)])).unwrap();
        let (source, _) = ship(DocumentKind::Transfer, &mut tr, Some(&[(2, 0)])).unwrap();
        assert_eq!(tr.iter().map(|l| l.shipped).collect::<Vec<_>>(), [Some(5), Some(0), Some(0)]);
        assert_eq!(source.changes, [(sku(1), StockChange::Move { kind: MovementKind::TransferOut, delta: -5 })]);
        let mut held = lines(&[5]);
        approve_shipment(&mut held, None).unwrap();
        assert_eq!(ship(DocumentKind::Transfer, &mut held, Some(&[(1, 0)])).unwrap_err(), DocumentError::Nothing);
    }

    #[test]
    fn approval_grants_at_most_what_was_asked() {
        let mut tr = lines(&[5, 3]);
        assert_eq!(
            approve_shipment(&mut tr, Some(&[(1, 1000)])).unwrap_err(),
            DocumentError::TooMuch { line_no: 1, what: "approved", max: 5, requested: 1000 }
        );
        assert_eq!(tr[0].approved, None, "a refused approval grants nothing");
        approve_shipment(&mut tr, Some(&[(1, 5), (2, 2)])).unwrap();
        assert_eq!((tr[0].approved, tr[1].approved), (Some(5), Some(2)));
    }

    #[test]
    fn a_loss_report_posts_each_lines_reason() {
        let mut report = lines(&[300, 2]);
        report[0].reason = Some("腐烂 rotten".to_owned());
        let postings = loss_postings(&report);
        assert_eq!(postings.changes[0], (sku(1), StockChange::Move { kind: MovementKind::Loss, delta: -300 }));
        assert_eq!(postings.reason_of(sku(1)), Some("腐烂 rotten"));
        assert_eq!(postings.reason_of(sku(2)), None);
    }

    #[test]
    fn counts_post_their_variance() {
        let mut sheet = lines(&[0, 0, 0]);
        record_counts(&mut sheet, &[(1, 12), (2, 5)]).unwrap();
        assert_eq!(submit_count(&mut sheet, |_| 10), Err(DocumentError::NotCounted { line_no: 3 }));
        record_counts(&mut sheet, &[(3, 10)]).unwrap();
        submit_count(&mut sheet, |_| 10).unwrap();
        let postings = stocktake_postings(&sheet);
        let deltas: Vec<_> = postings.changes.iter().map(|(_, c)| *c).collect();
        assert_eq!(
            deltas,
            vec![
                StockChange::Move { kind: MovementKind::StocktakeAdjustment, delta: 2 },
                StockChange::Move { kind: MovementKind::StocktakeAdjustment, delta: -5 },
            ]
        );
        assert_eq!(
            transition(DocumentKind::Stocktake, DocumentStatus::Submitted, DocumentEvent::Reject),
            Ok(DocumentStatus::Counting)
        );
    }

    #[test]
    fn bad_line_references_are_named() {
        let mut po = lines(&[1]);
        assert_eq!(receive_purchase(&mut po, Some(&[(9, 1)])).unwrap_err(), DocumentError::UnknownLine { line_no: 9 });
        assert_eq!(
            receive_purchase(&mut po, Some(&[(1, 1), (1, 1)])).unwrap_err(),
            DocumentError::RepeatedLine { line_no: 1 }
        );
        assert!(matches!(receive_purchase(&mut po, Some(&[(1, 0)])), Err(DocumentError::Invalid(_))));
    }

    #[test]
    fn reorder_up_to_target_at_the_reorder_point() {
        assert_eq!(reorder_quantity(5, 0, 0, 4, 20), 0);
        assert_eq!(reorder_quantity(4, 0, 0, 4, 20), 16);
        assert_eq!(reorder_quantity(1, 2, 1, 4, 20), 16);
        assert_eq!(reorder_quantity(0, 0, 30, 4, 20), 0);
    }

    fn event() -> impl Strategy<Value = DocumentEvent> {
        use DocumentEvent::*;
        prop_oneof![
            any::<bool>().prop_map(|complete| Receive { complete }),
            Just(Close),
            Just(Count),
            Just(Submit),
            Just(Approve),
            Just(Reject),
            Just(Ship),
            Just(Cancel),
        ]
    }

    proptest! {
        /// Final statuses stay final, and only stock-moving statuses follow approval.
        #[test]
        fn final_statuses_stay_final(kind in proptest::sample::select(DocumentKind::ALL.to_vec()),
                                     events in proptest::collection::vec(event(), 0..20)) {
            let mut status = kind.initial_status();
            for event in events {
                match transition(kind, status, event) {
                    Ok(next) => {
                        prop_assert!(!status.is_final());
                        status = next;
                    }
                    Err(err) => prop_assert_eq!(err.status, status),
                }
            }
        }

        /// However a shipment is split, what arrives plus what is missing equals what left, and
        /// the destination's transit returns to zero.
        #[test]
        fn shipments_conserve_goods(asked in proptest::collection::vec(1i64..100, 1..6), cut in 0i64..100) {
            let mut doc = lines(&asked);
            approve_shipment(&mut doc, None).unwrap();
            prop_assert!(doc.iter().all(|l| l.approved == Some(l.quantity)), "granted as asked");
            let (source, destination) = ship(DocumentKind::Transfer, &mut doc, None).unwrap();
            let received: Vec<(i32, i64)> = doc.iter().map(|l| (l.line_no, l.shipped.unwrap() * cut / 100)).collect();
            let arrived = receive_shipment(DocumentKind::Transfer, &mut doc, Some(&received)).unwrap();
            let mut there = StockLevels::default();
            for (_, change) in destination.changes.iter().chain(&arrived.changes) {
                there = there.apply(*change).unwrap();
            }
            let left: i64 = source.changes.iter().map(|(_, c)| -c.deltas().unwrap().on_hand).sum();
            let missing: i64 = doc.iter().map(|l| -l.difference().unwrap()).sum();
            prop_assert_eq!(there.in_transit.get(), 0);
            prop_assert_eq!(there.on_hand.get() + missing, left);
        }
    }
}
