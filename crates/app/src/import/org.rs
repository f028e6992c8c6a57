//! Importing and exporting the organisation: regions, stores and staff. Stores name their region
//! by code; staff name their region or store by code.

use std::collections::HashMap;

use argon2::password_hash::PasswordHash;
use futures::{StreamExt, TryStreamExt};
use quanyu_domain::{
    authz::{Permission, ScopePlace, StorePlace},
    ids::{RegionId, StaffId, StoreId},
    org::{Assignment, Region, Role, Scope, Staff, StaffStatus, Store},
};
use quanyu_store::{StaffFilter, StoreFilter};

use super::{ImportOutcome, ImportSummary, Issues, all_pages, optional, parse_number};
use crate::{
    App, AppResult, Ctx, StoreDraft,
    change::opt,
    org::{region_changes, store_created, validate_store_draft},
    staff::{parse_phone, scope_for, staff_changes},
    write::now,
};

/// A region as a row: `code,name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionRow {
    pub line: usize,
    pub code: String,
    pub name: String,
}

/// A store as a row. `region` is a region code; `lat`/`lng` are GCJ-02 degrees; empty optional
/// columns take the API's defaults (hours `08:00-22:00`, the chain's time zone, 3 km, `open`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreRow {
    pub line: usize,
    pub code: String,
    pub name: String,
    pub region: String,
    pub address: String,
    pub lat: String,
    pub lng: String,
    pub opening_hours: String,
    pub time_zone: String,
    pub area_m2: String,
    pub delivery_radius_m: String,
    pub phone: String,
    pub status: String,
    /// `store` (default) or `warehouse`.
    pub kind: String,
}

/// A staff member as a row. `region` (a region code) is for a region manager, `store` (a store
/// code) for store roles. Exactly one of `password` (plaintext, hashed on import) and
/// `password_hash` (an argon2 PHC string, e.g. from an export) is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffRow {
    pub line: usize,
    pub username: String,
    pub display_name: String,
    pub phone: String,
    pub role: String,
    pub region: String,
    pub store: String,
    pub status: String,
    pub password: String,
    pub password_hash: String,
}

/// How many plaintext passwords are hashed at once: argon2 takes ~19 MiB and a core each.
const HASHING_CONCURRENCY: usize = 2;

impl App {
    pub async fn import_regions(&self, ctx: &Ctx, rows: Vec<RegionRow>) -> AppResult<ImportOutcome> {
        ctx.require(Permission::ManageChain)?;
        let mut issues = Issues::default();
        let mut seen = HashMap::new();
        let at = now();
        let mut regions = Vec::with_capacity(rows.len());
        for row in &rows {
            let code = issues.check(row.line, Region::validate_code(&row.code).map_err(Into::into));
            let name = issues.check(row.line, Region::validate_name(&row.name).map_err(Into::into));
            if let Some(code) = &code {
                issues.unique_in_file(&mut seen, row.line, "code", code);
            }
            if let (Some(code), Some(name)) = (code, name) {
                regions.push((row.line, Region { id: RegionId::new(), code, name, created_at: at, updated_at: at }));
            }
        }
        let existing = self.region_codes().await?;
        for (line, region) in &regions {
            if existing.contains_key(&region.code) {
                issues.push(*line, Some("code"), format!("region {:?} already exists", region.code));
            }
        }
        if let Some(rejected) = issues.into_rejection() {
            return Ok(rejected);
        }
        write_tx!(self, |tx| {
            for (_, region) in &regions {
                tx.insert_region(region).await?;
                region_changes("region.created", None, region).record(tx, Some(ctx)).await?;
            }
            Ok(())
        })?;
        Ok(ImportOutcome::Imported(ImportSummary { created: vec![("regions", regions.len())] }))
    }

    pub async fn import_stores(&self, ctx: &Ctx, rows: Vec<StoreRow>) -> AppResult<ImportOutcome> {
        ctx.require(Permission::ManageChain)?;
        let zone = self.chain().await?.time_zone;
        let regions = self.region_codes().await?;
        let mut issues = Issues::default();
        let mut seen = HashMap::new();
        let mut stores = Vec::with_capacity(rows.len());
        for row in &rows {
            let region_id = match optional(&row.region) {
                None => {
                    issues.push(row.line, Some("region"), "region is required");
                    None
                }
                Some(code) => {
                    let found = regions.get(code).copied();
                    if found.is_none() {
                        issues.push(row.line, Some("region"), format!("no region with code {code:?}"));
                    }
                    found
                }
            };
            let lat = issues.check(row.line, parse_number::<f64>("lat", &row.lat));
            let lng = issues.check(row.line, parse_number::<f64>("lng", &row.lng));
            let area_m2 = issues.check(row.line, parse_number::<i64>("area_m2", &row.area_m2));
            let radius = issues.check(
                row.line,
                optional(&row.delivery_radius_m).map(|r| parse_number::<i64>("delivery_radius_m", r)).transpose(),
            );
            let (Some(lat), Some(lng), Some(area_m2), Some(delivery_radius_m)) = (lat, lng, area_m2, radius) else {
                continue;
            };
            let draft = StoreDraft {
                code: row.code.clone(),
                name: row.name.clone(),
                // A stand-in keeps validating the other columns when the region is unknown.
                region_id: Some(region_id.unwrap_or_default()),
                address: row.address.clone(),
                lat,
                lng,
                opening_hours: optional(&row.opening_hours).map(str::to_owned),
                time_zone: optional(&row.time_zone).map(str::to_owned),
                area_m2,
                delivery_radius_m,
                phone: optional(&row.phone).map(str::to_owned),
                status: optional(&row.status).map(str::to_owned),
                kind: optional(&row.kind).map(str::to_owned),
            };
            if let Some(store) = issues.check(row.line, validate_store_draft(draft, zone)) {
                issues.unique_in_file(&mut seen, row.line, "code", &store.code);
                stores.push((row.line, store));
            }
        }
        read_tx!(self, |tx| {
            for (line, store) in &stores {
                if tx.get_store_by_code(&store.code).await?.is_some() {
                    issues.push(*line, Some("code"), format!("store {:?} already exists", store.code));
                }
            }
            Ok(())
        })?;
        if let Some(rejected) = issues.into_rejection() {
            return Ok(rejected);
        }
        write_tx!(self, |tx| {
            for (_, store) in &stores {
                tx.insert_store(store).await?;
                store_created(store).record(tx, Some(ctx)).await?;
            }
            Ok(())
        })?;
        self.stores_near.invalidate();
        Ok(ImportOutcome::Imported(ImportSummary { created: vec![("stores", stores.len())] }))
    }

    pub async fn import_staff(&self, ctx: &Ctx, rows: Vec<StaffRow>) -> AppResult<ImportOutcome> {
        ctx.require(Permission::ManageStaff)?;
        let regions = self.region_codes().await?;
        let stores: HashMap<String, Store> = read_tx!(self, |tx| {
            let all = all_pages!(|page| tx.list_stores(&StoreFilter::default(), page), |s: &Store| s.id.as_uuid());
            Ok(all.into_iter().map(|s| (s.code.clone(), s)).collect())
        })?;
        let mut issues = Issues::default();
        let (mut seen_usernames, mut seen_phones) = (HashMap::new(), HashMap::new());
        let at = now();
        // Each staff member with the place their scope names and their password to store.
        let mut staff: Vec<(usize, Staff, Option<ScopePlace>, Password)> = Vec::with_capacity(rows.len());
        for row in &rows {
            let line = row.line;
            let role = issues.check(line, Role::parse(row.role.trim()).map_err(Into::into));
            let region_id = lookup(&mut issues, line, "region", &row.region, &regions);
            let store = optional(&row.store).and_then(|code| {
                let found = stores.get(code);
                if found.is_none() {
                    issues.push(line, Some("store"), format!("no store with code {code:?}"));
                }
                found
            });
            let assignment = role.and_then(|role| {
                let scope = scope_for(role, region_id, store.map(|s| s.id));
                issues.check(line, scope.and_then(|scope| Ok(Assignment::new(role, scope)?)))
            });
            let place = match assignment.map(|a| a.scope()) {
                Some(Scope::Region(region_id)) => Some(ScopePlace::Region(region_id)),
                Some(Scope::Store(store_id)) => {
                    store.map(|s| ScopePlace::Store(StorePlace { store_id, region_id: s.region_id }))
                }
                _ => None,
            };
            if let Some(assignment) = assignment
                && !ctx.actor.may_assign(assignment, place)
            {
                issues.push(line, Some("role"), "you may not appoint this role here");
            }
            let username = issues.check(line, Staff::validate_username(&row.username).map_err(Into::into));
            let display_name = issues.check(line, Staff::validate_display_name(&row.display_name).map_err(Into::into));
            let phone = issues.check(line, parse_phone(optional(&row.phone)));
            let status = issues.check(
                line,
                optional(&row.status).map_or(Ok(StaffStatus::Active), StaffStatus::parse).map_err(Into::into),
            );
            let password = password(&mut issues, row);
            if let Some(username) = &username {
                issues.unique_in_file(&mut seen_usernames, line, "username", username);
            }
            if let Some(Some(phone)) = &phone {
                issues.unique_in_file(&mut seen_phones, line, "phone", phone.as_str());
            }
            if let (Some(username), Some(display_name), Some(phone), Some(assignment), Some(status), Some(password)) =
                (username, display_name, phone, assignment, status, password)
            {
                let member = Staff {
                    id: StaffId::new(),
                    username,
                    display_name,
                    phone,
                    assignment,
                    status,
                    created_at: at,
                    updated_at: at,
                };
                staff.push((line, member, place, password));
            }
        }
        read_tx!(self, |tx| {
            for (line, member, _, _) in &staff {
                // Usernames and phones share one login namespace.
                if tx.find_staff_for_login(&member.username).await?.is_some() {
                    issues.push(*line, Some("username"), format!("{:?} is already someone's login", member.username));
                }
                if let Some(phone) = &member.phone
                    && tx.find_staff_for_login(phone.as_str()).await?.is_some()
                {
                    issues.push(*line, Some("phone"), format!("{phone} is already someone's login"));
                }
            }
            Ok(())
        })?;
        if let Some(rejected) = issues.into_rejection() {
            return Ok(rejected);
        }
        let passwords = &self.config().passwords;
        let hashes: Vec<String> = futures::stream::iter(staff.iter().map(|(_, _, _, password)| async move {
            match password {
                Password::Plain(plain) => passwords.hash(plain).await,
                Password::Hash(hash) => Ok(hash.clone()),
            }
        }))
        .buffered(HASHING_CONCURRENCY)
        .try_collect()
        .await?;
        write_tx!(self, |tx| {
            for ((_, member, _, _), hash) in staff.iter().zip(&hashes) {
                tx.insert_staff(member, hash).await?;
                staff_changes("staff.created", None, member).record(tx, Some(ctx)).await?;
            }
            Ok(())
        })?;
        Ok(ImportOutcome::Imported(ImportSummary { created: vec![("staff", staff.len())] }))
    }

    pub async fn export_regions(&self, ctx: &Ctx) -> AppResult<Vec<RegionRow>> {
        ctx.require(Permission::ManageChain)?;
        let regions =
            read_tx!(self, |tx| Ok(all_pages!(|page| tx.list_regions(None, page), |r: &Region| r.id.as_uuid())))?;
        Ok(regions.into_iter().map(|r| RegionRow { line: 0, code: r.code, name: r.name }).collect())
    }

    pub async fn export_stores(&self, ctx: &Ctx) -> AppResult<Vec<StoreRow>> {
        ctx.require(Permission::ManageChain)?;
        let region_codes = self.region_codes_by_id().await?;
        let stores =
            read_tx!(self, |tx| Ok(all_pages!(|page| tx.list_stores(&StoreFilter::default(), page), |s: &Store| s
                .id
                .as_uuid())))?;
        Ok(stores
            .into_iter()
            .map(|s| StoreRow {
                line: 0,
                region: region_codes.get(&s.region_id).cloned().unwrap_or_default(),
                code: s.code,
                name: s.name,
                address: s.address,
                // `f64`'s Display is the shortest text that parses back to the same number.
                lat: s.location.lat().to_string(),
                lng: s.location.lng().to_string(),
                opening_hours: s.opening_hours.to_string(),
                time_zone: s.time_zone.name().to_owned(),
                area_m2: s.area_m2.to_string(),
                delivery_radius_m: s.delivery_radius_m.to_string(),
                phone: s.phone.unwrap_or_default(),
                status: s.status.as_str().to_owned(),
                kind: s.kind.as_str().to_owned(),
            })
            .collect())
    }

    /// Staff as rows; with `with_password_hashes` the `password_hash` column carries each stored
    /// hash (for moving staff to another deployment), otherwise it is empty.
    pub async fn export_staff(&self, ctx: &Ctx, with_password_hashes: bool) -> AppResult<Vec<StaffRow>> {
        ctx.require(Permission::ManageStaff)?;
        let region_codes = self.region_codes_by_id().await?;
        read_tx!(self, |tx| {
            let stores = all_pages!(|page| tx.list_stores(&StoreFilter::default(), page), |s: &Store| s.id.as_uuid());
            let store_codes: HashMap<StoreId, String> = stores.into_iter().map(|s| (s.id, s.code)).collect();
            let staff = all_pages!(|page| tx.list_staff(&StaffFilter::default(), page), |s: &Staff| s.id.as_uuid());
            let mut rows = Vec::with_capacity(staff.len());
            for member in staff {
                let (region, store) = match member.assignment.scope() {
                    Scope::All => (String::new(), String::new()),
                    Scope::Region(id) => (region_codes.get(&id).cloned().unwrap_or_default(), String::new()),
                    Scope::Store(id) => (String::new(), store_codes.get(&id).cloned().unwrap_or_default()),
                };
                let password_hash = if with_password_hashes {
                    tx.find_staff_for_login(&member.username).await?.map(|(_, hash)| hash).unwrap_or_default()
                } else {
                    String::new()
                };
                rows.push(StaffRow {
                    line: 0,
                    phone: opt(&member.phone),
                    role: member.assignment.role().as_str().to_owned(),
                    status: member.status.as_str().to_owned(),
                    username: member.username,
                    display_name: member.display_name,
                    region,
                    store,
                    password: String::new(),
                    password_hash,
                });
            }
            Ok(rows)
        })
    }

    /// Every region id by code.
    pub(super) async fn region_codes(&self) -> AppResult<HashMap<String, RegionId>> {
        let regions =
            read_tx!(self, |tx| Ok(all_pages!(|page| tx.list_regions(None, page), |r: &Region| r.id.as_uuid())))?;
        Ok(regions.into_iter().map(|r| (r.code, r.id)).collect())
    }

    async fn region_codes_by_id(&self) -> AppResult<HashMap<RegionId, String>> {
        Ok(self.region_codes().await?.into_iter().map(|(code, id)| (id, code)).collect())
    }
}

/// A password as the file gives it.
enum Password {
    Plain(String),
    Hash(String),
}

/// Exactly one of `password` and `password_hash`, checked.
fn password(issues: &mut Issues, row: &StaffRow) -> Option<Password> {
    match (optional(&row.password), optional(&row.password_hash)) {
        (Some(_), Some(_)) => {
            issues.push(row.line, Some("password"), "give a password or a password_hash, not both");
            None
        }
        (None, None) => {
            issues.push(row.line, Some("password"), "password is required");
            None
        }
        (Some(_), None) => issues
            .check(row.line, Staff::validate_password(&row.password).map_err(Into::into))
            .map(|()| Password::Plain(row.password.clone())),
        (None, Some(hash)) => match PasswordHash::new(hash) {
            Ok(_) => Some(Password::Hash(hash.to_owned())),
            Err(_) => {
                issues.push(row.line, Some("password_hash"), "not a PHC password hash ($argon2id$…)");
                None
            }
        },
    }
}

/// Resolves an optional code column against a map of known codes, recording unknown codes.
fn lookup<T: Copy>(issues: &mut Issues, line: usize, field: &str, raw: &str, known: &HashMap<String, T>) -> Option<T> {
    let code = optional(raw)?;
    let found = known.get(code).copied();
    if found.is_none() {
        issues.push(line, Some(field), format!("no {field} with code {code:?}"));
    }
    found
}
