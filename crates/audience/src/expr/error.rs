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

/// What the parser was looking for where it stopped. Its `Display` is the English phrase;
/// the HTTP edge words each in the caller's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The start of an operand.
    Operand,
    /// What may follow a whole operand.
    AndOrEnd,
    /// `)` closing the `(` at this column.
    CloseParen { column: usize },
    /// The tag name inside `tag(…)`.
    TagNameInCall,
    /// The `)` of `tag(…)`.
    CloseTagCall,
    /// The tag name after `#`.
    TagNameAfterHash,
    /// A comparison operator after this field.
    Operator { field: String },
    /// The `(` after `field in`.
    ListOpen { field: String },
    /// `,` or `)` in a list of values.
    ListNext,
    /// The `AND` between the bounds of `field between … and …`.
    BoundsAnd { field: String },
    /// A number for this (numeric) field.
    NumberFor { field: String },
    /// A value for this (categorical) field.
    ValueFor { field: String },
    /// A number, where a name or string was given.
    Number,
    /// A name or a string, where a number was given.
    Name,
    /// An operator a field of this kind takes.
    OperatorOf(FieldKind),
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operand => write!(f, "a tag, a field, NOT or \"(\""),
            Self::AndOrEnd => write!(f, "AND, OR or the end of the expression"),
            Self::CloseParen { column } => write!(f, "\")\" to close the \"(\" from column {column}"),
            Self::TagNameInCall => write!(f, "a tag name after \"tag(\""),
            Self::CloseTagCall => write!(f, "\")\" after the tag name"),
            Self::TagNameAfterHash => write!(f, "a tag name after \"#\""),
            Self::Operator { field } => write!(f, "a comparison operator after \"{field}\""),
            Self::ListOpen { field } => write!(f, "\"(\" after \"{field} in\""),
            Self::ListNext => write!(f, "\",\" or \")\" in the list of values"),
            Self::BoundsAnd { field } => write!(f, "AND between the bounds of \"{field}\""),
            Self::NumberFor { field } => write!(f, "a number for \"{field}\""),
            Self::ValueFor { field } => write!(f, "a value for \"{field}\""),
            Self::Number => write!(f, "a number"),
            Self::Name => write!(f, "a name or a string"),
            Self::OperatorOf(FieldKind::Categorical) => write!(f, "=, != or in"),
            Self::OperatorOf(FieldKind::Numeric) => write!(f, "=, !=, <, <=, >, >= or between"),
        }
    }
}

/// What the parser found instead: the text as written (a string with its quotes, anything else
/// quoted), or the end of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    End,
    Text(String),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::End => write!(f, "end of input"),
            Self::Text(text) => write!(f, "{text}"),
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
    UnexpectedToken { expected: Expected, found: Found, position: Position },
    #[error("unknown field \"{name}\" at {position}")]
    UnknownField { name: String, position: Position },
    #[error("unknown tag \"{name}\" at {position}")]
    UnknownTag { name: String, position: Position },
    #[error("{kind} field \"{field}\" expects {expected} at {position}, found {found}")]
    TypeMismatch { field: String, kind: FieldKind, expected: Expected, found: Found, position: Position },
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
