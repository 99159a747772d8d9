//! The event bus. In one process it is a tokio broadcast channel. With Redis, every
//! instance publishes to one Redis channel and feeds what it hears back into its
//! local channel, so a subscriber on any instance sees events from all of them.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use prometheus_client::metrics::counter::Counter;
use redis::AsyncCommands;
use tokio::sync::{broadcast, mpsc};

use super::Event;

/// Events buffered per subscriber before a slow one starts missing some (a
/// resumable stream then replays what it missed from the database).
const CAPACITY: usize = 4_096;
/// Pause before reconnecting to Redis after a failure.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Publishes domain events to every subscriber.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Arc<Event>>,
    /// The Redis side, when Redis is used.
    remote: Option<Remote>,
    counters: BusCounters,
}

/// Events published and received, for `/metrics`.
#[derive(Clone, Default)]
pub struct BusCounters {
    pub published: Counter,
    pub received: Counter,
}

/// The bus's link to Redis.
#[derive(Clone)]
struct Remote {
    /// Serialized events waiting to be published.
    outbox: mpsc::UnboundedSender<String>,
    /// Whether the subscription to the channel is up.
    connected: Arc<AtomicBool>,
}

impl EventBus {
    /// A bus within this process.
    pub fn local(counters: BusCounters) -> Self {
        Self {
            local: broadcast::channel(CAPACITY).0,
            remote: None,
            counters,
        }
    }

    /// A bus shared by every instance through Redis pub/sub on `channel`. Returns
    /// once subscribed, so no event published after this call is missed.
    pub async fn redis(
        url: &str,
        channel: &str,
        counters: BusCounters,
    ) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let mut subscriber = client.get_async_pubsub().await?;
        subscriber.subscribe(channel).await?;
        let publisher = client.get_multiplexed_async_connection().await?;

        let local = broadcast::channel(CAPACITY).0;
        let (outbox, queued) = mpsc::unbounded_channel();
        tokio::spawn(forward_to_redis(
            client.clone(),
            publisher,
            channel.to_owned(),
            queued,
        ));
        let connected = Arc::new(AtomicBool::new(true));
        tokio::spawn(listen_to_redis(
            client,
            subscriber,
            channel.to_owned(),
            local.clone(),
            connected.clone(),
            counters.received.clone(),
        ));
        Ok(Self {
            local,
            remote: Some(Remote { outbox, connected }),
            counters,
        })
    }

    /// Sends `event` to every subscriber (on every instance); nobody listening is fine.
    pub fn publish(&self, event: Event) {
        self.counters.published.inc();
        match &self.remote {
            Some(remote) => match serde_json::to_string(&event) {
                Ok(payload) => {
                    let _ = remote.outbox.send(payload);
                }
                Err(err) => tracing::error!(%err, "cannot serialize event"),
            },
            None => {
                self.counters.received.inc();
                let _ = self.local.send(Arc::new(event));
            }
        }
    }

    /// Whether events reach the other instances: always without Redis; with Redis,
    /// while its subscription is up.
    pub fn is_connected(&self) -> bool {
        self.remote
            .as_ref()
            .is_none_or(|remote| remote.connected.load(Ordering::Relaxed))
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }
}

/// Publishes queued events in order, reconnecting when Redis goes away.
async fn forward_to_redis(
    client: redis::Client,
    mut connection: redis::aio::MultiplexedConnection,
    channel: String,
    mut queued: mpsc::UnboundedReceiver<String>,
) {
    while let Some(payload) = queued.recv().await {
        loop {
            match connection.publish::<_, _, ()>(&channel, &payload).await {
                Ok(()) => break,
                Err(err) => {
                    tracing::warn!(%err, "redis publish failed; reconnecting");
                    tokio::time::sleep(RECONNECT_DELAY).await;
                    if let Ok(fresh) = client.get_multiplexed_async_connection().await {
                        connection = fresh;
                    }
                }
            }
        }
    }
}

/// Feeds events heard on Redis into the local channel, resubscribing after failures.
async fn listen_to_redis(
    client: redis::Client,
    mut subscriber: redis::aio::PubSub,
    channel: String,
    local: broadcast::Sender<Arc<Event>>,
    connected: Arc<AtomicBool>,
    received: Counter,
) {
    loop {
        let mut messages = subscriber.into_on_message();
        while let Some(message) = messages.next().await {
            match serde_json::from_slice::<Event>(message.get_payload_bytes()) {
                Ok(event) => {
                    received.inc();
                    let _ = local.send(Arc::new(event));
                }
                Err(err) => tracing::warn!(%err, "ignoring an unreadable event from redis"),
            }
        }
        tracing::warn!("redis subscription lost; resubscribing");
        connected.store(false, Ordering::Relaxed);
        subscriber = loop {
            tokio::time::sleep(RECONNECT_DELAY).await;
            let Ok(mut fresh) = client.get_async_pubsub().await else {
                continue;
            };
            if fresh.subscribe(&channel).await.is_ok() {
                break fresh;
            }
        };
        connected.store(true, Ordering::Relaxed);
        tracing::info!("redis subscription restored; streams replay what they missed");
        let _ = local.send(Arc::new(Event::Resync));
    }
}
