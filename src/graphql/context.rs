//! Typed access to what every resolver needs from the GraphQL context.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions};

use super::loaders::RequestLoader;
use crate::{auth::Caller, domain::pagination::PageWindow, error::AppError, state::AppState};

/// The application state, the caller and the request's loader.
pub trait ContextExt {
    fn state(&self) -> async_graphql::Result<&AppState>;
    fn caller(&self) -> async_graphql::Result<&Caller>;
    fn loader(&self) -> async_graphql::Result<&RequestLoader>;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> async_graphql::Result<&AppState> {
        self.data::<AppState>()
    }

    fn caller(&self) -> async_graphql::Result<&Caller> {
        self.data::<Caller>()
    }

    fn loader(&self) -> async_graphql::Result<&RequestLoader> {
        self.data::<Arc<RequestLoader>>().map(AsRef::as_ref)
    }
}

/// The cost of a connection field: `first` (default 20) times its selection. A
/// `first` outside 1..=100 costs as 100 so that it reaches the resolver and gets
/// the page-size error, not a misleading "too complex".
pub fn connection_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    usize::try_from(first.unwrap_or(20).clamp(1, 100)).unwrap_or(100) * child_complexity
}

/// Rows `after + 1 ..= after + first` of a connection; `first` is capped by the
/// configured page size (a larger one is a VALIDATION_ERROR on `first`).
pub fn connection_window(
    state: &AppState,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<PageWindow> {
    use async_graphql::connection::{CursorType, OpaqueCursor};
    let max = state.config.api.max_page_size;
    let first = first.unwrap_or(20);
    let limit = u64::try_from(first)
        .ok()
        .filter(|first| (1..=max).contains(first))
        .ok_or_else(|| AppError::field("first", format!("must be between 1 and {max}")).extend())?;
    let offset = match after {
        None => 0,
        Some(cursor) => {
            OpaqueCursor::<u64>::decode_cursor(cursor)
                .map_err(|_| AppError::field("after", "is not a cursor of this list").extend())?
                .0
                + 1
        }
    };
    Ok(PageWindow { offset, limit })
}
