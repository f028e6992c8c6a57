//! The use cases' error type. Each variant is a distinct situation a caller can act on; the web
//! layer's table gives each an HTTP status, a stable code and a message.

use quanyu_domain::DomainError;
use quanyu_store::{StoreError, UniqueKey};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// The referenced `field` names something that does not exist (a region id, a category id).
    #[error("{field} refers to a {entity} that does not exist")]
    UnknownReference { field: &'static str, entity: &'static str },
    #[error("a {0} with this value already exists")]
    Duplicate(UniqueKey),
    /// The role may not do this at all.
    #[error("your role may not do this")]
    Forbidden,
    /// The role may do this, but not to this part of the chain.
    #[error("this is outside your scope")]
    OutOfScope,
    #[error("wrong login or password")]
    InvalidCredentials,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("not logged in, or the session has expired")]
    Unauthenticated,
    #[error("this idempotency key was used for a different request")]
    IdempotencyKeyReused,
    /// The operation moves money or stock and must carry an idempotency key.
    #[error("an idempotency key is required")]
    IdempotencyKeyRequired,
    /// A change would promise more stock than is available.
    #[error("only {available} of the SKU available, {requested} requested")]
    InsufficientStock { sku_id: quanyu_domain::ids::SkuId, available: i64, requested: i64 },
    /// The SKU is not sold in this store and channel (delisted, online-only, switched off).
    #[error("this SKU is not available here")]
    SkuUnavailable { sku_id: quanyu_domain::ids::SkuId },
    /// No open store delivers to the point with every line in stock.
    #[error("no store can deliver this order")]
    NoStoreCanServe,
    /// A flash-sale request was refused: not on, this buyer's limit reached, or sold out.
    #[error("flash sale: {0:?}")]
    FlashSale(crate::Refusal),
    /// The flash-sale reservation was already ordered, or released when its hold ran out.
    #[error("the reservation is no longer held")]
    ReservationNotHeld,
    /// The flash-sale reservation is a member's, and the order names another buyer.
    #[error("the reservation is another member's")]
    ReservationBuyerMismatch,
    /// A delivery to a point beyond the store's delivery radius.
    #[error("the point is {distance_m} m from the store, which delivers within {radius_m} m")]
    OutsideDeliveryRadius { distance_m: u32, radius_m: u32 },
    /// A promised time (a booked visit, a delivery, a pickup) further ahead than the configured
    /// booking horizon ([`crate::AppConfig::booking_horizon`]); `latest` is the last time taken.
    #[error("promised_at may be at most {horizon_days} days ahead (until {latest})")]
    BeyondBookingHorizon { horizon_days: i64, latest: quanyu_domain::time::Timestamp },
    /// A promised time (a booked visit, a delivery, a pickup) when the store is closed: its
    /// `hours` on its clock (`time_zone`), and when it next opens after the time asked. With
    /// no time `asked`, the store's whole opening is shorter than the usual promise.
    #[error("the store is open {hours} ({}); it next opens at {next_open}", time_zone.name())]
    OutsideOpeningHours {
        hours: quanyu_domain::org::OpeningHours,
        time_zone: quanyu_domain::time::TimeZone,
        next_open: quanyu_domain::time::Timestamp,
        asked: bool,
    },
    /// An input that orders of this channel do not take (a promised time at the till).
    #[error("{field} does not apply to {} orders", channel.as_str())]
    NotForChannel { field: &'static str, channel: quanyu_domain::order::OrderChannel },
    /// The table has an open eat-first bill: items go on that bill (`order_id`, when it could
    /// be read), or it is settled or voided first.
    #[error("table {table} has an open bill")]
    TableOccupied { table: quanyu_domain::table::TableLabel, order_id: Option<quanyu_domain::ids::OrderId> },
    /// The identifiers given belong to different customers: merging them is a separate,
    /// trusted step.
    #[error("these identifiers belong to different customers")]
    IdentitiesConflict,
    #[error(transparent)]
    CustomerMerge(quanyu_domain::customer::MergeError),
    /// The staff member is not an active guide (of the store concerned).
    #[error("not an active guide of this store")]
    NotAGuide,
    /// A removal of points beyond the customer's balance.
    #[error("only {balance} points, {requested} requested")]
    InsufficientPoints { balance: i64, requested: i64 },
    /// A coupon template issues no coupon now: paused, ended, not claimable, budget spent, or
    /// the customer's limit reached.
    #[error("no coupon issued: {0}")]
    CouponIssue(quanyu_domain::marketing::IssueRefusal),
    /// The coupon is not in this customer's wallet ready to use: someone else's, already used
    /// (perhaps by a concurrent checkout) or voided.
    #[error("this coupon cannot be used")]
    CouponUnavailable { coupon_id: quanyu_domain::ids::CouponId },
    /// An order was asked to use a coupon the price engine would not apply, for `reason`.
    #[error("the coupon does not apply: {reason:?}")]
    CouponNotApplicable { coupon_id: quanyu_domain::ids::CouponId, reason: quanyu_domain::pricing::RejectionReason },
    /// The group-buy offer takes no new group now, or the group is no longer gathering.
    #[error("this group buy is closed")]
    GroupClosed,
    /// Every seat of the group is taken.
    #[error("this group is full")]
    GroupFull,
    /// The buyer already holds a seat in this group.
    #[error("already in this group")]
    AlreadyInGroup,
    /// A group order is fulfilled only once its group has formed.
    #[error("the group has not formed yet")]
    GroupNotFormed,
    /// A payment from stored value beyond the member's balance.
    #[error("only {balance} of stored value, {requested} requested")]
    InsufficientStoredValue { balance: i64, requested: i64 },
    /// A payout request beyond what is available, or below the minimum.
    #[error(transparent)]
    Payout(quanyu_domain::referral::PayoutRefusal),
    /// A segment expression that does not parse or names what does not exist.
    #[error(transparent)]
    Expression(quanyu_audience::ExprError),
    /// An export would hold more members than one may.
    #[error("{count} members selected, at most {max} may be exported")]
    TooManyMembers { count: u64, max: u64 },
    /// The store is paused or closed.
    #[error("the store is not trading")]
    StoreNotTrading,
    /// The amount paid is not what is due.
    #[error("{expected} is due, {given} was given")]
    AmountMismatch { expected: i64, given: i64 },
    /// The cash handed over does not cover what is due.
    #[error("{tendered} handed over for {due} due")]
    TenderedShort { due: i64, tendered: i64 },
    /// The cash handed over is beyond what is due by more than a till gives in change.
    #[error("{tendered} handed over for {due} due: at most {max_change} of change")]
    TenderedTooMuch { due: i64, tendered: i64, max_change: i64 },
    /// A refund names a line twice, or a line with nothing left to refund.
    #[error(transparent)]
    RefundLines(#[from] quanyu_domain::order::RefundLineError),
    /// The order's status does not allow this.
    #[error(transparent)]
    IllegalTransition(#[from] quanyu_domain::order::IllegalTransition),
    /// Another request changed the order or document first; read it again and retry.
    #[error("it changed meanwhile")]
    StatusChanged,
    /// The document's status does not allow this step.
    #[error(transparent)]
    IllegalDocumentTransition(#[from] quanyu_domain::documents::IllegalDocumentTransition),
    /// A step's per-line quantities do not fit the document.
    #[error(transparent)]
    DocumentLines(quanyu_domain::documents::DocumentError),
    /// A stocktake of a whole store that holds nothing.
    #[error("the store holds nothing to count")]
    NothingToCount,
    /// Row `row` (0-based) of a bulk operation failed; nothing of the batch was written.
    #[error("row {row}: {source}")]
    Row { row: usize, source: Box<AppError> },
    /// A sign-in code was asked for again too soon after the last one.
    #[error("wait {retry_after_s} s before asking for another code")]
    LoginCodeTooSoon { retry_after_s: i64 },
    /// The sign-in code does not match (or none was sent to this phone).
    #[error("wrong code, {attempts_left} attempts left")]
    LoginCodeWrong { attempts_left: i64 },
    /// The sign-in code's five minutes are over.
    #[error("the code has expired")]
    LoginCodeExpired,
    /// Every check this code allows has been made; a new code is needed.
    #[error("too many wrong codes")]
    LoginCodeAttemptsUsed,
    #[error("the store failed: {0}")]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate(key) => AppError::Duplicate(key),
            other => AppError::Store(other),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
