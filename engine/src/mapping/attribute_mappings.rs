//! Attribute mappings: what a directory object becomes in an application. Each mapping is
//! Direct (a source attribute), Constant, Expression or None (only its default value, on
//! creation), with a default value used when the source is null, an optional matching
//! precedence, and Apply Always or Only during creation. As in Entra, null values do not flow:
//! a mapping that gives null (and has no default) sets nothing, and a target attribute the
//! application requires that ends up without a value makes the object fail, naming it.
//!
//! [`AttributeMappings`] is the stored, editable form; [`AttributeMappings::compile`] checks
//! every field once (so a cycle never meets a malformed expression), refusing an expression
//! that could outgrow the bounds of [`super::limits`], and gives the [`CompiledMappings`] that
//! evaluate objects. [`AttributeMappings::compile_stored`] is for mappings saved before a check
//! existed: a cycle keeps running them, and the run-time bounds fail the objects they meet.

use serde::{Deserialize, Serialize};

use super::{
    FieldError,
    evaluate::{Environment, Evaluated, EvaluationError},
    expression::Expression,
    functions,
    source::{Source, canonical},
    target::{self, TargetPath},
    value::Value,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MappingType {
    Direct,
    Constant,
    Expression,
    None,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Apply {
    #[default]
    Always,
    OnlyDuringCreation,
}

/// One row of the Attribute Mappings table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttributeMapping {
    pub mapping_type: MappingType,
    /// The source attribute (Direct), the value (Constant) or the expression's text (Expression);
    /// unused for None.
    #[serde(default)]
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub default_value: Option<String>,
    /// Matching attributes find an object's account in the target, lowest precedence first.
    #[serde(default)]
    pub matching_precedence: Option<u8>,
    #[serde(default)]
    pub apply: Apply,
}

impl AttributeMapping {
    pub fn direct(source: &str, target: &str) -> AttributeMapping {
        AttributeMapping {
            mapping_type: MappingType::Direct,
            source: source.into(),
            target: target.into(),
            default_value: None,
            matching_precedence: None,
            apply: Apply::Always,
        }
    }

    pub fn expression(expression: &str, target: &str) -> AttributeMapping {
        AttributeMapping {
            mapping_type: MappingType::Expression,
            ..AttributeMapping::direct(expression, target)
        }
    }

    pub fn matching(mut self, precedence: u8) -> AttributeMapping {
        self.matching_precedence = Some(precedence);
        self
    }
}

/// The mappings of one object type (Users or Groups) of one application.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct AttributeMappings(pub Vec<AttributeMapping>);

/// Create (every mapping applies) or update ("Only during creation" mappings are left out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
}

enum Kind {
    Direct(&'static str),
    Constant(Value),
    Expression(Expression),
    None,
}

/// A mapping that passed validation.
pub struct Rule {
    pub target: TargetPath,
    kind: Kind,
    default_value: Option<String>,
    pub matching_precedence: Option<u8>,
    pub only_during_creation: bool,
    /// Provisioning logs show "[Redact]" instead of this attribute's value.
    pub redacted: bool,
}

pub struct CompiledMappings {
    rules: Vec<Rule>,
    required: Vec<TargetPath>,
}

/// Why an object cannot be provisioned with these mappings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("required attributes have no value: {}", .0.join(", "))]
    MissingRequired(Vec<String>),
    #[error("{target}: {error}")]
    Expression {
        target: String,
        error: EvaluationError,
    },
    #[error("{target}: expects True or False, not {value}")]
    NotBoolean { target: String, value: String },
}

/// One target attribute's value for one object.
#[derive(Debug)]
pub struct MappedAttribute<'m> {
    pub rule: &'m Rule,
    pub value: Value,
    /// `SelectUniqueValue`: `value` lists candidates; the first the target does not hold wins.
    pub choose_unique: bool,
}

/// What the mappings give for one object: the attributes that flow, in mapping order.
#[derive(Debug)]
pub struct Mapped<'m> {
    pub attributes: Vec<MappedAttribute<'m>>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rule({})", self.target)
    }
}

impl AttributeMappings {
    /// Checks every mapping against the source's attributes (`known`) and the targets the
    /// application requires, reporting every problem with its field (`mappings[2].source`).
    /// What saving requires.
    pub fn compile(
        &self,
        known: &[&'static str],
        required: &[&str],
    ) -> Result<CompiledMappings, Vec<FieldError>> {
        self.compile_checking(known, required, true)
    }

    /// [`AttributeMappings::compile`] for mappings as stored, as a cycle loads them: without the
    /// size check, so that an expression saved before it existed does not stop every cycle (nor
    /// one that its worst case refuses but real values never reach). Evaluation still holds
    /// every expression to the bounds; an object that meets them fails with `MappingError`.
    pub fn compile_stored(
        &self,
        known: &[&'static str],
        required: &[&str],
    ) -> Result<CompiledMappings, Vec<FieldError>> {
        self.compile_checking(known, required, false)
    }

    fn compile_checking(
        &self,
        known: &[&'static str],
        required: &[&str],
        check_size: bool,
    ) -> Result<CompiledMappings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut rules: Vec<Rule> = Vec::new();
        for (i, mapping) in self.0.iter().enumerate() {
            let error = |field: &str, message: String| FieldError {
                field: format!("mappings[{i}].{field}"),
                message,
            };
            let target = match TargetPath::parse(&mapping.target) {
                Ok(target) => target,
                Err(message) => {
                    errors.push(error("target", message));
                    continue;
                }
            };
            if rules.iter().any(|r| r.target.same_as(&target)) {
                errors.push(error("target", format!("{target} is already mapped")));
                continue;
            }
            let source = mapping.source.trim();
            let kind = match mapping.mapping_type {
                MappingType::Direct => match canonical(source, known) {
                    Some(name) => Kind::Direct(name),
                    None => {
                        let hint = functions::closest(source, known.iter().copied())
                            .map(|s| format!("; did you mean {s}?"))
                            .unwrap_or_default();
                        errors.push(error(
                            "source",
                            if source.is_empty() {
                                "choose a source attribute".into()
                            } else {
                                format!("unknown source attribute {source:?}{hint}")
                            },
                        ));
                        continue;
                    }
                },
                MappingType::Constant if mapping.source.is_empty() => {
                    errors.push(error("source", "enter the constant value".into()));
                    continue;
                }
                MappingType::Constant => Kind::Constant(Value::Text(mapping.source.clone())),
                MappingType::Expression => {
                    match Expression::parse(&mapping.source).and_then(|e| {
                        if check_size {
                            e.check_attributes(known)?;
                        } else {
                            e.check_names(known)?;
                        }
                        Ok(e)
                    }) {
                        Ok(expression) => Kind::Expression(expression),
                        Err(e) => {
                            errors.push(error("source", e.to_string()));
                            continue;
                        }
                    }
                }
                MappingType::None => Kind::None,
            };
            let unique = matches!(&kind, Kind::Expression(e) if e.calls("SelectUniqueValue"));
            let only_during_creation = mapping.apply == Apply::OnlyDuringCreation;
            if unique && mapping.matching_precedence.is_some() {
                errors.push(error(
                    "matchingPrecedence",
                    "SelectUniqueValue cannot be used on a matching attribute".into(),
                ));
            }
            if unique && !only_during_creation {
                errors.push(error(
                    "apply",
                    "SelectUniqueValue is only for creation: set Apply this mapping to Only during object creation".into(),
                ));
            }
            if let Some(precedence) = mapping.matching_precedence {
                if precedence == 0 {
                    errors.push(error(
                        "matchingPrecedence",
                        "matching precedence starts at 1".into(),
                    ));
                } else if rules
                    .iter()
                    .any(|r| r.matching_precedence == Some(precedence))
                {
                    errors.push(error(
                        "matchingPrecedence",
                        format!("another matching attribute already has precedence {precedence}"),
                    ));
                }
            }
            if target.is_boolean() {
                let not_boolean =
                    |v: &str| !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false");
                if let Kind::Constant(Value::Text(v)) = &kind
                    && not_boolean(v)
                {
                    errors.push(error(
                        "source",
                        format!("{target} is true or false; {v:?} is neither"),
                    ));
                }
                if let Some(v) = mapping.default_value.as_deref().filter(|v| not_boolean(v)) {
                    errors.push(error(
                        "defaultValue",
                        format!("{target} is true or false; {v:?} is neither"),
                    ));
                }
            }
            let redacted = matches!(&kind, Kind::Expression(e) if e.redacts());
            rules.push(Rule {
                target,
                kind,
                default_value: mapping.default_value.clone().filter(|v| !v.is_empty()),
                matching_precedence: mapping.matching_precedence,
                only_during_creation,
                redacted,
            });
        }
        if !self.0.is_empty()
            && !rules.iter().any(|r| r.matching_precedence.is_some())
            && errors.is_empty()
        {
            errors.push(FieldError {
                field: "mappings".into(),
                message:
                    "choose at least one matching attribute (Match objects using this attribute)"
                        .into(),
            });
        }
        let mut required_paths = Vec::new();
        for name in required {
            match TargetPath::parse(name) {
                Ok(path) if rules.iter().any(|r| r.target.same_as(&path)) => {
                    required_paths.push(path)
                }
                Ok(path) => errors.push(FieldError {
                    field: "mappings".into(),
                    message: format!("the application requires {path}; add a mapping for it"),
                }),
                Err(e) => errors.push(FieldError {
                    field: "required".into(),
                    message: format!("{name}: {e}"),
                }),
            }
        }
        if errors.is_empty() {
            Ok(CompiledMappings {
                rules,
                required: required_paths,
            })
        } else {
            Err(errors)
        }
    }
}

impl CompiledMappings {
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The target attributes for `source`, or why it cannot be provisioned.
    pub fn evaluate<'m>(
        &'m self,
        source: &dyn Source,
        environment: &mut Environment<'_>,
        operation: Operation,
    ) -> Result<Mapped<'m>, MappingError> {
        let mut attributes = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            if rule.only_during_creation && operation == Operation::Update {
                continue;
            }
            let mut value = match &rule.kind {
                Kind::Direct(name) => source.attribute(name),
                Kind::Constant(value) => value.clone(),
                Kind::None if operation == Operation::Create => Value::Null,
                Kind::None => continue,
                Kind::Expression(expression) => match expression.evaluate(source, environment) {
                    Ok(Evaluated::Value(value)) => value,
                    Ok(Evaluated::Ignored) => continue,
                    Ok(Evaluated::UniqueCandidates(candidates)) => {
                        attributes.push(MappedAttribute {
                            rule,
                            value: Value::List(candidates),
                            choose_unique: true,
                        });
                        continue;
                    }
                    Err(error) => {
                        return Err(MappingError::Expression {
                            target: rule.target.to_string(),
                            error,
                        });
                    }
                },
            };
            if is_absent(&value) {
                match &rule.default_value {
                    Some(default) => value = Value::Text(default.clone()),
                    None => continue,
                }
            }
            if rule.target.is_boolean() {
                value = boolean(&rule.target, value)?;
            }
            attributes.push(MappedAttribute {
                rule,
                value,
                choose_unique: false,
            });
        }
        if operation == Operation::Create {
            let missing: Vec<String> = self
                .required
                .iter()
                .filter(|path| !attributes.iter().any(|a| &a.rule.target == *path))
                .map(TargetPath::to_string)
                .collect();
            if !missing.is_empty() {
                return Err(MappingError::MissingRequired(missing));
            }
        }
        Ok(Mapped { attributes })
    }
}

/// Null and empty text do not flow; an empty list does (it says "no values").
fn is_absent(value: &Value) -> bool {
    matches!(value, Value::Null) || matches!(value, Value::Text(t) if t.is_empty())
}

fn boolean(target: &TargetPath, value: Value) -> Result<Value, MappingError> {
    match value {
        Value::Bool(_) => Ok(value),
        Value::Text(t) if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Value::Text(t) if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        other => Err(MappingError::NotBoolean {
            target: target.to_string(),
            value: other.describe(),
        }),
    }
}

impl Mapped<'_> {
    /// The value mapped to `target` (as written in the mapping, e.g. `name.familyName`).
    pub fn get(&self, target: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|a| a.rule.target.to_string().eq_ignore_ascii_case(target))
            .map(|a| &a.value)
    }

    /// The SCIM resource these attributes make, under `core_schema`.
    pub fn resource(&self, core_schema: &str) -> serde_json::Value {
        target::resource(
            core_schema,
            self.attributes.iter().map(|a| (&a.rule.target, &a.value)),
        )
    }
}
