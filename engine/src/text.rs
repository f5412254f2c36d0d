//! Words for people: the engine writes its reasons as clauses ("the target refused ..."),
//! to follow a colon; where one stands alone it begins a sentence.

/// `text` with a capital first letter: reasons are written to follow a colon, and begin a
/// sentence where they are shown alone.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reason_begins_a_sentence() {
        assert_eq!(super::sentence("the target refused"), "The target refused");
        assert_eq!(super::sentence("élan"), "Élan");
        assert_eq!(super::sentence(""), "");
    }
}
