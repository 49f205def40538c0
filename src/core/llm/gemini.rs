//! Google Gemini `generateContent` (Generative Language API, v1beta).

use serde_json::{json, Map, Value};

use super::codec::{
    api_key, arguments_object, base_headers, base_url, folded_system_text, parse_payload, str_at,
    to_body, u64_at,
};
use super::errors::error_in_body;
use super::{ChatRequest, ChatResponse, HttpRequest, Provider, ProviderConfig, StreamEvent};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::llm::sse::SseEvent;
use crate::core::model::{Role, ToolCall, Usage};

const P: Provider = Provider::Gemini;

pub(super) fn encode(cfg: &ProviderConfig, req: &ChatRequest) -> Result<HttpRequest> {
    // Gemini's functionResponse names the function, not the call; the name comes from the
    // latest earlier call with the same id.
    // A list searched from the end, not a HashMap: calls per request are few, and a map of
    // this type would be its own copy of the hash table code in the wasm.
    let mut call_names: Vec<(&str, &str)> = Vec::new();
    let mut contents: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in req.messages {
        let (role, parts) = match m.role {
            Role::System => continue,
            Role::User => ("user", text_part(&m.content)),
            Role::Assistant => {
                let mut parts = text_part(&m.content);
                for c in &m.tool_calls {
                    call_names.push((c.id.as_str(), c.name.as_str()));
                    parts.push(json!({
                        "functionCall": {"name": c.name, "args": Value::Object(arguments_object(P, c)?)}
                    }));
                }
                ("model", parts)
            }
            Role::Tool => {
                let id = m.tool_call_id.as_deref().unwrap_or_default();
                let latest = call_names.iter().rev().find(|(call, _)| *call == id);
                let name = latest.map(|&(_, name)| name).ok_or_else(|| {
                    Error::invalid_message(format!(
                        "tool message {} answers call {}, but no earlier assistant message made that call; gemini needs the function name", crate::core::json::quote(&m.id), crate::core::json::quote(id)))
                })?;
                (
                    "user",
                    vec![
                        json!({"functionResponse": {"name": name, "response": tool_response(&m.content)}}),
                    ],
                )
            }
        };
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            // Parallel calls' responses must travel together in one turn.
            Some((last_role, last_parts)) if *last_role == role => last_parts.extend(parts),
            _ => contents.push((role, parts)),
        }
    }

    let mut body = Map::new();
    if let Some(system) = folded_system_text(req) {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    body.insert(
        "contents".into(),
        Value::Array(
            contents
                .into_iter()
                .map(|(role, parts)| json!({"role": role, "parts": parts}))
                .collect(),
        ),
    );
    if !req.tools.is_empty() {
        let decls: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut d = Map::new();
                d.insert("name".into(), json!(t.name));
                d.insert("description".into(), json!(t.description));
                // `parametersJsonSchema` takes plain JSON Schema; the older `parameters` field
                // takes an OpenAPI subset that refuses common keywords like
                // `additionalProperties`.
                if !t.parameters.is_null() {
                    d.insert("parametersJsonSchema".into(), t.parameters.clone());
                }
                Value::Object(d)
            })
            .collect();
        body.insert("tools".into(), json!([{"functionDeclarations": decls}]));
    }
    let mut gen = Map::new();
    if let Some(n) = cfg.max_tokens {
        gen.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(t) = cfg.temperature {
        gen.insert("temperature".into(), json!(t));
    }
    if !gen.is_empty() {
        body.insert("generationConfig".into(), Value::Object(gen));
    }

    let method = if req.stream {
        "streamGenerateContent?alt=sse"
    } else {
        "generateContent"
    };
    let mut headers = base_headers(req.stream);
    if let Some(key) = api_key(cfg)? {
        headers.push(("x-goog-api-key".into(), key.into()));
    }
    Ok(HttpRequest {
        method: "POST",
        url: format!("{}/{}:{method}", base_url(cfg), model_path(&cfg.model)),
        headers,
        body: to_body(&Value::Object(body))?,
    })
}

fn text_part(text: &str) -> Vec<Value> {
    if text.trim().is_empty() {
        Vec::new()
    } else {
        vec![json!({"text": text})]
    }
}

/// `functionResponse.response` must be an object. A tool that returned a JSON object is passed
/// through; anything else goes under `output`, the key Gemini's documentation names for it.
fn tool_response(content: &str) -> Value {
    match crate::core::json::parse(content) {
        Ok(v @ Value::Object(_)) => v,
        Ok(v) if !content.trim().is_empty() => json!({"output": v}),
        _ => json!({"output": content}),
    }
}

/// `gemini-2.0-flash` → `models/gemini-2.0-flash`; a name that already has its collection
/// (`models/...`, `tunedModels/...`) is kept. Characters that are not URL-safe are escaped so a
/// model name cannot change the path or add a query.
fn model_path(model: &str) -> String {
    let m = model.trim();
    let path = if m.starts_with("models/") || m.starts_with("tunedModels/") {
        m.to_owned()
    } else {
        format!("models/{m}")
    };
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What one `GenerateContentResponse` (a whole reply, or one stream event) says.
#[derive(Default)]
struct Parsed {
    texts: Vec<String>,
    calls: Vec<(Option<String>, String, String)>,
    finish: Option<String>,
    usage: Option<Usage>,
    model: Option<String>,
    has_candidates: bool,
}

fn parse_response(v: &Value) -> Parsed {
    let mut p = Parsed {
        model: str_at(v, "modelVersion")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        ..Default::default()
    };
    let candidate = v
        .get("candidates")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    if let Some(c) = candidate {
        p.has_candidates = true;
        let parts = c
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            // Thought summaries are not the answer.
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(t) = str_at(part, "text").filter(|t| !t.is_empty()) {
                p.texts.push(t.to_owned());
            }
            if let Some(fc) = part.get("functionCall") {
                let args = match fc.get("args") {
                    Some(a @ Value::Object(_)) => crate::core::json::text(a),
                    _ => "{}".to_owned(),
                };
                p.calls.push((
                    str_at(fc, "id")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                    str_at(fc, "name").unwrap_or_default().to_owned(),
                    args,
                ));
            }
        }
        p.finish = str_at(c, "finishReason")
            .filter(|r| !r.is_empty() && *r != "FINISH_REASON_UNSPECIFIED")
            .map(str::to_owned);
    } else if let Some(block) = v
        .get("promptFeedback")
        .and_then(|f| str_at(f, "blockReason"))
    {
        // A blocked prompt gets no candidates at all; the block reason is how the reply ended.
        p.finish = Some(block.to_owned());
    }
    if let Some(u) = v.get("usageMetadata").filter(|u| u.is_object()) {
        let input = u64_at(u, "promptTokenCount").unwrap_or(0);
        // Thinking tokens are billed as output and are part of totalTokenCount.
        let output = u64_at(u, "candidatesTokenCount")
            .unwrap_or(0)
            .saturating_add(u64_at(u, "thoughtsTokenCount").unwrap_or(0));
        p.usage = Some(Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: u64_at(u, "totalTokenCount").unwrap_or(input.saturating_add(output)),
        });
    }
    p
}

/// Gemini gives calls no id (older models) or one of its own; ids are needed to pair results
/// with calls, so missing ones are made up from the call's position: deterministic, and unique
/// within one reply.
fn call_id(given: Option<String>, n: usize) -> String {
    given.unwrap_or_else(|| format!("call_{n}"))
}

pub(super) fn decode(v: &Value) -> Result<ChatResponse> {
    let p = parse_response(v);
    if !p.has_candidates && p.finish.is_none() {
        return Err(Error::new(
            ErrorCode::LlmBadResponse,
            "gemini response has no candidates and no promptFeedback",
        ));
    }
    Ok(ChatResponse {
        content: p.texts.concat(),
        tool_calls: p
            .calls
            .into_iter()
            .enumerate()
            .map(|(n, (id, name, arguments))| ToolCall {
                id: call_id(id, n),
                name,
                arguments,
            })
            .collect(),
        usage: p.usage,
        finish_reason: p.finish,
        model: p.model,
    })
}

#[derive(Debug, Default)]
pub(super) struct StreamState {
    calls_seen: usize,
    model_sent: bool,
    finish_sent: bool,
}

impl StreamState {
    pub(super) fn is_complete(&self) -> bool {
        self.finish_sent
    }

    pub(super) fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<()> {
        if ev.data.trim().is_empty() {
            return Ok(());
        }
        let v = parse_payload(P, &ev.data)?;
        if let Some(e) = error_in_body(P, &v) {
            return Err(e);
        }
        let p = parse_response(&v);
        if !self.model_sent {
            if let Some(m) = p.model {
                self.model_sent = true;
                out.push(StreamEvent::Model(m));
            }
        }
        for t in p.texts {
            out.push(StreamEvent::TextDelta(t));
        }
        // Gemini sends each function call whole, in one event.
        for (id, name, arguments) in p.calls {
            let id = call_id(id, self.calls_seen);
            self.calls_seen += 1;
            out.push(StreamEvent::ToolCall(ToolCall {
                id,
                name,
                arguments,
            }));
        }
        // Every event carries running usage; only the final figures are worth reporting, so
        // usage is passed on from the finishing event onwards.
        if p.finish.is_some() || self.finish_sent {
            if let Some(u) = p.usage {
                out.push(StreamEvent::Usage(u));
            }
        }
        if let Some(reason) = p.finish {
            if !self.finish_sent {
                self.finish_sent = true;
                out.push(StreamEvent::Finish { reason });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assistant, body_of, decode_stream_of, header, msg, tool_result, user,
    };
    use super::super::*;
    use super::model_path;
    use crate::core::error::{ErrorCode, Result};
    use crate::core::model::Usage;
    use crate::core::model::{Message, Role, ToolCall};
    use serde_json::json;

    fn cfg() -> ProviderConfig {
        let mut c = ProviderConfig::new(Provider::Gemini, "gemini-2.5-flash");
        c.api_key = Some("AIza-test".into());
        c
    }

    fn req<'a>(history: &'a [Message], stream: bool) -> ChatRequest<'a> {
        ChatRequest {
            system: Some("Be kind."),
            messages: history,
            tools: &[],
            stream,
        }
    }

    #[test]
    fn request_urls_for_json_and_stream() {
        let history = [user("hi")];
        let r = encode_request(&cfg(), &req(&history, false)).unwrap();
        assert_eq!(
            r.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(header(&r, "x-goog-api-key"), Some("AIza-test"));
        let r = encode_request(&cfg(), &req(&history, true)).unwrap();
        assert_eq!(
            r.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn model_names_are_prefixed_once_and_escaped() {
        assert_eq!(model_path("models/gemini-pro"), "models/gemini-pro");
        assert_eq!(model_path("gemini pro?x"), "models/gemini%20pro%3Fx");
    }

    #[test]
    fn system_roles_and_generation_config() {
        let mut c = cfg();
        c.max_tokens = Some(256);
        c.temperature = Some(0.7);
        let history = [
            msg(Role::System, "Summary."),
            user("hi"),
            assistant("hello"),
            user("bye"),
        ];
        let r = encode_request(&c, &req(&history, false)).unwrap();
        assert_eq!(
            body_of(&r),
            json!({
                "systemInstruction": {"parts": [{"text": "Be kind.\n\nSummary."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {"role": "model", "parts": [{"text": "hello"}]},
                    {"role": "user", "parts": [{"text": "bye"}]},
                ],
                "generationConfig": {"maxOutputTokens": 256, "temperature": 0.7},
            })
        );
    }

    #[test]
    fn function_calls_and_responses_use_gemini_parts() {
        let mut a = assistant("");
        a.tool_calls = vec![
            ToolCall {
                id: "call_0".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into(),
            },
            ToolCall {
                id: "call_1".into(),
                name: "get_time".into(),
                arguments: String::new(),
            },
        ];
        let history = [
            user("weather?"),
            a,
            tool_result("call_0", r#"{"temp": 21}"#),
            tool_result("call_1", "noon"),
        ];
        let tools = [ToolSpec {
            name: "get_weather".into(),
            description: "Weather".into(),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": false}),
        }];
        let r = encode_request(
            &cfg(),
            &ChatRequest {
                system: None,
                messages: &history,
                tools: &tools,
                stream: false,
            },
        )
        .unwrap();
        let b = body_of(&r);
        assert_eq!(
            b["contents"][1],
            json!({"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_time", "args": {}}},
            ]})
        );
        assert_eq!(
            b["contents"][2],
            json!({"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
                {"functionResponse": {"name": "get_time", "response": {"output": "noon"}}},
            ]})
        );
        assert_eq!(
            b["tools"],
            json!([{"functionDeclarations": [{
                "name": "get_weather", "description": "Weather",
                "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": false},
            }]}])
        );
    }

    #[test]
    fn function_response_takes_the_latest_call_with_that_id() {
        // Synthesised ids repeat across replies (`call_0` each time): the nearest one counts.
        let mut a1 = assistant("");
        a1.tool_calls = vec![ToolCall {
            id: "call_0".into(),
            name: "first".into(),
            arguments: "{}".into(),
        }];
        let mut a2 = a1.clone();
        a2.tool_calls[0].name = "second".into();
        let history = [
            user("a"),
            a1,
            tool_result("call_0", "1"),
            user("b"),
            a2,
            tool_result("call_0", "2"),
        ];
        let b = body_of(&encode_request(&cfg(), &req(&history, false)).unwrap());
        assert_eq!(
            b["contents"][2]["parts"][0]["functionResponse"]["name"],
            "first"
        );
        assert_eq!(
            b["contents"][4]["parts"][0]["functionResponse"]["name"],
            "second"
        );
    }

    #[test]
    fn tool_result_for_an_unknown_call_is_an_invalid_message() {
        let history = [user("a"), tool_result("nope", "x")];
        let e = encode_request(&cfg(), &req(&history, false)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMessage);
    }

    #[test]
    fn invalid_call_arguments_are_an_invalid_message() {
        let mut a = assistant("");
        a.tool_calls = vec![ToolCall {
            id: "c".into(),
            name: "f".into(),
            arguments: "{oops".into(),
        }];
        let history = [user("a"), a];
        let e = encode_request(&cfg(), &req(&history, false)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMessage);
    }

    #[test]
    fn decodes_response_with_text_function_call_and_usage() {
        let body = br#"{
          "candidates": [{"content": {"role": "model", "parts": [
              {"text": "thinking...", "thought": true},
              {"text": "Checking."},
              {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
              {"functionCall": {"name": "get_time"}}
            ]}, "finishReason": "STOP", "index": 0}],
          "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 3, "totalTokenCount": 18},
          "modelVersion": "gemini-2.5-flash"
        }"#;
        let r = decode_response(Provider::Gemini, body).unwrap();
        assert_eq!(r.content, "Checking.");
        assert_eq!(
            r.tool_calls,
            vec![
                ToolCall {
                    id: "call_0".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"city":"Paris"}"#.into()
                },
                ToolCall {
                    id: "call_1".into(),
                    name: "get_time".into(),
                    arguments: "{}".into()
                },
            ]
        );
        assert_eq!(
            r.usage,
            Some(Usage {
                input_tokens: 10,
                output_tokens: 8,
                total_tokens: 18
            })
        );
        assert_eq!(r.finish_reason.as_deref(), Some("STOP"));
        assert_eq!(r.model.as_deref(), Some("gemini-2.5-flash"));
    }

    #[test]
    fn blocked_prompt_finishes_with_the_block_reason() {
        let r = decode_response(
            Provider::Gemini,
            br#"{"promptFeedback": {"blockReason": "SAFETY"}}"#,
        )
        .unwrap();
        assert_eq!(r.finish_reason.as_deref(), Some("SAFETY"));
        assert_eq!(r.content, "");
    }

    const STREAM: &str = concat!(
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hel\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 4,\"totalTokenCount\": 4},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"lo\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 4,\"totalTokenCount\": 4},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"get_weather\",\"args\": {\"city\": \"Paris\"}}}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 4,\"candidatesTokenCount\": 6,\"totalTokenCount\": 10},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n",
    );

    fn decode_stream(body: &str) -> Result<Vec<StreamEvent>> {
        decode_stream_of(Provider::Gemini, body)
    }

    #[test]
    fn stream_yields_text_function_call_usage_and_finish() {
        let events = decode_stream(STREAM).unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::Model("gemini-2.5-flash".into()),
                StreamEvent::TextDelta("Hel".into()),
                StreamEvent::TextDelta("lo".into()),
                StreamEvent::ToolCall(ToolCall {
                    id: "call_0".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"city":"Paris"}"#.into()
                }),
                StreamEvent::Usage(Usage {
                    input_tokens: 4,
                    output_tokens: 6,
                    total_tokens: 10
                }),
                StreamEvent::Finish {
                    reason: "STOP".into()
                },
            ]
        );
    }

    #[test]
    fn stream_call_ids_count_across_events() {
        let body = concat!(
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"a\",\"args\":{}}}]}}]}\n\n",
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"b\",\"args\":{}}}]},\"finishReason\":\"STOP\"}]}\n\n",
        );
        let r = ChatResponse::from_events(&decode_stream(body).unwrap());
        let ids: Vec<&str> = r.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["call_0", "call_1"]);
    }

    #[test]
    fn stream_without_finish_reason_is_truncated() {
        let cut = STREAM
            .find("data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\"")
            .unwrap();
        let e = decode_stream(&STREAM[..cut]).unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated);
        assert!(e.message.contains("finishReason"), "{}", e.message);
        assert!(e.message.contains("2 events"), "{}", e.message);
    }

    #[test]
    fn error_in_stream_is_typed() {
        let e = decode_stream(
            "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded.\", \"status\": \"UNAVAILABLE\"}}\n\n",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmHttp);
        assert!(e.retryable);
        assert!(e.message.contains("The model is overloaded."));
        let e = decode_stream(
            "data: {\"error\": {\"code\": 429, \"message\": \"quota\", \"status\": \"RESOURCE_EXHAUSTED\"}}\n\n",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmRateLimited);
    }

    #[test]
    fn malformed_event_is_a_bad_response() {
        let e = decode_stream("data: {\"candidates\": [\n\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse);
    }

    #[test]
    fn stream_and_json_decoding_agree() {
        let streamed = ChatResponse::from_events(&decode_stream(STREAM).unwrap());
        let json = decode_response(
            Provider::Gemini,
            br#"{"candidates":[{"content":{"parts":[{"text":"Hello"},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP"}],
                "usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":6,"totalTokenCount":10},"modelVersion":"gemini-2.5-flash"}"#,
        )
        .unwrap();
        assert_eq!(streamed, json);
    }
}
