//! Points on the Earth: residents' homes and pass destinations.

use serde::{Deserialize, Serialize};

use crate::Localized;

/// A WGS 84 point: latitude −90…90 and longitude −180…180 degrees, both finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPoint", into = "RawPoint")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = LatLon))]
pub struct GeoPoint {
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90))]
    lat: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180))]
    lon: f64,
}

#[derive(Serialize, Deserialize)]
struct RawPoint {
    lat: f64,
    lon: f64,
}

/// What was wrong with a point.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// Latitude outside −90…90 or not a number.
    #[error("{}", self.localized().en)]
    Latitude(f64),
    /// Longitude outside −180…180 or not a number.
    #[error("{}", self.localized().en)]
    Longitude(f64),
}

impl GeoError {
    /// The message in Russian and English, for residents.
    pub fn localized(&self) -> Localized {
        match self {
            Self::Latitude(v) => Localized::new(
                format!("Широта {v} вне допустимого диапазона; нужно число от −90 до 90."),
                format!("Latitude {v} is out of range; it must be a number from −90 to 90."),
            ),
            Self::Longitude(v) => Localized::new(
                format!("Долгота {v} вне допустимого диапазона; нужно число от −180 до 180."),
                format!("Longitude {v} is out of range; it must be a number from −180 to 180."),
            ),
        }
    }
}

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl GeoPoint {
    /// Builds a point, checking the ranges.
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(GeoError::Latitude(lat));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(GeoError::Longitude(lon));
        }
        Ok(Self { lat, lon })
    }

    /// Latitude, degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude, degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }
}

impl TryFrom<RawPoint> for GeoPoint {
    type Error = GeoError;
    fn try_from(raw: RawPoint) -> Result<Self, Self::Error> {
        Self::new(raw.lat, raw.lon)
    }
}

impl From<GeoPoint> for RawPoint {
    fn from(p: GeoPoint) -> Self {
        Self {
            lat: p.lat,
            lon: p.lon,
        }
    }
}

/// Great-circle distance between two points in metres (haversine on a sphere of the mean
/// Earth radius; within 0.5 % of the ellipsoidal distance, far below GPS noise at the
/// hundred-metre scale the rules use).
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let d_phi = (b.lat - a.lat).to_radians();
    let d_lambda = (b.lon - a.lon).to_radians();
    let h = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint::new(lat, lon).unwrap()
    }

    #[test]
    fn ranges_are_checked() {
        assert!(GeoPoint::new(90.0, 180.0).is_ok());
        assert_eq!(GeoPoint::new(90.5, 0.0), Err(GeoError::Latitude(90.5)));
        assert_eq!(GeoPoint::new(0.0, -180.1), Err(GeoError::Longitude(-180.1)));
        assert!(GeoPoint::new(f64::NAN, 0.0).is_err());
        assert!(serde_json::from_str::<GeoPoint>(r#"{"lat": 100, "lon": 0}"#).is_err());
        let ok: GeoPoint = serde_json::from_str(r#"{"lat": 55.75, "lon": 37.62}"#).unwrap();
        assert_eq!(ok.lat(), 55.75);
    }

    #[test]
    fn distances() {
        assert_eq!(distance_m(p(55.75, 37.62), p(55.75, 37.62)), 0.0);
        // One degree of latitude is about 111.2 km on the mean sphere.
        let one_degree = distance_m(p(0.0, 0.0), p(1.0, 0.0));
        assert!((one_degree - 111_195.0).abs() < 10.0, "{one_degree}");
        // Red Square to the Bolshoi Theatre: about 700 m.
        let d = distance_m(p(55.7539, 37.6208), p(55.7601, 37.6186));
        assert!((650.0..720.0).contains(&d), "{d}");
        // 100 m north of a Moscow home, roughly 0.0009 degrees.
        let d = distance_m(p(55.7500, 37.6200), p(55.7509, 37.6200));
        assert!((99.0..101.0).contains(&d), "{d}");
        // Antipodes: half the circumference.
        let half = distance_m(p(0.0, 0.0), p(0.0, 180.0));
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0);
    }
}
