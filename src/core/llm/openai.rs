//! OpenAI Chat Completions, the format most self-hosted and third-party servers copy.

use serde_json::{json, Map, Value};

use super::codec::{
    api_key, arguments_text, base_headers, base_url, parameters_schema, parse_payload, str_at,
    to_body, u64_at,
};
use super::errors::error_in_body;
use super::{ChatRequest, ChatResponse, HttpRequest, Provider, ProviderConfig, StreamEvent};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::llm::sse::SseEvent;
use crate::core::model::{Message, Role, ToolCall, Usage};

const P: Provider = Provider::OpenAi;

pub(super) fn encode(cfg: &ProviderConfig, req: &ChatRequest) -> Result<HttpRequest> {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system.filter(|s| !s.trim().is_empty()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.extend(encode_messages(req.messages)?);

    let mut body = Map::new();
    body.insert("model".into(), Value::String(cfg.model.clone()));
    body.insert("messages".into(), Value::Array(messages));
    if !req.tools.is_empty() {
        let tools = req
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": parameters_schema(t),
                    }
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(n) = cfg.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    if let Some(t) = cfg.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if req.stream {
        body.insert("stream".into(), Value::Bool(true));
        // Without this the stream carries no token counts at all.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }

    let mut headers = base_headers(req.stream);
    if let Some(key) = api_key(cfg)? {
        headers.push(("authorization".into(), format!("Bearer {key}")));
    }
    Ok(HttpRequest {
        method: "POST",
        url: format!("{}/chat/completions", base_url(cfg)),
        headers,
        body: to_body(&Value::Object(body))?,
    })
}

/// Stored messages in the Chat Completions shape: what a request to `/chat/completions` carries,
/// and what `getMessagesForLLM`, `previewContext` and a custom provider's handler hand out, so
/// any chat-completions client accepts them as they are.
pub fn encode_messages(messages: &[Message]) -> Result<Vec<Value>> {
    // A plain loop: collecting into a `Result` builds iterator adapters that cost ~1.5 KB of wasm.
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        out.push(encode_message(m)?);
    }
    Ok(out)
}

fn encode_message(m: &Message) -> Result<Value> {
    let mut o = Map::new();
    o.insert("role".into(), Value::String(m.role.as_str().into()));
    match m.role {
        Role::System => {
            o.insert("content".into(), Value::String(m.content.clone()));
        }
        Role::User => {
            o.insert("content".into(), Value::String(m.content.clone()));
            // Only user messages carry a name: OpenAI allows it on others too, but several
            // compatible servers (xAI, for one) reject a request that has it anywhere else.
            if let Some(name) = m.name.as_deref().and_then(sanitize_name) {
                o.insert("name".into(), Value::String(name));
            }
        }
        Role::Assistant => {
            let content = if m.content.is_empty() && !m.tool_calls.is_empty() {
                Value::Null
            } else {
                Value::String(m.content.clone())
            };
            o.insert("content".into(), content);
            if !m.tool_calls.is_empty() {
                let calls = m
                    .tool_calls
                    .iter()
                    .map(|c| {
                        // An empty argument string is what a parameterless call streams as;
                        // the API wants it as JSON.
                        let args = if c.arguments.trim().is_empty() {
                            "{}".to_owned()
                        } else {
                            c.arguments.clone()
                        };
                        json!({
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": args},
                        })
                    })
                    .collect();
                o.insert("tool_calls".into(), Value::Array(calls));
            }
        }
        Role::Tool => {
            let id = m
                .tool_call_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    Error::invalid_message(format!(
                        "tool message {} has no tool_call_id, which openai requires",
                        crate::core::json::quote(&m.id)
                    ))
                })?;
            o.insert("tool_call_id".into(), Value::String(id.into()));
            o.insert("content".into(), Value::String(m.content.clone()));
        }
    }
    Ok(Value::Object(o))
}

/// OpenAI accepts `name` matching `^[a-zA-Z0-9_-]{1,64}$`. Other characters become `_`; a name
/// left with no letter or digit says nothing and is dropped.
pub(crate) fn sanitize_name(name: &str) -> Option<String> {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.chars().any(|c| c.is_ascii_alphanumeric()) {
        Some(s)
    } else {
        None
    }
}

pub(super) fn decode(v: &Value) -> Result<ChatResponse> {
    let choice = first_choice(v).ok_or_else(|| {
        Error::new(
            ErrorCode::LlmBadResponse,
            "openai response has no choices[0]",
        )
    })?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    let mut content = content_text(message.get("content"));
    if content.is_empty() {
        // A refusal arrives instead of content; showing it beats showing nothing.
        if let Some(r) = str_at(message, "refusal") {
            content = r.to_owned();
        }
    }
    let mut tool_calls = Vec::new();
    if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
        for (i, c) in calls.iter().enumerate() {
            let f = c.get("function").unwrap_or(&Value::Null);
            tool_calls.push(ToolCall {
                id: str_at(c, "id")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("call_{i}")),
                name: str_at(f, "name").unwrap_or_default().to_owned(),
                arguments: arguments_text(f.get("arguments")),
            });
        }
    }
    Ok(ChatResponse {
        content,
        tool_calls,
        usage: usage_of(v),
        finish_reason: str_at(choice, "finish_reason").map(str::to_owned),
        model: str_at(v, "model")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    })
}

/// Parses a stream chunk as [`parse_payload`] does, leaving out of the `Value` the fields the
/// decoder never reads, which are most of a typical chunk: `id`, `created`,
/// `system_fingerprint`, `service_tier`, `obfuscation`, each choice's `logprobs`, and `model`
/// once it is known (`core::json::reader::Prune`: left out while reading, still checked, so a
/// chunk is accepted or refused exactly as by the plain parse). An error goes through the plain
/// parse, so it comes out exactly as there.
fn parse_chunk(data: &str, model_known: bool) -> Result<Value> {
    // `model` first, so that the list without it is the rest.
    const UNREAD: &[&str] = &[
        "model",
        "id",
        "created",
        "system_fingerprint",
        "service_tier",
        "obfuscation",
    ];
    let prune = crate::core::json::Prune {
        top: if model_known { UNREAD } else { &UNREAD[1..] },
        list: "choices",
        item: &["logprobs"],
    };
    match crate::core::json::parse_pruned(data.as_bytes(), &prune) {
        Ok(v) => Ok(v),
        Err(_) => parse_payload(P, data),
    }
}

fn first_choice(v: &Value) -> Option<&Value> {
    let choices = v.get("choices")?.as_array()?;
    choices
        .iter()
        .find(|c| c.get("index").and_then(Value::as_u64) == Some(0))
        .or_else(|| choices.first())
}

/// Content is a string in the spec; some servers send an array of `{type: "text", text}` parts.
fn content_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| str_at(p, "text"))
            .collect::<Vec<_>>()
            .concat(),
        _ => String::new(),
    }
}

fn usage_of(v: &Value) -> Option<Usage> {
    // Groq puts it under `x_groq` in streams.
    let u = v.get("usage").filter(|u| u.is_object()).or_else(|| {
        v.get("x_groq")
            .and_then(|x| x.get("usage"))
            .filter(|u| u.is_object())
    })?;
    let input = u64_at(u, "prompt_tokens").unwrap_or(0);
    let output = u64_at(u, "completion_tokens").unwrap_or(0);
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: u64_at(u, "total_tokens").unwrap_or(input.saturating_add(output)),
    })
}

#[derive(Debug, Default)]
struct PendingCall {
    index: u64,
    id: String,
    name: String,
    arguments: String,
    emitted: bool,
}

#[derive(Debug, Default)]
pub(super) struct StreamState {
    calls: Vec<PendingCall>,
    model_sent: bool,
    finish_reason: Option<String>,
    finish_sent: bool,
    done: bool,
}

impl StreamState {
    pub(super) fn is_complete(&self) -> bool {
        self.done || self.finish_reason.is_some()
    }

    pub(super) fn pending_calls(&self) -> usize {
        self.calls.iter().filter(|c| !c.emitted).count()
    }

    pub(super) fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<()> {
        if self.done {
            return Ok(());
        }
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            self.emit_calls(out);
            if !self.finish_sent {
                // The end marker came without a finish_reason (some compatible servers): the
                // stream is complete, so still give the caller its one Finish.
                self.finish_sent = true;
                out.push(StreamEvent::Finish {
                    reason: self
                        .finish_reason
                        .clone()
                        .unwrap_or_else(|| "unknown".into()),
                });
            }
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let v = parse_chunk(data, self.model_sent)?;
        if let Some(e) = error_in_body(P, &v) {
            return Err(e);
        }
        if !self.model_sent {
            if let Some(m) = str_at(&v, "model").filter(|s| !s.is_empty()) {
                self.model_sent = true;
                out.push(StreamEvent::Model(m.to_owned()));
            }
        }
        let mut finish = None;
        if let Some(choice) = first_choice(&v) {
            let delta = choice.get("delta").unwrap_or(&Value::Null);
            let text = content_text(delta.get("content"));
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta(text));
            }
            if let Some(frags) = delta.get("tool_calls").and_then(Value::as_array) {
                for f in frags {
                    self.add_fragment(f);
                }
            }
            finish = str_at(choice, "finish_reason")
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
        }
        if let Some(u) = usage_of(&v) {
            out.push(StreamEvent::Usage(u));
        }
        if let Some(reason) = finish {
            self.emit_calls(out);
            if !self.finish_sent {
                self.finish_sent = true;
                out.push(StreamEvent::Finish {
                    reason: reason.clone(),
                });
            }
            self.finish_reason = Some(reason);
        }
        Ok(())
    }

    /// Tool calls stream as fragments keyed by `index`: the first carries id and name, the rest
    /// pieces of the arguments. Servers that omit `index` are matched by id, else appended to the
    /// latest call.
    fn add_fragment(&mut self, f: &Value) {
        let id = str_at(f, "id").filter(|s| !s.is_empty());
        let func = f.get("function").unwrap_or(&Value::Null);
        let index = match f.get("index").and_then(Value::as_u64) {
            Some(i) => i,
            None => match id {
                Some(id) => match self.calls.iter().find(|c| c.id == id) {
                    Some(c) => c.index,
                    None => self
                        .calls
                        .iter()
                        .map(|c| c.index.saturating_add(1))
                        .max()
                        .unwrap_or(0),
                },
                None => self.calls.last().map(|c| c.index).unwrap_or(0),
            },
        };
        let pos = match self
            .calls
            .iter()
            .position(|c| c.index == index && !c.emitted)
        {
            Some(p) => p,
            None => {
                self.calls.push(PendingCall {
                    index,
                    ..Default::default()
                });
                self.calls.len() - 1
            }
        };
        let Some(call) = self.calls.get_mut(pos) else {
            return;
        };
        if let Some(id) = id {
            if call.id.is_empty() {
                call.id = id.to_owned();
            }
        }
        if let Some(name) = str_at(func, "name").filter(|s| !s.is_empty()) {
            if call.name.is_empty() {
                call.name = name.to_owned();
            }
        }
        call.arguments
            .push_str(&arguments_text(func.get("arguments")));
    }

    fn emit_calls(&mut self, out: &mut Vec<StreamEvent>) {
        let mut pending: Vec<&mut PendingCall> =
            self.calls.iter_mut().filter(|c| !c.emitted).collect();
        crate::core::sort::sort_by(&mut pending, |a, b| a.index.cmp(&b.index));
        for c in pending {
            c.emitted = true;
            let id = if c.id.is_empty() {
                format!("call_{}", c.index)
            } else {
                std::mem::take(&mut c.id)
            };
            out.push(StreamEvent::ToolCall(ToolCall {
                id,
                name: std::mem::take(&mut c.name),
                arguments: std::mem::take(&mut c.arguments),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assistant, body_of, decode_stream_of, header, msg, tool_result, user,
    };
    use super::super::*;
    use super::sanitize_name;
    use crate::core::error::{ErrorCode, Result};
    use crate::core::model::Usage;
    use crate::core::model::{Role, ToolCall};
    use serde_json::json;

    fn cfg() -> ProviderConfig {
        let mut c = ProviderConfig::new(Provider::OpenAi, "gpt-4o-mini");
        c.api_key = Some("sk-test".into());
        c
    }

    #[test]
    fn request_puts_system_first_and_uses_bearer_auth() {
        let history = [user("hi"), assistant("hello")];
        let r = encode_request(
            &cfg(),
            &ChatRequest {
                system: Some("be brief"),
                messages: &history,
                tools: &[],
                stream: false,
            },
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(header(&r, "authorization"), Some("Bearer sk-test"));
        assert_eq!(header(&r, "content-type"), Some("application/json"));
        assert_eq!(
            body_of(&r),
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                ]
            })
        );
    }

    #[test]
    fn compatible_server_by_base_url_without_key_sends_no_authorization() {
        let mut c = cfg();
        c.api_key = None;
        c.base_url = Some("http://localhost:11434/v1/".into());
        let r = encode_request(
            &c,
            &ChatRequest {
                system: None,
                messages: &[user("x")],
                tools: &[],
                stream: false,
            },
        )
        .unwrap();
        assert_eq!(r.url, "http://localhost:11434/v1/chat/completions");
        assert_eq!(header(&r, "authorization"), None);
    }

    #[test]
    fn stream_request_asks_for_usage() {
        let r = encode_request(
            &cfg(),
            &ChatRequest {
                system: None,
                messages: &[user("x")],
                tools: &[],
                stream: true,
            },
        )
        .unwrap();
        let b = body_of(&r);
        assert_eq!(b["stream"], true);
        assert_eq!(b["stream_options"], json!({"include_usage": true}));
        assert_eq!(header(&r, "accept"), Some("text/event-stream"));
    }

    #[test]
    fn max_tokens_and_temperature_only_when_set() {
        let mut c = cfg();
        let req = ChatRequest {
            system: None,
            messages: &[user("x")],
            tools: &[],
            stream: false,
        };
        let b = body_of(&encode_request(&c, &req).unwrap());
        assert!(b.get("max_tokens").is_none() && b.get("temperature").is_none());
        c.max_tokens = Some(77);
        c.temperature = Some(0.5);
        let b = body_of(&encode_request(&c, &req).unwrap());
        assert_eq!(b["max_tokens"], 77);
        assert_eq!(b["temperature"], 0.5);
    }

    #[test]
    fn tool_calls_and_results_use_openai_shapes() {
        let mut a = assistant("");
        a.tool_calls = vec![
            ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into(),
            },
            ToolCall {
                id: "call_2".into(),
                name: "now".into(),
                arguments: String::new(),
            },
        ];
        let history = [
            user("weather?"),
            a,
            tool_result("call_1", "sunny"),
            tool_result("call_2", "noon"),
        ];
        let tools = [ToolSpec {
            name: "get_weather".into(),
            description: "Weather by city".into(),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
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
            b["messages"][1],
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "now", "arguments": "{}"}},
                ]
            })
        );
        assert_eq!(
            b["messages"][2],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "sunny"})
        );
        assert_eq!(
            b["tools"],
            json!([{"type": "function", "function": {
                "name": "get_weather",
                "description": "Weather by city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            }}])
        );
    }

    #[test]
    fn tool_result_without_call_id_is_an_invalid_message() {
        let mut t = tool_result("x", "y");
        t.tool_call_id = None;
        let e = encode_request(
            &cfg(),
            &ChatRequest {
                system: None,
                messages: &[user("a"), t],
                tools: &[],
                stream: false,
            },
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMessage);
    }

    #[test]
    fn names_are_sanitised_and_only_sent_for_users() {
        assert_eq!(
            sanitize_name("Sarah Connor").as_deref(),
            Some("Sarah_Connor")
        );
        assert_eq!(sanitize_name("Дмитрий"), None);
        assert_eq!(sanitize_name(&"a".repeat(100)).map(|s| s.len()), Some(64));
        let mut u = user("hi");
        u.name = Some("Sarah Connor".into());
        let mut a = assistant("hello");
        a.name = Some("helper".into());
        let r = encode_request(
            &cfg(),
            &ChatRequest {
                system: None,
                messages: &[u, a],
                tools: &[],
                stream: false,
            },
        )
        .unwrap();
        let b = body_of(&r);
        assert_eq!(b["messages"][0]["name"], "Sarah_Connor");
        assert!(b["messages"][1].get("name").is_none());
    }

    #[test]
    fn system_messages_in_history_are_kept_in_place() {
        let history = [user("a"), msg(Role::System, "note"), user("b")];
        let r = encode_request(
            &cfg(),
            &ChatRequest {
                system: None,
                messages: &history,
                tools: &[],
                stream: false,
            },
        )
        .unwrap();
        assert_eq!(
            body_of(&r)["messages"][1],
            json!({"role": "system", "content": "note"})
        );
    }

    #[test]
    fn decodes_chat_completion_with_tool_calls_and_usage() {
        let body = br#"{
          "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini-2024-07-18",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
             "tool_calls": [{"id": "call_abc", "type": "function",
               "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
             "finish_reason": "tool_calls"}],
          "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
        }"#;
        let r = decode_response(Provider::OpenAi, body).unwrap();
        assert_eq!(r.content, "");
        assert_eq!(
            r.tool_calls,
            vec![ToolCall {
                id: "call_abc".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into()
            }]
        );
        assert_eq!(
            r.usage,
            Some(Usage {
                input_tokens: 12,
                output_tokens: 7,
                total_tokens: 19
            })
        );
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(r.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    }

    #[test]
    fn decodes_plain_text_completion() {
        let body = br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]}"#;
        let r = decode_response(Provider::OpenAi, body).unwrap();
        assert_eq!(r.content, "Hello!");
        assert_eq!(r.usage, None);
    }

    #[test]
    fn response_without_choices_is_a_bad_response() {
        let e = decode_response(Provider::OpenAi, br#"{"id":"x"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse);
    }

    #[test]
    fn error_object_in_a_200_body_is_an_error() {
        let e = decode_response(
            Provider::OpenAi,
            br#"{"error":{"message":"The server had an error","type":"server_error"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmHttp);
        assert!(e.retryable);
        assert!(e.message.contains("The server had an error"));
    }

    const TEXT_STREAM: &str = concat!(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
        "data: [DONE]\n\n",
    );

    fn decode_stream(body: &str) -> Result<Vec<StreamEvent>> {
        decode_stream_of(Provider::OpenAi, body)
    }

    #[test]
    fn text_stream_yields_model_deltas_finish_and_usage() {
        let events = decode_stream(TEXT_STREAM).unwrap();
        assert_eq!(
            events,
            vec![
                StreamEvent::Model("gpt-4o".into()),
                StreamEvent::TextDelta("Hel".into()),
                StreamEvent::TextDelta("lo".into()),
                StreamEvent::Finish {
                    reason: "stop".into()
                },
                StreamEvent::Usage(Usage {
                    input_tokens: 5,
                    output_tokens: 2,
                    total_tokens: 7
                }),
            ]
        );
    }

    #[test]
    fn tool_call_fragments_are_assembled_by_index() {
        let body = concat!(
            "data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\":\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
            "data: [DONE]\n\n",
        );
        let events = decode_stream(body).unwrap();
        let r = ChatResponse::from_events(&events);
        assert_eq!(
            r.tool_calls,
            vec![
                ToolCall {
                    id: "call_a".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"city":"Paris"}"#.into()
                },
                ToolCall {
                    id: "call_b".into(),
                    name: "get_time".into(),
                    arguments: "{}".into()
                },
            ]
        );
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        // Tool calls come before the Finish event.
        let finish_at = events
            .iter()
            .position(|e| matches!(e, StreamEvent::Finish { .. }))
            .unwrap();
        assert!(
            events[..finish_at]
                .iter()
                .filter(|e| matches!(e, StreamEvent::ToolCall(_)))
                .count()
                == 2
        );
    }

    #[test]
    fn stream_and_json_decoding_agree() {
        let streamed = ChatResponse::from_events(&decode_stream(TEXT_STREAM).unwrap());
        let json = decode_response(
            Provider::OpenAi,
            br#"{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],
                "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
        )
        .unwrap();
        assert_eq!(streamed, json);
    }

    #[test]
    fn done_without_finish_reason_still_finishes_once() {
        let events = decode_stream(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n",
        )
        .unwrap();
        assert_eq!(
            events.last(),
            Some(&StreamEvent::Finish {
                reason: "unknown".into()
            })
        );
    }

    #[test]
    fn finish_reason_without_done_is_complete() {
        let events = decode_stream(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"length\"}]}\n\n",
        )
        .unwrap();
        assert!(events.contains(&StreamEvent::Finish {
            reason: "length".into()
        }));
    }

    #[test]
    fn stream_cut_before_done_is_truncated_and_says_what_arrived() {
        let cut = TEXT_STREAM.find("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"").unwrap();
        let e = decode_stream(&TEXT_STREAM[..cut]).unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated);
        assert!(e.retryable);
        assert!(e.message.contains("3 events"), "{}", e.message);
        assert!(e.message.contains("5 characters of text"), "{}", e.message);
    }

    #[test]
    fn stream_cut_inside_a_json_payload_is_truncated_not_bad() {
        let e = decode_stream("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x")
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated);
    }

    #[test]
    fn stream_cut_during_tool_call_mentions_the_unfinished_call() {
        let e = decode_stream(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}}]}}]}\n\n",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmStreamTruncated);
        assert!(
            e.message.contains("1 unfinished tool call"),
            "{}",
            e.message
        );
    }

    #[test]
    fn malformed_chunk_is_a_bad_response() {
        let mut d = StreamDecoder::new(Provider::OpenAi);
        let e = d.push(b"data: {not json}\n\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmBadResponse);
        // The decoder stays failed.
        assert_eq!(d.finish().unwrap_err().code, ErrorCode::LlmBadResponse);
    }

    #[test]
    fn events_before_a_failure_are_delivered_then_the_error() {
        let mut d = StreamDecoder::new(Provider::OpenAi);
        let events = d
            .push(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial\"}}]}\n\ndata: oops\n\n")
            .unwrap();
        assert_eq!(events, vec![StreamEvent::TextDelta("partial".into())]);
        assert_eq!(d.push(b"").unwrap_err().code, ErrorCode::LlmBadResponse);
    }

    #[test]
    fn error_object_in_stream_is_typed() {
        let e = decode_stream(
            "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}\n\n",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmRateLimited);
        assert!(e.retryable);
        assert!(e.message.contains("Rate limit reached"));

        let e = decode_stream(
            "data: {\"error\":{\"message\":\"bad things\",\"type\":\"invalid_request_error\"}}\n\n",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::LlmHttp);
        assert!(!e.retryable);
    }

    #[test]
    fn data_after_done_is_ignored() {
        let events = decode_stream(
            "data: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"late\"}}]}\n\n",
        )
        .unwrap();
        assert_eq!(
            events,
            vec![StreamEvent::Finish {
                reason: "unknown".into()
            }]
        );
    }

    #[test]
    fn extreme_tool_call_indexes_do_not_panic() {
        let events = decode_stream(concat!(
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":18446744073709551615,\"id\":\"a\",\"function\":{\"name\":\"f\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\"}}]}}]}\n\n",
            "data: [DONE]\n\n",
        ))
        .unwrap();
        // A call without index after one at u64::MAX has no free index left and joins it;
        // what matters is that the arithmetic does not overflow.
        assert!(!ChatResponse::from_events(&events).tool_calls.is_empty());
    }

    #[test]
    fn fragments_without_index_are_matched_by_id() {
        // Some compatible servers send whole calls without `index`.
        let events = decode_stream(concat!(
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":{\"x\":1}}},{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        ))
        .unwrap();
        let r = ChatResponse::from_events(&events);
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].arguments, r#"{"x":1}"#);
        assert_eq!(r.tool_calls[1].name, "g");
    }

    /// The plain parse of `text` without what the pruned parse leaves out.
    fn plain_without_unread(text: &str, skip_model: bool) -> serde_json::Value {
        let mut v = super::parse_payload(super::P, text).unwrap();
        if let Some(top) = v.as_object_mut() {
            for k in [
                "id",
                "created",
                "system_fingerprint",
                "service_tier",
                "obfuscation",
            ] {
                top.remove(k);
            }
            if skip_model {
                top.remove("model");
            }
            if let Some(choices) = top
                .get_mut("choices")
                .and_then(serde_json::Value::as_array_mut)
            {
                for c in choices
                    .iter_mut()
                    .filter_map(serde_json::Value::as_object_mut)
                {
                    c.remove("logprobs");
                }
            }
        }
        v
    }

    #[test]
    fn chunks_parse_as_the_plain_parse_without_the_unread_fields() {
        let full = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","service_tier":"default","obfuscation":"x","choices":[{"index":0,"delta":{"content":"a\"b","tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":{"id":1,"created":2}}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#;
        for skip_model in [false, true] {
            let got = super::parse_chunk(full, skip_model).unwrap();
            assert_eq!(got, plain_without_unread(full, skip_model));
            // Only those: a nested "id" or "created" stays.
            assert_eq!(got["choices"][0]["delta"]["tool_calls"][0]["id"], "call_1");
            assert_eq!(got.get("id"), None);
        }
        for other in [
            r#"[{"error":{"message":"x"}}]"#,
            r#""text""#,
            r#"{"choices":[null,{"index":0,"logprobs":1}]}"#,
            r#"{"choices":{"index":0,"logprobs":1}}"#,
            r#"{"choices":[1.5,true,"c",-1,2]}"#,
            "1.5",
            "true",
            "null",
            "-3",
            r#"{"ch\u006fices":[{"logprobs":1}],"i\u0064":"x"}"#,
            r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
            r#"{"id":"a","id":"b","model":"m","choices":[{"logprobs":null,"logprobs":2}]}"#,
        ] {
            for skip_model in [false, true] {
                assert_eq!(
                    super::parse_chunk(other, skip_model).unwrap(),
                    plain_without_unread(other, skip_model),
                    "{other}"
                );
            }
        }
        for bad in [
            r#"{"id":"x","choices":[{"delta":{"content":"a"}}]"#,
            r#"{"id":tru}"#,
            "{} x",
            "{\"created\":1e}",
        ] {
            let got = super::parse_chunk(bad, false).unwrap_err();
            let want = super::parse_payload(super::P, bad).unwrap_err();
            assert_eq!(
                (got.code, got.message, got.retryable),
                (want.code, want.message, want.retryable)
            );
        }
    }
}
