//! Links that keep a list's state (search, sort, page) in the address, so every view of a list
//! can be bookmarked, reloaded and opened before the WASM has loaded.

/// `path?k=v&...` with the values percent-encoded; empty values are left out.
pub fn query_link(path: &str, params: &[(&str, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// `value` percent-encoded for a URL: every byte but unreserved ASCII.
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_and_empty_ones_dropped() {
        let link = query_link(
            "/users",
            &[
                ("q", "Zoë & co".into()),
                ("sort", String::new()),
                ("after", "a.b".into()),
            ],
        );
        assert_eq!(link, "/users?q=Zo%C3%AB%20%26%20co&after=a.b");
        assert_eq!(query_link("/users", &[]), "/users");
    }
}
