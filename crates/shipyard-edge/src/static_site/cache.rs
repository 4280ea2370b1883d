//! Small files of a site held in memory with their headers, so a hot page costs no open, stat
//! or read. A release's files never change once it is built, so an entry stays right for as
//! long as its site is routed; a new release is a new `Site` with an empty cache. Only files
//! found at the very path asked for are kept (never an SPA or 404 fallback), so made-up paths
//! cannot fill it, and all sites of the process together hold at most `BUDGET` bytes.

use super::answer::Meta;
use super::headers::Encoding;
use super::path::SitePath;
use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

/// Files up to this size are kept.
pub(super) const MOST_PER_FILE: u64 = 64 * 1024;
/// Bytes all caches of the process may hold together.
const BUDGET: usize = 64 * 1024 * 1024;
/// What an entry costs beyond its bytes and its path (map slot, headers, allocations).
const OVERHEAD: usize = 512;
/// Bytes every cache holds now.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// What a request's answer depends on: the path as parsed and the encodings it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    /// The path asked for.
    pub wanted: SitePath,
    encodings: u8,
}

impl Key {
    /// The key of `wanted` asked for by a client accepting `encodings`.
    pub fn new(wanted: SitePath, encodings: &[Encoding]) -> Self {
        let encodings = encodings.iter().fold(0, |bits, e| bits | e.bit());
        Self { wanted, encodings }
    }
}

/// A kept answer: its headers and all of its bytes.
#[derive(Debug)]
pub(super) struct Entry {
    /// What the headers say.
    pub meta: Meta,
    /// The whole variant.
    pub bytes: Bytes,
}

/// One site's kept files.
#[derive(Debug, Default)]
pub(super) struct Cache {
    entries: RwLock<HashMap<Key, Arc<Entry>>>,
    held: AtomicUsize,
}

impl Cache {
    /// The kept answer for `key`.
    pub fn get(&self, key: &Key) -> Option<Arc<Entry>> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// How many answers are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Keeps `entry` for `key` when the budget has room; the entry either way.
    pub fn put(&self, key: Key, entry: Entry) -> Arc<Entry> {
        let entry = Arc::new(entry);
        let size = entry.bytes.len() + key.wanted.rel.as_os_str().len() + OVERHEAD;
        if !reserve(&HELD, size, BUDGET) {
            return entry;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match entries.entry(key) {
            // Another request kept it first.
            std::collections::hash_map::Entry::Occupied(_) => {
                HELD.fetch_sub(size, Ordering::AcqRel);
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                self.held.fetch_add(size, Ordering::AcqRel);
                slot.insert(entry.clone());
            }
        }
        entry
    }
}

/// Adds `size` to `held` if the sum stays within `budget`; whether it did.
fn reserve(held: &AtomicUsize, size: usize, budget: usize) -> bool {
    held.fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
        h.checked_add(size).filter(|sum| *sum <= budget)
    })
    .is_ok()
}

impl Drop for Cache {
    /// Gives the site's bytes back to the process-wide budget.
    fn drop(&mut self) {
        HELD.fetch_sub(*self.held.get_mut(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::static_site::path;

    #[test]
    fn keys_tell_paths_and_encodings_apart_and_entries_are_counted() {
        let page = path::parse("/a/").expect("path");
        let file = path::parse("/a").expect("path");
        let key = |p: &SitePath, e: &[Encoding]| Key::new(p.clone(), e);
        assert_ne!(key(&page, &[]), key(&file, &[]));
        assert_ne!(key(&file, &[]), key(&file, &[Encoding::Gzip]));
        assert_ne!(key(&file, &[Encoding::Brotli]), key(&file, &[Encoding::Gzip]));
        let cache = Cache::default();
        let before = HELD.load(Ordering::Acquire);
        let kept = cache.put(
            key(&file, &[]),
            Entry {
                meta: Meta::for_tests(3),
                bytes: Bytes::from_static(b"abc"),
            },
        );
        assert_eq!(kept.bytes, "abc");
        assert!(cache.get(&key(&file, &[])).is_some());
        assert!(cache.get(&key(&page, &[])).is_none());
        assert!(HELD.load(Ordering::Acquire) >= before + 3);
        assert_eq!(cache.held.load(Ordering::Acquire), 3 + "a".len() + OVERHEAD);
    }

    #[test]
    fn the_budget_is_never_passed() {
        let held = AtomicUsize::new(0);
        assert!(reserve(&held, 600, 1000));
        assert!(!reserve(&held, 401, 1000), "600 + 401 is over");
        assert!(reserve(&held, 400, 1000), "600 + 400 is exactly the budget");
        assert!(!reserve(&held, 1, 1000));
        assert!(!reserve(&held, usize::MAX, usize::MAX), "no overflow");
        assert_eq!(held.load(Ordering::Acquire), 1000);
    }
}
