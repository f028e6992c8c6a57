//! Source text → tokens. Whitespace separates tokens; identifiers and strings may hold any
//! Unicode letters (CJK included); keywords are case-insensitive.

use std::iter::Peekable;
use std::str::CharIndices;

use super::error::{Expected, ExprError, Found, Position};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Ident(String),
    Str(String),
    Number(u64),
    /// `#name`, the tag shorthand.
    Hash(String),
    LParen,
    RParen,
    Comma,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Not,
    In,
    Between,
}

/// A token and the byte range of its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

pub(crate) fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn keyword(word: &str) -> Option<TokenKind> {
    match word.to_ascii_lowercase().as_str() {
        "and" => Some(TokenKind::And),
        "or" => Some(TokenKind::Or),
        "not" => Some(TokenKind::Not),
        "in" => Some(TokenKind::In),
        "between" => Some(TokenKind::Between),
        _ => None,
    }
}

/// Whether `word` can be written without quotes as a value: an identifier that is not a keyword.
pub(crate) fn is_bare_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(is_ident_start) && chars.all(is_ident_char) && keyword(word).is_none()
}

/// Whether `name` can be written as `#name`.
pub(crate) fn is_tag_shorthand(name: &str) -> bool {
    !name.is_empty() && name.chars().all(is_ident_char)
}

type Chars<'a> = Peekable<CharIndices<'a>>;

/// Splits `source` into tokens, or reports the first lexical error.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, ExprError> {
    let mut tokens = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let kind = match c {
            c if c.is_whitespace() => continue,
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            ',' => TokenKind::Comma,
            '=' => {
                chars.next_if(|&(_, c)| c == '=');
                TokenKind::Eq
            }
            '!' => {
                if chars.next_if(|&(_, c)| c == '=').is_some() {
                    TokenKind::Ne
                } else {
                    TokenKind::Not
                }
            }
            '<' => {
                if chars.next_if(|&(_, c)| c == '=').is_some() {
                    TokenKind::Le
                } else {
                    TokenKind::Lt
                }
            }
            '>' => {
                if chars.next_if(|&(_, c)| c == '=').is_some() {
                    TokenKind::Ge
                } else {
                    TokenKind::Gt
                }
            }
            '&' | '|' => match chars.next_if(|&(_, next)| next == c) {
                Some(_) if c == '&' => TokenKind::And,
                Some(_) => TokenKind::Or,
                None => {
                    return Err(ExprError::UnexpectedCharacter { found: c, position: Position::locate(source, start) });
                }
            },
            '"' => TokenKind::Str(string(source, start, &mut chars)?),
            '#' => {
                let end = eat_while(source, &mut chars, is_ident_char);
                let name = source.get(start + 1..end).unwrap_or_default();
                if name.is_empty() {
                    let found = chars.peek().map_or(Found::End, |&(_, c)| Found::Text(format!("\"{c}\"")));
                    let position = Position::locate(source, end);
                    return Err(ExprError::UnexpectedToken { expected: Expected::TagNameAfterHash, found, position });
                }
                TokenKind::Hash(name.to_owned())
            }
            '0'..='9' => {
                let end = eat_while(source, &mut chars, |c| c.is_ascii_digit());
                let text = source.get(start..end).unwrap_or_default();
                let position = Position::locate(source, start);
                let number =
                    text.parse().map_err(|_| ExprError::NumberOutOfRange { text: text.to_owned(), position })?;
                TokenKind::Number(number)
            }
            c if is_ident_start(c) => {
                let end = eat_while(source, &mut chars, is_ident_char);
                let word = source.get(start..end).unwrap_or_default();
                keyword(word).unwrap_or_else(|| TokenKind::Ident(word.to_owned()))
            }
            other => {
                return Err(ExprError::UnexpectedCharacter { found: other, position: Position::locate(source, start) });
            }
        };
        let end = chars.peek().map_or(source.len(), |&(offset, _)| offset);
        tokens.push(Token { kind, start, end });
    }
    Ok(tokens)
}

/// Consumes characters while `accept` holds; returns the byte offset where it stopped.
fn eat_while(source: &str, chars: &mut Chars<'_>, accept: impl Fn(char) -> bool) -> usize {
    while chars.next_if(|&(_, c)| accept(c)).is_some() {}
    chars.peek().map_or(source.len(), |&(offset, _)| offset)
}

/// The rest of a string literal whose opening quote is at `start`.
fn string(source: &str, start: usize, chars: &mut Chars<'_>) -> Result<String, ExprError> {
    let unterminated = || ExprError::UnterminatedString { position: Position::locate(source, start) };
    let mut value = String::new();
    loop {
        match chars.next().ok_or_else(unterminated)? {
            (_, '"') => return Ok(value),
            (escape, '\\') => match chars.next().ok_or_else(unterminated)? {
                (_, c @ ('"' | '\\')) => value.push(c),
                (_, found) => {
                    return Err(ExprError::InvalidEscape { found, position: Position::locate(source, escape) });
                }
            },
            (_, c) => value.push(c),
        }
    }
}
