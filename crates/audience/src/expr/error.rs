//! Errors of the expression language: each says where (byte offset, line and column in
//! characters), what was found and what was expected, and has a stable [`ExprError::code`].

use std::fmt;

use crate::schema::FieldKind;

/// A place in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// Byte offset from the start of the source.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column on that line, counted in characters (a CJK character is one column).
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `source` (clamped to its end).
    pub(crate) fn locate(source: &str, offset: usize) -> Self {
        let offset = offset.min(source.len());
        let before = source.get(..offset).unwrap_or(source);
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let line = before.matches('\n').count() + 1;
        let column = before.get(line_start..).map_or(0, |text| text.chars().count()) + 1;
        Self { offset, line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 1 {
            write!(f, "column {}", self.column)
        } else {
            write!(f, "line {}, column {}", self.line, self.column)
        }
    }
}

/// Why a segment expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    #[error("the expression is empty")]
    EmptyExpression { position: Position },
    #[error("unexpected character \"{found}\" at {position}")]
    UnexpectedCharacter { found: char, position: Position },
    #[error("unterminated string starting at {position}")]
    UnterminatedString { position: Position },
    #[error("invalid escape \"\\{found}\" at {position}; only \\\" and \\\\ are allowed")]
    InvalidEscape { found: char, position: Position },
    #[error("number {text} at {position} is too large")]
    NumberOutOfRange { text: String, position: Position },
    #[error("expected {expected} at {position}, found {found}")]
    UnexpectedToken { expected: String, found: String, position: Position },
    #[error("unknown field \"{name}\" at {position}")]
    UnknownField { name: String, position: Position },
    #[error("unknown tag \"{name}\" at {position}")]
    UnknownTag { name: String, position: Position },
    #[error("{kind} field \"{field}\" expects {expected} at {position}, found {found}")]
    TypeMismatch { field: String, kind: FieldKind, expected: String, found: String, position: Position },
    #[error("the expression nests deeper than {limit} levels at {position}")]
    TooDeep { limit: usize, position: Position },
}

impl ExprError {
    /// A stable snake_case code for clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyExpression { .. } => "empty_expression",
            Self::UnexpectedCharacter { .. } => "unexpected_character",
            Self::UnterminatedString { .. } => "unterminated_string",
            Self::InvalidEscape { .. } => "invalid_escape",
            Self::NumberOutOfRange { .. } => "number_out_of_range",
            Self::UnexpectedToken { .. } => "unexpected_token",
            Self::UnknownField { .. } => "unknown_field",
            Self::UnknownTag { .. } => "unknown_tag",
            Self::TypeMismatch { .. } => "type_mismatch",
            Self::TooDeep { .. } => "too_deep",
        }
    }

    /// Where the problem is.
    pub fn position(&self) -> Position {
        match self {
            Self::EmptyExpression { position }
            | Self::UnexpectedCharacter { position, .. }
            | Self::UnterminatedString { position }
            | Self::InvalidEscape { position, .. }
            | Self::NumberOutOfRange { position, .. }
            | Self::UnexpectedToken { position, .. }
            | Self::UnknownField { position, .. }
            | Self::UnknownTag { position, .. }
            | Self::TypeMismatch { position, .. }
            | Self::TooDeep { position, .. } => *position,
        }
    }
}
