//! The access log's waiting room, bounded in bytes and fair between environments: when it is
//! full, the environment holding the most bytes loses its newest entry, so one flooding app
//! drops its own entries and never another's; entries leave one environment at a time in turn,
//! so a flood cannot make a quiet app's entries wait behind all of its own.

use super::AccessEntry;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::Notify;

/// Bytes an entry is counted for besides its text (its struct, its place in the queue).
const ENTRY_OVERHEAD: usize = 128;

/// What one entry costs the queue.
pub(super) fn entry_bytes(entry: &AccessEntry) -> usize {
    ENTRY_OVERHEAD
        + entry.environment.len()
        + entry.method.len()
        + entry.path.len()
        + entry.host.len()
        + entry.client_ip.as_ref().map_or(0, String::len)
        + entry.user_agent.as_ref().map_or(0, String::len)
}

/// One environment's waiting entries.
#[derive(Default)]
struct Waiting {
    entries: VecDeque<(AccessEntry, usize)>,
    bytes: usize,
}

#[derive(Default)]
struct State {
    by_environment: HashMap<String, Waiting>,
    // Environments with entries waiting, in the order they are served.
    turn: VecDeque<String>,
    bytes: usize,
    closed: bool,
}

/// The queue between the edge (which never waits on it) and the one task that stores entries.
pub(super) struct FairQueue {
    state: Mutex<State>,
    ready: Notify,
    capacity: usize,
}

impl FairQueue {
    /// A queue holding at most `capacity` bytes of entries.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            capacity,
        }
    }

    /// Queues `entry`, first dropping the newest entries of whichever environment holds the
    /// most bytes until it fits; returns the environments of the entries dropped (the new one's
    /// own when its environment is the heaviest, or the queue is closed).
    pub(super) fn push(&self, entry: AccessEntry) -> Vec<String> {
        let size = entry_bytes(&entry);
        let Ok(mut state) = self.state.lock() else {
            return vec![entry.environment];
        };
        if state.closed || size > self.capacity {
            return vec![entry.environment];
        }
        let mut dropped = Vec::new();
        while state.bytes + size > self.capacity {
            let own = state.by_environment.get(&entry.environment).map_or(0, |w| w.bytes) + size;
            let heaviest = state
                .by_environment
                .iter()
                .filter(|(env, _)| **env != entry.environment)
                .max_by_key(|(_, w)| w.bytes)
                .map(|(env, w)| (env.clone(), w.bytes));
            match heaviest {
                Some((env, bytes)) if bytes >= own => {
                    let freed = state
                        .by_environment
                        .get_mut(&env)
                        .and_then(|w| w.entries.pop_back().map(|(_, n)| (w, n)))
                        .map(|(w, n)| {
                            w.bytes -= n;
                            n
                        });
                    let Some(freed) = freed else {
                        dropped.push(entry.environment);
                        return dropped;
                    };
                    state.bytes -= freed;
                    dropped.push(env);
                }
                _ => {
                    dropped.push(entry.environment);
                    return dropped;
                }
            }
        }
        state.bytes += size;
        let env = entry.environment.clone();
        // An environment is in `turn` exactly while it has a slot in the map (emptied by
        // eviction or not): a new slot is a new turn.
        let first = !state.by_environment.contains_key(&env);
        let waiting = state.by_environment.entry(env.clone()).or_default();
        waiting.entries.push_back((entry, size));
        waiting.bytes += size;
        if first {
            state.turn.push_back(env);
        }
        drop(state);
        self.ready.notify_one();
        dropped
    }

    /// The next entry, taking environments in turn; None once the queue is closed and empty.
    pub(super) async fn pop(&self) -> Option<AccessEntry> {
        loop {
            // Made before looking, so a push between the look and the wait is not missed.
            let notified = self.ready.notified();
            if let Some(next) = self.try_pop() {
                return next;
            }
            notified.await;
        }
    }

    /// Some(entry), Some(None) when closed and empty, None when empty for now.
    pub(super) fn try_pop(&self) -> Option<Option<AccessEntry>> {
        let Ok(mut state) = self.state.lock() else {
            return Some(None);
        };
        let State {
            by_environment,
            turn,
            bytes,
            closed,
        } = &mut *state;
        while let Some(env) = turn.pop_front() {
            let Some(waiting) = by_environment.get_mut(&env) else {
                continue;
            };
            let Some((entry, size)) = waiting.entries.pop_front() else {
                by_environment.remove(&env);
                continue;
            };
            waiting.bytes -= size;
            *bytes -= size;
            if waiting.entries.is_empty() {
                by_environment.remove(&env);
            } else {
                turn.push_back(env);
            }
            return Some(Some(entry));
        }
        closed.then_some(None)
    }

    /// No more entries come: `pop` returns what is left, then None.
    pub(super) fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.closed = true;
        }
        self.ready.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(env: &str, path: &str) -> AccessEntry {
        AccessEntry {
            environment: env.to_owned(),
            at: chrono::Utc::now(),
            method: "GET".into(),
            path: path.to_owned(),
            status: 404,
            duration_ms: 0,
            bytes: 0,
            client_ip: None,
            user_agent: None,
            host: "h".into(),
        }
    }

    #[tokio::test]
    async fn a_flooding_environment_drops_its_own_entries_and_never_anothers() {
        let one = entry_bytes(&entry("flood", "/0000"));
        let queue = FairQueue::new(10 * one);
        let mut dropped_flood = 0;
        queue.push(entry("quiet", "/0001"));
        for i in 0..100 {
            let dropped = queue.push(entry("flood", &format!("/{i:04}")));
            assert!(dropped.iter().all(|e| e == "flood"), "{dropped:?}");
            dropped_flood += dropped.len();
        }
        // The quiet app's second entry comes when the queue is full: the flood makes room.
        assert_eq!(queue.push(entry("quiet", "/0002")), vec!["flood".to_owned()]);
        assert_eq!(dropped_flood, 91, "9 of the flood's fit beside the quiet entry");
        // Served in turn: the quiet app's entries do not wait behind the flood's.
        let order: Vec<String> = std::iter::from_fn(|| queue.try_pop().flatten())
            .map(|e| format!("{}{}", e.environment, e.path))
            .collect();
        assert_eq!(order[..4], ["quiet/0001", "flood/0000", "quiet/0002", "flood/0001"]);
        assert_eq!(order.len(), 10);
    }

    #[tokio::test]
    async fn an_environment_emptied_by_eviction_keeps_one_turn() {
        let queue = FairQueue::new(entry_bytes(&entry("a", "/0000")));
        assert!(queue.push(entry("a", "/0000")).is_empty());
        // Room for one: `c` evicts `a`'s only entry, then `a` comes back and evicts `c`'s.
        assert_eq!(queue.push(entry("c", "/0000")), vec!["a".to_owned()]);
        assert_eq!(queue.push(entry("a", "/0001")), vec!["c".to_owned()]);
        let (turns, slots) = queue
            .state
            .lock()
            .map(|s| (s.turn.len(), s.by_environment.len()))
            .unwrap_or_default();
        assert_eq!(turns, slots, "one turn per environment");
        assert_eq!(queue.try_pop().flatten().map(|e| e.path), Some("/0001".to_owned()));
        assert!(queue.try_pop().flatten().is_none());
    }

    #[tokio::test]
    async fn a_closed_queue_hands_out_what_it_holds_then_ends() {
        let queue = FairQueue::new(1 << 20);
        assert!(queue.push(entry("a", "/x")).is_empty());
        queue.close();
        assert_eq!(queue.push(entry("a", "/y")), vec!["a".to_owned()]);
        assert_eq!(queue.pop().await.map(|e| e.path), Some("/x".to_owned()));
        assert!(queue.pop().await.is_none());
    }
}
