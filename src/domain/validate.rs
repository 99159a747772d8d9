//! Input rules of PRODUCT_RULES.md, collected per field so a client sees every
//! problem of a request at once.

use crate::error::{AppError, AppResult, FieldErrors};

/// Collects field errors; [`Validator::finish`] turns them into one VALIDATION_ERROR.
#[derive(Default)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    /// Records `message` for `field` unless `ok` (the first problem of a field wins).
    pub fn check(&mut self, field: &str, ok: bool, message: impl Into<String>) {
        if !ok && !self.errors.contains_key(field) {
            self.errors.insert(field.to_owned(), message.into());
        }
    }

    /// `value` must have `min..=max` characters.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let chars = value.chars().count();
        if min > 0 && value.trim().is_empty() {
            self.check(field, false, "must not be empty");
        }
        self.check(
            field,
            chars >= min,
            format!("must be at least {min} characters"),
        );
        self.check(
            field,
            chars <= max,
            format!("must be at most {max} characters"),
        );
    }

    /// An optional `value` must have at most `max` characters.
    pub fn max_length(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.length(field, value, 0, max);
        }
    }

    /// `value`, when present, must be an absolute http(s) URL.
    pub fn url(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            self.check(field, is_http_url(value), "must be an http(s) URL");
        }
    }

    /// An image field: an http(s) URL, or the id of an upload (whose owner and kind
    /// are checked where it is used: `media::images::choose`).
    pub fn image(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value.filter(|value| !value.trim().is_empty()) {
            self.check(
                field,
                is_http_url(value) || crate::media::images::is_media_id(value),
                "must be an http(s) URL or the id of one of your uploaded images",
            );
        }
    }

    /// Ok, or every recorded problem.
    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

/// 3–30 characters of `[A-Za-z0-9_]`.
pub fn is_valid_username(username: &str) -> bool {
    (3..=30).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A plausible address: one `@`, a dotted domain, no spaces or control characters.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && email.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// Why `password` is too weak, if it is: 8+ characters with upper, lower and digit.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < 8 {
        Some("must be at least 8 characters")
    } else if password.len() > 256 {
        Some("must be at most 256 bytes")
    } else if !password.chars().any(char::is_uppercase)
        || !password.chars().any(char::is_lowercase)
        || !password.chars().any(|c| c.is_ascii_digit())
    {
        Some("must contain an upper-case letter, a lower-case letter and a digit")
    } else {
        None
    }
}

fn is_http_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    value.len() <= 2048
        && rest.is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && rest.chars().all(|c| !c.is_whitespace() && !c.is_control())
        })
}
