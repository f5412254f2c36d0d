//! Dates as Entra's expression functions see them: `CDate` reads ISO 8601 and the portal's own
//! `M/d/yyyy h:mm:ss tt`, date-only values with an offset mean midnight there, and everything
//! is converted to UTC. `FormatDateTime` speaks .NET custom format strings; `DateAdd` and
//! `DateDiff` take VBA's interval codes (`yyyy`, `m`, `d`, `ww`, `h`, `n`, `s`), and `DateDiff`
//! counts calendar boundaries crossed, as VBA does (weeks start on Sunday).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// How Entra prints a DateTime (`Now()`, `CDate`, `DateAdd`).
pub const ENTRA_FORMAT: &str = "M/d/yyyy h:mm:ss tt";

/// Reads a date the way `CDate` does; `None` when the text is not a date.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    parse_iso(text)
        .or_else(|| {
            [
                "M/d/yyyy h:mm:ss tt",
                "M/d/yyyy H:mm:ss",
                "M/d/yyyy h:mm tt",
                "M/d/yyyy",
            ]
            .iter()
            .find_map(|format| parse_exact(text, format).ok())
        })
        .map(|at| at.to_offset(UtcOffset::UTC))
}

/// `yyyy-MM-dd`, then optionally `T` or a space and `HH:mm[:ss[.fffffff]]`, then optionally `Z`
/// or an offset (`-07:00`, `+0800`, `+08`). No offset means UTC.
fn parse_iso(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let date = Date::from_calendar_date(
        number(0..4)? as i32,
        Month::try_from(number(5..7)? as u8).ok()?,
        number(8..10)? as u8,
    )
    .ok()?;
    let mut rest = &text[10..];
    let mut time = Time::MIDNIGHT;
    if let Some(clock) = rest.strip_prefix(['T', 't', ' ']) {
        let hours: u8 = clock.get(0..2)?.parse().ok()?;
        let minutes: u8 = clock
            .get(3..5)
            .filter(|_| clock.as_bytes().get(2) == Some(&b':'))?
            .parse()
            .ok()?;
        let mut used = 5;
        let mut seconds = 0u8;
        let mut nanos = 0u32;
        if clock.as_bytes().get(5) == Some(&b':') {
            seconds = clock.get(6..8)?.parse().ok()?;
            used = 8;
            if clock.as_bytes().get(8) == Some(&b'.') {
                let fraction: String = clock[9..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if fraction.is_empty() {
                    return None;
                }
                used = 9 + fraction.len();
                let padded = format!("{:0<9}", &fraction[..fraction.len().min(9)]);
                nanos = padded.parse().ok()?;
            }
        }
        time = Time::from_hms_nano(hours, minutes, seconds, nanos).ok()?;
        rest = &clock[used..];
    }
    let offset = match rest {
        "" | "Z" | "z" => UtcOffset::UTC,
        _ => {
            let sign: i8 = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if !digits.bytes().all(|b| b.is_ascii_digit()) || ![2, 4].contains(&digits.len()) {
                return None;
            }
            let hours: i8 = digits[0..2].parse().ok()?;
            let minutes: i8 = digits.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// One piece of a .NET custom date and time format string.
#[derive(Debug, PartialEq)]
enum Token {
    /// A specifier letter repeated `count` times (`yyyy`, `MM`, `tt`, `zzz`, `fff`).
    Field(char, usize),
    Literal(String),
}

/// Splits a .NET custom format: runs of the same specifier letter, `'quoted'` and `"quoted"`
/// literals, `\x` escapes, `%x` single specifiers; any other character is itself.
fn tokens(format: &str) -> Vec<Token> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            'd' | 'M' | 'y' | 'h' | 'H' | 'm' | 's' | 'f' | 'F' | 't' | 'z' | 'K' | 'g' => {
                let mut count = 1;
                while chars.get(i + count) == Some(&c) {
                    count += 1;
                }
                out.push(Token::Field(c, count));
                i += count;
            }
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|d| *d == c)
                    .map_or(chars.len(), |p| i + 1 + p);
                out.push(Token::Literal(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '\\' => {
                out.extend(chars.get(i + 1).map(|c| Token::Literal(c.to_string())));
                i += 2;
            }
            '%' => i += 1,
            other => {
                out.push(Token::Literal(other.to_string()));
                i += 1;
            }
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Prints `at` (in its own offset) with a .NET custom format, invariant culture.
pub fn format(at: OffsetDateTime, format: &str) -> String {
    format_at_most(at, format, usize::MAX).unwrap_or_default()
}

/// [`format`], or `None` as soon as the text would have more than `most` characters (a format
/// can ask for up to six characters for each of its own: `K` is "+14:00").
pub fn format_at_most(at: OffsetDateTime, format: &str, most: usize) -> Option<String> {
    let mut out = String::new();
    let mut length = 0usize;
    let hour12 = match at.hour() % 12 {
        0 => 12,
        h => h,
    };
    for token in tokens(format) {
        let text = match token {
            Token::Literal(text) => text,
            Token::Field(c, n) => match (c, n) {
                ('d', 1 | 2) => format!("{:0n$}", at.day()),
                ('d', 3) => DAYS[at.weekday().number_days_from_monday() as usize][..3].into(),
                ('d', _) => DAYS[at.weekday().number_days_from_monday() as usize].into(),
                ('M', 1 | 2) => format!("{:0n$}", u8::from(at.month())),
                ('M', 3) => MONTHS[u8::from(at.month()) as usize - 1][..3].into(),
                ('M', _) => MONTHS[u8::from(at.month()) as usize - 1].into(),
                ('y', 1) => (at.year() % 100).to_string(),
                ('y', 2) => format!("{:02}", at.year() % 100),
                ('y', _) => format!("{:0n$}", at.year()),
                ('h', _) => format!("{:0w$}", hour12, w = n.min(2)),
                ('H', _) => format!("{:0w$}", at.hour(), w = n.min(2)),
                ('m', _) => format!("{:0w$}", at.minute(), w = n.min(2)),
                ('s', _) => format!("{:0w$}", at.second(), w = n.min(2)),
                ('f' | 'F', _) => {
                    let digits = format!("{:09}", at.nanosecond());
                    let digits = &digits[..n.min(7)];
                    if c == 'F' {
                        digits.trim_end_matches('0').to_owned()
                    } else {
                        digits.to_owned()
                    }
                }
                ('t', 1) => if at.hour() < 12 { "A" } else { "P" }.into(),
                ('t', _) => if at.hour() < 12 { "AM" } else { "PM" }.into(),
                ('z', _) | ('K', _) => {
                    let offset = at.offset();
                    let sign = if offset.is_negative() { '-' } else { '+' };
                    let (h, m) = (offset.whole_hours().abs(), offset.minutes_past_hour().abs());
                    match (c, n) {
                        ('K', _) if offset.is_utc() => "Z".into(),
                        ('z', 1) => format!("{sign}{h}"),
                        ('z', 2) => format!("{sign}{h:02}"),
                        _ => format!("{sign}{h:02}:{m:02}"),
                    }
                }
                ('g', _) => "A.D.".into(),
                _ => String::new(),
            },
        };
        length = length.saturating_add(text.chars().count());
        if length > most {
            return None;
        }
        out.push_str(&text);
    }
    Some(out)
}

/// Reads `text` with a .NET custom format (as `DateTime.ParseExact` would, invariant culture,
/// surrounding white space allowed). A value without an offset is UTC.
pub fn parse_exact(text: &str, format: &str) -> Result<OffsetDateTime, String> {
    let fail = || format!("{text:?} does not match the format {format:?}");
    let mut rest = text.trim();
    let (mut year, mut month, mut day) = (None, None, None);
    let (mut hour, mut minute, mut second, mut nanos) = (0u8, 0u8, 0u8, 0u32);
    let (mut pm, mut hour12) = (None, false);
    let mut offset = UtcOffset::UTC;
    let take_digits = |rest: &mut &str, min: usize, max: usize| -> Option<u32> {
        let len = rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return None;
        }
        let value = rest[..len].parse().ok()?;
        *rest = &rest[len..];
        Some(value)
    };
    let take_name = |rest: &mut &str, names: &[&str], short: bool| -> Option<usize> {
        names.iter().position(|name| {
            let name = if short { &name[..3] } else { name };
            let hit = rest
                .get(..name.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(name));
            if hit {
                *rest = &rest[name.len()..];
            }
            hit
        })
    };
    for token in tokens(format) {
        match token {
            Token::Literal(literal) => {
                rest = rest.strip_prefix(literal.as_str()).ok_or_else(fail)?;
            }
            Token::Field(c, n) => {
                let (min, max) = if n == 1 { (1, 2) } else { (n.min(2), n.max(2)) };
                match c {
                    'y' => {
                        let (min, max) = if n <= 2 { (min, 2) } else { (n, n.max(4)) };
                        let y = take_digits(&mut rest, min, max).ok_or_else(fail)? as i32;
                        year = Some(if n <= 2 { 2000 + y } else { y });
                    }
                    'M' if n >= 3 => {
                        month =
                            Some(take_name(&mut rest, &MONTHS, n == 3).ok_or_else(fail)? as u8 + 1);
                    }
                    'M' => month = Some(take_digits(&mut rest, min, max).ok_or_else(fail)? as u8),
                    'd' if n >= 3 => {
                        take_name(&mut rest, &DAYS, n == 3).ok_or_else(fail)?;
                    }
                    'd' => day = Some(take_digits(&mut rest, min, max).ok_or_else(fail)? as u8),
                    'h' | 'H' => {
                        hour = take_digits(&mut rest, min, 2).ok_or_else(fail)? as u8;
                        hour12 |= c == 'h';
                    }
                    'm' => minute = take_digits(&mut rest, min, 2).ok_or_else(fail)? as u8,
                    's' => second = take_digits(&mut rest, min, 2).ok_or_else(fail)? as u8,
                    'f' | 'F' => {
                        let min = if c == 'f' { n } else { 0 };
                        let len = rest.bytes().take(n).take_while(u8::is_ascii_digit).count();
                        if len < min {
                            return Err(fail());
                        }
                        if len > 0 {
                            nanos = format!("{:0<9}", &rest[..len])
                                .parse()
                                .map_err(|_| fail())?;
                        }
                        rest = &rest[len..];
                    }
                    't' => {
                        let upper = rest.to_ascii_uppercase();
                        let (am, used) = match (upper.get(..2), upper.get(..1)) {
                            (Some("AM"), _) if n > 1 => (true, 2),
                            (Some("PM"), _) if n > 1 => (false, 2),
                            (_, Some("A")) => (true, 1),
                            (_, Some("P")) => (false, 1),
                            _ => return Err(fail()),
                        };
                        pm = Some(!am);
                        rest = &rest[used..];
                    }
                    'z' | 'K' => {
                        if c == 'K'
                            && let Some(r) = rest.strip_prefix(['Z', 'z'])
                        {
                            rest = r;
                            continue;
                        }
                        let sign: i8 = match rest.as_bytes().first() {
                            Some(b'+') => 1,
                            Some(b'-') => -1,
                            _ => return Err(fail()),
                        };
                        rest = &rest[1..];
                        let h = take_digits(&mut rest, 1, 2).ok_or_else(fail)? as i8;
                        let mut m = 0;
                        if let Some(r) = rest.strip_prefix(':') {
                            rest = r;
                            m = take_digits(&mut rest, 2, 2).ok_or_else(fail)? as i8;
                        }
                        offset = UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| fail())?;
                    }
                    _ => return Err(fail()),
                }
            }
        }
    }
    if !rest.is_empty() {
        return Err(fail());
    }
    if hour12 || pm.is_some() {
        hour %= 12;
        if pm == Some(true) {
            hour += 12;
        }
    }
    let date = Date::from_calendar_date(
        year.unwrap_or(1),
        Month::try_from(month.unwrap_or(1)).map_err(|_| fail())?,
        day.unwrap_or(1),
    )
    .map_err(|_| fail())?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).map_err(|_| fail())?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// The interval codes of `DateAdd` and `DateDiff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Year,
    Month,
    Day,
    Week,
    Hour,
    Minute,
    Second,
}

impl Interval {
    pub fn parse(code: &str) -> Result<Interval, String> {
        Ok(match code {
            "yyyy" => Interval::Year,
            "m" => Interval::Month,
            "d" => Interval::Day,
            "ww" => Interval::Week,
            "h" => Interval::Hour,
            "n" => Interval::Minute,
            "s" => Interval::Second,
            other => {
                return Err(format!(
                    "interval {other:?} is not one of yyyy (year), m (month), d (day), ww (week), h (hour), n (minute), s (second)"
                ));
            }
        })
    }
}

/// `DateAdd`: months and years keep the day, clamped to the month's last day.
pub fn add(interval: Interval, amount: i64, at: OffsetDateTime) -> Option<OffsetDateTime> {
    let seconds = |n: i64| at.checked_add(time::Duration::seconds(n));
    match interval {
        Interval::Year => add_months(at, amount.checked_mul(12)?),
        Interval::Month => add_months(at, amount),
        Interval::Week => seconds(amount.checked_mul(7 * 86_400)?),
        Interval::Day => seconds(amount.checked_mul(86_400)?),
        Interval::Hour => seconds(amount.checked_mul(3_600)?),
        Interval::Minute => seconds(amount.checked_mul(60)?),
        Interval::Second => seconds(amount),
    }
}

fn add_months(at: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let index =
        (i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1).checked_add(months)?;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = at.day().min(time::util::days_in_month(month, year));
    at.replace_date(Date::from_calendar_date(year, month, day).ok()?)
        .into()
}

/// `DateDiff`: how many interval boundaries lie between `from` and `to` (negative when `to` is
/// earlier), both read in UTC.
pub fn diff(interval: Interval, from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    let (from, to) = (from.to_offset(UtcOffset::UTC), to.to_offset(UtcOffset::UTC));
    let months = |d: OffsetDateTime| i64::from(d.year()) * 12 + i64::from(u8::from(d.month()));
    let day_number = |d: Date| i64::from(d.to_julian_day());
    let week_start = |d: Date| day_number(d) - i64::from(d.weekday().number_days_from_sunday());
    let floor = |d: OffsetDateTime, unit: i64| d.unix_timestamp().div_euclid(unit);
    match interval {
        Interval::Year => i64::from(to.year() - from.year()),
        Interval::Month => months(to) - months(from),
        Interval::Day => day_number(to.date()) - day_number(from.date()),
        Interval::Week => (week_start(to.date()) - week_start(from.date())) / 7,
        Interval::Hour => floor(to, 3_600) - floor(from, 3_600),
        Interval::Minute => floor(to, 60) - floor(from, 60),
        Interval::Second => to.unix_timestamp() - from.unix_timestamp(),
    }
}

/// Seconds between 1601-01-01 (the Windows FILETIME epoch, which Active Directory dates count
/// from in 100-nanosecond ticks) and 1970-01-01.
const FILETIME_EPOCH_OFFSET: i64 = 11_644_473_600;

/// `NumFromDate`: a date as Active Directory's 100-nanosecond ticks since 1601.
pub fn to_filetime(at: OffsetDateTime) -> Option<i64> {
    (at.unix_timestamp() + FILETIME_EPOCH_OFFSET)
        .checked_mul(10_000_000)?
        .checked_add(i64::from(at.nanosecond() / 100))
}

/// `DateFromNum`: Active Directory's ticks back to a date.
pub fn from_filetime(ticks: i64) -> Option<OffsetDateTime> {
    let seconds = ticks.div_euclid(10_000_000) - FILETIME_EPOCH_OFFSET;
    let nanos = ticks.rem_euclid(10_000_000) * 100;
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()?
        .replace_nanosecond(nanos as u32)
        .ok()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn cdate_reads_iso_dates_with_offsets_and_the_portal_format() {
        assert_eq!(
            parse("2020-03-16-07:00"),
            Some(datetime!(2020-03-16 07:00 UTC))
        );
        assert_eq!(
            parse("2021-06-30+08:00"),
            Some(datetime!(2021-06-29 16:00 UTC))
        );
        assert_eq!(
            parse("2009-06-15T01:45:30-07:00"),
            Some(datetime!(2009-06-15 08:45:30 UTC))
        );
        assert_eq!(parse("2021-08-24"), Some(datetime!(2021-08-24 00:00 UTC)));
        assert_eq!(
            parse("2020-12-31 23:59:59-08:00"),
            Some(datetime!(2021-01-01 07:59:59 UTC))
        );
        assert_eq!(
            parse("8/25/2021 5:41:18 PM"),
            Some(datetime!(2021-08-25 17:41:18 UTC))
        );
        assert_eq!(parse("2021-02-30"), None);
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn dotnet_formats_read_and_print() {
        let at = parse_exact("20150123105347.1Z", "yyyyMMddHHmmss.fZ").unwrap();
        assert_eq!(at, datetime!(2015-01-23 10:53:47.1 UTC));
        assert_eq!(format(at, "yyyy-MM-dd"), "2015-01-23");
        assert_eq!(format(at, ENTRA_FORMAT), "1/23/2015 10:53:47 AM");
        assert_eq!(
            format(at, "dddd d MMMM yyyy 'at' HH\\hmm"),
            "Friday 23 January 2015 at 10h53"
        );
        let at = parse_exact("3/7/2021 09:05:00 PM", "M/d/yyyy hh:mm:ss tt").unwrap();
        assert_eq!(at, datetime!(2021-03-07 21:05 UTC));
        let at = parse_exact("2020-12-31-08:00", "yyyy-MM-ddzzz").unwrap();
        assert_eq!(format(at, "yyyy-MM-dd zzz"), "2020-12-31 -08:00");
        assert!(parse_exact("2020-13-01", "yyyy-MM-dd").is_err());
        assert!(parse_exact("2020-12-01x", "yyyy-MM-dd").is_err());
    }

    #[test]
    fn months_clamp_and_differences_count_boundaries() {
        let jan31 = datetime!(2021-01-31 12:00 UTC);
        assert_eq!(
            add(Interval::Month, 1, jan31),
            Some(datetime!(2021-02-28 12:00 UTC))
        );
        assert_eq!(
            add(Interval::Year, -1, datetime!(2024-02-29 0:00 UTC)),
            Some(datetime!(2023-02-28 0:00 UTC))
        );
        let a = datetime!(2021-12-31 23:59:59 UTC);
        let b = datetime!(2022-01-01 00:00:00 UTC);
        assert_eq!(diff(Interval::Year, a, b), 1);
        assert_eq!(diff(Interval::Day, a, b), 1);
        assert_eq!(diff(Interval::Second, a, b), 1);
        // 2021-08-21 is a Saturday, the 22nd a Sunday: one week boundary.
        assert_eq!(
            diff(
                Interval::Week,
                datetime!(2021-08-21 0:00 UTC),
                datetime!(2021-08-22 0:00 UTC)
            ),
            1
        );
    }

    #[test]
    fn filetimes_round_trip() {
        let at = from_filetime(129_699_324_000_000_000).unwrap();
        assert_eq!(at, datetime!(2012-01-01 23:00 UTC));
        assert_eq!(to_filetime(at), Some(129_699_324_000_000_000));
    }
}
