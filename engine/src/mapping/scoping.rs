//! Scoping filters: which objects an application provisions. Clauses inside a filter are ANDed,
//! filters are ORed, and no filter means everyone in scope. Entra's rules: a null or empty
//! attribute fails every clause except IS NULL (true) ("scoping filters will return false if the
//! value is null / empty"); EQUALS, NOT EQUALS, Includes, ENDS_WITH and the regular expressions
//! are case-sensitive; Greater_Than(_OR_EQUALS), `&` and `!&` compare whole numbers; multi-valued
//! attributes cannot be filtered on. REGEX MATCH matches the whole value (the page's
//! `([1-9][0-9])` "matches any number between 10 and 99"), with Rust's linear-time `regex`.
//!
//! [`ScopingFilters`] is the stored, editable form (serde, Entra's operator names);
//! [`ScopingFilters::compile`] checks every field and gives the [`Scope`] that decides.

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{
    FieldError,
    expression::compile_pattern,
    functions,
    source::{Source, canonical},
    value::Value,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Operator {
    #[serde(rename = "EQUALS")]
    Equals,
    #[serde(rename = "NOT EQUALS")]
    NotEquals,
    #[serde(rename = "IS TRUE")]
    IsTrue,
    #[serde(rename = "IS FALSE")]
    IsFalse,
    #[serde(rename = "IS NULL")]
    IsNull,
    #[serde(rename = "IS NOT NULL")]
    IsNotNull,
    #[serde(rename = "REGEX MATCH")]
    RegexMatch,
    #[serde(rename = "NOT REGEX MATCH")]
    NotRegexMatch,
    #[serde(rename = "Greater_Than")]
    GreaterThan,
    #[serde(rename = "Greater_Than_OR_EQUALS")]
    GreaterThanOrEquals,
    #[serde(rename = "Includes")]
    Includes,
    #[serde(rename = "ENDS_WITH")]
    EndsWith,
    /// Bitwise and: true when the attribute and the value share a set bit.
    #[serde(rename = "&")]
    BitAnd,
    #[serde(rename = "!&")]
    NotBitAnd,
}

impl Operator {
    pub const ALL: [Operator; 14] = [
        Operator::Equals,
        Operator::NotEquals,
        Operator::IsTrue,
        Operator::IsFalse,
        Operator::IsNull,
        Operator::IsNotNull,
        Operator::RegexMatch,
        Operator::NotRegexMatch,
        Operator::GreaterThan,
        Operator::GreaterThanOrEquals,
        Operator::Includes,
        Operator::EndsWith,
        Operator::BitAnd,
        Operator::NotBitAnd,
    ];

    /// The name the portal shows and the stored form uses.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Equals => "EQUALS",
            Operator::NotEquals => "NOT EQUALS",
            Operator::IsTrue => "IS TRUE",
            Operator::IsFalse => "IS FALSE",
            Operator::IsNull => "IS NULL",
            Operator::IsNotNull => "IS NOT NULL",
            Operator::RegexMatch => "REGEX MATCH",
            Operator::NotRegexMatch => "NOT REGEX MATCH",
            Operator::GreaterThan => "Greater_Than",
            Operator::GreaterThanOrEquals => "Greater_Than_OR_EQUALS",
            Operator::Includes => "Includes",
            Operator::EndsWith => "ENDS_WITH",
            Operator::BitAnd => "&",
            Operator::NotBitAnd => "!&",
        }
    }

    /// Whether the clause has a value to compare with.
    pub fn takes_value(self) -> bool {
        !matches!(
            self,
            Operator::IsTrue | Operator::IsFalse | Operator::IsNull | Operator::IsNotNull
        )
    }
}

/// One condition on one attribute, as an administrator writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Clause {
    pub attribute: String,
    pub operator: Operator,
    #[serde(default)]
    pub value: String,
}

/// Clauses that must all hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopingFilter {
    #[serde(default)]
    pub name: String,
    pub clauses: Vec<Clause>,
}

/// Filters of which one must hold; none means no restriction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ScopingFilters(pub Vec<ScopingFilter>);

/// The attributes scoping filters cannot use: they are multi-valued.
const MULTI_VALUED: &[&str] = &["members", "appRoleAssignments"];

enum Test {
    Text(String),
    Number(i64),
    Pattern(Regex),
    None,
}

struct CompiledClause {
    attribute: &'static str,
    operator: Operator,
    test: Test,
}

/// Filters that passed [`ScopingFilters::compile`]: they decide, and cannot fail.
pub struct Scope(Vec<Vec<CompiledClause>>);

impl ScopingFilters {
    /// Checks every clause against the source's attributes (`known`, such as
    /// [`super::source::USER_ATTRIBUTES`]) and its operator's needs, reporting every problem.
    pub fn compile(&self, known: &[&'static str]) -> Result<Scope, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut filters = Vec::new();
        for (f, filter) in self.0.iter().enumerate() {
            if filter.clauses.is_empty() {
                errors.push(FieldError {
                    field: format!("filters[{f}].clauses"),
                    message: "a scoping filter needs at least one clause".into(),
                });
            }
            let mut clauses = Vec::new();
            for (c, clause) in filter.clauses.iter().enumerate() {
                let error = |field: &str, message: String| FieldError {
                    field: format!("filters[{f}].clauses[{c}].{field}"),
                    message,
                };
                let attribute = match canonical(clause.attribute.trim(), known) {
                    Some(name) if MULTI_VALUED.contains(&name) => {
                        errors.push(error(
                            "attribute",
                            format!("{name} is multi-valued; scoping filters cannot use it"),
                        ));
                        continue;
                    }
                    Some(name) => name,
                    None => {
                        let hint =
                            functions::closest(clause.attribute.trim(), known.iter().copied())
                                .map(|s| format!("; did you mean {s}?"))
                                .unwrap_or_default();
                        let message = if clause.attribute.trim().is_empty() {
                            "choose a source attribute".to_owned()
                        } else {
                            format!("unknown attribute {:?}{hint}", clause.attribute.trim())
                        };
                        errors.push(error("attribute", message));
                        continue;
                    }
                };
                let value = clause.value.trim();
                let test = match clause.operator {
                    op if !op.takes_value() => Test::None,
                    Operator::RegexMatch | Operator::NotRegexMatch => {
                        match compile_pattern(&format!("^(?:{value})$")) {
                            Ok(regex) if !value.is_empty() => Test::Pattern(regex),
                            Ok(_) => {
                                errors.push(error("value", "enter a regular expression".into()));
                                continue;
                            }
                            Err(e) => {
                                errors.push(error(
                                    "value",
                                    format!("not a valid regular expression: {e}"),
                                ));
                                continue;
                            }
                        }
                    }
                    Operator::GreaterThan
                    | Operator::GreaterThanOrEquals
                    | Operator::BitAnd
                    | Operator::NotBitAnd => match value.parse::<i64>() {
                        Ok(n) => Test::Number(n),
                        Err(_) => {
                            errors.push(error(
                                "value",
                                format!(
                                    "{} compares whole numbers; {value:?} is not one",
                                    clause.operator.name()
                                ),
                            ));
                            continue;
                        }
                    },
                    _ if clause.value.is_empty() => {
                        errors.push(error(
                            "value",
                            format!("{} needs a value", clause.operator.name()),
                        ));
                        continue;
                    }
                    // Compared exactly, as written (case and spaces matter).
                    _ => Test::Text(clause.value.clone()),
                };
                clauses.push(CompiledClause {
                    attribute,
                    operator: clause.operator,
                    test,
                });
            }
            filters.push(clauses);
        }
        if errors.is_empty() {
            Ok(Scope(filters))
        } else {
            Err(errors)
        }
    }
}

impl Scope {
    /// Whether `object` is in scope: no filters, or every clause of some filter holds.
    pub fn admits(&self, object: &dyn Source) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|clauses| {
                clauses
                    .iter()
                    .all(|clause| clause.holds(&object.attribute(clause.attribute)))
            })
    }
}

impl CompiledClause {
    fn holds(&self, value: &Value) -> bool {
        if value.is_null_or_empty() {
            return self.operator == Operator::IsNull;
        }
        let text = value.as_text();
        let text = text.as_deref();
        let number = || match value {
            Value::Number(n) => Some(*n),
            other => other.as_text()?.trim().parse::<i64>().ok(),
        };
        let boolean = || match value {
            Value::Bool(b) => Some(*b),
            Value::Text(t) if t.eq_ignore_ascii_case("true") => Some(true),
            Value::Text(t) if t.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        };
        match (self.operator, &self.test) {
            (Operator::IsNull, _) => false,
            (Operator::IsNotNull, _) => true,
            (Operator::IsTrue, _) => boolean() == Some(true),
            (Operator::IsFalse, _) => boolean() == Some(false),
            (Operator::Equals, Test::Text(t)) => text == Some(t.as_str()),
            (Operator::NotEquals, Test::Text(t)) => text.is_some_and(|v| v != t),
            (Operator::Includes, Test::Text(t)) => text.is_some_and(|v| v.contains(t.as_str())),
            (Operator::EndsWith, Test::Text(t)) => text.is_some_and(|v| v.ends_with(t.as_str())),
            (Operator::RegexMatch, Test::Pattern(p)) => text.is_some_and(|v| p.is_match(v)),
            (Operator::NotRegexMatch, Test::Pattern(p)) => text.is_some_and(|v| !p.is_match(v)),
            (Operator::GreaterThan, Test::Number(n)) => number().is_some_and(|v| v > *n),
            (Operator::GreaterThanOrEquals, Test::Number(n)) => number().is_some_and(|v| v >= *n),
            (Operator::BitAnd, Test::Number(n)) => number().is_some_and(|v| v & n != 0),
            (Operator::NotBitAnd, Test::Number(n)) => number().is_some_and(|v| v & n == 0),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &[
        "department",
        "jobTitle",
        "employeeId",
        "accountEnabled",
        "userPrincipalName",
        "extensionAttribute1",
        "members",
    ];

    fn clause(attribute: &str, operator: Operator, value: &str) -> Clause {
        Clause {
            attribute: attribute.into(),
            operator,
            value: value.into(),
        }
    }

    fn scope(filters: Vec<Vec<Clause>>) -> Scope {
        ScopingFilters(
            filters
                .into_iter()
                .map(|clauses| ScopingFilter {
                    name: String::new(),
                    clauses,
                })
                .collect(),
        )
        .compile(KNOWN)
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// One clause on `attribute` against a matching value, a non-matching value and null.
    fn check(operator: Operator, value: &str, matching: Value, other: Value) {
        let scope = scope(vec![vec![clause("extensionAttribute1", operator, value)]]);
        let with = |v: Value| vec![("extensionAttribute1", v)];
        assert!(
            scope.admits(&with(matching.clone())),
            "{} {value:?} on {matching:?}",
            operator.name()
        );
        assert!(
            !scope.admits(&with(other.clone())),
            "{} {value:?} on {other:?}",
            operator.name()
        );
        let null_passes = operator == Operator::IsNull;
        assert_eq!(
            scope.admits(&with(Value::Null)),
            null_passes,
            "{} on null",
            operator.name()
        );
        assert_eq!(
            scope.admits(&with(Value::text(""))),
            null_passes,
            "{} on empty",
            operator.name()
        );
    }

    #[test]
    fn every_operator_matches_rejects_and_treats_null_as_entra_does() {
        use Operator::*;
        check(Equals, "Sales", Value::text("Sales"), Value::text("sales"));
        check(
            NotEquals,
            "Sales",
            Value::text("sales"),
            Value::text("Sales"),
        );
        check(IsTrue, "", Value::Bool(true), Value::Bool(false));
        check(IsTrue, "", Value::text("True"), Value::text("no"));
        check(IsFalse, "", Value::Bool(false), Value::Bool(true));
        check(IsNotNull, "", Value::text("x"), Value::Null);
        // The page's example: ([1-9][0-9]) matches any number between 10 and 99.
        check(
            RegexMatch,
            "([1-9][0-9])",
            Value::text("42"),
            Value::text("123"),
        );
        check(
            RegexMatch,
            ".*\\@contoso.com",
            Value::text("ada@contoso.com"),
            Value::text("ada@fabrikam.com"),
        );
        check(
            NotRegexMatch,
            ".*\\@contoso.com",
            Value::text("ada@fabrikam.com"),
            Value::text("ada@contoso.com"),
        );
        check(
            GreaterThan,
            "1000000",
            Value::text("1000001"),
            Value::text("1000000"),
        );
        check(GreaterThan, "10", Value::Number(11), Value::text("abc"));
        check(
            GreaterThanOrEquals,
            "1000000",
            Value::text("1000000"),
            Value::text("999999"),
        );
        check(
            Includes,
            "Eng",
            Value::text("Platform Engineering"),
            Value::text("platform engineering"),
        );
        check(
            EndsWith,
            "@contoso.com",
            Value::text("ada@contoso.com"),
            Value::text("ada@contoso.co"),
        );
        check(BitAnd, "2", Value::Number(514), Value::Number(512));
        check(NotBitAnd, "2", Value::Number(512), Value::text("514"));
        // IS NULL: true on null and empty (checked in `check`), false on a value.
        let is_null = scope(vec![vec![clause("department", IsNull, "")]]);
        assert!(is_null.admits(&vec![("department", Value::Null)]));
        assert!(!is_null.admits(&vec![("department", Value::text("Sales"))]));
    }

    #[test]
    fn clauses_are_anded_and_filters_ored() {
        let sales_managers = vec![
            clause("department", Operator::Equals, "Sales"),
            clause("jobTitle", Operator::Includes, "Manager"),
        ];
        let engineers = vec![clause("department", Operator::Equals, "Engineering")];
        let scope = scope(vec![sales_managers, engineers]);
        let user = |department: &str, title: &str| {
            vec![
                ("department", Value::text(department)),
                ("jobTitle", Value::text(title)),
            ]
        };
        assert!(scope.admits(&user("Sales", "Sales Manager")));
        assert!(
            !scope.admits(&user("Sales", "Analyst")),
            "one clause of two fails"
        );
        assert!(
            scope.admits(&user("Engineering", "Analyst")),
            "the second filter holds"
        );
        assert!(!scope.admits(&user("Finance", "Manager")));
        assert!(
            ScopingFilters::default()
                .compile(KNOWN)
                .unwrap()
                .admits(&Vec::new()),
            "no filter: everyone"
        );
    }

    #[test]
    fn every_wrong_field_is_reported_with_its_path() {
        let filters = ScopingFilters(vec![
            ScopingFilter {
                name: "Sales".into(),
                clauses: vec![
                    clause("departmnet", Operator::Equals, "Sales"),
                    clause("employeeId", Operator::GreaterThan, "ten"),
                    clause("jobTitle", Operator::RegexMatch, "(unclosed"),
                    clause("members", Operator::IsNotNull, ""),
                    clause("jobTitle", Operator::Equals, ""),
                ],
            },
            ScopingFilter::default(),
        ]);
        let errors = filters.compile(KNOWN).err().expect("invalid");
        let fields: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            fields[0],
            (
                "filters[0].clauses[0].attribute",
                "unknown attribute \"departmnet\"; did you mean department?"
            )
        );
        assert_eq!(
            fields[1],
            (
                "filters[0].clauses[1].value",
                "Greater_Than compares whole numbers; \"ten\" is not one"
            )
        );
        assert_eq!(fields[2].0, "filters[0].clauses[2].value");
        assert!(
            fields[2].1.starts_with("not a valid regular expression"),
            "{}",
            fields[2].1
        );
        assert_eq!(
            fields[3],
            (
                "filters[0].clauses[3].attribute",
                "members is multi-valued; scoping filters cannot use it"
            )
        );
        assert_eq!(
            fields[4],
            ("filters[0].clauses[4].value", "EQUALS needs a value")
        );
        assert_eq!(
            fields[5],
            (
                "filters[1].clauses",
                "a scoping filter needs at least one clause"
            )
        );
        assert_eq!(errors.len(), 6);
    }

    #[test]
    fn operators_keep_entras_names_when_stored() {
        let json =
            serde_json::to_string(&clause("department", Operator::NotRegexMatch, "x")).unwrap();
        assert_eq!(
            json,
            r#"{"attribute":"department","operator":"NOT REGEX MATCH","value":"x"}"#
        );
        for operator in Operator::ALL {
            let text = serde_json::to_string(&operator).unwrap();
            assert_eq!(text, format!("{:?}", operator.name()));
        }
    }

    #[test]
    fn a_huge_pattern_is_refused_not_run() {
        let filters = ScopingFilters(vec![ScopingFilter {
            name: String::new(),
            clauses: vec![clause("jobTitle", Operator::RegexMatch, "(\\w{100}){100}")],
        }]);
        let errors = filters.compile(KNOWN).err().expect("too big");
        assert!(
            errors[0].message.contains("too large"),
            "{}",
            errors[0].message
        );
    }
}
