//! Entra's attribute-mapping expressions, parsed once into an AST. The syntax is VBA-like:
//! `Function(arg, ...)`, `[attribute]`, `"string"` (with `\"` and `\\` escapes), whole numbers
//! (`7`, `-1`, `&HF7`), the compare modes `vbBinaryCompare` / `vbTextCompare`, one comparison in
//! a condition (`IIF([country]="USA", ...)` with `=`, `<>`, `>`, `>=`, `<`, `<=`), and empty
//! arguments (`Switch([IsSoftDeleted], , "False", ...)`). Function names are case-sensitive, as in
//! Entra, an expression has at most 10,000 characters, Entra's limit, and nests calls at most 200
//! deep (so that parsing, checking, printing and evaluating never run out of stack).
//! [`Expression::parse`] is the only constructor; its errors give the line and column, what was
//! found and what was expected, unknown functions with the closest known name, wrong argument
//! counts and invalid regular expressions. Printing an expression gives text that parses back to
//! the same tree.

use std::fmt;

use regex::Regex;

use super::{
    functions::{self, Function},
    limits::{self, MAX_PRODUCED, MAX_STEPS, MAX_VALUE, UNLIMITED, thousands},
};

/// 1-based line and column of a character in the expression's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Unexpected {
        found: String,
        expected: String,
    },
    UnknownFunction {
        name: String,
        suggestion: Option<&'static str>,
    },
    ArgumentCount {
        function: &'static str,
        expected: String,
        found: usize,
    },
    UnknownAttribute {
        name: String,
        suggestion: Option<String>,
    },
    InvalidPattern {
        message: String,
    },
    /// A function that must be the whole expression (`SelectUniqueValue`) is nested.
    NotTopLevel {
        function: &'static str,
    },
    TooLong {
        length: usize,
    },
    /// Calls nested more than [`MAX_DEPTH`] deep.
    TooDeep,
    /// A call that can produce more than a value may hold ([`limits::MAX_VALUE`]), and why.
    TooLarge {
        most: u64,
        why: String,
    },
    /// More characters produced, or steps taken, than one evaluation may.
    TooMuchWork {
        most: u64,
        steps: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpressionError {
    pub at: Position,
    pub kind: ErrorKind,
}

impl fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: ", self.at.line, self.at.column)?;
        match &self.kind {
            ErrorKind::Unexpected { found, expected } => {
                write!(f, "expected {expected}, found {found}")
            }
            ErrorKind::UnknownFunction { name, suggestion } => {
                write!(f, "unknown function {name}")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean {s}?"),
                    None => Ok(()),
                }
            }
            ErrorKind::ArgumentCount {
                function,
                expected,
                found,
            } => {
                write!(f, "{function} takes {expected}, not {found}")
            }
            ErrorKind::UnknownAttribute { name, suggestion } => {
                write!(f, "unknown attribute [{name}]")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean [{s}]?"),
                    None => Ok(()),
                }
            }
            ErrorKind::InvalidPattern { message } => {
                write!(f, "not a valid regular expression: {message}")
            }
            ErrorKind::NotTopLevel { function } => {
                write!(
                    f,
                    "{function} must be the whole expression, not inside another function"
                )
            }
            ErrorKind::TooLong { length } => write!(
                f,
                "the expression has {} characters; at most {} are allowed",
                thousands(*length as u64),
                thousands(MAX_LENGTH as u64)
            ),
            ErrorKind::TooDeep => write!(
                f,
                "more than {MAX_DEPTH} nested calls; an expression may nest calls at most {MAX_DEPTH} deep"
            ),
            ErrorKind::TooLarge { most, why } => {
                if *most == UNLIMITED {
                    f.write_str("this expression can produce a value of any length")?;
                } else {
                    write!(
                        f,
                        "this expression can produce up to {} characters",
                        thousands(*most)
                    )?;
                }
                write!(
                    f,
                    " ({why}); a value may hold at most {}",
                    thousands(MAX_VALUE as u64)
                )
            }
            ErrorKind::TooMuchWork { most, steps: false } => write!(
                f,
                "this expression can produce up to {} characters in all while it is evaluated; an evaluation may produce at most {}",
                thousands(*most),
                thousands(MAX_PRODUCED as u64)
            ),
            ErrorKind::TooMuchWork { most, steps: true } => write!(
                f,
                "this expression can take up to {} steps (function calls, values Split makes and matches Replace finds); an evaluation may take at most {}",
                thousands(*most),
                thousands(MAX_STEPS as u64)
            ),
        }
    }
}

impl std::error::Error for ExpressionError {}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Attribute(String),
    Text(String),
    /// A whole number (`3`, `-1`, `&HF7`).
    Number(i64),
    /// `vbBinaryCompare` or `vbTextCompare`.
    Keyword(&'static str),
    /// `None` arguments were left empty.
    Call {
        function: &'static Function,
        args: Vec<Option<Expr>>,
    },
    Compare {
        left: Box<Expr>,
        operator: Comparison,
        right: Box<Expr>,
    },
}

/// The comparison operators of `IIF` conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Equal => "=",
            Comparison::NotEqual => "<>",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        }
    }
}

/// The bare words expressions may contain besides function names.
pub const KEYWORDS: &[&str] = &["vbBinaryCompare", "vbTextCompare"];

#[derive(Clone, Debug)]
pub struct Expr {
    pub node: Node,
    pub at: Position,
}

/// Two expressions are equal when they have the same structure, wherever they were written.
impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.node == other.node
    }
}

/// A parsed expression. Holding one means it is well formed, calls known functions correctly and
/// its literal regular expressions compile.
#[derive(Clone, Debug)]
pub struct Expression {
    pub root: Expr,
    /// `Replace`'s literal patterns, compiled once here rather than for every object.
    patterns: Vec<(String, Regex)>,
}

impl PartialEq for Expression {
    fn eq(&self, other: &Expression) -> bool {
        self.root == other.root
    }
}

/// Nesting deeper than this is refused rather than risking the stack: every walk of the tree
/// (checks, [`Expression::attributes`], printing, evaluation, dropping) recurses once per level,
/// and a level is a call (a comparison's sides are operands, not nested comparisons).
pub const MAX_DEPTH: usize = 200;

/// Entra's limit on the length of one expression.
pub const MAX_LENGTH: usize = 10_000;

/// Compiles a pattern with Rust's `regex` (linear time) under a size limit, so that no pattern an
/// administrator writes can make provisioning slow.
pub fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "the pattern is too large".to_owned(),
            other => other
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        })
}

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, ExpressionError> {
        let length = text.chars().count();
        if length > MAX_LENGTH {
            // Where the first character past the limit is.
            let mut at = Position { line: 1, column: 1 };
            for c in text.chars().take(MAX_LENGTH) {
                if c == '\n' {
                    at = Position {
                        line: at.line + 1,
                        column: 1,
                    };
                } else {
                    at.column += 1;
                }
            }
            return Err(ExpressionError {
                at,
                kind: ErrorKind::TooLong { length },
            });
        }
        let mut parser = Parser {
            chars: text.chars().collect(),
            at: 0,
            line: 1,
            column: 1,
            depth: 0,
        };
        parser.skip_spaces();
        let expr = parser.expr()?;
        parser.skip_spaces();
        if parser.peek().is_some() {
            return Err(parser.unexpected("the end of the expression"));
        }
        let mut patterns = Vec::new();
        check_calls(&expr, true, &mut patterns)?;
        Ok(Expression {
            root: expr,
            patterns,
        })
    }

    /// The compiled form of a literal pattern of this expression.
    pub fn pattern(&self, pattern: &str) -> Option<&Regex> {
        self.patterns
            .iter()
            .find(|(text, _)| text == pattern)
            .map(|(_, regex)| regex)
    }

    /// Whether the expression asks for its value to be hidden in provisioning logs (`Redact`).
    pub fn redacts(&self) -> bool {
        self.calls("Redact")
    }

    /// Whether the expression calls `function` anywhere.
    pub fn calls(&self, function: &str) -> bool {
        fn walk(expr: &Expr, function: &str) -> bool {
            match &expr.node {
                Node::Call { function: f, args } => {
                    f.name == function || args.iter().flatten().any(|a| walk(a, function))
                }
                Node::Compare { left, right, .. } => walk(left, function) || walk(right, function),
                _ => false,
            }
        }
        walk(&self.root, function)
    }

    /// Checks the expression against the source's attributes: every `[attribute]` is one of
    /// them ([`Expression::check_names`]), and no value it makes can outgrow the bounds given
    /// how long they can be ([`Expression::check_size`]). What saving a mapping requires.
    pub fn check_attributes(&self, known: &[&str]) -> Result<(), ExpressionError> {
        self.check_names(known)?;
        self.check_size()
    }

    /// Refuses an expression that could produce a value longer than [`limits::MAX_VALUE`] (or
    /// more than one evaluation may), from the longest values the directory's attributes can
    /// have: see [`limits::check`].
    pub fn check_size(&self) -> Result<(), ExpressionError> {
        limits::check(&self.root).map(|_| ())
    }

    /// Checks every `[attribute]` against the source's attributes (compared without regard to
    /// case, as directory attribute names are).
    pub fn check_names(&self, known: &[&str]) -> Result<(), ExpressionError> {
        fn walk(expr: &Expr, known: &[&str]) -> Result<(), ExpressionError> {
            match &expr.node {
                Node::Attribute(name) if !known.iter().any(|k| k.eq_ignore_ascii_case(name)) => {
                    Err(ExpressionError {
                        at: expr.at,
                        kind: ErrorKind::UnknownAttribute {
                            name: name.clone(),
                            suggestion: functions::closest(name, known.iter().copied())
                                .map(str::to_owned),
                        },
                    })
                }
                Node::Call { args, .. } => args.iter().flatten().try_for_each(|a| walk(a, known)),
                Node::Compare { left, right, .. } => {
                    walk(left, known)?;
                    walk(right, known)
                }
                _ => Ok(()),
            }
        }
        walk(&self.root, known)
    }

    /// The attributes the expression reads, in order of appearance.
    pub fn attributes(&self) -> Vec<&str> {
        fn walk<'a>(expr: &'a Expr, out: &mut Vec<&'a str>) {
            match &expr.node {
                Node::Attribute(name) => out.push(name),
                Node::Call { args, .. } => args.iter().flatten().for_each(|a| walk(a, out)),
                Node::Compare { left, right, .. } => {
                    walk(left, out);
                    walk(right, out);
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Node::Attribute(name) => write!(f, "[{name}]"),
            Node::Text(text) => {
                f.write_str("\"")?;
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            Node::Number(n) => write!(f, "{n}"),
            Node::Keyword(word) => f.write_str(word),
            Node::Compare {
                left,
                operator,
                right,
            } => write!(f, "{left} {} {right}", operator.symbol()),
            Node::Call { function, args } => {
                write!(f, "{}(", function.name)?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Some(arg) = arg {
                        write!(f, "{arg}")?;
                    }
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

/// `Replace` does one of five things depending on which of its seven arguments are given; any
/// other combination would silently do nothing, so it is refused here.
fn check_replace_form(at: Position, args: &[Option<Expr>]) -> Result<(), ExpressionError> {
    let given = |i: usize| args.get(i).is_some_and(Option::is_some);
    let (old, pattern, group) = (given(1), given(2), given(3));
    let (replacement, attribute, template) = (given(4), given(5), given(6));
    let valid = (old && (replacement || template) && !pattern)
        || (pattern && !old && !template && (replacement || (group && attribute)));
    if valid {
        return Ok(());
    }
    Err(ExpressionError {
        at,
        kind: ErrorKind::Unexpected {
            found: "a combination of Replace arguments that does nothing".into(),
            expected: "oldValue with replacementValue or template, or regexPattern with replacementValue \
                       (and optionally regexGroupName), or regexPattern, regexGroupName and replacementAttributeName"
                .into(),
        },
    })
}

/// Checks what the grammar cannot: `SelectUniqueValue` only at the top, and `Replace`'s literal
/// patterns compile (they are kept, compiled, in `patterns`).
fn check_calls(
    expr: &Expr,
    top: bool,
    patterns: &mut Vec<(String, Regex)>,
) -> Result<(), ExpressionError> {
    match &expr.node {
        Node::Call { function, args } => {
            if function.name == "SelectUniqueValue" && !top {
                return Err(ExpressionError {
                    at: expr.at,
                    kind: ErrorKind::NotTopLevel {
                        function: function.name,
                    },
                });
            }
            if function.name == "Replace"
                && let Some(Some(
                    pattern @ Expr {
                        node: Node::Text(text),
                        ..
                    },
                )) = args.get(2)
                && !patterns.iter().any(|(p, _)| p == text)
            {
                let regex = compile_pattern(text).map_err(|message| ExpressionError {
                    at: pattern.at,
                    kind: ErrorKind::InvalidPattern { message },
                })?;
                patterns.push((text.clone(), regex));
            }
            if function.name == "Replace" {
                check_replace_form(expr.at, args)?;
            }
            let inner_top = top && function.name == "SelectUniqueValue";
            args.iter()
                .flatten()
                .try_for_each(|a| check_calls(a, inner_top, patterns))
        }
        Node::Compare { left, right, .. } => {
            check_calls(left, false, patterns)?;
            check_calls(right, false, patterns)
        }
        _ => Ok(()),
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    line: u32,
    column: u32,
    depth: usize,
}

impl Parser {
    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn describe_next(&self) -> String {
        match self.peek() {
            None => "the end of the expression".to_owned(),
            Some(c) => format!("{c:?}"),
        }
    }

    fn unexpected(&self, expected: &str) -> ExpressionError {
        ExpressionError {
            at: self.position(),
            kind: ErrorKind::Unexpected {
                found: self.describe_next(),
                expected: expected.to_owned(),
            },
        }
    }

    /// An operand, optionally compared with another one.
    fn expr(&mut self) -> Result<Expr, ExpressionError> {
        let left = self.operand()?;
        self.skip_spaces();
        let operator = match (self.peek(), self.chars.get(self.at + 1).copied()) {
            (Some('<'), Some('>')) => Comparison::NotEqual,
            (Some('<'), Some('=')) => Comparison::LessOrEqual,
            (Some('>'), Some('=')) => Comparison::GreaterOrEqual,
            (Some('='), _) => Comparison::Equal,
            (Some('<'), _) => Comparison::Less,
            (Some('>'), _) => Comparison::Greater,
            _ => return Ok(left),
        };
        for _ in 0..operator.symbol().len() {
            self.bump();
        }
        self.skip_spaces();
        let right = self.operand()?;
        let at = left.at;
        Ok(Expr {
            node: Node::Compare {
                left: Box::new(left),
                operator,
                right: Box::new(right),
            },
            at,
        })
    }

    fn operand(&mut self) -> Result<Expr, ExpressionError> {
        let at = self.position();
        match self.peek() {
            Some('[') => {
                self.bump();
                let mut name = String::new();
                loop {
                    match self.peek() {
                        Some(']') => break,
                        Some('[') | None => {
                            return Err(self.unexpected("\"]\" to close the attribute name"));
                        }
                        Some(_) => name.extend(self.bump()),
                    }
                }
                self.bump();
                let name = name.trim().to_owned();
                if name.is_empty() {
                    return Err(ExpressionError {
                        at,
                        kind: ErrorKind::Unexpected {
                            found: "[]".into(),
                            expected: "an attribute name inside [ ]".into(),
                        },
                    });
                }
                Ok(Expr {
                    node: Node::Attribute(name),
                    at,
                })
            }
            Some('"') => {
                self.bump();
                let mut text = String::new();
                loop {
                    match self.bump() {
                        Some('"') => break,
                        Some('\\') => match self.peek() {
                            Some(c @ ('"' | '\\')) => {
                                self.bump();
                                text.push(c);
                            }
                            _ => return Err(self.unexpected("\\\" or \\\\ after a backslash")),
                        },
                        Some(c) => text.push(c),
                        None => {
                            return Err(ExpressionError {
                                at,
                                kind: ErrorKind::Unexpected {
                                    found: "the end of the expression".into(),
                                    expected: "a closing \" for the string that starts here".into(),
                                },
                            });
                        }
                    }
                }
                Ok(Expr {
                    node: Node::Text(text),
                    at,
                })
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let mut digits = String::new();
                digits.extend(self.bump());
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    digits.extend(self.bump());
                }
                digits
                    .parse()
                    .map(|n| Expr {
                        node: Node::Number(n),
                        at,
                    })
                    .map_err(|_| ExpressionError {
                        at,
                        kind: ErrorKind::Unexpected {
                            found: format!("{digits:?}"),
                            expected: "a whole number".into(),
                        },
                    })
            }
            Some('&') => {
                self.bump();
                if !matches!(self.bump(), Some('H' | 'h')) {
                    return Err(ExpressionError {
                        at,
                        kind: ErrorKind::Unexpected {
                            found: "\"&\"".into(),
                            expected: "a hexadecimal number such as &HF7".into(),
                        },
                    });
                }
                let mut digits = String::new();
                while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    digits.extend(self.bump());
                }
                i64::from_str_radix(&digits, 16)
                    .map(|n| Expr {
                        node: Node::Number(n),
                        at,
                    })
                    .map_err(|_| ExpressionError {
                        at,
                        kind: ErrorKind::Unexpected {
                            found: format!("&H{digits}"),
                            expected: "a hexadecimal number such as &HF7".into(),
                        },
                    })
            }
            Some(c) if c.is_ascii_alphabetic() => self.call(at),
            _ => Err(self.unexpected("a function, an [attribute], a \"string\" or a number")),
        }
    }

    fn call(&mut self, at: Position) -> Result<Expr, ExpressionError> {
        let mut name = String::new();
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            name.extend(self.bump());
        }
        let next = {
            let mut i = self.at;
            while self.chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            self.chars.get(i).copied()
        };
        if next != Some('(')
            && let Some(keyword) = KEYWORDS.iter().find(|k| **k == name)
        {
            return Ok(Expr {
                node: Node::Keyword(keyword),
                at,
            });
        }
        let Some(function) = functions::find(&name) else {
            let suggestion = functions::closest(&name, functions::FUNCTIONS.iter().map(|f| f.name));
            return Err(ExpressionError {
                at,
                kind: ErrorKind::UnknownFunction { name, suggestion },
            });
        };
        self.skip_spaces();
        if self.peek() != Some('(') {
            return Err(self.unexpected(&format!("\"(\" after {name}")));
        }
        self.bump();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExpressionError {
                at,
                kind: ErrorKind::TooDeep,
            });
        }
        let mut args = Vec::new();
        self.skip_spaces();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                self.skip_spaces();
                let arg = if matches!(self.peek(), Some(',' | ')')) {
                    None
                } else {
                    Some(self.expr()?)
                };
                args.push(arg);
                self.skip_spaces();
                match self.peek() {
                    Some(',') => {
                        self.bump();
                    }
                    Some(')') => {
                        self.bump();
                        break;
                    }
                    _ => {
                        return Err(
                            self.unexpected(&format!("\",\" or \")\" in the arguments of {name}"))
                        );
                    }
                }
            }
        }
        self.depth -= 1;
        if !function.arity.accepts(args.len()) {
            return Err(ExpressionError {
                at,
                kind: ErrorKind::ArgumentCount {
                    function: function.name,
                    expected: function.arity.describe(),
                    found: args.len(),
                },
            });
        }
        Ok(Expr {
            node: Node::Call { function, args },
            at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Expression {
        Expression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn error(text: &str) -> ExpressionError {
        Expression::parse(text).expect_err(text)
    }

    #[test]
    fn the_default_mappings_parse_and_print_back() {
        for text in [
            r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#,
            r#"Join(" ", [givenName], [surname])"#,
            r#"[userPrincipalName]"#,
            r#"Append(Left(ToLower([givenName]), 1), Mid(StripSpaces([surname]), 1, 19))"#,
            r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#,
            r#"IIF([country]="USA",IIF([state]<>"CA","True","False"),"False")"#,
            r#"CBool([attribute1] = [attribute2])"#,
            r#"InStr("repEated","e",3,vbBinaryCompare)"#,
            r#"BitAnd(&HF, &HF7)"#,
            r#""Company name: \"Contoso\" \\ Ltd""#,
            r#"Guid()"#,
            r#"DateAdd("d", -7, CDate([employeeHireDate]))"#,
        ] {
            let expression = parse(text);
            let printed = expression.to_string();
            assert_eq!(parse(&printed), expression, "{text} -> {printed}");
        }
        let switch = parse(r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#);
        let Node::Call { function, args } = &switch.root.node else {
            panic!("a call")
        };
        assert_eq!((function.name, args.len()), ("Switch", 6));
        assert_eq!(args[1], None, "the empty default value");
        assert_eq!(
            parse(r#""a\"b\\c""#).root.node,
            Node::Text("a\"b\\c".into())
        );
        assert_eq!(parse("&HF7").root.node, Node::Number(0xF7));
        assert_eq!(
            parse("vbTextCompare").root.node,
            Node::Keyword("vbTextCompare")
        );
        let Node::Compare { operator, .. } = parse(r#"[a] >= "3""#).root.node else {
            panic!("a comparison")
        };
        assert_eq!(operator, Comparison::GreaterOrEqual);
    }

    #[test]
    fn errors_say_where_what_was_found_and_what_was_expected() {
        let e = error(r#"Join(" ", [givenName] [surname])"#);
        assert_eq!((e.at.line, e.at.column), (1, 23));
        assert_eq!(
            e.to_string(),
            r#"line 1, column 23: expected "," or ")" in the arguments of Join, found '['"#
        );

        let e = error("ToLower(\n  [givenName],\n  \"en-US\"");
        assert_eq!((e.at.line, e.at.column), (3, 10));
        assert!(
            e.to_string().contains("found the end of the expression"),
            "{e}"
        );

        let e = error("ToLOwer([givenName])");
        assert_eq!(
            e.to_string(),
            "line 1, column 1: unknown function ToLOwer; did you mean ToLower?"
        );

        let e = error("Left([givenName])");
        assert_eq!(
            e.to_string(),
            "line 1, column 1: Left takes 2 arguments, not 1"
        );
        let e = error(r#"Append("a", Join(","))"#);
        assert_eq!(
            e.to_string(),
            "line 1, column 13: Join takes 2 or more arguments, not 1"
        );

        let e = error(r#"Append("abc, [x])"#);
        assert_eq!((e.at.line, e.at.column), (1, 8), "{e}");
        assert!(e.to_string().contains("closing \""), "{e}");
        assert!(error("[givenName").to_string().contains("\"]\" to close"));
        assert!(error("[]").to_string().contains("an attribute name"));
        assert!(error(r#""a\n""#).to_string().contains("after a backslash"));
        assert!(
            error("Guid() Guid()")
                .to_string()
                .contains("expected the end of the expression")
        );
        assert!(
            error("ToLower [x]")
                .to_string()
                .contains("\"(\" after ToLower")
        );
        assert!(
            error("")
                .to_string()
                .contains("found the end of the expression")
        );
        assert!(
            error(&"Not(".repeat(300))
                .to_string()
                .contains("nested calls")
        );
    }

    #[test]
    fn what_the_grammar_allows_but_entra_does_not_is_refused_with_its_position() {
        let e = error(r#"Replace([mail], , "(unclosed", , "", , )"#);
        assert_eq!((e.at.line, e.at.column), (1, 19));
        assert!(
            e.to_string().contains("not a valid regular expression"),
            "{e}"
        );

        let e = error(r#"ToLower(SelectUniqueValue([a], [b]))"#);
        assert_eq!(
            e.to_string(),
            "line 1, column 9: SelectUniqueValue must be the whole expression, not inside another function"
        );
        assert!(Expression::parse(r#"SelectUniqueValue(Join(".", [a], [b]), [c])"#).is_ok());

        let e = error(r#"Replace([mail], , , , , , )"#);
        assert!(e.to_string().contains("does nothing"), "{e}");

        let e = error(r#"Switch([a], "default", "key")"#);
        assert_eq!(
            e.to_string(),
            "line 1, column 1: Switch takes a source, a default value and key/value pairs (an even number of 4 or more arguments), not 3"
        );

        let long = format!("\"{}\"", "x".repeat(MAX_LENGTH - 1));
        let e = error(&long);
        assert_eq!(
            e.to_string(),
            "line 1, column 10001: the expression has 10,001 characters; at most 10,000 are allowed"
        );
        assert!(error("&G1").to_string().contains("hexadecimal"));
        assert!(
            error("[a] = ")
                .to_string()
                .contains("found the end of the expression")
        );
    }

    #[test]
    fn unknown_attributes_are_named_with_the_closest_known_one() {
        let expression = parse(r#"Join(" ", [givenName], [surnme])"#);
        let e = expression
            .check_attributes(&["givenName", "surname", "mail"])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1, column 24: unknown attribute [surnme]; did you mean [surname]?"
        );
        assert!(
            parse("[MAIL]").check_attributes(&["mail"]).is_ok(),
            "attribute names ignore case"
        );
        assert_eq!(expression.attributes(), ["givenName", "surnme"]);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Text made of the pieces expressions are made of, in any order: most of it is malformed.
    fn fragments() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("Join(".to_owned()),
            Just("Switch(".to_owned()),
            Just("Not(".to_owned()),
            Just("Guid()".to_owned()),
            Just("[givenName]".to_owned()),
            Just("\"a\\\"b\"".to_owned()),
            Just(",".to_owned()),
            Just(")".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("-12".to_owned()),
            "[\\PC]{0,3}",
        ];
        prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn the_parser_never_panics_and_what_it_accepts_prints_back(text in fragments()) {
            if let Ok(expression) = Expression::parse(&text) {
                let printed = expression.to_string();
                let again = Expression::parse(&printed).expect("printed expressions parse");
                prop_assert_eq!(again.to_string(), printed);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = Expression::parse(&text);
        }
    }

    /// Calls that grow values (and the ones that were slow on long values), nested at random
    /// with constants that make them grow: most go over a bound somewhere.
    fn growing() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("[mail]".to_owned()),
            Just("[extensionAttribute1]".to_owned()),
            Just("[members]".to_owned()),
            Just("[description]".to_owned()),
            "\"[a,$1 ]{0,12}\"",
        ];
        leaf.prop_recursive(8, 48, 3, |inner| {
            prop_oneof![
                (inner.clone(), "[a ,]{1,2}", "[a$1]{0,12}").prop_map(|(s, old, new)| {
                    format!("Replace({s}, \"{old}\", , , \"{new}\", , )")
                }),
                (
                    inner.clone(),
                    prop_oneof![Just("(a)"), Just("a*"), Just(""), Just("(a)(a)?")],
                    "[a$1{}]{0,12}"
                )
                    .prop_map(|(s, pattern, new)| {
                        format!("Replace({s}, , \"{pattern}\", , \"{new}\", , )")
                    }),
                (inner.clone(), "[ab]{0,12}").prop_map(|(s, new)| {
                    format!("Replace({s}, , \"(?<g>a*)\", \"g\", \"{new}\", , )")
                }),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("Append({a}, {b})")),
                prop::collection::vec(inner.clone(), 1..4)
                    .prop_map(|v| format!("Join(\"--\", {})", v.join(", "))),
                inner.clone().prop_map(|a| format!("ConvertToBase64({a})")),
                inner.clone().prop_map(|a| format!("ConvertToUTF8Hex({a})")),
                inner.clone().prop_map(|a| format!("Split({a}, \",\")")),
                inner
                    .clone()
                    .prop_map(|a| format!("RemoveDuplicates(Split({a}, \"a\"))")),
                inner.clone().prop_map(|a| format!("ToUpper({a})")),
                inner.clone().prop_map(|a| format!("PCase({a}, \" a\")")),
                inner.clone().prop_map(|a| format!("Word({a}, 2, \" a\")")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("InStr({a}, {b})")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("IIF({a} = {b}, {a}, {b})")),
            ]
        })
    }

    /// The same calls nested a few hundred deep, one inside the other.
    fn deep() -> impl Strategy<Value = String> {
        let open = prop_oneof![
            Just(("Not(", ")")),
            Just(("ToUpper(", ")")),
            Just(("Append(", ", \"ab\")")),
            Just(("Join(\",\", [mail], ", ")")),
            Just(("Replace(", ", \"a\", , , \"aa\", , )")),
            Just(("Replace(", ", , \"(a)\", , \"$1$1\", , )")),
            Just(("ConvertToBase64(", ")")),
            Just(("IIF([mail] = ", ", \"a\", \"b\")")),
        ];
        prop::collection::vec(open, 0..260).prop_map(|levels| {
            let mut text: String = levels.iter().map(|(open, _)| *open).collect();
            text.push_str("[mail]");
            text.extend(levels.iter().rev().map(|(_, close)| *close));
            text
        })
    }

    /// A user whose attributes are as long as the directory allows.
    fn longest_user() -> Vec<(&'static str, crate::mapping::Value)> {
        use crate::mapping::Value;
        vec![
            ("userPrincipalName", Value::text("u@contoso.com")),
            (
                "mail",
                Value::text(format!("{}@contoso.com", "a".repeat(243))),
            ),
            ("extensionAttribute1", Value::text("a,".repeat(512))),
            ("description", Value::text("a ".repeat(512))),
            (
                "members",
                Value::List(
                    (0..50)
                        .map(|_| Value::Reference(uuid::Uuid::nil()))
                        .collect(),
                ),
            ),
        ]
    }

    /// Parses, checks, compiles and evaluates `text`: never a panic, always an answer in time,
    /// and an expression the check accepts never meets a bound when evaluated.
    fn parse_check_and_evaluate(text: &str) -> Result<(), TestCaseError> {
        use rand::{SeedableRng, rngs::StdRng};

        use crate::mapping::{
            AttributeMapping, AttributeMappings, Environment, source::USER_ATTRIBUTES,
        };

        // A user's attributes, with a group's unlimited ones and members.
        let known: Vec<&'static str> = USER_ATTRIBUTES
            .iter()
            .copied()
            .chain(["description", "members"])
            .collect();
        let started = std::time::Instant::now();
        let Ok(expression) = Expression::parse(text) else {
            return Ok(());
        };
        let checked = expression.check_attributes(&known);
        let mappings = AttributeMappings(vec![
            AttributeMapping::direct("userPrincipalName", "userName").matching(1),
            AttributeMapping::expression(text, "displayName"),
        ]);
        // Saving refuses what the check refuses, with the same message.
        let saved = mappings.compile(&known, &[]).err().unwrap_or_default();
        if let Err(e) = &checked {
            prop_assert!(saved.iter().any(|f| f.message == e.to_string()));
        }
        let mut random = StdRng::seed_from_u64(5);
        let mut environment = Environment {
            now: time::OffsetDateTime::UNIX_EPOCH,
            random: &mut random,
        };
        let evaluated = expression.evaluate(&longest_user(), &mut environment);
        let elapsed = started.elapsed();
        prop_assert!(
            elapsed < std::time::Duration::from_millis(200),
            "{} took {:?}",
            text,
            elapsed
        );
        if checked.is_ok()
            && let Err(e) = &evaluated
        {
            let message = e.to_string();
            prop_assert!(
                !message.contains(" would "),
                "{} passed the check but {}",
                text,
                message
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn growing_calls_end_within_the_bounds(text in growing()) {
            parse_check_and_evaluate(&text)?;
        }

        #[test]
        fn deep_nesting_ends_within_the_bounds(text in deep()) {
            parse_check_and_evaluate(&text)?;
        }

        #[test]
        fn fragments_end_within_the_bounds(text in fragments()) {
            parse_check_and_evaluate(&text)?;
        }
    }
}
