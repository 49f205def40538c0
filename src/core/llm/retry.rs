//! When and how long to wait before repeating a failed LLM call. Pure arithmetic: the caller
//! passes the clock (`now_ms`) and the randomness (`jitter`), so every decision is reproducible.

use crate::core::error::{Error, ErrorCode};

/// Backoff settings. The defaults follow the OpenAI SDKs: two retries, 0.5 s doubling to 8 s,
/// and a server-requested wait honoured up to a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    pub max_retry_after_ms: u64,
    /// Whether a stream that already yielded text is retried too (the consumer is told to drop
    /// what it showed by a `restart` item). Off by default.
    pub mid_stream: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay_ms: 500,
            max_delay_ms: 8_000,
            max_retry_after_ms: 60_000,
            mid_stream: false,
        }
    }
}

/// Statuses worth repeating: timeouts, conflicts (lock contention on the provider's side), rate
/// limits and server errors. Client errors such as 400/401/403/404/422 never change on repeat.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The wait a server asked for, in milliseconds. `retry-after-ms` (OpenAI, Azure) is preferred
/// for its precision; then `Retry-After` as seconds (fractions allowed) or as an HTTP-date,
/// measured from `now_ms` (Unix milliseconds). A date in the past means "now" (0). Values that
/// parse as neither give `None`.
pub fn parse_retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
    now_ms: f64,
) -> Option<u64> {
    if let Some(ms) = retry_after_ms.and_then(parse_non_negative_number) {
        return Some(f64_to_ms(ms));
    }
    let value = retry_after?.trim();
    if let Some(secs) = parse_non_negative_number(value) {
        return Some(f64_to_ms(secs * 1000.0));
    }
    let date_ms = parse_http_date(value)?;
    if !now_ms.is_finite() {
        return None;
    }
    Some(f64_to_ms((date_ms - now_ms).max(0.0)))
}

/// Plain decimal only: `f64::from_str` would also take `inf`, `NaN` and exponents, none of
/// which a server means.
fn parse_non_negative_number(s: &str) -> Option<f64> {
    let s = s.trim();
    let mut digits = 0;
    let mut dots = 0;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => return None,
        }
    }
    if digits == 0 || dots > 1 {
        return None;
    }
    // Through the JSON number reader, which the crate carries anyway: `str::parse::<f64>` would
    // link core's own float parser and its tables (~14 KB of wasm) for this one header. A plain
    // decimal is a JSON number but for a leading or trailing dot, which JSON refuses.
    let s = s.strip_suffix('.').unwrap_or(s);
    let text = if s.starts_with('.') {
        format!("0{s}")
    } else {
        s.to_owned()
    };
    // As a `Value`: serde's typed number reader would link its type-mismatch messages.
    crate::core::json::parse(&text)
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite() && *v >= 0.0)
}

fn f64_to_ms(v: f64) -> u64 {
    // `as` saturates and maps NaN to 0; ceil so that a wait is never shortened.
    v.ceil() as u64
}

/// Parses the three date forms HTTP allows (RFC 9110 §5.6.7): IMF-fixdate
/// `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime
/// `Sun Nov  6 08:49:37 1994`. Returns Unix milliseconds.
pub fn parse_http_date(s: &str) -> Option<f64> {
    let mut tokens: Vec<&str> = s
        .split([' ', ',', '-', '\t'])
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.first().is_some_and(|t| weekday(t)) {
        tokens.remove(0);
    }
    let (day, month, year, time) = match tokens.as_slice() {
        [d, m, y, t] | [d, m, y, t, "GMT" | "UTC"] if d.bytes().all(|b| b.is_ascii_digit()) => {
            (*d, *m, *y, *t)
        }
        // asctime
        [m, d, t, y] => (*d, *m, *y, *t),
        _ => return None,
    };
    let day: u32 = parse_digits(day, 1, 2)?;
    let month = month_number(month)?;
    let mut year: i64 = i64::from(parse_digits(year, 2, 4)?);
    if year < 100 {
        // RFC 850's two-digit years. RFC 9110 says to read them as within the last 50 years of
        // "now"; for a retry hint any consistent reading does, and 70 splits 1970–2069.
        year += if year < 70 { 2000 } else { 1900 };
    }
    if !(1..=31).contains(&day) {
        return None;
    }
    let mut hms = time.split(':');
    let h: u32 = parse_digits(hms.next()?, 2, 2)?;
    let m: u32 = parse_digits(hms.next()?, 2, 2)?;
    let sec: u32 = parse_digits(hms.next()?, 2, 2)?;
    if hms.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(h * 3600 + m * 60 + sec);
    Some(secs as f64 * 1000.0)
}

fn parse_digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn weekday(s: &str) -> bool {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    s.len() >= 3
        && s.get(..3)
            .is_some_and(|p| DAYS.iter().any(|d| p.eq_ignore_ascii_case(d)))
        && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn month_number(s: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if s.len() != 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(s))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0 for the first retry). A server-requested delay
    /// wins, capped at `max_retry_after_ms` so a hostile or confused server cannot park the
    /// caller for hours. Otherwise `base * 2^attempt`, capped at `max_delay_ms`, shortened by up
    /// to a quarter by `jitter` (expected in `[0, 1)`; out-of-range values are clamped) so that
    /// clients that failed together do not retry in lockstep.
    pub fn delay_for(&self, attempt: u32, server_delay: Option<u64>, jitter: f64) -> u64 {
        if let Some(d) = server_delay {
            return d.min(self.max_retry_after_ms);
        }
        let factor = 1u64.checked_shl(attempt).unwrap_or(u64::MAX);
        let capped = self
            .base_delay_ms
            .saturating_mul(factor)
            .min(self.max_delay_ms);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let delay = (capped as f64 * (1.0 - 0.25 * jitter)) as u64;
        delay.min(capped)
    }

    /// Whether to make retry number `attempt` (0-based: the number of retries already made)
    /// after `err`. `seen` says whether the caller was already given part of the failed reply
    /// (a streamed delta or tool call): then only with `mid_stream`, since a repeat produces
    /// different text. Network errors and rate limits are always worth repeating; any other
    /// error only when it says so (`retryable`). A reply damaged in transit (cut, truncated
    /// before its finish marker, a stream chunk that does not parse, a JSON body that ends
    /// mid-parse) is marked retryable where it is raised; a failure that would repeat every time
    /// (a custom handler's wrong result, a 200 page that is not the provider's JSON, a body over
    /// the size limit) is not.
    pub fn should_retry(&self, attempt: u32, err: &Error, seen: bool) -> bool {
        if (seen && !self.mid_stream) || attempt >= self.max_retries {
            return false;
        }
        match err.code {
            ErrorCode::Aborted => false,
            ErrorCode::LlmNetwork | ErrorCode::LlmRateLimited => true,
            _ => err.retryable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn retryable_statuses_are_timeouts_conflicts_rate_limits_and_server_errors() {
        for s in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 413, 422] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn retry_after_ms_header_wins_over_retry_after() {
        assert_eq!(parse_retry_after(Some("1234"), Some("9"), 0.0), Some(1234));
        assert_eq!(parse_retry_after(Some("12.5"), None, 0.0), Some(13));
    }

    #[test]
    fn invalid_retry_after_ms_falls_back_to_retry_after() {
        assert_eq!(parse_retry_after(Some("soon"), Some("2"), 0.0), Some(2000));
    }

    #[test]
    fn retry_after_seconds_may_be_fractional() {
        assert_eq!(parse_retry_after(None, Some("1.5"), 0.0), Some(1500));
        assert_eq!(parse_retry_after(None, Some(" 3 "), 0.0), Some(3000));
    }

    #[test]
    fn retry_after_rejects_non_numbers_that_rust_would_parse() {
        for v in ["inf", "NaN", "1e3", "-1", "", "."] {
            assert_eq!(parse_retry_after(None, Some(v), 0.0), None, "{v:?}");
        }
    }

    #[test]
    fn retry_after_http_date_is_measured_from_now() {
        // 1994-11-06T08:49:37Z = 784111777 s.
        let date = 784_111_777_000.0;
        assert_eq!(
            parse_retry_after(None, Some("Sun, 06 Nov 1994 08:49:37 GMT"), date - 5_000.0),
            Some(5_000)
        );
        assert_eq!(
            parse_retry_after(None, Some("Sunday, 06-Nov-94 08:49:37 GMT"), date - 1.0),
            Some(1)
        );
        assert_eq!(
            parse_retry_after(None, Some("Sun Nov  6 08:49:37 1994"), date),
            Some(0)
        );
    }

    #[test]
    fn retry_after_date_in_the_past_means_now() {
        assert_eq!(
            parse_retry_after(None, Some("Sun, 06 Nov 1994 08:49:37 GMT"), 2e12),
            Some(0)
        );
    }

    #[test]
    fn http_date_known_values() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400_000.0)
        );
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(parse_http_date("garbage"), None);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_for(0, None, 0.0), 500);
        assert_eq!(p.delay_for(1, None, 0.0), 1000);
        assert_eq!(p.delay_for(4, None, 0.0), 8000);
        assert_eq!(p.delay_for(200, None, 0.0), 8000);
        assert_eq!(p.delay_for(1, None, 0.5), 875);
    }

    #[test]
    fn server_delay_is_honoured_but_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_for(0, Some(20_000), 0.9), 20_000);
        assert_eq!(p.delay_for(0, Some(3_600_000), 0.0), 60_000);
    }

    #[test]
    fn should_retry_stops_at_max_retries() {
        let p = RetryPolicy::default();
        let e = Error::new(ErrorCode::LlmNetwork, "reset");
        assert!(p.should_retry(0, &e, false));
        assert!(p.should_retry(1, &e, false));
        assert!(!p.should_retry(2, &e, false));
    }

    #[test]
    fn should_retry_after_seen_output_only_with_mid_stream() {
        let p = RetryPolicy::default();
        let e = Error::new(ErrorCode::LlmStreamTruncated, "cut").with_retryable(true);
        assert!(p.should_retry(0, &e, false));
        assert!(!p.should_retry(0, &e, true));
        let m = RetryPolicy {
            mid_stream: true,
            ..p
        };
        assert!(m.should_retry(0, &e, true));
        assert!(!m.should_retry(2, &e, true));
        assert!(!m.should_retry(0, &Error::aborted(), true));
    }

    #[test]
    fn should_retry_follows_the_error_kind() {
        let p = RetryPolicy::default();
        let http = |s: u16| {
            Error::new(ErrorCode::LlmHttp, "x")
                .with_status(s)
                .with_retryable(is_retryable_status(s))
        };
        assert!(p.should_retry(0, &http(503), false));
        assert!(!p.should_retry(0, &http(400), false));
        assert!(!p.should_retry(0, &http(401), false));
        assert!(p.should_retry(0, &Error::new(ErrorCode::LlmRateLimited, "x"), false));
        assert!(!p.should_retry(0, &Error::aborted().with_retryable(true), false));
        // Damage in transit is marked where it is raised; the code alone does not decide.
        assert!(!p.should_retry(0, &Error::new(ErrorCode::LlmBadResponse, "x"), false));
        assert!(p.should_retry(
            0,
            &Error::new(ErrorCode::LlmBadResponse, "x").with_retryable(true),
            false
        ));
        assert!(!p.should_retry(0, &Error::new(ErrorCode::LlmStreamTruncated, "x"), false));
        assert!(p.should_retry(
            0,
            &Error::new(ErrorCode::LlmStreamTruncated, "x").with_retryable(true),
            false
        ));
        assert!(!p.should_retry(0, &Error::new(ErrorCode::InvalidConfig, "x"), false));
    }

    proptest! {
        #[test]
        fn delay_stays_within_bounds(
            attempt in any::<u32>(),
            base in 0u64..100_000,
            max in 0u64..1_000_000,
            max_ra in 0u64..10_000_000,
            server in proptest::option::of(any::<u64>()),
            jitter in any::<f64>(),
        ) {
            let p = RetryPolicy { max_retries: 3, base_delay_ms: base, max_delay_ms: max, max_retry_after_ms: max_ra, mid_stream: false };
            let d = p.delay_for(attempt, server, jitter);
            match server {
                Some(s) => prop_assert_eq!(d, s.min(max_ra)),
                None => {
                    let full = base.saturating_mul(1u64.checked_shl(attempt).unwrap_or(u64::MAX)).min(max);
                    prop_assert!(d <= full);
                    // A quarter off at most (floor rounding may take one more millisecond).
                    prop_assert!(d as f64 >= full as f64 * 0.75 - 1.0);
                }
            }
        }

        #[test]
        fn retry_after_parsing_never_panics(a in ".{0,40}", b in ".{0,40}", now in any::<f64>()) {
            let _ = parse_retry_after(Some(&a), Some(&b), now);
            let _ = parse_http_date(&b);
        }
    }
}
