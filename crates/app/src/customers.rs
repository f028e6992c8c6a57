//! Use cases of customers: one identity across phone, WeChat, WeCom and member card; finding a
//! customer by any identifier (at the till, from any store); merging two profiles of one person
//! (trusted staff only, audited, the absorbed id keeps resolving); the exclusive guide
//! (专属导购) and the handover of a leaving guide's customers (离职继承).
//!
//! Where staff see customers: HQ everyone; region and store staff the customers whose home store
//! they cover (and customers with no home store yet). Looking a customer up by an identifier
//! works from any store, because a member shops wherever they like.

use quanyu_domain::{
    DomainError, Expected,
    authz::{Permission, StorePlace},
    customer::{self, Customer, Identity},
    ids::{CustomerId, StaffId, StoreId},
    marketing::AutoIssue,
    org::{Role, Scope, Staff, StaffStatus},
};
use quanyu_store::{CustomerFilter, CustomerMerge, Tx, UniqueKey};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written,
    change::Change,
    listing::Cursor,
    org::{scoped_place, store_in_scope},
    write::now,
};

/// The most identifiers one call may add.
const MAX_IDENTITIES: usize = 10;
/// How many merges a lookup follows before it calls the chain corrupt.
const MAX_MERGE_HOPS: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct CustomerDraft {
    /// (kind, value) pairs: `phone`, `wechat_openid`, `wechat_unionid`, `wecom_external_id`,
    /// `member_card`. At least one.
    pub identities: Vec<(String, String)>,
    pub display_name: Option<String>,
    /// Defaults to the store of a store-scoped caller.
    pub home_store_id: Option<StoreId>,
    pub guide_id: Option<StaffId>,
    /// The invite code of the link the customer came through (老带新): a new customer becomes
    /// that promoter's referral.
    pub invite_code: Option<String>,
    /// The device registering, so one phone cannot collect referral rewards twice.
    pub device_id: Option<String>,
}

/// A registration, checked.
struct Registration {
    identities: Vec<Identity>,
    display_name: Option<String>,
    home_store_id: Option<StoreId>,
    guide_id: Option<StaffId>,
    invite_code: Option<String>,
    device_id: Option<String>,
}

/// A customer with every identifier that resolves to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfile {
    pub customer: Customer,
    pub identities: Vec<Identity>,
    /// The call found an existing customer rather than registering a new one.
    pub matched_existing: bool,
}

impl App {
    /// Finds the customer any of the identifiers belongs to and adds the others to them, or
    /// registers a new customer with all of them. Identifiers held by two different customers
    /// are refused: that is a merge, which only `merge_customers` does.
    pub async fn register_customer(
        &self,
        ctx: &Ctx,
        draft: CustomerDraft,
        reply: Reply<'_, CustomerProfile>,
    ) -> AppResult<Written<CustomerProfile>> {
        ctx.require(Permission::ManageCustomers)?;
        if draft.identities.is_empty() || draft.identities.len() > MAX_IDENTITIES {
            return Err(DomainError::OutOfRange { field: "identities", min: 1, max: MAX_IDENTITIES as i64 }.into());
        }
        let mut identities: Vec<Identity> = Vec::with_capacity(draft.identities.len());
        for (kind, value) in &draft.identities {
            let identity = Identity::parse(kind, value)?;
            if !identities.contains(&identity) {
                identities.push(identity);
            }
        }
        let display_name = Customer::validate_name(draft.display_name.as_deref())?;
        let home_store_id = draft.home_store_id.or(match ctx.actor.scope() {
            Scope::Store(store_id) => Some(store_id),
            _ => None,
        });
        let registration = Registration {
            identities,
            display_name,
            home_store_id,
            guide_id: draft.guide_id,
            invite_code: draft.invite_code.as_deref().map(quanyu_domain::referral::parse_invite_code).transpose()?,
            device_id: quanyu_domain::text::optional("device_id", draft.device_id.as_deref(), 128)?,
        };
        // Two first visits with one new phone can race on PostgreSQL: the loser's identifier
        // insert fails on the unique rule, and its second try finds the winner's customer.
        for attempt in 0..2 {
            let outcome = self.register_once(ctx, &registration, reply).await;
            match outcome {
                Err(AppError::Duplicate(UniqueKey::CustomerIdentity)) if attempt == 0 => continue,
                other => return other,
            }
        }
        Err(AppError::Duplicate(UniqueKey::CustomerIdentity))
    }

    async fn register_once(
        &self,
        ctx: &Ctx,
        registration: &Registration,
        reply: Reply<'_, CustomerProfile>,
    ) -> AppResult<Written<CustomerProfile>> {
        let Registration { identities, display_name, home_store_id, guide_id, .. } = registration;
        let (home_store_id, guide_id) = (*home_store_id, *guide_id);
        write_idempotent!(self, ctx, reply, |tx| {
            let mut holders = Vec::new();
            for identity in identities {
                if let Some(holder) = tx.customer_by_identity(identity).await?
                    && !holders.contains(&holder)
                {
                    holders.push(holder);
                }
            }
            let at = now();
            let (customer, matched_existing) = match holders.as_slice() {
                [] => {
                    if let Some(store_id) = home_store_id {
                        store_in_scope(ctx, tx, store_id).await?;
                    }
                    if let Some(guide_id) = guide_id {
                        guide_of(tx, guide_id, home_store_id).await?;
                    }
                    let customer = Customer {
                        id: CustomerId::new(),
                        ordinal: tx.next_customer_ordinal().await?,
                        display_name: display_name.clone(),
                        home_store_id,
                        guide_id,
                        // Every new member starts in the tier that asks for no spend, if any.
                        tier_id: quanyu_domain::loyalty::tier_for(&tx.list_tiers().await?, quanyu_domain::Money::ZERO)
                            .map(|t| t.id),
                        merged_into: None,
                        created_at: at,
                        updated_at: at,
                    };
                    tx.insert_customer(&customer).await?;
                    crate::coupons::auto_issue(tx, ctx, AutoIssue::NewMember, customer.id).await?;
                    (customer, false)
                }
                [one] => (tx.get_customer(*one).await?.ok_or(AppError::NotFound { entity: "customer" })?, true),
                _ => return Err(AppError::IdentitiesConflict),
            };
            let mut added = Vec::new();
            for identity in identities {
                match tx.customer_by_identity(identity).await? {
                    None => {
                        tx.add_identity(customer.id, identity, at).await?;
                        added.push(identity.to_string());
                    }
                    Some(holder) if holder == customer.id => {}
                    // Another request registered it since we looked: try again, and find them.
                    Some(_) => return Err(AppError::Duplicate(UniqueKey::CustomerIdentity)),
                }
            }
            let action = if matched_existing { "customer.identified" } else { "customer.created" };
            let mut change = Change::new(action, "customer", customer.id).set("identities", &added.join(" "));
            if let Some(store_id) = customer.home_store_id {
                change = change.in_store(store_id);
            }
            change.record(tx, Some(ctx)).await?;
            if let Some(code) = &registration.invite_code {
                let device = registration.device_id.as_deref();
                crate::referral::on_registered(tx, ctx, customer.id, !matched_existing, code, device).await?;
            }
            let identities = tx.identities_of(customer.id).await?;
            Ok(CustomerProfile { customer, identities, matched_existing })
        })
    }

    /// A customer by id; an id merged into another resolves to the survivor.
    pub async fn customer(&self, ctx: &Ctx, id: CustomerId) -> AppResult<CustomerProfile> {
        ctx.require(Permission::ReadCustomers)?;
        read_tx!(self, |tx| {
            let customer = resolve(tx, id).await?;
            visible(ctx, tx, &customer).await?;
            profile(tx, customer).await
        })
    }

    /// The customer an identifier belongs to, from any store (a member shops anywhere).
    pub async fn find_customer(&self, ctx: &Ctx, kind: &str, value: &str) -> AppResult<CustomerProfile> {
        ctx.require(Permission::ReadCustomers)?;
        let identity = Identity::parse(kind, value)?;
        read_tx!(self, |tx| {
            let id = tx.customer_by_identity(&identity).await?.ok_or(AppError::NotFound { entity: "customer" })?;
            let customer = resolve(tx, id).await?;
            profile(tx, customer).await
        })
    }

    /// Customers whose home store is in the requested place (within the caller's scope).
    pub async fn list_customers(
        &self,
        ctx: &Ctx,
        filter: CustomerFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Customer>> {
        ctx.require(Permission::ReadCustomers)?;
        let mut filter = filter;
        let page = Cursor::sorted_page(cursor, limit, &mut filter.sort)?;
        let order = filter.sort.order;
        let rows = read_tx!(self, |tx| {
            let place = scoped_place(ctx, tx, filter.place).await?;
            Ok(tx.list_customers(&CustomerFilter { place, ..filter }, page).await?)
        })?;
        Ok(Listing::from_sorted_rows(rows, page, order, |c| c.id.as_uuid()))
    }

    /// Adds an identifier to a customer; one another customer holds is refused.
    pub async fn add_customer_identity(
        &self,
        ctx: &Ctx,
        id: CustomerId,
        kind: &str,
        value: &str,
    ) -> AppResult<CustomerProfile> {
        ctx.require(Permission::ManageCustomers)?;
        let identity = Identity::parse(kind, value)?;
        write_tx!(self, |tx| {
            let customer = resolve(tx, id).await?;
            visible(ctx, tx, &customer).await?;
            match tx.customer_by_identity(&identity).await? {
                Some(holder) if holder == customer.id => {}
                Some(_) => return Err(AppError::Duplicate(UniqueKey::CustomerIdentity)),
                None => {
                    tx.add_identity(customer.id, &identity, now()).await?;
                    Change::new("customer.identity_added", "customer", customer.id)
                        .set("identity", &identity)
                        .record(tx, Some(ctx))
                        .await?;
                }
            }
            profile(tx, customer).await
        })
    }

    /// Merges `absorbed` into `survivor`: every identifier, order and points entry moves over
    /// (the survivor's balance is the sum of the ledger it then holds), the survivor keeps its
    /// home store and guide (taking the absorbed one's if it had none), and the absorbed id
    /// resolves to the survivor from now on. Audited with who, why and how many identifiers.
    pub async fn merge_customers(
        &self,
        ctx: &Ctx,
        survivor: CustomerId,
        absorbed: CustomerId,
        reason: Option<&str>,
    ) -> AppResult<CustomerProfile> {
        ctx.require(Permission::MergeCustomers)?;
        let reason = quanyu_domain::text::optional("reason", reason, 200)?;
        write_tx!(self, |tx| {
            let kept = tx.get_customer(survivor).await?.ok_or(AppError::NotFound { entity: "customer" })?;
            let mut gone = tx.get_customer(absorbed).await?.ok_or(AppError::NotFound { entity: "customer" })?;
            visible(ctx, tx, &kept).await?;
            visible(ctx, tx, &gone).await?;
            let at = now();
            let merged = customer::merge(&kept, &gone, at).map_err(AppError::CustomerMerge)?;
            let identities = i64::try_from(tx.identities_of(gone.id).await?.len()).unwrap_or(i64::MAX);
            let merge_id = uuid::Uuid::now_v7();
            // The merge first, then every move recorded under it, so it can be undone.
            tx.insert_customer_merge(&CustomerMerge {
                id: merge_id,
                survivor_id: merged.id,
                absorbed_id: gone.id,
                identities,
                reason: reason.clone(),
                actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
                at,
                filled: customer::filled_fields(&kept, &merged).into_iter().map(str::to_owned).collect(),
            })
            .await?;
            let moved = tx.move_identities(gone.id, merged.id, merge_id).await?;
            tx.move_customer_history(gone.id, merged.id, at, merge_id).await?;
            gone.merged_into = Some(merged.id);
            gone.updated_at = at;
            tx.update_customer(&gone).await?;
            tx.update_customer(&merged).await?;
            Change::new("customer.merged", "customer", merged.id)
                .set("absorbed", &gone.id)
                .set("identities_moved", &moved)
                .set("reason", &reason.unwrap_or_default())
                .record(tx, Some(ctx))
                .await?;
            profile(tx, merged).await
        })
    }

    /// Undoes the merge that absorbed `absorbed` (support's tool for a wrong merge): every
    /// identifier, order, ledger entry, coupon, event, tag and task the merge moved goes back,
    /// what the survivor gained since stays with it, both balances become the sums of their
    /// ledgers again, and the absorbed profile stands on its own. Refused while the survivor has
    /// itself been merged since, or when the survivor has spent points or stored value that came
    /// with the absorbed profile. Returns `(survivor, restored)`.
    pub async fn unmerge_customer(
        &self,
        ctx: &Ctx,
        absorbed: CustomerId,
        reason: Option<&str>,
    ) -> AppResult<(CustomerProfile, CustomerProfile)> {
        ctx.require(Permission::MergeCustomers)?;
        let reason = quanyu_domain::text::optional("reason", reason, 200)?;
        write_tx!(self, |tx| {
            let gone = tx.get_customer(absorbed).await?.ok_or(AppError::NotFound { entity: "customer" })?;
            let merge =
                tx.merge_in_force(gone.id).await?.ok_or(AppError::CustomerMerge(customer::MergeError::NotMerged))?;
            let kept = tx.get_customer(merge.survivor_id).await?.ok_or(AppError::NotFound { entity: "customer" })?;
            visible(ctx, tx, &kept).await?;
            let at = now();
            let (kept, restored) =
                customer::unmerge(&kept, &gone, &merge.filled, at).map_err(AppError::CustomerMerge)?;
            let balances = tx.undo_customer_history(&merge, at).await?;
            if balances.survivor_points < 0 {
                return Err(AppError::CustomerMerge(customer::MergeError::UndoOverdraws { ledger: "points" }));
            }
            if balances.survivor_stored_value < 0 {
                return Err(AppError::CustomerMerge(customer::MergeError::UndoOverdraws { ledger: "stored_value" }));
            }
            tx.update_customer(&restored).await?;
            tx.update_customer(&kept).await?;
            let actor = Some(ctx.actor.staff_id).filter(|_| !ctx.is_system());
            tx.mark_merge_undone(merge.id, at, actor, reason.as_deref()).await?;
            Change::new("customer.unmerged", "customer", kept.id)
                .set("restored", &restored.id)
                .set("merge_id", &merge.id)
                .set("reason", &reason.unwrap_or_default())
                .record(tx, Some(ctx))
                .await?;
            Ok((profile(tx, kept).await?, profile(tx, restored).await?))
        })
    }

    /// Binds a customer to a guide of their home store, or unbinds (`None`). A customer with
    /// no home store takes the guide's store.
    pub async fn assign_guide(
        &self,
        ctx: &Ctx,
        id: CustomerId,
        guide_id: Option<StaffId>,
    ) -> AppResult<CustomerProfile> {
        ctx.require(Permission::MergeCustomers)?;
        write_tx!(self, |tx| {
            let mut customer = resolve(tx, id).await?;
            visible(ctx, tx, &customer).await?;
            let before = customer.guide_id;
            if let Some(guide_id) = guide_id {
                let store_id = guide_of(tx, guide_id, customer.home_store_id).await?;
                store_in_scope(ctx, tx, store_id).await?;
                customer.home_store_id = Some(store_id);
            }
            customer.guide_id = guide_id;
            customer.updated_at = now();
            tx.update_customer(&customer).await?;
            let show = |g: Option<StaffId>| g.map(|g| g.to_string()).unwrap_or_default();
            Change::new("customer.guide_assigned", "customer", customer.id)
                .diff("guide_id", &show(before), &show(guide_id))
                .record(tx, Some(ctx))
                .await?;
            profile(tx, customer).await
        })
    }

    /// Hands every customer of guide `from` (usually leaving) to guide `to` of the same store,
    /// in one audited step; returns how many moved. Nobody is left without a guide.
    pub async fn hand_over_customers(&self, ctx: &Ctx, from: StaffId, to: StaffId) -> AppResult<i64> {
        ctx.require(Permission::MergeCustomers)?;
        if from == to {
            return Err(DomainError::Malformed { field: "to_guide_id", expected: Expected::AnotherGuide }.into());
        }
        write_tx!(self, |tx| {
            let leaving = tx.get_staff(from).await?.ok_or(AppError::NotFound { entity: "staff" })?;
            let Scope::Store(store_id) = leaving.assignment.scope() else {
                return Err(AppError::NotAGuide);
            };
            store_in_scope(ctx, tx, store_id).await?;
            guide_of(tx, to, Some(store_id)).await?;
            let moved = tx.reassign_guide(from, to, now()).await?;
            Change::new("customer.guide_handover", "staff", from)
                .in_store(store_id)
                .set("to", &to)
                .set("customers", &moved)
                .record(tx, Some(ctx))
                .await?;
            Ok(moved)
        })
    }
}

impl App {
    /// Records (or, with `None`, forgets) a customer's birthday, for the birthday gift.
    pub async fn set_birthday(
        &self,
        ctx: &Ctx,
        id: CustomerId,
        birthday: Option<customer::Birthday>,
    ) -> AppResult<Option<customer::Birthday>> {
        ctx.require(Permission::ManageCustomers)?;
        let customer = self.customer(ctx, id).await?.customer;
        write_tx!(self, |tx| {
            tx.set_birthday(customer.id, birthday).await?;
            let text = birthday.map(|b| format!("{:02}-{:02}", b.month(), b.day())).unwrap_or_default();
            Change::new("customer.birthday_set", "customer", customer.id)
                .set("birthday", &text)
                .record(tx, Some(ctx))
                .await?;
            Ok(birthday)
        })
    }

    pub async fn birthday(&self, ctx: &Ctx, id: CustomerId) -> AppResult<Option<customer::Birthday>> {
        let customer = self.customer(ctx, id).await?.customer;
        read_tx!(self, |tx| Ok(tx.birthday_of(customer.id).await?))
    }
}

/// Follows merges from `id` to the profile that stands now.
pub(crate) async fn resolve(tx: &mut dyn Tx, id: CustomerId) -> AppResult<Customer> {
    let mut customer = tx.get_customer(id).await?.ok_or(AppError::NotFound { entity: "customer" })?;
    for _ in 0..MAX_MERGE_HOPS {
        let Some(next) = customer.merged_into else { return Ok(customer) };
        customer = tx.get_customer(next).await?.ok_or(AppError::NotFound { entity: "customer" })?;
    }
    Err(AppError::Internal(format!("customer {id} merges in a loop")))
}

/// Whether the caller sees a customer: HQ always; others when they cover the home store (or
/// the customer has none yet).
pub(crate) async fn visible(ctx: &Ctx, tx: &mut dyn Tx, customer: &Customer) -> AppResult<()> {
    let Some(store_id) = customer.home_store_id else { return Ok(()) };
    let store = tx.get_store(store_id).await?.ok_or(AppError::NotFound { entity: "store" })?;
    if ctx.actor.covers_store(StorePlace { store_id, region_id: store.region_id }) {
        Ok(())
    } else {
        Err(AppError::OutOfScope)
    }
}

/// Checks that `guide_id` is an active guide (of `store`, when given); returns their store.
async fn guide_of(tx: &mut dyn Tx, guide_id: StaffId, store: Option<StoreId>) -> AppResult<StoreId> {
    let guide: Staff =
        tx.get_staff(guide_id).await?.ok_or(AppError::UnknownReference { field: "guide_id", entity: "staff" })?;
    match (guide.assignment.role(), guide.assignment.scope(), guide.status) {
        (Role::Guide, Scope::Store(at), StaffStatus::Active) if store.is_none_or(|s| s == at) => Ok(at),
        _ => Err(AppError::NotAGuide),
    }
}

pub(crate) async fn profile(tx: &mut dyn Tx, customer: Customer) -> AppResult<CustomerProfile> {
    let identities = tx.identities_of(customer.id).await?;
    Ok(CustomerProfile { customer, identities, matched_existing: false })
}
