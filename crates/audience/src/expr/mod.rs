//! The segment expression language: source text → tokens → [`Expr`], resolved against a
//! [`Schema`](crate::Schema) so that a parsed expression only names known tags and fields.
//!
//! # Grammar (EBNF)
//!
//! ```text
//! expression  = or_expr ;
//! or_expr     = and_expr , { OR , and_expr } ;
//! and_expr    = unary , { AND , unary } ;
//! unary       = NOT , unary | primary ;
//! primary     = "(" , expression , ")" | tag | comparison ;
//! tag         = "#" , tag_name | "tag" , "(" , ( string | identifier ) , ")" ;
//! comparison  = field , ( compare_op , value
//!                       | IN , "(" , value , { "," , value } , ")"
//!                       | BETWEEN , number , AND , number ) ;
//! compare_op  = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" ;
//! value       = number | string | identifier ;
//! field       = identifier ;
//!
//! OR          = "or" | "||" ;      (* keywords are case-insensitive *)
//! AND         = "and" | "&&" ;
//! NOT         = "not" | "!" ;
//! IN          = "in" ;
//! BETWEEN     = "between" ;
//! identifier  = ident_start , { ident_char } ;   (* but not a keyword *)
//! ident_start = letter | "_" ;                   (* any Unicode letter, CJK included *)
//! ident_char  = ident_start | digit ;            (* any Unicode alphanumeric *)
//! tag_name    = ident_char , { ident_char } ;
//! number      = ascii_digit , { ascii_digit } ;  (* fits in u64 *)
//! string      = '"' , { any_char - ( '"' | "\" ) | "\" , ( '"' | "\" ) } , '"' ;
//! ```
//!
//! Precedence is `NOT` > `AND` > `OR`; `AND` and `OR` chains become one n-ary node. Categorical
//! fields take `=`, `!=` and `in` with names or strings; numeric fields take the ordered operators
//! and `between` (inclusive) with numbers. Members without a value match no comparison.
//! Nesting (parentheses and `NOT`) is limited to [`MAX_DEPTH`] levels.

mod ast;
mod days_ago;
mod error;
mod lexer;
mod parser;

pub use ast::{CategoryOp, Expr};
pub use error::{Expected, ExprError, Found, Position};
pub use parser::{MAX_DEPTH, parse};

#[cfg(test)]
mod tests;
