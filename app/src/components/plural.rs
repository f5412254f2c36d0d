//! Counts in words: "1 user", "2 users".

/// `count` followed by `noun`, with an "s" unless there is exactly one.
pub fn plural(count: impl Into<i128>, noun: &str) -> String {
    match count.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1u32, "user"), "1 user");
        assert_eq!(plural(0u32, "row"), "0 rows");
        assert_eq!(plural(2u64, "group"), "2 groups");
    }
}
