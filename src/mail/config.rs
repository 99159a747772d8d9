//! The email knobs: transports, sender, links, limits and coalescing.

use std::{fmt, str::FromStr};

use crate::config::mask_password;

/// Where mail goes and how much of it (README: "Email").
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Email")]
pub struct MailConfig {
    /// Transports tried in order, comma-separated: `smtp://host:25`,
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host`,
    /// or `file://<dir>` (one `.eml` file per mail). Unset: `.eml` files under
    /// `<DATA_DIR>/mail`.
    #[arg(long, global = true, env = "MAIL_TRANSPORTS", value_delimiter = ',', num_args = 0.., hide_env_values = true)]
    pub mail_transports: Vec<TransportUrl>,
    /// The sender of every mail.
    #[arg(
        long,
        global = true,
        env = "MAIL_FROM",
        default_value = "Sparkle Universe <no-reply@sparkle-universe.local>"
    )]
    pub mail_from: String,
    /// Seconds one transport gets to take a mail (connecting included) before the
    /// next is tried.
    #[arg(
        long,
        global = true,
        env = "MAIL_SEND_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub mail_send_timeout_secs: u64,
    /// The address of this API as mail recipients reach it (unsubscribe, tracking);
    /// unset: `http://HOST:PORT`.
    #[arg(long, global = true, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The address of the web app the account links lead to (verify, reset, confirm);
    /// unset: the public URL.
    #[arg(long, global = true, env = "APP_URL")]
    pub app_url: Option<String>,
    /// Non-transactional mails one recipient gets per day (UTC); more wait for the next day.
    #[arg(
        long,
        global = true,
        env = "MAIL_DAILY_LIMIT_PER_RECIPIENT",
        default_value_t = 20
    )]
    pub mail_daily_limit_per_recipient: u32,
    /// Mails sent per clock hour in all; more wait for the next hour (transactional
    /// mail counts, and is never held back).
    #[arg(long, global = true, env = "MAIL_HOURLY_LIMIT", default_value_t = 1000)]
    pub mail_hourly_limit: u32,
    /// Seconds notifications of one type wait to be mailed together as one mail.
    #[arg(long, global = true, env = "MAIL_COALESCE_SECS", default_value_t = 300)]
    pub mail_coalesce_secs: u64,
    /// Track opens (a pixel) and clicks (signed redirects) of non-transactional mail.
    #[arg(long, global = true, env = "MAIL_TRACKING", default_value_t = true, action = clap::ArgAction::Set)]
    pub mail_tracking: bool,
}

impl MailConfig {
    /// How long notifications of one type wait to be mailed together (at most a year).
    pub fn coalesce_window(&self) -> chrono::TimeDelta {
        crate::config::seconds_up_to_a_year(self.mail_coalesce_secs)
    }
}

/// A transport's URL; shown (in logs, `/ready`, the mail record) with its password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportUrl(String);

impl TransportUrl {
    /// The URL with its credentials, for the one place that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password masked.
    pub fn masked(&self) -> String {
        mask_password(&self.0)
    }
}

impl fmt::Debug for TransportUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl FromStr for TransportUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let scheme = s.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            Some("smtp" | "smtps" | "file") => Ok(Self(s.to_owned())),
            _ => Err(format!(
                "`{}`: a mail transport is smtp://, smtps:// or file://",
                mask_password(s)
            )),
        }
    }
}
