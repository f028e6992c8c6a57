//! The pure core of Quanyu: types and rules with no I/O.
//!
//! This crate owns money (`Money`, integer 分), typed ids (UUIDv7), time and business days, the
//! organisation (chain, regions, stores, staff, roles and scopes), the catalog (categories,
//! brands, SPU → SKU, channel and store prices) and who may do what (`authz`).
//!
//! **Architecture invariant:** nothing here does I/O, awaits, knows SQL or HTTP, or panics on
//! input. Constructors validate, so a value of a domain type is proof that it is well formed
//! ("parse, don't validate"); the layers above never re-check.

#[macro_use]
mod named;

pub mod authz;
pub mod catalog;
pub mod customer;
pub mod documents;
pub mod error;
pub mod events;
pub mod flash;
pub mod geo;
pub mod group_buy;
pub mod ids;
pub mod inventory;
pub mod loyalty;
pub mod marketing;
pub mod money;
pub mod order;
pub mod org;
pub mod pricing;
pub mod referral;
pub mod spatial;
pub mod table;
pub mod text;
pub mod till;
pub mod time;

pub use error::{DomainError, DomainResult, Expected};
pub use money::Money;
