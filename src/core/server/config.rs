//! The server's configuration in Hector's shape, checked and turned into what the handler needs:
//! the library's `Agent` options per agent, the stores, the tenants and their tokens, CORS and the
//! server's limits. `${VAR}` / `${VAR:-default}` are substituted in every string first. Every
//! mistake is `INVALID_CONFIG` with a message that starts with the key's path
//! (`agents.assistant.llm: …`), so a bad config fails at start, saying where.
//!
//! ```yaml
//! llms:     { fast: { type: openai, model: gpt-4o-mini, api_key: "${OPENAI_API_KEY}", host, temperature, max_tokens, timeout, max_retries, retry_mid_stream } }
//! agents:   { assistant: { llm: fast, instructions: "…", memory: { working: { strategy: summary_buffer, budget: 4000 } }, session_store: main } }
//! session_stores: { main: { backend: sql, sql: { driver: sqlite, database: ./data/sessions.db } } }
//! auth:     { tenants: { a: { tokens: ["${TOKEN_A}"] }, b: { token_sha256: ["9f86…"] } } }
//! cors:     { origins: ["https://app.example"] }
//! server:   { port: 8080, max_body_bytes: 1048576, keepalive_ms: 15000, rate_limit: { requests: 600, per_seconds: 60 }, resume: { max_bytes, keep_ms } }
//! ```

use serde_json::{json, Map, Value};

use crate::core::error::{Error, Result};

/// Reads one environment variable.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn bad(key: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid_config(format!("{key}: {message}"))
}

/// `${VAR}` and `${VAR:-default}` in every string of `value`.
pub fn substitute_env(value: &Value, env: EnvLookup, key: &str) -> Result<Value> {
    Ok(match value {
        Value::String(s) => Value::String(substitute_str(s, env, key)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| substitute_env(v, env, &format!("{key}[{i}]")))
                .collect::<Result<_>>()?,
        ),
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                out.insert(k.clone(), substitute_env(v, env, &join(key, k))?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn substitute_str(s: &str, env: EnvLookup, key: &str) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| bad(key, "unclosed ${ in a string"))?;
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit();
        if !valid {
            return Err(bad(
                key,
                format!("${{{name}}} is not an environment variable name"),
            ));
        }
        match (env(name), default) {
            (Some(v), _) if !v.is_empty() || default.is_none() => out.push_str(&v),
            (_, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(bad(key, format!("environment variable {name} is not set")))
            }
            (Some(v), None) => out.push_str(&v),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn join(key: &str, k: &str) -> String {
    if key.is_empty() {
        k.to_owned()
    } else {
        format!("{key}.{k}")
    }
}

/// The section at `key` as an object (absent → empty).
fn section<'v>(v: Option<&'v Value>, key: &str) -> Result<Option<&'v Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(bad(key, "must be a mapping")),
    }
}

fn only(o: &Map<String, Value>, key: &str, known: &[&str]) -> Result<()> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(bad(
            &join(key, k),
            format!("unknown key (expected one of {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn string(o: &Map<String, Value>, key: &str, k: &str) -> Result<Option<String>> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(bad(&join(key, k), "must be a string")),
    }
}

/// A number, also accepted as a numeric string (what `${ENV}` substitution produces).
fn number(o: &Map<String, Value>, key: &str, k: &str) -> Result<Option<f64>> {
    let path = join(key, k);
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| bad(&path, "must be a number")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| bad(&path, "must be a number")),
        Some(_) => Err(bad(&path, "must be a number")),
    }
    .and_then(|n| match n {
        Some(x) if !x.is_finite() || x < 0.0 => Err(bad(&path, "must be a non-negative number")),
        n => Ok(n),
    })
}

fn whole(o: &Map<String, Value>, key: &str, k: &str) -> Result<Option<u64>> {
    match number(o, key, k)? {
        Some(x) if x.fract() != 0.0 || x > 1e15 => {
            Err(bad(&join(key, k), "must be a whole number"))
        }
        Some(x) => Ok(Some(x as u64)),
        None => Ok(None),
    }
}

/// A duration: seconds as a number (Hector's `timeout: 60`), or `"500ms"`, `"30s"`, `"2m"`, `"1h"`.
fn duration_ms(o: &Map<String, Value>, key: &str, k: &str) -> Result<Option<u64>> {
    let path = join(key, k);
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n
            .as_f64()
            .filter(|x| *x >= 0.0)
            .map(|s| (s * 1000.0) as u64))
        .and_then(|v| {
            v.map(Some)
                .ok_or_else(|| bad(&path, "must be a non-negative duration"))
        }),
        Some(Value::String(s)) => {
            let s = s.trim();
            let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
                Some(i) => (&s[..i], &s[i..]),
                None => (s, "s"),
            };
            let x: f64 = num
                .trim()
                .parse()
                .map_err(|_| bad(&path, "is not a duration (e.g. 30s, 500ms, 2m)"))?;
            let scale = match unit {
                "ms" => 1.0,
                "s" => 1000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                _ => return Err(bad(&path, "is not a duration (e.g. 30s, 500ms, 2m)")),
            };
            if x < 0.0 || !x.is_finite() {
                return Err(bad(&path, "must be a non-negative duration"));
            }
            Ok(Some((x * scale) as u64))
        }
        Some(_) => Err(bad(&path, "must be a duration")),
    }
}

fn strings(o: &Map<String, Value>, key: &str, k: &str) -> Result<Vec<String>> {
    let path = join(key, k);
    match o.get(k) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(bad(&format!("{path}[{i}]"), "must be a string")),
            })
            .collect(),
        Some(_) => Err(bad(&path, "must be a list of strings")),
    }
}

fn name_ok(name: &str) -> bool {
    super::route::valid_agent_name(name)
}

const PROVIDERS: &[&str] = &["openai", "anthropic", "gemini", "mock", "ollama"];
const STRATEGIES: &[&str] = &["full", "buffer_window", "token_window", "summary_buffer"];

fn llm(name: &str, o: &Map<String, Value>) -> Result<(Value, Map<String, Value>)> {
    let key = format!("llms.{name}");
    only(
        o,
        &key,
        &[
            "type",
            "provider",
            "model",
            "api_key",
            "host",
            "base_url",
            "temperature",
            "max_tokens",
            "timeout",
            "max_retries",
            "retry_mid_stream",
            "chunk_delay_ms",
            "headers",
        ],
    )?;
    let provider = match (string(o, &key, "type")?, string(o, &key, "provider")?) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => {
            return Err(bad(
                &format!("{key}.type"),
                "is required (openai, anthropic, gemini, mock)",
            ))
        }
    };
    if !PROVIDERS.contains(&provider.as_str()) {
        return Err(bad(
            &format!("{key}.type"),
            format!(
                "unknown provider {} (expected {})",
                crate::core::json::quote(&provider),
                PROVIDERS.join(", ")
            ),
        ));
    }
    let mut llm = Map::new();
    let mut base_url = string(o, &key, "host")?.or(string(o, &key, "base_url")?);
    let provider = if provider == "ollama" {
        // Ollama speaks the OpenAI protocol under /v1.
        base_url = Some(
            base_url
                .unwrap_or_else(|| "http://localhost:11434".into())
                .trim_end_matches('/')
                .to_owned()
                + "/v1",
        );
        "openai".to_owned()
    } else {
        provider
    };
    llm.insert("provider".into(), json!(provider));
    if let Some(m) = string(o, &key, "model")? {
        llm.insert("model".into(), json!(m));
    }
    if let Some(k) = string(o, &key, "api_key")? {
        llm.insert("apiKey".into(), json!(k));
    } else if provider != "mock" {
        return Err(bad(
            &format!("{key}.api_key"),
            "is required for this provider (e.g. api_key: ${OPENAI_API_KEY})",
        ));
    }
    if let Some(u) = base_url {
        llm.insert("baseUrl".into(), json!(u));
    }
    if let Some(t) = number(o, &key, "temperature")? {
        llm.insert("temperature".into(), json!(t));
    }
    if let Some(t) = whole(o, &key, "max_tokens")? {
        llm.insert("maxTokens".into(), json!(t));
    }
    if let Some(d) = whole(o, &key, "chunk_delay_ms")? {
        llm.insert("chunkDelayMs".into(), json!(d));
    }
    if let Some(h) = section(o.get("headers"), &format!("{key}.headers"))? {
        llm.insert("headers".into(), Value::Object(h.clone()));
    }
    let mut extra = Map::new();
    if let Some(t) = duration_ms(o, &key, "timeout")? {
        extra.insert("timeoutMs".into(), json!(t));
    }
    let mut retry = Map::new();
    if let Some(r) = whole(o, &key, "max_retries")? {
        retry.insert("maxRetries".into(), json!(r));
    }
    match o.get("retry_mid_stream") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => {
            retry.insert("midStream".into(), json!(b));
        }
        Some(_) => {
            return Err(bad(
                &format!("{key}.retry_mid_stream"),
                "must be true or false",
            ))
        }
    }
    if !retry.is_empty() {
        extra.insert("retry".into(), Value::Object(retry));
    }
    Ok((Value::Object(llm), extra))
}

fn memory(agent_key: &str, v: Option<&Value>) -> Result<Option<Value>> {
    let key = format!("{agent_key}.memory");
    let Some(m) = section(v, &key)? else {
        return Ok(None);
    };
    // `longterm` is Hector's long-term memory, which this library does not have: refused, not ignored.
    only(m, &key, &["working"])?;
    let wkey = format!("{key}.working");
    let Some(w) = section(m.get("working"), &wkey)? else {
        return Ok(None);
    };
    only(
        w,
        &wkey,
        &[
            "strategy",
            "budget",
            "window_size",
            "threshold",
            "target",
            "max_messages",
        ],
    )?;
    let strategy = string(w, &wkey, "strategy")?.unwrap_or_else(|| "full".into());
    if !STRATEGIES.contains(&strategy.as_str()) {
        return Err(bad(
            &format!("{wkey}.strategy"),
            format!(
                "unknown strategy {} (expected {})",
                crate::core::json::quote(&strategy),
                STRATEGIES.join(", ")
            ),
        ));
    }
    let mut ctx = Map::new();
    ctx.insert("strategy".into(), json!(strategy));
    for (k, js) in [
        ("budget", "budget"),
        ("window_size", "windowSize"),
        ("max_messages", "maxMessages"),
    ] {
        if let Some(n) = whole(w, &wkey, k)? {
            if n == 0 {
                return Err(bad(&format!("{wkey}.{k}"), "must be at least 1"));
            }
            ctx.insert(js.into(), json!(n));
        }
    }
    for k in ["threshold", "target"] {
        if let Some(x) = number(w, &wkey, k)? {
            if !(x > 0.0 && x <= 1.0) {
                return Err(bad(&format!("{wkey}.{k}"), "must be in (0, 1]"));
            }
            ctx.insert(k.into(), json!(x));
        }
    }
    Ok(Some(Value::Object(ctx)))
}

fn store(name: &str, o: &Map<String, Value>) -> Result<Value> {
    let key = format!("session_stores.{name}");
    only(o, &key, &["backend", "sql", "prefix"])?;
    let backend = string(o, &key, "backend")?
        .ok_or_else(|| bad(&format!("{key}.backend"), "is required (sql, memory or kv)"))?;
    let prefix = string(o, &key, "prefix")?;
    match backend.as_str() {
        "memory" | "kv" => {
            if o.contains_key("sql") {
                return Err(bad(&format!("{key}.sql"), "only for backend: sql"));
            }
            Ok(json!({ "backend": backend, "prefix": prefix }))
        }
        "sql" => {
            let skey = format!("{key}.sql");
            let s = section(o.get("sql"), &skey)?
                .ok_or_else(|| bad(&skey, "is required for backend: sql"))?;
            only(s, &skey, &["driver", "database"])?;
            let driver = string(s, &skey, "driver")?.ok_or_else(|| {
                bad(
                    &format!("{skey}.driver"),
                    "is required (sqlite or postgres)",
                )
            })?;
            if !["sqlite", "postgres"].contains(&driver.as_str()) {
                return Err(bad(
                    &format!("{skey}.driver"),
                    format!(
                        "unknown driver {} (expected sqlite or postgres)",
                        crate::core::json::quote(&driver)
                    ),
                ));
            }
            let database = string(s, &skey, "database")?.ok_or_else(|| {
                bad(
                    &format!("{skey}.database"),
                    "is required (a file path, or a postgres:// URL)",
                )
            })?;
            Ok(
                json!({ "backend": "sql", "driver": driver, "database": database, "prefix": prefix }),
            )
        }
        other => Err(bad(
            &format!("{key}.backend"),
            format!(
                "unknown backend {} (expected sql, memory or kv)",
                crate::core::json::quote(other)
            ),
        )),
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn auth(v: Option<&Value>) -> Result<Value> {
    let Some(a) = section(v, "auth")? else {
        return Ok(Value::Null);
    };
    only(a, "auth", &["tenants"])?;
    let t = section(a.get("tenants"), "auth.tenants")?
        .ok_or_else(|| bad("auth.tenants", "is required when auth is set"))?;
    if t.is_empty() {
        return Err(bad("auth.tenants", "must name at least one tenant"));
    }
    let mut tenants = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (name, v) in t {
        let key = format!("auth.tenants.{name}");
        if !name_ok(name) {
            return Err(bad(
                &key,
                "tenant names are letters, digits, '-', '_' and '.' (1 to 64)",
            ));
        }
        let o = section(Some(v), &key)?
            .ok_or_else(|| bad(&key, "must be a mapping with tokens or token_sha256"))?;
        only(o, &key, &["tokens", "token_sha256"])?;
        let tokens = strings(o, &key, "tokens")?;
        let hashes: Vec<String> = strings(o, &key, "token_sha256")?
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if let Some((i, _)) = tokens.iter().enumerate().find(|(_, s)| s.len() < 8) {
            return Err(bad(
                &format!("{key}.tokens[{i}]"),
                "is too short (at least 8 characters)",
            ));
        }
        if let Some((i, _)) = hashes.iter().enumerate().find(|(_, h)| !is_sha256_hex(h)) {
            return Err(bad(
                &format!("{key}.token_sha256[{i}]"),
                "must be 64 hex digits (sha256 of the token)",
            ));
        }
        if tokens.is_empty() && hashes.is_empty() {
            return Err(bad(&key, "has no tokens and no token_sha256"));
        }
        for tok in &tokens {
            if !seen.insert(tok.clone()) {
                return Err(bad(
                    &format!("{key}.tokens"),
                    "a token is given to two tenants",
                ));
            }
        }
        tenants.push(json!({ "name": name, "tokens": tokens, "token_sha256": hashes }));
    }
    Ok(Value::Array(tenants))
}

fn server(v: Option<&Value>) -> Result<Value> {
    let o = section(v, "server")?.cloned().unwrap_or_default();
    let key = "server";
    only(
        &o,
        key,
        &[
            "port",
            "host",
            "max_body_bytes",
            "keepalive_ms",
            "rate_limit",
            "resume",
            "run_timeout",
        ],
    )?;
    let port = whole(&o, key, "port")?;
    if let Some(p) = port {
        if p > 65535 {
            return Err(bad("server.port", "must be 0..65535"));
        }
    }
    let positive = |k: &str, default: u64| -> Result<u64> {
        match whole(&o, key, k)? {
            Some(0) => Err(bad(&join(key, k), "must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(default),
        }
    };
    let max_body = positive("max_body_bytes", 1 << 20)?;
    let keepalive = positive("keepalive_ms", 15_000)?;
    let rate = match section(o.get("rate_limit"), "server.rate_limit")? {
        None => Value::Null,
        Some(r) => {
            only(r, "server.rate_limit", &["requests", "per_seconds"])?;
            let n = whole(r, "server.rate_limit", "requests")?
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("server.rate_limit.requests", "is required, at least 1"))?;
            let per = number(r, "server.rate_limit", "per_seconds")?.unwrap_or(60.0);
            if per <= 0.0 {
                return Err(bad("server.rate_limit.per_seconds", "must be more than 0"));
            }
            json!({ "requests": n, "per_seconds": per })
        }
    };
    let resume = section(o.get("resume"), "server.resume")?
        .cloned()
        .unwrap_or_default();
    only(
        &resume,
        "server.resume",
        &["max_bytes", "max_events", "keep_ms"],
    )?;
    let limits = super::buffer::Limits::default();
    Ok(json!({
        "port": port,
        "host": string(&o, key, "host")?,
        "max_body_bytes": max_body,
        "keepalive_ms": keepalive,
        "rate_limit": rate,
        "run_timeout_ms": duration_ms(&o, key, "run_timeout")?,
        "resume": {
            "max_bytes": whole(&resume, "server.resume", "max_bytes")?.unwrap_or(limits.max_bytes as u64),
            "max_events": whole(&resume, "server.resume", "max_events")?.unwrap_or(limits.max_events as u64),
            "keep_ms": whole(&resume, "server.resume", "keep_ms")?.unwrap_or(limits.keep_ms as u64),
        },
    }))
}

/// Checks a parsed config (YAML or JSON, as a JSON value) and returns its normalised form:
/// `{ agents: { name: { options, session_store } }, session_stores, tenants | null, cors, server }`.
/// `options` are the library's `Agent` options (camelCase), ready for `new Agent(…)`.
pub fn normalize(raw: &Value, env: EnvLookup) -> Result<Value> {
    let Value::Object(_) = raw else {
        return Err(Error::invalid_config(
            "the config must be a mapping (llms, agents, …)",
        ));
    };
    let cfg = substitute_env(raw, env, "")?;
    let top = cfg
        .as_object()
        .ok_or_else(|| Error::internal("substitution keeps an object"))?;
    only(
        top,
        "",
        &[
            "version",
            "name",
            "description",
            "llms",
            "agents",
            "session_stores",
            "auth",
            "cors",
            "server",
        ],
    )
    .map_err(|e| Error::invalid_config(e.message.trim_start_matches(": ").to_owned()))?;

    let mut llms = Map::new();
    for (name, v) in section(top.get("llms"), "llms")?.into_iter().flatten() {
        let key = format!("llms.{name}");
        let o = section(Some(v), &key)?.ok_or_else(|| bad(&key, "must be a mapping"))?;
        let (l, extra) = llm(name, o)?;
        llms.insert(name.clone(), json!({ "llm": l, "extra": extra }));
    }

    let mut stores = Map::new();
    for (name, v) in section(top.get("session_stores"), "session_stores")?
        .into_iter()
        .flatten()
    {
        let key = format!("session_stores.{name}");
        let o = section(Some(v), &key)?.ok_or_else(|| bad(&key, "must be a mapping"))?;
        stores.insert(name.clone(), store(name, o)?);
    }

    let agents_in = section(top.get("agents"), "agents")?
        .ok_or_else(|| bad("agents", "is required: at least one agent"))?;
    if agents_in.is_empty() {
        return Err(bad("agents", "is required: at least one agent"));
    }
    let mut agents = Map::new();
    for (name, v) in agents_in {
        let key = format!("agents.{name}");
        if !name_ok(name) {
            return Err(bad(
                &key,
                "agent names are letters, digits, '-', '_' and '.' (1 to 64)",
            ));
        }
        let o = section(Some(v), &key)?.ok_or_else(|| bad(&key, "must be a mapping"))?;
        only(
            o,
            &key,
            &[
                "llm",
                "instructions",
                "system_prompt",
                "memory",
                "session_store",
                "name",
            ],
        )?;
        let mut options = Map::new();
        options.insert(
            "name".into(),
            json!(string(o, &key, "name")?.unwrap_or_else(|| name.clone())),
        );
        if let Some(i) = string(o, &key, "instructions")?.or(string(o, &key, "system_prompt")?) {
            options.insert("instructions".into(), json!(i));
        }
        let llm_name = string(o, &key, "llm")?.ok_or_else(|| {
            bad(
                &format!("{key}.llm"),
                "is required (the name of an entry under llms)",
            )
        })?;
        let l = llms.get(&llm_name).ok_or_else(|| {
            bad(
                &format!("{key}.llm"),
                format!(
                    "{} is not defined under llms (defined: {})",
                    crate::core::json::quote(&llm_name),
                    llms.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        options.insert("llm".into(), l["llm"].clone());
        if let Some(extra) = l["extra"].as_object() {
            for (k, v) in extra {
                options.insert(k.clone(), v.clone());
            }
        }
        if let Some(ctx) = memory(&key, o.get("memory"))? {
            options.insert("context".into(), ctx);
        }
        let store_name = string(o, &key, "session_store")?;
        if let Some(s) = &store_name {
            if !stores.contains_key(s) {
                return Err(bad(
                    &format!("{key}.session_store"),
                    format!(
                        "{} is not defined under session_stores",
                        crate::core::json::quote(s)
                    ),
                ));
            }
        }
        agents.insert(
            name.clone(),
            json!({ "options": options, "session_store": store_name }),
        );
    }

    let cors = match section(top.get("cors"), "cors")? {
        None => json!({ "origins": [] }),
        Some(c) => {
            only(c, "cors", &["origins", "allowed_origins"])?;
            let mut origins = strings(c, "cors", "origins")?;
            origins.extend(strings(c, "cors", "allowed_origins")?);
            json!({ "origins": origins })
        }
    };

    Ok(json!({
        "agents": agents,
        "session_stores": stores,
        "tenants": auth(top.get("auth"))?,
        "cors": cors,
        "server": server(top.get("server"))?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "OPENAI_API_KEY" => Some("sk-test".into()),
            "TOKEN_A" => Some("secret-token-a".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn norm(v: Value) -> Result<Value> {
        normalize(&v, &env)
    }

    fn err(v: Value) -> String {
        let e = norm(v).expect_err("should fail");
        assert_eq!(e.code.as_str(), "INVALID_CONFIG");
        e.message
    }

    fn hector() -> Value {
        json!({
            "llms": {
                "fast": { "type": "openai", "model": "gpt-4o-mini", "api_key": "${OPENAI_API_KEY}", "timeout": 30, "max_retries": 1, "temperature": 0.2 },
                "offline": { "provider": "mock", "chunk_delay_ms": 40 }
            },
            "session_stores": { "main-db": { "backend": "sql", "sql": { "driver": "sqlite", "database": "./data/sessions.db" } } },
            "agents": {
                "assistant": { "llm": "fast", "instructions": "Be brief.", "session_store": "main-db",
                               "memory": { "working": { "strategy": "summary_buffer", "budget": 4000 } } },
                "slow": { "llm": "offline", "memory": { "working": { "strategy": "buffer_window", "window_size": 20 } } }
            },
            "auth": { "tenants": { "a": { "tokens": ["${TOKEN_A}"] }, "b": { "token_sha256": ["9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"] } } },
            "cors": { "origins": ["https://app.example"] },
            "server": { "keepalive_ms": 50 }
        })
    }

    #[test]
    fn retry_mid_stream_becomes_the_agents_retry_option() {
        let mut h = hector();
        h["llms"]["fast"]["retry_mid_stream"] = json!(true);
        let c = norm(h.clone()).unwrap();
        assert_eq!(
            c["agents"]["assistant"]["options"]["retry"],
            json!({ "maxRetries": 1, "midStream": true })
        );
        h["llms"]["fast"]["max_retries"] = Value::Null;
        h["llms"]["fast"]["retry_mid_stream"] = json!(false);
        let c = norm(h.clone()).unwrap();
        assert_eq!(
            c["agents"]["assistant"]["options"]["retry"],
            json!({ "midStream": false })
        );
        h["llms"]["fast"]["retry_mid_stream"] = json!("yes");
        assert!(err(h).contains("llms.fast.retry_mid_stream"));
    }

    #[test]
    fn hectors_shape_becomes_agent_options() {
        let c = norm(hector()).unwrap();
        let a = &c["agents"]["assistant"];
        assert_eq!(a["session_store"], "main-db");
        assert_eq!(
            a["options"],
            json!({ "name": "assistant", "instructions": "Be brief.",
                    "llm": { "provider": "openai", "model": "gpt-4o-mini", "apiKey": "sk-test", "temperature": 0.2 },
                    "timeoutMs": 30000, "retry": { "maxRetries": 1 },
                    "context": { "strategy": "summary_buffer", "budget": 4000 } })
        );
        assert_eq!(
            c["agents"]["slow"]["options"]["llm"],
            json!({ "provider": "mock", "chunkDelayMs": 40 })
        );
        assert_eq!(
            c["agents"]["slow"]["options"]["context"],
            json!({ "strategy": "buffer_window", "windowSize": 20 })
        );
        assert_eq!(c["session_stores"]["main-db"]["driver"], "sqlite");
        assert_eq!(
            c["tenants"][0],
            json!({ "name": "a", "tokens": ["secret-token-a"], "token_sha256": [] })
        );
        assert_eq!(
            c["tenants"][1]["token_sha256"][0],
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
        assert_eq!(c["server"]["keepalive_ms"], 50);
        assert_eq!(c["server"]["max_body_bytes"], 1 << 20);
        assert_eq!(c["cors"]["origins"], json!(["https://app.example"]));
    }

    #[test]
    fn without_auth_the_server_is_open() {
        let c = norm(json!({ "llms": { "m": { "type": "mock" } }, "agents": { "assistant": { "llm": "m" } } })).unwrap();
        assert_eq!(c["tenants"], Value::Null);
        assert_eq!(c["server"]["keepalive_ms"], 15000);
    }

    #[test]
    fn env_substitution_with_defaults_and_missing_variables() {
        let e = |s: &str| substitute_str(s, &env, "k");
        assert_eq!(e("Bearer ${TOKEN_A}!").unwrap(), "Bearer secret-token-a!");
        assert_eq!(e("${NOPE:-fallback}").unwrap(), "fallback");
        assert_eq!(e("${EMPTY:-fallback}").unwrap(), "fallback");
        assert_eq!(e("${EMPTY}").unwrap(), "");
        assert_eq!(e("no vars $HOME").unwrap(), "no vars $HOME");
        assert_eq!(
            e("${NOPE}").unwrap_err().message,
            "k: environment variable NOPE is not set"
        );
        assert!(e("${1X}").is_err());
        assert!(e("${OPEN").is_err());
    }

    #[test]
    fn every_mistake_names_its_key() {
        let with = |path: &[&str], v: Value| {
            let mut c = hector();
            let mut at = &mut c;
            for p in &path[..path.len() - 1] {
                at = &mut at[*p];
            }
            at[path[path.len() - 1]] = v;
            c
        };
        let cases: Vec<(Value, &str)> = vec![
            (
                with(&["agents", "assistant", "llm"], json!("nope")),
                "agents.assistant.llm:",
            ),
            (
                with(&["agents", "assistant", "session_store"], json!("x")),
                "agents.assistant.session_store:",
            ),
            (
                with(&["agents", "assistant", "tools"], json!(["search"])),
                "agents.assistant.tools:",
            ),
            (
                with(
                    &["agents", "assistant", "memory", "working", "strategy"],
                    json!("magic"),
                ),
                "agents.assistant.memory.working.strategy:",
            ),
            (
                with(&["agents", "assistant", "memory", "longterm"], json!({})),
                "agents.assistant.memory.longterm:",
            ),
            (
                with(
                    &["agents", "assistant", "memory", "working", "budget"],
                    json!(0),
                ),
                "agents.assistant.memory.working.budget:",
            ),
            (
                with(&["llms", "fast", "type"], json!("gpt")),
                "llms.fast.type:",
            ),
            (
                with(&["llms", "fast", "api_key"], json!("${MISSING_KEY}")),
                "llms.fast.api_key: environment variable MISSING_KEY",
            ),
            (
                with(&["llms", "fast", "timeout"], json!("soon")),
                "llms.fast.timeout:",
            ),
            (
                with(&["llms", "fast", "max_tokens"], json!(-1)),
                "llms.fast.max_tokens:",
            ),
            (
                with(
                    &["session_stores", "main-db", "sql", "driver"],
                    json!("oracle"),
                ),
                "session_stores.main-db.sql.driver:",
            ),
            (
                with(&["session_stores", "main-db", "backend"], json!("redis")),
                "session_stores.main-db.backend:",
            ),
            (
                with(&["auth", "tenants", "a", "tokens"], json!(["short"])),
                "auth.tenants.a.tokens[0]:",
            ),
            (
                with(&["auth", "tenants", "b", "token_sha256"], json!(["abc"])),
                "auth.tenants.b.token_sha256[0]:",
            ),
            (
                with(
                    &["auth", "tenants", "b"],
                    json!({ "tokens": ["secret-token-a"] }),
                ),
                "auth.tenants.b.tokens:",
            ),
            (with(&["server", "port"], json!(70000)), "server.port:"),
            (
                with(&["server", "keepalive_ms"], json!(0)),
                "server.keepalive_ms:",
            ),
            (with(&["cors", "origin"], json!("*")), "cors.origin:"),
            (with(&["agents"], json!({})), "agents:"),
            (with(&["databases"], json!({})), "databases:"),
        ];
        for (cfg, prefix) in cases {
            let m = err(cfg);
            assert!(m.starts_with(prefix), "{m:?} should start with {prefix:?}");
        }
        // A value (perhaps a secret from the environment) is never quoted back.
        let m = err(with(
            &["llms", "fast", "temperature"],
            json!("${OPENAI_API_KEY}x"),
        ));
        assert!(!m.contains("sk-test"), "{m}");
    }

    #[test]
    fn numbers_from_env_strings_and_durations() {
        let mut c = hector();
        c["llms"]["fast"]["timeout"] = json!("2m");
        c["llms"]["fast"]["max_tokens"] = json!("256");
        let n = norm(c).unwrap();
        assert_eq!(n["agents"]["assistant"]["options"]["timeoutMs"], 120_000);
        assert_eq!(n["agents"]["assistant"]["options"]["llm"]["maxTokens"], 256);
    }
}
