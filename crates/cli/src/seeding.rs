//! Helpers for the commands that write through the use cases as the system (the demo seed and
//! the benchmarks' setup): no rendered reply, idempotency keys, fresh writes only.

use anyhow::bail;
use quanyu_app::{Ctx, Idempotency, StoredReply, Written};

/// A reply renderer for writes whose value is used directly.
pub fn no_reply<T>(_: &T) -> StoredReply {
    StoredReply { status: 201, body: Vec::new() }
}

/// The system acting under idempotency key `key`.
pub fn keyed(key: &str) -> Ctx {
    Ctx { idempotency: Some(Idempotency { key: key.to_owned(), fingerprint: key.to_owned() }), ..Ctx::system() }
}

/// The value of a write that must have run now: a replay means the data was already there.
pub fn fresh<T>(written: Written<T>) -> anyhow::Result<T> {
    match written {
        Written::Fresh(value) => Ok(value),
        Written::Replayed(_) => bail!("the data was already written (a replayed write)"),
    }
}
