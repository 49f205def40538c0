//! The `llm`, `retry`, `context`, `tools` and timeout parts of an agent's configuration, and the
//! `custom` provider (a JavaScript handler as the model).

use std::collections::BTreeMap;
use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Function, Promise};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::config::{get, is_absent};
use super::convert::{from_js, to_js, JsResult};
use super::errors::is_our_error;
use crate::core::agent::{AgentSettings, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS};
use crate::core::context::ContextOptions;
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::llm::chat::{
    reply_events, ChatModel, EventSource, HttpModel, ListSource, MockModel,
};
use crate::core::llm::{
    openai_chat_messages, ChatRequest, ChatResponse, Provider, ProviderConfig, RetryPolicy,
    ToolSpec,
};
use crate::core::model::{ToolCall, Usage};
use crate::platform::fetch::FetchClient;
use crate::platform::timer::JsTimer;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LlmConfigJs {
    provider: String,
    model: Option<String>,
    api_key: Option<String>,
    base_url: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    max_tokens: Option<u32>,
    temperature: Option<f64>,
    #[serde(alias = "dangerousDirectBrowserAccess")]
    dangerously_allow_browser: Option<bool>,
    chunk_delay_ms: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RetryConfigJs {
    max_retries: Option<u32>,
    base_delay_ms: Option<u32>,
    max_delay_ms: Option<u32>,
    max_retry_after_ms: Option<u32>,
}

/// The model an agent calls: `None` when no `llm` was configured (session management only).
pub fn model(config: &JsValue, agent_name: &str) -> JsResult<Option<Rc<dyn ChatModel>>> {
    let llm = get(config, "llm")?;
    if is_absent(&llm) {
        return Ok(None);
    }
    let handler = get(&llm, "handler")?;
    let fetch = get(&llm, "fetch")?;
    let c: LlmConfigJs = from_js(&llm, "llm", ErrorCode::InvalidConfig)?;
    let provider = Provider::from_config(&c.provider)?;
    match provider {
        Provider::Custom => {
            let handler = handler.dyn_into::<Function>().map_err(|_| {
                Error::invalid_config(
                    "llm.handler must be an async function for provider \"custom\"",
                )
            })?;
            return Ok(Some(Rc::new(CustomModel {
                handler,
                model: c.model.unwrap_or_else(|| "custom".to_owned()),
            })));
        }
        Provider::Mock => {
            return Ok(Some(Rc::new(MockModel {
                model: c.model.unwrap_or_else(|| "mock-1".to_owned()),
                agent_name: Some(agent_name.to_owned()),
                chunk_delay_ms: c.chunk_delay_ms.unwrap_or(0) as u64,
                timer: Rc::new(JsTimer),
            })));
        }
        Provider::OpenAi | Provider::Anthropic | Provider::Gemini => {}
    }
    let model = c
        .model
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| Error::invalid_config("llm.model is required"))?;
    let custom_fetch = if is_absent(&fetch) {
        None
    } else {
        Some(
            fetch
                .dyn_into::<Function>()
                .map_err(|_| Error::invalid_config("llm.fetch must be a function"))?,
        )
    };
    let mut cfg = ProviderConfig::new(provider, model);
    cfg.api_key = c.api_key.filter(|k| !k.is_empty());
    cfg.base_url = c.base_url;
    cfg.headers = c.headers.unwrap_or_default().into_iter().collect();
    cfg.max_tokens = c.max_tokens;
    cfg.temperature = c.temperature;
    cfg.dangerous_direct_browser_access = c.dangerously_allow_browser.unwrap_or(false);
    Ok(Some(Rc::new(HttpModel {
        config: cfg,
        http: Rc::new(FetchClient::new(custom_fetch)),
        now_ms: Rc::new(js_sys::Date::now),
    })))
}

fn millis(config: &JsValue, key: &str, default: u64) -> JsResult<u64> {
    let v = get(config, key)?;
    if is_absent(&v) {
        return Ok(default);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n > 0.0 => Ok(n as u64),
        _ => Err(
            Error::invalid_config(format!("{key} must be a positive number of milliseconds"))
                .into(),
        ),
    }
}

pub fn settings(
    config: &JsValue,
    name: String,
    instructions: Option<String>,
) -> JsResult<AgentSettings> {
    let retry: Option<RetryConfigJs> =
        from_js(&get(config, "retry")?, "retry", ErrorCode::InvalidConfig)?;
    let retry = retry.unwrap_or_default();
    let defaults = RetryPolicy::default();
    let policy = RetryPolicy {
        max_retries: retry.max_retries.unwrap_or(defaults.max_retries),
        base_delay_ms: retry
            .base_delay_ms
            .map_or(defaults.base_delay_ms, u64::from),
        max_delay_ms: retry.max_delay_ms.map_or(defaults.max_delay_ms, u64::from),
        max_retry_after_ms: retry
            .max_retry_after_ms
            .map_or(defaults.max_retry_after_ms, u64::from),
    };
    let context: Option<ContextOptions> = from_js(
        &get(config, "context")?,
        "context",
        ErrorCode::InvalidConfig,
    )?;
    let context = context
        .unwrap_or_default()
        .parse(ErrorCode::InvalidConfig)?;
    let tools: Option<Vec<ToolSpec>> =
        from_js(&get(config, "tools")?, "tools", ErrorCode::InvalidConfig)?;
    Ok(AgentSettings {
        name,
        instructions,
        retry: policy,
        timeout_ms: millis(config, "timeoutMs", DEFAULT_TIMEOUT_MS)?,
        idle_timeout_ms: millis(config, "idleTimeoutMs", DEFAULT_IDLE_TIMEOUT_MS)?,
        context,
        tools: tools.unwrap_or_default(),
    })
}

/// `{ provider: "custom", handler }`: the handler gets `{ model, system, messages, tools, stream }`
/// (messages in the OpenAI chat shape) and resolves to a string or
/// `{ content, toolCalls?, usage?, finishReason?, model? }`.
struct CustomModel {
    handler: Function,
    model: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CustomReplyJs {
    #[serde(default)]
    content: String,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    model: Option<String>,
}

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
                crate::core::json::from_str(&text).map_err(|e| {
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
