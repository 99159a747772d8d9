//! Keyset-paginated connections: GraphQL's `(first, after)` over the domain's
//! cursor windows, with the same opaque cursors REST hands out.

use async_graphql::{
    ErrorExtensions, OutputType,
    connection::{Connection, Edge},
};
use serde::de::DeserializeOwned;

use crate::{
    domain::pagination::{CursorSlice, CursorWindow, PageFields},
    state::AppState,
};

/// A connection whose cursors are the domain's opaque keyset cursors.
pub type CursorConnection<T> = Connection<String, T>;

/// The window `(first, after)` asks for; `first` defaults to 20 and is capped by
/// the configured page size (problems are VALIDATION_ERRORs on `first` / `after`).
pub fn cursor_window<K: DeserializeOwned>(
    state: &AppState,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<CursorWindow<K>> {
    let first = u64::try_from(first.unwrap_or(20)).unwrap_or(0);
    CursorWindow::parse(
        after,
        first,
        state.config.api.max_page_size,
        PageFields::GRAPHQL,
    )
    .map_err(|err| err.extend())
}

/// The connection of `slice`; `resumed` when the page started after a cursor.
pub fn cursor_connection<R, T: OutputType>(
    slice: CursorSlice<R>,
    resumed: bool,
    mut node: impl FnMut(R) -> T,
) -> CursorConnection<T> {
    let mut connection = Connection::new(resumed, slice.has_more);
    connection.edges.extend(
        slice
            .rows
            .into_iter()
            .map(|(cursor, row)| Edge::new(cursor, node(row))),
    );
    connection
}
