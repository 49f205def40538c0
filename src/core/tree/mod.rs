//! A session's messages as a tree of alternatives: each message has a parent (the previous
//! message on its branch, see [`Parent`]); siblings are alternatives (an edited question, a
//! regenerated answer). A session whose history has branches names its active leaf
//! (`Session::head_seq`); its history is the path from the root to that leaf.
//!
//! A parent always has a lower `seq` than its children (it was written first), so every path is
//! in `seq` order and a query by `seq` range means the same on a path as on the whole session.
//! A session without branches has no `head_seq` and reads its history exactly as before the tree
//! existed: every message, in `seq` order, through the store's own range queries.

use crate::core::error::{Error, Result};
use crate::core::model::{Message, Parent, Session, Summary};
use crate::core::store::{MessageQuery, Store};

/// The parent links of a session's messages (all of them, in ascending `seq`).
pub struct Tree<'a> {
    pub messages: &'a [Message],
    parents: Vec<Option<usize>>,
}

impl<'a> Tree<'a> {
    pub fn new(messages: &'a [Message]) -> Tree<'a> {
        let parents = messages
            .iter()
            .enumerate()
            .map(|(i, m)| match m.parent {
                Parent::Previous => i.checked_sub(1),
                Parent::Root => None,
                // A parent that is gone (or not earlier: a damaged record) makes a root: no cycle
                // can form, and nothing becomes unreachable.
                Parent::Seq(seq) => messages[..i].binary_search_by_key(&seq, |m| m.seq).ok(),
            })
            .collect();
        Tree { messages, parents }
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parents[i]
    }

    pub fn by_seq(&self, seq: u64) -> Option<usize> {
        self.messages.binary_search_by_key(&seq, |m| m.seq).ok()
    }

    pub fn by_id(&self, id: &str) -> Option<usize> {
        self.messages.iter().position(|m| m.id == id)
    }

    /// The message with this id, or `MESSAGE_NOT_FOUND`.
    pub fn find(&self, session_id: &str, id: &str) -> Result<usize> {
        self.by_id(id)
            .ok_or_else(|| Error::message_not_found(session_id, id))
    }

    /// The active leaf: `head_seq`'s message, or the newest without branches (`None`: empty).
    pub fn head(&self, session: &Session) -> Option<usize> {
        match session.head_seq {
            Some(seq) => self.by_seq(seq).or(self.len().checked_sub(1)),
            None => self.len().checked_sub(1),
        }
    }

    /// The path from the root to `i`, root first.
    pub fn path_to(&self, i: usize) -> Vec<usize> {
        let mut path = vec![i];
        let mut at = i;
        while let Some(p) = self.parents[at] {
            path.push(p);
            at = p;
        }
        path.reverse();
        path
    }

    /// The active history's indices, oldest first.
    pub fn active_path(&self, session: &Session) -> Vec<usize> {
        match session.head_seq {
            None => (0..self.len()).collect(),
            Some(_) => self
                .head(session)
                .map_or_else(Vec::new, |h| self.path_to(h)),
        }
    }

    /// The alternatives at `i`'s place (`i` among them), oldest first.
    pub fn siblings(&self, i: usize) -> Vec<usize> {
        let parent = self.parents[i];
        (0..self.len())
            .filter(|&j| self.parents[j] == parent)
            .collect()
    }

    /// Whether each message descends from `i` (`i` itself included). Parents come first, so one
    /// forward pass decides it.
    pub fn subtree(&self, i: usize) -> Vec<bool> {
        let mut inside = vec![false; self.len()];
        inside[i] = true;
        for j in i + 1..self.len() {
            inside[j] = self.parents[j].is_some_and(|p| inside[p]);
        }
        inside
    }

    /// The newest message under `i` (or `i`): a leaf, since its children would be newer still.
    pub fn newest_leaf(&self, i: usize) -> usize {
        self.subtree(i).iter().rposition(|&x| x).unwrap_or(i)
    }

    /// The branch through `i`: its ancestors, `i`, and the path down to its newest leaf.
    pub fn branch_through(&self, i: usize) -> Vec<usize> {
        self.path_to(self.newest_leaf(i))
    }

    /// Each message's place on its path (a root is 1): the history's length with it as the leaf.
    pub fn depths(&self) -> Vec<u64> {
        let mut depths: Vec<u64> = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let d = self.parents[i].map_or(1, |p| depths[p] + 1);
            depths.push(d);
        }
        depths
    }

    pub fn collect(&self, path: &[usize]) -> Vec<Message> {
        path.iter().map(|&i| self.messages[i].clone()).collect()
    }
}

/// The messages of `query`, applied to a path in `seq` order (oldest first).
pub fn apply_query(path: Vec<Message>, query: MessageQuery) -> Vec<Message> {
    let mut out: Vec<Message> = path.into_iter().filter(|m| query.contains(m.seq)).collect();
    if let Some(limit) = query.limit {
        let cut = out.len().saturating_sub(limit);
        out.drain(..cut);
    }
    out
}

/// Whether a summary is valid on a path: the newest message it covers is on it (and with it
/// every older one it covers, which are that message's ancestors).
pub fn summaries_on(summaries: Vec<Summary>, path: &[Message]) -> Vec<Summary> {
    summaries
        .into_iter()
        .filter(|s| path.binary_search_by_key(&s.through_seq, |m| m.seq).is_ok())
        .collect()
}

/// A session's active history as the context builder reads it: the store's own queries for a
/// session without branches; for one with branches, its active path, read once.
pub struct History<'a> {
    store: &'a dyn Store,
    session_id: &'a str,
    path: Option<Vec<Message>>,
}

impl<'a> History<'a> {
    pub async fn open(store: &'a dyn Store, session: &'a Session) -> Result<History<'a>> {
        let path = match session.is_tree() {
            false => None,
            true => Some(active_messages(store, session).await?),
        };
        Ok(History {
            store,
            session_id: &session.id,
            path,
        })
    }

    pub async fn messages(&self, query: MessageQuery) -> Result<Vec<Message>> {
        match &self.path {
            None => self.store.get_messages(self.session_id, query).await,
            Some(path) => Ok(apply_query(path.clone(), query)),
        }
    }

    /// The stored summaries that hold on this history.
    pub async fn summaries(&self) -> Result<Vec<Summary>> {
        let all = self.store.get_summaries(self.session_id).await?;
        Ok(match &self.path {
            None => all,
            Some(path) => summaries_on(all, path),
        })
    }
}

/// Every stored message of a session (the whole tree), oldest first, checked to be its own.
pub async fn all_messages(store: &dyn Store, session_id: &str) -> Result<Vec<Message>> {
    let messages = store.get_messages(session_id, MessageQuery::all()).await?;
    if let Some(bad) = messages.iter().find(|m| m.session_id != session_id) {
        return Err(Error::corrupt(
            Some(session_id),
            format!("message {} belongs to another session", bad.id),
        ));
    }
    Ok(messages)
}

/// The active history of a session, oldest first.
pub async fn active_messages(store: &dyn Store, session: &Session) -> Result<Vec<Message>> {
    let all = all_messages(store, &session.id).await?;
    if !session.is_tree() {
        return Ok(all);
    }
    let tree = Tree::new(&all);
    Ok(tree.collect(&tree.active_path(session)))
}

#[cfg(test)]
mod tests;
