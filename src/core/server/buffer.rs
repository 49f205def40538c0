//! The per-run event buffer behind resumable streams. A run's events are kept, framed, while it
//! runs and for `keep_ms` after it ends, so a client that lost its connection can ask for exactly
//! the events after the last id it saw. The buffer is bounded in bytes and in events: past either
//! bound the oldest events are dropped, and a resume from before them is told so (`gap`).

use std::collections::VecDeque;

use super::sse;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_events: usize,
    pub keep_ms: f64,
}

impl Default for Limits {
    fn default() -> Self {
        // A long reply streams a few thousand deltas of ~40 bytes: 1 MiB holds it several times.
        Limits {
            max_bytes: 1 << 20,
            max_events: 20_000,
            keep_ms: 60_000.0,
        }
    }
}

#[derive(Debug)]
pub struct RunBuffer {
    key: String,
    limits: Limits,
    next: u64,
    events: VecDeque<(u64, String)>,
    bytes: usize,
    ended_at: Option<f64>,
}

/// What a resume gets: the frames to send, and whether some were already dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Replay {
    pub frames: Vec<String>,
    pub gap: bool,
}

impl RunBuffer {
    pub fn new(key: impl Into<String>, limits: Limits) -> Self {
        RunBuffer {
            key: key.into(),
            limits,
            next: 1,
            events: VecDeque::new(),
            bytes: 0,
            ended_at: None,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Frames the next event, keeps it, and returns the frame for the live listeners.
    pub fn push(&mut self, event: &str, data: &str) -> String {
        let n = self.next;
        self.next += 1;
        let f = sse::frame(&sse::event_id(&self.key, n), event, data);
        self.bytes += f.len();
        self.events.push_back((n, f.clone()));
        while self.events.len() > 1
            && (self.bytes > self.limits.max_bytes || self.events.len() > self.limits.max_events)
        {
            if let Some((_, old)) = self.events.pop_front() {
                self.bytes -= old.len();
            }
        }
        f
    }

    /// The id of the last event pushed (0 before the first).
    pub fn last_id(&self) -> u64 {
        self.next - 1
    }

    pub fn end(&mut self, now_ms: f64) {
        if self.ended_at.is_none() {
            self.ended_at = Some(now_ms);
        }
    }

    pub fn ended(&self) -> bool {
        self.ended_at.is_some()
    }

    /// Whether the run ended more than `keep_ms` ago (its buffer can go).
    pub fn expired(&self, now_ms: f64) -> bool {
        matches!(self.ended_at, Some(t) if now_ms - t >= self.limits.keep_ms)
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The events after `Last-Event-ID` (all of them without one, or for an id of another run).
    pub fn replay(&self, last_event_id: Option<&str>) -> Replay {
        let after = match last_event_id.and_then(sse::parse_event_id) {
            Some((key, n)) if key == self.key => n,
            _ => 0,
        };
        let first_kept = self.events.front().map_or(self.next, |(n, _)| *n);
        Replay {
            frames: self
                .events
                .iter()
                .filter(|(n, _)| *n > after)
                .map(|(_, f)| f.clone())
                .collect(),
            gap: after + 1 < first_kept,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(r: &Replay) -> Vec<String> {
        r.frames
            .iter()
            .map(|f| {
                f.lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("id: ")
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn resume_gets_exactly_the_events_after_the_last_id() {
        let mut b = RunBuffer::new("k", Limits::default());
        for i in 0..5 {
            b.push("delta", &format!("{{\"text\":\"{i}\"}}"));
        }
        assert_eq!(ids(&b.replay(Some("k-2"))), ["k-3", "k-4", "k-5"]);
        assert_eq!(ids(&b.replay(None)).len(), 5);
        assert!(b.replay(Some("k-5")).frames.is_empty());
        // An id of another run (an older one) gets this run from its start.
        assert_eq!(ids(&b.replay(Some("old-9"))).len(), 5);
        assert_eq!(ids(&b.replay(Some("garbage"))).len(), 5);
        assert!(!b.replay(Some("k-2")).gap);
    }

    #[test]
    fn the_buffer_is_bounded_and_a_resume_from_dropped_events_is_a_gap() {
        let limits = Limits {
            max_bytes: 10_000,
            max_events: 3,
            keep_ms: 1.0,
        };
        let mut b = RunBuffer::new("k", limits);
        for _ in 0..10 {
            b.push("delta", "{}");
        }
        assert_eq!(ids(&b.replay(None)), ["k-8", "k-9", "k-10"]);
        assert!(b.replay(None).gap);
        assert!(b.replay(Some("k-6")).gap);
        assert!(!b.replay(Some("k-7")).gap);
        let mut small = RunBuffer::new(
            "k",
            Limits {
                max_bytes: 100,
                max_events: 100,
                keep_ms: 1.0,
            },
        );
        for _ in 0..50 {
            small.push("delta", "{\"text\":\"abcdefghij\"}");
        }
        assert!(small.bytes() <= 100 || small.replay(None).frames.len() == 1);
        assert_eq!(small.last_id(), 50);
    }

    #[test]
    fn an_ended_run_is_kept_for_keep_ms_then_expires() {
        let mut b = RunBuffer::new(
            "k",
            Limits {
                keep_ms: 1000.0,
                ..Limits::default()
            },
        );
        b.push("done", "{}");
        assert!(!b.expired(1e12));
        b.end(5000.0);
        b.end(9000.0); // the first end counts
        assert!(b.ended());
        assert!(!b.expired(5999.0));
        assert!(b.expired(6000.0));
    }

    proptest! {
        #[test]
        fn replay_after_any_kept_id_is_the_suffix(n in 1u64..60, cut in 0u64..60, max in 1usize..20) {
            let mut b = RunBuffer::new("r", Limits { max_bytes: usize::MAX, max_events: max, keep_ms: 0.0 });
            let frames: Vec<String> = (0..n).map(|i| b.push("delta", &i.to_string())).collect();
            let cut = cut.min(n);
            let r = b.replay(Some(&format!("r-{cut}")));
            let first_kept = n.saturating_sub(max as u64) + 1;
            let from = (cut + 1).max(first_kept);
            let want: Vec<String> = frames[(from - 1) as usize..].to_vec();
            prop_assert_eq!(&r.frames, &want);
            prop_assert_eq!(r.gap, cut + 1 < first_kept);
        }
    }
}
