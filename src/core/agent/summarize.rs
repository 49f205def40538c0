//! The context a turn sends, and `summary_buffer`'s summarisation: when a build finds a summary
//! due, the oldest turns are folded into a new summary through the agent's own model (a chunk
//! at a time), checked to leave room for the newest turn, and stored; a failed summarisation
//! falls back to `token_window`.

use super::{AgentEvent, Turn};
use crate::core::context::build::{build, Built, SummaryChoice, SummaryJob};
use crate::core::context::summary::{self as summaries, SUMMARY_HEADING, SUMMARY_SYSTEM};
use crate::core::context::window::too_large;
use crate::core::context::{estimate_message_tokens, Strategy};
use crate::core::error::{Error, ErrorCode, Result};
use crate::core::llm::{ChatRequest, ChatResponse};
use crate::core::model::{Message, MessageStatus, Role, Run, Summary};

impl Turn<'_> {
    /// The context to send: built by the agent's strategy, summarising first when
    /// `summary_buffer` finds it due. A failed summarisation falls back to `token_window` (after
    /// the previous summary, if any) and emits `context:summary_failed`; cancellation and the
    /// call's deadline still end the call.
    pub(super) async fn context(
        &self,
        session_id: &str,
        run: &mut Run,
        deadline: f64,
    ) -> Result<Built> {
        let session = self.manager.require(session_id).await?;
        let inputs = self
            .settings
            .context_inputs(&session, Some(self.model.provider()));
        let store = &**self.manager.store();
        let built = build(store, &session, &inputs).await?;
        let Some(job) = built.job.clone() else {
            run.estimated_input_tokens = Some(u64::from(built.tokens));
            return Ok(built);
        };
        let Strategy::SummaryBuffer { budget, target, .. } = inputs.config.strategy else {
            return Ok(built);
        };
        let previous = job.previous.clone();
        let summarized = match self.summarize(&job, budget, run, deadline).await {
            Ok(summary) => {
                // The new summary and the newest turns, within target × budget if they can be.
                let mut next = inputs.clone();
                next.summary = SummaryChoice::Given(summary.clone());
                let mut result = Err(too_large(0, 0));
                for limit in [(f64::from(budget) * target) as u32, budget] {
                    next.config.strategy = Strategy::TokenWindow { budget: limit };
                    result = build(store, &session, &next).await;
                    if result.is_ok() {
                        break;
                    }
                }
                match result {
                    Ok(b) => {
                        self.manager.store().put_summary(&summary).await?;
                        (self.on_event)(&AgentEvent::Summarized {
                            run_id: run.id.clone(),
                            summary,
                        });
                        Ok(b)
                    }
                    Err(e) => Err(Error::new(
                        e.code,
                        format!(
                            "the summary leaves no room for the newest turn: {}",
                            e.message
                        ),
                    )),
                }
            }
            Err(e) => Err(e),
        };
        match summarized {
            Ok(b) => Ok(b),
            Err(e) if e.code == ErrorCode::Aborted || self.manager.now() >= deadline => Err(e),
            Err(error) => {
                (self.on_event)(&AgentEvent::SummaryFailed {
                    run_id: run.id.clone(),
                    session_id: session_id.to_owned(),
                    error,
                });
                let mut fallback = inputs.clone();
                fallback.config.strategy = Strategy::TokenWindow { budget };
                // Summaries stored by earlier chunks of this roll-up count too.
                let on_branch = crate::core::tree::History::open(store, &session).await?;
                let latest = summaries::active(on_branch.summaries().await?);
                if let Some(s) = latest.or(previous) {
                    fallback.summary = SummaryChoice::Given(s);
                }
                let b = match build(store, &session, &fallback).await {
                    // A summary that leaves no room for the newest turn is left out too.
                    Err(e) if e.code == ErrorCode::ContextTooLarge => {
                        fallback.summary = SummaryChoice::Stored;
                        build(store, &session, &fallback).await?
                    }
                    other => other?,
                };
                run.estimated_input_tokens = Some(u64::from(b.tokens));
                Ok(b)
            }
        }
    }

    /// Folds `job` into a new summary through the agent's model, a chunk of at most `budget`
    /// tokens at a time (a long backlog rolls up over several calls). Every chunk's summary but
    /// the last is stored at once; the last is returned for the caller to check and store.
    async fn summarize(
        &self,
        job: &SummaryJob,
        budget: u32,
        run: &mut Run,
        deadline: f64,
    ) -> Result<Summary> {
        let mut previous = job.previous.clone();
        let chunks = summaries::chunks(&job.messages, budget);
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.into_iter().enumerate() {
            let summary = self
                .summarize_chunk(previous.as_ref(), chunk, job.max_tokens, run, deadline)
                .await?;
            if i == last {
                return Ok(summary);
            }
            self.manager.store().put_summary(&summary).await?;
            previous = Some(summary);
        }
        Err(Error::internal("nothing to summarise"))
    }

    async fn summarize_chunk(
        &self,
        previous: Option<&Summary>,
        chunk: &[Message],
        max_tokens: u32,
        run: &mut Run,
        deadline: f64,
    ) -> Result<Summary> {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            return Err(Error::internal("an empty chunk to summarise"));
        };
        let words = (max_tokens * 3 / 4).max(40);
        let prompt = Message {
            content: summaries::summary_prompt(previous, chunk, words),
            role: Role::User,
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
            status: MessageStatus::Complete,
            run_id: None,
            metadata: None,
            ..first.clone()
        };
        let request = ChatRequest {
            system: Some(SUMMARY_SYSTEM),
            messages: std::slice::from_ref(&prompt),
            tools: &[],
            stream: false,
        };
        let response = self
            .guarded(
                async {
                    let mut source = self.model.open(&request).await?;
                    let mut response = ChatResponse::default();
                    while let Some(event) = source.next_event().await? {
                        response.apply(&event);
                    }
                    Ok(response)
                },
                deadline,
                true,
            )
            .await?;
        if let Some(u) = &response.usage {
            run.usage.add(u);
        }
        let content = response.content.trim().to_owned();
        if content.is_empty() {
            return Err(Error::new(
                ErrorCode::LlmBadResponse,
                "the model returned an empty summary",
            ));
        }
        Ok(Summary {
            id: crate::core::ids::new_summary_id(self.manager.rng()),
            session_id: last.session_id.clone(),
            tokens: estimate_message_tokens(&format!("{SUMMARY_HEADING}\n{content}"), ""),
            content,
            covers: chunk.iter().map(|m| m.id.clone()).collect(),
            rolls_up: previous.map(|p| p.id.clone()),
            through_seq: last.seq,
            model: Some(
                response
                    .model
                    .unwrap_or_else(|| self.model.model().to_owned()),
            ),
            created_at: self.manager.now(),
        })
    }
}
