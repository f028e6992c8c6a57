//! Geography: validated coordinates and great-circle distance.
//!
//! Coordinates shown on Chinese maps are GCJ-02; stores store GCJ-02. (Conversion from WGS-84
//! arrives with nearest-store routing.)

use crate::{DomainError, DomainResult};

/// A latitude/longitude pair in degrees. Finite and in range by construction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    lat: f64,
    lng: f64,
}

/// Mean Earth radius in metres (IUGG), as used by the haversine formula.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Coordinates {
    pub fn new(lat: f64, lng: f64) -> DomainResult<Coordinates> {
        let valid =
            lat.is_finite() && lng.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng);
        if valid { Ok(Coordinates { lat, lng }) } else { Err(DomainError::InvalidCoordinates { field: "location" }) }
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lng(&self) -> f64 {
        self.lng
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, other: &Coordinates) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlng = (other.lng - self.lng).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_and_nan() {
        for (lat, lng) in [(91.0, 0.0), (0.0, 181.0), (f64::NAN, 0.0), (0.0, f64::INFINITY)] {
            assert!(Coordinates::new(lat, lng).is_err());
        }
    }

    #[test]
    fn shanghai_to_hangzhou_is_about_165_km() {
        let people_square = Coordinates::new(31.2304, 121.4737).unwrap();
        let west_lake = Coordinates::new(30.2590, 120.1300).unwrap();
        let km = people_square.distance_m(&west_lake) / 1000.0;
        assert!((160.0..170.0).contains(&km), "{km}");
        assert_eq!(people_square.distance_m(&people_square), 0.0);
    }
}
