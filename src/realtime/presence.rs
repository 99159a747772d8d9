//! Who is online: live WebSocket connections per user on this instance, plus what
//! the other instances announce on the bus. Instances announce each change at once
//! and their whole list every [`SNAPSHOT_EVERY`]; an instance unheard of for three
//! periods is forgotten (it crashed).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio::sync::watch;

use super::{Event, EventBus};

/// How often each instance announces its whole list.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(30);

/// The set of online user ids.
pub type OnlineSet = Arc<BTreeSet<String>>;

/// Presence of this instance and what it hears from the others.
#[derive(Clone)]
pub struct Presence {
    instance_id: String,
    state: Arc<Mutex<PresenceState>>,
    online: watch::Sender<OnlineSet>,
    bus: EventBus,
}

#[derive(Default)]
struct PresenceState {
    /// Live connections per user on this instance.
    local: HashMap<String, usize>,
    /// Users online on other instances, and when each instance was last heard.
    remote: HashMap<String, (BTreeSet<String>, Instant)>,
}

impl PresenceState {
    fn online(&self) -> BTreeSet<String> {
        let remote = self
            .remote
            .values()
            .flat_map(|(users, _)| users.iter().cloned());
        self.local.keys().cloned().chain(remote).collect()
    }
}

/// Keeps its user counted as online while it lives (one per live connection).
pub struct PresenceGuard {
    presence: Presence,
    user_id: String,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.presence.disconnect(&self.user_id);
    }
}

impl Presence {
    /// Presence for the instance `instance_id`, announcing on `bus`.
    pub fn new(instance_id: String, bus: EventBus) -> Self {
        Self {
            instance_id,
            state: Arc::default(),
            online: watch::channel(Arc::default()).0,
            bus,
        }
    }

    /// Counts a live connection of `user_id` until the guard is dropped.
    pub fn connect(&self, user_id: &str) -> PresenceGuard {
        let first = self.update(|state| {
            let count = state.local.entry(user_id.to_owned()).or_default();
            *count += 1;
            *count == 1
        });
        if first {
            self.announce(user_id, true);
        }
        PresenceGuard {
            presence: self.clone(),
            user_id: user_id.to_owned(),
        }
    }

    fn disconnect(&self, user_id: &str) {
        let last = self.update(|state| match state.local.get_mut(user_id) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                state.local.remove(user_id);
                true
            }
            None => false,
        });
        if last {
            self.announce(user_id, false);
        }
    }

    /// Live connections on this instance.
    pub fn local_connections(&self) -> usize {
        self.lock().local.values().sum()
    }

    /// Online user ids now, and every change after.
    pub fn watch(&self) -> watch::Receiver<OnlineSet> {
        self.online.subscribe()
    }

    /// Applies another instance's announcement.
    pub fn apply(&self, event: &Event) {
        match event {
            Event::Presence {
                instance_id,
                user_id,
                online,
            } if *instance_id != self.instance_id => {
                self.update(|state| {
                    let (users, heard) = state
                        .remote
                        .entry(instance_id.clone())
                        .or_insert_with(|| (BTreeSet::new(), Instant::now()));
                    *heard = Instant::now();
                    if *online {
                        users.insert(user_id.clone());
                    } else {
                        users.remove(user_id);
                    }
                });
            }
            Event::PresenceSnapshot {
                instance_id,
                user_ids,
            } if *instance_id != self.instance_id => {
                self.update(|state| {
                    state.remote.insert(
                        instance_id.clone(),
                        (user_ids.iter().cloned().collect(), Instant::now()),
                    );
                });
            }
            _ => {}
        }
    }

    /// Announces this instance's whole list and forgets silent instances.
    pub fn tick(&self) {
        let user_ids = self.update(|state| {
            state
                .remote
                .retain(|_, (_, heard)| heard.elapsed() < SNAPSHOT_EVERY * 3);
            state.local.keys().cloned().collect()
        });
        self.bus.publish(Event::PresenceSnapshot {
            instance_id: self.instance_id.clone(),
            user_ids,
        });
    }

    /// Runs `change` on the state and publishes the online set if it changed.
    fn update<T>(&self, change: impl FnOnce(&mut PresenceState) -> T) -> T {
        let mut state = self.lock();
        let result = change(&mut state);
        let online = state.online();
        drop(state);
        self.online.send_if_modified(|current| {
            let changed = **current != online;
            if changed {
                *current = Arc::new(online);
            }
            changed
        });
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PresenceState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn announce(&self, user_id: &str, online: bool) {
        self.bus.publish(Event::Presence {
            instance_id: self.instance_id.clone(),
            user_id: user_id.to_owned(),
            online,
        });
    }
}

/// Feeds bus events into `presence` and announces its list periodically, until
/// the bus closes.
pub async fn run(presence: Presence, bus: EventBus) {
    let mut events = bus.subscribe();
    let mut snapshot = tokio::time::interval(SNAPSHOT_EVERY);
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => presence.apply(&event),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = snapshot.tick() => presence.tick(),
        }
    }
}
