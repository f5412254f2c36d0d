//! Times in stored JSON and in the API: RFC 3339 text. Reports stored before times were written
//! so hold `time`'s tuple form (`[2026, 336, 18, ...]`), which still reads. Times for people
//! (the console, emails) are [`minutes_utc`].

use serde::{Deserialize, Deserializer, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// "2026-11-26 20:15 UTC": a time as the console and its emails show it.
pub fn minutes_utc(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    time::serde::rfc3339::serialize(at, serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Text(String),
        Tuple(OffsetDateTime),
    }
    match Stored::deserialize(deserializer)? {
        Stored::Text(text) => {
            OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
        }
        Stored::Tuple(at) => Ok(at),
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::macros::datetime;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct At(#[serde(with = "super")] time::OffsetDateTime);

    #[test]
    fn writes_rfc3339_and_reads_both_forms() {
        let at = At(datetime!(2026-12-02 18:04:05.25 UTC));
        let text = serde_json::to_string(&at).unwrap();
        assert_eq!(text, "\"2026-12-02T18:04:05.25Z\"");
        assert_eq!(serde_json::from_str::<At>(&text).unwrap(), at);
        let legacy = serde_json::to_string(&at.0).unwrap();
        assert!(
            legacy.starts_with('['),
            "time's own form is a tuple: {legacy}"
        );
        assert_eq!(serde_json::from_str::<At>(&legacy).unwrap(), at);
    }
}
