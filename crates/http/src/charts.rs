//! SVG charts of ecological indicators over time (issue #6), drawn with `plotters` and only its
//! SVG backend (no font or bitmap features: text is SVG `<text>`, so the viewer's fonts apply).
//! Floating point is used here for pixels only; the values come from the domain as decimals.

use furrow_domain::Decimal;
use furrow_domain::lifecycle::ecology::{Direction, Indicator, SeriesPoint};
use plotters::prelude::*;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 360;
const MEAN: RGBColor = RGBColor(31, 94, 160);
const RANGE: RGBColor = RGBColor(120, 160, 205);
const BAND: RGBColor = RGBColor(222, 240, 222);
const EXPECTED: RGBColor = RGBColor(170, 170, 170);

fn f(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// The chart of one indicator's series. `indicator` (the catalogue entry) adds the expected range
/// and, for a `band` indicator, the good band.
pub fn indicator_chart(
    title: &str,
    unit: &str,
    points: &[SeriesPoint],
    indicator: Option<&Indicator>,
) -> Result<String, String> {
    let n = points.len();
    // The vertical extent: the expected range, widened to any value outside it.
    let (mut lo, mut hi) = indicator.map_or((f64::MAX, f64::MIN), |i| (f(i.min), f(i.max)));
    for p in points {
        lo = lo.min(f(p.min));
        hi = hi.max(f(p.max));
    }
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    let labels: Vec<String> = points.iter().map(|p| p.period.to.to_string()).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(n.max(1) as f64 - 0.5), (lo - pad)..(hi + pad))
            .map_err(|e| e.to_string())?;
        let label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            labels.get(i as usize).cloned().unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            // Bold lines at the labels only: fine lines between them would hide the range bars.
            .y_max_light_lines(1)
            .x_labels(n.max(1))
            .x_label_formatter(&label)
            .x_desc(if n == 0 { "no verified monitoring period yet" } else { "end of monitoring period" })
            .y_desc(unit)
            .draw()
            .map_err(|e| e.to_string())?;
        let (left, right) = (-0.5, n.max(1) as f64 - 0.5);
        if let Some(i) = indicator {
            if let Direction::Band { low, high } = i.direction {
                chart
                    .draw_series(std::iter::once(Rectangle::new([(left, f(low)), (right, f(high))], BAND.filled())))
                    .map_err(|e| e.to_string())?
                    .label("good band")
                    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], BAND.filled()));
            }
            // A range no source backs is labelled so on the chart too (issue #6).
            let what = if i.verified() { "expected range" } else { "expected range (unverified)" };
            chart
                .draw_series(
                    [f(i.min), f(i.max)].map(|edge| PathElement::new(vec![(left, edge), (right, edge)], EXPECTED)),
                )
                .map_err(|e| e.to_string())?
                .label(what)
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], EXPECTED));
        }
        chart
            .draw_series(points.iter().enumerate().map(|(x, p)| {
                PathElement::new(vec![(x as f64, f(p.min)), (x as f64, f(p.max))], RANGE.stroke_width(6))
            }))
            .map_err(|e| e.to_string())?
            .label("parcels' range")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RANGE.stroke_width(6)));
        chart
            .draw_series(LineSeries::new(
                points.iter().enumerate().map(|(x, p)| (x as f64, f(p.mean))),
                MEAN.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("mean")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], MEAN.stroke_width(2)));
        chart
            .draw_series(points.iter().enumerate().map(|(x, p)| Circle::new((x as f64, f(p.mean)), 4, MEAN.filled())))
            .map_err(|e| e.to_string())?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(EXPECTED)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
