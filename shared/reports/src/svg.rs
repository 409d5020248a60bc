//! Speedup charts as hand-written SVG: a plot of speedup against workers (from 1) with grid
//! lines, the ideal line (speedup = workers), the no-gain line (1×), each machine's core
//! ceiling, predicted curves (Amdahl's law), one colour per series, a marker shape per variant,
//! a range bar where a point summarises several machines, and a legend. Series at the same x
//! are set a few pixels apart, so that no marker hides another. Every point carries a tooltip
//! (`<title>`) with its figures, which a teacher reads by hovering: the reason these charts are
//! written by hand rather than with a plotting library, whose SVG output has no per-point
//! tooltips. All text is escaped, so whatever a report's labels hold, the file stays
//! well-formed XML.

use std::fmt::Write as _;

/// An x/y chart of speedups.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// The names of the marker shapes, in order (empty: every point is a circle, no legend).
    pub markers: Vec<String>,
    /// The y axis reaches at least this far, so that the ideal line stays in view.
    pub y_at_least: f64,
    /// Horizontal lines at a speedup no machine of that many cores can pass: (cores, label).
    pub ceilings: Vec<(f64, String)>,
    /// Predictions drawn as dotted lines (Amdahl's law for the job's P).
    pub curves: Vec<Curve>,
    /// What hollow markers mean here, for the legend (empty: none are hollow).
    pub hollow_means: String,
}

/// A predicted curve: its label and points in order of x.
#[derive(Clone, Debug)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// One machine's points.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    /// Shown after the label in the legend (`⚠ one core`).
    pub note: String,
    /// Drawn hollow and dashed: its results cannot show what the others show.
    pub flagged: bool,
    /// Whether a line joins the points, in order of x.
    pub joined: bool,
    pub points: Vec<Point>,
}

#[derive(Clone, Debug)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// Index into [`Chart::markers`].
    pub marker: usize,
    /// The tooltip.
    pub tip: String,
    /// Drawn hollow: this point's figures cannot be taken at face value.
    pub hollow: bool,
    /// The lowest and highest value it summarises, drawn as a bar (several machines' medians).
    pub range: Option<(f64, f64)>,
}

/// Colours that stay apart for most eyes (Tableau 10); series past ten reuse them, dashed.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#79706e",
];

const WIDTH: f64 = 880.0;
const PLOT_LEFT: f64 = 70.0;
const PLOT_TOP: f64 = 64.0;
const PLOT_WIDTH: f64 = 470.0;
const PLOT_HEIGHT: f64 = 320.0;
const LEGEND_LEFT: f64 = PLOT_LEFT + PLOT_WIDTH + 30.0;
const LEGEND_LINE: f64 = 18.0;
/// Legend labels longer than this are cut (the tooltip keeps them whole).
const LEGEND_CHARS: usize = 36;

impl Chart {
    /// The SVG document.
    pub fn render(&self) -> String {
        let points = self.series.iter().flat_map(|series| &series.points);
        let finite: Vec<&Point> = points
            .filter(|point| point.x.is_finite() && point.y.is_finite())
            .collect();
        let x_max = finite.iter().map(|point| point.x).fold(2.0, f64::max);
        let y_max = finite
            .iter()
            .map(|point| point.range.map_or(point.y, |(_, high)| high.max(point.y)))
            .filter(|y| y.is_finite())
            .fold(self.y_at_least.max(1.0), f64::max);
        // Workers start at 1 (nothing runs on zero workers) and double from tick to tick: 2-core
        // and 16-core machines both get room, and the ideal line reads the same at every size.
        let x_axis = Doubling::new(x_max);
        let y_axis = Axis::new(y_max * 1.05, false);
        let x_of = |x: f64| PLOT_LEFT + x_axis.fraction(x) * PLOT_WIDTH;
        let y_of = |y: f64| PLOT_TOP + PLOT_HEIGHT - y.clamp(0.0, y_axis.top) / y_axis.top * PLOT_HEIGHT;
        // Every series and variant gets its own place a few pixels apart at the same x, so that no
        // marker hides another: variants (which often measure alike) a marker's width apart,
        // series less, within a variant's place.
        let kinds = self.markers.len().max(1) as f64;
        let series_count = self.series.len().max(1) as f64;
        let series_step = if series_count > 1.0 {
            6.0 / (series_count - 1.0)
        } else {
            0.0
        };
        let dodge = |series: usize, marker: usize| {
            let variant = (marker as f64 % kinds - (kinds - 1.0) / 2.0) * 9.0;
            variant + (series as f64 - (series_count - 1.0) / 2.0) * series_step.min(2.0)
        };

        let legend_lines =
            self.series.len() + self.markers.len() + self.curves.len() + usize::from(!self.ceilings.is_empty()) + 5;
        let height = (PLOT_TOP + PLOT_HEIGHT + 60.0).max(PLOT_TOP + legend_lines as f64 * LEGEND_LINE + 20.0);
        let mut svg = String::new();
        let out = &mut svg;
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(out, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(out, r##"<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##);
        let _ = writeln!(
            out,
            r#"<text x="{PLOT_LEFT}" y="24" font-size="15" font-weight="bold">{}</text>"#,
            escape(&self.title)
        );
        let _ = writeln!(
            out,
            r##"<text x="{PLOT_LEFT}" y="42" fill="#555555">{}</text>"##,
            escape(&self.subtitle)
        );

        // Grid, ticks and axes.
        let _ = writeln!(out, r#"<g class="axes">"#);
        for tick in x_axis.ticks() {
            let x = x_of(tick);
            let _ = writeln!(
                out,
                r##"<line x1="{x:.1}" y1="{PLOT_TOP}" x2="{x:.1}" y2="{:.1}" stroke="#eeeeee"/>"##,
                PLOT_TOP + PLOT_HEIGHT
            );
            let _ = writeln!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                PLOT_TOP + PLOT_HEIGHT + 16.0,
                number(tick)
            );
        }
        for tick in y_axis.ticks() {
            let y = y_of(tick);
            let _ = writeln!(
                out,
                r##"<line x1="{PLOT_LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eeeeee"/>"##,
                PLOT_LEFT + PLOT_WIDTH
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                PLOT_LEFT - 6.0,
                y + 4.0,
                number(tick)
            );
        }
        let _ = writeln!(
            out,
            r##"<line x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_LEFT}" y2="{bottom:.1}" stroke="#333333"/>"##,
            bottom = PLOT_TOP + PLOT_HEIGHT
        );
        let _ = writeln!(
            out,
            r##"<line x1="{PLOT_LEFT}" y1="{bottom:.1}" x2="{right:.1}" y2="{bottom:.1}" stroke="#333333"/>"##,
            bottom = PLOT_TOP + PLOT_HEIGHT,
            right = PLOT_LEFT + PLOT_WIDTH
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            PLOT_LEFT + PLOT_WIDTH / 2.0,
            PLOT_TOP + PLOT_HEIGHT + 38.0,
            escape(&self.x_label)
        );
        let (label_x, label_y) = (PLOT_LEFT - 46.0, PLOT_TOP + PLOT_HEIGHT / 2.0);
        let _ = writeln!(
            out,
            r#"<text x="{label_x:.1}" y="{label_y:.1}" text-anchor="middle" transform="rotate(-90 {label_x:.1} {label_y:.1})">{}</text>"#,
            escape(&self.y_label)
        );
        let _ = writeln!(out, "</g>");

        // The no-gain line and the ideal line: speedup = workers, from one worker up.
        let _ = writeln!(out, r#"<g class="reference">"#);
        let one = y_of(1.0);
        let _ = writeln!(
            out,
            r##"<line x1="{PLOT_LEFT}" y1="{one:.1}" x2="{:.1}" y2="{one:.1}" stroke="#999999"/>"##,
            PLOT_LEFT + PLOT_WIDTH
        );
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#777777" font-size="11">1× = no gain</text>"##,
            PLOT_LEFT + PLOT_WIDTH - 4.0,
            one - 4.0
        );
        let ideal_end = x_axis.top.min(y_axis.top);
        let ideal: Vec<String> = (0..=40)
            .map(|step| ideal_end.powf(step as f64 / 40.0))
            .map(|x| format!("{:.1},{:.1}", x_of(x), y_of(x)))
            .collect();
        let _ = writeln!(
            out,
            r##"<polyline class="ideal" points="{}" fill="none" stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
            ideal.join(" ")
        );
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#333333" font-size="11">ideal</text>"##,
            x_of(ideal_end) - 6.0,
            y_of(ideal_end) + 14.0
        );
        // A machine with N cores cannot pass N×: from N workers on, its ceiling.
        for (cores, label) in &self.ceilings {
            if *cores > y_axis.top || *cores > x_axis.top {
                continue;
            }
            if *cores < 2.0 {
                continue;
            }
            let y = y_of(*cores);
            let _ = writeln!(
                out,
                r##"<line class="ceiling" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#888888" stroke-dasharray="1 3"/>"##,
                x_of(*cores),
                PLOT_LEFT + PLOT_WIDTH
            );
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#666666" font-size="10">{}</text>"##,
                PLOT_LEFT + PLOT_WIDTH - 4.0,
                y - 3.0,
                escape(label)
            );
        }
        for curve in &self.curves {
            let path: Vec<String> = curve
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(x, y)| format!("{:.1},{:.1}", x_of(*x), y_of(*y)))
                .collect();
            if path.len() > 1 {
                let _ = writeln!(
                    out,
                    r##"<polyline class="curve" points="{}" fill="none" stroke="#222222" stroke-width="1.5" stroke-dasharray="2 3"><title>{}</title></polyline>"##,
                    path.join(" "),
                    escape(&curve.label)
                );
            }
        }
        let _ = writeln!(out, "</g>");

        // One group per series.
        for (index, series) in self.series.iter().enumerate() {
            let colour = PALETTE[index % PALETTE.len()];
            let dash = dash(index, series.flagged);
            let _ = writeln!(out, r#"<g class="series" data-machine="{}">"#, escape(&series.label));
            let mut points: Vec<&Point> = series
                .points
                .iter()
                .filter(|point| point.x.is_finite() && point.y.is_finite())
                .collect();
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            if series.joined && points.len() > 1 {
                let path: Vec<String> = points
                    .iter()
                    .map(|point| format!("{:.1},{:.1}", x_of(point.x) + dodge(index, point.marker), y_of(point.y)))
                    .collect();
                let _ = writeln!(
                    out,
                    r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                    path.join(" ")
                );
            }
            for point in points {
                let x = x_of(point.x) + dodge(index, point.marker);
                if let Some((low, high)) = point.range
                    && low.is_finite()
                    && high.is_finite()
                {
                    let _ = writeln!(
                        out,
                        r#"<line class="range" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2" opacity="0.6"/>"#,
                        y_of(low),
                        y_of(high)
                    );
                }
                let shape = marker(point.marker, x, y_of(point.y), colour, series.flagged || point.hollow);
                let _ = writeln!(
                    out,
                    "{shape}<title>{}</title></{}>",
                    escape(&point.tip),
                    marker_element(point.marker)
                );
            }
            let _ = writeln!(out, "</g>");
        }

        // The legend: machines, then variants, then the reference lines.
        let _ = writeln!(out, r#"<g class="legend">"#);
        let mut y = PLOT_TOP + 4.0;
        let _ = writeln!(
            out,
            r#"<text x="{LEGEND_LEFT}" y="{y:.1}" font-weight="bold">Machines</text>"#
        );
        for (index, series) in self.series.iter().enumerate() {
            y += LEGEND_LINE;
            let colour = PALETTE[index % PALETTE.len()];
            if series.joined {
                let _ = writeln!(
                    out,
                    r#"<line x1="{LEGEND_LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"{}/>"#,
                    y - 4.0,
                    LEGEND_LEFT + 22.0,
                    y - 4.0,
                    dash(index, series.flagged)
                );
            }
            let shape = marker(0, LEGEND_LEFT + 11.0, y - 4.0, colour, series.flagged);
            let _ = writeln!(out, "{shape}</{}>", marker_element(0));
            let mut label = shorten(&series.label, LEGEND_CHARS);
            if !series.note.is_empty() {
                label.push_str("  ");
                label.push_str(&series.note);
            }
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{y:.1}"><title>{}</title>{}</text>"#,
                LEGEND_LEFT + 30.0,
                escape(&series.label),
                escape(&label)
            );
        }
        if !self.markers.is_empty() {
            y += LEGEND_LINE * 1.5;
            let _ = writeln!(
                out,
                r#"<text x="{LEGEND_LEFT}" y="{y:.1}" font-weight="bold">Variants</text>"#
            );
            for (index, name) in self.markers.iter().enumerate() {
                y += LEGEND_LINE;
                let shape = marker(index, LEGEND_LEFT + 11.0, y - 4.0, "#555555", false);
                let _ = writeln!(out, "{shape}</{}>", marker_element(index));
                let _ = writeln!(
                    out,
                    r#"<text x="{:.1}" y="{y:.1}">{}</text>"#,
                    LEGEND_LEFT + 30.0,
                    escape(&shorten(name, LEGEND_CHARS))
                );
            }
        }
        y += LEGEND_LINE * 1.5;
        let _ = writeln!(
            out,
            r##"<line x1="{LEGEND_LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
            y - 4.0,
            LEGEND_LEFT + 22.0,
            y - 4.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{y:.1}">ideal: speedup = workers</text>"#,
            LEGEND_LEFT + 30.0
        );
        for curve in &self.curves {
            y += LEGEND_LINE;
            let _ = writeln!(
                out,
                r##"<line x1="{LEGEND_LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#222222" stroke-width="1.5" stroke-dasharray="2 3"/>"##,
                y - 4.0,
                LEGEND_LEFT + 22.0,
                y - 4.0
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{y:.1}">{}</text>"#,
                LEGEND_LEFT + 30.0,
                escape(&shorten(&curve.label, LEGEND_CHARS + 6))
            );
        }
        if !self.ceilings.is_empty() {
            y += LEGEND_LINE;
            let _ = writeln!(
                out,
                r##"<line x1="{LEGEND_LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#888888" stroke-dasharray="1 3"/>"##,
                y - 4.0,
                LEGEND_LEFT + 22.0,
                y - 4.0
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{y:.1}">a machine's cores: its ceiling</text>"#,
                LEGEND_LEFT + 30.0
            );
        }
        let any_hollow = self
            .series
            .iter()
            .any(|series| series.flagged || series.points.iter().any(|point| point.hollow));
        if any_hollow && !self.hollow_means.is_empty() {
            y += LEGEND_LINE;
            let _ = writeln!(
                out,
                r##"<text x="{LEGEND_LEFT}" y="{y:.1}" fill="#555555">hollow: {}</text>"##,
                escape(&shorten(&self.hollow_means, LEGEND_CHARS + 8))
            );
        }
        let _ = writeln!(out, "</g>");
        let _ = writeln!(out, "</svg>");
        svg
    }
}

/// The workers axis: from 1, each tick twice the one before (1, 2, 4, 8, ...).
struct Doubling {
    top: f64,
}

impl Doubling {
    /// An axis from 1 a little past `max` (at least to 2).
    fn new(max: f64) -> Self {
        let max = if max.is_finite() { max.max(2.0) } else { 2.0 };
        Doubling { top: max * 1.25 }
    }

    /// Where `x` sits, from 0 (one worker) to 1 (the top).
    fn fraction(&self, x: f64) -> f64 {
        x.clamp(1.0, self.top).log2() / self.top.log2()
    }

    /// 1, 2, 4, ... up to the top.
    fn ticks(&self) -> Vec<f64> {
        (0..64)
            .map(|power| 2f64.powi(power))
            .take_while(|tick| *tick <= self.top)
            .collect()
    }
}

/// Where an axis ends and where its ticks go.
struct Axis {
    top: f64,
    step: f64,
}

impl Axis {
    /// An axis from 0 past `max`, with about six round ticks (whole numbers where `whole`).
    fn new(max: f64, whole: bool) -> Self {
        let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
        let rough = max / 6.0;
        let magnitude = 10f64.powf(rough.log10().floor());
        let mut step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|factor| factor * magnitude)
            .find(|step| *step >= rough)
            .unwrap_or(10.0 * magnitude);
        if whole {
            step = step.ceil().max(1.0);
        }
        let top = (max / step).ceil().max(1.0) * step;
        Axis { top, step }
    }

    fn ticks(&self) -> Vec<f64> {
        let count = (self.top / self.step).round() as usize;
        (0..=count.min(100)).map(|index| index as f64 * self.step).collect()
    }
}

/// A tick label: `2`, `2.5`, `0.25`.
fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The dash pattern of a series: flagged series and the second round of colours are dashed.
fn dash(index: usize, flagged: bool) -> &'static str {
    match (flagged, index / PALETTE.len()) {
        (true, _) => r#" stroke-dasharray="5 3""#,
        (false, 0) => "",
        (false, 1) => r#" stroke-dasharray="2 2""#,
        _ => r#" stroke-dasharray="8 2 2 2""#,
    }
}

/// The opening tag of marker `kind` at (x, y), left open for a `<title>`; close it with
/// `</{marker_element(kind)}>`.
fn marker(kind: usize, x: f64, y: f64, colour: &str, hollow: bool) -> String {
    let r = 5.0;
    let (fill, stroke) = if hollow {
        ("#ffffff", colour)
    } else {
        (colour, "#ffffff")
    };
    let style = format!(r#"fill="{fill}" stroke="{stroke}" stroke-width="1.5""#);
    let polygon = |corners: &[(f64, f64)]| {
        let points: Vec<String> = corners
            .iter()
            .map(|(dx, dy)| format!("{:.1},{:.1}", x + dx * r, y + dy * r))
            .collect();
        format!(r#"<polygon points="{}" {style}>"#, points.join(" "))
    };
    match kind % 6 {
        0 => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" {style}>"#),
        1 => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" {style}>"#,
            x - r * 0.9,
            y - r * 0.9,
            r * 1.8,
            r * 1.8
        ),
        2 => polygon(&[(0.0, -1.2), (1.1, 0.9), (-1.1, 0.9)]),
        3 => polygon(&[(0.0, -1.3), (1.2, 0.0), (0.0, 1.3), (-1.2, 0.0)]),
        4 => polygon(&[(0.0, 1.2), (1.1, -0.9), (-1.1, -0.9)]),
        _ => polygon(&[
            (-0.4, -1.2),
            (0.4, -1.2),
            (0.4, -0.4),
            (1.2, -0.4),
            (1.2, 0.4),
            (0.4, 0.4),
            (0.4, 1.2),
            (-0.4, 1.2),
            (-0.4, 0.4),
            (-1.2, 0.4),
            (-1.2, -0.4),
            (-0.4, -0.4),
        ]),
    }
}

fn marker_element(kind: usize) -> &'static str {
    match kind % 6 {
        0 => "circle",
        1 => "rect",
        _ => "polygon",
    }
}

fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(chars.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

/// Text made safe for XML content and attribute values. Characters XML 1.0 does not allow
/// (control characters other than tab and line breaks) become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            character if character.is_control() => out.push(' '),
            character => out.push(character),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        let axis = Axis::new(4.0, true);
        assert_eq!((axis.top, axis.step), (4.0, 1.0));
        let axis = Axis::new(1.9, false);
        assert!(axis.top >= 1.9 && axis.top <= 2.5, "{}", axis.top);
        assert_eq!(Axis::new(64.0, true).ticks(), [0.0, 20.0, 40.0, 60.0, 80.0]);
        assert_eq!(Doubling::new(8.0).ticks(), [1.0, 2.0, 4.0, 8.0]);
        assert_eq!(Doubling::new(30.0).ticks(), [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]);
        assert_eq!(Doubling::new(8.0).fraction(1.0), 0.0);
        assert!((Doubling::new(8.0).fraction(10.0) - 1.0).abs() < 1e-9);
        assert_eq!(Axis::new(f64::NAN, false).top, 1.0);
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(3.0), "3");
    }

    #[test]
    fn text_is_escaped_and_points_have_tooltips() {
        let chart = Chart {
            title: "a <b> & \"c\"".into(),
            subtitle: String::new(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series {
                label: "ana's </g> laptop".into(),
                note: "⚠ one core".into(),
                flagged: true,
                joined: true,
                points: vec![
                    Point {
                        x: 1.0,
                        y: 1.0,
                        marker: 0,
                        tip: "one".into(),
                        hollow: false,
                        range: None,
                    },
                    Point {
                        x: 2.0,
                        y: f64::NAN,
                        marker: 0,
                        tip: "lost".into(),
                        hollow: false,
                        range: None,
                    },
                    Point {
                        x: 2.0,
                        y: 1.9,
                        marker: 0,
                        tip: "two & more".into(),
                        hollow: true,
                        range: Some((1.5, 1.95)),
                    },
                ],
            }],
            markers: Vec::new(),
            y_at_least: 2.0,
            ceilings: vec![(2.0, "2 cores".into())],
            curves: vec![Curve {
                label: "Amdahl, P = 0.9".into(),
                points: vec![(1.0, 1.0), (2.0, 1.82)],
            }],
            hollow_means: "disturbed".into(),
        };
        let svg = chart.render();
        assert!(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"), "{svg}");
        assert!(svg.contains(r#"data-machine="ana&apos;s &lt;/g&gt; laptop""#), "{svg}");
        assert!(svg.contains("<title>two &amp; more</title>"), "{svg}");
        assert!(!svg.contains("lost") && !svg.contains("NaN"), "{svg}");
        assert_eq!(svg.matches("<g").count(), svg.matches("</g>").count());
    }
}
