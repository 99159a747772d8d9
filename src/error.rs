//! One error type for the whole server. REST turns it into the contract's JSON
//! envelope, GraphQL into an error with `extensions.code` (and `extensions.fields`).

use std::{collections::BTreeMap, time::Duration};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sea_orm::{DbErr, SqlErr};

use crate::request_log::RequestId;
use serde::Serialize;

/// `field name → message`, for validation errors.
pub type FieldErrors = BTreeMap<String, String>;

/// `Result` with [`AppError`] as the default error.
pub type AppResult<T, E = AppError> = Result<T, E>;

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Validation failed")]
    Validation(FieldErrors),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("Invalid email or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    #[error("Too many requests, retry later")]
    RateLimited { retry_after: Duration },
    #[error("Too many failed logins for this email; retry later")]
    AccountLocked { retry_after: Duration },
    #[error("Request body too large")]
    PayloadTooLarge,
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("Internal server error")]
    Database(#[from] DbErr),
    #[error("Internal server error")]
    Internal(String),
}

impl AppError {
    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(field.to_owned(), message.into())]))
    }

    /// The HTTP status, exhaustively.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::RateLimited { .. } | Self::AccountLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code shared by REST (`code`) and GraphQL (`extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "VALIDATION_ERROR",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Unauthorized(_) => "UNAUTHORIZED",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Conflict { .. } => "CONFLICT",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::AccountLocked { .. } => "ACCOUNT_LOCKED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::Database(_) | Self::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// Field messages of a validation or conflict error.
    pub fn fields(&self) -> Option<FieldErrors> {
        match self {
            Self::Validation(fields) => Some(fields.clone()),
            Self::Conflict { field, message } => {
                Some(BTreeMap::from([((*field).to_owned(), message.clone())]))
            }
            _ => None,
        }
    }

    /// Seconds a client should wait before retrying, rounded up.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } | Self::AccountLocked { retry_after } => {
                Some(retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0))
            }
            _ => None,
        }
    }

    /// Maps a unique-constraint violation to a conflict on `field`; other errors pass through.
    pub fn unique_violation(err: DbErr, field: &'static str, message: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict {
                field,
                message: message.to_owned(),
            },
            _ => Self::Database(err),
        }
    }

    /// The whole story, for operators (start-up failures, logs): internal errors keep
    /// their cause here, which clients never see.
    pub fn detail(&self) -> String {
        match self {
            Self::Database(err) => format!("database: {err}"),
            Self::Internal(detail) => detail.clone(),
            other => other.to_string(),
        }
    }

    /// Logs server-side failures once, with their detail; client errors are not logged.
    pub fn log(&self) {
        match self {
            Self::Database(err) => tracing::error!(error = %err, "database error"),
            Self::Internal(detail) => tracing::error!(%detail, "internal error"),
            _ => {}
        }
    }
}

/// The REST error envelope: `{"success": false, "error", "code", "fields"?}`.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Error")]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// A human-readable message.
    pub error: String,
    /// A stable machine code, such as `VALIDATION_ERROR` or `NOT_FOUND`.
    pub code: String,
    /// Per-field messages of a validation error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldErrors>,
    /// The request's id (also in the `X-Request-Id` header), to quote when reporting.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorBody {
            success: false,
            error: self.to_string(),
            code: self.code().to_owned(),
            fields: self.fields(),
            request_id: RequestId::current(),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl async_graphql::ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        async_graphql::Error::new(self.to_string()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
            if let Some(fields) = self.fields() {
                let fields: async_graphql::indexmap::IndexMap<_, _> = fields
                    .into_iter()
                    .map(|(name, message)| {
                        (
                            async_graphql::Name::new(name),
                            async_graphql::Value::String(message),
                        )
                    })
                    .collect();
                extensions.set("fields", async_graphql::Value::Object(fields));
            }
            if let Some(secs) = self.retry_after_secs() {
                extensions.set("retryAfter", secs);
            }
        })
    }
}
