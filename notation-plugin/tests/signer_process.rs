//! The signer program as a process (issue 14): it dies with the plugin, it may use the terminal,
//! it does not see the plugin's secrets, and the log file is private.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    generate_request, key_file_config, path_value, plugin, process_gone, spec, toy_signer,
};

const PLUGIN: &str = env!("CARGO_BIN_EXE_notation-external-signer");

/// `pluginConfig` with the EC-256 chain and key, the signer program and more settings.
fn program_config(program: &Path, extra: &[(&str, &str)]) -> Value {
    let mut config = key_file_config(spec("ec-256"));
    config["signer"] = path_value(program);
    for (k, v) in extra {
        config[*k] = json!(v);
    }
    config
}

fn request(config: Value) -> Vec<u8> {
    serde_json::to_vec(&generate_request(spec("ec-256"), "k", b"payload", config)).unwrap()
}

/// Kills the listed processes (by pid) when dropped, so a failing test leaves nothing behind.
struct Reaper(Vec<u32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Waits up to `limit` for `path` to hold `count` pids.
fn wait_for_pids(path: &Path, count: usize, limit: Duration) -> Vec<u32> {
    let deadline = Instant::now() + limit;
    loop {
        let pids: Vec<u32> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if pids.len() == count {
            return pids;
        }
        assert!(Instant::now() < deadline, "{} never held {count} pids", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits up to `limit` for `child` to exit; kills it and fails when it does not.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Item 7: when the plugin is stopped by SIGTERM (CI), SIGINT (Ctrl-C), SIGHUP (terminal closed)
/// or SIGKILL (notation cancelled), the signer and the helper it started die too, long before the
/// signer's 10-minute deadline.
#[test]
fn signer_and_its_helpers_die_with_the_plugin() {
    for signal in ["TERM", "INT", "HUP", "KILL"] {
        let tmp = tempfile::tempdir().unwrap();
        let pid_file = tmp.path().join("pids");
        // `env --default-signal` (coreutils): a test run in the background of a shell inherits
        // SIGINT ignored, which the plugin would keep; notation's users press Ctrl-C in the
        // foreground. env execs the plugin, so the pid is the plugin's.
        let mut child = Command::new("env")
            .args(["--default-signal=INT,TERM,HUP", PLUGIN, "generate-signature"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .env("HANG_PID_FILE", &pid_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let config = program_config(&toy_signer("hang"), &[("signer_timeout", "600")]);
        child.stdin.take().unwrap().write_all(&request(config)).unwrap();
        let pids = wait_for_pids(&pid_file, 2, Duration::from_secs(60));
        let _reaper = Reaper(pids.clone());
        let status =
            Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        wait_bounded(&mut child, Duration::from_secs(60), "the plugin");
        for pid in pids {
            assert!(
                process_gone(pid, Duration::from_secs(30)),
                "SIG{signal}: signer process {pid} outlived the plugin"
            );
        }
    }
}

/// Runs `shell_command` with `sh` in a new pseudo-terminal (`script` from util-linux), typing
/// `typed` on it; returns when the shell exits.
fn in_terminal(shell_command: &str, typed: &[u8], env: &[(&str, &Path)]) {
    let mut child = Command::new("script")
        .args(["-qec", shell_command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("`script` (util-linux) runs the plugin in a pseudo-terminal");
    child.stdin.take().unwrap().write_all(typed).unwrap();
    wait_bounded(&mut child, Duration::from_secs(120), "script");
}

/// The files a plugin run inside `in_terminal` reads and writes.
struct TerminalRun {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl TerminalRun {
    fn new(config: Value) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        std::fs::write(dir.join("request.json"), request(config)).unwrap();
        Self { _tmp: tmp, dir }
    }

    /// `PLUGIN generate-signature <request.json >out.json 2>err.json`, quoted for `sh`.
    fn plugin_command(&self) -> String {
        let quote = |p: &Path| format!("'{}'", p.display());
        format!(
            "{} generate-signature <{} >{} 2>{}",
            quote(Path::new(PLUGIN)),
            quote(&self.dir.join("request.json")),
            quote(&self.dir.join("out.json")),
            quote(&self.dir.join("err.json"))
        )
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

/// Item 8: a signer that prompts for its PIN on `/dev/tty` gets the terminal while it runs
/// (the plugin makes the signer's process group the foreground group, and takes it back).
#[test]
fn signer_reading_the_terminal_gets_the_terminal() {
    let seen = tempfile::NamedTempFile::new().unwrap();
    let run = TerminalRun::new(program_config(&toy_signer("tty_pin"), &[("signer_timeout", "30")]));
    // After the plugin, the shell checks that the terminal is its own again.
    let command = format!(
        "{}; echo \"plugin exit $?\" >'{}/status'; ps -o tpgid= -p $$ >'{}/tpgid'; echo $$ >'{}/pgid'",
        run.plugin_command(),
        run.dir.display(),
        run.dir.display(),
        run.dir.display()
    );
    in_terminal(&command, b"1234\n", &[("TTY_SEEN_FILE", seen.path())]);
    assert_eq!(run.read("status").trim(), "plugin exit 0", "stderr: {}", run.read("err.json"));
    let response: Value = serde_json::from_str(&run.read("out.json")).unwrap();
    assert!(response["signature"].is_string(), "{response}");
    assert_eq!(std::fs::read_to_string(seen.path()).unwrap(), "1234");
    assert_eq!(run.read("tpgid").trim(), run.read("pgid").trim(), "the terminal was given back");
}

/// Item 8: when notation is a background job, the plugin cannot give the terminal away; a signer
/// that reads it is stopped by SIGTTIN, and the plugin says so at once instead of waiting for
/// `signer_timeout`.
#[test]
fn signer_reading_the_terminal_of_a_background_job_fails_clearly() {
    let seen = tempfile::NamedTempFile::new().unwrap();
    let run = TerminalRun::new(program_config(&toy_signer("tty_pin"), &[("signer_timeout", "60")]));
    let command = format!("set -m; {} & wait $!", run.plugin_command());
    in_terminal(&command, b"", &[("TTY_SEEN_FILE", seen.path())]);
    let error: Value = serde_json::from_str(&run.read("err.json"))
        .unwrap_or_else(|e| panic!("{e}: {:?}", run.read("err.json")));
    assert_eq!(error["errorCode"], "ERROR", "{error}");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(message.contains("stopped by SIGTTIN"), "{message}");
    assert!(message.contains("foreground"), "{message}");
    assert_eq!(run.read("out.json"), "");
}

/// Item 9: the plugin's own secrets are not in the signer's environment, unless `signer_env`
/// names them.
#[test]
fn plugin_secrets_reach_the_signer_only_when_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("env");
    let secrets = [
        ("EXTERNAL_PRIVATE_KEY_PASSWORD", "key-password"),
        ("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE", "/run/secrets/key-password"),
        ("EXTERNAL_PKCS11_PIN", "123456"),
        ("EXTERNAL_PKCS11_PIN_FILE", "/run/secrets/pin"),
    ];
    let run = |extra: &[(&str, &str)]| {
        let mut invocation = plugin("generate-signature")
            .stdin(request(program_config(&toy_signer("env_dump"), extra)))
            .env("ENV_DUMP_FILE", &dump);
        for (k, v) in secrets {
            invocation = invocation.env(k, v);
        }
        invocation.run().success();
        std::fs::read_to_string(&dump).unwrap()
    };
    let seen = run(&[]);
    for (name, value) in secrets {
        assert!(!seen.contains(name), "{name} reached the signer: {seen}");
        assert!(!seen.contains(value), "{name}'s value reached the signer: {seen}");
    }
    assert!(seen.contains("EXTERNAL_SIGNER_CONTRACT=1"), "{seen}");

    let seen = run(&[("signer_env", "EXTERNAL_PRIVATE_KEY_PASSWORD, EXTERNAL_PKCS11_PIN_FILE")]);
    let lines: Vec<&str> = seen.lines().collect();
    assert!(lines.contains(&"EXTERNAL_PRIVATE_KEY_PASSWORD=key-password"), "{seen}");
    assert!(lines.contains(&"EXTERNAL_PKCS11_PIN_FILE=/run/secrets/pin"), "{seen}");
    assert!(!seen.contains("EXTERNAL_PKCS11_PIN="), "{seen}");
    assert!(!seen.contains("EXTERNAL_PRIVATE_KEY_PASSWORD_FILE"), "{seen}");
}

/// Item 14: `EXTERNAL_SIGNER_LOG` is created 0600, an existing log readable by others is made
/// private, and a signer's long stderr is logged short.
#[test]
fn log_file_is_private_and_its_lines_short() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let existing = tmp.path().join("existing.log");
    std::fs::write(&existing, b"").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    for log in [tmp.path().join("new.log"), existing] {
        let out = plugin("generate-signature")
            .stdin(request(program_config(&toy_signer("stderr_flood"), &[])))
            .env("EXTERNAL_SIGNER_LOG", &log)
            .run();
        let (code, message) = out.failure();
        assert_eq!(code, "ERROR", "{message}");
        assert!(message.len() > 1000, "the error itself keeps the stderr: {message}");
        let mode = std::fs::metadata(&log).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}: mode {mode:o}", log.display());
        let text = std::fs::read_to_string(&log).unwrap();
        let line = text.lines().next().unwrap();
        assert!(line.contains("stderr flood"), "{line}");
        assert!(line.chars().count() < 400, "{} characters: {line}", line.chars().count());
    }
}
