//! A real OCI registry for tests: Debian's `docker-registry` (distribution
//! 2.8), started with a config of ours on `127.0.0.1:0` (it binds the port
//! itself and logs it, so no other process can take the port between a
//! probe and the bind), optionally with htpasswd basic auth; stopped when
//! dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry.
pub struct Registry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Requests answered so far (distribution logs each as "response
    /// completed"), for benchmarks that report requests made.
    answered: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    child: Child,
    _dir: tempfile::TempDir,
}

/// The user and password of an authenticated registry.
pub const USER: &str = "tester";
/// See [`USER`].
pub const PASSWORD: &str = "s3cret-pass";

fn binary() -> PathBuf {
    let path = PathBuf::from(
        std::env::var("ATTEST_REGISTRY_BIN").unwrap_or_else(|_| "/usr/bin/docker-registry".into()),
    );
    assert!(
        path.exists(),
        "{} not found: install Debian's docker-registry package (apt-get install docker-registry apache2-utils)",
        path.display()
    );
    path
}

impl Registry {
    /// Start a registry, with basic auth if `auth`.
    pub fn start(auth: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Info level: the one line that says which port it bound.
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n",
            dir.path().join("data").display()
        );
        if auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .expect("htpasswd (apache2-utils)");
            assert!(out.status.success());
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: attest-test\n    path: {}\n",
                file.display()
            ));
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        let mut child = Command::new(binary())
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start docker-registry");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = answered.clone();
        // Read the log until the registry names its address, then keep
        // draining it so the registry never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("msg=\"response completed") {
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                if let Some(addr) = listening_address(&line) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Ok(addr));
                    }
                } else if line.contains("level=fatal") || line.contains("level=panic") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Err(line));
                    }
                }
            }
        });
        let host = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(host)) => host,
            Ok(Err(line)) => panic!("docker-registry failed to start: {line}"),
            Err(_) => {
                let _ = child.kill();
                panic!("docker-registry did not log a listening address within 20 s")
            }
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(&host).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "registry at {host} does not accept connections"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            host,
            answered,
            child,
            _dir: dir,
        }
    }

    /// How many requests the registry has answered (its log lags the
    /// response by a moment: callers wait a little before reading).
    #[allow(dead_code)] // only the benchmarks count requests
    pub fn requests(&self) -> usize {
        self.answered.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in distribution's `msg="listening on 127.0.0.1:PORT"` line.
fn listening_address(line: &str) -> Option<String> {
    let rest = line.split("msg=\"listening on ").nth(1)?;
    let addr = rest.split('"').next()?;
    addr.starts_with("127.0.0.1:").then(|| addr.to_string())
}

/// A one-layer linux image for `arch` (distinct content per architecture),
/// to push with `attest::source::oci::push_image`.
#[allow(dead_code)] // not every test that starts a registry pushes images
pub fn image(arch: &str) -> attest::source::oci::ImageSpec {
    attest::source::oci::ImageSpec {
        platform: ("linux".into(), arch.into()),
        config: format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        )
        .into_bytes(),
        layers: vec![format!("layer for {arch}").into_bytes()],
    }
}
