//! `cosign-compat`: cosign-compatible signatures with keys that live anywhere.

mod advice;
mod bundle;
mod cli;
mod commands;
mod lock;

use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Parser;

use crate::cli::{AttachCommand, Cli, Command};
use crate::commands::Context;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |key: &str| std::env::var(key).ok();
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let mut ctx = Context {
        env: &env,
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
        now: SystemTime::now(),
    };
    let result = match cli.command {
        Command::Generate(args) => commands::generate(&mut ctx, args),
        Command::Sign(args) => commands::sign(&mut ctx, args),
        Command::Attach { what: AttachCommand::Signature(args) } => {
            commands::attach_signature(&mut ctx, args)
        }
        Command::Verify(args) => commands::verify(&mut ctx, args),
        Command::Triangulate(args) => commands::triangulate(&mut ctx, args),
        Command::TrustedRoot(args) => bundle::trusted_root(&mut ctx, &args),
        Command::Completion(args) => commands::completion(&mut ctx, &args),
        Command::Man(args) => commands::man(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = writeln!(stderr, "Error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
