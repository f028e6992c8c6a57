//! The pure core of Quanyu's audience engine (人群圈选): who is in a segment, and how many.
//!
//! This crate owns the in-memory [`AudienceIndex`] over dense member ordinals (`u32`): tag
//! bitmaps, categorical attribute bitmaps and [bit-sliced indexes](bsi) for numeric attributes;
//! the segment [expression language](expr) (lexer → parser → [`Expr`]) resolved against a
//! [`Schema`]; and the [evaluator](eval) that turns an [`Expr`] into a bitmap of members.
//! It also owns [RFM scores and the lifecycle stages](lifecycle): pure functions of a
//! customer's order activity and the configured rules, with a [columnar rebuild](rebuild) of every
//! customer's scores from order columns; and [lookalike](lookalike) ranking of
//! members by the features that set a seed audience apart.
//!
//! **Architecture invariant:** nothing here does I/O, awaits, knows SQL or HTTP, or panics on
//! input. Evaluation is bitmap algebra over dense ordinals, never a scan of members: the cost of a
//! segment depends on the number of bitmaps it touches, not on how many members match.
//!
//! **API boundary:** mapping customer ids to ordinals, loading the index from the database and
//! keeping it current from events belong to the layers above (`store`, `app`).

pub mod bsi;
pub mod eval;
pub mod expr;
pub mod index;
pub mod lifecycle;
pub mod lookalike;
mod memory;
mod narrow;
pub mod rebuild;
pub mod schema;
pub mod shards;

pub use bsi::{BitSlicedIndex, CompareOp};
pub use eval::{count, evaluate};
pub use expr::{CategoryOp, Expected, Expr, ExprError, Found, Position, parse};
pub use index::{AudienceIndex, CategoricalField};
pub use lifecycle::{Activity, Assessment, LifecycleRules, Rfm, RfmBins, ScoringRules, Stage, assess};
pub use lookalike::{Lookalike, lookalike};
pub use rebuild::{OrderColumns, RebuildError, Rebuilt, Tally};
pub use roaring::RoaringBitmap;
pub use schema::{FieldKind, Schema};
pub use shards::Shards;
