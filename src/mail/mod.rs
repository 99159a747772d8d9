//! Email: every mail is recorded in `mails` and sent by a job of the `email` queue.
//!
//! - [`content`]: what each kind of mail says, as stored with it;
//! - [`templates`]: the embedded HTML and text templates, and safe subjects;
//! - [`transport`]: SMTP transports with fallback, or `.eml` files;
//! - [`outbox`]: queueing a mail in a write, and the job that sends it;
//! - [`limits`]: the per-recipient and overall sending limits;
//! - [`tracking`]: opens, clicks and the statistics per kind of mail;
//! - [`preferences`]: which mail each user wants, and one-click unsubscribe;
//! - [`bench`]: `sparkle bench-mail`, mails per second through the real workers.

pub mod bench;
pub mod config;
pub mod content;
pub mod limits;
pub mod outbox;
pub mod preferences;
pub mod templates;
pub mod tracking;
pub mod transport;

use lettre::message::Mailbox;

pub use config::MailConfig;
pub use content::{MailCategory, MailContent};
pub use outbox::queue_mail;

use crate::signing::LinkSigner;
use crate::{
    config::Config,
    error::{AppError, AppResult},
};
use transport::Mailer;

/// What sending mail needs: the transports, the sender, the link signer and the
/// addresses links point at.
pub struct MailService {
    pub mailer: Mailer,
    pub signer: LinkSigner,
    from: Mailbox,
    public_url: String,
    app_url: String,
    tracking: bool,
}

impl MailService {
    /// The mail service of `config`; links are signed with a key derived from `secret`.
    pub fn new(config: &Config, secret: &[u8]) -> AppResult<Self> {
        let mail = &config.mail;
        let from = mail.mail_from.parse().map_err(|err| {
            AppError::Internal(format!(
                "MAIL_FROM `{}` is not a mailbox: {err}",
                mail.mail_from
            ))
        })?;
        let public_url = config.public_url();
        let app_url = mail.app_url.clone().map_or_else(
            || public_url.clone(),
            |url| url.trim_end_matches('/').to_owned(),
        );
        Ok(Self {
            mailer: Mailer::new(
                mail,
                &config.server.data_dir,
                config.jobs.concurrency(crate::jobs::Queue::Email),
            )?,
            signer: LinkSigner::new(secret, "mail links"),
            from,
            public_url,
            app_url,
            tracking: mail.mail_tracking,
        })
    }

    /// The sender of every mail.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// A page of the web app (`path` starts with `/`).
    pub fn app_link(&self, path: &str) -> String {
        format!("{}{path}", self.app_url)
    }

    /// An address of this API (`path` starts with `/`).
    pub fn api_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Whether non-transactional mail carries tracked links and an open pixel.
    pub fn tracks(&self) -> bool {
        self.tracking
    }
}

/// `value` percent-encoded for a URL's query.
pub fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
