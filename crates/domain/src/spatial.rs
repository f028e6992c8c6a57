//! A spatial index of places on the globe, for "nearest store" at thousands of stores.
//!
//! An R-tree (`rstar`) over points on the unit sphere: the straight-line (chord) distance
//! between two such points grows with the great-circle distance between the places, so the
//! tree's nearest-neighbour order *is* the great-circle order, at any latitude and across the
//! antimeridian, with no map projection to distort it. Distances reported are haversine metres.

use rstar::{AABB, PointDistance, RTree, RTreeObject};

use crate::geo::Coordinates;

struct Entry<T> {
    point: [f64; 3],
    place: Coordinates,
    value: T,
}

impl<T> RTreeObject for Entry<T> {
    type Envelope = AABB<[f64; 3]>;

    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.point)
    }
}

impl<T> PointDistance for Entry<T> {
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        self.point.iter().zip(point).map(|(a, b)| (a - b) * (a - b)).sum()
    }
}

/// The unit vector of a place.
fn unit(place: Coordinates) -> [f64; 3] {
    let (lat, lng) = (place.lat().to_radians(), place.lng().to_radians());
    [lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin()]
}

/// Values placed on the globe, searchable by distance from a point.
pub struct SpatialIndex<T> {
    tree: RTree<Entry<T>>,
}

impl<T> SpatialIndex<T> {
    /// Builds the index in one bulk load (O(n log n)).
    pub fn new(items: impl IntoIterator<Item = (Coordinates, T)>) -> SpatialIndex<T> {
        let entries = items.into_iter().map(|(place, value)| Entry { point: unit(place), place, value }).collect();
        SpatialIndex { tree: RTree::bulk_load(entries) }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Every value, nearest to `from` first, with its distance in metres. Lazy: taking the first
    /// few visits only a few tree nodes.
    pub fn nearest(&self, from: Coordinates) -> impl Iterator<Item = (&T, f64)> + '_ {
        self.tree.nearest_neighbor_iter(&unit(from)).map(move |e| (&e.value, e.place.distance_m(&from)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn place(lat: f64, lng: f64) -> Coordinates {
        Coordinates::new(lat, lng).unwrap()
    }

    #[test]
    fn nearest_first_with_haversine_metres() {
        let index = SpatialIndex::new([
            (place(31.2304, 121.4737), "上海"),
            (place(30.2741, 120.1551), "杭州"),
            (place(39.9042, 116.4074), "北京"),
        ]);
        let order: Vec<&str> = index.nearest(place(31.0, 121.0)).map(|(name, _)| *name).collect();
        assert_eq!(order, ["上海", "杭州", "北京"]);
        let (_, metres) = index.nearest(place(31.2304, 121.4737)).next().unwrap();
        assert!(metres < 1e-6);
        // Across the antimeridian, Fiji's far side is near.
        let pacific = SpatialIndex::new([(place(-17.7, 179.9), "east"), (place(-17.7, 170.0), "west")]);
        assert_eq!(pacific.nearest(place(-17.7, -179.9)).next().map(|(n, _)| *n), Some("east"));
    }

    proptest! {
        /// The index orders places exactly as sorting every haversine distance would.
        #[test]
        fn agrees_with_a_linear_scan(
            places in proptest::collection::vec((18.0f64..54.0, 73.0f64..135.0), 1..300),
            from in (18.0f64..54.0, 73.0f64..135.0),
        ) {
            let from = place(from.0, from.1);
            let points: Vec<Coordinates> = places.iter().map(|&(lat, lng)| place(lat, lng)).collect();
            let index = SpatialIndex::new(points.iter().copied().enumerate().map(|(i, p)| (p, i)));
            let mut scanned: Vec<f64> = points.iter().map(|p| p.distance_m(&from)).collect();
            scanned.sort_by(f64::total_cmp);
            let indexed: Vec<f64> = index.nearest(from).map(|(_, d)| d).collect();
            prop_assert_eq!(indexed.len(), scanned.len());
            for (a, b) in indexed.iter().zip(&scanned) {
                prop_assert!((a - b).abs() < 1e-3, "{} vs {}", a, b);
            }
        }
    }
}
