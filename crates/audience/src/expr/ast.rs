//! The segment AST and its printer. [`Expr`]'s `Display` writes valid syntax with the fewest
//! parentheses, so printing and parsing back gives the same tree.

use std::fmt;

use super::lexer::{is_bare_word, is_tag_shorthand};
use crate::bsi::CompareOp;

/// An equality test on a categorical field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CategoryOp {
    Eq,
    Ne,
}

impl fmt::Display for CategoryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eq => "=",
            Self::Ne => "!=",
        })
    }
}

/// A segment: which members it selects. The parser builds `In` with at least one value and
/// `And`/`Or` with at least two operands; an empty `And` selects everyone, an empty `Or` no one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// Members carrying the tag.
    Tag(String),
    /// `field = value` or `field != value` (the latter only among members with a value).
    Category {
        field: String,
        op: CategoryOp,
        value: String,
    },
    /// `field in (value, …)`.
    In {
        field: String,
        values: Vec<String>,
    },
    /// `field <op> value` on a numeric field.
    Number {
        field: String,
        op: CompareOp,
        value: u64,
    },
    /// `field between low and high`, inclusive.
    Between {
        field: String,
        low: u64,
        high: u64,
    },
    /// Everyone in the universe but the operand's members.
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// A value written bare when it reads back as an identifier, else quoted.
struct Value<'a>(&'a str);

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_bare_word(self.0) {
            return f.write_str(self.0);
        }
        f.write_str("\"")?;
        for c in self.0.chars() {
            if matches!(c, '"' | '\\') {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

/// Writes `expr`, in parentheses when `parenthesize`.
fn operand(f: &mut fmt::Formatter<'_>, expr: &Expr, parenthesize: bool) -> fmt::Result {
    if parenthesize { write!(f, "({expr})") } else { write!(f, "{expr}") }
}

fn joined(
    f: &mut fmt::Formatter<'_>,
    operands: &[Expr],
    keyword: &str,
    needs_parens: fn(&Expr) -> bool,
) -> fmt::Result {
    for (position, expr) in operands.iter().enumerate() {
        if position > 0 {
            f.write_str(keyword)?;
        }
        operand(f, expr, needs_parens(expr))?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(name) if is_tag_shorthand(name) => write!(f, "#{name}"),
            Self::Tag(name) => write!(f, "tag({})", Value(name)),
            Self::Category { field, op, value } => write!(f, "{field} {op} {}", Value(value)),
            Self::In { field, values } => {
                write!(f, "{field} in (")?;
                for (position, value) in values.iter().enumerate() {
                    let separator = if position > 0 { ", " } else { "" };
                    write!(f, "{separator}{}", Value(value))?;
                }
                f.write_str(")")
            }
            Self::Number { field, op, value } => write!(f, "{field} {op} {value}"),
            Self::Between { field, low, high } => write!(f, "{field} between {low} and {high}"),
            Self::Not(inner) => {
                f.write_str("NOT ")?;
                operand(f, inner, matches!(**inner, Self::And(_) | Self::Or(_)))
            }
            // A nested AND is parenthesized too, so that it reads back as the same nested node.
            Self::And(operands) => joined(f, operands, " AND ", |expr| matches!(expr, Self::And(_) | Self::Or(_))),
            Self::Or(operands) => joined(f, operands, " OR ", |expr| matches!(expr, Self::Or(_))),
        }
    }
}
