//! The values expressions work on. Entra's functions are string functions at heart: a value
//! used where text is expected reads as .NET would print it (`True`, `42`, `3/16/2020 7:00:00 AM`), and
//! a missing attribute is [`Value::Null`], which most functions pass through.

use std::borrow::Cow;

use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A missing attribute, or a function's "nothing".
    Null,
    Bool(bool),
    Number(i64),
    Text(String),
    DateTime(OffsetDateTime),
    /// Another directory object (a manager, a group member): the engine turns it into the
    /// target's id of that object.
    Reference(Uuid),
    /// A multi-valued attribute.
    List(Vec<Value>),
    /// A complex value, such as one of the `roles` that `AppRoleAssignmentsComplex` returns.
    Object(Vec<(&'static str, Value)>),
}

impl Value {
    pub fn text(text: impl Into<String>) -> Value {
        Value::Text(text.into())
    }

    /// Null, an empty string or an empty list: what `IsNullOrEmpty` and `IgnoreFlowIfNullOrEmpty`
    /// call empty.
    pub fn is_null_or_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Text(text) => text.is_empty(),
            Value::List(values) => values.is_empty(),
            _ => false,
        }
    }

    /// The value as text, or `None` for Null, lists and complex values.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            Value::Null | Value::List(_) | Value::Object(_) => return None,
            Value::Text(text) => Cow::Borrowed(text.as_str()),
            Value::Bool(true) => Cow::Borrowed("True"),
            Value::Bool(false) => Cow::Borrowed("False"),
            Value::Number(n) => Cow::Owned(n.to_string()),
            Value::DateTime(at) => Cow::Owned(format_date_time(*at)),
            Value::Reference(id) => Cow::Owned(id.to_string()),
        })
    }

    /// What a value is, for error messages: long text is cut short, so that a message (and the
    /// provisioning log entry it ends up in) stays readable.
    pub fn describe(&self) -> String {
        const MOST: usize = 80;
        match self {
            Value::Null => "null".into(),
            Value::Text(text) if text.chars().nth(MOST).is_some() => {
                let head: String = text.chars().take(MOST - 3).collect();
                format!(
                    "{head:?}… ({} characters)",
                    super::limits::thousands(text.chars().count() as u64)
                )
            }
            Value::Text(text) => format!("{text:?}"),
            Value::List(values) => format!("a list of {} values", values.len()),
            Value::Object(_) => "a complex value".into(),
            other => other.as_text().unwrap_or_default().into_owned(),
        }
    }

    /// The value as JSON, as it is sent to a target or shown in a preview.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::from(*n),
            Value::Text(text) => Json::String(text.clone()),
            Value::List(values) => Json::Array(values.iter().map(Value::to_json).collect()),
            Value::Object(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_json()))
                    .collect(),
            ),
            other => Json::String(other.as_text().unwrap_or_default().into_owned()),
        }
    }
}

impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Value {
        value.map_or(Value::Null, |v| Value::Text(v.to_owned()))
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Text(value.to_owned())
    }
}

/// Dates as Entra prints them (`Now()`, `CDate`, `DateAdd`): `M/d/yyyy h:mm:ss tt` in UTC.
/// `FormatDateTime` gives any other format.
pub fn format_date_time(at: OffsetDateTime) -> String {
    super::dates::format(
        at.to_offset(time::UtcOffset::UTC),
        super::dates::ENTRA_FORMAT,
    )
}
