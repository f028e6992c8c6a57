//! The repository traits: what the store can do, area by area. Each backend implements every
//! trait on its transaction type; the use cases in `app` see only these traits.

use async_trait::async_trait;
use quanyu_domain::{
    catalog::{Brand, Category, Product, Sku, StoreSku},
    flash::{Buyer, BuyerBuf},
    ids::{BrandId, CategoryId, ProductId, RegionId, SkuId, StaffId, StoreId, TokenId},
    org::{Chain, Region, Staff, Store},
    time::Timestamp,
};

use crate::{
    Attribution, AudienceCursor, AudienceRow, AudienceSort, AuditEntry, AuditFilter, ChannelSales, CommissionEntry,
    CommissionMismatch, CountedOrder, CouponEntry, CouponMismatch, CouponTemplateSort, CustomerFilter, CustomerMerge,
    CustomerScores, CustomerSearch, DocumentFilter, DocumentStep, EventSource, FlashJournalAppend, FlashReservation,
    FlashSale, GuideSale, GuideTask, GuideTaskCounts, IdempotencyRecord, LedgerMismatch, LineCommission, MergeUndone,
    OrderFilter, OrderPoints, OrderStep, OutboxEvent, Page, PaidMembership, PaymentRecord, PlaceFilter, PointsEntry,
    ProductFilter, PromoterSort, PromotionSort, SavedAudience, ScoreInput, SkuFilter, SkuSales, Sorting, StaffFilter,
    StockEntry, StockPolicy, StockRow, StockSort, StoreFilter, StoreResult, StoreSales, StoredEvent, StoredValueEntry,
    Tag, TokenKind, TokenRecord,
};

#[async_trait]
pub trait ChainRepo {
    /// The chain's settings; `None` before the first setup.
    async fn get_chain(&mut self) -> StoreResult<Option<Chain>>;
    async fn put_chain(&mut self, chain: &Chain) -> StoreResult<()>;
}

#[async_trait]
pub trait RegionRepo {
    async fn insert_region(&mut self, region: &Region) -> StoreResult<()>;
    /// Returns whether a row was updated (false: no such region).
    async fn update_region(&mut self, region: &Region) -> StoreResult<bool>;
    async fn get_region(&mut self, id: RegionId) -> StoreResult<Option<Region>>;
    /// Regions in id order; `only` restricts to one region.
    async fn list_regions(&mut self, only: Option<RegionId>, page: Page) -> StoreResult<Vec<Region>>;
}

#[async_trait]
pub trait StoreRepo {
    async fn insert_store(&mut self, store: &Store) -> StoreResult<()>;
    async fn update_store(&mut self, store: &Store) -> StoreResult<bool>;
    async fn get_store(&mut self, id: StoreId) -> StoreResult<Option<Store>>;
    async fn get_store_by_code(&mut self, code: &str) -> StoreResult<Option<Store>>;
    async fn list_stores(&mut self, filter: &StoreFilter, page: Page) -> StoreResult<Vec<Store>>;
}

#[async_trait]
pub trait StaffRepo {
    async fn insert_staff(&mut self, staff: &Staff, password_hash: &str) -> StoreResult<()>;
    async fn update_staff(&mut self, staff: &Staff) -> StoreResult<bool>;
    async fn set_password_hash(&mut self, id: StaffId, password_hash: &str) -> StoreResult<bool>;
    async fn get_staff(&mut self, id: StaffId) -> StoreResult<Option<Staff>>;
    /// The staff member whose username (case-insensitive) or phone is `login`, with their
    /// password hash.
    async fn find_staff_for_login(&mut self, login: &str) -> StoreResult<Option<(Staff, String)>>;
    async fn list_staff(&mut self, filter: &StaffFilter, page: Page) -> StoreResult<Vec<Staff>>;
}

#[async_trait]
pub trait TokenRepo {
    async fn insert_token(&mut self, token: &TokenRecord) -> StoreResult<()>;
    async fn find_token_by_hash(&mut self, secret_hash: &str) -> StoreResult<Option<TokenRecord>>;
    /// Marks a token revoked; returns whether it existed and was live.
    async fn revoke_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<bool>;
    async fn get_token(&mut self, id: TokenId) -> StoreResult<Option<TokenRecord>>;
    async fn list_tokens(&mut self, kind: TokenKind, page: Page) -> StoreResult<Vec<TokenRecord>>;
}

#[async_trait]
pub trait CatalogRepo {
    async fn insert_category(&mut self, category: &Category) -> StoreResult<()>;
    async fn update_category(&mut self, category: &Category) -> StoreResult<bool>;
    async fn get_category(&mut self, id: CategoryId) -> StoreResult<Option<Category>>;
    /// Every category (a chain has hundreds, not millions), ordered by sort order then name.
    async fn all_categories(&mut self) -> StoreResult<Vec<Category>>;

    async fn insert_brand(&mut self, brand: &Brand) -> StoreResult<()>;
    async fn update_brand(&mut self, brand: &Brand) -> StoreResult<bool>;
    async fn get_brand(&mut self, id: BrandId) -> StoreResult<Option<Brand>>;
    async fn list_brands(&mut self, search: Option<&str>, page: Page) -> StoreResult<Vec<Brand>>;

    async fn insert_product(&mut self, product: &Product) -> StoreResult<()>;
    async fn update_product(&mut self, product: &Product) -> StoreResult<bool>;
    async fn get_product(&mut self, id: ProductId) -> StoreResult<Option<Product>>;
    async fn list_products(&mut self, filter: &ProductFilter, page: Page) -> StoreResult<Vec<Product>>;

    async fn insert_sku(&mut self, sku: &Sku) -> StoreResult<()>;
    async fn update_sku(&mut self, sku: &Sku) -> StoreResult<bool>;
    async fn get_sku(&mut self, id: SkuId) -> StoreResult<Option<Sku>>;
    async fn get_sku_by_barcode(&mut self, barcode: &str) -> StoreResult<Option<Sku>>;
    async fn list_skus(&mut self, filter: &SkuFilter, page: Page) -> StoreResult<Vec<Sku>>;
    /// The SKUs among `ids` that exist, each with its product's name, in no particular order
    /// (for naming the SKUs of a page of stock rows or document lines in one query).
    async fn get_skus(&mut self, ids: &[SkuId]) -> StoreResult<Vec<(Sku, String)>>;

    /// Inserts or replaces a store's settings for an SKU.
    async fn put_store_sku(&mut self, settings: &StoreSku) -> StoreResult<()>;
    async fn get_store_sku(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<Option<StoreSku>>;
    /// A store's settings in SKU id order; the page cursor is an SKU id.
    async fn list_store_skus(&mut self, store_id: StoreId, page: Page) -> StoreResult<Vec<StoreSku>>;
    async fn delete_store_sku(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<bool>;
}

#[async_trait]
pub trait AuditRepo {
    async fn append_audit(&mut self, entry: &AuditEntry) -> StoreResult<()>;
    /// Appends entries in order, in few statements.
    async fn append_audits(&mut self, entries: &[AuditEntry]) -> StoreResult<()>;
    /// Newest first: the page cursor is an audit id and the page holds older entries.
    async fn list_audit(&mut self, filter: &AuditFilter, page: Page) -> StoreResult<Vec<AuditEntry>>;
}

#[async_trait]
pub trait OutboxRepo {
    /// Appends an event; the database assigns `seq` (the value in `event.seq` is ignored).
    async fn append_event(&mut self, event: &OutboxEvent) -> StoreResult<i64>;
    /// Appends events in order (their `seq`s increase in it), in few statements.
    async fn append_events(&mut self, events: &[OutboxEvent]) -> StoreResult<()>;
    /// Events with `seq > after_seq`, in `seq` order.
    async fn events_after(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<OutboxEvent>>;
}

#[async_trait]
pub trait IdempotencyRepo {
    async fn get_idempotency(&mut self, actor_id: StaffId, key: &str) -> StoreResult<Option<IdempotencyRecord>>;
    /// Claims a key. Fails with `Duplicate(IdempotencyKey)` when another request holds it; on
    /// PostgreSQL a concurrent claim waits until the holder commits or rolls back.
    async fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<()>;
    /// Stores the final reply of a claimed key; returns whether the claim existed.
    async fn complete_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<bool>;
}

#[async_trait]
pub trait InventoryRepo {
    /// Applies `entry.deltas` to the store's stock of the SKU with one guarded update (no bucket
    /// below zero, nothing promised beyond on hand) and appends the entry. `None`: refused,
    /// nothing changed. A reused idempotency key fails with `Duplicate(StockEntryKey)`.
    async fn apply_stock(&mut self, entry: &StockEntry) -> StoreResult<Option<quanyu_domain::inventory::StockLevels>>;
    async fn get_stock(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<Option<StockRow>>;
    /// A store's stock rows in SKU id order; the page cursor is an SKU id.
    async fn list_stock(
        &mut self,
        store_id: StoreId,
        sort: &Sorting<StockSort>,
        page: Page,
    ) -> StoreResult<Vec<StockRow>>;
    async fn stock_entry_by_key(&mut self, idempotency_key: &str) -> StoreResult<Option<StockEntry>>;
    /// Newest first; the page cursor is an entry id.
    async fn list_stock_entries(
        &mut self,
        store_id: StoreId,
        sku_id: SkuId,
        page: Page,
    ) -> StoreResult<Vec<StockEntry>>;
    /// Every store's stock of one SKU.
    async fn stock_of_sku(&mut self, sku_id: SkuId) -> StoreResult<Vec<StockRow>>;
    /// Every stock row whose buckets differ from the sums of its ledger (empty when sound).
    async fn reconcile_stock(&mut self) -> StoreResult<Vec<LedgerMismatch>>;
}

#[async_trait]
pub trait OrderRepo {
    /// Inserts an order with its lines.
    async fn insert_order(&mut self, order: &quanyu_domain::order::Order) -> StoreResult<()>;
    async fn get_order(&mut self, id: quanyu_domain::ids::OrderId) -> StoreResult<Option<quanyu_domain::order::Order>>;
    /// Saves an order and its lines' refunds if its status is still `expected` and it was last
    /// updated at `last_updated` (compare and set): `false` when another writer changed it first.
    async fn update_order(
        &mut self,
        order: &quanyu_domain::order::Order,
        expected: quanyu_domain::order::OrderStatus,
        last_updated: Timestamp,
    ) -> StoreResult<bool>;
    /// Saves an open order priced again (an eat-first bill that took more items): its totals,
    /// and every line as given (new ones inserted, existing ones repriced), if its status is
    /// still `expected` and was last updated at `last_updated`; `false` when another writer
    /// changed it first.
    async fn reprice_order(
        &mut self,
        order: &quanyu_domain::order::Order,
        expected: quanyu_domain::order::OrderStatus,
        last_updated: Timestamp,
    ) -> StoreResult<bool>;
    /// Orders in id order (newest last).
    async fn list_orders(&mut self, filter: &OrderFilter, page: Page) -> StoreResult<Vec<quanyu_domain::order::Order>>;
    /// A store's open eat-first bills (channel `table_eat_first`, status `created`) by table
    /// label (bills opened before tables had labels last), or the one bill open on `table`.
    async fn open_table_bills(
        &mut self,
        store_id: StoreId,
        table: Option<&str>,
    ) -> StoreResult<Vec<quanyu_domain::order::Order>>;
    /// Unpaid orders whose hold has expired at `now`, oldest first.
    async fn expired_holds(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<quanyu_domain::ids::OrderId>>;
    async fn append_order_step(&mut self, step: &OrderStep) -> StoreResult<()>;
    async fn order_steps(&mut self, id: quanyu_domain::ids::OrderId) -> StoreResult<Vec<OrderStep>>;
    async fn insert_payment(&mut self, payment: &PaymentRecord) -> StoreResult<()>;
    async fn order_payments(&mut self, id: quanyu_domain::ids::OrderId) -> StoreResult<Vec<PaymentRecord>>;
    /// A store's orders of `channels` created at or after `since`, newest first, at most
    /// `limit` (the till's list of today's sales).
    async fn store_orders_since(
        &mut self,
        store_id: StoreId,
        channels: &[quanyu_domain::order::OrderChannel],
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<quanyu_domain::order::Order>>;
    /// A customer's orders, newest first; the page cursor is an order id (orders older than it).
    async fn customer_orders(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::order::Order>>;
}

/// Flash sales. The rush appends one journal record per batch ([`append_flash_journal`]: a
/// compare-and-set on the sale's journal head and its quota); reservation rows and buyer counts
/// are materialised from the journal afterwards; releases give quota and counts back.
///
/// [`append_flash_journal`]: FlashSaleRepo::append_flash_journal
#[async_trait]
pub trait FlashSaleRepo {
    async fn insert_flash_sale(&mut self, sale: &FlashSale) -> StoreResult<()>;
    async fn get_flash_sale(&mut self, id: uuid::Uuid) -> StoreResult<Option<FlashSale>>;
    /// A sale with the levels of its SKU's stock in its store (`None`: no stock row yet), in
    /// one read: what each batch of the rush decides on.
    async fn get_flash_sale_with_stock(
        &mut self,
        id: uuid::Uuid,
    ) -> StoreResult<Option<(FlashSale, Option<quanyu_domain::inventory::StockLevels>)>>;
    /// A store's flash sales not yet over at `at`, soonest first, at most `limit`.
    async fn current_flash_sales(
        &mut self,
        store_id: StoreId,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<FlashSale>>;
    /// The ids of flash sales in every store not over at `at` that start by `until`, soonest
    /// first, at most `limit`.
    async fn flash_sales_starting_by(
        &mut self,
        at: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<uuid::Uuid>>;
    /// Appends journal record `after + 1` reserving `units` in all, and applies its stock
    /// entry: only if the sale's journal head is still `after`, the units fit its quota and the
    /// stock's guards (as [`InventoryRepo::apply_stock`]'s) allow the entry; `false` otherwise,
    /// and then the transaction must be rolled back, not committed: PostgreSQL's one statement
    /// may have moved the stock before the sale refused (as [`crate::Database::append_flash_batch`]
    /// does, dropping it).
    async fn append_flash_batch(
        &mut self,
        sale_id: uuid::Uuid,
        after: i64,
        entry: &FlashJournalAppend<'_>,
    ) -> StoreResult<bool>;
    /// Journal records after `after`, in order, at most `limit`: (seq, payload).
    async fn flash_journal_since(
        &mut self,
        sale_id: uuid::Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(i64, Vec<u8>)>>;
    /// The last journal record made at or before `at` (0: none).
    async fn flash_journal_seq_at(&mut self, sale_id: uuid::Uuid, at: Timestamp) -> StoreResult<i64>;
    /// The last journal record materialised into rows (0: none).
    async fn flash_materialized_seq(&mut self, sale_id: uuid::Uuid) -> StoreResult<i64>;
    /// Moves the materialised mark from `from` to `to` (compare and set): `false` when another
    /// writer moved it first.
    async fn mark_flash_materialized(&mut self, sale_id: uuid::Uuid, from: i64, to: i64) -> StoreResult<bool>;
    /// Sales whose journal runs ahead of their materialised rows.
    async fn flash_sales_to_materialize(&mut self) -> StoreResult<Vec<uuid::Uuid>>;
    /// Adds to what each buyer holds of a sale (materialising the journal).
    async fn add_flash_buyers(&mut self, sale_id: uuid::Uuid, counts: &[(BuyerBuf, i64)]) -> StoreResult<()>;
    /// Every materialised reservation of a sale, whatever its status.
    async fn flash_sale_reservations(&mut self, sale_id: uuid::Uuid) -> StoreResult<Vec<FlashReservation>>;
    /// Units given back to each of `buyers` by released reservations of the sale.
    async fn flash_released_units(
        &mut self,
        sale_id: uuid::Uuid,
        buyers: &[Buyer<'_>],
    ) -> StoreResult<Vec<(BuyerBuf, i64)>>;
    /// Records a released reservation (see [`flash_released_units`](FlashSaleRepo::flash_released_units)).
    async fn insert_flash_release(&mut self, reservation: &FlashReservation) -> StoreResult<()>;
    async fn release_buyer_quota(&mut self, sale_id: uuid::Uuid, buyer: Buyer<'_>, quantity: i64) -> StoreResult<()>;
    async fn release_sale_quota(&mut self, sale_id: uuid::Uuid, quantity: i64) -> StoreResult<()>;
    /// Inserts many reservations in one statement.
    async fn insert_flash_reservations(&mut self, reservations: &[FlashReservation]) -> StoreResult<()>;
    /// What each buyer holds of a sale.
    async fn flash_sale_buyers(&mut self, sale_id: uuid::Uuid) -> StoreResult<Vec<(BuyerBuf, i64)>>;
    /// Units of a sale ordered by one person: `member` and every member merged into them (a
    /// merge in force, followed down its chain), whichever of their ids reserved them.
    async fn flash_units_ordered_by_person(
        &mut self,
        sale_id: uuid::Uuid,
        member: quanyu_domain::ids::CustomerId,
    ) -> StoreResult<i64>;
    async fn get_flash_reservation(&mut self, id: uuid::Uuid) -> StoreResult<Option<FlashReservation>>;
    /// The reservation an order was placed from, if any.
    async fn flash_reservation_of_order(
        &mut self,
        order_id: quanyu_domain::ids::OrderId,
    ) -> StoreResult<Option<FlashReservation>>;
    /// Moves a reservation from `from` to `to` (and records its order), if it is still `from`
    /// (compare and set): `false` when another writer moved it first.
    async fn set_flash_reservation_status(
        &mut self,
        id: uuid::Uuid,
        from: quanyu_domain::flash::HoldStatus,
        to: quanyu_domain::flash::HoldStatus,
        order_id: Option<quanyu_domain::ids::OrderId>,
    ) -> StoreResult<bool>;
    /// Held reservations whose hold ran out at `now`, oldest first.
    async fn expired_flash_reservations(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<FlashReservation>>;
}

/// Stock documents and reorder policies. A step first claims the revision it read, so two
/// people approving or receiving at once cannot both succeed.
#[async_trait]
pub trait DocumentRepo {
    /// Inserts a document with its lines.
    async fn insert_document(&mut self, document: &quanyu_domain::documents::StockDocument) -> StoreResult<()>;
    async fn get_document(
        &mut self,
        id: quanyu_domain::ids::DocumentId,
    ) -> StoreResult<Option<quanyu_domain::documents::StockDocument>>;
    /// Moves a document from `revision` to the next, holding it for the rest of the
    /// transaction (a concurrent claim waits, then fails); `false` when it is no longer at
    /// `revision`.
    async fn claim_document(&mut self, id: quanyu_domain::ids::DocumentId, revision: i64) -> StoreResult<bool>;
    /// Saves a document (header and every line) if it is at `document.revision`.
    async fn update_document(&mut self, document: &quanyu_domain::documents::StockDocument) -> StoreResult<bool>;
    /// Documents whose destination or source lies in the filter's place, in id order.
    async fn list_documents(
        &mut self,
        filter: &DocumentFilter,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::documents::StockDocument>>;
    async fn append_document_step(&mut self, step: &DocumentStep) -> StoreResult<()>;
    async fn document_steps(&mut self, id: quanyu_domain::ids::DocumentId) -> StoreResult<Vec<DocumentStep>>;

    async fn put_stock_policy(&mut self, policy: &StockPolicy) -> StoreResult<()>;
    async fn delete_stock_policy(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<bool>;
    /// Every SKU a store keeps a policy for, with its stock levels, in SKU id order; the page
    /// cursor is an SKU id.
    async fn stock_policies(
        &mut self,
        store_id: StoreId,
        page: Page,
    ) -> StoreResult<Vec<(StockPolicy, quanyu_domain::inventory::StockLevels)>>;
}

/// Customers and their identifiers. An identifier belongs to one customer at most (a unique
/// rule: a concurrent second claim fails with `Duplicate(CustomerIdentity)`).
#[async_trait]
pub trait CustomerRepo {
    /// The next dense customer ordinal (1, 2, 3…), taken atomically.
    async fn next_customer_ordinal(&mut self) -> StoreResult<i64>;
    async fn insert_customer(&mut self, customer: &quanyu_domain::customer::Customer) -> StoreResult<()>;
    async fn update_customer(&mut self, customer: &quanyu_domain::customer::Customer) -> StoreResult<bool>;
    async fn get_customer(
        &mut self,
        id: quanyu_domain::ids::CustomerId,
    ) -> StoreResult<Option<quanyu_domain::customer::Customer>>;
    /// Customers in id order (merged-away profiles left out).
    async fn list_customers(
        &mut self,
        filter: &CustomerFilter,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::customer::Customer>>;
    /// Who holds an identifier.
    async fn customer_by_identity(
        &mut self,
        identity: &quanyu_domain::customer::Identity,
    ) -> StoreResult<Option<quanyu_domain::ids::CustomerId>>;
    async fn add_identity(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        identity: &quanyu_domain::customer::Identity,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn identities_of(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
    ) -> StoreResult<Vec<quanyu_domain::customer::Identity>>;
    /// Moves every identifier of `from` to `to`, recorded under merge `merge_id`; returns how
    /// many moved.
    async fn move_identities(
        &mut self,
        from: quanyu_domain::ids::CustomerId,
        to: quanyu_domain::ids::CustomerId,
        merge_id: uuid::Uuid,
    ) -> StoreResult<i64>;
    async fn insert_customer_merge(&mut self, merge: &CustomerMerge) -> StoreResult<()>;
    /// The merge in force that absorbed `absorbed`, if any.
    async fn merge_in_force(&mut self, absorbed: quanyu_domain::ids::CustomerId) -> StoreResult<Option<CustomerMerge>>;
    /// Moves back every row `merge` moved (what the survivor gained since stays with it), takes
    /// back what it added to the survivor's counters, tags and birthday, and sets both
    /// profiles' balances to the sums of their ledgers. When the survivor's ledgers would sum
    /// below zero it stops before the balances and returns the sums: the caller must refuse and
    /// roll back.
    async fn undo_customer_history(&mut self, merge: &CustomerMerge, at: Timestamp) -> StoreResult<MergeUndone>;
    /// Marks a merge undone; false if it already was.
    async fn mark_merge_undone(
        &mut self,
        id: uuid::Uuid,
        at: Timestamp,
        actor: Option<StaffId>,
        reason: Option<&str>,
    ) -> StoreResult<bool>;
    /// Gives every customer of guide `from` to guide `to`; returns how many moved.
    async fn reassign_guide(&mut self, from: StaffId, to: StaffId, at: Timestamp) -> StoreResult<i64>;
    /// Moves the absorbed profile's orders, points, coupons, stored value, events, tags and
    /// tasks to the survivor, whose balances become the sums of the ledgers it now holds; every
    /// row moved is recorded under merge `merge_id` so the merge can be undone.
    async fn move_customer_history(
        &mut self,
        from: quanyu_domain::ids::CustomerId,
        to: quanyu_domain::ids::CustomerId,
        at: Timestamp,
        merge_id: uuid::Uuid,
    ) -> StoreResult<()>;

    /// Applies a points entry with one guarded update (the balance never goes below zero) and
    /// appends it. `None`: refused, nothing changed. A reused key fails with `Duplicate(Other)`.
    async fn apply_points(&mut self, entry: &PointsEntry) -> StoreResult<Option<i64>>;
    async fn points_entry_by_key(&mut self, key: &str) -> StoreResult<Option<PointsEntry>>;
    async fn points_balance(&mut self, customer_id: quanyu_domain::ids::CustomerId) -> StoreResult<i64>;
    /// Newest first; the page cursor is an entry id.
    async fn list_points(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        page: Page,
    ) -> StoreResult<Vec<PointsEntry>>;
    async fn order_points(&mut self, order_id: quanyu_domain::ids::OrderId) -> StoreResult<OrderPoints>;
    /// (earned in lots expired by `now`, every debit as a positive number) of a customer.
    async fn points_expiry_sums(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        now: Timestamp,
    ) -> StoreResult<(i64, i64)>;
    /// Customers with a lot that expired in `(since, now]`.
    async fn customers_with_expiring_points(
        &mut self,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<quanyu_domain::ids::CustomerId>>;
    /// Customers whose balance differs from the sum of their points ledger (empty when sound).
    async fn reconcile_points(&mut self) -> StoreResult<Vec<(quanyu_domain::ids::CustomerId, i64, i64)>>;

    async fn insert_tier(&mut self, tier: &quanyu_domain::loyalty::Tier) -> StoreResult<()>;
    async fn insert_membership(&mut self, membership: &PaidMembership) -> StoreResult<()>;
    /// The customer's paid term running at `at` that ends last, if any.
    async fn active_membership(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        at: Timestamp,
    ) -> StoreResult<Option<PaidMembership>>;
    /// Every tier, lowest threshold first (a chain has a handful).
    async fn list_tiers(&mut self) -> StoreResult<Vec<quanyu_domain::loyalty::Tier>>;
    /// Live members (not merged away) with the attributes audiences select on, by ordinal;
    /// `after` is the last ordinal of the previous page. Spend, orders, RFM and stage are the
    /// customer's scores.
    async fn audience_rows(&mut self, after: i64, limit: u32) -> StoreResult<Vec<AudienceRow>>;
    /// [`audience_rows`](Self::audience_rows) of just these ordinals (the live ones).
    async fn audience_rows_of(&mut self, ordinals: &[i64]) -> StoreResult<Vec<AudienceRow>>;
    /// Where the log of audience changes stands now: taken before a full read of the members,
    /// every change after it is one [`audience_changes`](Self::audience_changes) will give.
    async fn audience_cursor(&mut self) -> StoreResult<AudienceCursor>;
    /// The ordinals of customers (live or merged away) whose audience attributes or tags changed
    /// after `cursor`, at most `limit` (`None` if there are more: read every member instead),
    /// and the cursor to read from next. A customer may come again in a later read.
    async fn audience_changes(
        &mut self,
        cursor: &AudienceCursor,
        limit: u32,
    ) -> StoreResult<(Option<Vec<i64>>, AudienceCursor)>;
    /// Forgets the log of audience changes made before `before`; how many entries went.
    async fn prune_audience_changes(&mut self, before: Timestamp) -> StoreResult<u64>;
    /// The live customers with these ordinals, by ordinal, each with their first phone.
    async fn customers_by_ordinals(
        &mut self,
        ordinals: &[i64],
    ) -> StoreResult<Vec<(quanyu_domain::customer::Customer, Option<String>)>>;
    async fn set_birthday(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        birthday: Option<quanyu_domain::customer::Birthday>,
    ) -> StoreResult<()>;
    async fn birthday_of(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
    ) -> StoreResult<Option<quanyu_domain::customer::Birthday>>;
    /// Live customers born on (month, day), in id order after `after`.
    async fn customers_born_on(
        &mut self,
        month: u32,
        day: u32,
        after: Option<quanyu_domain::ids::CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<quanyu_domain::ids::CustomerId>>;
    /// How many live customers a guide has.
    async fn customers_of_guide(&mut self, guide_id: StaffId) -> StoreResult<i64>;
    /// How many of a customer's orders were paid (新人首单 is the first).
    async fn customer_paid_orders(&mut self, customer_id: quanyu_domain::ids::CustomerId) -> StoreResult<i64>;
    /// What a customer paid, less refunds, on orders placed since `since`.
    async fn customer_spend(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        since: Timestamp,
    ) -> StoreResult<quanyu_domain::Money>;
    /// Live customers matching a search in id order, each with their first phone.
    async fn search_customers(
        &mut self,
        search: &CustomerSearch,
        page: Page,
    ) -> StoreResult<Vec<(quanyu_domain::customer::Customer, Option<String>)>>;
    /// The live customers among these ids (merged-away profiles left out), each with their
    /// first phone, in id order.
    async fn customers_by_ids(
        &mut self,
        ids: &[quanyu_domain::ids::CustomerId],
    ) -> StoreResult<Vec<(quanyu_domain::customer::Customer, Option<String>)>>;
    /// How many live customers a guide has whose profile was created at or after `since`.
    async fn customers_of_guide_since(&mut self, guide_id: StaffId, since: Timestamp) -> StoreResult<i64>;
}

/// Coupon templates, wallets and promotions. Issuing claims the template's budget and the
/// customer's limit with guarded updates; using a coupon is a compare-and-set on its status;
/// every coupon movement appends a keyed ledger entry in the same transaction.
#[async_trait]
pub trait MarketingRepo {
    async fn insert_coupon_template(&mut self, template: &quanyu_domain::marketing::CouponTemplate) -> StoreResult<()>;
    async fn get_coupon_template(
        &mut self,
        id: quanyu_domain::ids::CouponTemplateId,
    ) -> StoreResult<Option<quanyu_domain::marketing::CouponTemplate>>;
    /// Templates in `sort`'s order (creation, name or how many were issued).
    async fn list_coupon_templates(
        &mut self,
        sort: &Sorting<CouponTemplateSort>,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::marketing::CouponTemplate>>;
    async fn set_coupon_template_status(
        &mut self,
        id: quanyu_domain::ids::CouponTemplateId,
        status: quanyu_domain::marketing::TemplateStatus,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Active templates issued automatically by `rule`.
    async fn auto_issue_templates(
        &mut self,
        rule: quanyu_domain::marketing::AutoIssue,
    ) -> StoreResult<Vec<quanyu_domain::marketing::CouponTemplate>>;
    /// Counts one more coupon of `face` value against the template's budgets, if both stay
    /// within bounds.
    async fn claim_template_budget(
        &mut self,
        id: quanyu_domain::ids::CouponTemplateId,
        face: quanyu_domain::Money,
    ) -> StoreResult<bool>;
    /// Counts one more coupon of the template for the customer, if that stays within `limit`.
    async fn claim_customer_limit(
        &mut self,
        template_id: quanyu_domain::ids::CouponTemplateId,
        customer_id: quanyu_domain::ids::CustomerId,
        limit: Option<i64>,
    ) -> StoreResult<bool>;
    /// Inserts an issued coupon with its `issue` entry. A reused key fails with `Duplicate`.
    async fn insert_coupon(
        &mut self,
        coupon: &quanyu_domain::marketing::Coupon,
        entry: &CouponEntry,
    ) -> StoreResult<()>;
    async fn get_coupon(
        &mut self,
        id: quanyu_domain::ids::CouponId,
    ) -> StoreResult<Option<quanyu_domain::marketing::Coupon>>;
    /// A customer's coupons, newest first; the page cursor is a coupon id.
    async fn customer_coupons(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::marketing::Coupon>>;
    async fn order_coupons(
        &mut self,
        order_id: quanyu_domain::ids::OrderId,
    ) -> StoreResult<Vec<quanyu_domain::marketing::Coupon>>;
    /// Moves a coupon from `from` to `to` (recording or clearing its order as `entry` says), if
    /// it is still `from` (compare and set), and appends `entry`: `false` when another writer
    /// moved it first.
    async fn move_coupon(
        &mut self,
        from: quanyu_domain::marketing::CouponStatus,
        to: quanyu_domain::marketing::CouponStatus,
        entry: &CouponEntry,
    ) -> StoreResult<bool>;
    async fn coupon_entry_exists(&mut self, key: &str) -> StoreResult<bool>;
    async fn coupon_entries(&mut self, coupon_id: quanyu_domain::ids::CouponId) -> StoreResult<Vec<CouponEntry>>;
    /// Coupons whose status disagrees with their last ledger entry and templates whose issued
    /// count disagrees with their coupons (empty when sound).
    async fn reconcile_coupons(&mut self) -> StoreResult<Vec<CouponMismatch>>;

    async fn insert_promotion(&mut self, promotion: &quanyu_domain::marketing::StoredPromotion) -> StoreResult<()>;
    async fn get_promotion(
        &mut self,
        id: quanyu_domain::ids::PromotionId,
    ) -> StoreResult<Option<quanyu_domain::marketing::StoredPromotion>>;
    /// Promotions in `sort`'s order (creation, name or priority).
    async fn list_promotions(
        &mut self,
        sort: &Sorting<PromotionSort>,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::marketing::StoredPromotion>>;
    /// Ends a promotion early; `false` when it had ended already.
    async fn end_promotion(&mut self, id: quanyu_domain::ids::PromotionId, at: Timestamp) -> StoreResult<bool>;
    /// Promotions not ended whose window holds `at`.
    async fn running_promotions(
        &mut self,
        at: Timestamp,
    ) -> StoreResult<Vec<quanyu_domain::marketing::StoredPromotion>>;
}

/// Promoters, referrals, attributions, the commission ledger and payouts, guide sales, invite
/// tasks and the marketing settings. Commission moves only through [`ReferralRepo::apply_commission`],
/// which updates the balances and appends the entry in one guarded step.
#[async_trait]
pub trait ReferralRepo {
    /// Inserts a promoter; a taken code fails with `Duplicate(Other)` (pick another).
    async fn insert_promoter(&mut self, promoter: &quanyu_domain::referral::Promoter) -> StoreResult<()>;
    async fn update_promoter(&mut self, promoter: &quanyu_domain::referral::Promoter) -> StoreResult<()>;
    async fn get_promoter(
        &mut self,
        id: quanyu_domain::ids::PromoterId,
    ) -> StoreResult<Option<quanyu_domain::referral::Promoter>>;
    /// The promoters behind `ids` (any order; unknown ids are left out).
    async fn promoters_by_ids(
        &mut self,
        ids: &[quanyu_domain::ids::PromoterId],
    ) -> StoreResult<Vec<quanyu_domain::referral::Promoter>>;
    async fn promoter_by_code(&mut self, code: &str) -> StoreResult<Option<quanyu_domain::referral::Promoter>>;
    async fn promoter_of(
        &mut self,
        owner: quanyu_domain::referral::PromoterOwner,
    ) -> StoreResult<Option<quanyu_domain::referral::Promoter>>;

    async fn insert_referral(&mut self, referral: &quanyu_domain::referral::Referral) -> StoreResult<()>;
    async fn referral_of(
        &mut self,
        invitee: quanyu_domain::ids::CustomerId,
    ) -> StoreResult<Option<quanyu_domain::referral::Referral>>;
    /// Whether a device already registered a referral.
    async fn device_referred(&mut self, device_id: &str) -> StoreResult<bool>;
    /// Referrals of a promoter that count, made in `[since, until)`.
    async fn counted_referrals(
        &mut self,
        promoter_id: quanyu_domain::ids::PromoterId,
        since: Timestamp,
        until: Timestamp,
    ) -> StoreResult<i64>;
    /// Newest first; the page cursor is a referral id.
    async fn list_referrals(
        &mut self,
        promoter_id: quanyu_domain::ids::PromoterId,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::referral::Referral>>;

    async fn get_setting(&mut self, name: &str) -> StoreResult<Option<serde_json::Value>>;
    async fn put_setting(&mut self, name: &str, value: &serde_json::Value, at: Timestamp) -> StoreResult<()>;

    async fn insert_attribution(&mut self, attribution: &Attribution) -> StoreResult<()>;
    async fn attribution_of(&mut self, order_id: quanyu_domain::ids::OrderId) -> StoreResult<Option<Attribution>>;

    /// Applies a commission entry: moves the balances by its deltas unless that would take a
    /// bucket below zero (`available` only when `guard_available`; reversals may overdraw it)
    /// and appends it. `None`: refused, nothing changed. A reused key fails with `Duplicate`.
    async fn apply_commission(
        &mut self,
        entry: &CommissionEntry,
        guard_available: bool,
    ) -> StoreResult<Option<quanyu_domain::referral::Buckets>>;
    async fn commission_entry_exists(&mut self, key: &str) -> StoreResult<bool>;
    /// What each line of an order earned each promoter at each level, and what was reversed.
    async fn order_commissions(&mut self, order_id: quanyu_domain::ids::OrderId) -> StoreResult<Vec<LineCommission>>;
    /// (order, promoter) pairs with accruals whose window ended by `now` and no release yet.
    async fn due_releases(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(quanyu_domain::ids::OrderId, quanyu_domain::ids::PromoterId)>>;
    async fn promoter_balance(
        &mut self,
        promoter_id: quanyu_domain::ids::PromoterId,
    ) -> StoreResult<quanyu_domain::referral::Buckets>;
    /// Newest first; the page cursor is an entry id.
    async fn list_commissions(
        &mut self,
        promoter_id: quanyu_domain::ids::PromoterId,
        page: Page,
    ) -> StoreResult<Vec<CommissionEntry>>;
    async fn reconcile_commissions(&mut self) -> StoreResult<Vec<CommissionMismatch>>;

    async fn insert_payout(&mut self, payout: &quanyu_domain::referral::PayoutRequest) -> StoreResult<()>;
    async fn get_payout(
        &mut self,
        id: quanyu_domain::ids::PayoutId,
    ) -> StoreResult<Option<quanyu_domain::referral::PayoutRequest>>;
    /// Settles a requested payout (compare and set): `false` when it was settled already.
    async fn settle_payout(
        &mut self,
        id: quanyu_domain::ids::PayoutId,
        to: quanyu_domain::referral::PayoutStatus,
        note: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<bool>;

    /// Appends a guide-sales entry. A reused key fails with `Duplicate`.
    async fn append_guide_sale(&mut self, sale: &GuideSale) -> StoreResult<()>;
    /// A guide's attributed sales net of refunds since `since`, and the orders they came from.
    async fn guide_sales_since(
        &mut self,
        guide_id: StaffId,
        since: Timestamp,
    ) -> StoreResult<(quanyu_domain::Money, i64)>;

    async fn insert_invite_task(&mut self, task: &quanyu_domain::referral::InviteTask) -> StoreResult<()>;
    async fn running_invite_tasks(&mut self, at: Timestamp) -> StoreResult<Vec<quanyu_domain::referral::InviteTask>>;
    /// Marks a task's reward as given to a promoter; `false` when it was given before.
    async fn claim_task_reward(
        &mut self,
        task_id: uuid::Uuid,
        promoter_id: quanyu_domain::ids::PromoterId,
        at: Timestamp,
    ) -> StoreResult<bool>;

    /// Promoters with their commission balances (distributors only when asked), in `sort`'s
    /// order: by id, name or a balance bucket.
    async fn list_promoters(
        &mut self,
        distributors_only: bool,
        sort: &Sorting<PromoterSort>,
        page: Page,
    ) -> StoreResult<Vec<(quanyu_domain::referral::Promoter, quanyu_domain::referral::Buckets)>>;
    /// Payout requests of a status (all when `None`), newest first; the cursor is a payout id.
    async fn list_payouts(
        &mut self,
        status: Option<quanyu_domain::referral::PayoutStatus>,
        page: Page,
    ) -> StoreResult<Vec<quanyu_domain::referral::PayoutRequest>>;
}

/// Stored value (储值): every change is a keyed entry applied with one guarded update, so a
/// balance never goes below zero and always equals the sum of its ledger.
#[async_trait]
pub trait StoredValueRepo {
    /// Applies a stored-value entry with one guarded update (the balance never goes below zero)
    /// and appends it. `None`: refused, nothing changed. A reused key fails with `Duplicate`.
    async fn apply_stored_value(&mut self, entry: &StoredValueEntry) -> StoreResult<Option<quanyu_domain::Money>>;
    async fn stored_value_entry_by_key(&mut self, key: &str) -> StoreResult<Option<StoredValueEntry>>;
    async fn stored_value_balance(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
    ) -> StoreResult<quanyu_domain::Money>;
    /// Newest first; the page cursor is an entry id.
    async fn list_stored_value(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        page: Page,
    ) -> StoreResult<Vec<StoredValueEntry>>;
    /// Customers whose stored-value balance differs from the sum of its ledger (empty when sound).
    async fn reconcile_stored_value(
        &mut self,
    ) -> StoreResult<Vec<(quanyu_domain::ids::CustomerId, quanyu_domain::Money, quanyu_domain::Money)>>;
}

/// Group buys: offers, groups whose seats are a guarded counter, and the orders holding them.
#[async_trait]
pub trait GroupBuyRepo {
    async fn insert_group_offer(&mut self, offer: &quanyu_domain::group_buy::GroupBuyOffer) -> StoreResult<()>;
    async fn get_group_offer(&mut self, id: uuid::Uuid)
    -> StoreResult<Option<quanyu_domain::group_buy::GroupBuyOffer>>;
    async fn insert_group(&mut self, group: &quanyu_domain::group_buy::GroupBuy) -> StoreResult<()>;
    async fn get_group(&mut self, id: uuid::Uuid) -> StoreResult<Option<quanyu_domain::group_buy::GroupBuy>>;
    /// Takes a seat of an open group whose window holds `at`, if one is left.
    async fn take_seat(&mut self, group_id: uuid::Uuid, at: Timestamp) -> StoreResult<bool>;
    /// Gives a seat of an open group back.
    async fn give_seat(&mut self, group_id: uuid::Uuid) -> StoreResult<()>;
    /// Records the order holding a seat; a customer's second seat in one group fails with
    /// `Duplicate(Other)`.
    async fn insert_group_member(
        &mut self,
        group_id: uuid::Uuid,
        order_id: quanyu_domain::ids::OrderId,
        customer_id: quanyu_domain::ids::CustomerId,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn delete_group_member(&mut self, order_id: quanyu_domain::ids::OrderId) -> StoreResult<()>;
    async fn group_of_order(
        &mut self,
        order_id: quanyu_domain::ids::OrderId,
    ) -> StoreResult<Option<quanyu_domain::group_buy::GroupBuy>>;
    /// The orders holding a group's seats, oldest first.
    async fn group_orders(&mut self, group_id: uuid::Uuid) -> StoreResult<Vec<quanyu_domain::ids::OrderId>>;
    /// How many of a group's orders are paid and not cancelled.
    async fn paid_group_orders(&mut self, group_id: uuid::Uuid) -> StoreResult<i64>;
    /// Moves a group from `from` to `to` (compare and set).
    async fn set_group_status(
        &mut self,
        id: uuid::Uuid,
        from: quanyu_domain::group_buy::GroupStatus,
        to: quanyu_domain::group_buy::GroupStatus,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Open groups whose window ended by `now`, oldest first.
    async fn expired_groups(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<uuid::Uuid>>;
}

/// Customer events: sources, the event log (deduplicated per source and messageId) and the
/// anonymous ids stitched to customers.
#[async_trait]
pub trait EventRepo {
    async fn insert_event_source(&mut self, source: &EventSource) -> StoreResult<()>;
    /// Inserts a source unless one with its key hash exists (the built-in sources).
    async fn ensure_event_source(&mut self, source: &EventSource) -> StoreResult<()>;
    /// A relay's position in the outbox (0 at first).
    async fn relay_cursor(&mut self, name: &str) -> StoreResult<i64>;
    /// Moves a relay's position from `from` to `to` (compare and set): `false` when another
    /// instance moved it first.
    async fn advance_relay_cursor(&mut self, name: &str, from: i64, to: i64) -> StoreResult<bool>;
    /// A source that has not been revoked, by the hash of its write key.
    async fn event_source_by_key(&mut self, key_hash: &str) -> StoreResult<Option<EventSource>>;
    async fn list_event_sources(&mut self) -> StoreResult<Vec<EventSource>>;
    /// Inserts events in bulk (each backend's fastest way that still skips duplicates), skipping
    /// those whose (source, messageId) is stored already, including earlier in `events`; says of
    /// each event whether it was stored now. An event with no customer whose anonymous id is tied
    /// to one (by [`stitch_anonymous_id`](Self::stitch_anonymous_id), in this transaction or
    /// before) is given that customer first, in `events` as in the row.
    async fn insert_events(&mut self, events: &mut [StoredEvent]) -> StoreResult<Vec<bool>>;
    /// Ties an anonymous id to a customer (an anonymous id belongs to one customer: the first
    /// tie wins) and gives that customer the anonymous id's earlier events. Returns the customer
    /// the anonymous id belongs to now.
    async fn stitch_anonymous_id(
        &mut self,
        anonymous_id: &str,
        customer_id: quanyu_domain::ids::CustomerId,
        at: Timestamp,
    ) -> StoreResult<quanyu_domain::ids::CustomerId>;
    /// Of these customer ids, those that exist, each with the live profile it resolves to
    /// (itself, or the survivor of a merge).
    async fn live_customers(
        &mut self,
        ids: &[quanyu_domain::ids::CustomerId],
    ) -> StoreResult<Vec<(quanyu_domain::ids::CustomerId, quanyu_domain::ids::CustomerId)>>;
    /// A customer's events, newest first; the page cursor is an event id.
    async fn customer_events(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        page: Page,
    ) -> StoreResult<Vec<StoredEvent>>;
}

/// Customer scores (RFM and lifecycle stage), one row per customer.
#[async_trait]
pub trait ScoresRepo {
    async fn get_scores(&mut self, customer_id: quanyu_domain::ids::CustomerId) -> StoreResult<Option<CustomerScores>>;
    /// The stored scores of these customers (those that have any).
    async fn scores_of(&mut self, ids: &[quanyu_domain::ids::CustomerId]) -> StoreResult<Vec<CustomerScores>>;
    /// Inserts or replaces rows.
    async fn put_scores(&mut self, scores: &[CustomerScores]) -> StoreResult<()>;
    /// One customer's inputs, from their paid orders placed since `since`.
    async fn score_input(
        &mut self,
        customer_id: quanyu_domain::ids::CustomerId,
        since: Timestamp,
    ) -> StoreResult<Option<ScoreInput>>;
    /// Every live (unmerged) customer with the time they registered, in one streaming read, in
    /// no particular order.
    async fn scan_live_customers(
        &mut self,
        each: &mut (dyn FnMut(quanyu_domain::ids::CustomerId, Timestamp) + Send),
    ) -> StoreResult<()>;
    /// Every order placed since `since` that scores count (exactly those
    /// [`score_input`](Self::score_input) adds up), whoever's it is, in one streaming read, in no
    /// particular order.
    async fn scan_counted_orders(
        &mut self,
        since: Timestamp,
        each: &mut (dyn FnMut(CountedOrder) + Send),
    ) -> StoreResult<()>;
    /// Every stored scores row, in one streaming read, in no particular order.
    async fn scan_scores(&mut self, each: &mut (dyn FnMut(CustomerScores) + Send)) -> StoreResult<()>;
}

/// Tags, who carries them, and saved audiences.
#[async_trait]
pub trait TagRepo {
    /// Inserts a tag; a taken name fails with `Duplicate(Other)`.
    async fn insert_tag(&mut self, tag: &Tag) -> StoreResult<()>;
    async fn tag_by_name(&mut self, name: &str) -> StoreResult<Option<Tag>>;
    /// Every tag, by name.
    async fn list_tags(&mut self) -> StoreResult<Vec<Tag>>;
    /// Tags customers; returns how many did not carry it yet.
    async fn tag_customers(
        &mut self,
        tag_id: uuid::Uuid,
        customers: &[quanyu_domain::ids::CustomerId],
        source: &str,
        at: Timestamp,
    ) -> StoreResult<u64>;
    async fn untag_customer(
        &mut self,
        tag_id: uuid::Uuid,
        customer: quanyu_domain::ids::CustomerId,
    ) -> StoreResult<bool>;
    async fn tags_of(&mut self, customer: quanyu_domain::ids::CustomerId) -> StoreResult<Vec<Tag>>;
    /// (ordinal, tag name) of the tags of live customers whose ordinals lie in `(after, up_to]`,
    /// in no particular order.
    async fn tag_rows(&mut self, after: i64, up_to: i64) -> StoreResult<Vec<(i64, String)>>;
    /// [`tag_rows`](Self::tag_rows) of just these ordinals (the live ones).
    async fn tag_rows_of(&mut self, ordinals: &[i64]) -> StoreResult<Vec<(i64, String)>>;

    /// Every rule tag.
    async fn rule_tags(&mut self) -> StoreResult<Vec<Tag>>;
    /// Adds `by` to a customer's count for a rule tag on `day`; returns their count over the
    /// days from `since_day` on.
    async fn bump_rule_count(
        &mut self,
        tag_id: uuid::Uuid,
        customer: quanyu_domain::ids::CustomerId,
        day: i64,
        by: i64,
        since_day: i64,
    ) -> StoreResult<i64>;
    /// Takes a rule tag off the customers whose count since `since_day` fell below `min`, and
    /// forgets counts older than that; returns how many lost the tag.
    async fn expire_rule_tag(&mut self, tag_id: uuid::Uuid, since_day: i64, min: i64) -> StoreResult<u64>;

    /// Every line of the orders scores count, placed since `since` (those
    /// [`ScoresRepo::scan_counted_orders`] reads): its order's customer, its SKU and what it kept
    /// net of refunds (分), in one streaming read, in no particular order.
    async fn scan_counted_line_spend(
        &mut self,
        since: Timestamp,
        each: &mut (dyn FnMut(quanyu_domain::ids::CustomerId, quanyu_domain::ids::SkuId, i64) + Send),
    ) -> StoreResult<()>;
    /// Every SKU's product's category.
    async fn sku_categories(&mut self)
    -> StoreResult<Vec<(quanyu_domain::ids::SkuId, quanyu_domain::ids::CategoryId)>>;
    /// Every customer carrying one of `tags`, with the tag, in one streaming read.
    async fn scan_tagged(
        &mut self,
        tags: &[uuid::Uuid],
        each: &mut (dyn FnMut(quanyu_domain::ids::CustomerId, uuid::Uuid) + Send),
    ) -> StoreResult<()>;
    /// Takes a tag off these customers; returns how many carried it.
    async fn untag_customers(
        &mut self,
        tag_id: uuid::Uuid,
        customers: &[quanyu_domain::ids::CustomerId],
    ) -> StoreResult<u64>;

    /// Inserts a saved audience; a taken name fails with `Duplicate(Other)`.
    async fn insert_audience(&mut self, audience: &SavedAudience) -> StoreResult<()>;
    async fn get_audience(&mut self, id: uuid::Uuid) -> StoreResult<Option<SavedAudience>>;
    async fn list_audiences(&mut self, sort: &Sorting<AudienceSort>, page: Page) -> StoreResult<Vec<SavedAudience>>;

    /// Inserts tasks, skipping any a guide already has for that customer and audience; returns
    /// how many were new.
    async fn insert_guide_tasks(&mut self, tasks: &[GuideTask]) -> StoreResult<u64>;
    /// A guide's tasks of a status, newest first; the page cursor is a task id.
    async fn guide_tasks(&mut self, guide_id: StaffId, status: &str, page: Page) -> StoreResult<Vec<GuideTask>>;
    async fn get_guide_task(&mut self, id: uuid::Uuid) -> StoreResult<Option<GuideTask>>;
    /// Marks an open task done; `false` when it was done already.
    async fn finish_guide_task(&mut self, id: uuid::Uuid, note: Option<&str>, at: Timestamp) -> StoreResult<bool>;
    /// (customer, tag name) of these customers' tags, by customer then name.
    async fn tag_names_of(
        &mut self,
        customers: &[quanyu_domain::ids::CustomerId],
    ) -> StoreResult<Vec<(quanyu_domain::ids::CustomerId, String)>>;
    /// How a guide's tasks stand: open, done, and done since `since`.
    async fn guide_task_counts(&mut self, guide_id: StaffId, since: Timestamp) -> StoreResult<GuideTaskCounts>;
}

/// Customer sign-in (H5 mall): one-time codes by phone and customer sessions.
#[async_trait]
pub trait CustomerAuthRepo {
    async fn get_login_code(&mut self, phone: &str) -> StoreResult<Option<crate::LoginCode>>;
    /// Stores a phone's code, replacing any earlier one (one active code per phone).
    async fn put_login_code(&mut self, code: &crate::LoginCode) -> StoreResult<()>;
    /// Counts one check against the phone's code if fewer than `max_attempts` were made, and
    /// returns the code as it now stands; `None` when there is no code or its checks are used up.
    async fn take_login_code_attempt(
        &mut self,
        phone: &str,
        max_attempts: i32,
    ) -> StoreResult<Option<crate::LoginCode>>;
    /// Removes the phone's code if it is still the one with `code_hash`; whether it was.
    async fn delete_login_code(&mut self, phone: &str, code_hash: &str) -> StoreResult<bool>;
    async fn insert_customer_session(&mut self, session: &crate::CustomerSession) -> StoreResult<()>;
    async fn find_customer_session(&mut self, secret_hash: &str) -> StoreResult<Option<crate::CustomerSession>>;
    /// Marks a session revoked; whether it was live.
    async fn revoke_customer_session(&mut self, id: uuid::Uuid, at: Timestamp) -> StoreResult<bool>;
}

/// Aggregates over paid orders (paid and not cancelled) for the sales reports, within a place.
#[async_trait]
pub trait ReportRepo {
    /// Orders and net sales per channel created in `[from, to)`.
    async fn sales_by_channel(
        &mut self,
        place: &PlaceFilter,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ChannelSales>>;
    /// The `limit` stores with the most net sales in `[from, to)`, best first.
    async fn top_stores(
        &mut self,
        place: &PlaceFilter,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StoreSales>>;
    /// The `limit` SKUs with the most net line sales in `[from, to)`, best first.
    async fn top_skus(
        &mut self,
        place: &PlaceFilter,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<SkuSales>>;
}
