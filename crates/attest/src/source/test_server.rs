//! A loopback HTTP server for the library's unit tests: it answers its
//! connections, in order, with the raw responses given (then stops
//! listening), and hands back each request's head. An empty response is a
//! stall: the request is read and the connection held open, unanswered.

use std::io::{Read, Write};
use std::sync::mpsc::Receiver;

/// Serve `responses` on 127.0.0.1; returns `http://ADDR` and the request
/// heads, one per connection answered.
pub(crate) fn serve(responses: Vec<Vec<u8>>) -> (String, Receiver<String>) {
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
    (url, rx)
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
