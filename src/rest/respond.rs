//! Success envelopes (`{"success": true, "data": …}`) and the documentation of
//! every error response, declared once for all operations.

use aide::{
    OperationOutput,
    generate::GenContext,
    openapi::{Operation, Response as ApiResponse},
};
use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::error::{AppError, ErrorBody};

/// `{"success": true, "data": …}`.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "{T}Response")]
pub struct Envelope<T> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
}

/// A 200 response with `data` in the envelope.
pub fn ok<T>(data: T) -> Json<Envelope<T>> {
    Json(Envelope {
        success: true,
        data,
    })
}

/// `{"success": true}`, for operations with nothing to return.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Done {
    /// Always `true`.
    pub success: bool,
}

/// A 200 response without data.
pub fn done() -> Json<Done> {
    Json(Done { success: true })
}

/// A 202 response without data: the work was accepted and happens in the background.
pub struct Accepted;

impl IntoResponse for Accepted {
    fn into_response(self) -> Response {
        (StatusCode::ACCEPTED, done()).into_response()
    }
}

impl OperationOutput for Accepted {
    type Inner = Done;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        Json::<Done>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|response| vec![(Some(202), response)])
            .unwrap_or_default()
    }
}

/// A 201 response with `data` in the envelope.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, ok(self.0)).into_response()
    }
}

impl<T: schemars::JsonSchema> OperationOutput for Created<T> {
    type Inner = Envelope<T>;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        Json::<Envelope<T>>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|response| vec![(Some(201), response)])
            .unwrap_or_default()
    }
}

/// Every error status an operation may answer, each with the error envelope.
const ERROR_RESPONSES: [(u16, &str); 9] = [
    (
        400,
        "Validation error (`fields` names each bad field) or malformed request",
    ),
    (401, "Missing, invalid or expired credentials"),
    (403, "Not allowed for this account"),
    (404, "Not found"),
    (409, "Conflicts with existing data"),
    (413, "Request body too large"),
    (415, "Content-Type is not application/json"),
    (429, "Rate limited; see Retry-After"),
    (500, "Internal error"),
];

impl OperationOutput for AppError {
    type Inner = ErrorBody;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        Json::<ErrorBody>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, ApiResponse)> {
        let Some(response) = Self::operation_response(ctx, operation) else {
            return Vec::new();
        };
        ERROR_RESPONSES
            .iter()
            .map(|(status, description)| {
                (
                    Some(*status),
                    ApiResponse {
                        description: (*description).to_owned(),
                        ..response.clone()
                    },
                )
            })
            .collect()
    }
}
