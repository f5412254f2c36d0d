//! Evaluating a parsed expression over a source object. Time and randomness come from an
//! [`Environment`] so that a cycle (and a test) decides what `Now()` and `Guid()` give.
//! `IgnoreFlowIfNullOrEmpty` anywhere in an expression stops the whole attribute from flowing.
//! Every evaluation runs under the bounds of [`super::limits`]: a function checks the size of
//! what it is about to build (`Evaluator::produce`) before building it.

use std::{borrow::Cow, fmt};

use rand::RngCore;
use regex::Regex;
use time::OffsetDateTime;

use super::{
    expression::{Comparison, Expr, Expression, Node, Position, compile_pattern},
    limits::{MAX_PRODUCED, MAX_STEPS, MAX_VALUE, thousands},
    source::Source,
    value::Value,
};

/// What `Now()`, `Guid()` and `RandomString()` read.
pub struct Environment<'a> {
    pub now: OffsetDateTime,
    pub random: &'a mut dyn RngCore,
}

/// What an expression gives for one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Evaluated {
    Value(Value),
    /// `IgnoreFlowIfNullOrEmpty` met null or empty: the target attribute is left out.
    Ignored,
    /// `SelectUniqueValue`: the candidates in order; the first one the target does not hold yet
    /// is the value (the engine asks the target).
    UniqueCandidates(Vec<Value>),
}

/// A failure at run time (a value of the wrong kind, a date that does not parse, a bad pattern),
/// with the position of the function call at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationError {
    pub at: Position,
    pub function: &'static str,
    pub message: String,
}

impl fmt::Display for EvaluationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}: {}",
            self.at.line, self.at.column, self.function, self.message
        )
    }
}

impl std::error::Error for EvaluationError {}

/// Why evaluation stopped before producing a value.
pub(crate) enum Stop {
    IgnoreFlow,
    Failed(EvaluationError),
}

impl Expression {
    pub fn evaluate(
        &self,
        source: &dyn Source,
        environment: &mut Environment<'_>,
    ) -> Result<Evaluated, EvaluationError> {
        let mut evaluator = Evaluator {
            expression: self,
            source,
            environment,
            produced: 0,
            steps: 0,
        };
        if let Node::Call { function, args } = &self.root.node
            && function.name == "SelectUniqueValue"
        {
            let mut candidates = Vec::with_capacity(args.len());
            for arg in args {
                match evaluator.optional(arg.as_ref()) {
                    Ok(value) if !value.is_null_or_empty() => candidates.push(value),
                    Ok(_) | Err(Stop::IgnoreFlow) => {}
                    Err(Stop::Failed(e)) => return Err(e),
                }
            }
            return Ok(Evaluated::UniqueCandidates(candidates));
        }
        match evaluator.value(&self.root) {
            Ok(value) => Ok(Evaluated::Value(value)),
            Err(Stop::IgnoreFlow) => Ok(Evaluated::Ignored),
            Err(Stop::Failed(e)) => Err(e),
        }
    }
}

pub(crate) struct Evaluator<'a, 'e> {
    expression: &'a Expression,
    pub source: &'a dyn Source,
    pub environment: &'a mut Environment<'e>,
    /// Characters produced so far, against [`MAX_PRODUCED`].
    produced: usize,
    /// Steps taken so far, against [`MAX_STEPS`].
    steps: usize,
}

impl Evaluator<'_, '_> {
    pub fn value(&mut self, expr: &Expr) -> Result<Value, Stop> {
        match &expr.node {
            Node::Attribute(name) => Ok(self.source.attribute(name)),
            Node::Text(text) => Ok(Value::Text(text.clone())),
            Node::Number(n) => Ok(Value::Number(*n)),
            Node::Keyword(word) => Ok(Value::text(*word)),
            Node::Compare {
                left,
                operator,
                right,
            } => {
                let left = self.value(left)?;
                let right = self.value(right)?;
                compare(expr.at, *operator, &left, &right)
            }
            Node::Call { function, args } => {
                let call = Call {
                    at: expr.at,
                    name: function.name,
                    args,
                };
                self.step(&call, 1)?;
                (function.evaluate)(self, &call)
            }
        }
    }

    /// Checks that `call` may produce a value of `chars` characters (a list's in all), and
    /// charges them to this evaluation: called before the value is built, or after it when it
    /// cannot be longer than the call's arguments (or three times one of them, for case
    /// mapping).
    pub fn produce(&mut self, call: &Call<'_>, chars: usize) -> Result<(), Stop> {
        if chars > MAX_VALUE {
            return Err(call.fail(format!(
                "the result would have {} characters; a value may hold at most {}",
                thousands(chars as u64),
                thousands(MAX_VALUE as u64)
            )));
        }
        let produced = self.produced.saturating_add(chars);
        if produced > MAX_PRODUCED {
            return Err(call.fail(format!(
                "the expression would produce {} characters in all; an evaluation may produce at most {}",
                thousands(produced as u64),
                thousands(MAX_PRODUCED as u64)
            )));
        }
        self.produced = produced;
        Ok(())
    }

    /// Counts `steps` steps of `call`: a call is one, and each value `Split` makes and each match
    /// a `Replace` pattern finds another (in a debug build, a match costs about a microsecond).
    pub fn step(&mut self, call: &Call<'_>, steps: usize) -> Result<(), Stop> {
        self.steps = self.steps.saturating_add(steps);
        if self.steps > MAX_STEPS {
            return Err(call.fail(format!(
                "the expression would take more than {} steps (function calls, values Split makes and matches Replace finds); that is the most an evaluation may take",
                thousands(MAX_STEPS as u64)
            )));
        }
        Ok(())
    }

    /// A `Replace` pattern: compiled at parse time when it is literal, here otherwise.
    pub fn pattern(&self, call: &Call<'_>, pattern: &str) -> Result<Regex, Stop> {
        match self.expression.pattern(pattern) {
            Some(regex) => Ok(regex.clone()),
            None => compile_pattern(pattern).map_err(|e| {
                call.fail(format!(
                    "regexPattern is not a valid regular expression: {e}"
                ))
            }),
        }
    }

    /// An argument that may be left empty (`Switch([x], , ...)`): empty reads as null.
    pub fn optional(&mut self, expr: Option<&Expr>) -> Result<Value, Stop> {
        expr.map_or(Ok(Value::Null), |e| self.value(e))
    }
}

/// One call being evaluated: its position and name for errors, its unevaluated arguments (so
/// `IIF` and `Switch` evaluate only the branch they take).
pub(crate) struct Call<'x> {
    pub at: Position,
    pub name: &'static str,
    pub args: &'x [Option<Expr>],
}

impl Call<'_> {
    pub fn fail(&self, message: impl Into<String>) -> Stop {
        Stop::Failed(EvaluationError {
            at: self.at,
            function: self.name,
            message: message.into(),
        })
    }

    pub fn has(&self, i: usize) -> bool {
        self.args.get(i).is_some_and(Option::is_some)
    }

    /// Argument `i`, null when absent or left empty.
    pub fn arg(&self, ev: &mut Evaluator<'_, '_>, i: usize) -> Result<Value, Stop> {
        ev.optional(self.args.get(i).and_then(Option::as_ref))
    }

    /// Argument `i` as text; `None` when it is null. A list is a type error.
    pub fn text(
        &self,
        ev: &mut Evaluator<'_, '_>,
        i: usize,
        param: &str,
    ) -> Result<Option<String>, Stop> {
        let value = self.arg(ev, i)?;
        self.as_text(value, param)
    }

    pub fn as_text(&self, value: Value, param: &str) -> Result<Option<String>, Stop> {
        match value {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text)),
            Value::List(_) | Value::Object(_) => Err(self.fail(format!(
                "{param} must be a single value, not {}",
                value.describe()
            ))),
            other => Ok(other.as_text().map(Cow::into_owned)),
        }
    }

    /// Argument `i` as a whole number; `None` when it is null or empty.
    pub fn number(
        &self,
        ev: &mut Evaluator<'_, '_>,
        i: usize,
        param: &str,
    ) -> Result<Option<i64>, Stop> {
        match self.arg(ev, i)? {
            Value::Number(n) => Ok(Some(n)),
            Value::Null => Ok(None),
            Value::Text(text) if text.trim().is_empty() => Ok(None),
            Value::Text(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.fail(format!("{param} must be a whole number, not {text:?}"))),
            other => Err(self.fail(format!(
                "{param} must be a whole number, not {}",
                other.describe()
            ))),
        }
    }
}

/// A condition's comparison. A null or empty side makes it false ("if the source attribute used
/// within the IIF function is empty or null, the condition check fails"). Whole numbers compare
/// as numbers, dates as dates, anything else as case-sensitive text.
fn compare(at: Position, operator: Comparison, left: &Value, right: &Value) -> Result<Value, Stop> {
    use std::cmp::Ordering;
    if left.is_null_or_empty() || right.is_null_or_empty() {
        return Ok(Value::Bool(false));
    }
    let number = |v: &Value| match v {
        Value::Number(n) => Some(*n),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    };
    let ordering = match (left, right) {
        (Value::DateTime(a), Value::DateTime(b)) => a.cmp(b),
        _ => match (number(left), number(right)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => match (left.as_text(), right.as_text()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => {
                    return Err(Stop::Failed(EvaluationError {
                        at,
                        function: operator.symbol(),
                        message: format!(
                            "cannot compare {} with {}",
                            left.describe(),
                            right.describe()
                        ),
                    }));
                }
            },
        },
    };
    Ok(Value::Bool(match operator {
        Comparison::Equal => ordering == Ordering::Equal,
        Comparison::NotEqual => ordering != Ordering::Equal,
        Comparison::Greater => ordering == Ordering::Greater,
        Comparison::GreaterOrEqual => ordering != Ordering::Less,
        Comparison::Less => ordering == Ordering::Less,
        Comparison::LessOrEqual => ordering != Ordering::Greater,
    }))
}
