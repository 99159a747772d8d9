//! DataLoaders: nested fields of a page are fetched in one statement per field,
//! whatever the page size. One [`DbLoader`] is created per request (its cache is
//! never shared between users) and serves every key type below.

use std::{
    any::TypeId,
    collections::{HashMap, HashSet},
    hash::{BuildHasher, Hash, RandomState},
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::{
    ErrorExtensions,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::{comment, user};
use futures_util::future::BoxFuture;

use crate::{
    domain::{
        comments::{self, CommentThread},
        follows,
        pagination::CursorWindow,
        reactions::{self, ReactionCounts, ReactionTarget, ReactionType},
        taxonomy::{self, CategoryView, TagView},
        users::{self, ProfileView, UserStats},
    },
    error::AppError,
    media::images::{self, ImageView},
    state::AppState,
};

/// The loader of one request, with a per-request cache.
pub type RequestLoader = DataLoader<DbLoader, HashMapCache>;

/// Batches the database reads of one GraphQL request.
pub struct DbLoader {
    state: AppState,
    /// Whether [`prime`] fills the cache: false exactly when the cache is off.
    primes: bool,
    /// The keys [`prime`] already fetched, by key type and hash.
    primed: Mutex<HashSet<(TypeId, u64)>>,
    hasher: RandomState,
}

impl DbLoader {
    fn new(state: AppState, primes: bool) -> Self {
        Self {
            state,
            primes,
            primed: Mutex::default(),
            hasher: RandomState::new(),
        }
    }
}

/// The loader of one HTTP request: its cache lives as long as the request, and its
/// batches run in the tasks `spawn` starts.
pub fn request_loader<R>(
    state: AppState,
    spawn: impl Fn(BoxFuture<'static, ()>) -> R + Send + Sync + 'static,
) -> RequestLoader {
    DataLoader::with_cache(DbLoader::new(state, true), spawn, HashMapCache::default())
}

/// The loader of a WebSocket connection. A connection lives long, so it reads fresh
/// rows for every event: its cache is off and [`prime`] does nothing.
pub fn connection_loader(state: AppState) -> RequestLoader {
    let loader = DataLoader::with_cache(
        DbLoader::new(state, false),
        tokio::spawn,
        HashMapCache::default(),
    );
    loader.enable_all_cache(false);
    loader
}

/// When `selected`, fetches the values of the keys `keys` makes at once, in the
/// calling task, and puts them in the request's cache, so the resolvers that follow
/// find them there.
///
/// Prefetching code holds every key of a level already, so unlike `load_many` this
/// neither spawns a task nor waits for the loader's batching delay. Keys primed
/// before in the same request are skipped. A key whose value was not found is simply
/// not cached: its resolver then loads it the usual way.
pub async fn prime<K, I>(
    selected: bool,
    loader: &RequestLoader,
    keys: impl FnOnce() -> I,
) -> async_graphql::Result<()>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    I: IntoIterator<Item = K>,
    DbLoader: Loader<K, Error = async_graphql::Error>,
{
    let db = loader.loader();
    if !selected || !db.primes {
        return Ok(());
    }
    let fresh: Vec<K> = {
        let mut primed = db.primed.lock().unwrap_or_else(PoisonError::into_inner);
        keys()
            .into_iter()
            .filter(|key| primed.insert((TypeId::of::<K>(), db.hasher.hash_one(key))))
            .collect()
    };
    if !fresh.is_empty() {
        loader.feed_many(db.load(&fresh).await?).await;
    }
    Ok(())
}

/// The values of the keys `keys` makes, when `selected` (nothing otherwise), fetched
/// at once in the calling task by the loader's batch function. Unlike [`prime`] they
/// are returned only, not cached: for values the caller hands out itself.
pub async fn load_selected<K, I>(
    selected: bool,
    loader: &RequestLoader,
    keys: impl FnOnce() -> I,
) -> async_graphql::Result<HashMap<K, <DbLoader as Loader<K>>::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    I: IntoIterator<Item = K>,
    DbLoader: Loader<K, Error = async_graphql::Error>,
{
    if !selected {
        return Ok(HashMap::new());
    }
    let distinct: HashSet<K> = keys().into_iter().collect();
    let distinct: Vec<K> = distinct.into_iter().collect();
    if distinct.is_empty() {
        return Ok(HashMap::new());
    }
    loader.loader().load(&distinct).await
}

/// An account by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserById(pub String);

/// A category by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CategoryById(pub String);

/// A tag by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagById(pub String);

/// An uploaded image (a post's cover, an avatar), by media id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageById(pub String);

/// The profile of an account, by user id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProfileOfUser(pub String);

/// The stats of an account, by user id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatsOfUser(pub String);

/// Implements [`Loader`] for a key newtype over a batch expression that reads
/// `state` (the [`AppState`]) and `ids` (the keys' ids) and yields a map by id.
/// The key also borrows as its id, so maps keyed by it are searched by `&str`.
macro_rules! batch_loader {
    ($key:ident => $value:ty, |$state:ident, $ids:ident| $batch:expr) => {
        impl std::borrow::Borrow<str> for $key {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Loader<$key> for DbLoader {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Self::Error> {
                let $state = &self.state;
                let $ids: &[String] = &keys.iter().map(|key| key.0.clone()).collect::<Vec<_>>();
                let found = $batch.await.map_err(|err: AppError| err.extend())?;
                Ok(found
                    .into_iter()
                    .map(|(id, value)| ($key(id), value.into()))
                    .collect())
            }
        }
    };
}

batch_loader!(UserById => Arc<user::Model>, |state, ids| users::users_by_ids(&state.db, ids));
batch_loader!(CategoryById => Arc<CategoryView>, |state, ids| taxonomy::categories_by_ids(state, ids));
batch_loader!(TagById => Arc<TagView>, |state, ids| taxonomy::tags_by_ids(state, ids));
batch_loader!(ImageById => Arc<ImageView>, |state, ids| images::images_by_ids(state, ids));
batch_loader!(ProfileOfUser => ProfileView, |state, ids| users::profiles_by_user_ids(&state.db, ids));
batch_loader!(StatsOfUser => UserStats, |state, ids| users::stats_by_user_ids(&state.db, ids));

/// Whether `viewer_id` follows `user_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ViewerFollows {
    pub viewer_id: String,
    pub user_id: String,
}

impl Loader<ViewerFollows> for DbLoader {
    type Value = bool;
    type Error = async_graphql::Error;

    /// One statement per viewer (a request has one).
    async fn load(
        &self,
        keys: &[ViewerFollows],
    ) -> Result<HashMap<ViewerFollows, bool>, Self::Error> {
        let mut by_viewer: HashMap<&str, Vec<String>> = HashMap::new();
        for key in keys {
            by_viewer
                .entry(key.viewer_id.as_str())
                .or_default()
                .push(key.user_id.clone());
        }
        let mut answers = HashMap::with_capacity(keys.len());
        for (viewer_id, user_ids) in by_viewer {
            let followed = follows::followed_among(&self.state.db, viewer_id, &user_ids)
                .await
                .map_err(|err| err.extend())?;
            for user_id in user_ids {
                let key = ViewerFollows {
                    viewer_id: viewer_id.to_owned(),
                    user_id,
                };
                let follows = followed.contains(&key.user_id);
                answers.insert(key, follows);
            }
        }
        Ok(answers)
    }
}

/// One page of a comment thread: its rows after `after`, one more than `limit` (to
/// learn whether more follow).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CommentPage {
    pub thread: CommentThread,
    pub after: Option<String>,
    pub limit: u64,
}

impl CommentPage {
    /// The page of `thread` that `window` describes.
    pub fn new(thread: CommentThread, window: &CursorWindow<String>) -> Self {
        Self {
            thread,
            after: window.after.clone(),
            limit: window.limit,
        }
    }
}

impl Loader<CommentPage> for DbLoader {
    type Value = Vec<comment::Model>;
    type Error = async_graphql::Error;

    /// One statement per distinct window (nested connections usually share one) and
    /// per 100 threads.
    async fn load(
        &self,
        keys: &[CommentPage],
    ) -> Result<HashMap<CommentPage, Vec<comment::Model>>, Self::Error> {
        let mut by_window: HashMap<(Option<String>, u64), Vec<CommentThread>> = HashMap::new();
        for key in keys {
            by_window
                .entry((key.after.clone(), key.limit))
                .or_default()
                .push(key.thread.clone());
        }
        let mut pages = HashMap::with_capacity(keys.len());
        for ((after, limit), threads) in by_window {
            let window = CursorWindow { after, limit };
            let found = comments::thread_pages(&self.state.db, &threads, &window)
                .await
                .map_err(|err| err.extend())?;
            pages.extend(
                found
                    .into_iter()
                    .map(|(thread, rows)| (CommentPage::new(thread, &window), rows)),
            );
        }
        Ok(pages)
    }
}

/// The reaction counts of a post or comment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReactionCountsOf(pub ReactionTarget);

impl Loader<ReactionCountsOf> for DbLoader {
    type Value = ReactionCounts;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ReactionCountsOf],
    ) -> Result<HashMap<ReactionCountsOf, ReactionCounts>, Self::Error> {
        let targets: Vec<ReactionTarget> = keys.iter().map(|key| key.0.clone()).collect();
        let counts = reactions::counts_by_targets(&self.state.db, &targets)
            .await
            .map_err(|err| err.extend())?;
        Ok(counts
            .into_iter()
            .map(|(target, counts)| (ReactionCountsOf(target), counts))
            .collect())
    }
}

/// The reaction `user_id` gave a post or comment (`None` when none). The loader is
/// per request, so the user in the key is always the request's own viewer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReactionOfUser {
    pub user_id: String,
    pub target: ReactionTarget,
}

impl Loader<ReactionOfUser> for DbLoader {
    type Value = Option<ReactionType>;
    type Error = async_graphql::Error;

    /// One statement per user (a request has one).
    async fn load(
        &self,
        keys: &[ReactionOfUser],
    ) -> Result<HashMap<ReactionOfUser, Option<ReactionType>>, Self::Error> {
        let mut by_user: HashMap<&str, Vec<ReactionTarget>> = HashMap::new();
        for key in keys {
            by_user
                .entry(key.user_id.as_str())
                .or_default()
                .push(key.target.clone());
        }
        let mut given = HashMap::with_capacity(keys.len());
        for (user_id, targets) in by_user {
            let found = reactions::reactions_of_user(&self.state.db, user_id, &targets)
                .await
                .map_err(|err| err.extend())?;
            given.extend(found.into_iter().map(|(target, reaction)| {
                let key = ReactionOfUser {
                    user_id: user_id.to_owned(),
                    target,
                };
                (key, reaction)
            }));
        }
        Ok(given)
    }
}
