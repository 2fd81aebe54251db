//! A small column formatter: left-aligned columns two spaces apart, `-` for an empty cell.
//!
//! Widths count characters, not terminal cells, so East Asian wide characters misalign a
//! column; the values shown (IDs, versions, statuses, device names) are mostly ASCII.

use std::fmt;

/// Rows of text cells under optional headers.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<const N: usize>(headers: [&str; N]) -> Table {
        Table {
            headers: Some(headers.iter().map(|h| (*h).to_owned()).collect()),
            rows: Vec::new(),
        }
    }

    /// A table without a header line (key/value listings).
    pub fn without_header() -> Table {
        Table::default()
    }

    /// Appends a row.
    pub fn row(&mut self, cells: impl IntoIterator<Item = String>) {
        self.rows
            .push(cells.into_iter().map(|c| printable(&c)).collect());
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = Vec::new();
        for line in self.headers.iter().chain(&self.rows) {
            for (i, cell) in line.iter().enumerate() {
                let width = shown(cell).chars().count();
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(width),
                    None => widths.push(width),
                }
            }
        }
        widths
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths = self.widths();
        for line in self.headers.iter().chain(&self.rows) {
            let mut text = String::new();
            for (i, cell) in line.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                let width = widths.get(i).copied().unwrap_or(0);
                text.push_str(&format!("{:<width$}", shown(cell)));
            }
            writeln!(f, "{}", text.trim_end())?;
        }
        Ok(())
    }
}

fn shown(cell: &str) -> &str {
    if cell.is_empty() {
        "-"
    } else {
        cell
    }
}

/// The cell with control characters replaced: device names and results come from devices, and
/// an escape sequence in one must not drive the administrator's terminal.
fn printable(cell: &str) -> String {
    cell.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_and_trailing_space_trimmed() {
        let mut table = Table::new(["ID", "STATUS", "OS"]);
        table.row(["UDID-1".into(), "enrolled".into(), "17.4".into()]);
        table.row(["A-LONGER-ID".into(), "".into(), "".into()]);
        assert_eq!(
            table.to_string(),
            "ID           STATUS    OS\n\
             UDID-1       enrolled  17.4\n\
             A-LONGER-ID  -         -\n"
        );
    }

    #[test]
    fn a_headerless_table_is_key_value() {
        let mut table = Table::without_header();
        table.row(["OSVersion".into(), "11.3.1".into()]);
        table.row(["DeviceName".into(), "iPad".into()]);
        assert_eq!(table.to_string(), "OSVersion   11.3.1\nDeviceName  iPad\n");
        assert!(Table::without_header().to_string().is_empty());
    }

    #[test]
    fn control_characters_are_neutralised() {
        let mut table = Table::without_header();
        table.row(["name".into(), "evil\u{1b}[2Jname\nx".into()]);
        let text = table.to_string();
        assert!(
            !text.contains('\u{1b}') && text.lines().count() == 1,
            "{text:?}"
        );
    }
}
