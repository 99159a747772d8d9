//! Request extractors whose failures answer with the contract's error envelope
//! (axum's own answer in plain text). Each documents itself like its axum twin.

use aide::{OperationInput, generate::GenContext, openapi::Operation};
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::{
    error::{AppError, AppResult},
    raw_input,
};

/// A JSON body, parsed with the path of any bad field (`400 VALIDATION_ERROR`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> AppResult<Self> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest("Could not read the request body".into())
                }
            })?;
        parse_json(&bytes).map(Self)
    }
}

impl<T: schemars::JsonSchema> OperationInput for ApiJson<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::Json::<T>::operation_input(ctx, operation);
    }
}

/// Parses `bytes` as JSON, naming the offending field when the shape is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    if raw_input::json_too_deep(bytes) {
        return Err(AppError::field("body", raw_input::too_deep_message()));
    }
    if raw_input::json_may_hold_nul(bytes) {
        let nul_field = serde_json::from_slice(bytes)
            .ok()
            .and_then(|value| raw_input::json_nul_field(&value));
        if let Some(field) = nul_field {
            return Err(AppError::field(&field, raw_input::NUL_MESSAGE));
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // Well-formed JSON of the wrong shape (a number for an enum, say) is a field
        // problem even when serde reports it as a syntax error.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        if inner.is_data() || well_formed {
            shape_error(&path, &inner.to_string())
        } else {
            AppError::BadRequest(format!(
                "Malformed JSON: {}",
                strip_position(&inner.to_string())
            ))
        }
    })?;
    deserializer.end().map_err(|err| {
        AppError::BadRequest(format!(
            "Malformed JSON: {}",
            strip_position(&err.to_string())
        ))
    })?;
    Ok(value)
}

/// Query-string parameters, parsed with the name of any bad parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> AppResult<Self> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) =
            form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.contains('\0'))
        {
            return Err(AppError::field(&name, raw_input::NUL_MESSAGE));
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Self)
            .map_err(|err| {
                let path = err.path().to_string();
                shape_error(&path, &err.into_inner().to_string())
            })
    }
}

impl<T: schemars::JsonSchema> OperationInput for ApiQuery<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::extract::Query::<T>::operation_input(ctx, operation);
    }
}

/// The `{username}` segment of a path.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct UsernamePath {
    pub username: String,
}

/// A field error for a value of the wrong shape at `path`.
fn shape_error(path: &str, message: &str) -> AppError {
    let message = strip_position(message);
    let named = |marker: &str| {
        message
            .strip_prefix(marker)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let field = named("missing field `")
        .or_else(|| named("unknown field `"))
        .unwrap_or_else(|| {
            if path == "." {
                "body".to_owned()
            } else {
                path.to_owned()
            }
        });
    AppError::field(&field, message)
}

/// Drops serde_json's " at line 1 column 5" suffix.
fn strip_position(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}
