//! The domain's one error type. Every variant has a stable code; the web layer's error table
//! turns it into an HTTP status and a message in the caller's language.

/// A rule of the domain that an input broke. `field` names the input (as the API spells it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains a control character")]
    InvalidText { field: &'static str },
    #[error("{field} is malformed: {expected}")]
    Malformed { field: &'static str, expected: &'static str },
    #[error("{field} must be between {min} and {max}")]
    OutOfRange { field: &'static str, min: i64, max: i64 },
    #[error("{field} must not be negative")]
    NegativeMoney { field: &'static str },
    #[error("{field} overflows the money range")]
    MoneyOverflow { field: &'static str },
    #[error("{field} is not a valid coordinate pair")]
    InvalidCoordinates { field: &'static str },
    #[error("{field}: unknown value {value:?}")]
    UnknownValue { field: &'static str, value: String },
    #[error("a {role} cannot have scope {scope}")]
    RoleScopeMismatch { role: &'static str, scope: &'static str },
    #[error("a category cannot be its own ancestor")]
    CategoryCycle,
}

impl DomainError {
    /// The stable, snake_case code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Required { .. } => "required",
            DomainError::TooLong { .. } => "too_long",
            DomainError::InvalidText { .. } => "invalid_text",
            DomainError::Malformed { .. } => "malformed",
            DomainError::OutOfRange { .. } => "out_of_range",
            DomainError::NegativeMoney { .. } => "negative_money",
            DomainError::MoneyOverflow { .. } => "money_overflow",
            DomainError::InvalidCoordinates { .. } => "invalid_coordinates",
            DomainError::UnknownValue { .. } => "unknown_value",
            DomainError::RoleScopeMismatch { .. } => "role_scope_mismatch",
            DomainError::CategoryCycle => "category_cycle",
        }
    }

    /// The input field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::Required { field }
            | DomainError::TooLong { field, .. }
            | DomainError::InvalidText { field }
            | DomainError::Malformed { field, .. }
            | DomainError::OutOfRange { field, .. }
            | DomainError::NegativeMoney { field }
            | DomainError::MoneyOverflow { field }
            | DomainError::InvalidCoordinates { field }
            | DomainError::UnknownValue { field, .. } => Some(field),
            DomainError::RoleScopeMismatch { .. } => Some("scope"),
            DomainError::CategoryCycle => Some("parent_id"),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
