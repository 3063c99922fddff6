//! A loopback HTTP server for the library's unit tests: it answers its
//! connections, in order, with the raw responses given (then stops
//! listening), and hands back each request's head. An empty response is a
//! stall: the request is read and the connection held open, unanswered.

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryIter, TryRecvError};
use std::time::Duration;

/// The request heads a [`serve`] server read, in order.
pub(crate) struct Requests(Receiver<String>);

/// How long [`Requests::recv`] waits: far beyond any request a test makes,
/// short enough that code which stops asking fails the test rather than
/// hanging it (the server thread, waiting to accept, keeps the channel open).
const WAIT: Duration = Duration::from_secs(20);

impl Requests {
    /// The next request head, waiting at most 20 seconds for it.
    pub(crate) fn recv(&self) -> Result<String, RecvTimeoutError> {
        self.0.recv_timeout(WAIT)
    }

    /// The next request head if one has come.
    pub(crate) fn try_recv(&self) -> Result<String, TryRecvError> {
        self.0.try_recv()
    }

    /// The request heads that have come, without waiting.
    pub(crate) fn try_iter(&self) -> TryIter<'_, String> {
        self.0.try_iter()
    }
}

/// Serve `responses` on 127.0.0.1; returns `http://ADDR` and the request
/// heads, one per connection answered.
pub(crate) fn serve(responses: Vec<Vec<u8>>) -> (String, Requests) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for response in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => request.push(byte[0]),
                    _ => break,
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&request).into_owned());
            if response.is_empty() {
                held.push(stream);
            } else {
                let _ = stream.write_all(&response);
            }
        }
        if !held.is_empty() {
            // Longer than any test waits for an answer.
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    });
    (url, Requests(rx))
}

/// An HTTP/1.1 response with `headers` (each ending in CRLF) and `body`.
pub(crate) fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}
