//! Helpers shared by the use-case tests: writes without a rendered reply, and contexts with an
//! idempotency key.

#![allow(dead_code)] // Each test binary uses its own subset.

use quanyu_app::{App, Ctx, Idempotency, StaffDraft, StoreDraft, StoredReply, Written};
use quanyu_domain::ids::{RegionId, StaffId, StoreId};

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

/// Opens a store (or a warehouse, by `kind`) in Shanghai.
pub async fn store(app: &App, code: &str, region: RegionId, kind: &str) -> StoreId {
    let draft = StoreDraft {
        code: code.into(),
        name: format!("{code} 店"),
        region_id: Some(region),
        address: "上海".into(),
        lat: 31.2,
        lng: 121.4,
        area_m2: 100,
        kind: Some(kind.into()),
        ..StoreDraft::default()
    };
    fresh(app.create_store(&Ctx::system(), draft, &no_reply).await.unwrap()).id
}

/// Appoints a staff member and logs them in: their id and context.
pub async fn staff(
    app: &App,
    username: &str,
    role: &str,
    store: Option<StoreId>,
    region: Option<RegionId>,
) -> (StaffId, Ctx) {
    let draft = StaffDraft {
        username: username.into(),
        display_name: username.into(),
        role: role.into(),
        store_id: store,
        region_id: region,
        password: "long-enough-1".into(),
        ..StaffDraft::default()
    };
    let id = fresh(app.create_staff(&Ctx::system(), draft, &no_reply).await.unwrap()).id;
    let login = app.login(username, "long-enough-1", &Default::default()).await.unwrap();
    (id, Ctx::new(app.authenticate(&login.secret).await.unwrap()))
}
