//! Subscription root: live notifications, comments and reactions, presence and
//! typing. Streams that take `after` first replay what the client missed from the
//! database, exactly once and in order, then continue live.

use std::{collections::BTreeMap, future::Future, time::Duration};

use async_graphql::{Context, ID, ResultExt, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use tokio::{
    sync::{broadcast::error::RecvError, mpsc},
    time::Instant,
};
use tokio_stream::wrappers::{ReceiverStream, WatchStream};

use entity::post;

use super::{comments::Comment, context::ContextExt, notifications::Notification, types::Post};
use crate::{
    auth::Caller,
    domain::posts::{self, PostRef},
    media::uploads::{self, MediaView},
    realtime::{
        Event, EventBus,
        feeds::{self, CommentFeed, NotificationFeed},
    },
    state::AppState,
};

/// Everyone online.
#[derive(SimpleObject, Clone)]
pub struct OnlineUsers {
    pub count: usize,
    pub user_ids: Vec<ID>,
}

/// Someone typing on a post.
#[derive(SimpleObject, Clone, PartialEq, Eq)]
pub struct TypingUser {
    pub user_id: ID,
    pub username: String,
}

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The viewer's new notifications. With `after` (the last id the client saw),
    /// first every notification it missed, in order.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Notification>> {
        let viewer = ctx.caller()?.viewer().extend()?;
        let feed = NotificationFeed {
            user_id: viewer.id.clone(),
        };
        let state = ctx.state()?.clone();
        Ok(
            forward(move |sender| feeds::follow(state, feed, after.map(|id| id.0), sender))
                .map(Notification::new),
        )
    }

    /// New comments and replies on a post. With `after` (the last comment id the
    /// client saw), first every comment it missed, in order.
    async fn comment_added(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Comment>> {
        let state = ctx.state()?.clone();
        let post = posts::visible_post(&state, ctx.caller()?, PostRef::Id(&post_id))
            .await
            .extend()?;
        let feed = CommentFeed { post_id: post.id };
        Ok(
            forward(move |sender| feeds::follow(state, feed, after.map(|id| id.0), sender))
                .map(Comment),
        )
    }

    /// The post, each time reactions on it or on its comments change.
    async fn reactions_changed(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Post>> {
        let state = ctx.state()?.clone();
        let caller = ctx.caller()?.clone();
        let post = posts::visible_post(&state, &caller, PostRef::Id(&post_id))
            .await
            .extend()?;
        let events = state.events.clone();
        Ok(
            forward(move |sender| reaction_feed(state, caller, events, post.id, sender))
                .map(Post::single),
        )
    }

    /// The caller's uploads (or only `id`), each time one's processing ends: READY with
    /// its URL, variants and blurhash, or FAILED with the reason. Subscribe before
    /// completing the upload.
    async fn media_processed(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = MediaView>> {
        let state = ctx.state()?.clone();
        let caller = ctx.caller()?.clone();
        caller.viewer().extend()?;
        let events = state.events.clone();
        Ok(forward(move |sender| {
            media_feed(state, caller, events, id.map(|id| id.0), sender)
        }))
    }

    /// Everyone online (connected over WebSocket), now and after every change.
    async fn online_users(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = OnlineUsers>> {
        let watch = ctx.state()?.presence.watch();
        Ok(WatchStream::new(watch).map(|online| OnlineUsers {
            count: online.len(),
            user_ids: online.iter().map(|id| ID(id.clone())).collect(),
        }))
    }

    /// Whether one user is online, now and after every change.
    async fn user_online(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = bool>> {
        let watch = ctx.state()?.presence.watch();
        let user_id = user_id.0;
        Ok(WatchStream::new(watch)
            .map(move |online| online.contains(&user_id))
            .scan(None, |last, online| {
                let changed = *last != Some(online);
                *last = Some(online);
                std::future::ready(Some(changed.then_some(online)))
            })
            .filter_map(std::future::ready))
    }

    /// Who is typing on a post the caller may see; an indicator lapses (after `TYPING_TTL_SECS`) unless renewed.
    async fn typing(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Vec<TypingUser>>> {
        let state = ctx.state()?;
        let post = posts::visible_post(state, ctx.caller()?, PostRef::Id(&post_id))
            .await
            .extend()?;
        let events = state.events.clone();
        let ttl = Duration::from_secs(state.config.realtime.typing_ttl_secs);
        Ok(forward(move |sender| {
            typing_feed(events, post.id, ttl, sender)
        }))
    }
}

/// Runs `produce` in its own task, feeding a stream; the task ends when the
/// subscriber goes away (the stream is dropped).
fn forward<T, F, Fut>(produce: F) -> impl Stream<Item = T>
where
    T: Send + 'static,
    F: FnOnce(mpsc::Sender<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(64);
    let closed = sender.clone();
    let task = produce(sender);
    tokio::spawn(async move {
        tokio::select! {
            () = task => {}
            () = closed.closed() => {}
        }
    });
    ReceiverStream::new(receiver)
}

/// Sends the caller's upload (`only` one, or any), freshly read, each time its
/// processing ends.
async fn media_feed(
    state: AppState,
    caller: Caller,
    events: EventBus,
    only: Option<String>,
    sender: mpsc::Sender<MediaView>,
) {
    let Ok(viewer) = caller.viewer() else {
        return;
    };
    let user_id = viewer.id.clone();
    let mut receiver = events.subscribe();
    loop {
        match receiver.recv().await {
            Ok(event) => {
                let Event::MediaProcessed {
                    user_id: owner,
                    media_id,
                } = &*event
                else {
                    continue;
                };
                if *owner != user_id || only.as_ref().is_some_and(|only| only != media_id) {
                    continue;
                }
                let Ok(media) = uploads::get(&state, &caller, media_id).await else {
                    continue;
                };
                if sender.send(media).await.is_err() {
                    return;
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// Sends the post, freshly read, after each reaction change on it.
async fn reaction_feed(
    state: AppState,
    caller: Caller,
    events: EventBus,
    post_id: String,
    sender: mpsc::Sender<post::Model>,
) {
    let mut receiver = events.subscribe();
    loop {
        match receiver.recv().await {
            Ok(event) => {
                if !matches!(&*event, Event::ReactionsChanged { post_id: changed } if *changed == post_id)
                {
                    continue;
                }
                let Ok(post) = posts::visible_post(&state, &caller, PostRef::Id(&post_id)).await
                else {
                    return;
                };
                if sender.send(post).await.is_err() {
                    return;
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

async fn typing_feed(
    events: EventBus,
    post_id: String,
    ttl: Duration,
    sender: mpsc::Sender<Vec<TypingUser>>,
) {
    let mut receiver = events.subscribe();
    let mut typing: BTreeMap<String, (String, Instant)> = BTreeMap::new();
    let mut sweep = tokio::time::interval(Duration::from_millis(250));
    loop {
        let before: Vec<String> = typing.keys().cloned().collect();
        tokio::select! {
            received = receiver.recv() => match received {
                Ok(event) => match &*event {
                    Event::Typing { post_id: on, user_id, username, typing: true } if *on == post_id => {
                        typing.insert(user_id.clone(), (username.clone(), Instant::now() + ttl));
                    }
                    Event::Typing { post_id: on, user_id, typing: false, .. } if *on == post_id => {
                        typing.remove(user_id);
                    }
                    _ => {}
                },
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            _ = sweep.tick() => typing.retain(|_, (_, until)| *until > Instant::now()),
        }
        if typing.keys().cloned().collect::<Vec<_>>() != before {
            let users = typing
                .iter()
                .map(|(user_id, (username, _))| TypingUser {
                    user_id: ID(user_id.clone()),
                    username: username.clone(),
                })
                .collect();
            if sender.send(users).await.is_err() {
                return;
            }
        }
    }
}
