//! Aligned text tables: the first column left-aligned (names), the others right-aligned (numbers).

/// A table built row by row, rendered to lines.
#[derive(Clone, Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    left: Vec<usize>,
}

impl Table {
    pub fn new<S: AsRef<str>>(headers: &[S]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.as_ref().to_string()).collect(),
            rows: Vec::new(),
            left: vec![0],
        }
    }

    /// Left-aligns `column` too (for text rather than numbers).
    pub fn left(mut self, column: usize) -> Self {
        self.left.push(column);
        self
    }

    /// Adds a row; missing cells are blank, extra cells widen the table.
    pub fn row<S: ToString>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(cells.into_iter().map(|cell| cell.to_string()).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The header line (left out when every header is empty), then one line per row, columns
    /// separated by two spaces.
    pub fn lines(&self) -> Vec<String> {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let cell = |row: &Vec<String>, i: usize| row.get(i).cloned().unwrap_or_default();
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                std::iter::once(&self.headers)
                    .chain(&self.rows)
                    .map(|row| cell(row, i).chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let render = |row: &Vec<String>| {
            let cells: Vec<String> = (0..columns)
                .map(|i| {
                    let text = cell(row, i);
                    let pad = " ".repeat(widths[i] - text.chars().count());
                    if self.left.contains(&i) {
                        format!("{text}{pad}")
                    } else {
                        format!("{pad}{text}")
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        };
        let headers = self.headers.iter().any(|h| !h.is_empty()).then_some(&self.headers);
        headers.into_iter().chain(&self.rows).map(render).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_character_not_byte() {
        let mut table = Table::new(&["variant", "time"]);
        table.row(["sequential", "1.20 s"]).row(["pool", "3.42 µs"]);
        assert_eq!(
            table.lines(),
            vec!["variant        time", "sequential   1.20 s", "pool        3.42 µs"]
        );
    }

    #[test]
    fn empty_headers_are_left_out_and_columns_can_be_left_aligned() {
        let mut table = Table::new(&["", ""]).left(1);
        table.row(["cores", "2"]).row(["model", "AMD EPYC"]);
        assert_eq!(table.lines(), vec!["cores  2", "model  AMD EPYC"]);
    }
}
