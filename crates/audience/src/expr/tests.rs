//! Parser tests, data-driven through `check` (the tree as an s-expression) and `check_error`
//! (the error code and the whole message).

use super::*;
use crate::schema::{FieldKind, Schema};

fn schema() -> Schema {
    let schema = ["爱买生鲜", "vip", "new", "and", "has space"].into_iter().fold(Schema::default(), Schema::with_tag);
    let categorical = ["lifecycle", "tier", "home_store", "region", "门店"];
    let numeric = ["points", "last_order_days", "spend_365d", "会员积分"];
    let schema = categorical.into_iter().fold(schema, |schema, field| schema.with_field(field, FieldKind::Categorical));
    numeric.into_iter().fold(schema, |schema, field| schema.with_field(field, FieldKind::Numeric))
}

/// The tree as an s-expression, so a test shows its structure.
fn sexp(expr: &Expr) -> String {
    let list = |head: &str, operands: &[Expr]| {
        let operands: Vec<String> = operands.iter().map(sexp).collect();
        format!("({head} {})", operands.join(" "))
    };
    match expr {
        Expr::Tag(name) => format!("#{name}"),
        Expr::Category { field, op, value } => format!("({op} {field} {value})"),
        Expr::In { field, values } => format!("(in {field} {})", values.join(" ")),
        Expr::Number { field, op, value } => format!("({op} {field} {value})"),
        Expr::Between { field, low, high } => format!("(between {field} {low} {high})"),
        Expr::Not(inner) => format!("(not {})", sexp(inner)),
        Expr::And(operands) => list("and", operands),
        Expr::Or(operands) => list("or", operands),
    }
}

fn check(input: &str, expected: &str) {
    match parse(input, &schema()) {
        Ok(expr) => {
            assert_eq!(sexp(&expr), expected, "{input}");
            assert_eq!(parse(&expr.to_string(), &schema()), Ok(expr), "{input} printed back");
        }
        Err(error) => panic!("{input}: {error}"),
    }
}

fn check_error(input: &str, code: &str, message: &str) {
    match parse(input, &schema()) {
        Ok(expr) => panic!("{input} parsed as {}", sexp(&expr)),
        Err(error) => assert_eq!((error.code(), error.to_string().as_str()), (code, message), "{input}"),
    }
}

#[test]
fn tags() {
    check("tag(\"爱买生鲜\")", "#爱买生鲜");
    check("#爱买生鲜", "#爱买生鲜");
    check("TAG(vip)", "#vip");
    check("#and", "#and");
    check("tag(\"has space\")", "#has space");
}

#[test]
fn categorical_comparisons() {
    check("lifecycle = growth", "(= lifecycle growth)");
    check("lifecycle == growth", "(= lifecycle growth)");
    check("tier != gold", "(!= tier gold)");
    check("tier in (gold, platinum)", "(in tier gold platinum)");
    check("tier IN (\"gold\")", "(in tier gold)");
    check("home_store = \"SH001\"", "(= home_store SH001)");
    check("门店 = 上海一店", "(= 门店 上海一店)");
    check("region = \"华东 \\\"east\\\" \\\\\"", "(= region 华东 \"east\" \\)");
}

#[test]
fn numeric_comparisons() {
    check("points >= 500", "(>= points 500)");
    check("last_order_days > 30", "(> last_order_days 30)");
    check("points < 1", "(< points 1)");
    check("points <= 0", "(<= points 0)");
    check("points = 18446744073709551615", "(= points 18446744073709551615)");
    check("points != 7", "(!= points 7)");
    check("spend_365d between 10000 and 50000", "(between spend_365d 10000 50000)");
    check("会员积分>=500", "(>= 会员积分 500)");
}

#[test]
fn precedence_and_parentheses() {
    check("#vip OR #new AND #爱买生鲜", "(or #vip (and #new #爱买生鲜))");
    check("#vip and #new or #爱买生鲜", "(or (and #vip #new) #爱买生鲜)");
    check("NOT #vip AND #new", "(and (not #vip) #new)");
    check("not (#vip || #new)", "(not (or #vip #new))");
    check("!#vip && !!#new", "(and (not #vip) (not (not #new)))");
    check("#vip AND #new AND #爱买生鲜 AND #and", "(and #vip #new #爱买生鲜 #and)");
    check("#vip AND (#new AND #爱买生鲜)", "(and #vip (and #new #爱买生鲜))");
    check(
        "(#vip OR #new) AND (points between 1 and 2 OR tier = gold)",
        "(and (or #vip #new) (or (between points 1 2) (= tier gold)))",
    );
    check("spend_365d between 1 and 2 and #vip", "(and (between spend_365d 1 2) #vip)");
}

#[test]
fn malformed_inputs_say_where_what_and_why() {
    check_error(
        "points 500",
        "unexpected_token",
        "expected a comparison operator after \"points\" at column 8, found \"500\"",
    );
    check_error("", "empty_expression", "the expression is empty");
    check_error("  \n ", "empty_expression", "the expression is empty");
    check_error("#爱买生鲜 AND tag(\"vip", "unterminated_string", "unterminated string starting at column 15");
    check_error(
        "#爱买生鲜 AND lifecycle > growth",
        "type_mismatch",
        "categorical field \"lifecycle\" expects =, != or in at column 21, found \">\"",
    );
    check_error(
        "points = gold",
        "type_mismatch",
        "numeric field \"points\" expects a number at column 10, found \"gold\"",
    );
    check_error(
        "tier = 3",
        "type_mismatch",
        "categorical field \"tier\" expects a name or a string at column 8, found \"3\"",
    );
    check_error(
        "points in (1)",
        "type_mismatch",
        "numeric field \"points\" expects =, !=, <, <=, >, >= or between at column 8, found \"in\"",
    );
    check_error("#vip AND\n  年龄 > 3", "unknown_field", "unknown field \"年龄\" at line 2, column 3");
    check_error("#vip OR #老客", "unknown_tag", "unknown tag \"老客\" at column 9");
    check_error(
        "(#vip OR #new",
        "unexpected_token",
        "expected \")\" to close the \"(\" from column 1 at column 14, found end of input",
    );
    check_error(
        "#vip #new",
        "unexpected_token",
        "expected AND, OR or the end of the expression at column 6, found \"#new\"",
    );
    check_error(
        "#vip AND",
        "unexpected_token",
        "expected a tag, a field, NOT or \"(\" at column 9, found end of input",
    );
    check_error("() ", "unexpected_token", "expected a tag, a field, NOT or \"(\" at column 2, found \")\"");
    check_error("tier in (gold,)", "unexpected_token", "expected a value for \"tier\" at column 15, found \")\"");
    check_error(
        "points between 1 or 2",
        "unexpected_token",
        "expected AND between the bounds of \"points\" at column 18, found \"or\"",
    );
    check_error("# vip", "unexpected_token", "expected a tag name after \"#\" at column 2, found \" \"");
    check_error("#vip & #new", "unexpected_character", "unexpected character \"&\" at column 6");
    check_error("points > -1", "unexpected_character", "unexpected character \"-\" at column 10");
    check_error(
        "points > 18446744073709551616",
        "number_out_of_range",
        "number 18446744073709551616 at column 10 is too large",
    );
    check_error(
        "tier = \"a\\n\"",
        "invalid_escape",
        "invalid escape \"\\n\" at column 10; only \\\" and \\\\ are allowed",
    );
    check_error(
        "tag(\"vip\"",
        "unexpected_token",
        "expected \")\" after the tag name at column 10, found end of input",
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}#vip{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    check_error(&deep, "too_deep", "the expression nests deeper than 64 levels at column 65");
    let nots = format!("{}#vip", "NOT ".repeat(100_000));
    assert_eq!(parse(&nots, &schema()).map_err(|error| error.code()), Err("too_deep"));
    let fine = format!("{}#vip{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&fine, &schema()), Ok(Expr::Tag("vip".into())));
    let long = vec!["#vip"; 100_000].join(" AND ");
    assert!(matches!(parse(&long, &schema()), Ok(Expr::And(operands)) if operands.len() == 100_000));
}

#[test]
fn error_positions_count_characters_and_bytes() {
    let error = parse("#爱买生鲜 AND foo = x", &schema()).err();
    let position = error.map(|error| error.position());
    assert_eq!(position, Some(Position { offset: 18, line: 1, column: 11 }));
}
