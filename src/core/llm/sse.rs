//! A server-sent events parser following the WHATWG EventSource "event stream interpretation"
//! algorithm, fed with whatever byte chunks `fetch` hands out.
//!
//! Bytes are buffered only up to the next line end, and each byte is looked at once, so a long
//! stream delivered in tiny chunks costs linear time. Lines are split on the ASCII bytes CR and
//! LF before decoding, so a chunk boundary inside a multi-byte UTF-8 character is harmless: the
//! character is decoded once its whole line has arrived.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, `None` for the default type (`message`).
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
    /// The last event id seen so far in the stream (it carries over between events, as in the
    /// spec); `None` when no `id:` field has been seen.
    pub id: Option<String>,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Incremental parser. Feed it with [`SseParser::push`] and call [`SseParser::finish`] at the end
/// of the body.
#[derive(Debug, Clone)]
pub struct SseParser {
    /// Bytes of the line being read (no line end).
    line: Vec<u8>,
    /// The previous byte was a CR, so an LF right after it (even in the next chunk) belongs to
    /// the same line end.
    after_cr: bool,
    /// How many bytes of a leading BOM were matched; `None` once the start of the stream is past.
    bom_matched: Option<usize>,
    /// The data buffer in the spec's form: every `data:` line appends its value and a LF.
    data: String,
    event_type: String,
    last_event_id: Option<String>,
    retry_ms: Option<u64>,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::new()
    }
}

impl SseParser {
    pub fn new() -> Self {
        SseParser {
            line: Vec::new(),
            after_cr: false,
            bom_matched: Some(0),
            data: String::new(),
            event_type: String::new(),
            last_event_id: None,
            retry_ms: None,
        }
    }

    /// The reconnection time the server last asked for with `retry:`, if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Bytes held while waiting for a line end or the end of an event. Lets a caller bound
    /// memory against a server that never sends a line end.
    pub fn buffered_len(&self) -> usize {
        self.line.len() + self.data.len() + self.event_type.len()
    }

    /// Feeds the next chunk of the body and returns the events it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let mut rest = self.skip_bom(bytes);
        while !rest.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if rest.first() == Some(&b'\n') {
                    rest = rest.get(1..).unwrap_or_default();
                    continue;
                }
            }
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    self.line.extend_from_slice(rest);
                    break;
                }
                Some(pos) => {
                    self.line
                        .extend_from_slice(rest.get(..pos).unwrap_or_default());
                    if rest.get(pos) == Some(&b'\r') {
                        self.after_cr = true;
                    }
                    rest = rest.get(pos + 1..).unwrap_or_default();
                    self.end_line(&mut out);
                }
            }
        }
        out
    }

    /// Ends the stream. Unlike a browser's EventSource, which drops an event not closed by a
    /// blank line, this dispatches it: servers that end the body right after `data: [DONE]\n`
    /// are common, and the stream decoders judge whether what arrived was complete. The parser
    /// is then ready for a new stream.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if let Some(n) = self.bom_matched.take() {
            // A stream that ended inside what looked like a BOM: those bytes were text.
            self.line
                .extend_from_slice(BOM.get(..n).unwrap_or_default());
        }
        if !self.line.is_empty() {
            self.end_line(&mut out);
        }
        self.dispatch(&mut out);
        *self = SseParser::new();
        out
    }

    /// Consumes a leading UTF-8 BOM, which may itself arrive split across chunks.
    fn skip_bom<'b>(&mut self, mut bytes: &'b [u8]) -> &'b [u8] {
        while let Some(matched) = self.bom_matched {
            let Some((&b, tail)) = bytes.split_first() else {
                return bytes;
            };
            if BOM.get(matched) == Some(&b) {
                bytes = tail;
                if matched + 1 == BOM.len() {
                    self.bom_matched = None;
                } else {
                    self.bom_matched = Some(matched + 1);
                }
            } else {
                // Not a BOM after all: the bytes taken so far are ordinary line content (none of
                // them is CR or LF).
                self.line
                    .extend_from_slice(BOM.get(..matched).unwrap_or_default());
                self.bom_matched = None;
            }
        }
        bytes
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let raw = std::mem::take(&mut self.line);
        if raw.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = String::from_utf8_lossy(&raw);
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => {
                self.last_event_id = Some(value.to_owned());
            }
            // Digits only, so the one failure left is overflow, which the spec does not address:
            // the value is then ignored.
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry_ms = Some(ms);
                }
            }
            _ => {}
        }
        // Keep the allocation for the next line.
        self.line = raw;
        self.line.clear();
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        let event_type = std::mem::take(&mut self.event_type);
        out.push(SseEvent {
            event: if event_type.is_empty() {
                None
            } else {
                Some(event_type)
            },
            data,
            id: self.last_event_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.push(c));
        }
        out.extend(p.finish());
        out
    }

    fn data_of(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn lf_cr_and_crlf_line_ends_are_equivalent() {
        for sep in ["\n", "\r", "\r\n"] {
            let text = format!("data: a{sep}{sep}data: b{sep}{sep}");
            let events = parse_all(&[text.as_bytes()]);
            assert_eq!(data_of(&events), ["a", "b"], "separator {sep:?}");
        }
    }

    #[test]
    fn cr_at_chunk_end_and_lf_at_next_chunk_start_are_one_line_end() {
        // Were they two line ends, the empty line between them would dispatch `a` early and the
        // two data lines would become two events.
        let events = parse_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r\n"]);
        assert_eq!(data_of(&events), ["a\nb"]);
    }

    #[test]
    fn lone_cr_followed_by_a_new_chunk_is_still_a_line_end() {
        let events = parse_all(&[b"data: a\r", b"\r", b"data: b\n\n"]);
        assert_eq!(data_of(&events), ["a", "b"]);
    }

    #[test]
    fn comment_lines_are_ignored() {
        let events = parse_all(&[b": keep-alive\n\n:another\ndata: x\n\n"]);
        assert_eq!(data_of(&events), ["x"]);
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        let events = parse_all(&[b"data: one\ndata:two\ndata:  three\n\n"]);
        assert_eq!(data_of(&events), ["one\ntwo\n three"]);
    }

    #[test]
    fn only_one_leading_space_of_a_value_is_stripped() {
        let events = parse_all(&[b"event:  spaced\ndata:x\n\n"]);
        assert_eq!(events[0].event.as_deref(), Some(" spaced"));
    }

    #[test]
    fn field_without_colon_has_an_empty_value() {
        // A bare `data` line contributes an empty line to the data buffer.
        let events = parse_all(&[b"data\ndata\n\n"]);
        assert_eq!(data_of(&events), ["\n"]);
        // A bare `data` alone still dispatches an event with empty data.
        let events = parse_all(&[b"data\n\n"]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "");
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let events = parse_all(&[b"foo: bar\ndata: x\nDATA: y\n\n"]);
        assert_eq!(data_of(&events), ["x"]);
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        let events = parse_all(&[b"event: ping\n\nid: 7\n\ndata: real\n\n"]);
        assert_eq!(events.len(), 1);
        // The event type was reset by the empty dispatch; the id carries over.
        assert_eq!(events[0].event, None);
        assert_eq!(events[0].id.as_deref(), Some("7"));
    }

    #[test]
    fn event_type_applies_to_one_event_only() {
        let events = parse_all(&[b"event: a\ndata: 1\n\ndata: 2\n\n"]);
        assert_eq!(events[0].event.as_deref(), Some("a"));
        assert_eq!(events[1].event, None);
    }

    #[test]
    fn id_with_nul_is_ignored() {
        let events = parse_all(&[b"id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n"]);
        assert_eq!(events[1].id.as_deref(), Some("1"));
    }

    #[test]
    fn retry_is_kept_only_when_all_digits() {
        let mut p = SseParser::new();
        p.push(b"retry: 1500\n\nretry: 12a\n\n");
        assert_eq!(p.retry_ms(), Some(1500));
    }

    #[test]
    fn leading_bom_is_skipped_even_when_split() {
        let events = parse_all(&[&[0xEF], &[0xBB, 0xBF, b'd'], b"ata: x\n\n"]);
        assert_eq!(data_of(&events), ["x"]);
    }

    #[test]
    fn a_second_bom_is_not_skipped() {
        // Only the stream's first bytes may be a BOM; later it is part of a field name, which
        // then matches no known field.
        let events = parse_all(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n"]);
        assert_eq!(data_of(&events), ["y"]);
    }

    #[test]
    fn partial_bom_at_start_is_text() {
        let events = parse_all(&[&[0xEF, b'\n'], b"data: y\n\n"]);
        assert_eq!(data_of(&events), ["y"]);
    }

    #[test]
    fn multibyte_character_split_across_chunks_is_reassembled() {
        let text = "data: héllo — ✓ 𝄞\n\n".as_bytes();
        for cut in 0..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(data_of(&parse_all(&[a, b])), ["héllo — ✓ 𝄞"], "cut {cut}");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let events = parse_all(&[b"data: a\xFFb\xC3\n\n"]);
        assert_eq!(data_of(&events), ["a\u{FFFD}b\u{FFFD}"]);
    }

    #[test]
    fn finish_dispatches_an_event_missing_its_blank_line() {
        assert_eq!(data_of(&parse_all(&[b"data: [DONE]\n"])), ["[DONE]"]);
        assert_eq!(data_of(&parse_all(&[b"data: [DONE]"])), ["[DONE]"]);
    }

    #[test]
    fn finish_resets_the_parser_for_a_new_stream() {
        let mut p = SseParser::new();
        p.push(b"id: 3\ndata: a");
        p.finish();
        let events = p.push(b"\xEF\xBB\xBFdata: b\n\n");
        assert_eq!(events[0].data, "b");
        assert_eq!(events[0].id, None);
    }

    #[test]
    fn many_tiny_chunks_are_parsed_in_linear_time() {
        // One byte at a time over a large event: a parser that rescanned its buffer per chunk
        // would take seconds here.
        let mut body = b"data: ".to_vec();
        body.extend(std::iter::repeat_n(b'x', 200_000));
        body.extend_from_slice(b"\n\n");
        let mut p = SseParser::new();
        let mut events = Vec::new();
        for b in &body {
            events.extend(p.push(std::slice::from_ref(b)));
        }
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data.len(), 200_000);
    }

    fn arb_field_value() -> impl Strategy<Value = String> {
        // Values without CR/LF, including multi-byte characters.
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just(' '),
                Just(':'),
                Just('é'),
                Just('✓'),
                Just('𝄞'),
                Just('{'),
                Just('"'),
            ],
            0..12,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    fn arb_stream() -> impl Strategy<Value = Vec<u8>> {
        let line_end = prop_oneof![Just("\n"), Just("\r"), Just("\r\n")];
        let line = prop_oneof![
            arb_field_value().prop_map(|v| format!("data: {v}")),
            arb_field_value().prop_map(|v| format!("data:{v}")),
            arb_field_value().prop_map(|v| format!("event: {v}")),
            arb_field_value().prop_map(|v| format!("id:{v}")),
            arb_field_value().prop_map(|v| format!(":{v}")),
            Just(String::from("data")),
            Just(String::new()),
        ];
        (
            any::<bool>(),
            proptest::collection::vec((line, line_end), 0..30),
        )
            .prop_map(|(bom, lines)| {
                let mut s = Vec::new();
                if bom {
                    s.extend_from_slice(&BOM);
                }
                for (l, e) in lines {
                    s.extend_from_slice(l.as_bytes());
                    s.extend_from_slice(e.as_bytes());
                }
                s
            })
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_the_events(
            stream in arb_stream(),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
        ) {
            let whole = parse_all(&[&stream]);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut start = 0;
            for p in points {
                chunks.push(&stream[start..p]);
                start = p;
            }
            chunks.push(&stream[start..]);
            prop_assert_eq!(parse_all(&chunks), whole);
        }

        #[test]
        fn byte_at_a_time_matches_whole(stream in arb_stream()) {
            let whole = parse_all(&[&stream]);
            let singles: Vec<&[u8]> = stream.chunks(1).collect();
            prop_assert_eq!(parse_all(&singles), whole);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
        ) {
            let mut p = SseParser::new();
            for c in &chunks {
                p.push(c);
            }
            p.finish();
        }
    }
}
