//! Totals of the public post list, remembered briefly. Counting every published
//! post on each list request reads the whole listing index; the total changes only
//! when a post is published, edited or deleted, so this process forgets every total
//! at each such write, and other instances' writes show within the time to live.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

/// Remembered list totals, keyed by the list's filter.
pub struct ListTotals {
    ttl: Duration,
    totals: Mutex<HashMap<String, (u64, Instant)>>,
}

impl ListTotals {
    /// Totals kept for `ttl` (zero keeps none).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            totals: Mutex::default(),
        }
    }

    /// The remembered total for `key`, if still fresh.
    pub fn get(&self, key: &str) -> Option<u64> {
        let totals = self.totals.lock().unwrap_or_else(PoisonError::into_inner);
        totals
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(total, _)| *total)
    }

    /// Remembers `total` for `key`.
    pub fn put(&self, key: String, total: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut totals = self.totals.lock().unwrap_or_else(PoisonError::into_inner);
        totals.retain(|_, (_, at)| at.elapsed() < self.ttl);
        totals.insert(key, (total, Instant::now()));
    }

    /// Forgets every total (after a write that may change them).
    pub fn forget(&self) {
        self.totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
