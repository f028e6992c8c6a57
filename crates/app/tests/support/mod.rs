//! Helpers shared by the use-case tests: writes without a rendered reply, and contexts with an
//! idempotency key.

#![allow(dead_code)] // Each test binary uses its own subset.

use quanyu_app::{Ctx, Idempotency, StoredReply, Written};

/// A reply renderer for tests that read the returned value, not the stored reply.
pub fn no_reply<T>(_: &T) -> StoredReply {
    StoredReply { status: 201, body: vec![] }
}

/// The value of a write that must have run now (not replayed).
pub fn fresh<T>(written: Written<T>) -> T {
    match written {
        Written::Fresh(value) => value,
        Written::Replayed(_) => panic!("a fresh write was expected"),
    }
}

/// `ctx` carrying the idempotency key `key` (its fingerprint too, so a retry replays).
pub fn keyed(ctx: &Ctx, key: &str) -> Ctx {
    Ctx { idempotency: Some(Idempotency { key: key.into(), fingerprint: key.into() }), ..ctx.clone() }
}
