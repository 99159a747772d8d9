//! Where mail goes: an ordered list of transports (SMTP, or `.eml` files), each send
//! bounded by a timeout, the next transport tried when one fails.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    transport::smtp::PoolConfig,
};
use serde::Serialize;
use tokio::sync::Mutex;

use super::config::{MailConfig, TransportUrl};
use crate::error::{AppError, AppResult};

/// How long a `/ready` probe of the transports is remembered, so a busy health
/// checker does not open an SMTP connection per request.
const PROBE_KEPT: Duration = Duration::from_secs(10);

/// An SMTP connection idle this long is closed (below the usual server timeouts of a
/// minute or more, so the pool never hands out a connection the server dropped).
const SMTP_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One way to send: lettre's transports have different associated types, so an enum.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// A transport and the name it is shown by (its URL, password masked).
struct NamedTransport {
    name: String,
    transport: Transport,
}

/// Whether a transport could take mail when last probed.
#[derive(Clone, Debug, Serialize)]
pub struct TransportHealth {
    /// The transport's URL, password masked.
    pub transport: String,
    pub reachable: bool,
}

/// Sends mail through the configured transports, in order.
pub struct Mailer {
    transports: Vec<NamedTransport>,
    timeout: Duration,
    last_probe: Mutex<Option<(Instant, Vec<TransportHealth>)>>,
}

impl Mailer {
    /// The transports of `config`; `.eml` files under `<data_dir>/mail` when none is
    /// configured. Each SMTP transport keeps up to `connections` connections open (one
    /// per email worker of this process).
    pub fn new(config: &MailConfig, data_dir: &Path, connections: usize) -> AppResult<Self> {
        let timeout = Duration::from_secs(config.mail_send_timeout_secs.max(1));
        let transports = if config.mail_transports.is_empty() {
            vec![file_transport(&data_dir.join("mail"))?]
        } else {
            config
                .mail_transports
                .iter()
                .map(|url| transport_for(url, timeout, connections))
                .collect::<AppResult<_>>()?
        };
        Ok(Self {
            transports,
            timeout,
            last_probe: Mutex::new(None),
        })
    }

    /// Sends `message` through the first transport that takes it within the timeout;
    /// returns that transport's name, or every transport's error.
    pub async fn send(&self, message: &Message) -> Result<String, String> {
        let mut errors = Vec::new();
        for named in &self.transports {
            let sent = tokio::time::timeout(self.timeout, async {
                match &named.transport {
                    Transport::Smtp(smtp) => smtp
                        .send(message.clone())
                        .await
                        .map(drop)
                        .map_err(|err| err.to_string()),
                    Transport::File(file, _) => file
                        .send(message.clone())
                        .await
                        .map(drop)
                        .map_err(|err| err.to_string()),
                }
            })
            .await;
            match sent {
                Ok(Ok(())) => return Ok(named.name.clone()),
                Ok(Err(err)) => errors.push(format!("{}: {err}", named.name)),
                Err(_) => errors.push(format!(
                    "{}: no answer within {} s",
                    named.name,
                    self.timeout.as_secs()
                )),
            }
            tracing::warn!(transport = %named.name, "mail transport failed; trying the next");
        }
        Err(errors.join("; "))
    }

    /// Whether each transport can take mail now (remembered for a few seconds; callers
    /// arriving during a probe wait for its answer instead of probing again).
    pub async fn probe(&self) -> Vec<TransportHealth> {
        let mut last = self.last_probe.lock().await;
        if let Some((at, health)) = last.as_ref()
            && at.elapsed() < PROBE_KEPT
        {
            return health.clone();
        }
        let mut health = Vec::with_capacity(self.transports.len());
        for named in &self.transports {
            let reachable = match &named.transport {
                Transport::Smtp(smtp) => tokio::time::timeout(self.timeout, smtp.test_connection())
                    .await
                    .is_ok_and(|answer| answer.unwrap_or(false)),
                Transport::File(_, dir) => dir.is_dir(),
            };
            health.push(TransportHealth {
                transport: named.name.clone(),
                reachable,
            });
        }
        *last = Some((Instant::now(), health.clone()));
        health
    }
}

fn transport_for(
    url: &TransportUrl,
    timeout: Duration,
    connections: usize,
) -> AppResult<NamedTransport> {
    if let Some(dir) = url.expose().strip_prefix("file://") {
        return file_transport(Path::new(dir));
    }
    let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
        .map_err(|err| AppError::Internal(format!("mail transport {}: {err}", url.masked())))?
        .timeout(Some(timeout))
        .pool_config(
            PoolConfig::new()
                .max_size(u32::try_from(connections.max(1)).unwrap_or(u32::MAX))
                .idle_timeout(SMTP_IDLE_TIMEOUT),
        )
        .build();
    Ok(NamedTransport {
        name: url.masked(),
        transport: Transport::Smtp(smtp),
    })
}

fn file_transport(dir: &Path) -> AppResult<NamedTransport> {
    std::fs::create_dir_all(dir).map_err(|err| {
        AppError::Internal(format!(
            "cannot create the mail folder {}: {err}",
            dir.display()
        ))
    })?;
    Ok(NamedTransport {
        name: format!("file://{}", dir.display()),
        transport: Transport::File(AsyncFileTransport::new(dir), dir.to_owned()),
    })
}
