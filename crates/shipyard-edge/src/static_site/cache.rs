//! Small files of a site held in memory with their headers, so a hot page costs no open, stat
//! or read. A release's files never change once it is built, so an entry stays right for as
//! long as its site is routed; a new release is a new `Site` with an empty cache. Only files
//! found at the very path asked for are kept (never an SPA or 404 fallback), so made-up paths
//! cannot fill it, and all sites of the process together hold at most `BUDGET` bytes. That
//! budget is shared fairly, not first come, first served: a site under its share
//! (`BUDGET / sites`) that finds it full takes room from the site holding the most.

use super::answer::Meta;
use super::headers::Encoding;
use super::path::SitePath;
use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock, Weak};

/// Files up to this size are kept.
pub(super) const MOST_PER_FILE: u64 = 64 * 1024;
/// Bytes all caches of the process may hold together.
const BUDGET: usize = 64 * 1024 * 1024;
/// What an entry costs beyond its bytes and its path (map slot, headers, allocations).
const OVERHEAD: usize = 512;
/// The process's pool, which every site's cache draws on.
static POOL: LazyLock<Arc<Pool>> = LazyLock::new(|| Pool::new(BUDGET));

/// The budget that sites' caches share, and who shares it.
#[derive(Debug)]
pub(super) struct Pool {
    budget: usize,
    held: AtomicUsize,
    sites: Mutex<Vec<Weak<Cache>>>,
}

impl Pool {
    /// A pool of `budget` bytes.
    pub(super) fn new(budget: usize) -> Arc<Self> {
        Arc::new(Self {
            budget,
            held: AtomicUsize::new(0),
            sites: Mutex::new(Vec::new()),
        })
    }

    /// A new site's cache drawing on this pool.
    pub(super) fn cache(self: &Arc<Self>) -> Arc<Cache> {
        let cache = Arc::new(Cache {
            pool: self.clone(),
            entries: RwLock::default(),
            held: AtomicUsize::new(0),
        });
        let mut sites = self.sites.lock().unwrap_or_else(PoisonError::into_inner);
        sites.retain(|s| s.strong_count() > 0);
        sites.push(Arc::downgrade(&cache));
        cache
    }

    /// Frees room for `size` bytes of `asking` (under its fair share) from the site holding the
    /// most, when that one holds more than its share; whether any was freed.
    fn make_room(&self, asking: &Cache, size: usize) -> bool {
        let sites: Vec<Arc<Cache>> = {
            let mut sites = self.sites.lock().unwrap_or_else(PoisonError::into_inner);
            sites.retain(|s| s.strong_count() > 0);
            sites.iter().filter_map(Weak::upgrade).collect()
        };
        let share = self.budget / sites.len().max(1);
        if asking.held.load(Ordering::Acquire) + size > share {
            return false;
        }
        let heaviest = sites
            .iter()
            .filter(|s| !std::ptr::eq(s.as_ref(), asking))
            .max_by_key(|s| s.held.load(Ordering::Acquire));
        match heaviest {
            Some(site) if site.held.load(Ordering::Acquire) > share => site.give_back(size) > 0,
            _ => false,
        }
    }
}

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
#[derive(Debug)]
pub(super) struct Cache {
    pool: Arc<Pool>,
    entries: RwLock<HashMap<Key, Arc<Entry>>>,
    held: AtomicUsize,
}

/// What `entry` kept under `key` costs.
fn cost(key: &Key, entry: &Entry) -> usize {
    entry.bytes.len() + key.wanted.rel.as_os_str().len() + OVERHEAD
}

impl Cache {
    /// A new site's cache, drawing on the process's pool.
    pub fn new() -> Arc<Self> {
        POOL.cache()
    }

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

    /// Keeps `entry` for `key` when the budget has room (made, if this site is under its fair
    /// share, by taking from the site holding the most); the entry either way.
    pub fn put(&self, key: Key, entry: Entry) -> Arc<Entry> {
        let size = cost(&key, &entry);
        let entry = Arc::new(entry);
        let pool = &self.pool;
        let kept = reserve(&pool.held, size, pool.budget)
            || (pool.make_room(self, size) && reserve(&pool.held, size, pool.budget));
        if !kept {
            return entry;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match entries.entry(key) {
            // Another request kept it first.
            std::collections::hash_map::Entry::Occupied(_) => {
                pool.held.fetch_sub(size, Ordering::AcqRel);
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                self.held.fetch_add(size, Ordering::AcqRel);
                slot.insert(entry.clone());
            }
        }
        entry
    }

    /// Drops entries (any: they are all equally cheap to read again) until `wanted` bytes are
    /// freed or none is left; the bytes freed.
    fn give_back(&self, wanted: usize) -> usize {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let mut freed = 0;
        entries.retain(|key, entry| {
            if freed >= wanted {
                return true;
            }
            freed += cost(key, entry);
            false
        });
        self.held.fetch_sub(freed, Ordering::AcqRel);
        self.pool.held.fetch_sub(freed, Ordering::AcqRel);
        freed
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
    /// Gives the site's bytes back to the pool.
    fn drop(&mut self) {
        self.pool.held.fetch_sub(*self.held.get_mut(), Ordering::AcqRel);
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
        let cache = Cache::new();
        let before = POOL.held.load(Ordering::Acquire);
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
        assert!(POOL.held.load(Ordering::Acquire) >= before + 3);
        assert_eq!(cache.held.load(Ordering::Acquire), 3 + "a".len() + OVERHEAD);
    }

    fn file(n: usize) -> (Key, Entry) {
        let key = Key::new(path::parse(&format!("/f{n:04}")).expect("path"), &[]);
        let entry = Entry {
            meta: Meta::for_tests(1000),
            bytes: Bytes::from(vec![b'x'; 1000]),
        };
        (key, entry)
    }

    #[test]
    fn a_site_that_came_first_cannot_keep_a_later_one_out() {
        let one = cost(&file(0).0, &file(0).1);
        let pool = Pool::new(20 * one);
        let (greedy, late) = (pool.cache(), pool.cache());
        for n in 0..40 {
            let (key, entry) = file(n);
            greedy.put(key, entry);
        }
        assert_eq!(
            greedy.held.load(Ordering::Acquire),
            20 * one,
            "while there is room, one site may fill the pool"
        );
        for n in 0..40 {
            let (key, entry) = file(n);
            late.put(key, entry);
        }
        // The late site gets its half; the greedy one keeps the other half.
        assert_eq!(late.held.load(Ordering::Acquire), 10 * one);
        assert_eq!(greedy.held.load(Ordering::Acquire), 10 * one);
        assert_eq!(pool.held.load(Ordering::Acquire), 20 * one, "never past the budget");
        drop(greedy);
        assert_eq!(
            pool.held.load(Ordering::Acquire),
            10 * one,
            "a dropped site gives its bytes back"
        );
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
