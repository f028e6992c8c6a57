//! `named_enum!`: an enum whose variants have stable snake_case names, as the API and the
//! database spell them, with `ALL`, `as_str` and `parse` (an unknown name is
//! `DomainError::UnknownValue` for the given field).

macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $field:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(raw: &str) -> $crate::DomainResult<$name> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == raw)
                    .ok_or_else(|| $crate::DomainError::UnknownValue { field: $field, value: raw.to_owned() })
            }
        }
    };
}
