//! The functions of Entra's attribute-mapping expressions, by their exact (case-sensitive) names:
//! how many arguments each takes (checked by the parser) and what it does (run by the
//! evaluator). Semantics follow Microsoft's reference page "Reference for writing expressions for
//! attribute mappings in Microsoft Entra ID"; where it is silent, the comment on the function
//! says what we chose. Most functions give null for a null source, so that a mapping's default
//! value (or nothing) flows instead. A function that builds text works out how long it will be,
//! and asks the evaluator (`Evaluator::produce`) before building it; every function runs in
//! time linear in its arguments, so that the bounds of [`super::limits`] bound the work too.

use std::{collections::HashSet, fmt};

use base64::Engine as _;
use rand::{Rng, seq::SliceRandom};

use super::{
    dates,
    evaluate::{Call, Evaluator, Stop},
    limits::{MAX_VALUE, thousands},
    value::Value,
};

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    Between(usize, usize),
    AtLeast(usize),
    /// `Switch`: a source, a default value, then key/value pairs (at least one).
    SourceDefaultAndPairs,
}

impl Arity {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::Between(low, high) => (low..=high).contains(&n),
            Arity::AtLeast(low) => n >= low,
            Arity::SourceDefaultAndPairs => n >= 4 && n.is_multiple_of(2),
        }
    }

    pub fn describe(self) -> String {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self {
            Arity::Exactly(k) => format!("{k} {}", plural(k)),
            Arity::Between(low, high) => format!("{low} to {high} arguments"),
            Arity::AtLeast(low) => format!("{low} or more {}", plural(low)),
            Arity::SourceDefaultAndPairs => {
                "a source, a default value and key/value pairs (an even number of 4 or more arguments)"
                    .into()
            }
        }
    }
}

type Evaluate = fn(&mut Evaluator<'_, '_>, &Call<'_>) -> Result;

pub struct Function {
    pub name: &'static str,
    pub arity: Arity,
    pub(crate) evaluate: Evaluate,
}

impl PartialEq for Function {
    fn eq(&self, other: &Function) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

use Arity::*;

const fn function(name: &'static str, arity: Arity, evaluate: Evaluate) -> Function {
    Function {
        name,
        arity,
        evaluate,
    }
}

/// Every function of Entra's expression language, with the parameters Microsoft's reference
/// documents.
pub const FUNCTIONS: &[Function] = &[
    function("Append", Exactly(2), append),
    function(
        "AppRoleAssignmentsComplex",
        Exactly(1),
        app_role_assignments_complex,
    ),
    function(
        "AssertiveAppRoleAssignmentsComplex",
        Exactly(1),
        assertive_app_role_assignments_complex,
    ),
    function("BitAnd", Exactly(2), bit_and),
    function("CBool", Exactly(1), cbool),
    function("CDate", Exactly(1), cdate),
    function("Coalesce", AtLeast(1), coalesce),
    function("ConvertToBase64", Exactly(1), convert_to_base64),
    function("ConvertToUTF8Hex", Exactly(1), convert_to_utf8_hex),
    function("Count", Exactly(1), count),
    function("CStr", Exactly(1), cstr),
    function("DateAdd", Exactly(3), date_add),
    function("DateDiff", Exactly(3), date_diff),
    function("DateFromNum", Exactly(1), date_from_num),
    // FormatDateTime(source, [dateTimeStyles], inputFormat, outputFormat); with three arguments
    // the styles are left out, as in the page's older three-parameter form.
    function("FormatDateTime", Between(3, 4), format_date_time),
    function("Guid", Exactly(0), guid),
    function(
        "IgnoreFlowIfNullOrEmpty",
        Exactly(1),
        ignore_flow_if_null_or_empty,
    ),
    function("IIF", Exactly(3), iif),
    function("InStr", Between(2, 4), in_str),
    function("IsNull", Exactly(1), is_null),
    function("IsNullOrEmpty", Exactly(1), is_null_or_empty),
    function("IsPresent", Exactly(1), is_present),
    function("IsString", Exactly(1), is_string),
    function("Item", Exactly(2), item),
    function("Join", AtLeast(2), join),
    function("Left", Exactly(2), left),
    function("Mid", Exactly(3), mid),
    function("NormalizeDiacritics", Exactly(1), normalize_diacritics),
    function("Not", Exactly(1), not),
    function("Now", Exactly(0), now),
    function("NumFromDate", Exactly(1), num_from_date),
    function("PCase", Between(1, 2), pcase),
    function("RandomString", Between(5, 6), random_string),
    function("Redact", Exactly(1), redact),
    function("RemoveDuplicates", Exactly(1), remove_duplicates),
    function("Replace", Exactly(7), replace),
    function("SelectUniqueValue", AtLeast(2), select_unique_value),
    function(
        "SingleAppRoleAssignment",
        Exactly(1),
        single_app_role_assignment,
    ),
    function("Split", Exactly(2), split),
    function("StripSpaces", Exactly(1), strip_spaces),
    function("Switch", SourceDefaultAndPairs, switch),
    function("ToLower", Between(1, 2), to_lower),
    function("ToUpper", Between(1, 2), to_upper),
    function("Word", Exactly(3), word),
];

pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The known name closest to `name` (case-insensitive edit distance of at most a third of its
/// length), for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&wanted, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= (wanted.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(ca != *cb))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

type Result<T = Value> = std::result::Result<T, Stop>;

/// Reads a value as a condition: booleans, "True"/"False" in any case, numbers (non-zero is
/// true). Null is false: Entra's "the condition check fails" on a null attribute.
fn truth(call: &Call<'_>, value: &Value, param: &str) -> Result<bool> {
    match value {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(*n != 0),
        Value::Text(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Value::Text(text) if text.eq_ignore_ascii_case("false") || text.is_empty() => Ok(false),
        Value::Text(text) => text.trim().parse::<i64>().map(|n| n != 0).map_err(|_| {
            call.fail(format!(
                "{param} must be True or False (or a number), not {text:?}"
            ))
        }),
        other => Err(call.fail(format!(
            "{param} must be True or False, not {}",
            other.describe()
        ))),
    }
}

/// A date argument: a DateTime, or text `CDate` can read. `None` for null.
fn date(call: &Call<'_>, value: Value, param: &str) -> Result<Option<time::OffsetDateTime>> {
    match value {
        Value::Null => Ok(None),
        Value::DateTime(at) => Ok(Some(at)),
        Value::Text(text) => dates::parse(&text)
            .map(Some)
            .ok_or_else(|| call.fail(format!("{param} {text:?} is not a date"))),
        other => Err(call.fail(format!("{param} must be a date, not {}", other.describe()))),
    }
}

/// The values of a multi-valued argument; a single value is a list of one, null an empty list.
fn values(value: Value) -> Vec<Value> {
    match value {
        Value::List(values) => values,
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

fn field<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Object(fields) => fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Text built a piece at a time, for results whose length is only known once built: it fails as
/// soon as it would outgrow the bound on a value, never holding more.
struct Bounded<'c, 'x> {
    call: &'c Call<'x>,
    text: String,
    chars: usize,
}

impl<'c, 'x> Bounded<'c, 'x> {
    fn new(call: &'c Call<'x>, capacity: usize) -> Self {
        Bounded {
            call,
            text: String::with_capacity(capacity.min(MAX_VALUE)),
            chars: 0,
        }
    }

    fn grow(&mut self, chars: usize) -> Result<()> {
        self.chars = self.chars.saturating_add(chars);
        if self.chars > MAX_VALUE {
            return Err(self.call.fail(format!(
                "the result would have more than {} characters; a value may hold at most {}",
                thousands(MAX_VALUE as u64),
                thousands(MAX_VALUE as u64)
            )));
        }
        Ok(())
    }

    fn push_str(&mut self, piece: &str) -> Result<()> {
        self.grow(chars(piece))?;
        self.text.push_str(piece);
        Ok(())
    }

    fn push(&mut self, c: char) -> Result<()> {
        self.grow(1)?;
        self.text.push(c);
        Ok(())
    }

    fn finish(self, ev: &mut Evaluator<'_, '_>) -> Result {
        ev.produce(self.call, self.chars)?;
        Ok(Value::Text(self.text))
    }
}

/// A text a function built, no longer than its arguments: charged to the evaluation.
fn produced(ev: &mut Evaluator<'_, '_>, call: &Call<'_>, text: String) -> Result {
    ev.produce(call, chars(&text))?;
    Ok(Value::Text(text))
}

/// Append(source, suffix). A null source gives null (nothing to append to); a null suffix
/// appends nothing.
fn append(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let Some(mut source) = call.text(ev, 0, "source")? else {
        return Ok(Value::Null);
    };
    let suffix = call.text(ev, 1, "suffix")?.unwrap_or_default();
    ev.produce(call, chars(&source) + chars(&suffix))?;
    source.push_str(&suffix);
    Ok(Value::Text(source))
}

/// The object's app roles as SCIM `roles` entries, as Entra sends them: every role
/// `primary: false`, `type: WindowsAzureActiveDirectoryRole`. Roles without a value (Default
/// Access) are not roles the application knows, so they are left out.
fn scim_roles(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result<Vec<Value>> {
    let assignments = match call.arg(ev, 0)? {
        Value::List(values) => values,
        Value::Null => Vec::new(),
        other => {
            return Err(call.fail(format!(
                "expects [appRoleAssignments], not {}",
                other.describe()
            )));
        }
    };
    Ok(assignments
        .iter()
        .filter_map(|role| {
            let value = field(role, "value").filter(|v| !v.is_null_or_empty())?;
            Some(Value::Object(vec![
                ("primary", Value::Bool(false)),
                ("type", Value::text("WindowsAzureActiveDirectoryRole")),
                (
                    "display",
                    field(role, "displayName").cloned().unwrap_or(Value::Null),
                ),
                ("value", value.clone()),
            ]))
        })
        .collect())
}

/// AppRoleAssignmentsComplex([appRoleAssignments]): adds roles; no roles means nothing flows.
fn app_role_assignments_complex(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let roles = scim_roles(ev, call)?;
    Ok(if roles.is_empty() {
        Value::Null
    } else {
        Value::List(roles)
    })
}

/// AssertiveAppRoleAssignmentsComplex([appRoleAssignments]): the target's roles become exactly
/// these, so an empty list flows too (and removes the target's roles).
fn assertive_app_role_assignments_complex(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(Value::List(scim_roles(ev, call)?))
}

fn bit_and(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let a = call.number(ev, 0, "value1")?;
    let b = call.number(ev, 1, "value2")?;
    Ok(match (a, b) {
        (Some(a), Some(b)) => Value::Number(a & b),
        _ => Value::Null,
    })
}

/// CBool(expression): true for a non-zero number, True, or a comparison that holds.
fn cbool(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let value = call.arg(ev, 0)?;
    Ok(Value::Bool(truth(call, &value, "the expression")?))
}

fn cdate(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let value = call.arg(ev, 0)?;
    Ok(date(call, value, "the value")?.map_or(Value::Null, Value::DateTime))
}

/// Coalesce(source1, ..., defaultValue): the first value that is neither null nor empty; when
/// there is none, the last argument if it is text (the documented "" default), else null.
fn coalesce(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let mut last = Value::Null;
    for i in 0..call.args.len() {
        let value = call.arg(ev, i)?;
        if !value.is_null_or_empty() {
            return Ok(value);
        }
        last = value;
    }
    Ok(match last {
        Value::Text(text) => Value::Text(text),
        _ => Value::Null,
    })
}

/// ConvertToBase64(source): base64 of the UTF-16LE ("Unicode") bytes, as .NET does.
fn convert_to_base64(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let Some(source) = call.text(ev, 0, "source")? else {
        return Ok(Value::Null);
    };
    let bytes = 2 * source.encode_utf16().count();
    ev.produce(call, bytes.div_ceil(3) * 4)?;
    let bytes: Vec<u8> = source.encode_utf16().flat_map(u16::to_le_bytes).collect();
    Ok(Value::Text(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

fn convert_to_utf8_hex(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let Some(source) = call.text(ev, 0, "source")? else {
        return Ok(Value::Null);
    };
    ev.produce(call, 2 * source.len())?;
    let mut out = String::with_capacity(2 * source.len());
    for b in source.bytes() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xF)]));
    }
    Ok(Value::Text(out))
}

/// Count(attribute): the number of values; 0 for null, 1 for a single value.
fn count(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(Value::Number(values(call.arg(ev, 0)?).len() as i64))
}

fn cstr(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(call.text(ev, 0, "value")?.map_or(Value::Null, Value::Text))
}

fn interval(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result<dates::Interval> {
    let code = call.text(ev, 0, "interval")?.unwrap_or_default();
    dates::Interval::parse(&code).map_err(|e| call.fail(e))
}

/// DateAdd(interval, value, dateTime): null when the date or the amount is null.
fn date_add(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let interval = interval(ev, call)?;
    let amount = call.number(ev, 1, "value")?;
    let at = call.arg(ev, 2)?;
    let (Some(amount), Some(at)) = (amount, date(call, at, "dateTime")?) else {
        return Ok(Value::Null);
    };
    dates::add(interval, amount, at)
        .map(Value::DateTime)
        .ok_or_else(|| call.fail("the result is outside the dates a calendar can hold"))
}

/// DateDiff(interval, date1, date2): positive when date2 is later.
fn date_diff(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let interval = interval(ev, call)?;
    let from = call.arg(ev, 1)?;
    let to = call.arg(ev, 2)?;
    Ok(
        match (date(call, from, "date1")?, date(call, to, "date2")?) {
            (Some(from), Some(to)) => Value::Number(dates::diff(interval, from, to)),
            _ => Value::Null,
        },
    )
}

fn date_from_num(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let Some(ticks) = call.number(ev, 0, "value")? else {
        return Ok(Value::Null);
    };
    dates::from_filetime(ticks)
        .map(Value::DateTime)
        .ok_or_else(|| call.fail(format!("{ticks} is outside the dates a calendar can hold")))
}

/// The .NET `DateTimeStyles` names FormatDateTime accepts. White space around the value is
/// always allowed and values without an offset are read as UTC; `AdjustToUniversal` prints the
/// result in UTC, the others change nothing further here.
const DATE_TIME_STYLES: &[&str] = &[
    "None",
    "AllowLeadingWhite",
    "AllowTrailingWhite",
    "AllowInnerWhite",
    "AllowWhiteSpaces",
    "NoCurrentDateDefault",
    "AdjustToUniversal",
    "AssumeLocal",
    "AssumeUniversal",
    "RoundtripKind",
];

/// FormatDateTime(source, [dateTimeStyles], inputFormat, outputFormat).
fn format_date_time(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let (styles, input, output) = if call.args.len() == 4 {
        (call.text(ev, 1, "dateTimeStyles")?, 2, 3)
    } else {
        (None, 1, 2)
    };
    let mut to_utc = false;
    for style in styles
        .iter()
        .flat_map(|s| s.split([',', '|']))
        .map(str::trim)
    {
        let style = style.strip_prefix("DateTimeStyles.").unwrap_or(style);
        match DATE_TIME_STYLES
            .iter()
            .find(|s| s.eq_ignore_ascii_case(style))
        {
            Some(&"AdjustToUniversal") => to_utc = true,
            Some(_) => {}
            None if style.is_empty() => {}
            None => {
                return Err(call.fail(format!(
                    "dateTimeStyles {style:?} is not one of {}",
                    DATE_TIME_STYLES.join(", ")
                )));
            }
        }
    }
    let Some(input_format) = call.text(ev, input, "inputFormat")? else {
        return Err(call.fail("inputFormat is required"));
    };
    let Some(output_format) = call.text(ev, output, "outputFormat")? else {
        return Err(call.fail("outputFormat is required"));
    };
    let at = match call.arg(ev, 0)? {
        Value::Null => return Ok(Value::Null),
        Value::DateTime(at) => at,
        other => {
            let text = call.as_text(other, "source")?.unwrap_or_default();
            dates::parse_exact(&text, &input_format).map_err(|e| call.fail(e))?
        }
    };
    let at = if to_utc {
        at.to_offset(time::UtcOffset::UTC)
    } else {
        at
    };
    let text = dates::format_at_most(at, &output_format, MAX_VALUE).ok_or_else(|| {
        call.fail(format!(
            "the result would have more than {} characters; a value may hold at most {}",
            thousands(MAX_VALUE as u64),
            thousands(MAX_VALUE as u64)
        ))
    })?;
    produced(ev, call, text)
}

fn guid(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    ev.produce(call, 36)?;
    let mut bytes = [0u8; 16];
    ev.environment.random.fill_bytes(&mut bytes);
    Ok(Value::Text(
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string(),
    ))
}

fn ignore_flow_if_null_or_empty(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let value = call.arg(ev, 0)?;
    if value.is_null_or_empty() {
        Err(Stop::IgnoreFlow)
    } else {
        Ok(value)
    }
}

/// IIF(condition, valueIfTrue, valueIfFalse): only the branch taken is evaluated.
fn iif(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let condition = call.arg(ev, 0)?;
    let branch = if truth(call, &condition, "the condition")? {
        1
    } else {
        2
    };
    call.arg(ev, branch)
}

/// InStr(value1, value2, [start], [compareType]): the 1-based position of value2 in value1, 0
/// when absent; null when either string is null (as in VBA). Binary (case-sensitive) compare
/// unless vbTextCompare.
fn in_str(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let haystack = call.text(ev, 0, "value1")?;
    let needle = call.text(ev, 1, "value2")?;
    let start = call.number(ev, 2, "start")?.unwrap_or(1);
    if start < 1 {
        return Err(call.fail(format!("start must be 1 or more, not {start}")));
    }
    let ignore_case = match call.arg(ev, 3)? {
        Value::Null => false,
        Value::Number(n @ (0 | 1)) => n == 1,
        Value::Text(mode) if mode == "vbBinaryCompare" => false,
        Value::Text(mode) if mode == "vbTextCompare" => true,
        other => {
            return Err(call.fail(format!(
                "compareType must be vbBinaryCompare or vbTextCompare, not {}",
                other.describe()
            )));
        }
    };
    let (Some(haystack), Some(needle)) = (haystack, needle) else {
        return Ok(Value::Null);
    };
    let fold = |s: String| -> String {
        if ignore_case {
            s.chars().flat_map(char::to_lowercase).collect()
        } else {
            s
        }
    };
    let (haystack, needle) = (fold(haystack), fold(needle));
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    // Where the search starts, in bytes; past the end, nothing is found.
    let from = match haystack.char_indices().nth(skip) {
        Some((i, _)) => i,
        None if skip == chars(&haystack) => haystack.len(),
        None => return Ok(Value::Number(0)),
    };
    // `str::find` is linear; positions count characters, from 1.
    let found = haystack[from..]
        .find(needle.as_str())
        .map(|i| skip + chars(&haystack[from..from + i]) + 1);
    Ok(Value::Number(found.map_or(0, |n| n as i64)))
}

fn is_null(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(Value::Bool(matches!(call.arg(ev, 0)?, Value::Null)))
}

fn is_null_or_empty(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(Value::Bool(call.arg(ev, 0)?.is_null_or_empty()))
}

fn is_present(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(Value::Bool(!call.arg(ev, 0)?.is_null_or_empty()))
}

/// IsString(expression): true for text (identifiers included, which Entra types as strings);
/// false for null, booleans, numbers, dates and lists.
fn is_string(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(Value::Bool(matches!(
        call.arg(ev, 0)?,
        Value::Text(_) | Value::Reference(_)
    )))
}

/// Item(attribute, index): 1-based; null past the end.
fn item(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let list = values(call.arg(ev, 0)?);
    let Some(index) = call.number(ev, 1, "index")? else {
        return Ok(Value::Null);
    };
    if index < 1 {
        return Err(call.fail(format!("index counts from 1, not {index}")));
    }
    Ok(list
        .into_iter()
        .nth((index - 1) as usize)
        .unwrap_or(Value::Null))
}

/// Join(separator, source1, ...): every value of every source (multi-valued ones expanded),
/// skipping null and empty ones (`Join(", ", "", [surname], [givenName])` gives "Doe, John").
/// Null when nothing is left to join.
fn join(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let separator = call.text(ev, 0, "separator")?.unwrap_or_default();
    let mut parts = Vec::new();
    for i in 1..call.args.len() {
        for value in values(call.arg(ev, i)?) {
            if let Some(text) = call.as_text(value, "source")?
                && !text.is_empty()
            {
                parts.push(text);
            }
        }
    }
    if parts.is_empty() {
        return Ok(Value::Null);
    }
    let length = parts.iter().map(|p| chars(p)).sum::<usize>()
        + chars(&separator).saturating_mul(parts.len() - 1);
    ev.produce(call, length)?;
    Ok(Value::Text(parts.join(separator.as_str())))
}

/// Left(string, numChars), exactly as documented: 0 gives "", a negative count the whole string,
/// a null string "".
fn left(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let text = call.text(ev, 0, "string")?.unwrap_or_default();
    let count = call.number(ev, 1, "numChars")?.unwrap_or(0);
    let text = if count < 0 {
        text
    } else {
        text.chars().take(count as usize).collect()
    };
    produced(ev, call, text)
}

/// Mid(source, start, length): 1-based start; a length past the end stops at the end; a start
/// past the end gives "".
fn mid(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let source = call.text(ev, 0, "source")?;
    let start = call.number(ev, 1, "start")?.unwrap_or(1);
    let length = call.number(ev, 2, "length")?.unwrap_or(0);
    if start < 1 {
        return Err(call.fail(format!("start counts from 1, not {start}")));
    }
    if length < 0 {
        return Err(call.fail(format!("length must be 0 or more, not {length}")));
    }
    let Some(source) = source else {
        return Ok(Value::Null);
    };
    let text = source
        .chars()
        .skip((start - 1) as usize)
        .take(length as usize)
        .collect();
    produced(ev, call, text)
}

/// NormalizeDiacritics(source): the page's table (ø -> oe, æ -> ae, ß -> ss, ł -> l, ...), then
/// any other letter with combining marks loses them.
fn normalize_diacritics(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    let Some(source) = call.text(ev, 0, "source")? else {
        return Ok(Value::Null);
    };
    let mut out = Bounded::new(call, source.len());
    for c in source.nfd() {
        match c {
            'æ' => out.push_str("ae")?,
            'Æ' => out.push_str("AE")?,
            'ø' | 'œ' => out.push_str("oe")?,
            'Ø' | 'Œ' => out.push_str("OE")?,
            'ß' => out.push_str("ss")?,
            'ł' => out.push('l')?,
            'Ł' => out.push('L')?,
            'ı' => out.push('i')?,
            'đ' => out.push('d')?,
            'Đ' => out.push('D')?,
            c if is_combining_mark(c) => {}
            c => out.push(c)?,
        }
    }
    out.finish(ev)
}

/// Not(source): False when the source is True, otherwise True (null included), as documented.
fn not(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let value = call.arg(ev, 0)?;
    let is_true = match &value {
        Value::Bool(b) => *b,
        Value::Text(text) => text.eq_ignore_ascii_case("true"),
        Value::List(_) | Value::Object(_) => {
            return Err(call.fail(format!(
                "source must be True or False, not {}",
                value.describe()
            )));
        }
        _ => false,
    };
    Ok(Value::Bool(!is_true))
}

fn now(ev: &mut Evaluator<'_, '_>, _call: &Call<'_>) -> Result {
    Ok(Value::DateTime(ev.environment.now))
}

/// NumFromDate(value): an ISO 8601 date as Active Directory's 100-nanosecond ticks since 1601.
fn num_from_date(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let value = call.arg(ev, 0)?;
    let Some(at) = date(call, value, "value")? else {
        return Ok(Value::Null);
    };
    dates::to_filetime(at)
        .map(Value::Number)
        .ok_or_else(|| call.fail("the date is out of Active Directory's range"))
}

/// PCase(source, [wordSeparators]): each word's first letter upper case, the rest lower case.
/// Without separators, any character that is not a letter or digit separates words (.NET's
/// ToTitleCase categories: spaces, punctuation, symbols, controls).
fn pcase(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let Some(source) = call.text(ev, 0, "source")? else {
        return Ok(Value::Null);
    };
    let separators: Option<HashSet<char>> = call
        .text(ev, 1, "wordSeparators")?
        .map(|s| s.chars().collect());
    let is_separator = |c: char| match &separators {
        Some(set) => set.contains(&c),
        None => !c.is_alphanumeric(),
    };
    let mut out = Bounded::new(call, source.len());
    let mut word_start = true;
    for c in source.chars() {
        if is_separator(c) {
            out.push(c)?;
            word_start = true;
        } else if word_start {
            for u in c.to_uppercase() {
                out.push(u)?;
            }
            word_start = false;
        } else {
            for l in c.to_lowercase() {
                out.push(l)?;
            }
        }
    }
    out.finish(ev)
}

/// The special characters of Windows' password complexity rules, which RandomString draws from.
const SPECIAL: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

/// RandomString(length, minimumNumbers, minimumSpecialCharacters, minimumCapital,
/// minimumLowerCase, [charactersToAvoid]).
fn random_string(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let mut numbers = [0usize; 5];
    let names = [
        "Length",
        "MinimumNumbers",
        "MinimumSpecialCharacters",
        "MinimumCapital",
        "MinimumLowerCase",
    ];
    for (i, name) in names.iter().enumerate() {
        let n = call
            .number(ev, i, name)?
            .ok_or_else(|| call.fail(format!("{name} is required")))?;
        numbers[i] = usize::try_from(n)
            .map_err(|_| call.fail(format!("{name} must be 0 or more, not {n}")))?;
    }
    let [length, digits, special, capital, lower] = numbers;
    if !(1..=256).contains(&length) {
        return Err(call.fail(format!("Length must be 1 to 256, not {length}")));
    }
    if digits + special + capital + lower > length {
        return Err(call.fail(format!(
            "the minimums add up to {}, more than Length {length}",
            digits + special + capital + lower
        )));
    }
    let avoid: HashSet<char> = call
        .text(ev, 5, "CharactersToAvoid")?
        .unwrap_or_default()
        .chars()
        .collect();
    let pool = |chars: &mut dyn Iterator<Item = char>| -> Vec<char> {
        chars.filter(|c| !avoid.contains(c)).collect()
    };
    let classes = [
        (pool(&mut ('0'..='9')), digits, "numbers"),
        (pool(&mut SPECIAL.chars()), special, "special characters"),
        (pool(&mut ('A'..='Z')), capital, "capital letters"),
        (pool(&mut ('a'..='z')), lower, "lower case letters"),
    ];
    let all: Vec<char> = classes
        .iter()
        .flat_map(|(chars, ..)| chars.iter().copied())
        .collect();
    if all.is_empty() {
        return Err(call.fail("CharactersToAvoid leaves no character to choose from"));
    }
    ev.produce(call, length)?;
    let random = &mut *ev.environment.random;
    let mut out = Vec::with_capacity(length);
    for (chars, minimum, what) in &classes {
        if *minimum > 0 && chars.is_empty() {
            return Err(call.fail(format!("CharactersToAvoid leaves no {what}")));
        }
        out.extend((0..*minimum).map(|_| chars[random.gen_range(0..chars.len())]));
    }
    while out.len() < length {
        out.push(all[random.gen_range(0..all.len())]);
    }
    out.shuffle(random);
    Ok(Value::Text(out.into_iter().collect()))
}

/// Redact(value): the value flows unchanged; provisioning logs show "[Redact]" instead
/// ([`super::Expression::redacts`]).
fn redact(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    call.arg(ev, 0)
}

/// RemoveDuplicates(attribute): the values in their order, each kept once (exact comparison).
fn remove_duplicates(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    Ok(match call.arg(ev, 0)? {
        Value::List(values) => {
            // Hashed, so that a long list takes linear time.
            let mut seen = HashSet::with_capacity(values.len());
            let keep: Vec<bool> = values.iter().map(|v| seen.insert(v)).collect();
            drop(seen);
            Value::List(
                values
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(v, keep)| keep.then_some(v))
                    .collect(),
            )
        }
        other => other,
    })
}

/// Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
/// replacementAttributeName, template), in the five documented forms (the parser has checked
/// that one of them is used). Case-sensitive; `${name}` in replacementValue names a group.
fn replace(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let source = call.text(ev, 0, "source")?;
    let old = call.text(ev, 1, "oldValue")?;
    let pattern = call.text(ev, 2, "regexPattern")?;
    let group = call.text(ev, 3, "regexGroupName")?;
    let replacement = call.text(ev, 4, "replacementValue")?;
    let template = call.text(ev, 6, "template")?;
    if let (Some(pattern), Some(group)) = (&pattern, &group)
        && call.has(5)
    {
        if source.as_deref().is_some_and(|s| !s.is_empty()) {
            return Ok(source.map_or(Value::Null, Value::Text));
        }
        let Some(other) = call.text(ev, 5, "replacementAttributeName")? else {
            return Ok(Value::Null);
        };
        let regex = ev.pattern(call, pattern)?;
        let Some(found) = regex.captures(&other).and_then(|c| c.name(group)) else {
            return Ok(Value::Null);
        };
        return produced(ev, call, found.as_str().to_owned());
    }
    let Some(source) = source else {
        return Ok(Value::Null);
    };
    // Literal forms: the length follows from the number of matches, counted first (a
    // one-character oldValue with a long replacementValue is how a value grows fastest).
    let literal = |ev: &mut Evaluator<'_, '_>, within: &str, old: &str, new: &str| -> Result {
        let matches = within.matches(old).count();
        let length = (chars(within) - matches * chars(old))
            .saturating_add(matches.saturating_mul(chars(new)));
        ev.produce(call, length)?;
        Ok(Value::Text(within.replace(old, new)))
    };
    match (old, pattern, group, replacement, template) {
        (Some(old), _, _, _, Some(template)) if !old.is_empty() => {
            literal(ev, &template, &old, &source)
        }
        (Some(old), _, _, Some(replacement), _) if !old.is_empty() => {
            literal(ev, &source, &old, &replacement)
        }
        (_, Some(pattern), Some(group), Some(replacement), _) => {
            let regex = ev.pattern(call, &pattern)?;
            let mut out = Bounded::new(call, source.len());
            let mut copied = 0;
            for captures in regex.captures_iter(&source) {
                ev.step(call, 1)?;
                if let Some(m) = captures.name(&group) {
                    out.push_str(&source[copied..m.start()])?;
                    out.push_str(&replacement)?;
                    copied = m.end();
                }
            }
            out.push_str(&source[copied..])?;
            out.finish(ev)
        }
        (_, Some(pattern), None, Some(replacement), _) => {
            let regex = ev.pattern(call, &pattern)?;
            let pieces = pieces(&replacement);
            let mut out = Bounded::new(call, source.len());
            let mut copied = 0;
            for captures in regex.captures_iter(&source) {
                ev.step(call, 1)?;
                let Some(m) = captures.get(0) else {
                    continue;
                };
                out.push_str(&source[copied..m.start()])?;
                for piece in &pieces {
                    out.push_str(piece.expand(&captures))?;
                }
                copied = m.end();
            }
            out.push_str(&source[copied..])?;
            out.finish(ev)
        }
        _ => Err(call.fail(
            "give oldValue with replacementValue or template, or regexPattern with replacementValue (and optionally regexGroupName)",
        )),
    }
}

/// A part of a `Replace` replacementValue: text as it is, or a group of the match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'r> {
    Literal(&'r str),
    Group(GroupRef<'r>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupRef<'r> {
    Number(usize),
    Name(&'r str),
}

impl Piece<'_> {
    /// The text this part stands for in one match: a group that did not take part, or that the
    /// pattern does not have, is empty.
    pub fn expand<'a>(&'a self, captures: &'a regex::Captures<'a>) -> &'a str {
        let group = match self {
            Piece::Literal(text) => return text,
            Piece::Group(GroupRef::Number(i)) => captures.get(*i),
            Piece::Group(GroupRef::Name(name)) => captures.name(name),
        };
        group.map_or("", |g| g.as_str())
    }
}

/// A replacementValue in parts, by the rules of the `regex` crate's `Captures::expand`: `$$` is
/// `$`, `$name` or `$1` the longest run of letters, digits and `_`, `${name}` anything up to `}`,
/// and a `$` that starts none of these is itself. Expanding the parts ourselves lets `Replace`
/// stop at the bound on a value mid-way, and lets the save-time check count the groups.
pub fn pieces(replacement: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = replacement;
    while let Some(i) = rest.find('$') {
        if i > 0 {
            out.push(Piece::Literal(&rest[..i]));
        }
        rest = &rest[i..];
        if rest[1..].starts_with('$') {
            out.push(Piece::Literal("$"));
            rest = &rest[2..];
            continue;
        }
        let name = if let Some(braced) = rest[1..].strip_prefix('{') {
            braced.find('}').map(|end| (&braced[..end], end + 3))
        } else {
            let end = rest[1..]
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            (end > 0).then(|| (&rest[1..=end], end + 1))
        };
        match name {
            Some((name, used)) => {
                out.push(Piece::Group(match name.parse() {
                    Ok(i) => GroupRef::Number(i),
                    Err(_) => GroupRef::Name(name),
                }));
                rest = &rest[used..];
            }
            None => {
                out.push(Piece::Literal("$"));
                rest = &rest[1..];
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    out
}

/// Only reached when nested, which the parser refuses; kept total: the first candidate.
fn select_unique_value(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    coalesce(ev, call)
}

/// SingleAppRoleAssignment([appRoleAssignments]): the value of the object's one role (the first
/// if there are several, as Entra gives no guarantee either); null without a role that has a value.
fn single_app_role_assignment(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let roles = scim_roles(ev, call)?;
    Ok(roles
        .first()
        .and_then(|role| field(role, "value"))
        .cloned()
        .unwrap_or(Value::Null))
}

/// Split(source, delimiter): a multi-valued result; values are trimmed and empty ones dropped,
/// which is what the documented example shows ("PermissionSetOne, PermissionSetTwo").
fn split(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let source = call.text(ev, 0, "source")?;
    let delimiter = call.text(ev, 1, "delimiter")?.unwrap_or_default();
    if delimiter.is_empty() {
        return Err(call.fail("delimiter must not be empty"));
    }
    let Some(source) = source else {
        return Ok(Value::Null);
    };
    let parts = || {
        source
            .split(delimiter.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    // Counted before any value is made.
    let (count, length) = parts().fold((0, 0), |(n, l), v| (n + 1, l + chars(v)));
    ev.step(call, count)?;
    ev.produce(call, length)?;
    Ok(Value::List(parts().map(Value::text).collect()))
}

fn strip_spaces(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    match call.text(ev, 0, "source")? {
        Some(source) => produced(ev, call, source.replace(' ', "")),
        None => Ok(Value::Null),
    }
}

/// Switch(source, defaultValue, key1, value1, ...): case-sensitive comparison of the source's
/// text with each key; a null source matches the key "" (the documented
/// `Switch([country], [country], "", "Other")`). Only the chosen value is evaluated.
fn switch(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let source = call.text(ev, 0, "source")?.unwrap_or_default();
    for key in (2..call.args.len()).step_by(2) {
        if call.text(ev, key, "key")?.unwrap_or_default() == source {
            return call.arg(ev, key + 1);
        }
    }
    call.arg(ev, 1)
}

/// Culture names as RFC 4646 writes them (`en-US`, `tr-TR`, `az-Latn-AZ`).
fn culture(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result<Option<String>> {
    let Some(culture) = call.text(ev, 1, "culture")? else {
        return Ok(None);
    };
    let mut parts = culture.split('-');
    let language_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    if !language_ok
        || !parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(call.fail(format!(
            "culture {culture:?} is not a culture name such as en-US or ja-JP"
        )));
    }
    Ok(Some(culture))
}

/// Turkish and Azeri have a dotted and a dotless i; every other culture cases as Unicode does.
fn is_turkic(culture: &Option<String>) -> bool {
    culture.as_deref().is_some_and(|c| {
        let language = c.split('-').next().unwrap_or_default();
        language.eq_ignore_ascii_case("tr") || language.eq_ignore_ascii_case("az")
    })
}

/// Case mapping can lengthen text (ß gives SS, up to three characters for one): the length is
/// counted character by character first.
fn to_lower(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let culture = culture(ev, call)?;
    let Some(source) = call.text(ev, 0, "source")? else {
        return Ok(Value::Null);
    };
    let turkic = is_turkic(&culture);
    let length = source
        .chars()
        .map(|c| match c {
            'I' | 'İ' if turkic => 1,
            c => c.to_lowercase().count(),
        })
        .sum();
    ev.produce(call, length)?;
    Ok(Value::Text(if turkic {
        source.replace('I', "ı").replace('İ', "i").to_lowercase()
    } else {
        source.to_lowercase()
    }))
}

fn to_upper(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let culture = culture(ev, call)?;
    let Some(source) = call.text(ev, 0, "source")? else {
        return Ok(Value::Null);
    };
    let turkic = is_turkic(&culture);
    let length = source
        .chars()
        .map(|c| match c {
            'i' if turkic => 1,
            c => c.to_uppercase().count(),
        })
        .sum();
    ev.produce(call, length)?;
    Ok(Value::Text(if turkic {
        source.replace('i', "İ").to_uppercase()
    } else {
        source.to_uppercase()
    }))
}

/// Word(string, wordNumber, delimiters): each character of delimiters separates words; runs of
/// delimiters make no empty words; a string without any delimiter is one word. "" when the
/// string is null, the number is below 1 or there are fewer words, as documented.
fn word(ev: &mut Evaluator<'_, '_>, call: &Call<'_>) -> Result {
    let text = call.text(ev, 0, "string")?.unwrap_or_default();
    let number = call.number(ev, 1, "wordNumber")?.unwrap_or(0);
    let delimiters: HashSet<char> = call
        .text(ev, 2, "delimiters")?
        .unwrap_or_default()
        .chars()
        .collect();
    if number < 1 {
        return Ok(Value::text(""));
    }
    let word = text
        .split(|c| delimiters.contains(&c))
        .filter(|w| !w.is_empty())
        .nth(usize::try_from(number - 1).unwrap_or(usize::MAX))
        .unwrap_or("");
    produced(ev, call, word.to_owned())
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_every_function_of_the_design_once() {
        let design = "Append, AppRoleAssignmentsComplex, AssertiveAppRoleAssignmentsComplex, BitAnd, CBool, CDate, \
            Coalesce, ConvertToBase64, ConvertToUTF8Hex, Count, CStr, DateAdd, DateDiff, DateFromNum, FormatDateTime, \
            Guid, IgnoreFlowIfNullOrEmpty, IIF, InStr, IsNull, IsNullOrEmpty, IsPresent, IsString, Item, Join, Left, \
            Mid, NormalizeDiacritics, Not, Now, NumFromDate, PCase, RandomString, Redact, RemoveDuplicates, Replace, \
            SelectUniqueValue, SingleAppRoleAssignment, Split, StripSpaces, Switch, ToLower, ToUpper, Word";
        let names: Vec<&str> = design.split(", ").collect();
        assert_eq!(names.len(), FUNCTIONS.len());
        for name in names {
            assert!(find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn replacement_values_expand_as_the_regex_crate_expands_them() {
        let regex = regex::Regex::new(r"(?<first>\w)(\w)?").unwrap();
        let captures = regex.captures("ab").unwrap();
        for replacement in [
            "", "x", "$", "$$", "$$1", "$1", "$2$1", "${first}", "$first", "${1}x", "$1x", "$x",
            "${", "${first", "${}", "${+1}", "a$", "$-", "é$1é", "$first_", "${fir}st",
        ] {
            let mut expected = String::new();
            captures.expand(replacement, &mut expected);
            let ours: String = pieces(replacement)
                .iter()
                .map(|p| p.expand(&captures))
                .collect();
            assert_eq!(ours, expected, "{replacement:?}");
        }
    }

    #[test]
    fn closest_names_for_typos() {
        let names = FUNCTIONS.iter().map(|f| f.name);
        assert_eq!(closest("ToLOwer", names.clone()), Some("ToLower"));
        assert_eq!(closest("Swich", names.clone()), Some("Switch"));
        assert_eq!(closest("Frobnicate", names), None);
        assert_eq!(Arity::AtLeast(2).describe(), "2 or more arguments");
        assert!(Arity::Between(3, 4).accepts(4) && !Arity::Between(3, 4).accepts(2));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn replacement_values_expand_as_the_regex_crate_expands_them(
            replacement in "[$a1{}_é+-]{0,12}",
            haystack in "[ab]{0,4}",
        ) {
            let regex = regex::Regex::new(r"(?<a>a)(b)?").unwrap();
            if let Some(captures) = regex.captures(&haystack) {
                let mut expected = String::new();
                captures.expand(&replacement, &mut expected);
                let ours: String = pieces(&replacement)
                    .iter()
                    .map(|p| p.expand(&captures))
                    .collect();
                prop_assert_eq!(ours, expected);
            }
        }
    }
}
