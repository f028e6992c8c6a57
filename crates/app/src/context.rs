//! Who is asking and from where: passed to every use case.

use quanyu_domain::{
    authz::{Actor, Permission},
    ids::{CustomerId, StaffId},
    org::{Assignment, Role, Scope},
};

use crate::{AppError, AppResult};

/// How a customer acting in the mall is named in the audit log (staff usernames have no colon).
const CUSTOMER_ACTOR: &str = "customer:";

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A client-chosen key that makes a create safe to retry, with a fingerprint of the request so
/// the same key cannot be reused for a different one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    /// Hex SHA-256 over method, path and body, computed by the edge.
    pub fingerprint: String,
}

/// The context of one use-case call.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub origin: Origin,
    pub idempotency: Option<Idempotency>,
}

impl Ctx {
    pub fn new(actor: Actor) -> Ctx {
        Ctx { actor, origin: Origin::default(), idempotency: None }
    }

    /// The operator at the machine (CLI imports, demo seeding): HQ-wide rights, audited as
    /// `system` with no staff id.
    pub fn system() -> Ctx {
        let assignment = Assignment::new(Role::HqAdmin, Scope::All).expect("hq_admin works at chain level");
        Ctx::new(Actor {
            staff_id: StaffId::from_uuid(uuid::Uuid::nil()),
            username: "system".to_owned(),
            assignment,
            home_region: None,
        })
    }

    /// A customer acting for themself in the mall. The mall reaches the whole chain (a customer
    /// shops at any store), but the actor's role is [`Role::Customer`], which allows only what
    /// the shop needs (browse, order, pay, read orders, claim coupons) and nothing of the back
    /// office; which orders, coupons and wallet the customer may touch is decided by the shop
    /// use cases (`crate::shop`), the only callers. The audit log, idempotency keys and
    /// flash-sale buyer are the customer's (customer ids are UUIDs, never a staff member's).
    pub(crate) fn customer(customer_id: CustomerId, origin: Origin, idempotency: Option<Idempotency>) -> Ctx {
        let assignment = Assignment::new(Role::Customer, Scope::All).expect("customers shop chain-wide");
        let actor = Actor {
            staff_id: StaffId::from_uuid(customer_id.as_uuid()),
            username: format!("{CUSTOMER_ACTOR}{customer_id}"),
            assignment,
            home_region: None,
        };
        Ctx { actor, origin, idempotency }
    }

    /// The customer a [`Ctx::customer`] acts for.
    pub fn acting_customer(&self) -> Option<CustomerId> {
        (self.actor.role() == Role::Customer).then(|| CustomerId::from_uuid(self.actor.staff_id.as_uuid()))
    }

    /// Whether this is [`Ctx::system`].
    pub fn is_system(&self) -> bool {
        self.actor.staff_id.as_uuid().is_nil()
    }

    /// Fails with `Forbidden` unless the actor's role has `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.actor.can(permission) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    /// Fails unless the request carries an idempotency key (operations that move money or
    /// stock).
    pub fn require_idempotency_key(&self) -> AppResult<()> {
        self.idempotency.as_ref().map(|_| ()).ok_or(AppError::IdempotencyKeyRequired)
    }

    pub fn role(&self) -> Role {
        self.actor.role()
    }
}
