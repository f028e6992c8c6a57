//! The regions and stores a signed-in staff member can see, read once per page: for filter
//! menus, store pickers, the scatter, and naming the stores a row refers to.

use std::{
    collections::{BTreeMap, HashMap, hash_map::Entry},
    future::Future,
};

use minijinja::Value;
use quanyu_app::{App, AppResult, Ctx, Listing};
use quanyu_domain::{
    ids::StaffId,
    org::{Region, Store},
};
use quanyu_store::StoreFilter;
use uuid::Uuid;

use super::export::EXPORT_PAGE;
use crate::routes::org::{RegionOut, StoreOut};

/// Every item of a paged use case.
pub async fn every_page<T, F, Fut>(mut fetch: F) -> AppResult<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = AppResult<Listing<T>>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(cursor).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(items),
        }
    }
}

/// The display names of the staff behind `ids` (ledger entries, document steps); someone outside
/// the viewer's scope stays unnamed.
pub async fn staff_names(app: &App, ctx: &Ctx, ids: impl Iterator<Item = StaffId>) -> HashMap<StaffId, String> {
    let mut names: HashMap<StaffId, Option<String>> = HashMap::new();
    for id in ids {
        if let Entry::Vacant(slot) = names.entry(id) {
            slot.insert(app.get_staff(ctx, id).await.ok().map(|s| s.display_name));
        }
    }
    names.into_iter().filter_map(|(id, name)| Some((id, name?))).collect()
}

/// The regions and stores (and warehouses) within the viewer's scope.
pub struct Places {
    pub regions: Vec<Region>,
    pub stores: Vec<Store>,
}

impl Places {
    pub async fn load(app: &App, ctx: &Ctx) -> AppResult<Places> {
        let regions =
            every_page(|cursor| async move { app.list_regions(ctx, cursor.as_deref(), Some(EXPORT_PAGE)).await })
                .await?;
        let stores = every_page(|cursor| async move {
            app.list_stores(ctx, StoreFilter::default(), cursor.as_deref(), Some(EXPORT_PAGE)).await
        })
        .await?;
        Ok(Places { regions, stores })
    }

    /// `SH001 静安店`, or the id's first block for a place outside the viewer's scope.
    pub fn store_label(&self, id: Uuid) -> String {
        match self.stores.iter().find(|s| s.id.as_uuid() == id) {
            Some(store) => format!("{} {}", store.code, store.name),
            None => id.to_string()[..8].to_owned(),
        }
    }

    pub fn region_label(&self, id: Uuid) -> String {
        match self.regions.iter().find(|r| r.id.as_uuid() == id) {
            Some(region) => region.name.clone(),
            None => id.to_string()[..8].to_owned(),
        }
    }

    /// `regions`, `stores` (API shapes) and `store_names` / `region_names` (id → label) for
    /// templates.
    pub fn context(&self) -> Value {
        let store_names: BTreeMap<String, String> =
            self.stores.iter().map(|s| (s.id.to_string(), self.store_label(s.id.as_uuid()))).collect();
        let region_names: BTreeMap<String, String> =
            self.regions.iter().map(|r| (r.id.to_string(), r.name.clone())).collect();
        minijinja::context! {
            regions => Value::from_serialize(self.regions.iter().map(RegionOut::from).collect::<Vec<_>>()),
            stores => Value::from_serialize(self.stores.iter().map(StoreOut::from).collect::<Vec<_>>()),
            store_names => Value::from_serialize(store_names),
            region_names => Value::from_serialize(region_names),
        }
    }
}
