//! A hostile OCI registry for tests: a std::net server on 127.0.0.1 whose
//! every answer comes from a handler, including answers no real registry
//! gives (a body that never ends, headers sent one byte at a time). Each
//! connection is answered once and closed; every request is logged with
//! its `Authorization` header, so tests can say where credentials went.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the client asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `HEAD`, ….
    pub method: String,
    /// The path and query, e.g. `/v2/octo/app/manifests/1.0`.
    pub path: String,
    /// The `Authorization` header, if the client sent one.
    pub authorization: Option<String>,
}

/// How to answer.
pub enum Reply {
    /// A complete answer.
    Full {
        /// Status code.
        status: u16,
        /// Extra headers (Content-Length is added).
        headers: Vec<(String, String)>,
        /// The body (not sent to a HEAD).
        body: Vec<u8>,
    },
    /// A 200 with these headers and a chunked body that never ends: 64 KiB
    /// chunks until the client hangs up or [`ENDLESS_CAP`] bytes are sent.
    Endless(Vec<(String, String)>),
    /// `HTTP/1.1 200 OK` then one more header byte every interval, forever.
    TrickleHeaders(Duration),
    /// Complete headers announcing a megabyte, then one body byte every
    /// interval, forever (a HEAD gets the headers alone).
    TrickleBody(Duration),
}

/// Most an endless body sends, so that a client without a limit fills its
/// memory with this much and no more (the test then sees it was all sent).
pub const ENDLESS_CAP: u64 = 512 * 1024 * 1024;

impl Reply {
    /// A 200 with a JSON body of `media_type`.
    pub fn json(media_type: &str, body: &[u8], digest: Option<&str>) -> Self {
        let mut headers = vec![("Content-Type".to_string(), media_type.to_string())];
        if let Some(d) = digest {
            headers.push(("Docker-Content-Digest".to_string(), d.to_string()));
        }
        Reply::Full {
            status: 200,
            headers,
            body: body.to_vec(),
        }
    }

    /// An error status with the registry's JSON error shape.
    pub fn error(status: u16, code: &str) -> Self {
        Reply::Full {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: format!(r#"{{"errors":[{{"code":"{code}","message":"{code}"}}]}}"#).into_bytes(),
        }
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running fake registry.
pub struct FakeRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Every request, in order.
    pub log: Arc<Mutex<Vec<Request>>>,
    /// Body bytes written by endless answers before the client hung up.
    pub streamed: Arc<AtomicU64>,
}

impl FakeRegistry {
    /// Serve `handler` on a free loopback port until the test process ends.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let streamed = Arc::new(AtomicU64::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (l, s) = (log.clone(), streamed.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, log, streamed) = (handler.clone(), l.clone(), s.clone());
                std::thread::spawn(move || serve(stream, &*handler, &log, &streamed));
            }
        });
        Self {
            host,
            log,
            streamed,
        }
    }

    /// The requests so far, as `METHOD PATH`.
    pub fn requests(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The requests so far, with their `Authorization` headers.
    pub fn logged(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }
}

/// A `307 Temporary Redirect` to `location`.
pub fn redirect(location: &str) -> Reply {
    Reply::Full {
        status: 307,
        headers: vec![("Location".into(), location.into())],
        body: Vec::new(),
    }
}

/// A `401` with `WWW-Authenticate: challenge`.
pub fn challenge(challenge: &str) -> Reply {
    Reply::Full {
        status: 401,
        headers: vec![
            ("WWW-Authenticate".into(), challenge.into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
            .to_vec(),
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>, streamed: &AtomicU64) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    // Headers up to the blank line; the reads we answer carry no body.
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            if name.trim().eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_string());
            }
        }
    }
    let mut parts = line.split_whitespace();
    let req = Request {
        method: parts.next().unwrap_or_default().to_string(),
        path: parts.next().unwrap_or_default().to_string(),
        authorization,
    };
    log.lock().unwrap().push(req.clone());
    let mut out = stream;
    match handler(&req) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            let _ = out.write_all(head.as_bytes());
            if req.method != "HEAD" {
                let _ = out.write_all(&body);
            }
        }
        Reply::Endless(headers) => {
            let mut head = "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
                .to_string();
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            if out.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            while streamed.load(Ordering::SeqCst) < ENDLESS_CAP {
                if out.write_all(&framed).is_err() {
                    return;
                }
                streamed.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            // Capped: hold the connection open, never finishing the body.
            std::thread::sleep(Duration::from_secs(3600));
        }
        Reply::TrickleHeaders(every) => {
            if out.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ").is_err() {
                return;
            }
            loop {
                std::thread::sleep(every);
                if out.write_all(b"a").and_then(|_| out.flush()).is_err() {
                    return;
                }
            }
        }
        Reply::TrickleBody(every) => {
            let head = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1048576\r\n\r\n";
            if out.write_all(head.as_bytes()).is_err() || req.method == "HEAD" {
                return;
            }
            loop {
                std::thread::sleep(every);
                if out.write_all(b"a").and_then(|_| out.flush()).is_err() {
                    return;
                }
            }
        }
    }
}
