//! Geography: validated coordinates, great-circle distance, and the WGS-84 ↔ GCJ-02 datum shift.
//!
//! Coordinates shown on Chinese maps (AMap, Tencent, WeChat) are GCJ-02; a phone's GPS reports
//! WGS-84. Stores keep GCJ-02; a WGS-84 point is converted before distances are taken, because
//! the two differ by several hundred metres in mainland China. A delivery's point is kept in
//! GCJ-02 too (with the [`Datum`] it was sent in), so its distance and a rider's map agree.

use crate::{DomainError, DomainResult};

/// A latitude/longitude pair in degrees. Finite and in range by construction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    lat: f64,
    lng: f64,
}

/// Never NaN (the constructor and the datum shifts keep both parts finite), so `==` is an
/// equivalence and values that hold coordinates (an order) can be `Eq`.
impl Eq for Coordinates {}

named_enum! {
    /// Which datum a caller's coordinates are in.
    #[derive(Default)]
    pub enum Datum for "coord" {
        /// What Chinese maps and WeChat show; what stores are kept in.
        #[default]
        Gcj02 = "gcj02",
        /// What a GPS reports.
        Wgs84 = "wgs84",
    }
}

impl Datum {
    /// `point` in GCJ-02, the datum stores are kept in (distances are taken there).
    pub fn to_gcj02(self, point: Coordinates) -> Coordinates {
        match self {
            Datum::Gcj02 => point,
            Datum::Wgs84 => point.wgs84_to_gcj02(),
        }
    }
}

/// A distance in whole metres, as it is shown and kept: rounded, and capped at `u32::MAX`
/// (beyond any distance on Earth).
pub fn whole_metres(distance_m: f64) -> u32 {
    distance_m.round().clamp(0.0, f64::from(u32::MAX)) as u32
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

/// The Krasovsky 1940 semi-major axis and eccentricity² used by the GCJ-02 algorithm.
const GCJ_A: f64 = 6_378_245.0;
#[expect(clippy::excessive_precision, reason = "the constant as every reference implementation publishes it")]
const GCJ_EE: f64 = 0.006_693_421_622_965_943_23;

impl Coordinates {
    /// Converts a WGS-84 (GPS) point to GCJ-02. Points outside mainland China are unchanged,
    /// as GCJ-02 applies no shift there.
    pub fn wgs84_to_gcj02(&self) -> Coordinates {
        if out_of_china(self.lat, self.lng) {
            return *self;
        }
        let (d_lat, d_lng) = gcj_delta(self.lat, self.lng);
        Coordinates { lat: self.lat + d_lat, lng: self.lng + d_lng }
    }

    /// Converts a GCJ-02 point back to WGS-84 by fixed-point iteration (the forward transform
    /// has no closed-form inverse); accurate to well under a millimetre.
    pub fn gcj02_to_wgs84(&self) -> Coordinates {
        if out_of_china(self.lat, self.lng) {
            return *self;
        }
        let mut wgs = *self;
        for _ in 0..30 {
            let shifted = wgs.wgs84_to_gcj02();
            let (err_lat, err_lng) = (shifted.lat - self.lat, shifted.lng - self.lng);
            wgs = Coordinates { lat: wgs.lat - err_lat, lng: wgs.lng - err_lng };
            if err_lat.abs() < 1e-10 && err_lng.abs() < 1e-10 {
                break;
            }
        }
        wgs
    }
}

/// The rough bounding box outside which GCJ-02 is the identity (as every reference
/// implementation draws it).
fn out_of_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn gcj_delta(lat: f64, lng: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let (x, y) = (lng - 105.0, lat - 35.0);
    let waves = |a: f64, b: f64| (a * (6.0 * x * PI).sin() + b * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    let mut d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d_lat += waves(20.0, 20.0);
    d_lat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d_lng += waves(20.0, 20.0);
    d_lng += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lng += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - GCJ_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI);
    let d_lng = (d_lng * 180.0) / (GCJ_A / sqrt_magic * rad_lat.cos() * PI);
    (d_lat, d_lng)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published vectors (WGS-84 → GCJ-02) shared by the eviltransform implementations.
    const VECTORS: [((f64, f64), (f64, f64)); 3] = [
        ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)), // Shanghai
        ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)), // Shenzhen
        ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)), // Beijing
    ];

    #[test]
    fn wgs84_to_gcj02_matches_published_points() {
        for ((lat, lng), (g_lat, g_lng)) in VECTORS {
            let gcj = Coordinates::new(lat, lng).unwrap().wgs84_to_gcj02();
            assert!((gcj.lat() - g_lat).abs() < 1e-9 && (gcj.lng() - g_lng).abs() < 1e-9, "{gcj:?}");
        }
    }

    #[test]
    fn gcj02_to_wgs84_inverts_the_shift() {
        for ((lat, lng), (g_lat, g_lng)) in VECTORS {
            let wgs = Coordinates::new(g_lat, g_lng).unwrap().gcj02_to_wgs84();
            assert!((wgs.lat() - lat).abs() < 1e-8 && (wgs.lng() - lng).abs() < 1e-8, "{wgs:?}");
        }
    }

    #[test]
    fn a_datum_puts_a_point_in_gcj02() {
        let ((lat, lng), (g_lat, g_lng)) = VECTORS[0];
        let gps = Coordinates::new(lat, lng).unwrap();
        assert_eq!(Datum::Gcj02.to_gcj02(gps), gps);
        let shifted = Datum::Wgs84.to_gcj02(gps);
        assert!((shifted.lat() - g_lat).abs() < 1e-9 && (shifted.lng() - g_lng).abs() < 1e-9, "{shifted:?}");
        assert_eq!(Datum::parse("wgs84"), Ok(Datum::Wgs84));
        assert_eq!(Datum::default().as_str(), "gcj02");
        assert!(Datum::parse("bd09").is_err());
        assert_eq!((whole_metres(2_999.5), whole_metres(-1.0), whole_metres(1e12)), (3_000, 0, u32::MAX));
    }

    #[test]
    fn no_shift_outside_china() {
        let denver = Coordinates::new(39.7392, -104.9903).unwrap();
        assert_eq!(denver.wgs84_to_gcj02(), denver);
        assert_eq!(denver.gcj02_to_wgs84(), denver);
    }

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
