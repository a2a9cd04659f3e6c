//! Fixture helpers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use cosign_compat::SignatureTag as _;
use cosign_compat::sign::CertificateMaterial;
use cosign_compat::verify::{
    CertificateTrust, IdentityMatcher, Trust, VerificationKey, VerifyOptions,
};
use cosign_compat::{
    Digest, MemoryRegistry, Registry, RegistryError, Repository, SignatureLayer, attach, media_type,
};

/// `tests/data/<path>` (workspace root).
pub(crate) fn data_path(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data")).join(path)
}

pub(crate) fn data(path: &str) -> Vec<u8> {
    let p = data_path(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub(crate) fn pki(spec: &str, file: &str) -> Vec<u8> {
    data(&format!("pki/{spec}/{file}"))
}

/// A fixed "now" inside every valid fixture certificate's validity (2030-03-17).
pub(crate) fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

/// The repository the goldens name.
pub(crate) fn repo() -> Repository {
    Repository::parse("127.0.0.1:5000/app").unwrap()
}

/// Stores `tests/data/cosign/image-manifest.json` (the golden image) and returns its digest.
pub(crate) fn golden_image(registry: &MemoryRegistry) -> Digest {
    let digest = registry.put_manifest(
        &repo(),
        Some("golden"),
        media_type::OCI_MANIFEST,
        &data("cosign/image-manifest.json"),
    );
    let want = String::from_utf8(data("cosign/image-digest")).unwrap();
    assert_eq!(digest.as_str(), want.trim(), "image-manifest.json must hash to image-digest");
    digest
}

/// A fresh image with unique content in `repository`.
pub(crate) fn new_image(registry: &MemoryRegistry, repository: &Repository, seed: &str) -> Digest {
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},"layers":[],"annotations":{{"seed":"{seed}"}}}}"#
    );
    registry.put_manifest(repository, Some(seed), media_type::OCI_MANIFEST, manifest.as_bytes())
}

/// The certificate material of a fixture PKI from its full chain file (leaf first).
pub(crate) fn material(spec: &str) -> CertificateMaterial {
    CertificateMaterial::new(None, Some(&pki(spec, "certificate_chain.pem"))).unwrap()
}

pub(crate) fn key_options(spec: &str) -> VerifyOptions {
    VerifyOptions::new(Trust::Key(VerificationKey::from_bytes(&pki(spec, "leaf.pub")).unwrap()))
}

pub(crate) fn chain_options(spec: &str) -> VerifyOptions {
    let trust = CertificateTrust::from_chain_pem(&pki(spec, "cosign_chain.pem"))
        .unwrap()
        .with_identity(IdentityMatcher::regex(".*").unwrap());
    VerifyOptions::new(Trust::Certificates(Box::new(trust)))
}

/// Stores `layers` as the signature manifest of `image`, with their payload blobs.
pub(crate) fn store(registry: &MemoryRegistry, image: &Digest, layers: &[SignatureLayer]) {
    for layer in layers {
        registry.put_blob(&repo(), layer.payload());
    }
    let img = attach::signature_image(layers.iter().map(SignatureLayer::descriptor).collect());
    registry.put_manifest(
        &repo(),
        Some(&image.signature_tag()),
        media_type::OCI_MANIFEST,
        &img.manifest,
    );
}

/// A manifest-read hook of [`HookedRegistry`]: `(inner, read number from 1, repository, reference)`;
/// its error fails the read.
pub(crate) type FetchHook =
    dyn Fn(&MemoryRegistry, usize, &Repository, &str) -> Result<(), RegistryError> + Send + Sync;
/// The manifest push of [`HookedRegistry`]: `(inner, repository, tag, media type, manifest)`; it
/// pushes to `inner` (or not) itself.
pub(crate) type PushHook = dyn Fn(&MemoryRegistry, &Repository, &str, &str, &[u8]) -> Result<(), RegistryError>
    + Send
    + Sync;

/// A memory registry that misbehaves around manifest reads and writes: the fetch hook runs
/// before each manifest read, the push hook replaces each manifest push (racing writers, flaky
/// answers). Everything else goes to `inner`.
pub(crate) struct HookedRegistry {
    pub(crate) inner: MemoryRegistry,
    fetches: AtomicUsize,
    before_fetch: Box<FetchHook>,
    push: Box<PushHook>,
}

impl HookedRegistry {
    /// `inner` with hooks that change nothing.
    pub(crate) fn new(inner: MemoryRegistry) -> Self {
        Self {
            inner,
            fetches: AtomicUsize::new(0),
            before_fetch: Box::new(|_, _, _, _| Ok(())),
            push: Box::new(|inner, repository, tag, media, manifest| {
                inner.push_manifest(repository, tag, media, manifest)
            }),
        }
    }

    /// With `hook` run before each manifest read.
    pub(crate) fn before_fetch(
        mut self,
        hook: impl Fn(&MemoryRegistry, usize, &Repository, &str) -> Result<(), RegistryError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.before_fetch = Box::new(hook);
        self
    }

    /// With `hook` in place of each manifest push.
    pub(crate) fn on_push(
        mut self,
        hook: impl Fn(&MemoryRegistry, &Repository, &str, &str, &[u8]) -> Result<(), RegistryError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.push = Box::new(hook);
        self
    }
}

impl core::fmt::Debug for HookedRegistry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HookedRegistry").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl Registry for HookedRegistry {
    fn resolve_tag(&self, repository: &Repository, tag: &str) -> Result<Digest, RegistryError> {
        self.inner.resolve_tag(repository, tag)
    }

    fn fetch_manifest(
        &self,
        repository: &Repository,
        reference: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        (self.before_fetch)(&self.inner, n, repository, reference)?;
        self.inner.fetch_manifest(repository, reference)
    }

    fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        max_len: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        self.inner.fetch_blob(repository, digest, max_len)
    }

    fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), RegistryError> {
        self.inner.push_blob(repository, digest, data)
    }

    fn push_manifest(
        &self,
        repository: &Repository,
        tag: &str,
        media: &str,
        manifest: &[u8],
    ) -> Result<(), RegistryError> {
        (self.push)(&self.inner, repository, tag, media, manifest)
    }
}
