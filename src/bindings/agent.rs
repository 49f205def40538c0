//! `Agent`: Dexto-shaped sessions API (and, bound to one session, PraisonAI-shaped).

use std::rc::Rc;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::config::{self, is_absent};
use super::convert::{opt_string, promise, string_arg, to_js, JsResult};
use super::session::Session;
use super::store::{create_options, SessionStore};
use crate::core::error::{Error, ErrorCode};
use crate::core::ids;
use crate::core::manager::SessionManager;

type Opening = Shared<LocalBoxFuture<'static, Result<Rc<SessionManager>, JsValue>>>;

#[wasm_bindgen(skip_typescript)]
pub struct Agent {
    name: String,
    instructions: Option<String>,
    bound_session: Option<String>,
    manager: Opening,
}

impl Agent {
    fn manager(&self) -> Opening {
        self.manager.clone()
    }
}

#[wasm_bindgen]
impl Agent {
    /// Validates the whole configuration now; storage opens on `start()` or first use.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> JsResult<Agent> {
        if !config.is_object() {
            return Err(
                Error::invalid_config("new Agent(config) needs a configuration object").into(),
            );
        }
        let name = opt_string(
            &config::get(&config, "name")?,
            "name",
            ErrorCode::InvalidConfig,
        )?
        .unwrap_or_else(|| "assistant".to_owned());
        if name.trim().is_empty()
            || name.chars().count() > 128
            || name.chars().any(char::is_control)
        {
            return Err(Error::invalid_config("name must be 1 to 128 printable characters").into());
        }
        let instructions = opt_string(
            &config::get(&config, "instructions")?,
            "instructions",
            ErrorCode::InvalidConfig,
        )?;
        let session = config::get(&config, "session")?;
        let bound_session = if is_absent(&session) {
            None
        } else {
            let id = match session.as_string() {
                Some(id) => id,
                None => string_arg(
                    &config::get(&session, "id")?,
                    "session",
                    ErrorCode::InvalidConfig,
                )?,
            };
            ids::validate_session_id(&id)?;
            Some(id)
        };
        let store = config::get(&config, "store")?;
        let shared_manager = if is_absent(&store) {
            if let Some(m) = SessionStore::manager_of(&session) {
                Some(m)
            } else {
                None
            }
        } else {
            Some(SessionStore::manager_of(&store).ok_or_else(|| {
                Error::invalid_config("store must be a SessionStore (from SessionStore.open)")
            })?)
        };
        let manager: Opening = match shared_manager {
            Some(m) => futures_util::future::ready(Ok(m)).boxed_local().shared(),
            None => {
                // Report configuration mistakes at construction, not at first use.
                config::manager_config(&config)?;
                config::storage_config(&config)?;
                async move { SessionStore::open_manager(&config).await }
                    .boxed_local()
                    .shared()
            }
        };
        Ok(Agent {
            name,
            instructions,
            bound_session,
            manager,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn instructions(&self) -> Option<String> {
        self.instructions.clone()
    }

    /// Opens storage. Optional: every method waits for it.
    pub fn start(&self) -> Promise {
        let opening = self.manager();
        promise(async move {
            opening.await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The `SessionStore` this agent uses, to share with other agents.
    pub fn store(&self) -> Promise {
        let opening = self.manager();
        promise(async move { Ok(SessionStore::from_manager(opening.await?).into()) })
    }

    #[wasm_bindgen(js_name = createSession)]
    pub fn create_session(&self, id: JsValue, options: JsValue) -> Promise {
        let opening = self.manager();
        promise(async move {
            let manager = opening.await?;
            let id = opt_string(&id, "sessionId", ErrorCode::InvalidId)?;
            let opts = create_options(&options)?;
            let s = manager.create(id.as_deref(), opts).await?;
            Ok(Session::new(manager, s).into())
        })
    }

    #[wasm_bindgen(js_name = getSession)]
    pub fn get_session(&self, id: JsValue) -> Promise {
        let opening = self.manager();
        promise(async move {
            let manager = opening.await?;
            let id = string_arg(&id, "sessionId", ErrorCode::InvalidId)?;
            Ok(match manager.get(&id).await? {
                Some(s) => Session::new(manager, s).into(),
                None => JsValue::NULL,
            })
        })
    }

    #[wasm_bindgen(js_name = listSessions)]
    pub fn list_sessions(&self) -> Promise {
        let opening = self.manager();
        promise(async move { to_js(&opening.await?.list_ids().await?) })
    }

    #[wasm_bindgen(js_name = getSessionHistory)]
    pub fn get_session_history(&self, id: JsValue) -> Promise {
        let opening = self.manager();
        let bound = self.bound_session.clone();
        promise(async move {
            let manager = opening.await?;
            let id = match opt_string(&id, "sessionId", ErrorCode::InvalidId)? {
                Some(id) => id,
                None => bound.ok_or_else(|| Error::invalid_argument("sessionId is required"))?,
            };
            to_js(&manager.history(&id, None).await?)
        })
    }

    #[wasm_bindgen(js_name = resetConversation)]
    pub fn reset_conversation(&self, id: JsValue) -> Promise {
        let opening = self.manager();
        promise(async move {
            let manager = opening.await?;
            let id = string_arg(&id, "sessionId", ErrorCode::InvalidId)?;
            manager.reset(&id).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = deleteSession)]
    pub fn delete_session(&self, id: JsValue) -> Promise {
        let opening = self.manager();
        promise(async move {
            let manager = opening.await?;
            let id = string_arg(&id, "sessionId", ErrorCode::InvalidId)?;
            Ok(JsValue::from_bool(manager.delete(&id).await?))
        })
    }

    /// Subscribes to the store's events (see `SessionStore.on`); returns the unsubscribe function.
    /// Storage must be open (`await agent.start()`) first.
    pub fn on(&self, event: JsValue, listener: JsValue) -> JsResult<JsValue> {
        match self.manager.peek() {
            Some(Ok(m)) => super::events::subscribe(m, &event, listener),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Error::new(
                ErrorCode::InvalidArgument,
                "call `await agent.start()` before subscribing to events",
            )
            .into()),
        }
    }
}
