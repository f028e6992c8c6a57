//! The admin console (`/admin`): HQ, region and store staff run the chain from here. Every page
//! renders inside `admin/layout.html`, whose navigation lists only the sections the signed-in
//! role may use (from the same permissions the use cases check).
//!
//! - [`insight`]: the dashboard, orders, members, marketing (coupons, promotions, the quote
//!   playground), referral and commissions, audiences.
//! - [`ops`]: regions and stores, staff, catalog, inventory, stock documents, the audit log.

mod charts;
mod export;
mod insight;
mod ops;
mod sorting;

use axum::{Router, response::Html};
use minijinja::Value;
use quanyu_domain::authz::Permission;
use serde::Serialize;

use super::page::{Staff, UiError};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(insight::router()).merge(ops::router())
}

/// One entry of the console's navigation.
#[derive(Debug, Serialize)]
struct NavItem {
    /// The section's id, compared with the page's `section` to mark it current.
    id: &'static str,
    href: &'static str,
    /// Fluent key of its label.
    label: &'static str,
}

/// The sections, in menu order, with the permission each needs.
const SECTIONS: &[(&str, &str, &str, Permission)] = &[
    ("dashboard", "/admin", "admin-nav-dashboard", Permission::ReadReports),
    ("orders", "/admin/orders", "admin-nav-orders", Permission::ReadReports),
    ("members", "/admin/members", "admin-nav-members", Permission::ReadReports),
    ("marketing", "/admin/marketing", "admin-nav-marketing", Permission::IssueCoupons),
    ("referral", "/admin/referral", "admin-nav-referral", Permission::ManageMarketing),
    ("audiences", "/admin/audiences", "admin-nav-audiences", Permission::ManageMarketing),
    ("stores", "/admin/stores", "admin-nav-stores", Permission::EditStore),
    ("staff", "/admin/staff", "admin-nav-staff", Permission::ReadStaff),
    ("catalog", "/admin/catalog", "admin-nav-catalog", Permission::ManageStorePrices),
    ("inventory", "/admin/inventory", "admin-nav-inventory", Permission::ReadStock),
    ("documents", "/admin/documents", "admin-nav-documents", Permission::ManageStock),
    ("audit", "/admin/audit", "admin-nav-audit", Permission::ReadAudit),
];

fn nav(staff: &Staff) -> Vec<NavItem> {
    SECTIONS
        .iter()
        .filter(|(_, _, _, permission)| staff.ctx.actor.can(*permission))
        .map(|&(id, href, label, _)| NavItem { id, href, label })
        .collect()
}

/// Where a member of staff starts when the dashboard is not theirs: the first section they
/// may open.
fn first_section(staff: &Staff) -> Option<&'static str> {
    nav(staff).first().map(|item| item.href)
}

/// Whether `staff` may open `section` (pages check this before rendering; the use cases check
/// again when data is read or written).
fn may_open(staff: &Staff, section: &str) -> bool {
    SECTIONS.iter().any(|(id, _, _, permission)| *id == section && staff.ctx.actor.can(*permission))
}

/// Refuses a page (or an export) of `section` to a role the navigation does not offer it to,
/// before any data is read.
fn guard(staff: &Staff, section: &str) -> Result<(), UiError> {
    if may_open(staff, section) { Ok(()) } else { Err(UiError::api(quanyu_app::AppError::Forbidden, staff.lang)) }
}

/// Renders an admin page: `template` extends `admin/layout.html`; `section` marks the current
/// navigation entry. A role without that section gets the forbidden page.
fn page(staff: &Staff, template: &str, section: &str, context: Value) -> Result<Html<String>, UiError> {
    guard(staff, section)?;
    staff.render(template, minijinja::context! { nav => Value::from_serialize(nav(staff)), section, ..context })
}
