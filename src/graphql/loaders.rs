//! DataLoaders: nested fields of a page are fetched in one statement per field,
//! whatever the page size. One [`DbLoader`] is created per request (its cache is
//! never shared between users) and serves every key type below.

use std::collections::HashMap;

use async_graphql::{
    ErrorExtensions,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::user;

use crate::{
    domain::{
        taxonomy::{self, CategoryView, TagView},
        users::{self, ProfileView, UserStats},
    },
    error::AppResult,
    state::AppState,
};

/// The loader of one request, with a per-request cache.
pub type RequestLoader = DataLoader<DbLoader, HashMapCache>;

/// Batches the database reads of one GraphQL request.
pub struct DbLoader {
    pub state: AppState,
}

/// An account by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserById(pub String);

/// A category by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CategoryById(pub String);

/// The tags of a post, by post id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagsOfPost(pub String);

/// The profile of an account, by user id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProfileOfUser(pub String);

/// The stats of an account, by user id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatsOfUser(pub String);

/// Implements [`Loader`] for a key newtype over a batch function `(db, &[String]) -> map`.
macro_rules! batch_loader {
    ($key:ident => $value:ty, $batch:path) => {
        impl Loader<$key> for DbLoader {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Self::Error> {
                let ids: Vec<String> = keys.iter().map(|key| key.0.clone()).collect();
                let found: AppResult<HashMap<String, $value>> = $batch(&self.state.db, &ids).await;
                let found = found.map_err(|err| err.extend())?;
                Ok(found
                    .into_iter()
                    .map(|(id, value)| ($key(id), value))
                    .collect())
            }
        }
    };
}

batch_loader!(UserById => user::Model, users::users_by_ids);
batch_loader!(CategoryById => CategoryView, taxonomy::categories_by_ids);
batch_loader!(TagsOfPost => Vec<TagView>, taxonomy::tags_by_post_ids);
batch_loader!(ProfileOfUser => ProfileView, users::profiles_by_user_ids);
batch_loader!(StatsOfUser => UserStats, users::stats_by_user_ids);
