//! `attest completions SHELL` and `attest man`: shell completion scripts and
//! man pages generated from the clap definitions at run time, so they always
//! match the flags of the binary that prints them (nothing to keep in sync,
//! nothing to ship beside the binary).

use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use crate::exit;
use crate::output::out;

/// `attest completions SHELL`.
#[derive(Debug, Args)]
#[command(after_help = "\
Install, for example:
    bash: attest completions bash > ~/.local/share/bash-completion/completions/attest
    zsh:  attest completions zsh > \"${fpath[1]}/_attest\"
    fish: attest completions fish > ~/.config/fish/completions/attest.fish
    PowerShell: attest completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `attest man [SUBCOMMAND...] [--dir DIR]`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Print the page of this subcommand (`attest man verify`, `attest man policy init`)
    /// instead of attest(1).
    pub subcommand: Vec<String>,
    /// Write every page (attest.1, attest-verify.1, …) into this directory
    /// instead of printing one, as packagers install them.
    #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
    pub dir: Option<PathBuf>,
}

/// Print the completion script for `args.shell`; returns the exit code.
pub fn run_completions(args: CompletionsArgs) -> i32 {
    let mut cmd = crate::full_command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "attest", &mut script);
    out::write_all(&script);
    exit::OK
}

/// Print a man page (roff) or write them all; returns the exit code.
pub fn run_man(args: ManArgs) -> i32 {
    // `help` is clap's own subcommand; it has no page of its own to offer.
    let mut cmd = crate::full_command().disable_help_subcommand(true);
    // Building gives every subcommand its display name (`attest-verify`),
    // which is the page's title and file name.
    cmd.build();
    if let Some(dir) = args.dir {
        return match clap_mangen::generate_to(cmd, &dir) {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!(
                    "Error: {}: cannot write the man pages: {}",
                    dir.display(),
                    attest::text::io_error(&e)
                );
                exit::OUTPUT
            }
        };
    }
    let mut page = cmd;
    for name in &args.subcommand {
        match page.find_subcommand(name) {
            Some(sub) => page = sub.clone(),
            None => {
                let known: Vec<&str> = page.get_subcommands().map(|s| s.get_name()).collect();
                eprintln!(
                    "Error: no subcommand {name:?}; expected one of: {}",
                    known.join(", ")
                );
                return exit::USAGE;
            }
        }
    }
    let mut roff = Vec::new();
    // A subcommand has no version of its own; the footer names attest's.
    let man = clap_mangen::Man::new(page).source(format!("attest {}", env!("CARGO_PKG_VERSION")));
    if let Err(e) = man.render(&mut roff) {
        eprintln!("Error: could not render the man page: {e}");
        return exit::INTERNAL;
    }
    out::write_all(&roff);
    exit::OK
}
