//! The event bus: a tokio broadcast channel inside this process. Every subscriber
//! sees every event and keeps what concerns it.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::Event;

/// Events buffered per subscriber before a slow one starts missing some (a
/// resumable stream then replays what it missed from the database).
const CAPACITY: usize = 4_096;

/// Publishes domain events to every subscriber.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl EventBus {
    /// Sends `event` to every current subscriber; nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(Arc::new(event));
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
