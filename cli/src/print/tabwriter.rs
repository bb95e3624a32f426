//! Go's `text/tabwriter`, which kubectl pipes both `get` tables and `describe` output through.
//!
//! Text is lines of tab-terminated cells; the text after a line's last tab is not part of any
//! column. A column's width is set per *column block*: a run of consecutive lines that all have
//! a cell in that column. So a line without tabs (like `Containers:` in describe output) starts
//! fresh alignment below it, which is what gives `describe` its shape. Widths count characters.
//!
//! One deliberate difference: trailing spaces are trimmed from every line (Go pads a cell even
//! when nothing follows it on the line).

/// Aligns tab-separated text into columns.
#[derive(Debug, Clone)]
pub struct TabWriter {
    min_width: usize,
    padding: usize,
    /// With RememberWidths (kubectl's `get --watch`), columns never shrink between calls.
    remembered: Option<Vec<usize>>,
}

impl TabWriter {
    /// Every column is at least `min_width` wide, including `padding` spaces after the text.
    pub fn new(min_width: usize, padding: usize) -> Self {
        TabWriter { min_width, padding, remembered: None }
    }

    /// Keeps column widths across [`format`](Self::format) calls, growing them as needed.
    pub fn remembering_widths(mut self) -> Self {
        self.remembered = Some(Vec::new());
        self
    }

    /// Aligns `text`; a final line without a newline is output without one.
    pub fn format(&mut self, text: &str) -> String {
        if text.is_empty() {
            return String::new();
        }
        let mut raw: Vec<&str> = text.split('\n').collect();
        let ends_with_newline = raw.last() == Some(&"");
        if ends_with_newline {
            raw.pop();
        }
        let lines: Vec<Vec<&str>> = raw.iter().map(|line| line.split('\t').collect()).collect();
        let mut block = Block { writer: self, lines: &lines, widths: Vec::new(), out: Vec::new() };
        block.format(0, lines.len());
        let mut out = block.out.join("\n");
        if ends_with_newline {
            out.push('\n');
        }
        out
    }
}

/// The state of one `format` call: Go's recursive column-block algorithm.
struct Block<'a> {
    writer: &'a mut TabWriter,
    lines: &'a [Vec<&'a str>],
    /// Widths of the columns to the left of the one being laid out.
    widths: Vec<usize>,
    out: Vec<String>,
}

impl Block<'_> {
    fn has_cell(&self, line: usize, column: usize) -> bool {
        // The last cell of a line is not tab-terminated, so it belongs to no column.
        column + 1 < self.lines[line].len()
    }

    fn format(&mut self, mut line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if !self.has_cell(this, column) {
                this += 1;
                continue;
            }
            self.write_lines(line0, this);
            line0 = this;
            let mut width = self.writer.min_width;
            while this < line1 && self.has_cell(this, column) {
                width = width.max(text_width(self.lines[this][column]) + self.writer.padding);
                this += 1;
            }
            if let Some(remembered) = &mut self.writer.remembered {
                if remembered.len() <= column {
                    remembered.resize(column + 1, 0);
                }
                width = width.max(remembered[column]);
                remembered[column] = width;
            }
            self.widths.push(width);
            self.format(line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(line0, line1);
    }

    fn write_lines(&mut self, line0: usize, line1: usize) {
        for line in &self.lines[line0..line1] {
            let mut text = String::new();
            for (j, cell) in line.iter().enumerate() {
                text.push_str(cell);
                if let Some(&width) = self.widths.get(j) {
                    let pad = width.saturating_sub(text_width(cell));
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            self.out.push(text.trim_end_matches(' ').to_string());
        }
    }
}

fn text_width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_with_padding() {
        let out = TabWriter::new(0, 2).format("a\tbbb\tc\nlonger\tb\tc\n");
        assert_eq!(out, "a       bbb  c\nlonger  b    c\n");
    }

    #[test]
    fn min_width_applies_to_short_columns() {
        let out = TabWriter::new(6, 3).format("A\tB\nx\ty\n");
        assert_eq!(out, "A     B\nx     y\n");
    }

    #[test]
    fn a_line_without_tabs_ends_the_column_block() {
        let out = TabWriter::new(0, 2).format("Name:\tx\nContainers:\n  Image:\tnginx\n  Restart Count:\t0\n");
        assert_eq!(out, "Name:  x\nContainers:\n  Image:          nginx\n  Restart Count:  0\n");
    }

    #[test]
    fn lines_with_more_cells_form_their_own_block() {
        let out = TabWriter::new(0, 2).format("Type:\tClusterIP\nPort:\thttp\t80/TCP\nSession Affinity:\tNone\n");
        assert_eq!(out, "Type:              ClusterIP\nPort:              http  80/TCP\nSession Affinity:  None\n");
    }

    #[test]
    fn trailing_spaces_are_trimmed() {
        let out = TabWriter::new(0, 3).format("a\t\nbb\tc\n");
        assert_eq!(out, "a\nbb   c\n");
    }

    #[test]
    fn keeps_a_missing_final_newline() {
        assert_eq!(TabWriter::new(0, 1).format("a\tb"), "a b");
        assert_eq!(TabWriter::new(0, 1).format(""), "");
    }

    #[test]
    fn remembered_widths_never_shrink() {
        let mut w = TabWriter::new(0, 3).remembering_widths();
        assert_eq!(w.format("NAME\tAGE\nlong-name\t1s\n"), "NAME        AGE\nlong-name   1s\n");
        assert_eq!(w.format("x\t2s\n"), "x           2s\n");
        assert_eq!(w.format("much-longer-name\t3s\n"), "much-longer-name   3s\n");
    }
}
