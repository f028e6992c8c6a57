//! Rows that are not domain entities: credentials, tokens, audit entries, outbox events,
//! idempotency records, and the shapes of list queries (filters and pages).

use quanyu_domain::{
    ids::{AuditId, EventId, RegionId, StaffId, StoreId, TokenId},
    org::Role,
    time::Timestamp,
};
use uuid::Uuid;

/// Keyset pagination: rows after the row whose id is `after`, at most `limit`. Ids are UUIDv7,
/// so id order is creation order; a listing sorted by a column also needs that row's value of
/// the column ([`Sorting::after`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl Page {
    pub const MAX_LIMIT: u32 = 500;

    pub fn first(limit: u32) -> Page {
        Page { after: None, limit: limit.clamp(1, Self::MAX_LIMIT) }
    }

    /// The limit as a SQL bind value.
    pub fn sql_limit(&self) -> i64 {
        // One more than the maximum page, so a caller can learn whether another page exists.
        i64::from(self.limit.clamp(1, Self::MAX_LIMIT + 1))
    }
}

/// A row's value of the column a listing is sorted by: what a sorted page's cursor carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// The columns a listing can be sorted by, with the names clients use for them
/// (`sort=name`, `sort=-name` for descending).
pub trait SortKey: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    const NAMES: &'static [(&'static str, Self)];

    fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, key)| *key == self).map_or("", |(name, _)| name)
    }
}

/// A row's value of each sort column `K`: what the next page's cursor carries.
pub trait Sorted<K: SortKey> {
    fn sort_value(&self, key: K) -> SortValue;
}

/// How a listing is ordered: by a column `K` and then by id, or by id alone (creation order)
/// when `key` is `None`; ascending unless `descending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrder<K> {
    pub key: Option<K>,
    pub descending: bool,
}

impl<K> Default for SortOrder<K> {
    fn default() -> Self {
        SortOrder { key: None, descending: false }
    }
}

/// A sorted listing's order and, past its first page, the last row's value of the sort column
/// (its id is the page's [`Page::after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sorting<K> {
    pub order: SortOrder<K>,
    pub after: Option<SortValue>,
}

impl<K> Default for Sorting<K> {
    fn default() -> Self {
        Sorting { order: SortOrder::default(), after: None }
    }
}

impl<K> From<SortOrder<K>> for Sorting<K> {
    fn from(order: SortOrder<K>) -> Self {
        Sorting { order, after: None }
    }
}

/// Declares a listing's sort keys and their client names.
macro_rules! sort_keys {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl SortKey for $name {
            const NAMES: &'static [(&'static str, Self)] = &[$(($text, $name::$variant)),+];
        }
    };
}

sort_keys!(
    /// The sortable columns of the store list.
    StoreSort { Code => "code", Name => "name", Area => "area_m2" }
);
sort_keys!(
    /// The sortable columns of the staff list.
    StaffSort { Username => "username", Name => "display_name", Role => "role" }
);
sort_keys!(
    /// The sortable columns of the SKU list.
    SkuSort { Code => "code", Name => "name", Price => "base_price" }
);
sort_keys!(
    /// The sortable columns of a store's stock levels.
    StockSort { OnHand => "on_hand", Available => "available", Reserved => "reserved" }
);
sort_keys!(
    /// The sortable columns of the order list (creation order is the id order).
    OrderSort { Total => "total" }
);
sort_keys!(
    /// The sortable columns of saved audiences.
    AudienceSort { Name => "name" }
);
sort_keys!(
    /// The sortable columns of the member list.
    CustomerSort { Ordinal => "ordinal" }
);
sort_keys!(
    /// The sortable columns of coupon templates.
    CouponTemplateSort { Name => "name", Issued => "issued" }
);
sort_keys!(
    /// The sortable columns of promotions.
    PromotionSort { Name => "name", Priority => "priority" }
);
sort_keys!(
    /// The sortable columns of promoters with their commission balances.
    PromoterSort { Name => "name", Frozen => "frozen", Available => "available", Pending => "pending", PaidOut => "paid_out" }
);

/// Restricts a listing to part of the chain. `None` everywhere lists everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlaceFilter {
    pub region_id: Option<RegionId>,
    pub store_id: Option<StoreId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreFilter {
    pub place: PlaceFilter,
    /// `open`, `paused` or `closed`.
    pub status: Option<String>,
    /// Case-insensitive substring of code or name.
    pub search: Option<String>,
    /// Stores or warehouses only.
    pub kind: Option<quanyu_domain::org::StoreKind>,
    pub sort: Sorting<StoreSort>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffFilter {
    /// Staff whose scope lies inside this place: a region filter includes the region's
    /// manager and the staff of its stores.
    pub place: PlaceFilter,
    pub role: Option<Role>,
    pub search: Option<String>,
    pub sort: Sorting<StaffSort>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Products in this category or any below it.
    pub category_id: Option<quanyu_domain::ids::CategoryId>,
    pub brand_id: Option<quanyu_domain::ids::BrandId>,
    pub search: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuFilter {
    pub product_id: Option<quanyu_domain::ids::ProductId>,
    /// SKUs of products in this category or any below it (生鲜 lists 水果's SKUs too).
    pub category_id: Option<quanyu_domain::ids::CategoryId>,
    pub barcode: Option<String>,
    /// Case-insensitive substring of SKU code, SKU name or product name.
    pub search: Option<String>,
    pub sort: Sorting<SkuSort>,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Issued by a login; sent as a cookie by the web UI or as a bearer token.
    Session,
    /// Issued by an admin for an integration; sent as a bearer token.
    Api,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
        }
    }

    pub fn parse(raw: &str) -> Option<TokenKind> {
        match raw {
            "session" => Some(TokenKind::Session),
            "api" => Some(TokenKind::Api),
            _ => None,
        }
    }
}

/// A bearer credential. Only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub staff_id: StaffId,
    pub kind: TokenKind,
    /// A label for API tokens ("ERP sync"); empty for sessions.
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// One field's value before and after a write, as text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Who changed what, when and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: Timestamp,
    /// `None` for the system itself (migrations, demo seeding, imports run from the CLI).
    pub actor_id: Option<StaffId>,
    pub actor_name: String,
    /// `store.create`, `sku.update`, `auth.login`…
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The store the entity belongs to, for scoped reading.
    pub store_id: Option<StoreId>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<StaffId>,
    pub store_id: Option<StoreId>,
    /// Exactly this action, e.g. `store.updated`.
    pub action: Option<String>,
    /// Entries at or after this instant.
    pub since: Option<Timestamp>,
    /// Entries before this instant.
    pub until: Option<Timestamp>,
}

/// A domain event in the outbox, written in the same transaction as the change it reports.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub id: EventId,
    /// Assigned by the database on insert: a gap-free-enough, increasing delivery order.
    pub seq: i64,
    pub at: Timestamp,
    /// `store.created`, `sku.updated`…
    pub kind: String,
    pub entity_type: String,
    pub entity_id: String,
    pub payload: serde_json::Value,
}

/// The stored outcome of a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub actor_id: StaffId,
    pub key: String,
    /// Hex SHA-256 of method, path and body: the same key with another request is refused.
    pub fingerprint: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub created_at: Timestamp,
}

/// One entry of the stock ledger: how a change moved each bucket of one store's SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockEntry {
    pub id: quanyu_domain::ids::StockEntryId,
    pub store_id: StoreId,
    pub sku_id: quanyu_domain::ids::SkuId,
    /// What happened: a movement kind (`purchase_receipt`, `loss`…) or a hold change
    /// (`reserve`, `commit`…).
    pub change: String,
    pub deltas: quanyu_domain::inventory::StockDeltas,
    pub reason: Option<String>,
    /// The document or order behind the change.
    pub reference: Option<String>,
    /// Unique across the ledger: a retried change finds its entry instead of moving stock twice.
    pub idempotency_key: String,
    pub actor_id: Option<StaffId>,
    pub at: Timestamp,
}

/// A store's stock of one SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockRow {
    pub store_id: StoreId,
    pub sku_id: quanyu_domain::ids::SkuId,
    pub levels: quanyu_domain::inventory::StockLevels,
    pub updated_at: Timestamp,
}

/// A stock row whose buckets differ from the sums of its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerMismatch {
    pub row: StockRow,
    pub ledger: quanyu_domain::inventory::StockDeltas,
}

/// A step in the life of an order or a stock document, for its timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineStep<I> {
    pub id: uuid::Uuid,
    /// The order or document.
    pub subject: I,
    /// `created`, `pay`, `approve`, `ship`…
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<StaffId>,
    pub note: Option<String>,
    pub at: Timestamp,
}

pub type OrderStep = TimelineStep<quanyu_domain::ids::OrderId>;
pub type DocumentStep = TimelineStep<quanyu_domain::ids::DocumentId>;

/// Money received for an order, or given back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: quanyu_domain::ids::PaymentId,
    pub order_id: quanyu_domain::ids::OrderId,
    /// `payment` or `refund`.
    pub kind: String,
    pub method: quanyu_domain::order::PaymentMethod,
    /// Positive for both kinds.
    pub amount: quanyu_domain::Money,
    /// The terminal's or provider's reference.
    pub reference: Option<String>,
    /// What the customer handed over, for a cash payment whose till said so.
    pub tendered: Option<quanyu_domain::Money>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub place: PlaceFilter,
    pub status: Option<String>,
    pub channel: Option<String>,
    /// Created at or after.
    pub created_from: Option<Timestamp>,
    /// Created before.
    pub created_before: Option<Timestamp>,
    pub customer_id: Option<quanyu_domain::ids::CustomerId>,
    /// The orders of one table (as its label is stored: see `TableLabel`).
    pub table: Option<String>,
    /// By total or by creation (id) order; descending without a key is newest first.
    pub sort: Sorting<OrderSort>,
}

/// A flash-sale offer (秒杀): a price, a quota and a per-customer limit for a time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashSale {
    pub id: uuid::Uuid,
    pub store_id: StoreId,
    pub sku_id: quanyu_domain::ids::SkuId,
    pub price: quanyu_domain::Money,
    pub quota: i64,
    pub sold: i64,
    pub per_customer_limit: i64,
    /// How long a reservation holds before it must become an order.
    pub hold_minutes: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_at: Timestamp,
    /// The last record of the sale's reservation journal (0: none yet).
    pub journal_seq: i64,
}

/// One record appended to a flash sale's journal, with the stock it reserves.
#[derive(Debug, Clone, Copy)]
pub struct FlashJournalAppend<'a> {
    pub at: Timestamp,
    /// Reservations in the record.
    pub reservations: i64,
    /// Units they reserve, claimed from the sale's quota by the append.
    pub units: i64,
    /// `quanyu_domain::flash::journal::JournalRecord::encode`.
    pub payload: &'a [u8],
    /// The stock-ledger entry reserving `units` of the sale's SKU in its store.
    pub stock: &'a StockEntry,
}

/// Units of a flash sale held for one buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashReservation {
    pub id: uuid::Uuid,
    pub sale_id: uuid::Uuid,
    pub buyer: quanyu_domain::flash::BuyerBuf,
    pub quantity: i64,
    /// The buyer's own request key, unique per sale and buyer: a retried request finds its
    /// reservation.
    pub idempotency_key: String,
    pub at: Timestamp,
    pub status: quanyu_domain::flash::HoldStatus,
    /// When a held reservation is released if no order took it.
    pub expires_at: Timestamp,
    /// The order that took the hold.
    pub order_id: Option<quanyu_domain::ids::OrderId>,
}

/// Which stock documents to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Documents touching this place, as destination or source.
    pub place: PlaceFilter,
    /// Documents whose goods arrive at (or which count or write off stock of) this location.
    pub destination: Option<StoreId>,
    pub kind: Option<quanyu_domain::documents::DocumentKind>,
    /// Any of these statuses (empty: any status).
    pub statuses: Vec<quanyu_domain::documents::DocumentStatus>,
}

/// When a store should reorder an SKU, and up to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockPolicy {
    pub store_id: StoreId,
    pub sku_id: quanyu_domain::ids::SkuId,
    /// Low stock: reorder when what the store has and expects falls to this.
    pub reorder_point: i64,
    /// Reorder up to this.
    pub target: i64,
    pub updated_at: Timestamp,
}

/// Which customers to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Customers whose home store lies in this place.
    pub place: PlaceFilter,
    /// Customers of this guide.
    pub guide_id: Option<StaffId>,
    /// By member number, or by when they joined (creation order).
    pub sort: Sorting<CustomerSort>,
}

/// Two profiles found to be one person: the absorbed one now resolves to the survivor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMerge {
    pub id: uuid::Uuid,
    pub survivor_id: quanyu_domain::ids::CustomerId,
    pub absorbed_id: quanyu_domain::ids::CustomerId,
    /// How many identifiers moved.
    pub identities: i64,
    pub reason: Option<String>,
    pub actor_id: Option<StaffId>,
    pub at: Timestamp,
    /// The survivor's fields the merge filled from the absorbed profile (`display_name`,
    /// `home_store_id`, `guide_id`), emptied again by an undo if still as the merge left them.
    pub filled: Vec<String>,
}

/// The survivor's balances once a merge is undone: an undo that would leave either below zero
/// (the survivor spent what came with the absorbed profile) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeUndone {
    pub survivor_points: i64,
    pub survivor_stored_value: i64,
}

/// One movement of a customer's stored value (储值).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValueEntry {
    pub id: uuid::Uuid,
    pub customer_id: quanyu_domain::ids::CustomerId,
    /// `top_up`, `bonus`, `pay`, `refund` or `adjust`.
    pub kind: String,
    /// Signed: positive adds, negative removes.
    pub amount: quanyu_domain::Money,
    pub order_id: Option<quanyu_domain::ids::OrderId>,
    /// How a top-up was paid, and the terminal's reference.
    pub method: Option<quanyu_domain::order::PaymentMethod>,
    pub reference: Option<String>,
    /// Unique: a retried change finds its entry and moves nothing.
    pub idempotency_key: String,
    pub actor_id: Option<StaffId>,
    pub at: Timestamp,
}

/// What an order moved of its customer's points, each as a positive number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderPoints {
    pub earned: i64,
    pub taken_back: i64,
    /// Spent on the order at checkout.
    pub redeemed: i64,
    /// Of those spent, given back as the order was cancelled or refunded.
    pub restored: i64,
}

/// One movement of a customer's points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsEntry {
    pub id: uuid::Uuid,
    pub customer_id: quanyu_domain::ids::CustomerId,
    /// `earn`, `take_back`, `redeem` (spent at checkout), `restore` (given back when the order
    /// was undone), `adjust` or `expire`.
    pub kind: String,
    /// Signed: positive adds, negative removes.
    pub points: i64,
    pub order_id: Option<quanyu_domain::ids::OrderId>,
    pub reason: Option<String>,
    /// When the points of an `earn` entry expire.
    pub expires_at: Option<Timestamp>,
    /// Unique: a retried change finds its entry and moves nothing.
    pub idempotency_key: String,
    pub actor_id: Option<StaffId>,
    pub at: Timestamp,
}

/// Where a reader stands in the log of audience changes (opaque: each backend reads it its way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceCursor {
    /// SQLite: the last entry read. PostgreSQL: the oldest transaction whose entries may not all
    /// have been read (the snapshot's `xmin` at the last read).
    pub(crate) position: i64,
    /// PostgreSQL: transactions at or after `position` whose entries were read already — a
    /// transaction's entries become visible together, so they need not be read again while a
    /// long transaction elsewhere holds `position` back. Empty on SQLite.
    pub(crate) read: Vec<i64>,
}

/// What the audience engine knows of one member, as loaded from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceRow {
    pub ordinal: i64,
    pub tier: Option<String>,
    pub home_store: Option<String>,
    pub region: Option<String>,
    pub points: i64,
    /// Paid less refunded on orders in the scoring window, in 分, and how many orders.
    pub spend: i64,
    pub orders: i64,
    /// RFM scores (0 when not scored yet) and lifecycle stage.
    pub r: i64,
    pub f: i64,
    pub m: i64,
    pub stage: Option<String>,
    pub last_order_at: Option<Timestamp>,
}

/// One movement of a coupon: issued, used on an order, restored to the wallet, voided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponEntry {
    pub id: uuid::Uuid,
    pub coupon_id: quanyu_domain::ids::CouponId,
    /// `issue`, `use`, `restore` or `void`.
    pub kind: String,
    pub order_id: Option<quanyu_domain::ids::OrderId>,
    /// Unique: a retried change finds its entry and moves nothing.
    pub idempotency_key: String,
    pub actor_id: Option<StaffId>,
    pub at: Timestamp,
}

/// A coupon whose status disagrees with its ledger, or a template whose count disagrees with
/// its coupons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponMismatch {
    /// `coupon` or `template`.
    pub what: &'static str,
    pub id: uuid::Uuid,
    pub recorded: String,
    pub from_ledger: String,
}

/// One movement of a promoter's commission between its buckets (each delta signed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionEntry {
    pub id: uuid::Uuid,
    pub promoter_id: quanyu_domain::ids::PromoterId,
    /// `accrue`, `reverse`, `release`, `request_payout`, `pay_out` or `reject_payout`.
    pub kind: String,
    pub order_id: Option<quanyu_domain::ids::OrderId>,
    pub line_no: Option<i32>,
    /// 1 or 2, for accruals and reversals.
    pub level: Option<u8>,
    pub payout_id: Option<quanyu_domain::ids::PayoutId>,
    pub delta: quanyu_domain::referral::Buckets,
    /// Accruals: when the return window ends.
    pub release_at: Option<Timestamp>,
    pub idempotency_key: String,
    pub at: Timestamp,
}

/// What one line of an order earned one promoter at one level, and what was reversed of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCommission {
    pub promoter_id: quanyu_domain::ids::PromoterId,
    pub line_no: i32,
    pub level: u8,
    pub accrued: quanyu_domain::Money,
    pub reversed: quanyu_domain::Money,
}

/// Who an order is attributed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub order_id: quanyu_domain::ids::OrderId,
    /// Level 1: the promoter whose link it came through, or the buyer's inviter.
    pub promoter_id: Option<quanyu_domain::ids::PromoterId>,
    /// Level 2: the level-1 promoter's parent.
    pub parent_id: Option<quanyu_domain::ids::PromoterId>,
    /// The guide credited with an online sale.
    pub guide_id: Option<StaffId>,
    /// `link` or `binding`.
    pub source: String,
}

/// One entry of the guide-sales ledger: an attributed online sale, or a refund of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideSale {
    pub id: uuid::Uuid,
    pub guide_id: StaffId,
    pub order_id: quanyu_domain::ids::OrderId,
    /// `sale` or `refund` (negative amount).
    pub kind: String,
    pub amount: quanyu_domain::Money,
    pub idempotency_key: String,
    pub at: Timestamp,
}

/// A promoter whose balances differ from the sums of their ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionMismatch {
    pub promoter_id: quanyu_domain::ids::PromoterId,
    pub balance: quanyu_domain::referral::Buckets,
    pub ledger: quanyu_domain::referral::Buckets,
}

/// A system that sends customer events with a write key (an app, a mini-program, a website).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    pub id: uuid::Uuid,
    pub name: String,
    /// SHA-256 of the write key, hex; the key itself is shown once, at creation.
    pub key_hash: String,
    pub created_by: Option<StaffId>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A stored customer event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: uuid::Uuid,
    pub source_id: uuid::Uuid,
    pub message: quanyu_domain::events::EventMessage,
    /// The customer it is about, once known (from its userId, or its anonymous id stitched).
    pub customer_id: Option<quanyu_domain::ids::CustomerId>,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
}

impl StoredEvent {
    /// The anonymous ids of these events that have no customer, sorted and each once: what a bulk
    /// insert looks up in `anonymous_ids`.
    pub(crate) fn unowned_anonymous_ids(events: &[StoredEvent]) -> Vec<&str> {
        let mut ids: Vec<&str> = events
            .iter()
            .filter(|e| e.customer_id.is_none())
            .filter_map(|e| e.message.anonymous_id.as_deref())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Gives each of these events that has no customer the one its anonymous id belongs to.
    pub(crate) fn give_owners(
        events: &mut [StoredEvent],
        owners: &std::collections::HashMap<String, quanyu_domain::ids::CustomerId>,
    ) {
        if owners.is_empty() {
            return;
        }
        for event in events.iter_mut().filter(|e| e.customer_id.is_none()) {
            event.customer_id = event.message.anonymous_id.as_ref().and_then(|id| owners.get(id)).copied();
        }
    }
}

/// A customer's order activity in the scoring window, their RFM scores and lifecycle stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerScores {
    pub customer_id: quanyu_domain::ids::CustomerId,
    /// Paid orders in the window, and what they paid less refunds (分).
    pub orders: i64,
    pub spend: i64,
    pub last_order_at: Option<Timestamp>,
    /// 1–5 each; recency 0 when the customer never ordered.
    pub r: i64,
    pub f: i64,
    pub m: i64,
    /// `introduction`, `growth`, `maturity`, `decline`, `silence` or `churned`.
    pub stage: String,
    pub stage_entered_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a customer's scores are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreInput {
    pub customer_id: quanyu_domain::ids::CustomerId,
    pub registered_at: Timestamp,
    /// Paid orders since the window's start, what they paid less refunds (分), and the last.
    pub orders: i64,
    pub spend: i64,
    pub last_order_at: Option<Timestamp>,
}

/// One order a customer's scores count (paid, not cancelled, placed in the window), as a full
/// rebuild reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedOrder {
    pub customer_id: quanyu_domain::ids::CustomerId,
    pub created_at: Timestamp,
    /// What it paid less what was refunded (分).
    pub spend: i64,
}

/// A tag (标签) customers can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: uuid::Uuid,
    pub name: String,
    /// `manual`, `imported`, `rule` or `computed`.
    pub kind: String,
    pub description: Option<String>,
    /// For rule tags: what makes the tag stick.
    pub rule: Option<quanyu_domain::customer::TagRule>,
    pub created_at: Timestamp,
}

/// A saved audience: a segment expression, evaluated live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAudience {
    pub id: uuid::Uuid,
    pub name: String,
    pub expression: String,
    pub created_by: Option<StaffId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A term of a paid membership (付费会员) a customer bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidMembership {
    pub id: uuid::Uuid,
    pub customer_id: quanyu_domain::ids::CustomerId,
    pub tier_id: quanyu_domain::ids::TierId,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub amount: quanyu_domain::Money,
    pub method: quanyu_domain::order::PaymentMethod,
    pub reference: Option<String>,
    /// Unique: a retried purchase finds its term.
    pub idempotency_key: String,
    pub created_at: Timestamp,
}

/// A follow-up task of a guide (跟进任务): a customer to contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideTask {
    pub id: uuid::Uuid,
    pub guide_id: StaffId,
    pub customer_id: quanyu_domain::ids::CustomerId,
    /// The saved audience it came from.
    pub audience_id: uuid::Uuid,
    pub title: String,
    /// `open` or `done`.
    pub status: String,
    pub note: Option<String>,
    pub created_at: Timestamp,
    pub done_at: Option<Timestamp>,
}

/// Which customers to find: a [`CustomerFilter`] narrowed by a search and the attributes a
/// guide's customer book filters on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerSearch {
    pub filter: CustomerFilter,
    /// Case-insensitive substring of the display name, or digits of a phone number.
    pub text: Option<String>,
    /// Customers whose stored lifecycle stage is this (`introduction`, `growth`…).
    pub stage: Option<String>,
    /// Customers carrying the tag of this name.
    pub tag: Option<String>,
}

/// How a guide's follow-up tasks stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuideTaskCounts {
    pub open: i64,
    pub done: i64,
    /// Done at or after the `since` asked for.
    pub done_since: i64,
}

/// A one-time sign-in code sent to a customer's phone (one active per phone). Only a salted
/// hash of the code is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCode {
    /// The mobile number, 11 digits.
    pub phone: String,
    /// Hex SHA-256 of `salt` and the code.
    pub code_hash: String,
    pub salt: String,
    /// Checks made against this code so far.
    pub attempts: i32,
    pub sent_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A customer's signed-in session in the mall: only the SHA-256 of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSession {
    pub id: Uuid,
    pub customer_id: quanyu_domain::ids::CustomerId,
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Paid sales of one channel in a time window (a row of the sales report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSales {
    pub channel: String,
    pub orders: i64,
    /// Paid less refunded (分).
    pub net: i64,
    /// The part of `net` bought by members (orders with a customer).
    pub member_net: i64,
}

/// Paid sales of one store in a time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSales {
    pub store_id: StoreId,
    pub store_name: String,
    pub orders: i64,
    /// Paid less refunded (分).
    pub net: i64,
}

/// What one SKU sold in a time window, from the order lines of paid orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuSales {
    pub sku_id: quanyu_domain::ids::SkuId,
    pub sku_name: String,
    /// Units, or grams for goods sold by weight, less what was refunded.
    pub quantity: i64,
    pub sold_by_weight: bool,
    /// Line amounts less refunds (分).
    pub net: i64,
}

impl Sorted<StoreSort> for quanyu_domain::org::Store {
    fn sort_value(&self, key: StoreSort) -> SortValue {
        match key {
            StoreSort::Code => SortValue::Text(self.code.clone()),
            StoreSort::Name => SortValue::Text(self.name.clone()),
            StoreSort::Area => SortValue::Int(self.area_m2.into()),
        }
    }
}

impl Sorted<StaffSort> for quanyu_domain::org::Staff {
    fn sort_value(&self, key: StaffSort) -> SortValue {
        match key {
            StaffSort::Username => SortValue::Text(self.username.clone()),
            StaffSort::Name => SortValue::Text(self.display_name.clone()),
            StaffSort::Role => SortValue::Text(self.assignment.role().as_str().to_owned()),
        }
    }
}

impl Sorted<SkuSort> for quanyu_domain::catalog::Sku {
    fn sort_value(&self, key: SkuSort) -> SortValue {
        match key {
            SkuSort::Code => SortValue::Text(self.code.clone()),
            SkuSort::Name => SortValue::Text(self.name.clone()),
            SkuSort::Price => SortValue::Int(self.prices.base.fen()),
        }
    }
}

impl Sorted<StockSort> for StockRow {
    fn sort_value(&self, key: StockSort) -> SortValue {
        SortValue::Int(match key {
            StockSort::OnHand => self.levels.on_hand.get(),
            StockSort::Available => self.levels.available().get(),
            StockSort::Reserved => self.levels.reserved.get(),
        })
    }
}

impl Sorted<OrderSort> for quanyu_domain::order::Order {
    fn sort_value(&self, key: OrderSort) -> SortValue {
        match key {
            OrderSort::Total => SortValue::Int(self.total.fen()),
        }
    }
}

impl Sorted<AudienceSort> for SavedAudience {
    fn sort_value(&self, key: AudienceSort) -> SortValue {
        match key {
            AudienceSort::Name => SortValue::Text(self.name.clone()),
        }
    }
}

impl Sorted<PromoterSort> for (quanyu_domain::referral::Promoter, quanyu_domain::referral::Buckets) {
    fn sort_value(&self, key: PromoterSort) -> SortValue {
        let (promoter, balance) = self;
        match key {
            PromoterSort::Name => SortValue::Text(promoter.name.clone()),
            PromoterSort::Frozen => SortValue::Int(balance.frozen.fen()),
            PromoterSort::Available => SortValue::Int(balance.available.fen()),
            PromoterSort::Pending => SortValue::Int(balance.pending.fen()),
            PromoterSort::PaidOut => SortValue::Int(balance.paid_out.fen()),
        }
    }
}

impl Sorted<CouponTemplateSort> for quanyu_domain::marketing::CouponTemplate {
    fn sort_value(&self, key: CouponTemplateSort) -> SortValue {
        match key {
            CouponTemplateSort::Name => SortValue::Text(self.name.clone()),
            CouponTemplateSort::Issued => SortValue::Int(self.issued),
        }
    }
}

impl Sorted<PromotionSort> for quanyu_domain::marketing::StoredPromotion {
    fn sort_value(&self, key: PromotionSort) -> SortValue {
        match key {
            PromotionSort::Name => SortValue::Text(self.name.clone()),
            PromotionSort::Priority => SortValue::Int(self.priority.into()),
        }
    }
}

impl Sorted<CustomerSort> for quanyu_domain::customer::Customer {
    fn sort_value(&self, key: CustomerSort) -> SortValue {
        match key {
            CustomerSort::Ordinal => SortValue::Int(self.ordinal),
        }
    }
}
