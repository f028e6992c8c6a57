//! Table service (桌台): the label of the table an in-store table order is for, which table
//! channels take one, and what a table's open eat-first bill (预结单) shows the cashier.
//!
//! A label is what is painted on the table ("A3", "12", "露台2"): one short line, compared
//! without regard to the case of its Latin letters, so "a3" and "A3" are one table, nor to the
//! full width a Chinese input method types them in ("Ａ３" is A3); invisible characters (a
//! zero-width space, a direction override) are refused, so no label only looks like another. An eat-first
//! bill must name its table (the bill is found by it, and two open bills on one table are
//! refused); a pay-first table order may; every other channel takes none.

use crate::Expected;
use crate::{
    DomainError, DomainResult,
    order::{Order, OrderChannel, OrderStatus},
};

/// The longest table label, in characters.
pub const MAX_TABLE_LABEL: usize = 16;

/// A table's label: trimmed, 1..=16 characters on one line, Latin letters in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableLabel(String);

impl TableLabel {
    pub fn parse(raw: &str) -> DomainResult<TableLabel> {
        let folded: String = raw.chars().map(fold_width).collect();
        let label = crate::text::required("table", &folded, MAX_TABLE_LABEL)?;
        if label.contains(['\t', '\n', '\r']) || label.chars().any(is_invisible) {
            return Err(DomainError::Malformed { field: "table", expected: Expected::TableLabel });
        }
        Ok(TableLabel(label.to_ascii_uppercase()))
    }

    /// A label as it was stored, read back as it is: labels written before full width was
    /// folded and invisible characters refused stay readable.
    pub fn stored(raw: &str) -> TableLabel {
        TableLabel(raw.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A full-width form of an ASCII character (U+FF01..=U+FF5E) as that character, the ideographic
/// space as a space; any other character as it is.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Format characters that print as nothing but make a label another (zero-width spaces and
/// joiners, direction marks and overrides, the byte-order mark, soft hyphens).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
        | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}')
}

impl std::fmt::Display for TableLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether orders of a channel name a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableRule {
    /// An eat-first bill: the bill is the table's until settled or voided.
    Required,
    /// Pay first at the table: the label tells the server where to bring the order.
    Optional,
    /// Not a table order.
    Refused,
}

impl TableRule {
    pub fn of(channel: OrderChannel) -> TableRule {
        match channel {
            OrderChannel::TableEatFirst => TableRule::Required,
            OrderChannel::TablePayFirst => TableRule::Optional,
            _ => TableRule::Refused,
        }
    }
}

/// Why an order's table does not fit its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("an eat-first bill names its table")]
    Required,
    #[error("only table orders name a table")]
    NotForChannel,
}

/// The table an order of `channel` is for, checked against the channel's rule.
pub fn check_table(channel: OrderChannel, table: Option<TableLabel>) -> Result<Option<TableLabel>, TableError> {
    match (TableRule::of(channel), table) {
        (TableRule::Required, None) => Err(TableError::Required),
        (TableRule::Refused, Some(_)) => Err(TableError::NotForChannel),
        (_, table) => Ok(table),
    }
}

/// Whether `order` is an open eat-first bill: it holds its table until settled or voided.
pub fn is_open_bill(order: &Order) -> bool {
    order.channel == OrderChannel::TableEatFirst && order.status == OrderStatus::Created
}

/// How many items a bill lists, as the cashier counts them: units of what is sold by the unit,
/// and one for each line sold by weight (its quantity is grams).
pub fn item_count(order: &Order) -> i64 {
    order
        .lines
        .iter()
        .map(|l| if l.breakdown.sold_by_weight { 1 } else { l.breakdown.quantity })
        .fold(0i64, i64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_short_line_and_ignore_latin_case() {
        assert_eq!(TableLabel::parse("  a3 ").unwrap().as_str(), "A3");
        assert_eq!(TableLabel::parse("A3").unwrap(), TableLabel::parse("a3").unwrap());
        assert_eq!(TableLabel::parse("露台2").unwrap().as_str(), "露台2");
        assert_eq!(TableLabel::parse("1234567890abcdef").unwrap().as_str(), "1234567890ABCDEF");
        assert_eq!(TableLabel::parse("1234567890abcdefg"), Err(DomainError::TooLong { field: "table", max: 16 }));
        assert_eq!(TableLabel::parse("   "), Err(DomainError::Required { field: "table" }));
        assert_eq!(TableLabel::parse("A\u{0}3"), Err(DomainError::InvalidText { field: "table" }));
        assert!(matches!(TableLabel::parse("A\n3"), Err(DomainError::Malformed { field: "table", .. })));
        assert!(matches!(TableLabel::parse("A\t3"), Err(DomainError::Malformed { field: "table", .. })));
    }

    #[test]
    fn labels_typed_full_width_are_the_same_table_and_invisible_characters_are_refused() {
        // What a Chinese input method in full-width mode types, with an ideographic space.
        assert_eq!(TableLabel::parse("Ａ３").unwrap().as_str(), "A3");
        assert_eq!(TableLabel::parse("\u{3000}ａ３\u{3000}").unwrap().as_str(), "A3");
        assert_eq!(TableLabel::parse("包间１２").unwrap().as_str(), "包间12");
        assert_eq!(TableLabel::parse("露台2").unwrap().as_str(), "露台2");
        for raw in ["A3\u{200B}", "\u{202E}A3", "A\u{2060}3", "\u{FEFF}A3", "A\u{00AD}3"] {
            assert!(matches!(TableLabel::parse(raw), Err(DomainError::Malformed { field: "table", .. })), "{raw:?}");
        }
        // Stored labels read back as they were written.
        assert_eq!(TableLabel::stored("Ａ３\u{200B}").as_str(), "Ａ３\u{200B}");
    }

    #[test]
    fn each_channel_has_its_table_rule() {
        let a3 = || Some(TableLabel::parse("A3").unwrap());
        assert_eq!(check_table(OrderChannel::TableEatFirst, None), Err(TableError::Required));
        assert_eq!(check_table(OrderChannel::TableEatFirst, a3()), Ok(a3()));
        assert_eq!(check_table(OrderChannel::TablePayFirst, None), Ok(None));
        assert_eq!(check_table(OrderChannel::TablePayFirst, a3()), Ok(a3()));
        for channel in OrderChannel::ALL.iter().filter(|c| TableRule::of(**c) == TableRule::Refused) {
            assert_eq!(check_table(*channel, a3()), Err(TableError::NotForChannel), "{channel:?}");
            assert_eq!(check_table(*channel, None), Ok(None), "{channel:?}");
        }
        assert_eq!(OrderChannel::ALL.iter().filter(|c| TableRule::of(**c) == TableRule::Refused).count(), 5);
    }
}
