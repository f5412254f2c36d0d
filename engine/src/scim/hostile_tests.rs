//! Hostile input against the SCIM parsers: what used to overflow the stack, take quadratic time
//! or panic is now refused with a reason, quickly, and random input of the same kinds neither
//! panics nor takes long.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{
    MAX_PAGE,
    filter::{MAX_COMPARISONS, MAX_DEPTH, MAX_LENGTH, PatchPath, ScimFilter},
    patch,
    query::{GROUPS, ListQuery, USERS},
};

fn refused(filter: &str) -> (usize, String) {
    let err = ScimFilter::parse(filter).expect_err(filter);
    (err.position, err.message)
}

/// The deepest parentheses in `sql`.
fn sql_nesting(sql: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    for c in sql.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[test]
fn deep_not_is_refused_one_level_past_the_limit() {
    let deep = |n: usize| format!("{}userName pr{}", "not (".repeat(n), ")".repeat(n));
    // The 33rd `not (` starts at character 160; its parenthesis is at 164.
    assert_eq!(
        refused(&deep(1000)),
        (164, "the filter nests deeper than 32 levels".into())
    );
    // The probe as sent (12,011 characters) does not get as far as the parser.
    assert_eq!(
        refused(&deep(2000)),
        (
            MAX_LENGTH,
            "the filter is longer than 10000 characters".into()
        )
    );
    let deepest = ScimFilter::parse(&deep(MAX_DEPTH)).unwrap();
    let sql = USERS.condition(&deepest).unwrap();
    assert_eq!(sql.text.matches("NOT COALESCE").count(), MAX_DEPTH);
    let parens = format!("{}a pr{}", "(".repeat(40), ")".repeat(40));
    assert_eq!(refused(&parens).0, 32);
}

#[test]
fn thousands_of_or_terms_are_refused_past_the_comparison_limit() {
    // The probe as sent is 53,996 characters.
    let probe = vec!["userName eq \"a\""; 3000].join(" or ");
    assert_eq!(
        refused(&probe),
        (
            MAX_LENGTH,
            "the filter is longer than 10000 characters".into()
        )
    );
    // As many short terms as fit: the 201st, at character 1600, is one too many.
    let short = vec!["a pr"; 1200].join(" or ");
    assert_eq!(
        refused(&short),
        (1600, "the filter has more than 200 comparisons".into())
    );
    let short = vec!["a pr"; 1000].join(" and ");
    assert_eq!(refused(&short).0, 200 * 9);
    // Value filters and Entra's `].value eq` count too.
    let in_value_filter = format!(
        "emails[{}].value eq \"x\"",
        vec!["type pr"; MAX_COMPARISONS].join(" or ")
    );
    assert!(refused(&in_value_filter).1.contains("more than 200"));

    // The most a filter may have is one flat list in SQL, not 200 nested parentheses.
    let most = ScimFilter::parse(&vec!["userName pr"; MAX_COMPARISONS].join(" or ")).unwrap();
    let sql = USERS.condition(&most).unwrap();
    assert_eq!(sql.text.matches(" OR ").count(), MAX_COMPARISONS - 1);
    assert!(sql_nesting(&sql.text) <= 3, "{}", sql.text);
    let mixed = ScimFilter::parse(
        &vec!["(userName pr and title pr or not (active eq true))"; 50].join(" and "),
    )
    .unwrap();
    assert!(sql_nesting(&USERS.condition(&mixed).unwrap().text) <= 8);
}

#[test]
fn a_megabyte_filter_is_refused_at_once() {
    let huge = format!("userName eq \"{}\"", "a".repeat(1024 * 1024));
    let started = Instant::now();
    let (position, message) = refused(&huge);
    let elapsed = started.elapsed();
    assert_eq!(position, MAX_LENGTH);
    assert_eq!(message, "the filter is longer than 10000 characters");
    assert!(elapsed < Duration::from_millis(20), "took {elapsed:?}");
    let terms = "a pr or ".repeat(1024 * 1024 / 8);
    let started = Instant::now();
    assert_eq!(refused(&terms).0, MAX_LENGTH);
    assert!(started.elapsed() < Duration::from_millis(20));
    // Non-ASCII is counted in characters, not bytes: 10,000 `é` (20,000 bytes) are not too long.
    let accented = format!("userName eq \"{}\"", "é".repeat(MAX_LENGTH - 14));
    assert!(ScimFilter::parse(&accented).is_ok());
    assert_eq!(refused(&format!("{accented}é")).0, MAX_LENGTH);
}

#[test]
fn a_filter_at_the_length_limit_parses_and_translates_quickly() {
    // 200 comparisons with long values, just under 10,000 characters.
    let value = "x".repeat(MAX_LENGTH / MAX_COMPARISONS - 18);
    let filter = vec![format!("userName eq \"{value}\""); MAX_COMPARISONS].join(" or ");
    assert!(filter.chars().count() <= MAX_LENGTH, "{}", filter.len());
    let started = Instant::now();
    let parsed = ScimFilter::parse(&filter).unwrap();
    let sql = USERS.condition(&parsed).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(sql.binds.len(), MAX_COMPARISONS);
    assert!(elapsed < Duration::from_millis(100), "took {elapsed:?}");
}

#[test]
fn non_ascii_in_a_filter_is_an_error_not_a_panic() {
    for (filter, position, expected) in [
        ("ab日 eq \"x\"", 2, "expected an operator"),
        ("é eq \"x\"", 0, "expected an attribute name"),
        ("é日 pr", 0, "expected an attribute name"),
        (
            "userName eq \"x\" or ab\u{1F600} pr",
            21,
            "expected an operator",
        ),
        ("userName eq \"\\ud83d\"", 18, "half of a surrogate pair"),
        ("userName eq \"\\u+123\"", 14, "four hex digits"),
        ("userName eq \"\\u12\"", 14, "four hex digits"),
        (
            "emails[type eq \"日\"].日 eq \"x\"",
            20,
            "expected an attribute name",
        ),
    ] {
        let (at, message) = refused(filter);
        assert_eq!(at, position, "{filter}: {message}");
        assert!(message.contains(expected), "{filter}: {message}");
    }
    let parsed = ScimFilter::parse("userName eq \"日本\u{1F600}\\ud83d\\ude00\"").unwrap();
    let sql = USERS.condition(&parsed).unwrap();
    assert_eq!(
        sql.binds,
        vec![super::query::Bind::Text("日本\u{1F600}\u{1F600}".into())]
    );
    // A URN with non-ASCII parses, and is an unknown schema.
    let urn = ScimFilter::parse("urn:é:日:x eq \"x\"").unwrap();
    let err = USERS.condition(&urn).unwrap_err();
    assert_eq!(err.scim_type, Some("invalidFilter"));
    assert!(
        err.detail.contains("unknown schema urn:é:日"),
        "{}",
        err.detail
    );
}

#[test]
fn non_ascii_in_sort_by_is_an_error_not_a_panic() {
    for (sort_by, at) in [
        ("ab日", "at character 3"),
        ("é", "at character 1"),
        ("userName日", "at character 9"),
        ("emails[ab日 pr]", "at character 10"),
    ] {
        for table in [&USERS, &GROUPS] {
            let err = table.sort_column(sort_by).unwrap_err();
            assert_eq!(err.scim_type, Some("invalidValue"), "{sort_by}");
            assert!(err.detail.contains(at), "{sort_by}: {}", err.detail);
        }
    }
    let deep = format!("emails[{}type pr{}]", "(".repeat(40), ")".repeat(40));
    let err = USERS.sort_column(&deep).unwrap_err();
    assert!(
        err.detail.contains("nests deeper than 32"),
        "{}",
        err.detail
    );
    let err = USERS.sort_column(&"a".repeat(1024 * 1024)).unwrap_err();
    assert!(err.detail.contains("longer than 10000"), "{}", err.detail);
}

#[test]
fn patch_paths_with_deep_or_odd_value_filters_are_refused() {
    let not_value = format!("emails[{}type pr{}]", "not (".repeat(40), ")".repeat(40));
    let err = PatchPath::parse(&not_value).unwrap_err();
    // `[` is level 1; the 32nd `not (` would be level 33: 7 + 31 × 5 + 4.
    assert_eq!(
        (err.position, err.message.as_str()),
        (166, "the filter nests deeper than 32 levels")
    );
    let parens = format!("members[{}value pr{}]", "(".repeat(40), ")".repeat(40));
    assert_eq!(PatchPath::parse(&parens).unwrap_err().position, 39);
    let within = format!("emails[{}type pr{}]", "(".repeat(31), ")".repeat(31));
    assert!(PatchPath::parse(&within).is_ok());
    let many = format!("emails[{}]", vec!["type pr"; 300].join(" or "));
    assert!(
        PatchPath::parse(&many)
            .unwrap_err()
            .message
            .contains("more than 200")
    );
    for odd in [
        "ab日",
        "é",
        "emails[ab日 pr].value",
        "emails[type eq \"x\"].日",
        "日[",
        "",
    ] {
        assert!(PatchPath::parse(odd).is_err(), "{odd:?}");
    }

    // Through a PATCH body: 400 invalidPath, with the reason, quoting only the path's start.
    let huge = format!("emails[type eq \"{}\"]", "a".repeat(1024 * 1024));
    for (path, reason) in [
        (not_value.as_str(), "nests deeper than 32 levels"),
        (huge.as_str(), "longer than 10000 characters"),
        ("ab日", "expected"),
    ] {
        let body = json!({ "Operations": [{ "op": "replace", "path": path, "value": "x" }] });
        let err = patch::parse(&body).unwrap_err();
        assert_eq!((err.status, err.scim_type), (400, Some("invalidPath")));
        assert!(err.detail.contains(reason), "{}", err.detail);
        assert!(err.detail.chars().count() < 200, "{}", err.detail);
    }
    let body = json!({ "Operations": [{ "op": "x".repeat(100_000), "path": "a" }] });
    assert!(patch::parse(&body).unwrap_err().detail.len() < 200);
    // A path-less value's attribute names are paths too.
    let operations = patch::parse(&json!({
        "Operations": [{ "op": "add", "value": { not_value.as_str(): "x", "ab日": "y" } }]
    }))
    .unwrap();
    let err = patch::apply(&mut json!({}), &operations, &[]).unwrap_err();
    assert_eq!(err.scim_type, Some("invalidPath"));
}

#[test]
fn odd_list_parameters_are_clamped_or_refused() {
    let params = |pairs: Vec<(&'static str, String)>| {
        ListQuery::from_params(move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
    };
    let query = params(vec![
        ("startIndex", "-99999999999999999999999".into()),
        ("count", "99999999999999999999999".into()),
    ])
    .unwrap();
    assert_eq!((query.start_index, query.count), (1, MAX_PAGE));
    let query = params(vec![
        ("startIndex", "99999999999999999999999".into()),
        ("count", "-5".into()),
    ])
    .unwrap();
    assert_eq!((query.start_index, query.count), (u32::MAX, 0));
    for (name, value) in [
        ("count", "日".to_owned()),
        ("startIndex", "".to_owned()),
        ("count", "1.5".to_owned()),
        ("count", "9".repeat(1024 * 1024) + "x"),
        ("sortOrder", "é".repeat(1024 * 1024)),
    ] {
        let err = params(vec![(name, value)]).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidValue"), "{name}");
        assert!(err.detail.chars().count() < 200, "{}", err.detail);
    }
    let err = params(vec![("filter", "not (".repeat(2000) + "a pr")]).unwrap_err();
    assert_eq!((err.status, err.scim_type), (400, Some("invalidFilter")));
    assert!(
        err.detail
            .contains("longer than 10000 characters (at character 10001)"),
        "{}",
        err.detail
    );
    let query = params(vec![
        ("attributes", "日,é.ü,urn:日:x,,:,.,urn:".into()),
        ("excludedAttributes", ":é:,.".into()),
    ])
    .unwrap();
    let mut resource =
        json!({ "id": "1", "schemas": [], "userName": "ada", "name": { "givenName": "A" } });
    query.projection.apply(&mut resource);
    assert_eq!(resource, json!({ "id": "1", "schemas": [] }));
}

#[test]
fn patching_many_members_takes_linear_time() {
    let n = 20_000;
    let members: Vec<Value> = (0..n)
        .map(|i| json!({ "value": format!("{i:036}") }))
        .collect();
    let operations = |ops: Value| patch::parse(&json!({ "Operations": ops })).unwrap();
    let mut group = json!({ "displayName": "Ops", "members": [{ "value": format!("{:036}", 7) }] });
    let started = Instant::now();
    let add = operations(json!([{ "op": "add", "path": "members", "value": members }]));
    patch::apply(&mut group, &add, &[]).unwrap();
    assert_eq!(group["members"].as_array().map(Vec::len), Some(n));
    let remove = operations(json!([{ "op": "remove", "path": "members", "value": members }]));
    patch::apply(&mut group, &remove, &[]).unwrap();
    assert_eq!(group["members"], json!([]));
    let add = operations(json!([{ "op": "add", "path": "members", "value": members }]));
    patch::apply(&mut group, &add, &[]).unwrap();
    let by_filter = operations(json!([{ "op": "remove", "path": "members[value pr]" }]));
    patch::apply(&mut group, &by_filter, &[]).unwrap();
    assert_eq!(group.get("members"), None);
    // Before: 20,000 members took 270 s to add in a debug build.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

const FRAGMENTS: &[&str] = &[
    "not (",
    "(",
    ")",
    "userName eq \"x\"",
    " and ",
    " or ",
    "emails[",
    "]",
    ".value",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "é",
    "日",
    "\u{1F600}",
    "\"",
    "\\",
    "\\u",
    "d83d",
    " pr",
    " eq ",
    "members",
    "type",
    "1e999",
    "-",
    " ",
    ":",
    ".",
];

/// Pairs that open and close a nesting level.
const LEVELS: &[(&str, &str)] = &[
    ("not (", ")"),
    ("(", ")"),
    ("emails[", "]"),
    ("members[value eq \"x\" or (", ")]"),
    ("userName pr and not (", ")"),
];

fn fragments(most: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..most).prop_map(|f| f.concat())
}

/// `levels` openings, random inside, and (perhaps) as many closings.
fn nested() -> impl Strategy<Value = String> {
    (
        0..3000usize,
        prop::sample::select(LEVELS),
        fragments(20),
        any::<bool>(),
    )
        .prop_map(|(levels, (open, close), inside, closed)| {
            let closing = if closed {
                close.repeat(levels)
            } else {
                String::new()
            };
            format!("{}{inside}{closing}", open.repeat(levels))
        })
}

/// Runs `call`, failing if it took more than the bound.
fn timed<T>(what: &str, input: &str, call: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let started = Instant::now();
    let out = call();
    let elapsed = started.elapsed();
    prop_assert!(
        elapsed < Duration::from_millis(100),
        "{} took {:?} on {} characters",
        what,
        elapsed,
        input.chars().count()
    );
    Ok(out)
}

/// Every parser and translation of `input`: none panics, each answers in time.
fn every_parser(input: &str) -> Result<(), TestCaseError> {
    let item = json!({ "userName": "x", "emails": [{ "value": "x", "type": "work" }] });
    if let Ok(filter) = timed("filter", input, || ScimFilter::parse(input))? {
        timed("users SQL", input, || USERS.condition(&filter))?.ok();
        timed("groups SQL", input, || GROUPS.condition(&filter))?.ok();
        timed("matching", input, || filter.0.matches(&item))?;
    }
    let path = timed("PATCH path", input, || PatchPath::parse(input))?;
    if let Some(filter) = path.ok().and_then(|p| p.filter) {
        timed("matching", input, || filter.matches(&item))?;
    }
    timed("sortBy", input, || USERS.sort_column(input))?.ok();
    timed("sortBy", input, || GROUPS.sort_column(input))?.ok();
    timed("list parameters", input, || {
        ListQuery::from_params(|name| match name {
            "sortOrder" => None,
            _ => Some(input.to_owned()),
        })
    })?
    .ok();
    let body = json!({ "Operations": [{ "op": "replace", "path": input, "value": "x" }] });
    if let Ok(operations) = timed("PATCH", input, || patch::parse(&body))? {
        let mut user = item.clone();
        timed("PATCH apply", input, || {
            patch::apply(&mut user, &operations, &[])
        })?
        .ok();
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_fragments_end_quickly_without_panics(input in fragments(3000)) {
        every_parser(&input)?;
    }

    #[test]
    fn deep_nesting_ends_quickly_without_panics(input in nested()) {
        every_parser(&input)?;
    }
}
