//! Server-sent events framing. Every event has an `id` so a client can resume from it with
//! `Last-Event-ID`; ids are `{run key}-{n}` with `n` counting from 1 within a run, so an id from
//! another run is recognised as such.

/// One event: `id:`, `event:`, and the data split into `data:` lines (a line break inside the data
/// would otherwise end the field).
pub fn frame(id: &str, event: &str, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + id.len() + event.len() + 24);
    out.push_str("id: ");
    out.push_str(id);
    out.push_str("\nevent: ");
    out.push_str(event);
    out.push('\n');
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// A comment line: ignored by clients, keeps proxies from closing an idle connection.
pub const KEEPALIVE: &str = ": keepalive\n\n";

pub fn event_id(run_key: &str, n: u64) -> String {
    format!("{run_key}-{n}")
}

/// `(run key, n)` from a `Last-Event-ID`, or `None` when it is not one of ours.
pub fn parse_event_id(id: &str) -> Option<(&str, u64)> {
    let (key, n) = id.trim().rsplit_once('-')?;
    if key.is_empty() || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((key, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_id_event_and_data() {
        assert_eq!(
            frame("r1-3", "delta", r#"{"text":"hi"}"#),
            "id: r1-3\nevent: delta\ndata: {\"text\":\"hi\"}\n\n"
        );
    }

    #[test]
    fn line_breaks_in_data_become_data_lines() {
        assert_eq!(
            frame("r-1", "x", "a\nb\r\nc"),
            "id: r-1\nevent: x\ndata: a\ndata: b\ndata: c\n\n"
        );
    }

    #[test]
    fn event_ids_round_trip_and_foreign_ids_are_rejected() {
        let id = event_id("k7f3", 12);
        assert_eq!(parse_event_id(&id), Some(("k7f3", 12)));
        assert_eq!(parse_event_id(" a-b-3 "), Some(("a-b", 3)));
        for bad in ["", "12", "-3", "k-", "k-x", "k-1.5"] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }
}
