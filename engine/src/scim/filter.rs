//! SCIM filters (RFC 7644 §3.4.2.2), parsed once into an AST. `ScimFilter::parse` is the only
//! constructor; its errors say at which character the filter went wrong and what was expected,
//! which the API returns as `400 invalidFilter`.
//!
//! Precedence, loosest first: `or`, `and`, `not`, then attribute expressions, value paths
//! (`emails[type eq "work"]`, optionally followed by `.value` and a comparison, as Entra sends)
//! and parentheses. Attribute names and operators are case-insensitive.
//!
//! Filters come from anyone holding a token, so what one can cost is bounded, and refused as a
//! `FilterError` before it is spent (`400 invalidFilter`; `invalidPath` for a PATCH path,
//! `invalidValue` for `sortBy`):
//! - a filter or PATCH path longer than [`MAX_LENGTH`] (10,000) characters is refused before it
//!   is parsed, and parsing is linear in its length;
//! - parentheses, `not (` and value filters nest at most [`MAX_DEPTH`] (32) levels;
//! - a filter has at most [`MAX_COMPARISONS`] (200) attribute comparisons.
//!
//! Both counts are checked while parsing, so no deep tree is ever built: the parser, and every
//! walk of a parsed tree (matching, SQL, clone, drop), recurse at most [`MAX_TREE_DEPTH`] levels.

use std::fmt;

/// The longest filter or PATCH path read, in characters.
pub const MAX_LENGTH: usize = 10_000;
/// How many parentheses, `not (` and value filters can be open at once.
pub const MAX_DEPTH: usize = 32;
/// How many attribute comparisons (`pr` included) a filter can have.
pub const MAX_COMPARISONS: usize = 200;
/// How deep a parsed filter's tree can be: on the way from the root to a comparison, each
/// `and`/`or` passed leaves a comparison aside, and each `not` or value path is a nesting level.
pub const MAX_TREE_DEPTH: usize = MAX_DEPTH + MAX_COMPARISONS;

/// Where a filter (or PATCH path) is malformed, 0-based character offset, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.position + 1)
    }
}

impl std::error::Error for FilterError {}

/// `[urn:...:]name[.sub]`, names kept as written (compare them case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// `name` or `name.sub`, lowercased: what a resource's attribute table is keyed on.
    pub fn key(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{}", self.name, sub).to_ascii_lowercase(),
            None => self.name.to_ascii_lowercase(),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, CompareOp, CompValue),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`, whose paths are
    /// relative to that value. Entra's `attr[filter].sub op value` is folded into `filter`.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

/// A parsed filter. Holding one means it is well formed.
#[derive(Clone, Debug, PartialEq)]
pub struct ScimFilter(pub Filter);

impl ScimFilter {
    pub fn parse(input: &str) -> Result<ScimFilter, FilterError> {
        refuse_long(input, "the filter")?;
        let mut parser = Parser::new(input);
        let filter = parser.or()?;
        parser.skip_spaces();
        if let Some(c) = parser.peek() {
            return Err(parser.error(format!(
                "expected \"and\", \"or\" or the end of the filter, found {c:?}"
            )));
        }
        Ok(ScimFilter(filter))
    }
}

/// A PATCH operation's `path`: an attribute, optionally narrowed to some of its values by a
/// filter, optionally followed by a sub-attribute (`emails[type eq "work"].value`).
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

impl PatchPath {
    pub fn parse(input: &str) -> Result<PatchPath, FilterError> {
        refuse_long(input, "the path")?;
        let mut parser = Parser::new(input);
        parser.skip_spaces();
        let attr = parser.attr_path()?;
        let open = parser.at;
        let (filter, sub) = if parser.eat('[') {
            let filter = parser.nested(open, Parser::value_filter_rest)?;
            let sub = if parser.eat('.') {
                Some(parser.name()?)
            } else {
                None
            };
            (Some(filter), sub)
        } else {
            (None, None)
        };
        parser.skip_spaces();
        if let Some(c) = parser.peek() {
            return Err(parser.error(format!("unexpected {c:?} after the path")));
        }
        if filter.is_some() && attr.sub.is_some() {
            return Err(FilterError {
                position: 0,
                message: "a value filter applies to an attribute, not a sub-attribute".into(),
            });
        }
        Ok(PatchPath { attr, filter, sub })
    }
}

/// Refuses input longer than `MAX_LENGTH` characters, looking at no more than that many.
fn refuse_long(input: &str, what: &str) -> Result<(), FilterError> {
    if input.len() > MAX_LENGTH && input.chars().nth(MAX_LENGTH).is_some() {
        return Err(FilterError {
            position: MAX_LENGTH,
            message: format!("{what} is longer than {MAX_LENGTH} characters"),
        });
    }
    Ok(())
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    /// Parentheses, `not (` and value filters open around the current position.
    depth: usize,
    /// Attribute comparisons read so far.
    comparisons: usize,
}

impl Parser {
    fn new(input: &str) -> Self {
        Parser {
            chars: input.chars().collect(),
            at: 0,
            depth: 0,
            comparisons: 0,
        }
    }

    /// Parses with one more level open (the `(` or `[` at `open`), refusing one level too many
    /// before going any deeper.
    fn nested<T>(
        &mut self,
        open: usize,
        inside: impl FnOnce(&mut Self) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError {
                position: open,
                message: format!("the filter nests deeper than {MAX_DEPTH} levels"),
            });
        }
        self.depth += 1;
        let result = inside(self);
        self.depth -= 1;
        result
    }

    /// Counts one more attribute comparison (starting at `start`), refusing one too many.
    fn count_comparison(&mut self, start: usize) -> Result<(), FilterError> {
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(FilterError {
                position: start,
                message: format!("the filter has more than {MAX_COMPARISONS} comparisons"),
            });
        }
        Ok(())
    }

    fn error(&self, message: String) -> FilterError {
        FilterError {
            position: self.at,
            message,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// Consumes `word` (case-insensitive) if it is next and followed by a space, `(` or the end.
    fn keyword(&mut self, word: &str) -> bool {
        self.skip_spaces();
        let len = word.chars().count();
        let candidate: String = self.chars.iter().skip(self.at).take(len).collect();
        let after = self.chars.get(self.at + len).copied();
        if candidate.eq_ignore_ascii_case(word)
            && after.is_none_or(|c| c.is_whitespace() || c == '(')
        {
            self.at += len;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        self.skip_spaces();
        if self.keyword("not") {
            self.skip_spaces();
            let open = self.at;
            if !self.eat('(') {
                return Err(self.error("expected \"(\" after \"not\"".into()));
            }
            let inner = self.nested(open, Self::group_rest)?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        let open = self.at;
        if self.eat('(') {
            return self.nested(open, Self::group_rest);
        }
        self.attribute_expression()
    }

    /// After an opening parenthesis: a filter and its closing parenthesis.
    fn group_rest(&mut self) -> Result<Filter, FilterError> {
        let inner = self.or()?;
        self.skip_spaces();
        if !self.eat(')') {
            return Err(self.error("expected \")\"".into()));
        }
        Ok(inner)
    }

    /// After a value filter's opening bracket: a filter and its closing bracket.
    fn value_filter_rest(&mut self) -> Result<Filter, FilterError> {
        let inner = self.or()?;
        self.skip_spaces();
        if !self.eat(']') {
            return Err(self.error("expected \"]\" to close the value filter".into()));
        }
        Ok(inner)
    }

    fn attribute_expression(&mut self) -> Result<Filter, FilterError> {
        self.skip_spaces();
        if self.peek().is_none() {
            return Err(
                self.error("expected an attribute name, found the end of the filter".into())
            );
        }
        let start = self.at;
        let attr = self.attr_path()?;
        let open = self.at;
        if self.eat('[') {
            if attr.sub.is_some() {
                return Err(self
                    .error("a value filter applies to an attribute, not a sub-attribute".into()));
            }
            let inner = self.nested(open, Self::value_filter_rest)?;
            // Entra's extension: `emails[type eq "work"].value eq "x"`.
            let filter = if self.eat('.') {
                let sub_start = self.at;
                let sub = AttrPath {
                    schema: None,
                    name: self.name()?,
                    sub: None,
                };
                let condition = self.comparison(sub, sub_start)?;
                Filter::And(Box::new(inner), Box::new(condition))
            } else {
                inner
            };
            return Ok(Filter::ValuePath {
                attr,
                filter: Box::new(filter),
            });
        }
        self.comparison(attr, start)
    }

    /// The operator and value after `attr`, which starts at `attr_start`.
    fn comparison(&mut self, attr: AttrPath, attr_start: usize) -> Result<Filter, FilterError> {
        self.count_comparison(attr_start)?;
        self.skip_spaces();
        let start = self.at;
        let word = self.word();
        let op = match word.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(attr)),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            "" => {
                return Err(self.error(format!(
                    "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after \"{attr}\""
                )));
            }
            other => {
                self.at = start;
                return Err(self.error(format!(
                    "unknown operator {other:?}; expected eq, ne, co, sw, ew, gt, ge, lt, le or pr"
                )));
            }
        };
        self.skip_spaces();
        let value = self.value()?;
        Ok(Filter::Compare(attr, op, value))
    }

    fn word(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn value(&mut self) -> Result<CompValue, FilterError> {
        match self.peek() {
            Some('"') => self.string().map(CompValue::String),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(c))
                {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                text.parse()
                    .map(CompValue::Number)
                    .map_err(|_| FilterError {
                        position: start,
                        message: format!("{text:?} is not a number"),
                    })
            }
            Some(_) => {
                let start = self.at;
                let word = self.word();
                match word.to_ascii_lowercase().as_str() {
                    "true" => Ok(CompValue::Bool(true)),
                    "false" => Ok(CompValue::Bool(false)),
                    "null" => Ok(CompValue::Null),
                    _ => Err(FilterError {
                        position: start,
                        message:
                            "expected a value: a \"quoted string\", a number, true, false or null"
                                .into(),
                    }),
                }
            }
            None => Err(self.error("expected a value, found the end of the filter".into())),
        }
    }

    /// A JSON string literal, escapes included.
    fn string(&mut self) -> Result<String, FilterError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(FilterError {
                        position: start,
                        message: "this string has no closing quote".into(),
                    });
                }
                Some('"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.at += 1;
                    let escaped = match self.peek() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('/') => '/',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('u') => self.unicode_escape()?,
                        _ => return Err(self.error("unknown escape in string".into())),
                    };
                    out.push(escaped);
                    self.at += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// After `\u`: four hex digits, and for a UTF-16 surrogate pair (`\ud83d\ude00`) the other
    /// half's. Leaves `at` on the last digit.
    fn unicode_escape(&mut self) -> Result<char, FilterError> {
        let code = self
            .hex4(self.at + 1)
            .ok_or_else(|| self.error("expected four hex digits after \\u".into()))?;
        self.at += 4;
        if !(0xD800..0xDC00).contains(&code) {
            return char::from_u32(code).ok_or_else(|| {
                self.error("a \\u escape names half of a surrogate pair without the other".into())
            });
        }
        let low = match (
            self.chars.get(self.at + 1..self.at + 3),
            self.hex4(self.at + 3),
        ) {
            (Some(['\\', 'u']), Some(low)) if (0xDC00..0xE000).contains(&low) => low,
            _ => {
                return Err(self.error(
                    "a \\u escape names half of a surrogate pair without the other".into(),
                ));
            }
        };
        self.at += 6;
        char::from_u32(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
            .ok_or_else(|| self.error("this \\u escape is not a character".into()))
    }

    /// The four hex digits at `from`, if they are.
    fn hex4(&self, from: usize) -> Option<u32> {
        let digits = self.chars.get(from..from + 4)?;
        digits
            .iter()
            .try_fold(0, |code, c| Some(code * 16 + c.to_digit(16)?))
    }

    fn name(&mut self) -> Result<String, FilterError> {
        let start = self.at;
        if !self
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        {
            return Err(self.error("expected an attribute name".into()));
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        {
            self.at += 1;
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    /// `[urn:...:]name[.sub]`. A schema URN is recognised by its `urn:` prefix and runs to the
    /// last colon before the attribute name (looking no further than the attribute's end, so
    /// parsing stays linear).
    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let mut schema = None;
        let rest = self.chars.get(self.at..).unwrap_or_default();
        let urn = rest
            .iter()
            .take(4)
            .map(char::to_ascii_lowercase)
            .eq("urn:".chars());
        if urn {
            let mut last_colon = None;
            for (i, &c) in rest.iter().enumerate() {
                if c.is_whitespace() || matches!(c, '[' | '(' | ')') {
                    break;
                }
                if c == ':' {
                    last_colon = Some(i);
                }
            }
            let Some(colon) = last_colon else {
                return Err(self.error("expected an attribute after the schema URN".into()));
            };
            schema = Some(rest[..colon].iter().collect());
            self.at += colon + 1;
        }
        let name = self.name()?;
        let sub = if self.peek() == Some('.')
            && self
                .chars
                .get(self.at + 1)
                .is_some_and(|c| c.is_ascii_alphabetic())
        {
            self.at += 1;
            Some(self.name()?)
        } else {
            None
        };
        Ok(AttrPath { schema, name, sub })
    }
}

impl Filter {
    /// Evaluates the filter against one JSON value (a resource, or one value of a multi-valued
    /// attribute for value paths). Strings compare without regard to case, as SCIM's default
    /// `caseExact: false` asks.
    pub fn matches(&self, item: &serde_json::Value) -> bool {
        use serde_json::Value;
        let lookup = |path: &AttrPath| -> Option<&Value> {
            let object = item.as_object()?;
            let top = object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&path.name))
                .map(|(_, v)| v)?;
            match &path.sub {
                Some(sub) => top
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(sub))
                    .map(|(_, v)| v),
                None => Some(top),
            }
        };
        match self {
            Filter::Or(a, b) => a.matches(item) || b.matches(item),
            Filter::And(a, b) => a.matches(item) && b.matches(item),
            Filter::Not(inner) => !inner.matches(item),
            Filter::Present(path) => match lookup(path) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Array(a)) => !a.is_empty(),
                Some(_) => true,
            },
            Filter::Compare(path, op, expected) => match lookup(path) {
                Some(Value::Array(values)) => values.iter().any(|v| compare(v, *op, expected)),
                Some(value) => compare(value, *op, expected),
                None => matches!(
                    (op, expected),
                    (CompareOp::Eq, CompValue::Null) | (CompareOp::Ne, _)
                ),
            },
            Filter::ValuePath { attr, filter } => match lookup(attr) {
                Some(Value::Array(values)) => values.iter().any(|v| filter.matches(v)),
                Some(value) => filter.matches(value),
                None => false,
            },
        }
    }
}

fn compare(actual: &serde_json::Value, op: CompareOp, expected: &CompValue) -> bool {
    use serde_json::Value;
    use std::cmp::Ordering;
    let ordering = match (actual, expected) {
        (Value::String(a), CompValue::String(e)) => {
            let (a, e) = (a.to_lowercase(), e.to_lowercase());
            match op {
                CompareOp::Co => return a.contains(&e),
                CompareOp::Sw => return a.starts_with(&e),
                CompareOp::Ew => return a.ends_with(&e),
                _ => a.cmp(&e),
            }
        }
        (Value::Bool(a), CompValue::Bool(e)) => a.cmp(e),
        (Value::Number(a), CompValue::Number(e)) => match a.as_f64().and_then(|a| a.partial_cmp(e))
        {
            Some(o) => o,
            None => return false,
        },
        (Value::Null, CompValue::Null) => Ordering::Equal,
        _ => return op == CompareOp::Ne,
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str) -> AttrPath {
        AttrPath {
            schema: None,
            name: name.into(),
            sub: None,
        }
    }

    fn eq(name: &str, value: &str) -> Filter {
        Filter::Compare(attr(name), CompareOp::Eq, CompValue::String(value.into()))
    }

    fn parse(s: &str) -> Filter {
        ScimFilter::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .0
    }

    #[test]
    fn every_operator_parses() {
        for (text, op) in [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("LE", CompareOp::Le),
        ] {
            assert_eq!(
                parse(&format!("userName {text} \"ada\"")),
                Filter::Compare(attr("userName"), op, CompValue::String("ada".into()))
            );
        }
        assert_eq!(parse("title pr"), Filter::Present(attr("title")));
        assert_eq!(
            parse("active eq true"),
            Filter::Compare(attr("active"), CompareOp::Eq, CompValue::Bool(true))
        );
        assert_eq!(
            parse("x eq null"),
            Filter::Compare(attr("x"), CompareOp::Eq, CompValue::Null)
        );
        assert_eq!(
            parse("n gt -1.5"),
            Filter::Compare(attr("n"), CompareOp::Gt, CompValue::Number(-1.5))
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        assert_eq!(
            parse("a eq \"1\" or b eq \"2\" and c eq \"3\""),
            Filter::Or(
                Box::new(eq("a", "1")),
                Box::new(Filter::And(Box::new(eq("b", "2")), Box::new(eq("c", "3"))))
            )
        );
        assert_eq!(
            parse("(a eq \"1\" or b eq \"2\") and not (c eq \"3\")"),
            Filter::And(
                Box::new(Filter::Or(Box::new(eq("a", "1")), Box::new(eq("b", "2")))),
                Box::new(Filter::Not(Box::new(eq("c", "3"))))
            )
        );
    }

    #[test]
    fn value_paths_sub_attributes_and_schema_urns() {
        assert_eq!(
            parse("emails[type eq \"work\" and value co \"@contoso.com\"]"),
            Filter::ValuePath {
                attr: attr("emails"),
                filter: Box::new(Filter::And(
                    Box::new(eq("type", "work")),
                    Box::new(Filter::Compare(
                        attr("value"),
                        CompareOp::Co,
                        CompValue::String("@contoso.com".into())
                    ))
                ))
            }
        );
        assert_eq!(
            parse("emails[type eq \"work\"].value eq \"ada@contoso.com\""),
            Filter::ValuePath {
                attr: attr("emails"),
                filter: Box::new(Filter::And(
                    Box::new(eq("type", "work")),
                    Box::new(eq("value", "ada@contoso.com"))
                ))
            }
        );
        assert_eq!(
            parse("name.familyName sw \"Love\""),
            Filter::Compare(
                AttrPath {
                    schema: None,
                    name: "name".into(),
                    sub: Some("familyName".into())
                },
                CompareOp::Sw,
                CompValue::String("Love".into())
            )
        );
        assert_eq!(
            parse(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\""
            ),
            Filter::Compare(
                AttrPath {
                    schema: Some(
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()
                    ),
                    name: "employeeNumber".into(),
                    sub: None
                },
                CompareOp::Eq,
                CompValue::String("42".into())
            )
        );
        assert_eq!(
            parse("userName eq \"a\\\"b\\u00e9\""),
            eq("userName", "a\"bé")
        );
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        for (input, position, expected) in [
            ("userName", 8, "expected an operator"),
            ("userName xx \"a\"", 9, "unknown operator \"xx\""),
            ("userName eq", 11, "expected a value, found the end"),
            (
                "userName eq ada",
                12,
                "expected a value: a \"quoted string\"",
            ),
            ("userName eq \"ada", 12, "no closing quote"),
            ("(userName eq \"a\"", 16, "expected \")\""),
            (
                "userName eq \"a\" and",
                19,
                "expected an attribute name, found the end",
            ),
            ("emails[type eq \"work\"", 21, "expected \"]\""),
            (
                "userName eq \"a\" xor b eq \"c\"",
                16,
                "expected \"and\", \"or\" or the end",
            ),
            ("not userName eq \"a\"", 4, "expected \"(\" after \"not\""),
            ("", 0, "found the end"),
        ] {
            let err = ScimFilter::parse(input).unwrap_err();
            assert_eq!(err.position, position, "{input:?}: {err}");
            assert!(err.message.contains(expected), "{input:?}: {err}");
        }
    }

    #[test]
    fn patch_paths() {
        assert_eq!(
            PatchPath::parse("members[value eq \"2819c223\"]").unwrap(),
            PatchPath {
                attr: attr("members"),
                filter: Some(eq("value", "2819c223")),
                sub: None
            }
        );
        assert_eq!(
            PatchPath::parse("emails[type eq \"work\"].value").unwrap(),
            PatchPath {
                attr: attr("emails"),
                filter: Some(eq("type", "work")),
                sub: Some("value".into())
            }
        );
        assert_eq!(
            PatchPath::parse("name.givenName").unwrap(),
            PatchPath {
                attr: AttrPath {
                    schema: None,
                    name: "name".into(),
                    sub: Some("givenName".into())
                },
                filter: None,
                sub: None
            }
        );
        assert!(PatchPath::parse("members[value eq ").is_err());
        assert!(PatchPath::parse("a b").is_err());
    }
}
