//! Terminal charts for figures a person would rather look at than read: horizontal bars
//! (speedups, per-core load), histograms (race outcomes, latencies) and an x/y plot (speedup
//! against workers, time against problem size).

/// Horizontal bars, one per row, scaled to the largest value (or to a fixed maximum).
///
/// ```
/// let mut bars = course::chart::Bars::new();
/// bars.row("sequential", 1.0, "1.00×").row("two threads", 1.96, "1.96×");
/// assert_eq!(bars.lines().len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Bars {
    width: usize,
    max: Option<f64>,
    rows: Vec<(String, f64, String)>,
}

impl Default for Bars {
    fn default() -> Self {
        Bars {
            width: 40,
            max: None,
            rows: Vec::new(),
        }
    }
}

const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

impl Bars {
    pub fn new() -> Self {
        Self::default()
    }

    /// Width of a full bar, in characters.
    pub fn width(mut self, width: usize) -> Self {
        self.width = width.max(1);
        self
    }

    /// The value that fills a whole bar (for example 100 for a percentage); larger values are
    /// drawn full. Without it, the largest row fills the bar.
    pub fn max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// Adds a bar: its label, its length, and the text printed after it.
    pub fn row(&mut self, label: impl Into<String>, value: f64, text: impl Into<String>) -> &mut Self {
        self.rows.push((label.into(), value, text.into()));
        self
    }

    pub fn lines(&self) -> Vec<String> {
        let label_width = self
            .rows
            .iter()
            .map(|(label, ..)| label.chars().count())
            .max()
            .unwrap_or(0);
        let largest = self.rows.iter().map(|(_, value, _)| *value).fold(0.0_f64, f64::max);
        let full = self.max.unwrap_or(largest);
        self.rows
            .iter()
            .map(|(label, value, text)| {
                let pad = " ".repeat(label_width - label.chars().count());
                format!("{label}{pad} │{} {text}", bar(*value, full, self.width))
            })
            .collect()
    }
}

/// A bar of `width` characters filled in proportion `value / full`, with eighth-block precision.
pub fn bar(value: f64, full: f64, width: usize) -> String {
    let fraction = if full > 0.0 && value.is_finite() {
        (value / full).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let eighths = (fraction * (width * 8) as f64).round() as usize;
    let mut text: String = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        text.push(EIGHTHS[eighths % 8]);
    }
    let drawn = text.chars().count();
    text.push_str(&" ".repeat(width.saturating_sub(drawn)));
    text
}

/// Counts `values` into `buckets` equal-width ranges from the smallest to the largest value,
/// as bars labelled with each range. Identical values make a single bucket.
pub fn histogram(values: &[f64], buckets: usize, format: impl Fn(f64) -> String) -> Bars {
    let mut bars = Bars::new();
    if values.is_empty() {
        return bars;
    }
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let buckets = if high > low { buckets.max(1) } else { 1 };
    let step = (high - low) / buckets as f64;
    let mut counts = vec![0u64; buckets];
    for value in values {
        let index = if step > 0.0 { ((value - low) / step) as usize } else { 0 };
        counts[index.min(buckets - 1)] += 1;
    }
    for (i, count) in counts.iter().enumerate() {
        let from = low + step * i as f64;
        let label = if buckets == 1 {
            format(low)
        } else {
            format!("{} – {}", format(from), format(from + step))
        };
        bars.row(label, *count as f64, count.to_string());
    }
    bars
}

/// Points drawn on a character grid: one mark per series, with labelled axes.
#[derive(Clone, Debug)]
pub struct Plot {
    width: usize,
    height: usize,
    log_x: bool,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
}

/// One named set of points, drawn with one mark.
#[derive(Clone, Debug)]
struct Series {
    name: String,
    mark: char,
    points: Vec<(f64, f64)>,
}

impl Default for Plot {
    fn default() -> Self {
        Plot {
            width: 60,
            height: 16,
            log_x: false,
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
        }
    }
}

impl Plot {
    pub fn new(x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Plot {
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Self::default()
        }
    }

    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.width = width.max(10);
        self.height = height.max(4);
        self
    }

    /// A logarithmic x axis, for sizes that span orders of magnitude (x must be positive).
    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    /// Adds a series drawn with `mark` (a later series draws over an earlier one).
    pub fn series(&mut self, name: impl Into<String>, mark: char, points: Vec<(f64, f64)>) -> &mut Self {
        self.series.push(Series {
            name: name.into(),
            mark,
            points,
        });
        self
    }

    pub fn lines(&self) -> Vec<String> {
        let x_of = |x: f64| {
            if self.log_x {
                x.max(f64::MIN_POSITIVE).log10()
            } else {
                x
            }
        };
        let points: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|series| series.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        if points.is_empty() {
            return vec!["(nothing to plot)".to_string()];
        }
        let (x_min, x_max) = span(points.iter().map(|(x, _)| x_of(*x)));
        let (_, y_top) = span(points.iter().map(|(_, y)| *y));
        let y_min = 0.0_f64.min(points.iter().map(|(_, y)| *y).fold(f64::INFINITY, f64::min));
        let y_max = if y_top > y_min { y_top } else { y_min + 1.0 };
        let mut grid = vec![vec![' '; self.width]; self.height];
        for series in &self.series {
            for (x, y) in &series.points {
                if !x.is_finite() || !y.is_finite() {
                    continue;
                }
                let column = scale(x_of(*x), x_min, x_max, self.width);
                let row = self.height - 1 - scale(*y, y_min, y_max, self.height);
                grid[row][column] = series.mark;
            }
        }
        let y_text = |value: f64| timing::format::significant(value);
        let margin = [y_text(y_max), y_text(y_min)]
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(1);
        let mut lines = vec![format!("{:>margin$}  {}", "", self.y_label)];
        for (i, row) in grid.iter().enumerate() {
            let tick = if i == 0 {
                y_text(y_max)
            } else if i == self.height - 1 {
                y_text(y_min)
            } else {
                String::new()
            };
            lines.push(
                format!("{tick:>margin$} ┤{}", row.iter().collect::<String>())
                    .trim_end()
                    .to_string(),
            );
        }
        lines.push(format!("{:>margin$} └{}", "", "─".repeat(self.width)));
        let x_text = |value: f64| timing::format::significant(if self.log_x { 10f64.powf(value) } else { value });
        let (left, right) = (x_text(x_min), x_text(x_max));
        let gap = self.width.saturating_sub(left.len() + right.len());
        lines.push(format!(
            "{:>margin$}  {left}{}{right}  {}",
            "",
            " ".repeat(gap),
            self.x_label
        ));
        let legend: Vec<String> = self
            .series
            .iter()
            .map(|series| format!("{} {}", series.mark, series.name))
            .collect();
        lines.push(format!("{:>margin$}  {}", "", legend.join("   ")));
        lines
    }
}

fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
        (low.min(v), high.max(v))
    })
}

/// Position of `value` within `low..=high` on `cells` cells.
fn scale(value: f64, low: f64, high: f64, cells: usize) -> usize {
    if high <= low {
        return 0;
    }
    (((value - low) / (high - low)) * (cells - 1) as f64)
        .round()
        .clamp(0.0, (cells - 1) as f64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let mut bars = Bars::new().width(8);
        bars.row("a", 1.0, "1").row("bb", 2.0, "2");
        let lines = bars.lines();
        assert_eq!(lines[0], "a  │████     1");
        assert_eq!(lines[1], "bb │████████ 2");
    }

    #[test]
    fn bars_have_eighth_precision_and_clamp() {
        assert_eq!(bar(1.0, 16.0, 2), "▏ ");
        assert_eq!(bar(1.0, 2.0, 1), "▌");
        assert_eq!(bar(5.0, 1.0, 3), "███");
        assert_eq!(bar(-1.0, 1.0, 3), "   ");
        assert_eq!(bar(1.0, 0.0, 2), "  ");
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let values = [1.0, 1.0, 2.0, 9.0, 10.0];
        let bars = histogram(&values, 3, |v| format!("{v:.0}"));
        let total: f64 = bars.rows.iter().map(|(_, count, _)| count).sum();
        assert_eq!(total, 5.0);
        assert_eq!(bars.rows.len(), 3);
        assert_eq!(histogram(&[4.0, 4.0], 5, |v| v.to_string()).rows.len(), 1);
    }

    #[test]
    fn plot_puts_marks_at_the_corners() {
        let mut plot = Plot::new("workers", "speedup").size(10, 4);
        plot.series("measured", '*', vec![(1.0, 0.0), (8.0, 4.0)]);
        let lines = plot.lines();
        assert!(lines[1].ends_with("┤         *"), "{lines:#?}");
        assert!(lines[4].contains("┤*"), "{lines:#?}");
        assert!(lines.last().unwrap().contains("* measured"));
    }
}
