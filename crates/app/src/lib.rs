//! Quanyu's use cases: one async function per command or query, callable from a test without
//! a server.
//!
//! A use case checks who is asking ([`Ctx`]: the actor, where the request came from, its
//! idempotency key), validates its input into domain types, opens one transaction, applies the
//! domain rules, writes the change together with its audit entry and outbox event, and commits.
//! Creates run under an idempotency key when the caller gives one: the stored reply is returned
//! for a retry, and a different request under the same key is refused.
//!
//! **Architecture invariant:** no HTTP or JSON types here (event payloads are data, not API);
//! no SQL: storage only through `quanyu_store` traits.

#[macro_use]
mod write;
mod audiences;
mod audit_log;
mod auth;
mod cached;
mod catalog;
mod change;
mod context;
mod coupons;
mod customer_auth;
mod customers;
mod documents;
mod error;
mod events;
mod flash;
mod group_buys;
mod history;
mod import;
mod inventory;
mod lifecycle;
mod listing;
mod loyalty;
mod nearby;
mod orders;
mod org;
mod password;
mod payments;
mod promotions;
mod quotes;
mod referral;
mod reports;
mod session_cache;
mod shop;
mod staff;
mod stored_value;
mod tags;
mod till;
mod workbench;

use std::sync::Arc;

use quanyu_store::Database;

pub use audiences::{
    CATCH_UP_EVERY, CaughtUp, MAX_AUDIENCE_SHARDS, MAX_EXPORT, MAX_EXPRESSION, audience_schema, default_audience_shards,
};
pub use auth::{ApiTokenCreated, LoginOutcome, NewApiToken};
pub use catalog::*;
pub use context::{Ctx, Idempotency, Origin};
pub use coupons::{CouponTemplateDraft, MAX_COUPONS_PER_ORDER, WalletCoupon};
pub use customer_auth::{
    CUSTOMER_SESSION_TTL, CustomerSignInDraft, CustomerSignedIn, LOGIN_CODE_ATTEMPTS, LOGIN_CODE_RESEND,
    LOGIN_CODE_TTL, LogSms, LoginCodeSent, Shopper, SmsOutbox, SmsSender, mask_phone,
};
pub use customers::*;
pub use documents::*;
pub use error::{AppError, AppResult};
pub use events::{EventSourceCreated, Ingested, MAX_EVENTS_PER_COMMIT};
pub use flash::{DEFAULT_HOLD_MINUTES, FlashSaleDraft, MAX_BATCH, Refusal};
pub use group_buys::{GroupDetail, GroupJoin, GroupOfferDraft};
pub use history::{HistoricalMember, HistoricalOrder, HistorySeeded};
pub use import::*;
pub use inventory::{MovementDraft, StockMovement};
pub use lifecycle::{ScoringRules, WINDOW_DAYS, stage_label};
pub use listing::{CREATED_AT, Cursor, Listing, parse_sort, sort_param};
pub use loyalty::{MembershipDraft, PointsStatement, TierDraft};
pub use nearby::NearbyStore;
pub use orders::*;
pub use org::*;
pub use password::PasswordHasher;
pub use payments::{CardTerminal, Cash, PaymentProvider, StoredValue};
pub use promotions::PromotionDraft;
pub use quanyu_domain::geo::Datum;
pub use quotes::{DELIVERY_FEE, FREE_DELIVERY_FROM, POINTS_MAX_SHARE_BP, POINTS_PER_YUAN, QuoteDraft};
pub use referral::{CommissionRulesDraft, CommissionStatement, GuidePerformance, InviteTaskDraft};
pub use reports::{ChannelTotals, DaySales, REPORT_DAYS, SalesReport, SalesTotals, TOP_N};
pub use shop::{ShopItem, ShopOrderDraft, ShopperSummary};
pub use staff::*;
pub use stored_value::{StoredValueStatement, TopUpDraft};
pub use tags::{AudienceIssue, MAX_TAG_IMPORT, TagImport};
pub use till::*;
pub use workbench::{
    BookQuery, CustomerCard, GuideKpis, KPI_MONTHS, MAX_TASK_BOARD, MonthSales, ShareableSku, TaskCard,
};
pub use write::{Reply, StoredReply, Written};

/// Tunables of the use cases.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// How long a login session lasts.
    pub session_ttl: chrono::Duration,
    pub passwords: PasswordHasher,
    /// Where customers' sign-in codes are sent (default: the server log).
    pub sms: Arc<dyn SmsSender>,
    /// Into how many shards the audience index is cut, each counted on its own thread
    /// (default: the available cores, at most [`MAX_AUDIENCE_SHARDS`]).
    pub audience_shards: usize,
    /// How far ahead an order may promise its time (a booked visit, a delivery, a pickup):
    /// beyond it is refused (`beyond_booking_horizon`), as is a typo in the year that would
    /// hold a booking's stock for good. Default [`DEFAULT_BOOKING_HORIZON`].
    pub booking_horizon: chrono::Duration,
}

/// How far ahead an order may promise its time unless configured: 30 days.
pub const DEFAULT_BOOKING_HORIZON: chrono::Duration = chrono::Duration::days(30);

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            session_ttl: chrono::Duration::hours(12),
            passwords: PasswordHasher::default(),
            sms: Arc::new(LogSms),
            audience_shards: default_audience_shards(),
            booking_horizon: DEFAULT_BOOKING_HORIZON,
        }
    }
}

/// The application: the database plus configuration. Cheap to clone: one shared allocation, so
/// the HTTP edge's per-request clone is one reference count, not one per part.
#[derive(Clone)]
pub struct App(Arc<AppShared>);

/// What an [`App`] shares between its clones.
pub struct AppShared {
    db: Arc<dyn Database>,
    config: AppConfig,
    flash: flash::FlashEngine,
    events: events::EventIngestor,
    sessions: session_cache::SessionCache,
    /// Open stores for nearest-store search.
    stores_near: cached::Cached<quanyu_domain::spatial::SpatialIndex<quanyu_domain::org::Store>>,
    /// Members for audience counts, cut into shards.
    audiences: cached::Cached<audiences::AudienceState>,
    /// The scores rebuild's engine, kept between rebuilds with its buffers (and held by the one
    /// rebuild running).
    rebuilder: Arc<tokio::sync::Mutex<quanyu_audience::rebuild::Rebuilder>>,
}

impl std::ops::Deref for App {
    type Target = AppShared;

    fn deref(&self) -> &AppShared {
        &self.0
    }
}

impl App {
    pub fn new(db: Arc<dyn Database>, config: AppConfig) -> App {
        App(Arc::new(AppShared {
            db,
            config,
            flash: flash::FlashEngine::default(),
            events: events::EventIngestor::default(),
            sessions: session_cache::SessionCache::default(),
            stores_near: cached::Cached::new(nearby::INDEX_TTL),
            audiences: cached::Cached::new(audiences::INDEX_TTL),
            rebuilder: Arc::default(),
        }))
    }

    pub fn database(&self) -> &Arc<dyn Database> {
        &self.db
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }
}
