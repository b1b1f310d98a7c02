//! Parcel geometry: a GeoJSON-style polygon in WGS84 longitude/latitude, its validation, the
//! overlap measure of the enrolment rule, and the coarse grid cell the public sees.
//!
//! Floating point is used only inside `decide` (the overlap check, the grid cell); the decisions
//! and the cell are recorded in the log, so `apply` and replay never compute geometry.

use std::fmt;

use geo::{Area, BooleanOps, Centroid, Coord, LineString};

/// Two parcels conflict when their intersection exceeds this share of the smaller one: digitised
/// boundaries of neighbouring fields touch and overlap slightly; a field registered twice overlaps
/// almost entirely.
pub const OVERLAP_TOLERANCE: f64 = 0.01;

/// The most vertices a parcel's polygon may have (a field boundary needs far fewer).
pub const MAX_VERTICES: usize = 2_000;

/// A polygon: an exterior ring and optional holes, each closed (first point = last point), as
/// `(longitude, latitude)` pairs in degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub exterior: Vec<(f64, f64)>,
    pub holes: Vec<Vec<(f64, f64)>>,
}

impl Polygon {
    /// Checks that the polygon is usable: closed rings of at least four finite points within
    /// longitude/latitude bounds, and a non-zero area.
    pub fn validate(&self) -> Result<(), String> {
        let vertices: usize = self.exterior.len() + self.holes.iter().map(Vec::len).sum::<usize>();
        if vertices > MAX_VERTICES {
            return Err(format!("a parcel polygon has at most {MAX_VERTICES} vertices"));
        }
        for ring in std::iter::once(&self.exterior).chain(&self.holes) {
            check_ring(ring)?;
        }
        if self.to_geo().unsigned_area() <= 0.0 {
            return Err("the polygon has no area".into());
        }
        Ok(())
    }

    fn to_geo(&self) -> geo::Polygon<f64> {
        let ring =
            |points: &[(f64, f64)]| LineString::from(points.iter().map(|&(x, y)| Coord { x, y }).collect::<Vec<_>>());
        geo::Polygon::new(ring(&self.exterior), self.holes.iter().map(|h| ring(h)).collect())
    }

    /// The share of the smaller polygon that the two have in common (0 to 1).
    pub fn overlap_share(&self, other: &Polygon) -> f64 {
        let (a, b) = (self.to_geo(), other.to_geo());
        let smaller = a.unsigned_area().min(b.unsigned_area());
        if smaller <= 0.0 {
            return 0.0;
        }
        a.intersection(&b).unsigned_area() / smaller
    }

    /// The 0.1° grid cell (about 11 km × 9 km in Japan) holding the polygon's centroid.
    pub fn cell(&self) -> GridCell {
        let centre = self.to_geo().centroid().map_or((0.0, 0.0), |p| (p.x(), p.y()));
        GridCell { lon_tenths: (centre.0 * 10.0).floor() as i32, lat_tenths: (centre.1 * 10.0).floor() as i32 }
    }
}

fn check_ring(ring: &[(f64, f64)]) -> Result<(), String> {
    if ring.len() < 4 {
        return Err("a polygon ring needs at least four positions".into());
    }
    if ring.first() != ring.last() {
        return Err("a polygon ring must end where it starts".into());
    }
    for &(lon, lat) in ring {
        if !(lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
            return Err(format!("position ({lon}, {lat}) is not a longitude/latitude in degrees"));
        }
    }
    Ok(())
}

/// A coarse location: the 0.1° × 0.1° cell whose south-west corner is
/// (`lon_tenths`/10, `lat_tenths`/10). What the public sees instead of a parcel's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GridCell {
    pub lon_tenths: i32,
    pub lat_tenths: i32,
}

impl fmt::Display for GridCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = |v: i32, pos: char, neg: char| {
            let hemisphere = if v < 0 { neg } else { pos };
            format!("{}.{}{hemisphere}", v.abs() / 10, v.abs() % 10)
        };
        write!(f, "{} {}", tenths(self.lat_tenths, 'N', 'S'), tenths(self.lon_tenths, 'E', 'W'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn square(lon: f64, lat: f64, side: f64) -> Polygon {
        Polygon {
            exterior: vec![(lon, lat), (lon + side, lat), (lon + side, lat + side), (lon, lat + side), (lon, lat)],
            holes: vec![],
        }
    }

    #[test]
    fn overlap_share_measures_the_smaller_parcel() {
        let a = square(139.0, 37.9, 0.001);
        assert!((a.overlap_share(&a) - 1.0).abs() < 1e-9);
        let shifted = square(139.0005, 37.9, 0.001);
        assert!((a.overlap_share(&shifted) - 0.5).abs() < 1e-6);
        let neighbour = square(139.001, 37.9, 0.001);
        assert!(a.overlap_share(&neighbour) < OVERLAP_TOLERANCE);
    }

    #[test]
    fn bad_polygons_are_refused() {
        let mut open = square(139.0, 37.9, 0.001);
        open.exterior.pop();
        assert!(open.validate().is_err());
        assert!(square(f64::NAN, 37.9, 0.001).validate().is_err());
        assert!(square(200.0, 37.9, 0.001).validate().is_err());
        assert!(square(139.0, 37.9, 0.0).validate().is_err());
        assert!(square(139.0, 37.9, 0.001).validate().is_ok());
    }

    #[test]
    fn cells_are_coarse() {
        assert_eq!(square(139.04, 37.91, 0.001).cell().to_string(), "37.9N 139.0E");
    }
}
