//! Referral (老带新) and distribution (分销): who invited whom, who earns what on whose orders.
//!
//! **Promoters.** Every customer and staff member can have a promoter profile with an invite
//! code, a link and a QR payload (made on first ask). A promoter marked as a *distributor*
//! (staff, agents, members who joined the programme) earns commission; any promoter's invites
//! count for referral rewards and invite tasks (任务宝).
//!
//! **Referrals.** A customer registered with an invite code is the inviter's referral once:
//! never their own (the same person, found by the identifier they registered with), never a
//! customer who existed before, never from a device that already registered a referral. The
//! invitee is rewarded at registration, the inviter when the invitee's first order is paid.
//!
//! **Attribution.** An order is attributed to the promoter whose share link it came through, or
//! else to whoever invited the buyer (关系锁定); level 2 is that promoter's own parent. Online
//! orders also count for a guide: the one whose link it came through, else the buyer's
//! exclusive guide.
//!
//! **Commission.** On payment each line earns `rate × paid amount` per level (per-SKU rates
//! override the programme's), frozen until the return window ends, then released by the
//! scheduled job. Refunds reverse the refunded units' share cumulatively, like points, so a line
//! refunded in parts reverses exactly what it earned. Money moves between four buckets (frozen,
//! available, pending payout, paid out) only through ledger entries; a balance is the sum of its
//! ledger. A reversal after release takes from what is available, which may go below zero: the
//! distributor owes it back before the next payout.

use crate::Expected;
use crate::{
    DomainError, DomainResult, Money,
    ids::{CouponTemplateId, CustomerId, PayoutId, PromoterId, SkuId, StaffId},
    pricing::FULL_RATE_BP,
    time::Timestamp,
};

/// Invite codes: 8 characters of Crockford base32 (no I, L, O, U), so they survive being read
/// aloud and typed on a phone.
pub const CODE_LENGTH: usize = 8;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The longest return window commissions may wait for.
pub const MAX_RETURN_WINDOW_DAYS: i64 = 90;

/// An invite code from 40 random bits.
pub fn invite_code(random: u64) -> String {
    (0..CODE_LENGTH)
        .map(|i| {
            let index = (random >> (5 * i)) & 31;
            ALPHABET.get(index as usize).copied().map_or('0', char::from)
        })
        .collect()
}

/// Reads a code as a person typed it: case and separators ignored, O read as 0, I and L as 1.
pub fn parse_invite_code(raw: &str) -> DomainResult<String> {
    let code: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    if code.len() == CODE_LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)) {
        Ok(code)
    } else {
        Err(DomainError::Malformed { field: "invite_code", expected: Expected::InviteCode })
    }
}

/// Who a promoter profile belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromoterOwner {
    Customer(CustomerId),
    Staff(StaffId),
}

named_enum! {
    /// Why a registration with an invite code earns no referral. The customer is registered all
    /// the same.
    pub enum ReferralRefusal for "refusal" {
        /// The code is the invitee's own.
        SelfInvite = "self_invite",
        /// The customer existed before: only new customers are referrals.
        NotNew = "not_new",
        /// This device already registered a referral.
        SameDevice = "same_device",
    }
}

/// Whether `invitee`, registered with the code of `inviter`, counts as a referral. A customer
/// who existed before is no referral at all (their own code included), so nothing is recorded.
pub fn referral_verdict(
    inviter: PromoterOwner,
    invitee: CustomerId,
    invitee_is_new: bool,
    device_seen_before: bool,
) -> Result<(), ReferralRefusal> {
    if !invitee_is_new {
        Err(ReferralRefusal::NotNew)
    } else if inviter == PromoterOwner::Customer(invitee) {
        Err(ReferralRefusal::SelfInvite)
    } else if device_seen_before {
        Err(ReferralRefusal::SameDevice)
    } else {
        Ok(())
    }
}

/// What a distributor earns: level-1 and level-2 rates in basis points of what a line paid,
/// the return window, and per-SKU rates that replace both.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommissionRules {
    pub level1_bp: u32,
    pub level2_bp: u32,
    /// Days after payment before commission is released.
    pub return_window_days: i64,
    pub sku_rates: Vec<SkuRate>,
}

impl Default for CommissionRules {
    /// No commission until HQ sets rates; a seven-day return window.
    fn default() -> CommissionRules {
        CommissionRules { level1_bp: 0, level2_bp: 0, return_window_days: 7, sku_rates: Vec::new() }
    }
}

/// Rates for one SKU (a high-margin item pays more, a loss leader nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkuRate {
    pub sku_id: SkuId,
    pub level1_bp: u32,
    pub level2_bp: u32,
}

/// The most commission one order may pay in all levels: half of it.
pub const MAX_TOTAL_RATE_BP: u32 = 5_000;

impl CommissionRules {
    /// Checks rates (together at most [`MAX_TOTAL_RATE_BP`]), the window and unique SKUs.
    pub fn new(rules: CommissionRules) -> DomainResult<CommissionRules> {
        let rates = std::iter::once((rules.level1_bp, rules.level2_bp))
            .chain(rules.sku_rates.iter().map(|r| (r.level1_bp, r.level2_bp)));
        for (level1, level2) in rates {
            if level1.saturating_add(level2) > MAX_TOTAL_RATE_BP {
                return Err(DomainError::OutOfRange { field: "level1_bp", min: 0, max: i64::from(MAX_TOTAL_RATE_BP) });
            }
        }
        if !(0..=MAX_RETURN_WINDOW_DAYS).contains(&rules.return_window_days) {
            return Err(DomainError::OutOfRange { field: "return_window_days", min: 0, max: MAX_RETURN_WINDOW_DAYS });
        }
        let mut skus: Vec<SkuId> = rules.sku_rates.iter().map(|r| r.sku_id).collect();
        skus.sort_unstable();
        if skus.windows(2).any(|pair| matches!(pair, [a, b] if a == b)) {
            return Err(DomainError::Malformed { field: "sku_rates", expected: Expected::EachSkuOnce });
        }
        Ok(rules)
    }

    /// The rate of `level` (1 or 2) for a line of `sku_id`.
    pub fn rate(&self, sku_id: SkuId, level: u8) -> u32 {
        let (level1, level2) = self
            .sku_rates
            .iter()
            .find(|r| r.sku_id == sku_id)
            .map_or((self.level1_bp, self.level2_bp), |r| (r.level1_bp, r.level2_bp));
        if level == 1 { level1 } else { level2 }
    }
}

/// Commission on what a line paid at a rate, rounded down to the 分 (the chain never pays a
/// fraction it did not earn).
pub fn commission(paid: Money, rate_bp: u32) -> Money {
    let fen = i128::from(paid.fen().max(0)) * i128::from(rate_bp.min(FULL_RATE_BP)) / i128::from(FULL_RATE_BP);
    Money::from_fen(i64::try_from(fen).unwrap_or(0))
}

/// Commission to reverse now on a line that earned `earned`, of whose `quantity` units
/// `refunded` are refunded in all, `reversed` having been reversed already: the refunded share,
/// cumulatively, all of it when every unit is back.
pub fn to_reverse(earned: Money, reversed: Money, quantity: i64, refunded: i64) -> Money {
    if quantity <= 0 || earned <= Money::ZERO {
        return Money::ZERO;
    }
    let refunded = refunded.clamp(0, quantity);
    let target = i128::from(earned.fen()) * i128::from(refunded) / i128::from(quantity);
    let target = i64::try_from(target).unwrap_or(earned.fen());
    Money::from_fen((target - reversed.fen()).clamp(0, earned.fen()))
}

/// A distributor's money in its four buckets. Each ledger entry moves amounts between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Buckets {
    /// Earned, waiting for the return window.
    pub frozen: Money,
    /// Released; may be withdrawn. Below zero when reversals after release exceed it.
    pub available: Money,
    /// Requested for payout, not yet paid.
    pub pending: Money,
    pub paid_out: Money,
}

/// Why a payout request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayoutRefusal {
    #[error("only {available} available")]
    NotEnough { available: Money },
    #[error("at least {minimum} per payout")]
    BelowMinimum { minimum: Money },
}

/// The smallest payout: ¥1.
pub const MIN_PAYOUT: Money = Money::from_fen(100);

/// Checks a payout request of `amount` against what is available.
pub fn check_payout(buckets: Buckets, amount: Money) -> Result<(), PayoutRefusal> {
    if amount < MIN_PAYOUT {
        Err(PayoutRefusal::BelowMinimum { minimum: MIN_PAYOUT })
    } else if amount > buckets.available {
        Err(PayoutRefusal::NotEnough { available: buckets.available.max(Money::ZERO) })
    } else {
        Ok(())
    }
}

/// A customer's or staff member's promoter profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoter {
    pub id: PromoterId,
    pub code: String,
    pub owner: PromoterOwner,
    /// How the profile is shown: the customer's or staff member's name.
    pub name: String,
    /// Earns commission on attributed orders.
    pub distributor: bool,
    /// Who recruited this distributor: they earn level 2 on this one's orders.
    pub parent_id: Option<PromoterId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Promoter {
    /// The path of the invite link within the mall.
    pub fn link(&self) -> String {
        format!("/m/i/{}", self.code)
    }

    /// What a QR code encodes: the link with the code as a query, so a scanner app that does not
    /// know the mall still shows the code.
    pub fn qr_payload(&self) -> String {
        format!("/m/i/{}?invite={}", self.code, self.code)
    }
}

/// The two-sided rewards of a referral: what the invitee gets at registration and the inviter
/// when the invitee's first order is paid, each in points and/or a coupon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ReferralProgram {
    pub inviter_points: i64,
    pub inviter_template_id: Option<CouponTemplateId>,
    pub invitee_points: i64,
    pub invitee_template_id: Option<CouponTemplateId>,
}

/// The largest points reward of a referral or a task.
pub const MAX_REWARD_POINTS: i64 = 100_000;

impl ReferralProgram {
    pub fn new(program: ReferralProgram) -> DomainResult<ReferralProgram> {
        for (field, points) in [("inviter_points", program.inviter_points), ("invitee_points", program.invitee_points)]
        {
            if !(0..=MAX_REWARD_POINTS).contains(&points) {
                return Err(DomainError::OutOfRange { field, min: 0, max: MAX_REWARD_POINTS });
            }
        }
        Ok(program)
    }
}

/// A registration made with an invite code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: uuid::Uuid,
    pub promoter_id: PromoterId,
    pub invitee_id: CustomerId,
    pub device_id: Option<String>,
    /// Why it earns nothing; `None` when it counts.
    pub refusal: Option<ReferralRefusal>,
    pub at: Timestamp,
}

/// 任务宝: invite `invites_needed` friends (counted referrals) within the window to unlock a
/// reward, once per promoter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteTask {
    pub id: uuid::Uuid,
    pub name: String,
    pub invites_needed: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reward_points: i64,
    pub reward_template_id: Option<CouponTemplateId>,
    pub created_at: Timestamp,
}

impl InviteTask {
    pub fn validate(&self) -> DomainResult<()> {
        if !(1..=1_000).contains(&self.invites_needed) {
            return Err(DomainError::OutOfRange { field: "invites_needed", min: 1, max: 1_000 });
        }
        if self.ends_at <= self.starts_at {
            return Err(DomainError::Malformed { field: "ends_at", expected: Expected::AfterStart });
        }
        if !(0..=MAX_REWARD_POINTS).contains(&self.reward_points) {
            return Err(DomainError::OutOfRange { field: "reward_points", min: 0, max: MAX_REWARD_POINTS });
        }
        if self.reward_points == 0 && self.reward_template_id.is_none() {
            return Err(DomainError::Required { field: "reward_points" });
        }
        Ok(())
    }

    pub fn runs_at(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

named_enum! {
    /// Where a payout request stands.
    pub enum PayoutStatus for "status" {
        Requested = "requested",
        Paid = "paid",
        Rejected = "rejected",
    }
}

/// A distributor's request to be paid what is available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutRequest {
    pub id: PayoutId,
    pub promoter_id: PromoterId,
    pub amount: Money,
    pub status: PayoutStatus,
    /// The bank or WeChat transfer reference, when paid; why, when rejected.
    pub note: Option<String>,
    pub requested_at: Timestamp,
    pub settled_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn codes_read_back_however_they_are_typed() {
        let code = invite_code(0x1234_5678_9abc);
        assert_eq!(code.len(), CODE_LENGTH);
        assert_eq!(parse_invite_code(&code.to_lowercase()), Ok(code.clone()));
        assert_eq!(parse_invite_code("abcd-ef01"), Ok("ABCDEF01".to_owned()));
        assert_eq!(parse_invite_code("oooo iiii"), Ok("00001111".to_owned()));
        assert!(parse_invite_code("ABCDEFU1").is_err(), "U is not in the alphabet");
        assert!(parse_invite_code("ABC").is_err());
    }

    #[test]
    fn referrals_refuse_self_old_customers_and_known_devices() {
        let (me, friend) = (CustomerId::new(), CustomerId::new());
        let inviter = PromoterOwner::Customer(me);
        assert_eq!(referral_verdict(inviter, friend, true, false), Ok(()));
        assert_eq!(referral_verdict(inviter, me, true, false), Err(ReferralRefusal::SelfInvite));
        assert_eq!(referral_verdict(inviter, friend, false, false), Err(ReferralRefusal::NotNew));
        assert_eq!(referral_verdict(inviter, friend, true, true), Err(ReferralRefusal::SameDevice));
        assert_eq!(referral_verdict(PromoterOwner::Staff(StaffId::new()), friend, true, false), Ok(()));
    }

    #[test]
    fn rules_cap_rates_and_sku_rates_override() {
        let sku = SkuId::new();
        let rules = CommissionRules {
            level1_bp: 1_000,
            level2_bp: 300,
            return_window_days: 7,
            sku_rates: vec![SkuRate { sku_id: sku, level1_bp: 2_000, level2_bp: 0 }],
        };
        let rules = CommissionRules::new(rules).unwrap();
        assert_eq!((rules.rate(sku, 1), rules.rate(sku, 2)), (2_000, 0));
        assert_eq!((rules.rate(SkuId::new(), 1), rules.rate(SkuId::new(), 2)), (1_000, 300));
        assert!(CommissionRules::new(CommissionRules { level1_bp: 4_000, level2_bp: 2_000, ..rules.clone() }).is_err());
        let twice = vec![rules.sku_rates[0], rules.sku_rates[0]];
        assert!(CommissionRules::new(CommissionRules { sku_rates: twice, ..rules }).is_err());
        assert_eq!(commission(Money::from_fen(999), 1_000), Money::from_fen(99), "rounded down");
    }

    #[test]
    fn payouts_need_enough_released_money() {
        let buckets = Buckets { available: Money::from_fen(5_000), ..Buckets::default() };
        assert_eq!(check_payout(buckets, Money::from_fen(5_000)), Ok(()));
        assert!(matches!(check_payout(buckets, Money::from_fen(5_001)), Err(PayoutRefusal::NotEnough { .. })));
        assert!(matches!(check_payout(buckets, Money::from_fen(50)), Err(PayoutRefusal::BelowMinimum { .. })));
    }

    proptest! {
        #[test]
        fn refunds_in_any_split_reverse_exactly_what_was_earned(
            earned in 0i64..1_000_000,
            quantity in 1i64..20,
            steps in proptest::collection::vec(1i64..5, 0..20),
        ) {
            let earned = Money::from_fen(earned);
            let (mut refunded, mut reversed) = (0, Money::ZERO);
            for step in steps.into_iter().chain(std::iter::repeat_n(1, quantity as usize)) {
                if refunded == quantity {
                    break;
                }
                refunded = (refunded + step).min(quantity);
                let due = to_reverse(earned, reversed, quantity, refunded);
                prop_assert!(due >= Money::ZERO);
                reversed = reversed.checked_add(due).unwrap();
                prop_assert!(reversed <= earned);
            }
            prop_assert_eq!(reversed, earned);
        }
    }
}
