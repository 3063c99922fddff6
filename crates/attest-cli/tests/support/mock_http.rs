//! A scriptable HTTP/1.1 server on 127.0.0.1 for tests: a closure answers
//! each request; every request (method, path with query, headers) is logged.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, …
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lower-cased header names.
    pub headers: HashMap<String, String>,
    /// The request body.
    pub body: Vec<u8>,
}

/// A response to send.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Advertise this Content-Length instead of the body's (then close).
    pub claimed_length: Option<u64>,
}

impl Response {
    /// 200 with a JSON body.
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.into(),
            claimed_length: None,
        }
    }
    /// A status with a JSON error body.
    pub fn status(status: u16, message: &str) -> Self {
        let mut r = Self::json(format!(r#"{{"message":"{message}"}}"#));
        r.status = status;
        r
    }
    /// Add a header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A running server.
pub struct MockServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Arc<Mutex<Vec<Request>>>,
}

impl MockServer {
    /// Start answering with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let l = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (h, l) = (handler.clone(), l.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &*h, &l);
                });
            }
        });
        Self { base, log }
    }

    /// Requests so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    // Read the whole body before answering: closing a socket with unread
    // data makes the client see a reset instead of the answer.
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    std::io::Read::read_exact(&mut reader, &mut body)?;
    let req = Request {
        method,
        path,
        headers,
        body,
    };
    log.lock().unwrap().push(req.clone());
    let resp = handler(&req);
    let mut out = stream;
    write!(out, "HTTP/1.1 {} X\r\n", resp.status)?;
    for (k, v) in &resp.headers {
        write!(out, "{k}: {v}\r\n")?;
    }
    let len = resp.claimed_length.unwrap_or(resp.body.len() as u64);
    write!(out, "Content-Length: {len}\r\nConnection: close\r\n\r\n")?;
    out.write_all(&resp.body)?;
    out.flush()
}
