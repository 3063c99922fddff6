//! `attest trusted-root`: print the trusted roots as gh does (JSONL, one
//! line per instance, each the TUF target compacted), after verifying them
//! over TUF. The output is what `--custom-trusted-root` takes, for offline
//! and air-gapped verification.

use std::path::PathBuf;

use attest::trust::tuf::{
    compact_json, fetch_target, TufError, TufRepository, TRUSTED_ROOT_TARGET,
};
use clap::Args;

use crate::exit;
use crate::output::out;
use crate::settings::fetch_options;

/// Print the Sigstore public-good and GitHub trusted roots, verified over TUF.
#[derive(Debug, Args)]
pub struct TrustedRootArgs {
    /// URL of another TUF repository (with --tuf-root).
    #[arg(long, value_name = "URL", requires = "tuf_root")]
    pub tuf_url: Option<String>,

    /// Initial root.json to trust for --tuf-url.
    #[arg(long, value_name = "FILE", requires = "tuf_url")]
    pub tuf_root: Option<PathBuf>,

    /// Only update and verify the local TUF repository; print no roots.
    #[arg(long)]
    pub verify_only: bool,

    /// GitHub host: github.com, or a GHE.com tenant (whose trust domain is read
    /// from its API's /meta).
    #[arg(long, env = "GH_HOST", value_name = "HOST")]
    pub hostname: Option<String>,

    /// Use no network: print the roots from the verified TUF cache.
    #[arg(long, env = "ATTEST_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,

    /// Cache directory for TUF metadata (default: the platform cache directory).
    #[arg(long, env = "ATTEST_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Run `attest trusted-root`; returns the exit code.
pub fn run(args: TrustedRootArgs) -> i32 {
    if let Err(code) = crate::settings::refuse_offline_tenant(
        args.hostname.as_deref(),
        args.offline,
        "run this command online",
    ) {
        return code;
    }
    let tenant = match crate::fetch::tenant_trust_domain(args.hostname.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if let Some(host) = args.hostname.as_deref() {
        let host = host.trim().to_ascii_lowercase();
        if host != "github.com" && tenant.is_none() {
            eprintln!("Error: --hostname {host}: attestations exist on github.com and GHE.com tenants (*.ghe.com) only");
            return exit::USAGE;
        }
    }
    let repos = match (&args.tuf_url, &args.tuf_root) {
        // A root.json is a few KiB; the bound keeps /dev/zero out.
        (Some(url), Some(root)) => {
            match attest::artifact::read_text_file(root, 1024 * 1024, "a TUF root.json") {
                Ok(text) => vec![TufRepository {
                    url: url.clone(),
                    initial_root: text.into_bytes(),
                    target: TRUSTED_ROOT_TARGET.into(),
                }],
                Err(e) => {
                    eprintln!("Error: {}: {e}", root.display());
                    return exit::UNREADABLE;
                }
            }
        }
        _ => vec![
            TufRepository::public_good(),
            match &tenant {
                Some(td) => TufRepository::github_tenant(td),
                None => TufRepository::github(),
            },
        ],
    };
    let mut opts = fetch_options(args.offline, args.cache_dir.clone());
    // gh's trusted-root always refreshes; so do we, unless told to stay offline.
    opts.use_fresh_cache = false;
    for repo in &repos {
        let target = match fetch_target(repo, &opts) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Failed to verify the TUF repository: {e}");
                return match e {
                    TufError::Network { .. } | TufError::NoCache { .. } => exit::UNREADABLE,
                    _ => exit::VERIFICATION,
                };
            }
        };
        if let Some(why) = &target.cache_error {
            // --verify-only exists to leave a verified cache behind; without
            // one it has done nothing. Printing roots still succeeds.
            if args.verify_only {
                eprintln!("Error: {}: {why}", repo.url);
                return exit::UNREADABLE;
            }
            eprintln!("Warning: {}: {why}", repo.url);
        }
        detail!(
            "{}: {} ({} bytes)",
            repo.url,
            if target.from_network {
                "fetched and verified over TUF"
            } else {
                "verified from the cache"
            },
            target.bytes.len()
        );
        if args.verify_only {
            let what = if target.from_network {
                "updated and verified"
            } else {
                // Nothing was fetched: say only what was done.
                "verified from the cache (offline: not updated)"
            };
            out::line(&format!("Local TUF repository for {} {what}", repo.url));
            continue;
        }
        // Re-encoding keeps one copy of a member named twice; the printed
        // root must be the document TUF verified, so such a target is refused.
        if let Err(e) = attest::json::check_unique_keys(&target.bytes) {
            eprintln!("Error: {}: the trusted root target: {e}", repo.url);
            return exit::VERIFICATION;
        }
        let mut line = compact_json(&target.bytes);
        line.push(b'\n');
        out::write_all(&line);
    }
    exit::OK
}
