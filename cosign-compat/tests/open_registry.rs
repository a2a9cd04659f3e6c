//! `OciRegistry` against an in-process HTTP server that answers what a test scripts: the
//! requests an open registry gets, and what cosign-compat makes of odd answers (redirects,
//! missing headers, oversized or corrupted content, error statuses). The real registries are in
//! `tests/e2e/cosign.sh`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use cosign_compat::registry::MAX_MANIFEST_LEN;
use cosign_compat::{
    Digest, OciRegistry, Registry, RegistryError, RegistryOptions, Repository, media_type,
};

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// An answer: status, headers, body.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn new(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new() }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

type Handler = dyn Fn(&Seen, &str) -> Answer + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 answering every request with `handler(request, address)`,
/// keeping what it saw.
struct Server {
    address: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(handler: impl Fn(&Seen, &str) -> Answer + Send + Sync + 'static) -> Self {
        Self::start_on("127.0.0.1", handler)
    }

    /// On another loopback address (`127.0.0.2` is not one cosign-compat talks plain HTTP to
    /// by default).
    fn start_on(ip: &str, handler: impl Fn(&Seen, &str) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log, addr) = (Arc::clone(&seen), address.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (log, handler, addr) = (Arc::clone(&log), Arc::clone(&handler), addr.clone());
                thread::spawn(move || serve(stream, &*handler, &log, &addr));
            }
        });
        Self { address, seen }
    }

    fn repository(&self) -> Repository {
        Repository::parse(&format!("{}/app", self.address)).unwrap()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves one keep-alive connection.
fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Seen>>, address: &str) {
    // A TLS handshake (record type 22) is not HTTP: close, as a plain-HTTP registry's TLS
    // error would end the attempt.
    let mut first = [0_u8; 1];
    if stream.peek(&mut first).unwrap_or(0) == 0 || first[0] == 0x16 {
        return;
    }
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or(""));
        let target = target.to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':').unwrap();
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
        let mut seen = Seen { method, target, headers, body: Vec::new() };
        let len = seen.header("content-length").map_or(0, |v| v.parse::<usize>().unwrap());
        seen.body.resize(len, 0);
        reader.read_exact(&mut seen.body).unwrap();
        let answer = handler(&seen, address);
        log.lock().unwrap().push(seen);
        let mut head =
            format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\n", answer.status, answer.body.len());
        for (n, v) in &answer.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(&answer.body)).is_err()
        {
            return;
        }
    }
}

fn client() -> OciRegistry {
    OciRegistry::new(RegistryOptions::new()).unwrap()
}

#[test]
fn push_blob_posts_then_puts_to_the_relative_location_with_the_digest() {
    let server = Server::start(|seen, _| match seen.method.as_str() {
        "POST" => Answer::new(202).header("Location", "/v2/app/blobs/uploads/u1?_state=abc"),
        "PUT" => Answer::new(201),
        _ => Answer::new(400),
    });
    let data = b"config bytes";
    let digest = Digest::of(data);
    client().push_blob(&server.repository(), &digest, data).unwrap();

    let seen = server.seen();
    let requests: Vec<_> = seen.iter().map(|s| (s.method.as_str(), s.target.as_str())).collect();
    // No `GET /v2/` probe: the first request is the upload itself.
    let put = format!(
        "/v2/app/blobs/uploads/u1?_state=abc&digest={}",
        digest.as_str().replace(':', "%3A")
    );
    assert_eq!(requests, [("POST", "/v2/app/blobs/uploads/"), ("PUT", put.as_str())]);
    assert_eq!(seen[1].body, data);
    assert_eq!(seen[1].header("content-type"), Some("application/octet-stream"));
}

#[test]
fn push_blob_without_location_is_a_clear_error() {
    let server = Server::start(|_, _| Answer::new(202));
    let err = client().push_blob(&server.repository(), &Digest::of(b"x"), b"x").unwrap_err();
    let text = sig_core::message_with_sources(&err);
    assert!(text.contains("without a usable Location header"), "{text}");
    assert_eq!(server.seen().iter().filter(|s| s.method == "PUT").count(), 0);
}

#[test]
fn push_manifest_puts_with_the_media_type() {
    let server = Server::start(|_, _| Answer::new(201));
    let manifest = br#"{"schemaVersion":2}"#;
    client()
        .push_manifest(&server.repository(), "sha256-ab.sig", media_type::OCI_MANIFEST, manifest)
        .unwrap();
    let seen = server.seen();
    let put = seen.iter().find(|s| s.method == "PUT").unwrap();
    assert_eq!(put.target, "/v2/app/manifests/sha256-ab.sig");
    assert_eq!(put.header("content-type"), Some(media_type::OCI_MANIFEST));
    assert_eq!(put.body, manifest);
}

#[test]
fn open_registry_is_never_probed() {
    let server = Server::start(|_, _| Answer::new(404));
    let registry = client();
    for _ in 0..3 {
        assert!(registry.fetch_manifest(&server.repository(), "t").unwrap().is_none());
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|s| s.target == "/v2/app/manifests/t"), "{seen:?}");
}

#[test]
fn a_challenge_sends_that_request_and_every_later_one_through_oci_client() {
    // Anonymous pulls with a token, as Docker Hub and ghcr.io do: 401 + Bearer challenge without
    // a token, the token service hands out an anonymous one.
    let server = Server::start(|seen, address| {
        if seen.target.starts_with("/token") {
            return Answer::new(200).body(r#"{"token":"anonymous-token"}"#);
        }
        if seen.header("authorization") != Some("Bearer anonymous-token") {
            return Answer::new(401).header(
                "WWW-Authenticate",
                format!(r#"Bearer realm="http://{address}/token",service="test",scope="repository:app:pull""#),
            );
        }
        Answer::new(200).body(r#"{"schemaVersion":2}"#)
    });
    let registry = client();
    for _ in 0..2 {
        let bytes = registry.fetch_manifest(&server.repository(), "v1").unwrap().unwrap();
        assert_eq!(bytes, br#"{"schemaVersion":2}"#);
    }
    let seen = server.seen();
    let ours = concat!("cosign-compat/", env!("CARGO_PKG_VERSION"));
    let direct: Vec<&Seen> = seen.iter().filter(|s| s.header("user-agent") == Some(ours)).collect();
    assert_eq!(direct.len(), 1, "only the first request goes direct: {seen:?}");
    assert!(seen.iter().any(|s| s.target.starts_with("/token")), "{seen:?}");
}

#[test]
fn fetch_manifest_asks_for_every_manifest_type_and_returns_the_bytes() {
    let server = Server::start(|_, _| Answer::new(200).body(r#"{"schemaVersion":2}"#));
    let bytes = client().fetch_manifest(&server.repository(), "v1").unwrap().unwrap();
    assert_eq!(bytes, br#"{"schemaVersion":2}"#);
    let seen = server.seen();
    let accept = seen.last().unwrap().header("accept").unwrap().to_owned();
    for media in media_type::MANIFEST_TYPES {
        assert!(accept.contains(media), "{accept}");
    }
}

#[test]
fn oversized_manifest_is_refused() {
    let big = vec![b' '; usize::try_from(MAX_MANIFEST_LEN).unwrap() + 1];
    let server = Server::start(move |_, _| Answer::new(200).body(big.clone()));
    let err = client().fetch_manifest(&server.repository(), "v1").unwrap_err();
    assert!(matches!(err, RegistryError::TooLarge { max: MAX_MANIFEST_LEN, .. }), "{err:?}");
}

#[test]
fn blob_with_other_content_is_a_digest_mismatch() {
    let server = Server::start(|_, _| Answer::new(200).body("not what was asked for"));
    let want = Digest::of(b"the payload");
    let err = client().fetch_blob(&server.repository(), &want, 1024).unwrap_err();
    match err {
        RegistryError::DigestMismatch { expected, actual, .. } => {
            assert_eq!(expected, want.as_str());
            assert_eq!(actual, Digest::of(b"not what was asked for").as_str());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn blob_larger_than_asked_is_refused() {
    let server = Server::start(|_, _| Answer::new(200).body(vec![0; 2048]));
    let err = client().fetch_blob(&server.repository(), &Digest::of(b"x"), 1024).unwrap_err();
    assert!(matches!(err, RegistryError::TooLarge { max: 1024, .. }), "{err:?}");
}

#[test]
fn blob_redirect_from_plain_http_is_followed() {
    let payload = b"payload from object storage";
    let server = Server::start(move |seen, address| {
        if seen.target.starts_with("/storage/") {
            Answer::new(200).body(payload.to_vec())
        } else {
            Answer::new(307).header("Location", format!("http://{address}/storage/blob"))
        }
    });
    let digest = Digest::of(payload);
    let data = client().fetch_blob(&server.repository(), &digest, 1024).unwrap();
    assert_eq!(data, payload);
    assert!(server.seen().iter().any(|s| s.target == "/storage/blob"));
}

#[test]
fn error_statuses_map_to_errors_that_name_the_fix() {
    let server = Server::start(|seen, _| match seen.target.as_str() {
        t if t.ends_with("/denied") => Answer::new(403).body(r#"{"errors":[{"code":"DENIED"}]}"#),
        t if t.ends_with("/broken") => Answer::new(500).body("storage driver failed"),
        _ => Answer::new(400).body("bad request body"),
    });
    let registry = client();
    let repo = server.repository();

    let err = registry.fetch_manifest(&repo, "denied").unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("docker login"), "{err}");

    let err = registry.fetch_manifest(&repo, "broken").unwrap_err();
    match &err {
        RegistryError::Server { status: 500, message, .. } => {
            assert!(message.contains("storage driver failed"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    let err = registry.push_manifest(&repo, "other", media_type::OCI_MANIFEST, b"{}").unwrap_err();
    let text = sig_core::message_with_sources(&err);
    assert!(text.contains("HTTP 400") && text.contains("bad request body"), "{text}");
}

#[test]
fn missing_blob_is_not_found() {
    let server = Server::start(|_, _| Answer::new(404));
    let err = client().fetch_blob(&server.repository(), &Digest::of(b"x"), 1024).unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
}

#[test]
fn registry_that_challenges_is_not_open_and_refusal_names_docker_login() {
    let server = Server::start(|_, _| {
        Answer::new(401)
            .header("WWW-Authenticate", r#"Basic realm="test""#)
            .body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#)
    });
    let err = client().fetch_manifest(&server.repository(), "v1").unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("docker login"), "{err}");
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.target == "/v2/app/manifests/v1"), "{seen:?}");
}

#[test]
fn push_blobs_uploads_concurrently() {
    // Each POST is answered only once both have arrived (or after 5 s): no timeout means the
    // two uploads were in flight together.
    let arrivals = Arc::new((Mutex::new(0_usize), std::sync::Condvar::new()));
    let timeouts = Arc::new(Mutex::new(0_usize));
    let (arrived, timed_out) = (Arc::clone(&arrivals), Arc::clone(&timeouts));
    let server = Server::start(move |seen, _| {
        if seen.method != "POST" {
            return Answer::new(201);
        }
        let (count, changed) = &*arrived;
        let mut n = count.lock().unwrap();
        *n += 1;
        let me = *n;
        changed.notify_all();
        let (guard, wait) =
            changed.wait_timeout_while(n, std::time::Duration::from_secs(5), |n| *n < 2).unwrap();
        drop(guard);
        if wait.timed_out() {
            *timed_out.lock().unwrap() += 1;
        }
        Answer::new(202).header("Location", format!("/v2/app/blobs/uploads/{me}"))
    });
    let (a, b) = (b"payload".as_slice(), b"config".as_slice());
    let (da, db) = (Digest::of(a), Digest::of(b));
    client().push_blobs(&server.repository(), &[(&da, a), (&db, b)]).unwrap();
    assert_eq!(*timeouts.lock().unwrap(), 0, "the second upload started before the first ended");
    let seen = server.seen();
    let mut put_bodies: Vec<Vec<u8>> =
        seen.iter().filter(|s| s.method == "PUT").map(|s| s.body.clone()).collect();
    put_bodies.sort();
    assert_eq!(put_bodies, [b.to_vec(), a.to_vec()]);
}

/// A docker config in a temporary directory with basic credentials for `registry`.
fn docker_config(registry: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    // base64("user:secret")
    let json = format!(r#"{{"auths":{{"{registry}":{{"auth":"dXNlcjpzZWNyZXQ="}}}}}}"#);
    std::fs::write(&path, json).unwrap();
    (dir, path)
}

/// A registry that wants basic credentials.
fn basic_auth_server(ip: &str) -> Server {
    Server::start_on(ip, |seen, _| {
        if seen.header("authorization") == Some("Basic dXNlcjpzZWNyZXQ=") {
            return Answer::new(200).body(r#"{"schemaVersion":2}"#);
        }
        Answer::new(401).header("WWW-Authenticate", r#"Basic realm="test""#)
    })
}

/// Issue 14, item 3: docker-config credentials went to any plain-HTTP registry. Without
/// `--allow-http-registry` they are not sent (the registry is tried anonymously), and its
/// challenge is an error naming the registry, the config file and the flag.
#[test]
fn credentials_are_not_sent_over_plain_http_unless_allowed() {
    let server = basic_auth_server("127.0.0.1");
    let (_dir, config) = docker_config(&server.address);
    let credentials = cosign_compat::registry::credentials::Credentials::open(&config).unwrap();
    let registry =
        OciRegistry::new(RegistryOptions::new().credentials(credentials.clone())).unwrap();
    let err = registry.fetch_manifest(&server.repository(), "v1").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RegistryError::CredentialsOverHttp { .. }), "{text}");
    assert!(text.contains(&server.address) && text.contains(&*config.to_string_lossy()), "{text}");
    assert!(text.contains("--allow-http-registry"), "{text}");
    let seen = server.seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|s| s.header("authorization").is_none()),
        "{seen:?}"
    );

    let allowed =
        OciRegistry::new(RegistryOptions::new().allow_http(true).credentials(credentials)).unwrap();
    let bytes = allowed.fetch_manifest(&server.repository(), "v1").unwrap().unwrap();
    assert_eq!(bytes, br#"{"schemaVersion":2}"#);
}

/// Issue 14, item 3, end to end on loopback only: a registry that may fall back (here
/// `127.0.0.2` with `--allow-http-registry`; a private address without it) is tried over HTTPS
/// first; a plain-HTTP server there does not speak TLS, so the requests then go plain. Without
/// the flag `127.0.0.2` is HTTPS only and no plain request reaches it.
#[test]
fn https_is_tried_first_and_plain_http_only_where_allowed() {
    let server =
        Server::start_on("127.0.0.2", |_, _| Answer::new(200).body(r#"{"schemaVersion":2}"#));
    let https_only = client();
    assert!(!https_only.uses_http(&server.address).unwrap());
    assert!(https_only.fetch_manifest(&server.repository(), "v1").is_err());
    assert!(server.seen().is_empty(), "no plain request: {:?}", server.seen());

    let fallback = OciRegistry::new(RegistryOptions::new().allow_http(true)).unwrap();
    assert!(fallback.uses_http(&server.address).unwrap());
    let bytes = fallback.fetch_manifest(&server.repository(), "v1").unwrap().unwrap();
    assert_eq!(bytes, br#"{"schemaVersion":2}"#);
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "the probe was TLS, then one plain GET: {seen:?}");
    // Loopback (127.0.0.1) is plain HTTP without a probe, as before.
    assert!(client().uses_http("127.0.0.1:5000").unwrap());
}

#[test]
fn a_token_service_handing_out_an_unusable_token_is_an_error_not_a_panic() {
    // oci-client turns the token into an Authorization header with an unwrap: a token with a
    // line break from a hostile token service must end as an error naming the registry.
    let server = Server::start(|seen, address| {
        if seen.target.starts_with("/token") {
            return Answer::new(200).body(r#"{"token":"line\nbreak"}"#);
        }
        Answer::new(401).header(
            "WWW-Authenticate",
            format!(r#"Bearer realm="http://{address}/token",service="test",scope="repository:app:pull""#),
        )
    });
    let err = client().fetch_manifest(&server.repository(), "v1").unwrap_err();
    assert!(matches!(err, RegistryError::ClientFailed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&server.address), "names the registry: {text}");
    assert!(text.contains("fetch manifest"), "names the operation: {text}");
}
