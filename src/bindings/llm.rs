//! The `llm`, `retry`, `context`, `tools` and timeout parts of an agent's configuration, and the
//! `custom` provider (a JavaScript handler as the model).

use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Function, Promise};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::config::{get, is_absent};
use super::convert::{from_js, to_js, JsResult};
use super::errors::is_our_error;
use crate::core::agent::options::AgentOptions;
use crate::core::agent::AgentSettings;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::llm::chat::{
    reply_events, ChatModel, EventSource, HttpModel, ListSource, MockModel,
};
use crate::core::llm::{
    openai_chat_messages, ChatRequest, ChatResponse, LlmChoice, LlmOptions, Provider,
};
use crate::core::model::{ToolCall, Usage};
use crate::core::record_read::{Fields, FromValue, ReadResult};
use crate::platform::fetch::FetchClient;
use crate::platform::timer::JsTimer;

/// The model an agent calls: `None` when no `llm` was configured (session management only).
pub fn model(config: &JsValue, agent_name: &str) -> JsResult<Option<Rc<dyn ChatModel>>> {
    let llm = get(config, "llm")?;
    if is_absent(&llm) {
        return Ok(None);
    }
    let handler = get(&llm, "handler")?;
    let fetch = get(&llm, "fetch")?;
    let options: LlmOptions = from_js(&llm, "llm", ErrorCode::InvalidConfig)?;
    match options.parse()? {
        LlmChoice::Custom { model } => {
            let handler = handler.dyn_into::<Function>().map_err(|_| {
                Error::invalid_config(
                    "llm.handler must be an async function for provider \"custom\"",
                )
            })?;
            Ok(Some(Rc::new(CustomModel { handler, model })))
        }
        LlmChoice::Mock {
            model,
            chunk_delay_ms,
        } => Ok(Some(Rc::new(MockModel {
            model,
            agent_name: Some(agent_name.to_owned()),
            chunk_delay_ms,
            timer: Rc::new(JsTimer),
        }))),
        LlmChoice::Http(config) => {
            let custom_fetch = if is_absent(&fetch) {
                None
            } else {
                Some(
                    fetch
                        .dyn_into::<Function>()
                        .map_err(|_| Error::invalid_config("llm.fetch must be a function"))?,
                )
            };
            Ok(Some(Rc::new(HttpModel {
                config,
                http: Rc::new(FetchClient::new(custom_fetch)),
                now_ms: Rc::new(js_sys::Date::now),
            })))
        }
    }
}

/// A JavaScript number option, or `None` when absent; the core checks its value.
fn number(config: &JsValue, key: &str) -> JsResult<Option<f64>> {
    let v = get(config, key)?;
    if is_absent(&v) {
        return Ok(None);
    }
    v.as_f64().map(Some).ok_or_else(|| {
        Error::invalid_config(format!("{key} must be a positive number of milliseconds")).into()
    })
}

pub fn settings(
    config: &JsValue,
    name: String,
    instructions: Option<String>,
) -> JsResult<AgentSettings> {
    let options = AgentOptions {
        name,
        instructions,
        retry: from_js(&get(config, "retry")?, "retry", ErrorCode::InvalidConfig)?,
        timeout_ms: number(config, "timeoutMs")?,
        idle_timeout_ms: number(config, "idleTimeoutMs")?,
        context: from_js(
            &get(config, "context")?,
            "context",
            ErrorCode::InvalidConfig,
        )?,
        tools: from_js(&get(config, "tools")?, "tools", ErrorCode::InvalidConfig)?,
    };
    Ok(options.parse()?)
}

/// `{ provider: "custom", handler }`: the handler gets `{ model, system, messages, tools, stream }`
/// (messages in the OpenAI chat shape) and resolves to a string or
/// `{ content, toolCalls?, usage?, finishReason?, model? }`.
struct CustomModel {
    handler: Function,
    model: String,
}

#[derive(Default)]
struct CustomReplyJs {
    content: String,
    tool_calls: Vec<ToolCall>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    model: Option<String>,
}

impl FromValue for CustomReplyJs {
    fn from_value(value: &Value) -> ReadResult<Self> {
        let f = Fields::of(value, "a reply object")?;
        Ok(CustomReplyJs {
            content: f.opt_string("content")?.unwrap_or_default(),
            tool_calls: f.list_or_empty("toolCalls")?,
            usage: f.opt("usage")?,
            finish_reason: f.opt_string("finishReason")?,
            model: f.opt_string("model")?,
        })
    }
}

crate::deserialize_via_value!(CustomReplyJs);

fn js_failure(thrown: &JsValue) -> Error {
    if is_our_error(thrown) {
        let code = js_sys::Reflect::get(thrown, &"code".into())
            .ok()
            .and_then(|c| c.as_string());
        let message = js_sys::Reflect::get(thrown, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default();
        if code.as_deref() == Some("ABORTED") {
            return Error::aborted();
        }
        return Error::new(ErrorCode::LlmHttp, message);
    }
    let message = thrown
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "the handler threw a non-Error value".to_owned());
    Error::new(ErrorCode::LlmHttp, format!("llm.handler failed: {message}"))
}

#[async_trait(?Send)]
impl ChatModel for CustomModel {
    fn provider(&self) -> Provider {
        Provider::Custom
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn open(&self, request: &ChatRequest<'_>) -> Result<Box<dyn EventSource>> {
        let messages = openai_chat_messages(request.messages)?;
        let payload = serde_json::json!({
            "model": self.model, "system": request.system, "messages": messages,
            "tools": request.tools, "stream": request.stream,
        });
        let arg = to_js(&payload).map_err(|e| js_failure(&e))?;
        let returned = self
            .handler
            .call1(&JsValue::NULL, &arg)
            .map_err(|e| js_failure(&e))?;
        let value = match returned.dyn_into::<Promise>() {
            Ok(p) => JsFuture::from(p).await.map_err(|e| js_failure(&e))?,
            Err(v) => v,
        };
        let reply: CustomReplyJs = match value.as_string() {
            Some(text) => CustomReplyJs {
                content: text,
                ..CustomReplyJs::default()
            },
            None => {
                let text = js_sys::JSON::stringify(&value)
                    .ok()
                    .and_then(|t| t.as_string())
                    .unwrap_or_else(|| "null".to_owned());
                crate::core::json::read(&text).map_err(|e| {
                    Error::new(
                        ErrorCode::LlmBadResponse,
                        format!("llm.handler result: {e}"),
                    )
                })?
            }
        };
        let response = ChatResponse {
            content: reply.content,
            tool_calls: reply.tool_calls,
            usage: reply.usage,
            finish_reason: reply.finish_reason,
            model: reply.model,
        };
        Ok(Box::new(ListSource::new(reply_events(response), None)))
    }
}
