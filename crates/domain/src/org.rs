//! The organisation: the chain's HQ (总部), its regions (区域), stores (门店) and staff.

mod hours;

pub use hours::OpeningHours;

use crate::{
    DomainError, DomainResult,
    geo::Coordinates,
    ids::{RegionId, StaffId, StoreId},
    text::{self, Phone},
    time::{TimeZone, Timestamp},
};

/// The chain itself: one deployment runs one chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub name: String,
    pub time_zone: TimeZone,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub id: RegionId,
    pub code: String,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Region {
    pub fn validate_code(raw: &str) -> DomainResult<String> {
        text::code("code", raw, 32)
    }

    pub fn validate_name(raw: &str) -> DomainResult<String> {
        text::required("name", raw, 64)
    }
}

named_enum! {
    /// Whether a store trades.
    pub enum StoreStatus for "status" {
        /// Trading.
        Open = "open",
        /// Temporarily not trading (renovation, holiday).
        Paused = "paused",
        /// Permanently closed; kept for history.
        Closed = "closed",
    }
}

named_enum! {
    /// What a location is: a store sells; a warehouse (仓) only holds and ships stock, and is
    /// never offered to customers.
    pub enum StoreKind for "kind" {
        Store = "store",
        Warehouse = "warehouse",
    }
}

/// A store (门店).
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    pub id: StoreId,
    pub region_id: RegionId,
    /// Unique across the chain, e.g. `SH-001`.
    pub code: String,
    pub name: String,
    pub address: String,
    /// GCJ-02, as Chinese maps show it.
    pub location: Coordinates,
    pub opening_hours: OpeningHours,
    pub time_zone: TimeZone,
    /// Sales floor area in m², for 坪效 (sales per m²).
    pub area_m2: u32,
    /// How far the store delivers, in metres.
    pub delivery_radius_m: u32,
    pub phone: Option<String>,
    pub kind: StoreKind,
    pub status: StoreStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Store {
    pub const MAX_AREA_M2: u32 = 1_000_000;
    pub const MAX_DELIVERY_RADIUS_M: u32 = 100_000;

    pub fn validate_code(raw: &str) -> DomainResult<String> {
        text::code("code", raw, 32)
    }

    pub fn validate_name(raw: &str) -> DomainResult<String> {
        text::required("name", raw, 64)
    }

    pub fn validate_address(raw: &str) -> DomainResult<String> {
        text::required("address", raw, 256)
    }

    pub fn validate_area(area_m2: i64) -> DomainResult<u32> {
        bounded("area_m2", area_m2, 1, Self::MAX_AREA_M2)
    }

    pub fn validate_delivery_radius(radius_m: i64) -> DomainResult<u32> {
        bounded("delivery_radius_m", radius_m, 0, Self::MAX_DELIVERY_RADIUS_M)
    }

    pub fn validate_phone(raw: Option<&str>) -> DomainResult<Option<String>> {
        text::optional("phone", raw, 32)
    }
}

fn bounded(field: &'static str, value: i64, min: u32, max: u32) -> DomainResult<u32> {
    u32::try_from(value).ok().filter(|v| (min..=max).contains(v)).ok_or(DomainError::OutOfRange {
        field,
        min: min.into(),
        max: max.into(),
    })
}

/// What a staff member does. Each role works at one level of the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    HqAdmin,
    HqOps,
    RegionManager,
    StoreManager,
    Cashier,
    /// 导购 shopping guide.
    Guide,
    Picker,
    Courier,
    /// Not a job: the principal of a customer signed in to the mall, acting through the shop use
    /// cases on their own orders, wallet and coupons. Never stored with staff, never parsed from
    /// input and never assigned ([`Role::ALL`] and [`Role::parse`] know only the staff roles).
    Customer,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::HqAdmin,
        Role::HqOps,
        Role::RegionManager,
        Role::StoreManager,
        Role::Cashier,
        Role::Guide,
        Role::Picker,
        Role::Courier,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::HqAdmin => "hq_admin",
            Role::HqOps => "hq_ops",
            Role::RegionManager => "region_manager",
            Role::StoreManager => "store_manager",
            Role::Cashier => "cashier",
            Role::Guide => "guide",
            Role::Picker => "picker",
            Role::Courier => "courier",
            Role::Customer => "customer",
        }
    }

    pub fn parse(raw: &str) -> DomainResult<Role> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| DomainError::UnknownValue { field: "role", value: raw.to_owned() })
    }

    /// The level of the organisation this role works at.
    pub fn level(self) -> ScopeLevel {
        match self {
            // A customer may shop at any store.
            Role::HqAdmin | Role::HqOps | Role::Customer => ScopeLevel::All,
            Role::RegionManager => ScopeLevel::Region,
            Role::StoreManager | Role::Cashier | Role::Guide | Role::Picker | Role::Courier => ScopeLevel::Store,
        }
    }

    /// Seniority, used so nobody can create or promote someone above themselves.
    pub fn rank(self) -> u8 {
        match self {
            Role::HqAdmin => 5,
            Role::HqOps => 4,
            Role::RegionManager => 3,
            Role::StoreManager => 2,
            Role::Cashier | Role::Guide | Role::Picker | Role::Courier => 1,
            Role::Customer => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeLevel {
    All,
    Region,
    Store,
}

impl ScopeLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeLevel::All => "all",
            ScopeLevel::Region => "region",
            ScopeLevel::Store => "store",
        }
    }
}

/// The part of the chain a staff member sees and acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Region(RegionId),
    Store(StoreId),
}

impl Scope {
    pub fn level(&self) -> ScopeLevel {
        match self {
            Scope::All => ScopeLevel::All,
            Scope::Region(_) => ScopeLevel::Region,
            Scope::Store(_) => ScopeLevel::Store,
        }
    }
}

/// A role together with a scope at that role's level: the only way to give someone a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    role: Role,
    scope: Scope,
}

impl Assignment {
    pub fn new(role: Role, scope: Scope) -> DomainResult<Assignment> {
        if role.level() == scope.level() {
            Ok(Assignment { role, scope })
        } else {
            Err(DomainError::RoleScopeMismatch { role: role.as_str(), scope: scope.level().as_str() })
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }
}

named_enum! {
    pub enum StaffStatus for "status" {
        Active = "active",
        /// Left or suspended: cannot log in; history stays.
        Disabled = "disabled",
    }
}

/// A staff member. Credentials live beside it in the store, never in this type.
#[derive(Debug, Clone, PartialEq)]
pub struct Staff {
    pub id: StaffId,
    /// Unique login name.
    pub username: String,
    pub display_name: String,
    /// Unique when present; also a login name.
    pub phone: Option<Phone>,
    pub assignment: Assignment,
    pub status: StaffStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Staff {
    pub fn validate_username(raw: &str) -> DomainResult<String> {
        text::code("username", raw, 32).map(|u| u.to_lowercase())
    }

    pub fn validate_display_name(raw: &str) -> DomainResult<String> {
        text::required("display_name", raw, 64)
    }

    /// At least 8 characters, at most 128.
    pub fn validate_password(raw: &str) -> DomainResult<()> {
        let n = raw.chars().count();
        if n < 8 {
            Err(DomainError::OutOfRange { field: "password", min: 8, max: 128 })
        } else if n > 128 {
            Err(DomainError::TooLong { field: "password", max: 128 })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_must_match_scope_level() {
        let store = Scope::Store(StoreId::new());
        assert!(Assignment::new(Role::Cashier, store).is_ok());
        assert!(Assignment::new(Role::HqAdmin, Scope::All).is_ok());
        assert_eq!(
            Assignment::new(Role::Cashier, Scope::All),
            Err(DomainError::RoleScopeMismatch { role: "cashier", scope: "all" })
        );
        assert!(Assignment::new(Role::RegionManager, store).is_err());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
    }

    #[test]
    fn bounds() {
        assert_eq!(Store::validate_area(120), Ok(120));
        assert!(Store::validate_area(0).is_err());
        assert!(Store::validate_delivery_radius(-1).is_err());
        assert!(Store::validate_delivery_radius(i64::MAX).is_err());
        assert!(Staff::validate_password("short").is_err());
        assert_eq!(Staff::validate_username("Admin").unwrap(), "admin");
    }
}
