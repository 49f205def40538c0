//! Tests that concern every provider, and the message builders the provider tests share.

use super::*;
use crate::core::error::{ErrorCode, Result};
use crate::core::model::MessageStatus;
use crate::core::model::{Message, Role};
use proptest::prelude::*;
use serde_json::Value;

pub(crate) fn body_of(r: &HttpRequest) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap()
}

pub(crate) fn header<'r>(r: &'r HttpRequest, name: &str) -> Option<&'r str> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Decodes a whole stream body in one push, as a provider's fixtures need.
pub(crate) fn decode_stream_of(provider: Provider, body: &str) -> Result<Vec<StreamEvent>> {
    let mut d = StreamDecoder::new(provider);
    let mut out = d.push(body.as_bytes())?;
    out.extend(d.finish()?);
    Ok(out)
}

pub(crate) fn msg(role: Role, content: &str) -> Message {
    Message {
        id: format!("msg_{role:?}_{}", content.len()),
        session_id: "s".into(),
        seq: 0,
        parent: Default::default(),
        role,
        content: content.into(),
        name: None,
        tool_calls: vec![],
        tool_call_id: None,
        status: MessageStatus::Complete,
        created_at: 0.0,
        tokens: 0,
        run_id: None,
        metadata: None,
        payload: None,
    }
}

pub(crate) fn user(content: &str) -> Message {
    msg(Role::User, content)
}

pub(crate) fn assistant(content: &str) -> Message {
    msg(Role::Assistant, content)
}

pub(crate) fn tool_result(call_id: &str, content: &str) -> Message {
    let mut m = msg(Role::Tool, content);
    m.tool_call_id = Some(call_id.into());
    m
}

const REAL: [Provider; 3] = [Provider::OpenAi, Provider::Anthropic, Provider::Gemini];

#[test]
fn provider_names_parse_case_insensitively() {
    assert_eq!(Provider::parse("openai"), Some(Provider::OpenAi));
    assert_eq!(Provider::parse(" Anthropic "), Some(Provider::Anthropic));
    assert_eq!(Provider::parse("GEMINI"), Some(Provider::Gemini));
    assert_eq!(Provider::parse("mock"), Some(Provider::Mock));
    assert_eq!(Provider::parse("custom"), Some(Provider::Custom));
    assert_eq!(Provider::parse("ollama"), None);
    for p in Provider::ALL {
        assert_eq!(Provider::parse(p.as_str()), Some(p));
    }
    let e = Provider::from_config("ollama").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
    assert!(e
        .message
        .contains("expected openai, anthropic, gemini, mock or custom"));
}

#[test]
fn only_anthropic_and_gemini_need_the_conversation_to_open_on_a_user_turn() {
    let strict: Vec<Provider> = Provider::ALL
        .into_iter()
        .filter(|p| p.requires_user_first())
        .collect();
    assert_eq!(strict, [Provider::Anthropic, Provider::Gemini]);
}

#[test]
fn the_providers_without_a_wire_format_refuse_to_encode_or_decode() {
    for p in [Provider::Mock, Provider::Custom] {
        assert!(!p.has_wire_format());
        let cfg = ProviderConfig::new(p, "m");
        let e = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidConfig, "{p}");
        assert!(e.message.contains(p.as_str()), "{}", e.message);
        assert!(decode_response(p, b"{}").is_err());
        assert!(StreamDecoder::new(p).push(b"data: {}\n\n").is_err());
    }
    assert!(REAL.iter().all(|p| p.has_wire_format()));
}

fn simple_request(history: &[Message]) -> ChatRequest<'_> {
    ChatRequest {
        system: None,
        messages: history,
        tools: &[],
        stream: false,
    }
}

#[test]
fn user_headers_are_added_and_replace_defaults() {
    let history = [user("hi")];
    for p in REAL {
        let mut cfg = ProviderConfig::new(p, "m");
        cfg.api_key = Some("k".into());
        cfg.headers = vec![
            ("X-Trace".into(), "1".into()),
            (
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ),
        ];
        let r = encode_request(&cfg, &simple_request(&history)).unwrap();
        let ct: Vec<_> = r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .collect();
        assert_eq!(ct.len(), 1, "{p}");
        assert_eq!(ct[0].1, "application/json; charset=utf-8");
        assert!(r.headers.contains(&("x-trace".into(), "1".into())), "{p}");
    }
}

#[test]
fn header_with_line_break_is_an_invalid_config() {
    let mut cfg = ProviderConfig::new(Provider::OpenAi, "m");
    cfg.headers = vec![("x-a".into(), "1\r\nEvil: yes".into())];
    let e = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
    cfg.headers = vec![("bad name".into(), "1".into())];
    let e = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
}

#[test]
fn api_key_is_trimmed_and_a_broken_key_refused() {
    let mut cfg = ProviderConfig::new(Provider::OpenAi, "m");
    cfg.api_key = Some("  sk-1\n".into());
    let r = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap();
    assert!(r
        .headers
        .contains(&("authorization".into(), "Bearer sk-1".into())));
    cfg.api_key = Some("sk\n1".into());
    let e = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
}

#[test]
fn empty_model_and_nan_temperature_are_invalid_config() {
    let cfg = ProviderConfig::new(Provider::OpenAi, " ");
    let e = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
    let mut cfg = ProviderConfig::new(Provider::Gemini, "m");
    cfg.temperature = Some(f64::NAN);
    let e = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
}

#[test]
fn custom_base_url_replaces_the_default_prefix() {
    let history = [user("hi")];
    let cases = [
        (
            Provider::OpenAi,
            "https://openrouter.ai/api/v1/",
            "https://openrouter.ai/api/v1/chat/completions",
        ),
        (
            Provider::Anthropic,
            "https://proxy.example/anthropic",
            "https://proxy.example/anthropic/v1/messages",
        ),
        (
            Provider::Gemini,
            "https://proxy.example/v1beta//",
            "https://proxy.example/v1beta/models/m:generateContent",
        ),
    ];
    for (p, base, url) in cases {
        let mut cfg = ProviderConfig::new(p, "m");
        cfg.base_url = Some(base.into());
        assert_eq!(
            encode_request(&cfg, &simple_request(&history)).unwrap().url,
            url
        );
    }
}

#[test]
fn interrupted_and_error_messages_are_sent_as_they_are() {
    let mut partial = assistant("Half an ans");
    partial.status = MessageStatus::Interrupted;
    let mut failed = assistant("Oops");
    failed.status = MessageStatus::Error;
    let history = [user("q"), partial, user("again"), failed, user("and?")];
    for p in REAL {
        let cfg = ProviderConfig::new(p, "m");
        let body = encode_request(&cfg, &simple_request(&history))
            .unwrap()
            .body;
        assert!(body.contains("Half an ans"), "{p}");
        assert!(body.contains("Oops"), "{p}");
    }
}

#[test]
fn mock_provider_has_no_wire_format() {
    let cfg = ProviderConfig::new(Provider::Mock, "mock");
    let e = encode_request(&cfg, &simple_request(&[user("hi")])).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
    assert_eq!(
        decode_response(Provider::Mock, b"{}").unwrap_err().code,
        ErrorCode::InvalidConfig
    );
    let mut d = StreamDecoder::new(Provider::Mock);
    assert_eq!(
        d.push(b"data: x\n\n").unwrap_err().code,
        ErrorCode::InvalidConfig
    );
}

#[test]
fn config_debug_hides_secrets() {
    let mut cfg = ProviderConfig::new(Provider::OpenAi, "m");
    cfg.api_key = Some("sk-secret".into());
    cfg.headers = vec![("x-token".into(), "hidden-value".into())];
    let s = format!("{cfg:?}");
    assert!(
        !s.contains("sk-secret") && !s.contains("hidden-value"),
        "{s}"
    );
    assert!(s.contains("x-token"));
}

#[test]
fn non_json_body_is_a_bad_response() {
    for p in REAL {
        let e = decode_response(p, b"<html>502 Bad Gateway</html>").unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse, "{p}");
        assert!(e.message.contains("<html>502"), "{}", e.message);
    }
}

#[test]
fn decode_error_uses_each_providers_message() {
    let e = decode_error(
        Provider::OpenAi,
        401,
        None,
        br#"{"error":{"message":"Incorrect API key provided: sk-xx.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
    );
    assert_eq!(e.code, ErrorCode::LlmHttp);
    assert_eq!(e.status, Some(401));
    assert!(!e.retryable);
    assert!(
        e.message.contains("Incorrect API key provided"),
        "{}",
        e.message
    );

    let e = decode_error(
        Provider::Anthropic,
        529,
        None,
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    assert_eq!(e.code, ErrorCode::LlmHttp);
    assert!(e.retryable);
    assert!(e.message.contains("Overloaded"), "{}", e.message);

    let e = decode_error(
        Provider::Gemini,
        400,
        None,
        br#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}"#,
    );
    assert!(e.message.contains("API key not valid"), "{}", e.message);
    assert!(e.message.contains("INVALID_ARGUMENT"), "{}", e.message);

    // Gemini's stream endpoint wraps the error in an array.
    let e = decode_error(
        Provider::Gemini,
        503,
        None,
        br#"[{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}]"#,
    );
    assert!(
        e.message.contains("The model is overloaded."),
        "{}",
        e.message
    );
    assert!(e.retryable);
}

#[test]
fn decode_error_reads_compatible_server_shapes() {
    let e = decode_error(
        Provider::OpenAi,
        404,
        None,
        br#"{"error":"model 'llama9' not found"}"#,
    );
    assert!(
        e.message.contains("model 'llama9' not found"),
        "{}",
        e.message
    );
    let e = decode_error(
        Provider::OpenAi,
        400,
        None,
        br#"{"object":"error","message":"max_tokens is too large","type":"BadRequestError","code":400}"#,
    );
    assert!(
        e.message.contains("max_tokens is too large"),
        "{}",
        e.message
    );
    let e = decode_error(Provider::OpenAi, 422, None, br#"{"detail":"Not allowed"}"#);
    assert!(e.message.contains("Not allowed"), "{}", e.message);
}

#[test]
fn decode_error_429_is_rate_limited_with_retry_after() {
    let e = decode_error(
        Provider::OpenAi,
        429,
        Some(1500),
        br#"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
    );
    assert_eq!(e.code, ErrorCode::LlmRateLimited);
    assert!(e.retryable);
    assert_eq!(e.retry_after_ms, Some(1500));
}

#[test]
fn decode_error_unparseable_body_keeps_its_first_200_characters() {
    let body = format!("<html>{}</html>", "é".repeat(500));
    let e = decode_error(Provider::Anthropic, 502, None, body.as_bytes());
    assert!(e.retryable);
    assert!(e.message.contains("<html>éé"), "{}", e.message);
    let quoted: String = body.chars().take(200).collect();
    assert!(e.message.ends_with(&quoted), "{}", e.message);
    let e = decode_error(Provider::Gemini, 500, None, b"");
    assert!(e.message.contains("empty body"), "{}", e.message);
}

#[test]
fn decode_error_retryable_statuses() {
    for (status, retryable) in [
        (400, false),
        (403, false),
        (404, false),
        (408, true),
        (409, true),
        (500, true),
        (503, true),
    ] {
        let e = decode_error(Provider::OpenAi, status, None, b"{}");
        assert_eq!(e.retryable, retryable, "{status}");
        assert_eq!(e.code, ErrorCode::LlmHttp);
    }
}

#[test]
fn empty_body_stream_is_truncated() {
    for p in REAL {
        let mut d = StreamDecoder::new(p);
        let e = d.finish().unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated, "{p}");
        // Cut right after the headers: worth another request.
        assert!(e.retryable);
        assert!(e.message.contains("received 0 events"), "{}", e.message);
    }
}

#[test]
fn oversized_line_fails_instead_of_growing_without_bound() {
    let mut d = StreamDecoder::new(Provider::OpenAi);
    d.push(b"data: ").unwrap();
    let big = vec![b'x'; 1024 * 1024];
    let mut err = None;
    for _ in 0..40 {
        if let Err(e) = d.push(&big) {
            err = Some(e);
            break;
        }
    }
    assert_eq!(err.map(|e| e.code), Some(ErrorCode::LlmBadResponse));
}

/// A complete stream of each provider, to check that splitting it anywhere changes nothing.
fn fixture(p: Provider) -> &'static str {
    match p {
        Provider::OpenAi => concat!(
            "data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Héllo ✓\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\r\n\r\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\":1}\"}}]},\"finish_reason\":\"tool_calls\"}]}\r\r",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n",
            "data: [DONE]\n\n",
        ),
        Provider::Anthropic => concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"日本語 ✓\"}}\r\n\r\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ),
        _ => concat!(
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Grüße \"}]}}],\"modelVersion\":\"g\"}\r\n\r\n",
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"🎉\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":1,\"candidatesTokenCount\":2,\"totalTokenCount\":3}}\r\n\r\n",
        ),
    }
}

fn decode_in_chunks(p: Provider, body: &[u8], cuts: &[usize]) -> Result<Vec<StreamEvent>> {
    let mut d = StreamDecoder::new(p);
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts {
        out.extend(d.push(&body[start..c])?);
        start = c;
    }
    out.extend(d.push(&body[start..])?);
    out.extend(d.finish()?);
    Ok(out)
}

/// Merges adjacent text deltas: how text is cut into deltas is not part of the contract.
fn normalised(events: Vec<StreamEvent>) -> Vec<StreamEvent> {
    let mut out: Vec<StreamEvent> = Vec::new();
    for e in events {
        if let (Some(StreamEvent::TextDelta(prev)), StreamEvent::TextDelta(t)) =
            (out.last_mut(), &e)
        {
            prev.push_str(t);
            continue;
        }
        out.push(e);
    }
    out
}

proptest! {
    #[test]
    fn stream_decoding_does_not_depend_on_chunking(
        which in 0usize..3,
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
    ) {
        let p = REAL[which];
        let body = fixture(p).as_bytes();
        let whole = decode_in_chunks(p, body, &[]).unwrap();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
        points.sort_unstable();
        let split = decode_in_chunks(p, body, &points).unwrap();
        prop_assert_eq!(normalised(split), normalised(whole));
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_stream_decoder(
        which in 0usize..4,
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..8),
    ) {
        let p = [Provider::OpenAi, Provider::Anthropic, Provider::Gemini, Provider::Mock][which];
        let mut d = StreamDecoder::new(p);
        for c in &chunks {
            let _ = d.push(c);
        }
        let _ = d.finish();
    }

    #[test]
    fn arbitrary_sse_payloads_never_panic_a_stream_decoder(
        which in 0usize..3,
        payloads in proptest::collection::vec(arb_json_text(), 0..6),
    ) {
        // Random bytes rarely form JSON; these are valid JSON of unexpected shapes, which
        // exercise the field lookups.
        let p = REAL[which];
        let mut d = StreamDecoder::new(p);
        for pl in &payloads {
            let _ = d.push(format!("data: {pl}\n\n").as_bytes());
        }
        let _ = d.finish();
        for pl in &payloads {
            let _ = decode_response(p, pl.as_bytes());
            let _ = decode_error(p, 500, None, pl.as_bytes());
        }
    }
}

fn arb_json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("text"),
            Just("tool_use"),
            Just("message_stop"),
            Just("error"),
            Just("content_block_delta"),
            Just("input_json_delta"),
            Just("STOP"),
            Just("x"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        Just("choices"),
        Just("delta"),
        Just("content"),
        Just("tool_calls"),
        Just("index"),
        Just("function"),
        Just("arguments"),
        Just("type"),
        Just("message"),
        Just("usage"),
        Just("candidates"),
        Just("parts"),
        Just("functionCall"),
        Just("error"),
        Just("finishReason"),
        Just("finish_reason"),
        Just("content_block"),
        Just("partial_json"),
        Just("text"),
    ];
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((keys.clone(), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
    .prop_map(|v| v.to_string())
}

#[test]
fn only_anthropic_continues_by_prefill() {
    for p in Provider::ALL {
        assert_eq!(p.supports_prefill(), p == Provider::Anthropic, "{p}");
    }
    assert_eq!(
        Provider::OpenAi.continued_text("The answer is \n"),
        "The answer is \n"
    );
    assert_eq!(Provider::Gemini.continued_text("x "), "x ");
}
