//! Tokens → [`Expr`] by recursive descent, resolving every name against a [`Schema`].

use std::iter::Peekable;
use std::vec::IntoIter;

use super::ast::{CategoryOp, Expr};
use super::error::{Expected, ExprError, Found, Position};
use super::lexer::{Token, TokenKind, tokenize};
use crate::bsi::CompareOp;
use crate::schema::{FieldKind, Schema};

/// How deep parentheses and `NOT` may nest; deeper input is rejected rather than overflowing the stack.
pub const MAX_DEPTH: usize = 64;

/// Parses a segment expression and resolves its tags and fields against `schema`.
pub fn parse(source: &str, schema: &Schema) -> Result<Expr, ExprError> {
    let tokens = tokenize(source)?;
    if tokens.is_empty() {
        return Err(ExprError::EmptyExpression { position: Position::locate(source, 0) });
    }
    let mut parser = Parser { source, schema, tokens: tokens.into_iter().peekable(), depth: 0 };
    let expr = parser.or_expr()?;
    match parser.tokens.next() {
        None => Ok(expr),
        found => Err(parser.unexpected(Expected::AndOrEnd, found.as_ref())),
    }
}

struct Parser<'a> {
    source: &'a str,
    schema: &'a Schema,
    tokens: Peekable<IntoIter<Token>>,
    depth: usize,
}

/// `operands` as one node: the operand itself when there is only one.
fn collapse(mut operands: Vec<Expr>, combine: fn(Vec<Expr>) -> Expr) -> Expr {
    match operands.pop() {
        Some(only) if operands.is_empty() => only,
        Some(last) => {
            operands.push(last);
            combine(operands)
        }
        None => combine(operands),
    }
}

impl Parser<'_> {
    fn or_expr(&mut self) -> Result<Expr, ExprError> {
        let mut operands = vec![self.and_expr()?];
        while self.tokens.next_if(|token| token.kind == TokenKind::Or).is_some() {
            operands.push(self.and_expr()?);
        }
        Ok(collapse(operands, Expr::Or))
    }

    fn and_expr(&mut self) -> Result<Expr, ExprError> {
        let mut operands = vec![self.unary()?];
        while self.tokens.next_if(|token| token.kind == TokenKind::And).is_some() {
            operands.push(self.unary()?);
        }
        Ok(collapse(operands, Expr::And))
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        let Some(not) = self.tokens.next_if(|token| token.kind == TokenKind::Not) else {
            return self.primary();
        };
        self.enter(not.start)?;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(Expr::Not(Box::new(operand)))
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let Some(token) = self.tokens.next() else {
            return Err(self.unexpected(Expected::Operand, None));
        };
        match token.kind {
            TokenKind::LParen => {
                self.enter(token.start)?;
                let inner = self.or_expr()?;
                let column = Position::locate(self.source, token.start).column;
                self.expect(&TokenKind::RParen, Expected::CloseParen { column })?;
                self.depth -= 1;
                Ok(inner)
            }
            TokenKind::Hash(name) => self.tag(name, token.start),
            TokenKind::Ident(ref word)
                if word.eq_ignore_ascii_case("tag")
                    && self.tokens.peek().is_some_and(|next| next.kind == TokenKind::LParen) =>
            {
                self.tokens.next();
                let name = self.tokens.next();
                let (name, start) = match name {
                    Some(Token { kind: TokenKind::Str(name) | TokenKind::Ident(name), start, .. }) => (name, start),
                    other => return Err(self.unexpected(Expected::TagNameInCall, other.as_ref())),
                };
                self.expect(&TokenKind::RParen, Expected::CloseTagCall)?;
                self.tag(name, start)
            }
            TokenKind::Ident(field) => self.comparison(field, token.start),
            _ => Err(self.unexpected(Expected::Operand, Some(&token))),
        }
    }

    fn tag(&self, name: String, start: usize) -> Result<Expr, ExprError> {
        if self.schema.has_tag(&name) {
            Ok(Expr::Tag(name))
        } else {
            Err(ExprError::UnknownTag { name, position: self.locate(start) })
        }
    }

    fn comparison(&mut self, field: String, start: usize) -> Result<Expr, ExprError> {
        let Some(kind) = self.schema.field_kind(&field) else {
            return Err(ExprError::UnknownField { name: field, position: self.locate(start) });
        };
        let operator = self.tokens.next();
        let Some(token) = operator else {
            return Err(self.unexpected(Expected::Operator { field }, None));
        };
        match (&token.kind, kind, compare_op(&token.kind)) {
            (TokenKind::In, FieldKind::Categorical, _) => {
                self.expect(&TokenKind::LParen, Expected::ListOpen { field: field.clone() })?;
                let mut values = vec![self.category_value(&field)?];
                while self.tokens.next_if(|token| token.kind == TokenKind::Comma).is_some() {
                    values.push(self.category_value(&field)?);
                }
                self.expect(&TokenKind::RParen, Expected::ListNext)?;
                Ok(Expr::In { field, values })
            }
            (TokenKind::Between, FieldKind::Numeric, _) => {
                let low = self.number(&field)?;
                self.expect(&TokenKind::And, Expected::BoundsAnd { field: field.clone() })?;
                let high = self.number(&field)?;
                Ok(Expr::Between { field, low, high })
            }
            (_, FieldKind::Categorical, Some(op @ (CompareOp::Eq | CompareOp::Ne))) => {
                let op = if op == CompareOp::Eq { CategoryOp::Eq } else { CategoryOp::Ne };
                let value = self.category_value(&field)?;
                Ok(Expr::Category { field, op, value })
            }
            (_, FieldKind::Numeric, Some(op)) => {
                let value = self.number(&field)?;
                Ok(Expr::Number { field, op, value })
            }
            (TokenKind::In | TokenKind::Between, _, _) | (_, _, Some(_)) => {
                Err(self.mismatch(&field, kind, Expected::OperatorOf(kind), Some(&token)))
            }
            _ => Err(self.unexpected(Expected::Operator { field }, Some(&token))),
        }
    }

    fn number(&mut self, field: &str) -> Result<u64, ExprError> {
        match self.tokens.next() {
            Some(Token { kind: TokenKind::Number(number), .. }) => Ok(number),
            Some(token @ Token { kind: TokenKind::Str(_) | TokenKind::Ident(_), .. }) => {
                Err(self.mismatch(field, FieldKind::Numeric, Expected::Number, Some(&token)))
            }
            other => Err(self.unexpected(Expected::NumberFor { field: field.to_owned() }, other.as_ref())),
        }
    }

    fn category_value(&mut self, field: &str) -> Result<String, ExprError> {
        match self.tokens.next() {
            Some(Token { kind: TokenKind::Str(value) | TokenKind::Ident(value), .. }) => Ok(value),
            Some(token @ Token { kind: TokenKind::Number(_), .. }) => {
                Err(self.mismatch(field, FieldKind::Categorical, Expected::Name, Some(&token)))
            }
            other => Err(self.unexpected(Expected::ValueFor { field: field.to_owned() }, other.as_ref())),
        }
    }

    fn expect(&mut self, kind: &TokenKind, expected: Expected) -> Result<(), ExprError> {
        match self.tokens.next() {
            Some(token) if token.kind == *kind => Ok(()),
            other => Err(self.unexpected(expected, other.as_ref())),
        }
    }

    fn enter(&mut self, start: usize) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::TooDeep { limit: MAX_DEPTH, position: self.locate(start) });
        }
        Ok(())
    }

    fn locate(&self, offset: usize) -> Position {
        Position::locate(self.source, offset)
    }

    /// How a token reads in an error message, and where it is.
    fn found(&self, token: Option<&Token>) -> (Found, Position) {
        match token {
            None => (Found::End, self.locate(self.source.len())),
            Some(token) => {
                let text = self.source.get(token.start..token.end).unwrap_or_default();
                let found = Found::Text(if matches!(token.kind, TokenKind::Str(_)) {
                    text.to_owned()
                } else {
                    format!("\"{text}\"")
                });
                (found, self.locate(token.start))
            }
        }
    }

    fn unexpected(&self, expected: Expected, token: Option<&Token>) -> ExprError {
        let (found, position) = self.found(token);
        ExprError::UnexpectedToken { expected, found, position }
    }

    fn mismatch(&self, field: &str, kind: FieldKind, expected: Expected, token: Option<&Token>) -> ExprError {
        let (found, position) = self.found(token);
        ExprError::TypeMismatch { field: field.to_owned(), kind, expected, found, position }
    }
}

fn compare_op(kind: &TokenKind) -> Option<CompareOp> {
    match kind {
        TokenKind::Eq => Some(CompareOp::Eq),
        TokenKind::Ne => Some(CompareOp::Ne),
        TokenKind::Lt => Some(CompareOp::Lt),
        TokenKind::Le => Some(CompareOp::Le),
        TokenKind::Gt => Some(CompareOp::Gt),
        TokenKind::Ge => Some(CompareOp::Ge),
        _ => None,
    }
}
