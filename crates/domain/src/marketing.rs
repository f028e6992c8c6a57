//! Marketing as the chain configures it: coupon templates (券模板) and the coupons issued from
//! them into customers' wallets, and the promotions (促销活动) stores run. The price engine
//! ([`crate::pricing`]) prices with what these turn into; this module owns the rules around
//! them: what a template may say, when and how often it may be issued, how long an issued
//! coupon is valid, and what happens to a used coupon when its order is cancelled or refunded.
//!
//! A coupon is used at most once: the store moves it from `available` to `used` with a
//! compare-and-set, so of two checkouts racing for it one wins. Issuing is bounded three times
//! over (the template's count budget, its money budget counted in face value, and the limit per
//! customer), each by a guarded counter, so concurrent issues never overshoot.

use crate::Expected;
use crate::{
    DomainError, DomainResult, Money,
    catalog::Channel,
    ids::{CouponId, CouponTemplateId, CustomerId, OrderId, PromotionId, StaffId, StoreId},
    pricing::{self, Audience, CouponKind, PromotionKind, Scope, TimeWindow},
    time::Timestamp,
};

/// The longest a coupon may stay valid after issue, and the longest a fixed window may be.
pub const MAX_VALID_DAYS: i64 = 3_660;
/// The most SKUs or categories a scope may list.
pub const MAX_SCOPE_IDS: usize = 1_000;
/// The most stores a template or promotion may be limited to.
pub const MAX_STORES: usize = 10_000;

named_enum! {
    /// Where a template stands.
    pub enum TemplateStatus for "status" {
        /// Issued and redeemed.
        Active = "active",
        /// Not issued for now; coupons already issued stay redeemable.
        Paused = "paused",
        /// Never issued again; coupons already issued stay redeemable until they expire.
        Ended = "ended",
    }
}

named_enum! {
    /// Issued automatically on an event, besides by hand and by claim.
    pub enum AutoIssue for "auto_issue" {
        /// 新人有礼: when a customer registers.
        NewMember = "new_member",
        /// 复购券: when a customer's first order is paid.
        FirstOrderPaid = "first_order_paid",
        /// 生日礼: on the customer's birthday, once a year.
        Birthday = "birthday",
    }
}

named_enum! {
    /// How a coupon reached the wallet.
    pub enum IssueSource for "source" {
        /// The customer claimed it (领券).
        Claim = "claim",
        /// Staff or a guide gave it.
        Staff = "staff",
        /// A rule gave it: the new-member gift.
        NewMember = "new_member",
        /// A rule gave it: the voucher after the first order.
        FirstOrderPaid = "first_order_paid",
        /// A referral's reward, to the inviter or the invitee.
        Referral = "referral",
        /// An invite task's reward (任务宝).
        Task = "task",
        /// A rule gave it: the birthday gift.
        Birthday = "birthday",
        /// Handed to a saved audience by HQ marketing.
        Audience = "audience",
    }
}

impl From<AutoIssue> for IssueSource {
    fn from(rule: AutoIssue) -> IssueSource {
        match rule {
            AutoIssue::NewMember => IssueSource::NewMember,
            AutoIssue::FirstOrderPaid => IssueSource::FirstOrderPaid,
            AutoIssue::Birthday => IssueSource::Birthday,
        }
    }
}

named_enum! {
    /// Where an issued coupon stands. An available coupon past its window shows as expired
    /// ([`Coupon::state_at`]) without any write.
    pub enum CouponStatus for "status" {
        Available = "available",
        /// Redeemed on an order (`order_id`).
        Used = "used",
        /// Withdrawn by staff.
        Voided = "voided",
    }
}

/// How long an issued coupon is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// The same window for every coupon.
    Fixed { starts_at: Timestamp, ends_at: Timestamp },
    /// From issue, for `days` days (领取后N天有效).
    DaysAfterIssue { days: i64 },
}

impl Validity {
    pub fn new(starts_at: Option<Timestamp>, ends_at: Option<Timestamp>, days: Option<i64>) -> DomainResult<Validity> {
        match (starts_at, ends_at, days) {
            (None, None, Some(days)) if (1..=MAX_VALID_DAYS).contains(&days) => Ok(Validity::DaysAfterIssue { days }),
            (None, None, Some(_)) => Err(DomainError::OutOfRange { field: "valid_days", min: 1, max: MAX_VALID_DAYS }),
            (Some(starts_at), Some(ends_at), None)
                if starts_at < ends_at && ends_at - starts_at <= chrono::Duration::days(MAX_VALID_DAYS) =>
            {
                Ok(Validity::Fixed { starts_at, ends_at })
            }
            (Some(_), Some(_), None) => {
                Err(DomainError::Malformed { field: "valid_until", expected: Expected::AfterValidFromWithinTenYears })
            }
            _ => Err(DomainError::Malformed { field: "validity", expected: Expected::ValidityWindowOrDays }),
        }
    }

    /// The window of a coupon issued at `issued_at`.
    pub fn window_from(self, issued_at: Timestamp) -> (Timestamp, Timestamp) {
        match self {
            Validity::Fixed { starts_at, ends_at } => (starts_at, ends_at),
            Validity::DaysAfterIssue { days } => (issued_at, issued_at + chrono::Duration::days(days)),
        }
    }
}

/// What a coupon template says. Built by [`TemplateRules::new`], which checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRules {
    pub kind: CouponKind,
    /// What the lines in scope must come to (zero: 无门槛).
    pub threshold: Money,
    pub scope: Scope,
    pub validity: Validity,
    /// Empty: every channel.
    pub channels: Vec<Channel>,
    /// Empty: every store.
    pub stores: Vec<StoreId>,
    /// How many may be issued in all.
    pub budget_count: Option<i64>,
    /// How much face value may be issued in all (需要面值: a percentage coupon then needs a cap).
    pub budget_value: Option<Money>,
    /// How many one customer may hold over time.
    pub per_customer_limit: Option<i64>,
    /// Customers may claim it themselves.
    pub claimable: bool,
    pub auto_issue: Option<AutoIssue>,
    /// A coupon used on an order that is refunded in full comes back to the wallet (an order
    /// cancelled before it is handed over always gives its coupons back).
    pub restore_on_refund: bool,
}

impl TemplateRules {
    /// Checks a template: amounts and rates in range, a face value when a money budget is set,
    /// positive budgets and limits, a bounded scope.
    pub fn new(rules: TemplateRules) -> DomainResult<TemplateRules> {
        let price = |field, amount: Money| Money::price(field, amount.fen()).map(drop);
        match rules.kind {
            CouponKind::AmountOff { amount } => {
                price("amount", amount)?;
                if amount == Money::ZERO {
                    return Err(DomainError::OutOfRange { field: "amount", min: 1, max: Money::MAX_PRICE.fen() });
                }
            }
            CouponKind::PercentOff { pay_bp, cap } => {
                if pay_bp == 0 || pay_bp >= pricing::FULL_RATE_BP {
                    return Err(DomainError::OutOfRange {
                        field: "pay_bp",
                        min: 1,
                        max: i64::from(pricing::FULL_RATE_BP) - 1,
                    });
                }
                cap.map_or(Ok(()), |cap| price("cap", cap))?;
            }
            CouponKind::Delivery { amount } => amount.map_or(Ok(()), |amount| price("amount", amount))?,
        }
        price("threshold", rules.threshold)?;
        check_scope(&rules.scope)?;
        if rules.stores.len() > MAX_STORES {
            return Err(DomainError::OutOfRange { field: "store_ids", min: 0, max: MAX_STORES as i64 });
        }
        for (field, bound) in [("budget_count", rules.budget_count), ("per_customer_limit", rules.per_customer_limit)] {
            if bound.is_some_and(|n| n <= 0) {
                return Err(DomainError::OutOfRange { field, min: 1, max: i64::MAX });
            }
        }
        if let Some(budget) = rules.budget_value {
            price("budget_value", budget)?;
            if rules.face_value().is_none() {
                return Err(DomainError::Malformed { field: "budget_value", expected: Expected::CouponWithFaceValue });
            }
        }
        Ok(rules)
    }

    /// What one coupon may take off at most, as money budgets count it: the amount, or the
    /// cap of a percentage coupon; `None` when unbounded.
    pub fn face_value(&self) -> Option<Money> {
        match self.kind {
            CouponKind::AmountOff { amount } => Some(amount),
            CouponKind::PercentOff { cap, .. } => cap,
            CouponKind::Delivery { amount } => amount,
        }
    }
}

/// A checked scope: at most [`MAX_SCOPE_IDS`] ids, and at least one when it lists any.
pub fn check_scope(scope: &Scope) -> DomainResult<()> {
    let count = match scope {
        Scope::All => return Ok(()),
        Scope::Categories(ids) => ids.len(),
        Scope::Skus(ids) => ids.len(),
    };
    if count == 0 || count > MAX_SCOPE_IDS {
        return Err(DomainError::OutOfRange { field: "scope.ids", min: 1, max: MAX_SCOPE_IDS as i64 });
    }
    Ok(())
}

/// A coupon template and what has been issued from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponTemplate {
    pub id: CouponTemplateId,
    /// The name customers see: "新人专享满59减10".
    pub name: String,
    pub rules: TemplateRules,
    pub status: TemplateStatus,
    /// Coupons issued so far, and their face value.
    pub issued: i64,
    pub issued_value: Money,
    pub created_by: Option<StaffId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Why a template issues no coupon now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssueRefusal {
    #[error("the template is paused or ended")]
    NotActive,
    #[error("the template's validity has ended")]
    Expired,
    #[error("the template is not open to claims")]
    NotClaimable,
    #[error("the template's budget is spent")]
    BudgetSpent,
    #[error("the customer holds as many as the template allows")]
    LimitReached,
}

impl IssueRefusal {
    pub fn code(self) -> &'static str {
        match self {
            IssueRefusal::NotActive => "not_active",
            IssueRefusal::Expired => "expired",
            IssueRefusal::NotClaimable => "not_claimable",
            IssueRefusal::BudgetSpent => "budget_spent",
            IssueRefusal::LimitReached => "limit_reached",
        }
    }
}

impl CouponTemplate {
    /// Whether the template issues at `at` through `source` (budgets and per-customer limits
    /// are the store's guarded counters, checked as the coupon is written).
    pub fn issuable(&self, source: IssueSource, at: Timestamp) -> Result<(), IssueRefusal> {
        if self.status != TemplateStatus::Active {
            return Err(IssueRefusal::NotActive);
        }
        if let Validity::Fixed { ends_at, .. } = self.rules.validity
            && ends_at <= at
        {
            return Err(IssueRefusal::Expired);
        }
        if source == IssueSource::Claim && !self.rules.claimable {
            return Err(IssueRefusal::NotClaimable);
        }
        Ok(())
    }

    /// A new coupon of this template for `customer_id`, issued at `at`.
    pub fn issue(
        &self,
        customer_id: CustomerId,
        source: IssueSource,
        issued_by: Option<StaffId>,
        at: Timestamp,
    ) -> Coupon {
        let (starts_at, ends_at) = self.rules.validity.window_from(at);
        Coupon {
            id: CouponId::new(),
            template_id: self.id,
            customer_id,
            status: CouponStatus::Available,
            starts_at,
            ends_at,
            source,
            issued_by,
            order_id: None,
            used_at: None,
            issued_at: at,
            updated_at: at,
        }
    }

    /// What the price engine needs of `coupon`, one of this template's.
    pub fn to_pricing(&self, coupon: &Coupon) -> pricing::Coupon {
        pricing::Coupon {
            id: coupon.id.as_uuid(),
            template_name: self.name.clone(),
            kind: self.rules.kind,
            threshold: self.rules.threshold,
            scope: self.rules.scope.clone(),
            window: TimeWindow { starts_at: Some(coupon.starts_at), ends_at: Some(coupon.ends_at) },
            channels: self.rules.channels.clone(),
            stores: self.rules.stores.clone(),
        }
    }
}

/// A coupon in a customer's wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub id: CouponId,
    pub template_id: CouponTemplateId,
    pub customer_id: CustomerId,
    pub status: CouponStatus,
    /// Valid from `starts_at` (inclusive) to `ends_at` (exclusive).
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub source: IssueSource,
    pub issued_by: Option<StaffId>,
    /// The order it was used on.
    pub order_id: Option<OrderId>,
    pub used_at: Option<Timestamp>,
    pub issued_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a wallet shows of a coupon at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponState {
    /// Redeemable now.
    Usable,
    /// Available but its window has not begun.
    NotYetValid,
    Expired,
    Used,
    Voided,
}

impl CouponState {
    pub fn as_str(self) -> &'static str {
        match self {
            CouponState::Usable => "usable",
            CouponState::NotYetValid => "not_yet_valid",
            CouponState::Expired => "expired",
            CouponState::Used => "used",
            CouponState::Voided => "voided",
        }
    }
}

impl Coupon {
    pub fn state_at(&self, at: Timestamp) -> CouponState {
        match self.status {
            CouponStatus::Used => CouponState::Used,
            CouponStatus::Voided => CouponState::Voided,
            CouponStatus::Available if at < self.starts_at => CouponState::NotYetValid,
            CouponStatus::Available if at >= self.ends_at => CouponState::Expired,
            CouponStatus::Available => CouponState::Usable,
        }
    }
}

/// What becomes of the coupons of an order that is undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undo {
    /// Cancelled before it was handed over (unpaid, or paid and given back in full).
    Cancelled,
    /// Every line refunded after it was handed over.
    FullyRefunded,
    /// Some lines refunded: the coupon's discount stays with the lines that were kept.
    PartlyRefunded,
}

/// Whether a coupon used on an order comes back to the wallet.
pub fn restores(rules: &TemplateRules, undo: Undo) -> bool {
    match undo {
        Undo::Cancelled => true,
        Undo::FullyRefunded => rules.restore_on_refund,
        Undo::PartlyRefunded => false,
    }
}

/// A promotion as a store runs it: the engine's [`pricing::Promotion`] with where and when it
/// runs and whether it is still on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPromotion {
    pub id: PromotionId,
    pub name: String,
    pub kind: PromotionKind,
    pub priority: i32,
    pub exclusive: bool,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub audience: Audience,
    pub scope: Scope,
    /// Empty: every channel.
    pub channels: Vec<Channel>,
    /// Empty: every store.
    pub stores: Vec<StoreId>,
    /// Ended early by staff.
    pub ended: bool,
    pub created_by: Option<StaffId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl StoredPromotion {
    /// Checks what the types cannot: a window that ends after it starts and lasts at most ten
    /// years, a well-formed kind, a bounded scope and store list, a name.
    pub fn validate(&self) -> DomainResult<()> {
        if self.ends_at <= self.starts_at || self.ends_at - self.starts_at > chrono::Duration::days(MAX_VALID_DAYS) {
            return Err(DomainError::Malformed { field: "ends_at", expected: Expected::AfterStartWithinTenYears });
        }
        if self.stores.len() > MAX_STORES {
            return Err(DomainError::OutOfRange { field: "store_ids", min: 0, max: MAX_STORES as i64 });
        }
        check_scope(&self.scope)?;
        self.kind.validate()
    }

    /// Whether it prices carts of `store_id` in `channel` at `at`.
    pub fn runs(&self, store_id: StoreId, channel: Channel, at: Timestamp) -> bool {
        !self.ended
            && self.starts_at <= at
            && at < self.ends_at
            && (self.channels.is_empty() || self.channels.contains(&channel))
            && (self.stores.is_empty() || self.stores.contains(&store_id))
    }

    pub fn to_pricing(&self) -> pricing::Promotion {
        pricing::Promotion {
            id: self.id.as_uuid(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            priority: self.priority,
            exclusive: self.exclusive,
            window: TimeWindow { starts_at: Some(self.starts_at), ends_at: Some(self.ends_at) },
            audience: self.audience,
            scope: self.scope.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _, Utc};

    use super::*;

    fn at() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 6, 1, 4, 0, 0).unwrap()
    }

    fn rules(kind: CouponKind) -> TemplateRules {
        TemplateRules {
            kind,
            threshold: Money::from_fen(5_900),
            scope: Scope::All,
            validity: Validity::DaysAfterIssue { days: 30 },
            channels: Vec::new(),
            stores: Vec::new(),
            budget_count: None,
            budget_value: None,
            per_customer_limit: Some(1),
            claimable: true,
            auto_issue: None,
            restore_on_refund: true,
        }
    }

    fn template(rules: TemplateRules) -> CouponTemplate {
        CouponTemplate {
            id: CouponTemplateId::new(),
            name: "满59减10".into(),
            rules,
            status: TemplateStatus::Active,
            issued: 0,
            issued_value: Money::ZERO,
            created_by: None,
            created_at: at(),
            updated_at: at(),
        }
    }

    #[test]
    fn templates_are_checked() {
        let ten = CouponKind::AmountOff { amount: Money::from_fen(1_000) };
        assert!(TemplateRules::new(rules(ten)).is_ok());
        assert!(TemplateRules::new(rules(CouponKind::AmountOff { amount: Money::ZERO })).is_err());
        assert!(TemplateRules::new(rules(CouponKind::PercentOff { pay_bp: 10_000, cap: None })).is_err());
        assert!(TemplateRules::new(rules(CouponKind::PercentOff { pay_bp: 0, cap: None })).is_err());
        let uncapped = CouponKind::PercentOff { pay_bp: 8_800, cap: None };
        assert!(
            TemplateRules::new(TemplateRules { budget_value: Some(Money::from_fen(100_000)), ..rules(uncapped) })
                .is_err()
        );
        let capped = CouponKind::PercentOff { pay_bp: 8_800, cap: Some(Money::from_fen(2_000)) };
        assert!(
            TemplateRules::new(TemplateRules { budget_value: Some(Money::from_fen(100_000)), ..rules(capped) }).is_ok()
        );
        assert!(TemplateRules::new(TemplateRules { per_customer_limit: Some(0), ..rules(ten) }).is_err());
        assert!(TemplateRules::new(TemplateRules { scope: Scope::Skus(Vec::new()), ..rules(ten) }).is_err());
    }

    #[test]
    fn validity_is_fixed_or_counted_from_issue() {
        let end = at() + Duration::days(7);
        assert_eq!(Validity::new(Some(at()), Some(end), None), Ok(Validity::Fixed { starts_at: at(), ends_at: end }));
        assert!(Validity::new(Some(end), Some(at()), None).is_err());
        assert!(Validity::new(Some(at()), Some(end), Some(3)).is_err());
        assert!(Validity::new(None, None, Some(0)).is_err());
        let days = Validity::new(None, None, Some(30)).unwrap();
        assert_eq!(days.window_from(at()), (at(), at() + Duration::days(30)));
    }

    #[test]
    fn issuing_follows_status_window_and_claimability() {
        let ten = CouponKind::AmountOff { amount: Money::from_fen(1_000) };
        let mut t = template(rules(ten));
        assert_eq!(t.issuable(IssueSource::Claim, at()), Ok(()));
        t.rules.claimable = false;
        assert_eq!(t.issuable(IssueSource::Claim, at()), Err(IssueRefusal::NotClaimable));
        assert_eq!(t.issuable(IssueSource::Staff, at()), Ok(()));
        t.rules.validity = Validity::Fixed { starts_at: at() - Duration::days(2), ends_at: at() };
        assert_eq!(t.issuable(IssueSource::Staff, at()), Err(IssueRefusal::Expired));
        t.status = TemplateStatus::Paused;
        assert_eq!(t.issuable(IssueSource::Staff, at()), Err(IssueRefusal::NotActive));
    }

    #[test]
    fn a_wallet_coupon_expires_without_a_write() {
        let t = template(rules(CouponKind::AmountOff { amount: Money::from_fen(1_000) }));
        let coupon = t.issue(CustomerId::new(), IssueSource::Claim, None, at());
        assert_eq!(coupon.state_at(at()), CouponState::Usable);
        assert_eq!(coupon.state_at(at() - Duration::seconds(1)), CouponState::NotYetValid);
        assert_eq!(coupon.state_at(at() + Duration::days(30)), CouponState::Expired);
        let priced = t.to_pricing(&coupon);
        assert!(priced.window.contains(at()) && !priced.window.contains(at() + Duration::days(30)));
    }

    #[test]
    fn refunds_restore_by_policy() {
        let mut r = rules(CouponKind::AmountOff { amount: Money::from_fen(1_000) });
        assert!(restores(&r, Undo::Cancelled) && restores(&r, Undo::FullyRefunded));
        assert!(!restores(&r, Undo::PartlyRefunded));
        r.restore_on_refund = false;
        assert!(restores(&r, Undo::Cancelled) && !restores(&r, Undo::FullyRefunded));
    }

    #[test]
    fn promotions_run_in_their_window_stores_and_channels() {
        let store = StoreId::new();
        let promotion = StoredPromotion {
            id: PromotionId::new(),
            name: "周末满减".into(),
            kind: PromotionKind::AmountOffLadder {
                tiers: vec![pricing::AmountOffTier {
                    threshold: Money::from_fen(10_000),
                    amount: Money::from_fen(1_500),
                }],
                per_each: false,
            },
            priority: 0,
            exclusive: false,
            starts_at: at(),
            ends_at: at() + Duration::days(2),
            audience: Audience::Everyone,
            scope: Scope::All,
            channels: vec![Channel::Online],
            stores: vec![store],
            ended: false,
            created_by: None,
            created_at: at(),
            updated_at: at(),
        };
        assert_eq!(promotion.validate(), Ok(()));
        assert!(promotion.runs(store, Channel::Online, at()));
        assert!(!promotion.runs(store, Channel::Store, at()));
        assert!(!promotion.runs(StoreId::new(), Channel::Online, at()));
        assert!(!promotion.runs(store, Channel::Online, at() + Duration::days(2)));
        assert!(!StoredPromotion { ended: true, ..promotion.clone() }.runs(store, Channel::Online, at()));
        assert!(StoredPromotion { ends_at: at(), ..promotion }.validate().is_err());
    }
}
