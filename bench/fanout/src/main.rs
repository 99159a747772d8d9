//! WebSocket fan-out load generator for sparkle (run by hand through
//! `bench/fanout.sh`, which builds and starts the server and creates the post).
//!
//! Opens N `graphql-transport-ws` connections to one server (anonymous
//! `connection_init`), subscribes each to `commentAdded` on one post, then posts a
//! comment on that post a few times and measures, for every subscriber, the time
//! from just before the trigger request is sent to the arrival of the `next`
//! message. Also reads the server's memory (VmRSS) from /proc before and after the
//! connections are opened.
//!
//! Usage: sparkle-fanout --server 127.0.0.1:PORT --post-id ID --token JWT
//!                       [--subscribers 10000] [--concurrency 100] [--events 3]
//!                       [--server-pid PID] [--settle-ms 1000] [--pause-ms 1000]
//!                       [--source-ips 0] [--event-timeout-s 60] [--connect-timeout-s 60]
//!                       [--clk-tck 100] [--stop-after subscribe] [--trigger-post-id ID]
//!
//! `--stop-after connect|init` stops each connection after the WebSocket handshake
//! or after `connection_ack` and sends no event: it only reports the server's memory,
//! to split the cost of a connection into socket, session and subscription.
//! `--trigger-post-id` comments on another post than the one subscribed to: nobody
//! should receive anything, and the server CPU it takes is the cost of an event that
//! concerns none of the subscribers.

use std::{
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::{Semaphore, mpsc},
};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{
        Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
    },
};

const QUERY: &str = "subscription($p: ID!) { commentAdded(postId: $p) { id createdAt } }";
const SUBSCRIPTION_ID: &str = "1";

struct Args {
    server: SocketAddr,
    post_id: String,
    /// The post the trigger comments on (default: `post_id`); another post measures
    /// what an event nobody subscribed to costs.
    trigger_post_id: Option<String>,
    token: String,
    subscribers: usize,
    concurrency: usize,
    events: usize,
    server_pid: Option<u32>,
    settle: Duration,
    pause: Duration,
    source_ips: u8,
    event_timeout: Duration,
    connect_timeout: Duration,
    clk_tck: u64,
    stop_after: Stage,
}

/// How far each connection goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    /// The WebSocket handshake only.
    Connect,
    /// `connection_init` acknowledged.
    Init,
    /// Subscribed (the whole benchmark).
    Subscribe,
}

fn usage() -> ! {
    eprintln!(
        "usage: sparkle-fanout --server HOST:PORT --post-id ID --token JWT [--subscribers N] \
         [--concurrency C] [--events E] [--server-pid PID] [--settle-ms MS] [--pause-ms MS] \
         [--source-ips K] [--event-timeout-s S] [--connect-timeout-s S] [--clk-tck HZ] \
         [--stop-after connect|init|subscribe] [--trigger-post-id ID]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut server = None;
    let mut post_id = None;
    let mut token = None;
    let mut args = Args {
        server: SocketAddr::from(([127, 0, 0, 1], 3000)),
        post_id: String::new(),
        trigger_post_id: None,
        token: String::new(),
        subscribers: 10_000,
        concurrency: 100,
        events: 3,
        server_pid: None,
        settle: Duration::from_millis(1000),
        pause: Duration::from_millis(1000),
        source_ips: 0,
        event_timeout: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(60),
        clk_tck: 100,
        stop_after: Stage::Subscribe,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let Some(value) = raw.next() else { usage() };
        let number = || value.parse::<u64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--server" => server = Some(value.parse().unwrap_or_else(|_| usage())),
            "--post-id" => post_id = Some(value.clone()),
            "--trigger-post-id" => args.trigger_post_id = Some(value.clone()),
            "--token" => token = Some(value.clone()),
            "--subscribers" => args.subscribers = number() as usize,
            "--concurrency" => args.concurrency = (number() as usize).max(1),
            "--events" => args.events = number() as usize,
            "--server-pid" => args.server_pid = Some(number() as u32),
            "--settle-ms" => args.settle = Duration::from_millis(number()),
            "--pause-ms" => args.pause = Duration::from_millis(number()),
            "--source-ips" => args.source_ips = u8::try_from(number().min(250)).unwrap_or(250),
            "--event-timeout-s" => args.event_timeout = Duration::from_secs(number()),
            "--connect-timeout-s" => args.connect_timeout = Duration::from_secs(number()),
            "--clk-tck" => args.clk_tck = number().max(1),
            "--stop-after" => {
                args.stop_after = match value.as_str() {
                    "connect" => Stage::Connect,
                    "init" => Stage::Init,
                    "subscribe" => Stage::Subscribe,
                    _ => usage(),
                }
            }
            _ => usage(),
        }
    }
    args.server = server.unwrap_or_else(|| usage());
    args.post_id = post_id.unwrap_or_else(|| usage());
    args.token = token.unwrap_or_else(|| usage());
    args
}

/// What a subscriber task tells the main task.
enum Report {
    /// Acknowledged and subscribed.
    Ready,
    /// Could not connect, initialise or subscribe.
    Failed { stage: &'static str, error: String },
    /// The `seq`-th `next` message (1-based) of the subscription arrived at `at`.
    Delivered {
        seq: usize,
        at: Instant,
        comment_id: Option<String>,
        errors: bool,
    },
    /// The connection ended, or got something other than `next`/`ping`/`pong`.
    Ended { why: String },
}

type Socket = WebSocketStream<TcpStream>;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Arc::new(parse_args());
    let n = args.subscribers;
    let pid = args.server_pid;

    println!(
        "sparkle fan-out: {n} subscribers to ws://{}/graphql/ws (graphql-transport-ws, anonymous), \
         commentAdded on post {}; {} event(s); connect concurrency {}{}",
        args.server,
        args.post_id,
        args.events,
        args.concurrency,
        if args.source_ips > 0 {
            format!(
                ", source addresses 127.0.0.2..=127.0.0.{}",
                1 + args.source_ips
            )
        } else {
            String::new()
        }
    );

    if args.stop_after != Stage::Subscribe {
        println!(
            "memory only: every connection stops after {:?}; no events",
            args.stop_after
        );
    }

    let rss_before = pid.and_then(memory);
    if let Some(m) = &rss_before {
        println!("server RSS before connecting: {}", m.describe());
    }

    // --- connect and subscribe -------------------------------------------------------
    let (reports, mut inbox) = mpsc::unbounded_channel::<Report>();
    let permits = Arc::new(Semaphore::new(args.concurrency));
    let overflows_before = listen_overflows();
    let started = Instant::now();
    for conn in 0..n {
        tokio::spawn(subscriber(
            conn,
            args.clone(),
            permits.clone(),
            reports.clone(),
        ));
    }
    drop(reports);

    let mut ready = 0usize;
    let mut failed = 0usize;
    let mut failures: Vec<String> = Vec::new();
    let mut last_progress = Instant::now();
    while ready + failed < n {
        match inbox.recv().await {
            Some(Report::Ready) => ready += 1,
            Some(Report::Failed { stage, error }) => {
                failed += 1;
                if failures.len() < 5 {
                    failures.push(format!("{stage}: {error}"));
                }
            }
            Some(Report::Ended { why }) => {
                // A socket that was ready and then ended during the connect phase.
                failed += 1;
                ready = ready.saturating_sub(1);
                if failures.len() < 5 {
                    failures.push(format!("ended after subscribing: {why}"));
                }
            }
            Some(Report::Delivered { .. }) => {}
            None => break,
        }
        if last_progress.elapsed() >= Duration::from_secs(2) {
            eprintln!(
                "  … {ready} subscribed, {failed} failed ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            last_progress = Instant::now();
        }
    }
    let connect_time = started.elapsed();
    println!(
        "{}: {ready}/{n} in {:.1} s ({:.0} connections/s); failed: {failed}",
        match args.stop_after {
            Stage::Connect => "connected",
            Stage::Init => "acknowledged",
            Stage::Subscribe => "subscribed",
        },
        connect_time.as_secs_f64(),
        ready as f64 / connect_time.as_secs_f64().max(1e-9),
    );
    if let (Some(a), Some(b)) = (overflows_before, listen_overflows())
        && b > a
    {
        println!(
            "  note: the kernel counted {} listen-queue overflows meanwhile (TcpExtListenOverflows, \
             machine-wide): connections whose SYN or ACK was dropped and retried a second later; \
             lower --concurrency below the server's listen backlog (128)",
            b - a
        );
    }
    for failure in &failures {
        println!("  failure: {failure}");
    }
    if ready == 0 {
        eprintln!("error: no subscriber connected");
        return ExitCode::FAILURE;
    }

    // --- let the server register every subscription ---------------------------------
    tokio::time::sleep(args.settle).await;
    settle(pid, args.clk_tck, "after subscribing").await;

    let rss_after = pid.and_then(memory);
    let generator = memory_of("/proc/self/status");
    if let (Some(before), Some(after)) = (&rss_before, &rss_after) {
        let per = (after.rss_kib as f64 - before.rss_kib as f64) / ready as f64;
        let per_anon = (after.anon_kib as f64 - before.anon_kib as f64) / ready as f64;
        println!(
            "server RSS with every connection open: {}",
            after.describe()
        );
        println!(
            "server memory per connection: {per:.1} KiB (VmRSS), {per_anon:.1} KiB (RssAnon) \
             over {ready} connections"
        );
    }
    if let Some(g) = &generator {
        println!("(load generator's own RSS: {})", g.describe());
    }

    if args.stop_after != Stage::Subscribe {
        return ExitCode::SUCCESS;
    }

    // --- events ----------------------------------------------------------------------
    let mut alive = ready;
    let mut results: Vec<EventResult> = Vec::new();
    for event in 1..=args.events {
        if event > 1 {
            tokio::time::sleep(args.pause).await;
            settle(pid, args.clk_tck, "between events").await;
        }
        let cpu_before = pid.and_then(cpu_ticks);
        let own_cpu_before = own_cpu_ticks();
        let machine_before = machine_busy_ticks();
        let t0 = Instant::now();
        let trigger = post_comment(&args, event).await;
        let http_elapsed = t0.elapsed();
        let (status, comment_id) = match trigger {
            Ok(answer) => answer,
            Err(err) => {
                eprintln!("error: event {event}: the trigger request failed: {err}");
                return ExitCode::FAILURE;
            }
        };
        if status != 201 {
            eprintln!("error: event {event}: POST …/comments answered {status}");
            return ExitCode::FAILURE;
        }

        let deadline = tokio::time::Instant::from_std(t0 + args.event_timeout);
        let mut latencies: Vec<Duration> = Vec::with_capacity(alive);
        let mut wrong = 0usize;
        let mut stale = 0usize;
        let mut ended = 0usize;
        while latencies.len() + wrong < alive {
            match tokio::time::timeout_at(deadline, inbox.recv()).await {
                Ok(Some(Report::Delivered {
                    seq,
                    at,
                    comment_id: got,
                    errors,
                })) => {
                    if seq != event {
                        stale += 1;
                    } else if errors || got.is_none() || got != comment_id {
                        wrong += 1;
                    } else {
                        latencies.push(at.saturating_duration_since(t0));
                    }
                }
                Ok(Some(Report::Ended { why })) => {
                    ended += 1;
                    alive -= 1;
                    if ended <= 3 {
                        eprintln!("  a subscriber ended: {why}");
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let cpu_ms = match (cpu_before, pid.and_then(cpu_ticks)) {
            (Some(a), Some(b)) => Some((b - a) * 1000 / args.clk_tck),
            _ => None,
        };
        let own_cpu_ms = match (own_cpu_before, own_cpu_ticks()) {
            (Some(a), Some(b)) => Some((b - a) * 1000 / args.clk_tck),
            _ => None,
        };
        // Everything else the machine ran meanwhile (other processes, interrupts).
        let others_ms = match (machine_before, machine_busy_ticks(), cpu_ms, own_cpu_ms) {
            (Some(a), Some(b), Some(server), Some(own)) => {
                Some(((b - a) * 1000 / args.clk_tck).saturating_sub(server + own))
            }
            _ => None,
        };
        latencies.sort();
        let result = EventResult {
            expected: ready,
            delivered: latencies.len(),
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            max: latencies.last().copied(),
        };
        println!(
            "event {event}: delivered {}/{ready}, p50 {}, p99 {}, max {} \
             (trigger answered {status} in {:.1} ms; CPU: server {} ms, generator {} ms, \
             rest of the machine (other processes, irq, softirq) {} ms{}{}{})",
            result.delivered,
            ms(result.p50),
            ms(result.p99),
            ms(result.max),
            http_elapsed.as_secs_f64() * 1000.0,
            cpu_ms.map_or("?".to_owned(), |c| c.to_string()),
            own_cpu_ms.map_or("?".to_owned(), |c| c.to_string()),
            others_ms.map_or("?".to_owned(), |c| c.to_string()),
            if wrong > 0 {
                format!("; {wrong} wrong payloads")
            } else {
                String::new()
            },
            if stale > 0 {
                format!("; {stale} late from earlier events")
            } else {
                String::new()
            },
            if ended > 0 {
                format!("; {ended} sockets ended")
            } else {
                String::new()
            },
        );
        results.push(result);
    }

    if let Some(end) = pid.and_then(memory) {
        println!("server RSS after the events: {}", end.describe());
    }

    // --- verdict ---------------------------------------------------------------------
    const P99_TARGET_MS: f64 = 500.0;
    const KIB_TARGET: f64 = 64.0;
    let all_delivered = failed == 0 && results.iter().all(|r| r.delivered == r.expected);
    let worst_p99 = results
        .iter()
        .filter_map(|r| r.p99)
        .max()
        .map(|d| d.as_secs_f64() * 1000.0);
    let latency_met = all_delivered
        && results.len() == args.events
        && worst_p99.is_some_and(|p| p <= P99_TARGET_MS);
    if args.trigger_post_id.is_some() {
        // Nobody subscribed to the post commented on: only the cost is of interest.
        let delivered: usize = results.iter().map(|r| r.delivered).sum();
        println!(
            "events on another post: {delivered} deliveries (expected 0); \
             the server CPU per event is what an unrelated event costs"
        );
    } else {
        println!(
            "target p99 <= {P99_TARGET_MS} ms with every subscriber served: {} (worst p99 {}{})",
            if latency_met { "MET" } else { "MISSED" },
            worst_p99.map_or("?".to_owned(), |p| format!("{p:.1} ms")),
            if all_delivered {
                ""
            } else {
                "; not every subscriber connected or got every event"
            }
        );
    }
    if let (Some(before), Some(after)) = (&rss_before, &rss_after) {
        let per = (after.rss_kib as f64 - before.rss_kib as f64) / ready as f64;
        println!(
            "target <= {KIB_TARGET} KiB of server memory per connection: {} ({per:.1} KiB)",
            if per <= KIB_TARGET { "MET" } else { "MISSED" }
        );
    }
    // Leave without closing 10k sockets one by one; the kernel closes them.
    ExitCode::SUCCESS
}

struct EventResult {
    expected: usize,
    delivered: usize,
    p50: Option<Duration>,
    p99: Option<Duration>,
    max: Option<Duration>,
}

/// Nearest-rank percentile of sorted `values`.
fn percentile(values: &[Duration], p: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}

fn ms(value: Option<Duration>) -> String {
    value.map_or("-".to_owned(), |d| {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    })
}

// --- one subscriber --------------------------------------------------------------------

async fn subscriber(
    conn: usize,
    args: Arc<Args>,
    permits: Arc<Semaphore>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let Ok(permit) = permits.acquire_owned().await else {
        return;
    };
    let opened = tokio::time::timeout(args.connect_timeout, open(conn, &args)).await;
    drop(permit);
    let mut socket = match opened {
        Ok(Ok(socket)) => socket,
        Ok(Err((stage, error))) => {
            let _ = reports.send(Report::Failed { stage, error });
            return;
        }
        Err(_) => {
            let _ = reports.send(Report::Failed {
                stage: "connect",
                error: format!("not subscribed within {:?}", args.connect_timeout),
            });
            return;
        }
    };
    let _ = reports.send(Report::Ready);

    let mut seq = 0usize;
    let why = loop {
        let Some(frame) = socket.next().await else {
            break "the server closed the stream".to_owned();
        };
        // Timestamp first: parsing is the generator's cost, not the server's.
        let at = Instant::now();
        match frame {
            Ok(Message::Text(text)) => {
                let Ok(message) = serde_json::from_str::<Value>(&text) else {
                    break format!("not JSON: {text}");
                };
                match message["type"].as_str() {
                    Some("ping") => {
                        if socket
                            .send(text_message(json!({ "type": "pong" })))
                            .await
                            .is_err()
                        {
                            break "cannot answer ping".to_owned();
                        }
                    }
                    Some("pong") => {}
                    Some("next") if message["id"] == SUBSCRIPTION_ID => {
                        seq += 1;
                        let payload = &message["payload"];
                        let _ = reports.send(Report::Delivered {
                            seq,
                            at,
                            comment_id: payload["data"]["commentAdded"]["id"]
                                .as_str()
                                .map(str::to_owned),
                            errors: !payload["errors"].is_null(),
                        });
                    }
                    _ => break format!("unexpected message: {text}"),
                }
            }
            Ok(Message::Close(frame)) => break format!("closed by the server: {frame:?}"),
            Ok(_) => {}
            Err(err) => break format!("socket error: {err}"),
        }
    };
    let _ = reports.send(Report::Ended { why });
}

fn text_message(value: Value) -> Message {
    Message::Text(value.to_string().into())
}

/// Connects, initialises and subscribes; returns the socket once acknowledged.
async fn open(conn: usize, args: &Args) -> Result<Socket, (&'static str, String)> {
    let tcp = if args.source_ips > 0 {
        let octet = 2 + (conn % usize::from(args.source_ips)) as u8;
        let socket = TcpSocket::new_v4().map_err(|e| ("socket", e.to_string()))?;
        socket
            .bind(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::new(127, 0, 0, octet),
                0,
            )))
            .map_err(|e| ("bind", e.to_string()))?;
        socket
            .connect(args.server)
            .await
            .map_err(|e| ("connect", e.to_string()))?
    } else {
        TcpStream::connect(args.server)
            .await
            .map_err(|e| ("connect", e.to_string()))?
    };
    tcp.set_nodelay(true)
        .map_err(|e| ("nodelay", e.to_string()))?;

    let mut request = format!("ws://{}/graphql/ws", args.server)
        .into_client_request()
        .map_err(|e| ("request", e.to_string()))?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    // Small client buffers: 10k sockets with tungstenite's 128 KiB defaults would
    // make the generator itself a memory hog on the same machine.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (mut socket, _) = client_async_with_config(request, tcp, Some(config))
        .await
        .map_err(|e| ("handshake", e.to_string()))?;
    if args.stop_after == Stage::Connect {
        return Ok(socket);
    }

    socket
        .send(text_message(
            json!({ "type": "connection_init", "payload": {} }),
        ))
        .await
        .map_err(|e| ("connection_init", e.to_string()))?;
    loop {
        let frame = socket
            .next()
            .await
            .ok_or(("connection_ack", "closed before the ack".to_owned()))?
            .map_err(|e| ("connection_ack", e.to_string()))?;
        match frame {
            Message::Text(text) => {
                let message: Value =
                    serde_json::from_str(&text).map_err(|e| ("connection_ack", e.to_string()))?;
                match message["type"].as_str() {
                    Some("connection_ack") => break,
                    Some("ping") => socket
                        .send(text_message(json!({ "type": "pong" })))
                        .await
                        .map_err(|e| ("pong", e.to_string()))?,
                    _ => return Err(("connection_ack", format!("unexpected: {text}"))),
                }
            }
            Message::Close(frame) => return Err(("connection_ack", format!("closed: {frame:?}"))),
            _ => {}
        }
    }
    if args.stop_after == Stage::Init {
        return Ok(socket);
    }
    socket
        .send(text_message(json!({
            "id": SUBSCRIPTION_ID,
            "type": "subscribe",
            "payload": { "query": QUERY, "variables": { "p": args.post_id } },
        })))
        .await
        .map_err(|e| ("subscribe", e.to_string()))?;
    Ok(socket)
}

// --- the trigger: one raw HTTP/1.1 request ------------------------------------------------

/// `POST /api/posts/{id}/comments`; returns the status and the new comment's id.
async fn post_comment(args: &Args, event: usize) -> Result<(u16, Option<String>), String> {
    let body = json!({ "content": format!("fan-out event {event}") }).to_string();
    let request = format!(
        "POST /api/posts/{}/comments HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        args.trigger_post_id.as_ref().unwrap_or(&args.post_id),
        args.server,
        args.token,
        body.len()
    );
    let mut stream = TcpStream::connect(args.server)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    tokio::time::timeout(args.event_timeout, stream.read_to_end(&mut answer))
        .await
        .map_err(|_| "no answer in time".to_owned())?
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP answer: {text}"))?;
    // The JSON envelope: from the first `{` of the body to its last `}` (works for
    // a Content-Length body and a single chunk alike).
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(start), Some(end)) if end > start => {
            serde_json::from_str::<Value>(&body[start..=end]).ok()
        }
        _ => None,
    };
    if status != 201 {
        eprintln!("trigger answer: {text}");
    }
    let id = json
        .as_ref()
        .and_then(|v| v["data"]["id"].as_str())
        .map(str::to_owned);
    Ok((status, id))
}

// --- /proc readings ----------------------------------------------------------------------

struct Memory {
    rss_kib: u64,
    anon_kib: u64,
    threads: u64,
}

impl Memory {
    fn describe(&self) -> String {
        format!(
            "{:.1} MiB VmRSS ({:.1} MiB RssAnon), {} threads",
            self.rss_kib as f64 / 1024.0,
            self.anon_kib as f64 / 1024.0,
            self.threads
        )
    }
}

fn memory(pid: u32) -> Option<Memory> {
    memory_of(&format!("/proc/{pid}/status"))
}

fn memory_of(path: &str) -> Option<Memory> {
    let status = std::fs::read_to_string(path).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|line| {
            line.strip_prefix(name)?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        anon_kib: field("RssAnon:").unwrap_or(0),
        threads: field("Threads:").unwrap_or(0),
    })
}

/// User + system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    cpu_ticks_of(&format!("/proc/{pid}/stat"))
}

/// The generator's own CPU time, in clock ticks.
fn own_cpu_ticks() -> Option<u64> {
    cpu_ticks_of("/proc/self/stat")
}

fn cpu_ticks_of(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: field 3 (state) is index 0, utime (14) index 11, stime (15) index 12.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Busy CPU time of the whole machine (all cores, everything but idle and iowait),
/// in clock ticks, from the first line of /proc/stat.
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
    let busy: u64 = fields.iter().take(8).sum::<u64>() - fields.get(3)? - fields.get(4)?;
    Some(busy)
}

/// The machine's `TcpExtListenOverflows` counter (/proc/net/netstat).
fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
    let names = lines.next()?;
    let values = lines.next()?;
    let index = names
        .split_whitespace()
        .position(|name| name == "ListenOverflows")?;
    values.split_whitespace().nth(index)?.parse().ok()
}

/// Waits (up to 60 s) until the server uses under 5% of a core over half a second.
async fn settle(pid: Option<u32>, clk_tck: u64, when: &str) {
    let Some(pid) = pid else { return };
    let started = Instant::now();
    let window = Duration::from_millis(500);
    loop {
        let Some(a) = cpu_ticks(pid) else { return };
        tokio::time::sleep(window).await;
        let Some(b) = cpu_ticks(pid) else { return };
        let busy = (b - a) as f64 / clk_tck as f64 / window.as_secs_f64();
        if busy < 0.05 {
            if started.elapsed() > Duration::from_secs(1) {
                eprintln!(
                    "  server idle {when} after {:.1} s more",
                    started.elapsed().as_secs_f64()
                );
            }
            return;
        }
        if started.elapsed() > Duration::from_secs(60) {
            eprintln!(
                "  server still busy ({:.0}% of a core) {when}; going on",
                busy * 100.0
            );
            return;
        }
    }
}
