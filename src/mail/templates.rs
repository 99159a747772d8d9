//! The mail templates, embedded in the binary: an HTML and a plain-text body per kind
//! of mail, both extending one layout. `.html` templates escape every value; the
//! subject is built here, from the notification copy, with control characters removed.

use std::sync::LazyLock;

use minijinja::{Environment, value::Serde};
use serde::Serialize;

use super::content::MailContent;
use crate::{
    domain::notification_copy,
    error::{AppError, AppResult},
};

/// The templates, by name.
const TEMPLATES: [(&str, &str); 17] = [
    ("layout.html", include_str!("templates/layout.html")),
    ("layout.txt", include_str!("templates/layout.txt")),
    ("welcome.html", include_str!("templates/welcome.html")),
    ("welcome.txt", include_str!("templates/welcome.txt")),
    (
        "verify_email.html",
        include_str!("templates/verify_email.html"),
    ),
    (
        "verify_email.txt",
        include_str!("templates/verify_email.txt"),
    ),
    (
        "password_reset.html",
        include_str!("templates/password_reset.html"),
    ),
    (
        "password_reset.txt",
        include_str!("templates/password_reset.txt"),
    ),
    (
        "confirm_new_email.html",
        include_str!("templates/confirm_new_email.html"),
    ),
    (
        "confirm_new_email.txt",
        include_str!("templates/confirm_new_email.txt"),
    ),
    (
        "email_changed.html",
        include_str!("templates/email_changed.html"),
    ),
    (
        "email_changed.txt",
        include_str!("templates/email_changed.txt"),
    ),
    (
        "notifications.html",
        include_str!("templates/notifications.html"),
    ),
    (
        "notifications.txt",
        include_str!("templates/notifications.txt"),
    ),
    (
        "weekly_digest.html",
        include_str!("templates/weekly_digest.html"),
    ),
    (
        "weekly_digest.txt",
        include_str!("templates/weekly_digest.txt"),
    ),
    (
        "unsubscribe_page.html",
        include_str!("templates/unsubscribe_page.html"),
    ),
];

/// A notification mail lists at most this many notifications, then "… and N more".
pub const MAX_LISTED_NOTIFICATIONS: usize = 10;

/// The longest subject, in characters.
const MAX_SUBJECT_CHARS: usize = 150;

static ENVIRONMENT: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    for (name, source) in TEMPLATES {
        environment
            .add_template(name, source)
            .map_err(|err| format!("mail template {name}: {err}"))?;
    }
    Ok(environment)
});

/// The parts of a mail around its content: who it greets and where its links lead.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Frame {
    pub username: String,
    /// The account link (verify, reset, confirm) of transactional mail.
    pub action_url: Option<String>,
    /// How long `action_url` works, in words.
    pub expires_in: Option<String>,
    /// The one-click unsubscribe link of non-transactional mail.
    pub unsubscribe_url: Option<String>,
    /// What unsubscribing stops, in words.
    pub category_description: Option<String>,
    pub preferences_url: String,
    pub notifications_url: String,
    /// The open-tracking pixel.
    pub pixel_url: Option<String>,
}

/// A mail ready to send.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Renders template `name` with `context`.
fn render_template(name: &str, context: &minijinja::Value) -> AppResult<String> {
    ENVIRONMENT
        .as_ref()
        .map_err(|err| AppError::Internal(err.clone()))?
        .get_template(name)
        .and_then(|template| template.render(context))
        .map_err(|err| AppError::Internal(format!("mail template {name}: {err}")))
}

/// Renders `content` (its URLs already in their final, tracked form) in `frame`.
pub fn render(content: &MailContent, frame: &Frame) -> AppResult<Rendered> {
    let subject = subject(content);
    let (listed, more) = match content {
        MailContent::Notifications { items, .. } => (
            items.len().min(MAX_LISTED_NOTIFICATIONS),
            items.len().saturating_sub(MAX_LISTED_NOTIFICATIONS),
        ),
        _ => (0, 0),
    };
    let mut shown = content.clone();
    if let MailContent::Notifications { items, .. } = &mut shown {
        items.truncate(listed);
    }
    let context = minijinja::context! {
        subject => &subject,
        summary => summary(content),
        more => more,
        content => Serde(&shown),
        ..minijinja::Value::from(Serde(frame))
    };
    let template = template_name(content);
    let render = |extension: &str| render_template(&format!("{template}.{extension}"), &context);
    Ok(Rendered {
        html: render("html")?,
        text: render("txt")?,
        subject,
    })
}

/// The page an unsubscribe link opens: a button posting `token`.
pub fn unsubscribe_page(token: &str) -> AppResult<String> {
    let token = super::query_value(token);
    render_template(
        "unsubscribe_page.html",
        &minijinja::context! { token => &token },
    )
}

fn template_name(content: &MailContent) -> &'static str {
    match content {
        MailContent::Notifications { .. } => "notifications",
        other => other.kind(),
    }
}

/// A line that sums a coalesced notification mail up ("3 new followers").
fn summary(content: &MailContent) -> Option<String> {
    match content {
        MailContent::Notifications {
            notification_type,
            items,
        } => Some(notification_copy::mail_summary(
            *notification_type,
            items.len(),
        )),
        _ => None,
    }
}

/// The subject: the notification itself when there is one, else the summary.
fn subject(content: &MailContent) -> String {
    let subject = match content {
        MailContent::Welcome => "Welcome to Sparkle Universe: confirm your email".to_owned(),
        MailContent::VerifyEmail => "Confirm your email address".to_owned(),
        MailContent::PasswordReset => "Reset your Sparkle Universe password".to_owned(),
        MailContent::ConfirmNewEmail { .. } => "Confirm your new email address".to_owned(),
        MailContent::EmailChanged { .. } => {
            "The email address of your account was changed".to_owned()
        }
        MailContent::Notifications { items, .. } if items.len() == 1 => items[0].message.clone(),
        MailContent::Notifications { .. } => summary(content).unwrap_or_default(),
        MailContent::WeeklyDigest { .. } => "Your week on Sparkle Universe".to_owned(),
    };
    header_safe(&subject, MAX_SUBJECT_CHARS)
}

/// `text` fit for a mail header: control characters (CR and LF among them) become
/// spaces, runs of spaces one, and it is cut at `max_chars`.
pub fn header_safe(text: &str, max_chars: usize) -> String {
    let mut safe = String::with_capacity(text.len().min(max_chars * 4));
    let mut chars = 0;
    for word in text
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|word| !word.is_empty())
    {
        let needed = word.chars().count() + usize::from(chars > 0);
        if chars + needed > max_chars {
            if chars == 0 {
                safe.extend(word.chars().take(max_chars));
            }
            break;
        }
        if chars > 0 {
            safe.push(' ');
        }
        safe.push_str(word);
        chars += needed;
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::header_safe;

    #[test]
    fn header_safe_text_has_no_line_breaks() {
        assert_eq!(header_safe("a\r\nBcc: x@y\n\tz", 100), "a Bcc: x@y z");
        assert_eq!(header_safe("one two three", 7), "one two");
        assert_eq!(header_safe("abcdefgh", 3), "abc");
    }
}
