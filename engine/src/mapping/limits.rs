//! How much an expression may make, so that no expression can exhaust the console (nine nested
//! `Replace([mail], "a", , , "aaaaaaaaaa", , )`, 330 characters, used to ask for 10 GB).
//!
//! - A value a function produces has at most [`MAX_VALUE`] characters (64 Ki): 64 times the
//!   longest attribute the directory holds (1,024-character extension attributes), more than
//!   every user attribute joined, and far more than SCIM targets take for one attribute.
//! - One evaluation produces at most [`MAX_PRODUCED`] characters in all (1 Mi) and takes at most
//!   [`MAX_STEPS`] steps (a function call, a value `Split` makes, a match a `Replace` pattern
//!   finds), which bounds its time as well: every function is linear in its arguments.
//! - An expression has at most 10,000 characters and nests calls at most 200 deep (the parser).
//!
//! The evaluator enforces the first two before it builds anything oversized, and fails with an
//! [`super::EvaluationError`] (that object's `MappingError`). [`check`] refuses, when mappings are
//! saved, an expression that could go over them: a worst-case analysis of its tree, from the
//! longest value each attribute can have ([`super::source::most`]) and the constants' lengths.

use super::{
    expression::{ErrorKind, Expr, ExpressionError, Node},
    functions::{self, Piece},
    source,
};

/// The most characters of one value a function produces.
pub const MAX_VALUE: usize = 65_536;
/// The most characters one evaluation produces in all.
pub const MAX_PRODUCED: usize = 1 << 20;
/// The most steps of one evaluation: function calls, values `Split` makes, matches `Replace`
/// patterns find.
pub const MAX_STEPS: usize = 100_000;

/// No bound is known.
pub const UNLIMITED: u64 = u64::MAX;

/// What a value can be at worst: each of its values has at most `each` characters, it has at
/// most `values` values, and at most `total` characters in all. Sums saturate at [`UNLIMITED`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub each: u64,
    pub values: u64,
    pub total: u64,
}

impl Size {
    /// An argument left empty.
    pub const NONE: Size = Size {
        each: 0,
        values: 0,
        total: 0,
    };

    pub const fn one(chars: u64) -> Size {
        Size {
            each: chars,
            values: 1,
            total: chars,
        }
    }

    pub const fn many(each: u64, values: u64) -> Size {
        Size {
            each,
            values,
            total: each.saturating_mul(values),
        }
    }

    fn max(self, other: Size) -> Size {
        Size {
            each: self.each.max(other.each),
            values: self.values.max(other.values),
            total: self.total.max(other.total),
        }
    }
}

/// `65536` as `65,536`, for messages.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The functions that build a new text (or, for `Split`, new values): what the evaluator charges
/// to an evaluation's budget. The others give back one of their arguments, or something short
/// (a number, a boolean, a date).
pub fn produces(function: &str) -> bool {
    matches!(
        function,
        "Append"
            | "ConvertToBase64"
            | "ConvertToUTF8Hex"
            | "FormatDateTime"
            | "Guid"
            | "Join"
            | "Left"
            | "Mid"
            | "NormalizeDiacritics"
            | "PCase"
            | "RandomString"
            | "Replace"
            | "Split"
            | "StripSpaces"
            | "ToLower"
            | "ToUpper"
            | "Word"
    )
}

/// Refuses an expression that could, for some object the directory can hold, produce a value of
/// more than [`MAX_VALUE`] characters, or more than one evaluation's budget. Gives the worst
/// case of its value otherwise.
pub fn check(root: &Expr) -> Result<Size, ExpressionError> {
    let mut analysis = Analysis {
        produced: 0,
        steps: 0,
    };
    let size = analysis.size(root)?;
    let over = |most: u64, limit: usize, steps: bool| {
        (most > limit as u64).then_some(ExpressionError {
            at: root.at,
            kind: ErrorKind::TooMuchWork { most, steps },
        })
    };
    if let Some(e) = over(analysis.produced, MAX_PRODUCED, false)
        .or_else(|| over(analysis.steps, MAX_STEPS, true))
    {
        return Err(e);
    }
    Ok(size)
}

struct Analysis {
    produced: u64,
    steps: u64,
}

impl Analysis {
    /// Depth-first: the first call found over the bound is the innermost, where it goes wrong.
    /// The tree is at most 200 calls deep (the parser), so recursion is safe.
    fn size(&mut self, expr: &Expr) -> Result<Size, ExpressionError> {
        let (function, args) = match &expr.node {
            Node::Attribute(name) => return Ok(source::most(name)),
            Node::Text(text) => return Ok(Size::one(chars(text))),
            Node::Number(n) => return Ok(Size::one(n.to_string().len() as u64)),
            Node::Keyword(word) => return Ok(Size::one(word.len() as u64)),
            Node::Compare { left, right, .. } => {
                self.size(left)?;
                self.size(right)?;
                return Ok(Size::one(BOOLEAN));
            }
            Node::Call { function, args } => (function.name, args),
        };
        let mut sizes = Vec::with_capacity(args.len());
        for arg in args {
            sizes.push(match arg {
                Some(arg) => self.size(arg)?,
                None => Size::NONE,
            });
        }
        let size = worst(function, args, &sizes);
        self.steps = self.steps.saturating_add(1);
        if function == "Split" {
            self.steps = self.steps.saturating_add(size.values);
        }
        if function == "Replace" && args.get(2).is_some_and(Option::is_some) {
            // A pattern can match at every character, and once more at the end.
            let source = sizes.first().map_or(0, |s| s.each);
            self.steps = self.steps.saturating_add(source.saturating_add(1));
        }
        if produces(function) {
            self.produced = self.produced.saturating_add(size.total);
        }
        if size.each > MAX_VALUE as u64 {
            return Err(ExpressionError {
                at: expr.at,
                kind: ErrorKind::TooLarge {
                    most: size.each,
                    why: why(function, args, &sizes),
                },
            });
        }
        Ok(size)
    }
}

fn chars(text: &str) -> u64 {
    text.chars().count() as u64
}

/// "False", the longest boolean.
const BOOLEAN: u64 = 5;
/// A whole number: "-9223372036854775808".
const NUMBER: u64 = 20;
/// A date as Entra prints it, "12/31/9999 11:59:59 PM", with room to spare.
const DATE: u64 = 32;
/// A GUID or an object id.
const ID: u64 = 36;
/// What `FormatDateTime` writes at most for one character of the format (`K`: "+14:00").
const DATE_FORMAT_GROWTH: u64 = 6;

/// The worst case of `function`'s value from the worst cases of its arguments.
fn worst(function: &str, args: &[Option<Expr>], sizes: &[Size]) -> Size {
    let arg = |i: usize| sizes.get(i).copied().unwrap_or(Size::NONE);
    let any =
        |indexes: &mut dyn Iterator<Item = usize>| indexes.map(arg).fold(Size::NONE, Size::max);
    match function {
        "Append" => Size::one(arg(0).each.saturating_add(arg(1).each)),
        "AppRoleAssignmentsComplex" | "AssertiveAppRoleAssignmentsComplex" => {
            Size::many(source::ROLE, arg(0).values)
        }
        "SingleAppRoleAssignment" => Size::one(source::ROLE),
        "BitAnd" | "Count" | "DateDiff" | "InStr" | "NumFromDate" => Size::one(NUMBER),
        "CBool" | "IsNull" | "IsNullOrEmpty" | "IsPresent" | "IsString" | "Not" => {
            Size::one(BOOLEAN)
        }
        "CDate" | "DateAdd" | "DateFromNum" | "Now" => Size::one(DATE),
        "CStr" => Size::one(arg(0).each.max(DATE)),
        "Guid" => Size::one(ID),
        "Coalesce" | "SelectUniqueValue" => any(&mut (0..sizes.len())),
        "IIF" => any(&mut (1..=2)),
        "Switch" => any(&mut (1..sizes.len()).step_by(2)),
        "Redact" | "IgnoreFlowIfNullOrEmpty" | "RemoveDuplicates" => arg(0),
        "Item" => Size::one(arg(0).each),
        // UTF-16 takes up to 4 bytes a character; base64 writes 4 characters for 3 bytes.
        "ConvertToBase64" => Size::one(arg(0).each.saturating_mul(4).div_ceil(3).saturating_mul(4)),
        // UTF-8 takes up to 4 bytes a character, each written as two hex digits.
        "ConvertToUTF8Hex" => Size::one(arg(0).each.saturating_mul(8)),
        "FormatDateTime" => {
            let output = if sizes.len() == 4 { 3 } else { 2 };
            Size::one(arg(output).each.saturating_mul(DATE_FORMAT_GROWTH))
        }
        "Join" => {
            let sources = &sizes[1.min(sizes.len())..];
            let values = sources.iter().fold(0u64, |n, s| n.saturating_add(s.values));
            let total = sources
                .iter()
                .fold(0u64, |n, s| n.saturating_add(s.total))
                .saturating_add(arg(0).each.saturating_mul(values.saturating_sub(1)));
            Size::one(total)
        }
        "Split" => {
            let source = arg(0).each;
            // Values are trimmed and empty ones dropped: each has a character and a delimiter.
            Size {
                each: source,
                values: source.div_ceil(2),
                total: source,
            }
        }
        "RandomString" => match args.first() {
            Some(Some(Expr {
                node: Node::Number(n @ 1..=256),
                ..
            })) => Size::one(*n as u64),
            _ => Size::one(256),
        },
        // Case mapping can lengthen a value (ß gives SS; at most three characters for one), and
        // NormalizeDiacritics too (Hangul syllables decompose into up to three letters): counting
        // that at every nesting would refuse harmless chains such as ToLower(ToUpper(...)), so
        // the analysis takes their source's length and the run-time bound covers the rest (at
        // most three times the source, never more).
        "Left"
        | "Mid"
        | "Word"
        | "StripSpaces"
        | "ToLower"
        | "ToUpper"
        | "PCase"
        | "NormalizeDiacritics" => Size::one(arg(0).each),
        "Replace" => Size::one(
            replace_forms(args, sizes)
                .into_iter()
                .map(|f| f.most)
                .max()
                .unwrap_or(arg(0).each),
        ),
        // A function added to the catalogue without a rule here: as long as its arguments.
        _ => any(&mut (0..sizes.len())),
    }
}

/// One way `Replace` can go, with its worst case and how to say it.
struct Form {
    most: u64,
    why: String,
}

/// Every form `Replace` can take with these arguments (which runs depends on which are null at
/// run time), each with its worst case:
/// - oldValue and template: the source in place of each oldValue in the template;
/// - oldValue and replacementValue: each oldValue in the source replaced;
/// - regexPattern, regexGroupName and replacementValue: the value in place of each match of the
///   group (matches can be empty: at most one more than the source's characters);
/// - regexPattern and replacementValue: the value, its `$1` and `${name}` expanded, in place of
///   each match (a group is part of its match, and the matches together at most the source, so
///   that one reference to a group gives back no more than the match it replaces);
/// - regexPattern, regexGroupName and replacementAttributeName: no longer than either.
///
/// A longer oldValue means fewer and no longer matches, so its shortest length gives the worst
/// case (1 when it is not a constant: an empty oldValue does nothing).
fn replace_forms(args: &[Option<Expr>], sizes: &[Size]) -> Vec<Form> {
    let given = |i: usize| args.get(i).is_some_and(Option::is_some);
    let constant = |i: usize| match args.get(i) {
        Some(Some(Expr {
            node: Node::Text(text),
            ..
        })) => Some(text.as_str()),
        _ => None,
    };
    let each = |i: usize| sizes.get(i).map_or(0, |s| s.each);
    let describe = |i: usize, name: &str| match constant(i) {
        Some(text) => quote(text),
        None => format!("{name} (up to {} characters)", thousands(each(i))),
    };
    let source = each(0);
    let mut forms = Vec::new();
    let old = match constant(1) {
        Some("") => None,
        Some(text) => Some(chars(text)),
        None => given(1).then_some(1),
    };
    if let Some(old) = old {
        if given(6) {
            let template = each(6);
            let matches = template / old;
            forms.push(Form {
                most: template
                    .saturating_add(matches.saturating_mul(source.saturating_sub(old))),
                why: format!(
                    "Replace puts its source, up to {} characters, in place of each of up to {} {} in {}",
                    thousands(source),
                    thousands(matches),
                    describe(1, "oldValue"),
                    describe(6, "template"),
                ),
            });
        }
        if given(4) {
            let replacement = each(4);
            let matches = source / old;
            forms.push(Form {
                most: source
                    .saturating_add(matches.saturating_mul(replacement.saturating_sub(old))),
                why: format!(
                    "Replace turns each of up to {} {} into {}",
                    thousands(matches),
                    describe(1, "oldValue"),
                    describe(4, "replacementValue"),
                ),
            });
        }
    }
    let matches = source.saturating_add(1);
    if given(2) && given(4) {
        let replacement = each(4);
        if given(3) {
            forms.push(Form {
                most: source.saturating_add(matches.saturating_mul(replacement)),
                why: format!(
                    "Replace puts {} in place of each of up to {} matches in a source of up to {} characters",
                    describe(4, "replacementValue"),
                    thousands(matches),
                    thousands(source),
                ),
            });
        }
        // With a constant group name, the form above always runs instead.
        if constant(3).is_none() {
            let (literal, groups) = match constant(4) {
                Some(text) => functions::pieces(text)
                    .iter()
                    .fold((0u64, 0u64), |(l, g), piece| match piece {
                        Piece::Literal(text) => (l.saturating_add(chars(text)), g),
                        Piece::Group(_) => (l, g.saturating_add(1)),
                    }),
                // "$1" is the shortest reference to a group.
                None => (replacement, replacement / 2),
            };
            forms.push(Form {
                most: source
                    .saturating_add(matches.saturating_mul(literal))
                    .saturating_add(groups.saturating_sub(1).saturating_mul(source)),
                why: format!(
                    "Replace writes {} for each of up to {} matches in a source of up to {} characters{}",
                    describe(4, "replacementValue"),
                    thousands(matches),
                    thousands(source),
                    match groups {
                        0 => String::new(),
                        1 => ", with a group of the match".to_owned(),
                        n => format!(", with {} groups of the match", thousands(n)),
                    }
                ),
            });
        }
    }
    if given(2) && given(3) && given(5) {
        forms.push(Form {
            most: source.max(each(5)),
            why: "Replace gives its source or part of replacementAttributeName".to_owned(),
        });
    }
    forms
}

/// Why `function` can produce that much, in the administrator's terms.
fn why(function: &str, args: &[Option<Expr>], sizes: &[Size]) -> String {
    let arg = |i: usize| sizes.get(i).copied().unwrap_or(Size::NONE);
    match function {
        "Replace" => replace_forms(args, sizes)
            .into_iter()
            .max_by_key(|f| f.most)
            .map(|f| f.why)
            .unwrap_or_else(|| "Replace gives its source".to_owned()),
        "Join" => {
            let unlimited = args
                .iter()
                .zip(sizes)
                .skip(1)
                .find(|(_, s)| s.values == UNLIMITED);
            match unlimited {
                Some((Some(source), _)) => format!(
                    "Join joins every value of {}, and nothing limits how many it has",
                    shorten(&source.to_string())
                ),
                _ => {
                    let sources = &sizes[1.min(sizes.len())..];
                    let values = sources.iter().fold(0u64, |n, s| n.saturating_add(s.values));
                    format!(
                        "Join joins up to {} values with {} between them",
                        thousands(values),
                        match &args.first() {
                            Some(Some(Expr {
                                node: Node::Text(text),
                                ..
                            })) => quote(text),
                            _ => format!(
                                "a separator of up to {} characters",
                                thousands(arg(0).each)
                            ),
                        }
                    )
                }
            }
        }
        "Append" => format!(
            "Append joins values of up to {} and {} characters",
            thousands(arg(0).each),
            thousands(arg(1).each)
        ),
        "ConvertToBase64" => format!(
            "ConvertToBase64 writes up to 16 characters for each 3 of its source, up to {} characters",
            thousands(arg(0).each)
        ),
        "ConvertToUTF8Hex" => format!(
            "ConvertToUTF8Hex writes up to 8 hex digits for each character of its source, up to {} characters",
            thousands(arg(0).each)
        ),
        "FormatDateTime" => format!(
            "FormatDateTime writes up to {DATE_FORMAT_GROWTH} characters for each character of outputFormat, up to {}",
            thousands(arg(if sizes.len() == 4 { 3 } else { 2 }).each)
        ),
        other => format!(
            "{other} gives a value as long as its arguments, up to {} characters",
            thousands(sizes.iter().map(|s| s.each).max().unwrap_or(0))
        ),
    }
}

/// A constant as written in the expression, cut short when long.
fn quote(text: &str) -> String {
    shorten(
        &Expr {
            node: Node::Text(text.to_owned()),
            at: super::expression::Position { line: 1, column: 1 },
        }
        .to_string(),
    )
}

fn shorten(text: &str) -> String {
    const MOST: usize = 40;
    if text.chars().count() <= MOST {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MOST - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::mapping::Expression;

    fn worst(text: &str) -> Result<Size, String> {
        let expression = Expression::parse(text).map_err(|e| e.to_string())?;
        check(&expression.root).map_err(|e| e.to_string())
    }

    #[test]
    fn worst_cases_follow_the_attributes_and_the_constants() {
        // The directory's limits: 256 for most attributes, 1,024 for extension attributes.
        assert_eq!(worst("[givenName]"), Ok(Size::one(256)));
        assert_eq!(worst("[extensionAttribute3]"), Ok(Size::one(1_024)));
        assert_eq!(
            worst(r#"Join(" ", [givenName], [surname])"#),
            Ok(Size::one(513))
        );
        assert_eq!(
            worst(r#"Append([mailNickname], "@contoso.com")"#),
            Ok(Size::one(1_036))
        );
        // Each "a" of up to 256 becomes ten characters.
        assert_eq!(
            worst(r#"Replace([mail], "a", , , "aaaaaaaaaa", , )"#),
            Ok(Size::one(2_560))
        );
        // A longer oldValue means fewer matches.
        assert_eq!(
            worst(r#"Replace([mail], "ab", , , "abc", , )"#),
            Ok(Size::one(384))
        );
        // Entra's phone example: one group in place of each match gives no more than the source.
        assert_eq!(
            worst(
                r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#
            ),
            Ok(Size::one(256))
        );
        assert_eq!(
            worst(r#"Split([mail], ",")"#).map(|s| (s.values, s.total)),
            Ok((128, 256))
        );
        assert_eq!(
            worst(r#"Join(",", Split([extensionAttribute1], ";"))"#),
            Ok(Size::one(1_024 + 511))
        );
        assert_eq!(worst("Count([members])"), Ok(Size::one(20)));
        assert_eq!(worst("RandomString(12, 1, 1, 1, 1)"), Ok(Size::one(12)));
        assert_eq!(worst("ConvertToBase64([givenName])"), Ok(Size::one(1_368)));
    }

    #[test]
    fn what_could_go_over_is_refused_with_where_and_why() {
        assert_eq!(
            worst(r#"Join(",", [members])"#).unwrap_err(),
            "line 1, column 1: this expression can produce a value of any length (Join joins \
             every value of [members], and nothing limits how many it has); a value may hold at \
             most 65,536"
        );
        let twice = r#"ToLower(Replace(Replace([extensionAttribute1], , "", , "0123456789", , ), , "", , "0123456789", , ))"#;
        assert_eq!(
            worst(twice).unwrap_err(),
            "line 1, column 9: this expression can produce up to 124,024 characters (Replace \
             writes \"0123456789\" for each of up to 11,275 matches in a source of up to 11,274 \
             characters); a value may hold at most 65,536"
        );
    }

    #[test]
    fn numbers_are_written_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(65_536), "65,536");
        assert_eq!(thousands(1_000_000_000), "1,000,000,000");
    }
}
