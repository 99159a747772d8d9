//! A cap on field aliases per document: aliases let one request repeat an expensive
//! field many times under different names, which depth limits do not see.
//!
//! The check wraps the schema as an [`Executor`] rather than registering a schema
//! extension: with any extension registered, async-graphql takes its slower path for
//! every field it resolves. The document is parsed once, here, and the schema
//! reuses it.

use std::sync::Arc;

use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};
use futures_util::stream::{self, BoxStream, StreamExt};

use super::AppSchema;

/// The schema, refusing documents with more than `max_aliases` aliased fields.
#[derive(Clone)]
pub struct AliasLimitedSchema {
    pub schema: AppSchema,
    pub max_aliases: usize,
}

impl AliasLimitedSchema {
    /// The error for `request` when it uses too many aliases. A document that does not
    /// parse passes through, so the schema reports the syntax error itself.
    fn refusal(&self, request: &mut Request) -> Option<Response> {
        let document = request.parsed_query().ok()?;
        let aliases = count_aliases(document);
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
}

impl Executor for AliasLimitedSchema {
    async fn execute(&self, mut request: Request) -> Response {
        match self.refusal(&mut request) {
            Some(refused) => refused,
            None => self.schema.execute(request).await,
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.refusal(&mut request) {
            Some(refused) => stream::once(async move { refused }).boxed(),
            None => Executor::execute_stream(&self.schema, request, session_data),
        }
    }
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
