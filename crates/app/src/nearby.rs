//! Finding the stores near a customer (LBS): open stores by distance, whether each delivers to
//! the point, and whether it is trading right now.

use std::{collections::HashMap, sync::Arc, time::Duration};

use quanyu_domain::{
    geo::{Coordinates, Datum, whole_metres},
    ids::{SkuId, StoreId},
    order::DeliveryLocation,
    org::{Store, StoreKind, StoreStatus},
    spatial::SpatialIndex,
    time::Timestamp,
};
use quanyu_store::{Page, StoreFilter};

use crate::{App, AppError, AppResult, write::now};

/// A store near a point.
#[derive(Debug, Clone)]
pub struct NearbyStore {
    pub store: Store,
    /// Great-circle distance in metres, rounded.
    pub distance_m: u32,
    /// The point lies inside the store's delivery radius.
    pub delivers: bool,
    /// Inside today's opening hours in the store's time zone.
    pub open_now: bool,
    /// When an SKU was asked about: what the store has available of it.
    pub available: Option<i64>,
}

/// Where a delivery from `store` to `point` (GCJ-02, sent in `sent_in`) goes, with its
/// distance; refused beyond the store's delivery radius, as routing would not have sent it there.
pub(crate) fn delivery_location(store: &Store, point: Coordinates, sent_in: Datum) -> AppResult<DeliveryLocation> {
    let distance = store.location.distance_m(&point);
    if distance > f64::from(store.delivery_radius_m) {
        return Err(AppError::OutsideDeliveryRadius {
            distance_m: whole_metres(distance),
            radius_m: store.delivery_radius_m,
        });
    }
    Ok(DeliveryLocation { point, sent_in, distance_m: whole_metres(distance) })
}

impl App {
    /// Open stores nearest to `point`, closest first, at most `limit`. Public: store locations
    /// are what a customer sees on the mall's store finder.
    ///
    /// Searches an R-tree of the open stores ([`SpatialIndex`]), so only the nearest few are
    /// visited however many stores the chain has. An `sku` that does not exist is refused as
    /// an unknown reference rather than reported as out of stock everywhere.
    pub async fn nearest_stores(
        &self,
        point: Coordinates,
        datum: Datum,
        sku: Option<SkuId>,
        limit: usize,
    ) -> AppResult<Vec<NearbyStore>> {
        if let Some(sku_id) = sku
            && read_tx!(self, |tx| Ok(tx.get_sku(sku_id).await?))?.is_none()
        {
            return Err(AppError::UnknownReference { field: "sku", entity: "sku" });
        }
        self.stores_by_distance(point, datum, sku, limit).await
    }

    /// The open store nearest to a delivery point that delivers there and has every line's
    /// quantity available (ShopXO-style routing, per store), preferring one that can deliver
    /// when asked: open at the promised time when one is asked; with none, trading now, else
    /// one that delivers from its next opening, as a store named by the order would (an order
    /// placed after closing is promised from the next opening). A store that delivers but is
    /// closed at the time asked still comes last, so the order is answered with its hours and
    /// next opening rather than that no store can serve. `None` if no store can.
    pub async fn route_delivery(
        &self,
        point: Coordinates,
        datum: Datum,
        lines: &[(SkuId, i64)],
        promised: Option<Timestamp>,
    ) -> AppResult<Option<StoreId>> {
        let Some(&(first, _)) = lines.first() else { return Ok(None) };
        let at = now();
        let mut candidates: Vec<NearbyStore> = self
            .stores_by_distance(point, datum, Some(first), usize::MAX)
            .await?
            .into_iter()
            .filter(|n| n.delivers)
            .collect();
        // Closest first within each rank (the sort is stable).
        candidates.sort_by_key(|n| match promised {
            Some(promised) if n.store.is_open_at(promised) => 0,
            Some(_) => 2,
            None if n.open_now => 0,
            None if n.store.ready_after(at, crate::DEFAULT_DELIVERY_PROMISE).is_some() => 1,
            None => 2,
        });
        for candidate in candidates {
            let store_id = candidate.store.id;
            let mut enough = true;
            for &(sku_id, quantity) in lines {
                let available = read_tx!(self, |tx| Ok(tx.get_stock(store_id, sku_id).await?))?
                    .map_or(0, |row| row.levels.available().get());
                enough &= available >= quantity;
            }
            if enough {
                return Ok(Some(store_id));
            }
        }
        Ok(None)
    }

    async fn stores_by_distance(
        &self,
        point: Coordinates,
        datum: Datum,
        sku: Option<SkuId>,
        limit: usize,
    ) -> AppResult<Vec<NearbyStore>> {
        let point = datum.to_gcj02(point);
        let index = self.store_index().await?;
        let stock: HashMap<StoreId, i64> = match sku {
            Some(sku_id) => read_tx!(self, |tx| Ok(tx.stock_of_sku(sku_id).await?))?
                .into_iter()
                .map(|row| (row.store_id, row.levels.available().get()))
                .collect(),
            None => HashMap::new(),
        };
        let at = now();
        Ok(index
            .nearest(point)
            .take(limit)
            .map(|(store, distance)| NearbyStore {
                distance_m: whole_metres(distance),
                delivers: distance <= f64::from(store.delivery_radius_m),
                open_now: store.is_trading_at(at),
                available: sku.map(|_| stock.get(&store.id).copied().unwrap_or(0)),
                store: store.clone(),
            })
            .collect())
    }

    /// The index of open stores, rebuilt from the database when older than [`INDEX_TTL`] or
    /// after this instance changed a store.
    async fn store_index(&self) -> AppResult<Arc<SpatialIndex<Store>>> {
        self.stores_near.get_or_build(|| self.build_store_index()).await
    }

    async fn build_store_index(&self) -> AppResult<SpatialIndex<Store>> {
        let filter = StoreFilter {
            status: Some(StoreStatus::Open.as_str().to_owned()),
            kind: Some(StoreKind::Store),
            ..StoreFilter::default()
        };
        let mut stores = Vec::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = read_tx!(self, |tx| Ok(tx.list_stores(&filter, page).await?))?;
            let full = batch.len() == page.limit as usize;
            page.after = batch.last().map(|s| s.id.as_uuid());
            stores.extend(batch);
            if !full {
                break;
            }
        }
        Ok(SpatialIndex::new(stores.into_iter().map(|s| (s.location, s))))
    }
}

/// How long the store index serves before it is rebuilt: what another instance changed shows
/// up within this; what this instance changes shows up at once.
pub const INDEX_TTL: Duration = Duration::from_secs(30);
