//! The shared queue that `fetch_all_with_pool` is handed: the index of the next login nobody has
//! taken yet. It is an `AtomicUsize` with that type's methods (`load`, `store`, `fetch_add`,
//! `compare_exchange`, `compare_exchange_weak`, `swap`), each doing exactly what the
//! `AtomicUsize` method of the same name does. The one difference: the checks can watch it, so
//! that they see which worker takes which login, and can hold a worker back right after it has
//! read the queue, which is when a separate load and store lets two workers take one login.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One use of the queue, as a watcher sees it: what was read, and what was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `load` read this index.
    Load(usize),
    /// `store` wrote this index.
    Store(usize),
    /// `fetch_add` read `previous` and wrote `previous + added`, in one indivisible step.
    FetchAdd { previous: usize, added: usize },
    /// `compare_exchange` (or its `_weak` twin) from `current` to `new`: `Ok` with the index it
    /// replaced, or `Err` with the index it found instead.
    CompareExchange {
        current: usize,
        new: usize,
        result: Result<usize, usize>,
    },
    /// `swap` wrote `new` and read `previous`, in one step.
    Swap { previous: usize, new: usize },
}

type Watcher = Box<dyn Fn(Access) + Send + Sync>;

/// The index of the next login nobody has taken yet, at 0 when the pool starts: an
/// `AtomicUsize` that the checks can watch.
pub struct NextLogin {
    next: AtomicUsize,
    watcher: Option<Watcher>,
}

impl NextLogin {
    /// A queue at 0 that nobody watches.
    pub fn new() -> Self {
        NextLogin {
            next: AtomicUsize::new(0),
            watcher: None,
        }
    }

    /// A queue at 0 that calls `watcher` on the worker's thread after each use (after the read
    /// of a `load`, before the worker can do anything else). For the checks.
    pub fn watched(watcher: impl Fn(Access) + Send + Sync + 'static) -> Self {
        NextLogin {
            next: AtomicUsize::new(0),
            watcher: Some(Box::new(watcher)),
        }
    }

    fn seen(&self, access: Access) {
        if let Some(watcher) = &self.watcher {
            watcher(access);
        }
    }

    /// `AtomicUsize::load`: reads the index.
    pub fn load(&self, order: Ordering) -> usize {
        let index = self.next.load(order);
        self.seen(Access::Load(index));
        index
    }

    /// `AtomicUsize::store`: writes the index.
    pub fn store(&self, index: usize, order: Ordering) {
        self.next.store(index, order);
        self.seen(Access::Store(index));
    }

    /// `AtomicUsize::fetch_add`: adds `added` and returns the index before, in one step.
    pub fn fetch_add(&self, added: usize, order: Ordering) -> usize {
        let previous = self.next.fetch_add(added, order);
        self.seen(Access::FetchAdd { previous, added });
        previous
    }

    /// `AtomicUsize::compare_exchange`: writes `new` if the index is `current`, in one step.
    pub fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        let result = self.next.compare_exchange(current, new, success, failure);
        self.seen(Access::CompareExchange { current, new, result });
        result
    }

    /// `AtomicUsize::compare_exchange_weak`: the same, but it may fail spuriously (in a loop).
    pub fn compare_exchange_weak(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        let result = self.next.compare_exchange_weak(current, new, success, failure);
        self.seen(Access::CompareExchange { current, new, result });
        result
    }

    /// `AtomicUsize::swap`: writes `new` and returns the index before, in one step.
    pub fn swap(&self, new: usize, order: Ordering) -> usize {
        let previous = self.next.swap(new, order);
        self.seen(Access::Swap { previous, new });
        previous
    }
}

impl Default for NextLogin {
    fn default() -> Self {
        NextLogin::new()
    }
}

impl fmt::Debug for NextLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextLogin")
            .field("next", &self.next)
            .field("watched", &self.watcher.is_some())
            .finish()
    }
}
