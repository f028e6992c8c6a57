//! Use cases of staff: listing within scope, appointing, editing, and changing passwords.
//! Nobody appoints or edits someone at or above their own rank (an HQ admin excepted), and
//! nobody acts outside their scope.

use quanyu_domain::{
    DomainError,
    authz::{Permission, ScopePlace, StorePlace},
    ids::{RegionId, StaffId, StoreId},
    org::{Assignment, Role, Scope, Staff, StaffStatus},
    text::Phone,
};
use quanyu_store::{StaffFilter, Tx};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written,
    change::{Change, Field, opt},
    listing::Cursor,
    org::scoped_place,
    write::now,
};

#[derive(Debug, Clone, Default)]
pub struct StaffDraft {
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub role: String,
    /// For a region manager.
    pub region_id: Option<RegionId>,
    /// For store roles.
    pub store_id: Option<StoreId>,
    pub password: String,
}

#[derive(Debug, Clone, Default)]
pub struct StaffPatch {
    pub display_name: Option<String>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<String>>,
    /// A new role; with `region_id` / `store_id` when the level changes.
    pub role: Option<String>,
    pub region_id: Option<RegionId>,
    pub store_id: Option<StoreId>,
    pub status: Option<String>,
    pub password: Option<String>,
}

impl App {
    pub async fn list_staff(
        &self,
        ctx: &Ctx,
        filter: StaffFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Staff>> {
        ctx.require(Permission::ReadStaff)?;
        crate::listing::searchable("q", filter.search.as_deref())?;
        let mut filter = filter;
        let page = Cursor::sorted_page(cursor, limit, &mut filter.sort)?;
        let order = filter.sort.order;
        let rows = read_tx!(self, |tx| {
            let place = scoped_place(ctx, tx, filter.place).await?;
            Ok(tx.list_staff(&StaffFilter { place, ..filter }, page).await?)
        })?;
        Ok(Listing::from_sorted_rows(rows, page, order, |s| s.id.as_uuid()))
    }

    /// A staff member: anyone may read themselves; reading others needs `ReadStaff` and scope.
    pub async fn get_staff(&self, ctx: &Ctx, id: StaffId) -> AppResult<Staff> {
        read_tx!(self, |tx| {
            let staff = tx.get_staff(id).await?.ok_or(AppError::NotFound { entity: "staff" })?;
            if staff.id != ctx.actor.staff_id {
                ctx.require(Permission::ReadStaff)?;
                check_sees(ctx, tx, &staff).await?;
            }
            Ok(staff)
        })
    }

    pub async fn create_staff(
        &self,
        ctx: &Ctx,
        draft: StaffDraft,
        reply: Reply<'_, Staff>,
    ) -> AppResult<Written<Staff>> {
        ctx.require(Permission::ManageStaff)?;
        let role = Role::parse(draft.role.trim())?;
        let scope = scope_for(role, draft.region_id, draft.store_id)?;
        let assignment = Assignment::new(role, scope)?;
        Staff::validate_password(&draft.password)?;
        let at = now();
        let staff = Staff {
            id: StaffId::new(),
            username: Staff::validate_username(&draft.username)?,
            display_name: Staff::validate_display_name(&draft.display_name)?,
            phone: parse_phone(draft.phone.as_deref())?,
            assignment,
            status: StaffStatus::Active,
            created_at: at,
            updated_at: at,
        };
        let hash = self.config.passwords.hash(&draft.password).await?;
        write_idempotent!(self, ctx, reply, |tx| {
            let place = resolve_place(tx, scope).await?;
            if !ctx.actor.may_assign(assignment, place) {
                return Err(denial(ctx, place));
            }
            tx.insert_staff(&staff, &hash).await?;
            staff_changes("staff.created", None, &staff).record(tx, Some(ctx)).await?;
            Ok(staff)
        })
    }

    pub async fn update_staff(&self, ctx: &Ctx, id: StaffId, patch: StaffPatch) -> AppResult<Staff> {
        let editing_self = id == ctx.actor.staff_id;
        let touches_job =
            patch.role.is_some() || patch.region_id.is_some() || patch.store_id.is_some() || patch.status.is_some();
        // Anyone may change their own name, phone and password; the rest is management.
        if !editing_self || touches_job {
            ctx.require(Permission::ManageStaff)?;
        }
        let display_name = patch.display_name.as_deref().map(Staff::validate_display_name).transpose()?;
        let phone = patch.phone.as_ref().map(|p| parse_phone(p.as_deref())).transpose()?;
        let status = patch.status.as_deref().map(StaffStatus::parse).transpose()?;
        let role = patch.role.as_deref().map(|r| Role::parse(r.trim())).transpose()?;
        if let Some(password) = &patch.password {
            Staff::validate_password(password)?;
        }
        let hash = match &patch.password {
            Some(password) => Some(self.config.passwords.hash(password).await?),
            None => None,
        };
        let updated = write_tx!(self, |tx| {
            let before = tx.get_staff(id).await?.ok_or(AppError::NotFound { entity: "staff" })?;
            let mut after = before.clone();
            if !editing_self || touches_job {
                // The actor must outrank the person as they are and as they will be.
                let current_place = resolve_place(tx, before.assignment.scope()).await?;
                if !ctx.actor.may_assign(before.assignment, current_place) {
                    return Err(denial(ctx, current_place));
                }
                if touches_job {
                    let role = role.unwrap_or(before.assignment.role());
                    let scope = match (patch.region_id, patch.store_id) {
                        (None, None) if role.level() == before.assignment.role().level() => before.assignment.scope(),
                        (region_id, store_id) => scope_for(role, region_id, store_id)?,
                    };
                    let assignment = Assignment::new(role, scope)?;
                    let place = resolve_place(tx, scope).await?;
                    if !ctx.actor.may_assign(assignment, place) {
                        return Err(denial(ctx, place));
                    }
                    after.assignment = assignment;
                }
            }
            after.display_name = display_name.unwrap_or(after.display_name);
            after.phone = phone.unwrap_or(after.phone);
            after.status = status.unwrap_or(after.status);
            after.updated_at = now();
            tx.update_staff(&after).await?;
            let mut change = staff_changes("staff.updated", Some(&before), &after);
            if let Some(hash) = &hash {
                tx.set_password_hash(id, hash).await?;
                change.fields.push(quanyu_store::FieldChange {
                    field: "password".into(),
                    before: None,
                    after: Some("(changed)".into()),
                });
            }
            change.record(tx, Some(ctx)).await?;
            Ok(after)
        });
        // Job, status and password changes take effect on this instance's cached sessions at once.
        self.sessions.forget_staff(id);
        updated
    }
}

/// The scope a role works in, from the region or store the caller named.
pub fn scope_for(role: Role, region_id: Option<RegionId>, store_id: Option<StoreId>) -> AppResult<Scope> {
    use quanyu_domain::org::ScopeLevel;
    Ok(match role.level() {
        ScopeLevel::All => Scope::All,
        ScopeLevel::Region => Scope::Region(region_id.ok_or(DomainError::Required { field: "region_id" })?),
        ScopeLevel::Store => Scope::Store(store_id.ok_or(DomainError::Required { field: "store_id" })?),
    })
}

pub(crate) fn parse_phone(raw: Option<&str>) -> AppResult<Option<Phone>> {
    Ok(raw.map(str::trim).filter(|p| !p.is_empty()).map(Phone::parse).transpose()?)
}

/// Resolves a scope to the place it names, checking that the region or store exists.
pub(crate) async fn resolve_place(tx: &mut dyn Tx, scope: Scope) -> AppResult<Option<ScopePlace>> {
    Ok(match scope {
        Scope::All => None,
        Scope::Region(region_id) => {
            tx.get_region(region_id)
                .await?
                .ok_or(AppError::UnknownReference { field: "region_id", entity: "region" })?;
            Some(ScopePlace::Region(region_id))
        }
        Scope::Store(store_id) => {
            let store = tx
                .get_store(store_id)
                .await?
                .ok_or(AppError::UnknownReference { field: "store_id", entity: "store" })?;
            Some(ScopePlace::Store(StorePlace { store_id, region_id: store.region_id }))
        }
    })
}

/// Why an appointment was refused: the place is outside the actor's scope, or the rank is not.
fn denial(ctx: &Ctx, place: Option<ScopePlace>) -> AppError {
    let inside = match (ctx.actor.scope(), place) {
        (Scope::All, _) => true,
        (_, None) => false,
        (_, Some(ScopePlace::Region(region_id))) => {
            matches!(ctx.actor.scope(), Scope::Region(r) if r == region_id)
        }
        (_, Some(ScopePlace::Store(place))) => ctx.actor.covers_store(place),
    };
    if inside { AppError::Forbidden } else { AppError::OutOfScope }
}

/// Checks that the actor's scope contains `staff`'s scope.
async fn check_sees(ctx: &Ctx, tx: &mut dyn Tx, staff: &Staff) -> AppResult<()> {
    let visible = match (ctx.actor.scope(), resolve_place(tx, staff.assignment.scope()).await?) {
        (Scope::All, _) => true,
        (_, None) => false,
        (Scope::Region(region), Some(ScopePlace::Region(r))) => region == r,
        (_, Some(ScopePlace::Region(_))) => false,
        (_, Some(ScopePlace::Store(place))) => ctx.actor.covers_store(place),
    };
    if visible { Ok(()) } else { Err(AppError::OutOfScope) }
}

const STAFF_FIELDS: &[Field<Staff>] = &[
    ("username", |s| s.username.clone()),
    ("display_name", |s| s.display_name.clone()),
    ("phone", |s| opt(&s.phone)),
    ("role", |s| s.assignment.role().as_str().to_owned()),
    ("scope", |s| match s.assignment.scope() {
        Scope::All => "all".to_owned(),
        Scope::Region(r) => format!("region:{r}"),
        Scope::Store(st) => format!("store:{st}"),
    }),
    ("status", |s| s.status.as_str().to_owned()),
];

/// Field-by-field changes of a staff member; `before` is `None` for a new one.
pub(crate) fn staff_changes(action: &'static str, before: Option<&Staff>, after: &Staff) -> Change {
    let mut change = Change::new(action, "staff", after.id);
    if let Scope::Store(store_id) = after.assignment.scope() {
        change = change.in_store(store_id);
    }
    change.fields(STAFF_FIELDS, before, Some(after))
}
