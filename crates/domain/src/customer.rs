//! Customers (会员/顾客) and their one identity across channels.
//!
//! A customer is known by any of: a mobile phone, a WeChat openid (per official account or
//! mini-program) and unionid (across them), a WeCom external contact id (a guide's contact), a
//! member card number. Each identifier belongs to at most one customer, so looking one up
//! resolves to one profile. When two profiles turn out to be one person, a trusted caller merges
//! them: the absorbed profile's identifiers move to the survivor and the absorbed id keeps
//! resolving to it. Every customer also has a dense ordinal (1, 2, 3…) for the audience
//! engine's bitmaps.

use crate::Expected;
use crate::{
    DomainError, DomainResult,
    ids::{CustomerId, StaffId, StoreId, TierId},
    text::Phone,
    time::Timestamp,
};

named_enum! {
    /// What kind of identifier.
    pub enum IdentityKind for "kind" {
        Phone = "phone",
        WechatOpenid = "wechat_openid",
        WechatUnionid = "wechat_unionid",
        WecomExternalId = "wecom_external_id",
        MemberCard = "member_card",
    }
}

/// One identifier of a customer, validated and normalised (a phone without `+86`, spaces or
/// dashes), so equal identifiers compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    kind: IdentityKind,
    value: String,
}

impl Identity {
    pub fn parse(kind: &str, value: &str) -> DomainResult<Identity> {
        let kind = IdentityKind::parse(kind.trim())?;
        let value = value.trim();
        let value = match kind {
            IdentityKind::Phone => Phone::parse(value)?.as_str().to_owned(),
            IdentityKind::WechatOpenid | IdentityKind::WechatUnionid | IdentityKind::WecomExternalId => {
                let ok = (8..=64).contains(&value.len())
                    && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !ok {
                    return Err(DomainError::Malformed { field: "value", expected: Expected::WechatId });
                }
                value.to_owned()
            }
            IdentityKind::MemberCard => {
                let ok = (6..=32).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric());
                if !ok {
                    return Err(DomainError::Malformed { field: "value", expected: Expected::MemberCardNo });
                }
                value.to_ascii_uppercase()
            }
        };
        Ok(Identity { kind, value })
    }

    pub fn phone(phone: &Phone) -> Identity {
        Identity { kind: IdentityKind::Phone, value: phone.as_str().to_owned() }
    }

    pub fn kind(&self) -> IdentityKind {
        self.kind
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// The identifier as staff outside HQ see it: enough to recognise, not to copy. A phone
    /// keeps its first three and last four digits (`138****0001`); other identifiers their
    /// first and last three characters (`oAb…xyz`), a member card its last four (`****1234`).
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.value.chars().collect();
        let n = chars.len();
        let head = |k: usize| chars[..k.min(n)].iter().collect::<String>();
        let tail = |k: usize| chars[n - k.min(n)..].iter().collect::<String>();
        match self.kind {
            IdentityKind::Phone if n > 7 => format!("{}****{}", head(3), tail(4)),
            IdentityKind::Phone => "****".to_owned(),
            IdentityKind::MemberCard => format!("****{}", tail(4)),
            _ if n > 6 => format!("{}…{}", head(3), tail(3)),
            _ => "…".to_owned(),
        }
    }
}

/// How many days a guide has to follow a customer up (跟进) once the task is handed out.
pub const FOLLOW_UP_DAYS: i64 = 3;

/// When a follow-up handed out at `handed_out_at` is due; after that it is overdue.
pub fn follow_up_due(handed_out_at: Timestamp) -> Timestamp {
    handed_out_at + chrono::Duration::days(FOLLOW_UP_DAYS)
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// A customer profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    /// Dense, from 1, never reused: the customer's bit in audience bitmaps.
    pub ordinal: i64,
    pub display_name: Option<String>,
    /// The store the customer belongs to (开卡门店 / 归属门店).
    pub home_store_id: Option<StoreId>,
    /// The exclusive guide (专属导购), a guide of the home store.
    pub guide_id: Option<StaffId>,
    /// The membership tier, once tiers are set up.
    pub tier_id: Option<TierId>,
    /// Set when this profile was merged into another: it then resolves to that one.
    pub merged_into: Option<CustomerId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Customer {
    pub fn validate_name(raw: Option<&str>) -> DomainResult<Option<String>> {
        crate::text::optional("display_name", raw, 64)
    }
}

/// Why two profiles cannot be merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("a customer cannot be merged into itself")]
    SameCustomer,
    #[error("the profile was already merged into another")]
    AlreadyMerged,
    #[error("the profile is not merged into another")]
    NotMerged,
    #[error("the surviving profile has since been merged into another; undo that merge first")]
    SurvivorMergedSince,
    #[error("undoing the merge would leave the survivor's {ledger} below zero")]
    UndoOverdraws { ledger: &'static str },
}

/// Checks a merge of `absorbed` into `survivor` and returns the survivor as it is afterwards:
/// it keeps its own home store and guide, and takes the absorbed profile's where it has none.
pub fn merge(survivor: &Customer, absorbed: &Customer, at: Timestamp) -> Result<Customer, MergeError> {
    if survivor.id == absorbed.id {
        return Err(MergeError::SameCustomer);
    }
    if survivor.merged_into.is_some() || absorbed.merged_into.is_some() {
        return Err(MergeError::AlreadyMerged);
    }
    let mut merged = survivor.clone();
    merged.display_name = merged.display_name.or_else(|| absorbed.display_name.clone());
    if merged.home_store_id.is_none() {
        merged.home_store_id = absorbed.home_store_id;
        merged.guide_id = merged.guide_id.or(absorbed.guide_id);
    }
    merged.updated_at = at;
    Ok(merged)
}

/// The survivor's fields a merge filled from the absorbed profile (see [`merge`]).
pub fn filled_fields(before: &Customer, after: &Customer) -> Vec<&'static str> {
    let mut filled = Vec::new();
    if before.display_name.is_none() && after.display_name.is_some() {
        filled.push("display_name");
    }
    if before.home_store_id.is_none() && after.home_store_id.is_some() {
        filled.push("home_store_id");
    }
    if before.guide_id.is_none() && after.guide_id.is_some() {
        filled.push("guide_id");
    }
    filled
}

/// Undoes a merge: the absorbed profile stands on its own again, and each survivor field the
/// merge `filled` is emptied if it still holds the absorbed profile's value (a change made
/// since is kept). Returns `(survivor, absorbed)` as they are afterwards.
pub fn unmerge(
    survivor: &Customer,
    absorbed: &Customer,
    filled: &[String],
    at: Timestamp,
) -> Result<(Customer, Customer), MergeError> {
    if absorbed.merged_into != Some(survivor.id) {
        return Err(MergeError::NotMerged);
    }
    if survivor.merged_into.is_some() {
        return Err(MergeError::SurvivorMergedSince);
    }
    let mut kept = survivor.clone();
    for field in filled {
        match field.as_str() {
            "display_name" if kept.display_name == absorbed.display_name => kept.display_name = None,
            "home_store_id" if kept.home_store_id == absorbed.home_store_id => {
                kept.home_store_id = None;
                if kept.guide_id == absorbed.guide_id {
                    kept.guide_id = None;
                }
            }
            "guide_id" if kept.guide_id == absorbed.guide_id => kept.guide_id = None,
            _ => {}
        }
    }
    kept.updated_at = at;
    let mut restored = absorbed.clone();
    restored.merged_into = None;
    restored.updated_at = at;
    Ok((kept, restored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_masked_for_staff() {
        let masked = |kind: &str, value: &str| Identity::parse(kind, value).unwrap().masked();
        assert_eq!(masked("phone", "13800000001"), "138****0001");
        assert_eq!(masked("member_card", "vip20261234"), "****1234");
        assert_eq!(masked("wechat_openid", "oAbcdefgh_xyz"), "oAb…xyz");
        let due = follow_up_due(chrono::DateTime::UNIX_EPOCH);
        assert_eq!(due - chrono::DateTime::UNIX_EPOCH, chrono::Duration::days(FOLLOW_UP_DAYS));
    }

    fn customer(ordinal: i64, store: Option<u128>) -> Customer {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Customer {
            id: CustomerId::new(),
            ordinal,
            display_name: None,
            home_store_id: store.map(|s| StoreId::from_uuid(uuid::Uuid::from_u128(s))),
            guide_id: None,
            tier_id: None,
            merged_into: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn identities_are_normalised_and_checked() {
        assert_eq!(Identity::parse("phone", "+86 138-0013-8000").unwrap().value(), "13800138000");
        assert_eq!(Identity::parse("member_card", "vip00123").unwrap().to_string(), "member_card:VIP00123");
        assert!(Identity::parse("wechat_openid", "oAbC_123-xyz").is_ok());
        assert!(Identity::parse("wechat_openid", "short").is_err());
        assert!(Identity::parse("wechat_openid", "o'; DROP TABLE--").is_err());
        assert!(matches!(Identity::parse("email", "a@b.cn"), Err(DomainError::UnknownValue { field: "kind", .. })));
    }

    #[test]
    fn an_unmerge_empties_only_what_the_merge_filled_and_nobody_changed_since() {
        let at = chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let (lone, homed) = (customer(1, None), customer(2, Some(7)));
        let merged = merge(&lone, &homed, at).unwrap();
        let filled: Vec<String> = filled_fields(&lone, &merged).into_iter().map(str::to_owned).collect();
        assert_eq!(filled, vec!["home_store_id".to_owned()]);
        let mut gone = homed.clone();
        gone.merged_into = Some(merged.id);
        let (kept, back) = unmerge(&merged, &gone, &filled, at).unwrap();
        assert_eq!((kept.home_store_id, back.merged_into), (None, None));
        assert_eq!(back.home_store_id, homed.home_store_id);
        // A home store chosen after the merge stays.
        let mut moved = merged.clone();
        moved.home_store_id = Some(StoreId::from_uuid(uuid::Uuid::from_u128(9)));
        assert_eq!(unmerge(&moved, &gone, &filled, at).unwrap().0.home_store_id, moved.home_store_id);
        assert_eq!(unmerge(&merged, &homed, &filled, at).unwrap_err(), MergeError::NotMerged);
        let mut absorbed_since = merged.clone();
        absorbed_since.merged_into = Some(CustomerId::new());
        assert_eq!(unmerge(&absorbed_since, &gone, &filled, at).unwrap_err(), MergeError::SurvivorMergedSince);
    }

    #[test]
    fn a_merge_keeps_the_survivors_home_and_fills_what_it_lacks() {
        let at = chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let (lone, homed) = (customer(1, None), customer(2, Some(7)));
        let merged = merge(&lone, &homed, at).unwrap();
        assert_eq!((merged.id, merged.home_store_id, merged.updated_at), (lone.id, homed.home_store_id, at));
        let kept = merge(&homed, &customer(3, Some(9)), at).unwrap();
        assert_eq!(kept.home_store_id, homed.home_store_id);
        assert_eq!(merge(&lone, &lone, at), Err(MergeError::SameCustomer));
        let gone = Customer { merged_into: Some(homed.id), ..customer(4, None) };
        assert_eq!(merge(&lone, &gone, at), Err(MergeError::AlreadyMerged));
    }
}

/// A customer's birthday (生日), for the birthday gift. The year is optional: many give only
/// the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Birthday {
    month: u32,
    day: u32,
    year: Option<i32>,
}

impl Birthday {
    pub fn new(month: u32, day: u32, year: Option<i32>) -> DomainResult<Birthday> {
        // Checked against a leap year so that 29 February is a birthday.
        let valid_day = chrono::NaiveDate::from_ymd_opt(year.unwrap_or(2000), month, day).is_some();
        if !valid_day {
            return Err(DomainError::Malformed { field: "birthday", expected: Expected::CalendarDay });
        }
        if year.is_some_and(|y| !(1900..=2100).contains(&y)) {
            return Err(DomainError::OutOfRange { field: "birthday.year", min: 1900, max: 2100 });
        }
        Ok(Birthday { month, day, year })
    }

    pub fn month(&self) -> u32 {
        self.month
    }

    pub fn day(&self) -> u32 {
        self.day
    }

    pub fn year(&self) -> Option<i32> {
        self.year
    }

    /// The (month, day) celebrated in `year`: 29 February falls on the 28th in other years.
    pub fn celebrated_in(&self, year: i32) -> (u32, u32) {
        if self.month == 2 && self.day == 29 && chrono::NaiveDate::from_ymd_opt(year, 2, 29).is_none() {
            (2, 28)
        } else {
            (self.month, self.day)
        }
    }
}

/// The (month, day) pairs whose birthdays are celebrated on `date`: its own, and 29 February on
/// the 28th of a common year.
pub fn birthdays_on(date: chrono::NaiveDate) -> Vec<(u32, u32)> {
    use chrono::Datelike as _;
    let mut days = vec![(date.month(), date.day())];
    if date.month() == 2 && date.day() == 28 && chrono::NaiveDate::from_ymd_opt(date.year(), 2, 29).is_none() {
        days.push((2, 29));
    }
    days
}

#[cfg(test)]
mod birthday_tests {
    use super::*;

    #[test]
    fn leap_day_birthdays_are_celebrated_every_year() {
        let leap = Birthday::new(2, 29, None).unwrap();
        assert_eq!(leap.celebrated_in(2027), (2, 28));
        assert_eq!(leap.celebrated_in(2028), (2, 29));
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(birthdays_on(day(2027, 2, 28)), vec![(2, 28), (2, 29)]);
        assert_eq!(birthdays_on(day(2028, 2, 28)), vec![(2, 28)]);
        assert!(Birthday::new(2, 30, None).is_err());
        assert!(Birthday::new(2, 29, Some(2027)).is_err(), "not in a common year");
        assert!(Birthday::new(13, 1, None).is_err());
    }
}

/// What makes a rule tag (规则标签) stick: at least `min_count` of `event` in the last
/// `window_days` days, e.g. "bought fresh ≥ 3 times in 30 days" is the event `Order Paid` with
/// the 生鲜 category. For orders the category (or a subcategory) must be on one of its lines;
/// other events are counted by name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TagRule {
    pub event: String,
    pub category_id: Option<crate::ids::CategoryId>,
    pub min_count: i64,
    pub window_days: i64,
}

/// The event name paid orders count as.
pub const ORDER_PAID_EVENT: &str = "Order Paid";

impl TagRule {
    pub fn new(rule: TagRule) -> DomainResult<TagRule> {
        if rule.event.trim().is_empty() || rule.event.chars().count() > 64 {
            return Err(DomainError::Malformed { field: "rule.event", expected: Expected::EventName });
        }
        if rule.category_id.is_some() && rule.event != ORDER_PAID_EVENT {
            return Err(DomainError::Malformed { field: "rule.category_id", expected: Expected::OnlyWithOrderPaid });
        }
        if !(1..=1_000).contains(&rule.min_count) {
            return Err(DomainError::OutOfRange { field: "rule.min_count", min: 1, max: 1_000 });
        }
        if !(1..=365).contains(&rule.window_days) {
            return Err(DomainError::OutOfRange { field: "rule.window_days", min: 1, max: 365 });
        }
        Ok(rule)
    }
}
