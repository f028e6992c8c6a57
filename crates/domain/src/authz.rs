//! Who may do what, and where. A permission says what a role may do; a scope says where.
//! Every use case asks both questions through [`Actor`] before it reads or writes.

use crate::{
    ids::{RegionId, StaffId, StoreId},
    org::{Assignment, Role, Scope},
};

/// What a role may do, independent of where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See regions and stores (within scope).
    ReadOrg,
    /// Change the chain's settings, create and edit regions, open stores.
    ManageChain,
    /// Edit an existing store's details (within scope).
    EditStore,
    /// See staff (within scope).
    ReadStaff,
    /// Create and edit staff junior to oneself (within scope).
    ManageStaff,
    /// See the catalog. Every role.
    ReadCatalog,
    /// Create and edit categories, brands, products and SKUs.
    ManageCatalog,
    /// Set store price overrides and availability (within scope).
    ManageStorePrices,
    /// Read the audit log.
    ReadAudit,
    /// Issue and revoke API tokens for integrations.
    ManageApiTokens,
    /// See stock levels and the stock ledger (within scope). Every role.
    ReadStock,
    /// Record stock movements: receipts, losses, stocktake adjustments (within scope).
    ManageStock,
    /// Approve requisitions, transfers, stocktakes and loss reports (within scope).
    ApproveStock,
    /// See orders (within scope). Every role.
    ReadOrders,
    /// Find customers and read their profiles (store staff: their stores' customers, and anyone
    /// by an identifier at the till). Every role.
    ReadCustomers,
    /// Register customers and add identifiers (cashiers, guides and above).
    ManageCustomers,
    /// Merge two profiles of one person, bind and hand over guides, adjust points (store
    /// managers and above).
    MergeCustomers,
    /// Export members with their phone numbers (HQ).
    ExportCustomers,
    /// Take orders: create, take payment, cancel, refund (within scope).
    SellOrders,
    /// Move orders through picking, packing, dispatch and completion (within scope).
    FulfilOrders,
    /// Define coupon templates and promotions, pause and end them (HQ).
    ManageMarketing,
    /// Give coupons to customers (within scope; guides to their store's customers).
    IssueCoupons,
    /// Read the back office's sales reports and the order and member lists behind them (the
    /// admin console's dashboard, orders and members), within the scope.
    ReadReports,
}

impl Role {
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        // Every role finds customers; who may do more is below.
        if permission == ReadCustomers {
            return true;
        }
        match self {
            Role::HqAdmin => true,
            Role::HqOps => matches!(
                permission,
                ReadOrg
                    | ReadStaff
                    | ReadCatalog
                    | ManageCatalog
                    | ManageStorePrices
                    | ReadAudit
                    | ReadStock
                    | ManageStock
                    | ApproveStock
                    | ReadOrders
                    | ManageCustomers
                    | MergeCustomers
                    | ExportCustomers
                    | ManageMarketing
                    | IssueCoupons
                    | ReadReports
            ),
            Role::RegionManager | Role::StoreManager => {
                matches!(
                    permission,
                    ApproveStock if self == Role::RegionManager
                ) || matches!(
                    permission,
                    ReadOrg
                        | EditStore
                        | ReadStaff
                        | ManageStaff
                        | ReadCatalog
                        | ManageStorePrices
                        | ReadStock
                        | ManageStock
                        | ReadOrders
                        | SellOrders
                        | FulfilOrders
                        | ManageCustomers
                        | MergeCustomers
                        | IssueCoupons
                        | ReadReports
                )
            }
            Role::Cashier => matches!(
                permission,
                ReadOrg | ReadCatalog | ReadStock | ReadOrders | SellOrders | FulfilOrders | ManageCustomers
            ),
            Role::Guide => {
                matches!(
                    permission,
                    ReadOrg | ReadCatalog | ReadStock | ReadOrders | SellOrders | ManageCustomers | IssueCoupons
                )
            }
            Role::Picker | Role::Courier => {
                matches!(permission, ReadOrg | ReadCatalog | ReadStock | ReadOrders | FulfilOrders)
            }
            // What the shop use cases need to act for the customer on their own things (each
            // of them checks the customer owns what they touch): browse, order and pay, read
            // their orders, claim coupons (ManageCustomers). Nothing of the back office.
            Role::Customer => {
                matches!(permission, ReadOrg | ReadCatalog | ReadStock | ReadOrders | SellOrders | ManageCustomers)
            }
        }
    }
}

/// Where a store sits: what a scope check needs to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorePlace {
    pub store_id: StoreId,
    pub region_id: RegionId,
}

/// The authenticated staff member behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: StaffId,
    pub username: String,
    pub assignment: Assignment,
    /// Where a store-scoped actor's store sits, so region checks need no lookup.
    pub home_region: Option<RegionId>,
}

impl Actor {
    pub fn role(&self) -> Role {
        self.assignment.role()
    }

    pub fn scope(&self) -> Scope {
        self.assignment.scope()
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role().allows(permission)
    }

    pub fn covers_store(&self, place: StorePlace) -> bool {
        match self.scope() {
            Scope::All => true,
            Scope::Region(region) => region == place.region_id,
            Scope::Store(store) => store == place.store_id,
        }
    }

    /// Whether the actor sees a region: HQ sees all, a region manager theirs, store staff the
    /// region of their store.
    pub fn covers_region(&self, region_id: RegionId) -> bool {
        match self.scope() {
            Scope::All => true,
            Scope::Region(region) => region == region_id,
            Scope::Store(_) => self.home_region == Some(region_id),
        }
    }

    /// Whether the actor may give `target` to someone whose store or region is `place`
    /// (`None` for chain-wide). Only an HQ admin appoints peers; everyone else appoints juniors.
    pub fn may_assign(&self, target: Assignment, place: Option<ScopePlace>) -> bool {
        if !self.can(Permission::ManageStaff) {
            return false;
        }
        let senior_enough = self.role() == Role::HqAdmin || target.role().rank() < self.role().rank();
        let inside = match (self.scope(), place) {
            (Scope::All, _) => true,
            (_, None) => false,
            (Scope::Region(region), Some(ScopePlace::Region(r))) => region == r,
            (Scope::Region(region), Some(ScopePlace::Store(p))) => region == p.region_id,
            (Scope::Store(_), Some(ScopePlace::Region(_))) => false,
            (Scope::Store(store), Some(ScopePlace::Store(p))) => store == p.store_id,
        };
        senior_enough && inside
    }
}

/// Where a scope points, resolved (a store with its region).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePlace {
    Region(RegionId),
    Store(StorePlace),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, scope: Scope, home_region: Option<RegionId>) -> Actor {
        Actor {
            staff_id: StaffId::new(),
            username: "t".into(),
            assignment: Assignment::new(role, scope).unwrap(),
            home_region,
        }
    }

    #[test]
    fn a_customer_may_shop_and_nothing_of_the_back_office() {
        use Permission::*;
        let shopping = [ReadOrg, ReadCatalog, ReadStock, ReadOrders, SellOrders, ManageCustomers, ReadCustomers];
        let back_office = [
            ManageChain,
            EditStore,
            ReadStaff,
            ManageStaff,
            ManageCatalog,
            ManageStorePrices,
            ReadAudit,
            ManageApiTokens,
            ManageStock,
            ApproveStock,
            MergeCustomers,
            ExportCustomers,
            FulfilOrders,
            ManageMarketing,
            IssueCoupons,
            ReadReports,
        ];
        for permission in shopping {
            assert!(Role::Customer.allows(permission), "{permission:?}");
        }
        for permission in back_office {
            assert!(!Role::Customer.allows(permission), "{permission:?}");
        }
        // Nobody can be given the customer role, nor appoint one.
        assert!(!Role::ALL.contains(&Role::Customer));
        assert!(Role::parse("customer").is_err());
        let admin = actor(Role::HqAdmin, Scope::All, None);
        let customer = actor(Role::Customer, Scope::All, None);
        let cashier_job = Assignment::new(Role::Cashier, Scope::Store(StoreId::new())).unwrap();
        assert!(!customer.may_assign(cashier_job, None), "a customer appoints nobody");
        assert!(admin.can(ManageStaff) && !customer.can(ManageStaff));
    }

    #[test]
    fn scope_covers_only_own_part_of_chain() {
        let (north, south) = (RegionId::new(), RegionId::new());
        let mine = StorePlace { store_id: StoreId::new(), region_id: north };
        let neighbour = StorePlace { store_id: StoreId::new(), region_id: north };
        let far = StorePlace { store_id: StoreId::new(), region_id: south };

        let hq = actor(Role::HqAdmin, Scope::All, None);
        let region = actor(Role::RegionManager, Scope::Region(north), None);
        let cashier = actor(Role::Cashier, Scope::Store(mine.store_id), Some(north));

        for place in [mine, neighbour, far] {
            assert!(hq.covers_store(place));
        }
        assert!(region.covers_store(mine) && region.covers_store(neighbour) && !region.covers_store(far));
        assert!(cashier.covers_store(mine) && !cashier.covers_store(neighbour) && !cashier.covers_store(far));
        assert!(cashier.covers_region(north) && !cashier.covers_region(south));
    }

    #[test]
    fn nobody_appoints_above_themselves() {
        let north = RegionId::new();
        let store = StorePlace { store_id: StoreId::new(), region_id: north };
        let manager = actor(Role::StoreManager, Scope::Store(store.store_id), Some(north));
        let cashier_job = Assignment::new(Role::Cashier, Scope::Store(store.store_id)).unwrap();
        let manager_job = Assignment::new(Role::StoreManager, Scope::Store(store.store_id)).unwrap();
        assert!(manager.may_assign(cashier_job, Some(ScopePlace::Store(store))));
        assert!(!manager.may_assign(manager_job, Some(ScopePlace::Store(store))));

        let other = StorePlace { store_id: StoreId::new(), region_id: north };
        let other_cashier = Assignment::new(Role::Cashier, Scope::Store(other.store_id)).unwrap();
        assert!(!manager.may_assign(other_cashier, Some(ScopePlace::Store(other))));

        let cashier = actor(Role::Cashier, Scope::Store(store.store_id), Some(north));
        assert!(!cashier.may_assign(cashier_job, Some(ScopePlace::Store(store))));

        let admin = actor(Role::HqAdmin, Scope::All, None);
        assert!(admin.may_assign(Assignment::new(Role::HqAdmin, Scope::All).unwrap(), None));
    }

    #[test]
    fn front_line_roles_only_read() {
        for role in [Role::Cashier, Role::Guide, Role::Picker, Role::Courier] {
            assert!(role.allows(Permission::ReadCatalog));
            assert!(!role.allows(Permission::ManageStorePrices));
            assert!(!role.allows(Permission::ReadStaff));
            assert!(!role.allows(Permission::ReadAudit));
        }
    }
}
