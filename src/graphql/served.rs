//! The schema as the endpoints serve it: documents parsed once and remembered, and
//! a cap on field aliases per document (aliases let one request repeat an expensive
//! field many times under different names, which depth limits do not see).
//!
//! Both wrap the schema as an [`Executor`] rather than registering schema
//! extensions: with any extension registered, async-graphql takes its slower path
//! for every field it resolves.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet},
};
use futures_util::stream::{self, BoxStream, StreamExt};
use lru::LruCache;

use super::{AppSchema, persisted::PersistedQueries};
use crate::{
    metrics::{GaugeGuard, SharedMetrics},
    raw_input,
};

/// Longest document text the cache keeps; longer ones are parsed every time.
const MAX_CACHED_DOCUMENT_BYTES: usize = 8 * 1024;

/// The schema, with its document cache and alias cap.
#[derive(Clone)]
pub struct ServedSchema {
    schema: AppSchema,
    /// Documents clients name by hash.
    persisted: PersistedQueries,
    /// The same schema with the looser limits of [`super::introspection_limits`], for
    /// operations that only introspect.
    introspection: AppSchema,
    /// Operations and live subscriptions, for `/metrics`.
    metrics: SharedMetrics,
    max_aliases: usize,
    documents: Option<Arc<DocumentCache>>,
}

/// Parsed documents by their text, least recently used forgotten first.
type DocumentCache = Mutex<LruCache<String, Arc<ParsedDocument>>>;

/// A parsed document and what the checks here need to know of it.
struct ParsedDocument {
    document: ExecutableDocument,
    aliases: usize,
}

impl ServedSchema {
    /// Serves `schema`, refusing documents with more than `max_aliases` aliased fields
    /// and remembering the `cached_documents` most recently used (zero: none).
    pub fn new(
        schema: AppSchema,
        introspection: AppSchema,
        metrics: SharedMetrics,
        persisted: PersistedQueries,
        max_aliases: usize,
        cached_documents: usize,
    ) -> Self {
        Self {
            schema,
            metrics,
            persisted,
            introspection,
            max_aliases,
            documents: NonZeroUsize::new(cached_documents)
                .map(|capacity| Arc::new(Mutex::new(LruCache::new(capacity)))),
        }
    }

    /// Puts the parsed document of `request` in it (from the cache when the same text
    /// was seen lately) and returns its number of aliased fields. A document that does
    /// not parse is not remembered; the schema reports its syntax error.
    pub fn parse(&self, request: &mut Request) -> Result<usize, ServerError> {
        let cache = self
            .documents
            .as_ref()
            .filter(|_| request.query.len() <= MAX_CACHED_DOCUMENT_BYTES);
        let Some(cache) = cache else {
            return request.parsed_query().map(count_aliases);
        };
        let remembered = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&request.query)
            .cloned();
        if let Some(parsed) = remembered {
            request.set_parsed_query(parsed.document.clone());
            return Ok(parsed.aliases);
        }
        let document = request.parsed_query()?;
        let parsed = Arc::new(ParsedDocument {
            aliases: count_aliases(document),
            document: document.clone(),
        });
        let aliases = parsed.aliases;
        cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(request.query.clone(), parsed);
        Ok(aliases)
    }

    /// Fills in the document of a request that names a persisted one (see
    /// [`PersistedQueries::resolve`]).
    pub fn resolve_persisted(&self, request: &mut Request) -> Result<(), ServerError> {
        self.persisted.resolve(request)
    }

    /// The error for `request` when its persisted document is unknown, its input is
    /// refused (see [`input_refusal`]) or it uses too many aliases.
    fn refusal(&self, request: &mut Request) -> Option<Response> {
        if let Err(error) = self.persisted.resolve(request) {
            return Some(Response::from_errors(vec![error]));
        }
        if let Some(refused) = input_refusal(request) {
            return Some(Response::from_errors(vec![refused]));
        }
        let aliases = self.parse(request).ok()?;
        (aliases > self.max_aliases).then(|| {
            Response::from_errors(vec![ServerError::new(
                format!(
                    "Query uses {aliases} aliases; at most {} are allowed.",
                    self.max_aliases
                ),
                None,
            )])
        })
    }

    /// The schema `request` runs on: the introspection one when the operation it runs
    /// selects only introspection fields (`__schema`, `__type`, `__typename`).
    fn schema_for(&self, request: &mut Request) -> &AppSchema {
        let introspects_only = selected_operations(request).iter().any(|operation| {
            let items = &operation.selection_set.node.items;
            !items.is_empty()
                && items.iter().all(|item| match &item.node {
                    Selection::Field(field) => field.node.name.node.starts_with("__"),
                    _ => false,
                })
        });
        let shaped_like_tools = introspects_only
            && request
                .parsed_query()
                .is_ok_and(|document| introspection_lists_nest_at_most(document, 3));
        if shaped_like_tools {
            &self.introspection
        } else {
            &self.schema
        }
    }
}

impl Executor for ServedSchema {
    async fn execute(&self, mut request: Request) -> Response {
        if let Some(refused) = self.refusal(&mut request) {
            self.metrics
                .record_operation(request.operation_name.as_deref(), false);
            return refused;
        }
        let operation = operation_name(&mut request);
        let response = self.schema_for(&mut request).execute(request).await;
        self.metrics
            .record_operation(operation.as_deref(), response.errors.is_empty());
        response
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.refusal(&mut request) {
            Some(refused) => stream::once(async move { refused }).boxed(),
            None => {
                let live = GaugeGuard::raise(&self.metrics.subscriptions_live);
                Executor::execute_stream(self.schema_for(&mut request), request, session_data)
                    .inspect(move |_| {
                        let _counted_while_the_stream_lives = &live;
                    })
                    .boxed()
            }
        }
    }
}

/// The operations of `request`'s parsed document that it runs: the one named by
/// `operationName`, or every one when it names none (a valid document then has one).
pub fn selected_operations(request: &mut Request) -> Vec<&OperationDefinition> {
    let wanted = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return Vec::new();
    };
    document
        .operations
        .iter()
        .filter(|(name, _)| match (&wanted, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            _ => true,
        })
        .map(|(_, operation)| &operation.node)
        .collect()
}

/// The name of the operation `request` runs: the one asked for, or the name of its
/// document's only operation.
fn operation_name(request: &mut Request) -> Option<String> {
    if request.operation_name.is_some() {
        return request.operation_name.clone();
    }
    let document = request.parsed_query().ok()?;
    let mut operations = document.operations.iter();
    match (operations.next(), operations.next()) {
        (Some((name, _)), None) => name.map(|name| name.to_string()),
        _ => None,
    }
}

/// The error for a request whose document or variables nest deeper than
/// [`raw_input::MAX_NESTING`] or hold a NUL character; checked before anything parses
/// or walks them.
pub fn input_refusal(request: &Request) -> Option<ServerError> {
    let too_deep = raw_input::graphql_too_deep(&request.query)
        || request
            .variables
            .iter()
            .any(|(_, value)| raw_input::value_too_deep(value));
    if too_deep {
        return Some(validation_error(raw_input::too_deep_message(), None));
    }
    let nul_field = raw_input::variables_nul_field(&request.variables).or_else(|| {
        raw_input::graphql_has_nul_escape(&request.query).then(|| "query".to_owned())
    })?;
    Some(validation_error(
        format!("{nul_field} {}", raw_input::NUL_MESSAGE),
        Some(nul_field),
    ))
}

/// A `VALIDATION_ERROR` with `message`, naming `field` in `extensions.fields`.
fn validation_error(message: String, field: Option<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", "VALIDATION_ERROR");
    if let Some(field) = field {
        let fields = async_graphql::indexmap::IndexMap::from([(
            async_graphql::Name::new(field),
            async_graphql::Value::from(raw_input::NUL_MESSAGE),
        )]);
        extensions.set("fields", async_graphql::Value::Object(fields));
    }
    error
}

/// Introspection fields that list types, fields or values: nested in each other they
/// multiply (every type's fields' types' fields…), so only the nesting the tools use,
/// types → fields → arguments, gets the looser limits.
const INTROSPECTION_LISTS: [&str; 7] = [
    "types",
    "fields",
    "inputFields",
    "args",
    "interfaces",
    "possibleTypes",
    "enumValues",
];

/// Whether the introspection lists of `document`'s operations nest at most `max` deep,
/// following fragment spreads (at most 32 deep, so a cycle of fragments ends).
fn introspection_lists_nest_at_most(document: &ExecutableDocument, max: usize) -> bool {
    // (selection set, lists above it, fragment spreads above it)
    let mut pending: Vec<(&SelectionSet, usize, usize)> = document
        .operations
        .iter()
        .map(|(_, operation)| (&operation.node.selection_set.node, 0, 0))
        .collect();
    while let Some((set, lists, spreads)) = pending.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let is_list = INTROSPECTION_LISTS.contains(&field.node.name.node.as_str());
                    let lists = lists + usize::from(is_list);
                    if lists > max {
                        return false;
                    }
                    pending.push((&field.node.selection_set.node, lists, spreads));
                }
                Selection::InlineFragment(fragment) => {
                    pending.push((&fragment.node.selection_set.node, lists, spreads));
                }
                Selection::FragmentSpread(spread) => {
                    if spreads >= 32 {
                        return false;
                    }
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        pending.push((&fragment.node.selection_set.node, lists, spreads + 1));
                    }
                }
            }
        }
    }
    true
}

/// Aliased fields in the operations and fragments of `document`. Walks with an explicit
/// stack: the document has not been checked for nesting depth yet.
fn count_aliases(document: &ExecutableDocument) -> usize {
    let mut pending: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        )
        .collect();
    let mut aliases = 0;
    while let Some(set) = pending.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    aliases += usize::from(field.node.alias.is_some());
                    pending.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    aliases
}
