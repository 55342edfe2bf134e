//! The screen's fixed rows: what the view lays out around the list, and so
//! what the model subtracts from the terminal's height to know how many
//! alerts make a page. Both read these numbers from here, so a row added to
//! the header moves the paging with it.
//!
//! ```text
//! header    HEADER_ROWS      name · server · sites · clock, link state
//! counts    COUNTS_ROWS      one badge per severity
//! body      BODY_TITLE_ROWS  "ALERTS 12" or "SITES 6"
//!           HEADING_ROWS     column headings
//!           the rest         the list's rows: one page
//! footer    FOOTER_ROWS      key hints
//! ```

/// The header: who and where, then the link's state.
pub const HEADER_ROWS: u16 = 2;

/// The counts row.
pub const COUNTS_ROWS: u16 = 1;

/// The body's title line, above the table.
pub const BODY_TITLE_ROWS: u16 = 1;

/// The table's column headings.
pub const HEADING_ROWS: u16 = 1;

/// The key hints at the bottom.
pub const FOOTER_ROWS: u16 = 1;

/// Rows that are not list rows.
pub const CHROME_ROWS: u16 =
    HEADER_ROWS + COUNTS_ROWS + BODY_TITLE_ROWS + HEADING_ROWS + FOOTER_ROWS;

/// List rows on one page of a terminal `height` rows tall; at least one, so
/// that paging always moves.
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(CHROME_ROWS)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_the_height_less_the_chrome_and_never_empty() {
        assert_eq!(CHROME_ROWS, 6);
        assert_eq!(page_rows(24), 18);
        assert_eq!(page_rows(7), 1);
        assert_eq!(page_rows(3), 1);
        assert_eq!(page_rows(0), 1);
    }
}
