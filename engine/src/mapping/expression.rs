//! Entra's attribute-mapping expressions, parsed once into an AST. The syntax is VBA-like:
//! `Function(arg, ...)`, `[attribute]`, `"string"` (with `\"` and `\\` escapes), whole numbers,
//! and empty arguments (`Switch([IsSoftDeleted], , "False", ...)`). Function names are
//! case-sensitive, as in Entra. [`Expression::parse`] is the only constructor; its errors give the
//! line and column, what was found and what was expected, unknown functions with the closest
//! known name, and wrong argument counts. Printing an expression gives text that parses back to it.

use std::fmt;

use super::functions::{self, Function};

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
        }
    }
}

impl std::error::Error for ExpressionError {}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Attribute(String),
    Text(String),
    /// A whole number, as written (`3`, `-1`).
    Number(i64),
    /// `None` arguments were left empty.
    Call {
        function: &'static Function,
        args: Vec<Option<Expr>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub node: Node,
    pub at: Position,
}

/// A parsed expression. Holding one means it is well formed and calls known functions correctly.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression(pub Expr);

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 200;

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, ExpressionError> {
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
        Ok(Expression(expr))
    }

    /// Checks every `[attribute]` against the source's attributes (compared without regard to
    /// case, as directory attribute names are).
    pub fn check_attributes(&self, known: &[&str]) -> Result<(), ExpressionError> {
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
                _ => Ok(()),
            }
        }
        walk(&self.0, known)
    }

    /// The attributes the expression reads, in order of appearance.
    pub fn attributes(&self) -> Vec<&str> {
        fn walk<'a>(expr: &'a Expr, out: &mut Vec<&'a str>) {
            match &expr.node {
                Node::Attribute(name) => out.push(name),
                Node::Call { args, .. } => args.iter().flatten().for_each(|a| walk(a, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
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
        self.0.fmt(f)
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

    fn expr(&mut self) -> Result<Expr, ExpressionError> {
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
            return Err(self.unexpected(&format!("at most {MAX_DEPTH} nested calls")));
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
            r#"Replace([mail], , "(?<user>.*)@contoso.com", "user", , , "${user}@fabrikam.com")"#,
            r#""Company name: \"Contoso\" \\ Ltd""#,
            r#"Guid()"#,
            r#"DateAdd("d", -7, CDate([employeeHireDate]))"#,
        ] {
            let expression = parse(text);
            let printed = expression.to_string();
            assert_eq!(parse(&printed), expression, "{text} -> {printed}");
        }
        let switch = parse(r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#);
        let Node::Call { function, args } = &switch.0.node else {
            panic!("a call")
        };
        assert_eq!((function.name, args.len()), ("Switch", 6));
        assert_eq!(args[1], None, "the empty default value");
        assert_eq!(parse(r#""a\"b\\c""#).0.node, Node::Text("a\"b\\c".into()));
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
}
