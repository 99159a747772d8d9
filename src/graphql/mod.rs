//! The GraphQL API for the single-page app: schema assembly with its limits, the
//! HTTP endpoint (POST JSON, GET queries) and the offline GraphiQL page.
//!
//! Resolvers call the same `domain` functions as REST and attach error codes with
//! `ResultExt::extend`, so `extensions.code` matches REST's `code`.

mod comments;
mod context;
mod cursor;
mod jobs;
mod live;
mod loaders;
mod mail;
mod mutation;
mod node;
mod notifications;
mod persisted;
mod query;
mod reactions;
mod served;
mod social;
mod subscription;
mod types;
mod uploads;
mod ws;

use std::sync::Arc;

use async_graphql::{
    BatchRequest, BatchResponse, ErrorExtensionValues, Executor, MergedObject, Schema, ServerError,
    Value, parser::types::OperationType,
};
use axum::{
    Extension, Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{
    auth::{Caller, ClientIp, Credentials},
    db::SqlCounter,
    error::AppError,
    html::HtmlPage,
    request_log::RequestId,
    state::AppState,
};
pub use served::ServedSchema;

/// Every query field, one object per area.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::CoreQuery,
    node::NodeQuery,
    notifications::NotificationQuery,
    comments::CommentQuery,
    jobs::JobQuery,
    mail::MailQuery,
    uploads::UploadQuery,
);

/// Every mutation, one object per area.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    mutation::CoreMutation,
    comments::CommentMutation,
    reactions::ReactionMutation,
    social::SocialMutation,
    notifications::NotificationMutation,
    live::LiveMutation,
    jobs::JobMutation,
    mail::MailMutation,
    uploads::UploadMutation,
);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, subscription::SubscriptionRoot>;

/// Depth and complexity allowed to an operation that only introspects. Introspection
/// reads the schema, never data, and the query every GraphQL tool sends (GraphiQL's,
/// graphql-js `getIntrospectionQuery`) nests `ofType` nine levels deep: far deeper
/// than data queries need, so it gets limits of its own instead of raising theirs.
pub fn introspection_limits(config: &crate::config::Config) -> (usize, usize) {
    (
        config.api.graphql_max_depth.max(INTROSPECTION_MAX_DEPTH),
        config
            .api
            .graphql_max_complexity
            .max(INTROSPECTION_MAX_COMPLEXITY),
    )
}

/// Depth of graphql-js's introspection query (its `TypeRef` fragment under
/// `__schema.types.fields.type`), with room to spare.
const INTROSPECTION_MAX_DEPTH: usize = 20;
/// Generous for a full introspection of this schema.
const INTROSPECTION_MAX_COMPLEXITY: usize = 100_000;

/// Builds the schema with the configured depth, complexity, directive and alias limits
/// and document cache (and its twin for introspection, see [`introspection_limits`]).
pub fn schema(state: &AppState) -> ServedSchema {
    let config = &state.config;
    let build = |max_depth, max_complexity| {
        let mut builder = Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            subscription::SubscriptionRoot,
        )
        .data(state.clone())
        .limit_depth(max_depth)
        .limit_complexity(max_complexity)
        .limit_directives(8)
        .limit_recursive_depth(32);
        if !config.dev_mode {
            builder = builder.disable_suggestions();
        }
        builder.finish()
    };
    let (introspection_depth, introspection_complexity) = introspection_limits(config);
    ServedSchema::new(
        build(
            config.api.graphql_max_depth,
            config.api.graphql_max_complexity,
        ),
        build(introspection_depth, introspection_complexity),
        state.metrics.clone(),
        persisted::PersistedQueries::new(config.api.graphql_persisted_queries),
        config.api.graphql_max_aliases,
        config.api.graphql_document_cache,
    )
}

/// The SDL of the schema, fields sorted so the export is stable.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    .with_sorted_fields()
    .with_sorted_enums()
    .finish()
    .sdl()
}

/// `/graphql` (GET: GraphiQL page or a query; POST: JSON) and GraphiQL's assets.
pub fn router(schema: ServedSchema) -> Router<AppState> {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/assets/{file}", get(graphiql_asset))
        .route("/graphql/ws", get(ws::graphql_ws))
        .layer(Extension(schema))
}

async fn graphql_post(
    State(state): State<AppState>,
    Extension(schema): Extension<ServedSchema>,
    Extension(credentials): Extension<Credentials>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return error_response(AppError::UnsupportedMediaType);
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_response(AppError::PayloadTooLarge);
        }
        Err(_) => {
            return error_response(AppError::BadRequest(
                "Could not read the request body".into(),
            ));
        }
    };
    if crate::raw_input::json_too_deep(&body) {
        return error_response(AppError::field(
            "body",
            crate::raw_input::too_deep_message(),
        ));
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(err) => {
            return error_response(AppError::BadRequest(format!(
                "Malformed GraphQL request: {err}"
            )));
        }
    };
    let size = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(requests) => requests.len(),
    };
    if size == 0 || size > state.config.api.graphql_max_batch {
        let max = state.config.api.graphql_max_batch;
        return error_response(AppError::BadRequest(format!(
            "A batch must hold 1 to {max} operations"
        )));
    }
    execute(&state, &schema, &credentials, ip, &headers, batch).await
}

async fn graphql_get(
    State(state): State<AppState>,
    Extension(schema): Extension<ServedSchema>,
    Extension(credentials): Extension<Credentials>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let query = query.unwrap_or_default();
    if query.is_empty() && wants_html {
        return GRAPHIQL_PAGE.clone().into_response();
    }
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(err) => {
            return error_response(AppError::BadRequest(format!(
                "Malformed GraphQL request: {err}"
            )));
        }
    };
    // A document named by hash is found first, so the mutation check below sees it.
    let refused = schema
        .resolve_persisted(&mut request)
        .err()
        .or_else(|| served::input_refusal(&request));
    if let Some(mut refused) = refused {
        ensure_code(&mut refused);
        let response = async_graphql::Response::from_errors(vec![refused]);
        return respond(&headers, BatchResponse::Single(response));
    }
    // Parsed here (or taken from the cache) for the mutation check; the schema then
    // finds the document in the request or the cache and does not parse it again.
    let _ = schema.parse(&mut request);
    if is_mutation(&mut request) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            graphql_error_body("Mutations must be sent with POST", "METHOD_NOT_ALLOWED"),
        )
            .into_response();
    }
    execute(
        &state,
        &schema,
        &credentials,
        ip,
        &headers,
        BatchRequest::Single(request),
    )
    .await
}

/// Whether the operation `request` would run is a mutation.
fn is_mutation(request: &mut async_graphql::Request) -> bool {
    served::selected_operations(request)
        .iter()
        .any(|operation| operation.ty == OperationType::Mutation)
}

/// Resolves the caller, runs the batch with a fresh DataLoader, and reports the SQL
/// statements the request ran in each response's `extensions.sqlStatements`.
async fn execute(
    state: &AppState,
    schema: &ServedSchema,
    credentials: &Credentials,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    batch: BatchRequest,
) -> Response {
    let caller = match Caller::resolve(state, credentials, ip).await {
        Ok(caller) => caller,
        Err(err) => return error_response(err),
    };
    let counter = SqlCounter::current().unwrap_or_default();
    let spawn_counter = counter.clone();
    let loader = loaders::request_loader(state.clone(), move |future| {
        tokio::spawn(spawn_counter.clone().scope(future))
    });
    let batch = batch.data(caller).data(Arc::new(loader));
    let mut response = schema.execute_batch(batch).await;
    let statements = Value::from(counter.count());
    let responses = match &mut response {
        BatchResponse::Single(single) => std::slice::from_mut(single),
        BatchResponse::Batch(many) => many.as_mut_slice(),
    };
    for single in responses {
        single
            .extensions
            .insert("sqlStatements".into(), statements.clone());
        single.errors.iter_mut().for_each(ensure_code);
    }
    respond(headers, response)
}

/// The media type of the GraphQL-over-HTTP specification.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Writes `response` in the media type the client accepts. A client that accepts
/// `application/graphql-response+json` gets it, with the specification's status codes:
/// 400 and no `data` for a request that could not run at all (a document that does not
/// parse or validate, variables that do not fit). Others get `application/json` and
/// 200, as before that specification.
fn respond(headers: &HeaderMap, response: BatchResponse) -> Response {
    let accepts_graphql_response = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains(GRAPHQL_RESPONSE_JSON));
    if !accepts_graphql_response {
        return axum::Json(response).into_response();
    }
    let content_type = [(
        header::CONTENT_TYPE,
        "application/graphql-response+json; charset=utf-8",
    )];
    match &response {
        BatchResponse::Single(single) if did_not_run(single) => {
            let mut body = serde_json::to_value(&response).unwrap_or_default();
            if let Some(fields) = body.as_object_mut() {
                fields.remove("data");
            }
            (StatusCode::BAD_REQUEST, content_type, body.to_string()).into_response()
        }
        _ => match serde_json::to_string(&response) {
            Ok(body) => (content_type, body).into_response(),
            Err(err) => error_response(AppError::Internal(format!("graphql response: {err}"))),
        },
    }
}

/// Whether `response` answers a request that never ran: errors, no data, and no error
/// raised while resolving a field (those have a path).
fn did_not_run(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == Value::Null
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// Gives errors raised by async-graphql itself (parse, validation, limits) a code, and
/// every error the request's id.
fn ensure_code(error: &mut ServerError) {
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    if extensions.get("code").is_none() {
        extensions.set("code", "GRAPHQL_VALIDATION_FAILED");
    }
    if let Some(id) = RequestId::current() {
        extensions.set("requestId", id);
    }
}

/// A request-level failure, GraphQL-shaped: `{"errors": [{message, extensions.code}]}`.
fn error_response(err: AppError) -> Response {
    err.log();
    let mut response = (
        err.status(),
        graphql_error_body(&err.to_string(), err.code()),
    )
        .into_response();
    if let Some(secs) = err.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    response
}

fn graphql_error_body(message: &str, code: &str) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "errors": [{
        "message": message,
        "extensions": { "code": code, "requestId": RequestId::current() },
    }] }))
}

/// The GraphiQL page, with its security headers.
static GRAPHIQL_PAGE: std::sync::LazyLock<HtmlPage> = std::sync::LazyLock::new(|| {
    HtmlPage::new(include_str!("../../assets/graphiql/index.html").to_owned())
});

/// Serves GraphiQL's vendored files, so the page works with no internet access.
async fn graphiql_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
            "text/javascript",
        ),
        "graphiql.min.css" => (
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            "text/css",
        ),
        "react.production.min.js" => (
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            "text/javascript",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            "text/javascript",
        ),
        _ => return AppError::NotFound("Asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
