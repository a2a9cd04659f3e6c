//! An in-memory registry: for tests, and for dry runs that show what would be pushed.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{MAX_MANIFEST_LEN, Registry};
use crate::error::RegistryError;
use crate::reference::{Digest, Repository};

/// A registry held in memory. Manifests pushed under a tag are also stored under their digest.
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    state: Mutex<State>,
    /// Whether [`Registry::referrers`] answers (an OCI 1.1 registry) or not (distribution).
    referrers_api: bool,
}

#[derive(Debug, Default)]
struct State {
    /// (repository name, tag or digest) → (media type, bytes).
    manifests: HashMap<(String, String), (String, Vec<u8>)>,
    /// (repository name, digest) → bytes.
    blobs: HashMap<(String, String), Vec<u8>>,
    manifest_pushes: usize,
    blob_pushes: usize,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry with the Referrers API (computed from the stored manifests'
    /// `subject`), like olareg or zot.
    pub fn with_referrers_api() -> Self {
        Self { referrers_api: true, ..Self::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the registry from the others.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `manifest` under `tag` (if any) and its digest, without counting it as a push, and
    /// returns the digest.
    pub fn put_manifest(
        &self,
        repository: &Repository,
        tag: Option<&str>,
        media_type: &str,
        manifest: &[u8],
    ) -> Digest {
        let digest = Digest::of(manifest);
        let mut state = self.state();
        let entry = (media_type.to_owned(), manifest.to_vec());
        if let Some(tag) = tag {
            state.manifests.insert((repository.name(), tag.to_owned()), entry.clone());
        }
        state.manifests.insert((repository.name(), digest.to_string()), entry);
        digest
    }

    /// Stores a blob, without counting it as a push, and returns its digest.
    pub fn put_blob(&self, repository: &Repository, data: &[u8]) -> Digest {
        let digest = Digest::of(data);
        self.state().blobs.insert((repository.name(), digest.to_string()), data.to_vec());
        digest
    }

    /// Removes a tag or a manifest digest.
    pub fn delete_manifest(&self, repository: &Repository, reference: &str) {
        self.state().manifests.remove(&(repository.name(), reference.to_owned()));
    }

    /// The manifest stored under `reference`, if any.
    pub fn manifest(&self, repository: &Repository, reference: &str) -> Option<Vec<u8>> {
        self.state().manifests.get(&(repository.name(), reference.to_owned())).map(|m| m.1.clone())
    }

    /// The blob `digest`, if any.
    pub fn blob(&self, repository: &Repository, digest: &str) -> Option<Vec<u8>> {
        self.state().blobs.get(&(repository.name(), digest.to_owned())).cloned()
    }

    /// How many manifests were pushed through [`Registry::push_manifest`].
    pub fn manifest_pushes(&self) -> usize {
        self.state().manifest_pushes
    }

    /// How many blobs were pushed through [`Registry::push_blob`].
    pub fn blob_pushes(&self) -> usize {
        self.state().blob_pushes
    }
}

impl Registry for MemoryRegistry {
    fn resolve_tag(&self, repository: &Repository, tag: &str) -> Result<Digest, RegistryError> {
        self.manifest(repository, tag)
            .map(|m| Digest::of(&m))
            .ok_or_else(|| RegistryError::NotFound { reference: format!("{repository}:{tag}") })
    }

    fn fetch_manifest(
        &self,
        repository: &Repository,
        reference: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let manifest = self.manifest(repository, reference);
        if manifest.as_ref().is_some_and(|m| m.len() as u64 > MAX_MANIFEST_LEN) {
            return Err(RegistryError::TooLarge {
                reference: format!("{repository}:{reference}"),
                max: MAX_MANIFEST_LEN,
            });
        }
        Ok(manifest)
    }

    fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        max_len: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let reference = format!("{repository}@{digest}");
        let blob = self
            .blob(repository, digest.as_str())
            .ok_or_else(|| RegistryError::NotFound { reference: reference.clone() })?;
        if blob.len() as u64 > max_len {
            return Err(RegistryError::TooLarge { reference, max: max_len });
        }
        let actual = Digest::of(&blob);
        if &actual != digest {
            return Err(RegistryError::DigestMismatch {
                reference,
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(blob)
    }

    fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        data: &[u8],
    ) -> Result<(), RegistryError> {
        let actual = Digest::of(data);
        if &actual != digest {
            return Err(RegistryError::DigestMismatch {
                reference: format!("{repository}@{digest}"),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        let mut state = self.state();
        state.blob_pushes += 1;
        state.blobs.insert((repository.name(), digest.to_string()), data.to_vec());
        Ok(())
    }

    fn push_manifest(
        &self,
        repository: &Repository,
        tag: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<(), RegistryError> {
        self.put_manifest(repository, Some(tag), media_type, manifest);
        self.state().manifest_pushes += 1;
        Ok(())
    }

    fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        if !self.referrers_api {
            return Ok(None);
        }
        let state = self.state();
        let mut index = crate::bundle::referrer::ReferrersIndex::new();
        for ((repo, reference), (media_type, bytes)) in &state.manifests {
            if *repo != repository.name() || !reference.starts_with("sha256:") {
                continue;
            }
            let Ok(manifest) = crate::bundle::referrer::ReferrerManifest::parse(bytes) else {
                continue;
            };
            if manifest.subject.as_deref() == Some(subject.as_str()) {
                let mut entry = crate::bundle::referrer::OciDescriptor::of(media_type, bytes);
                entry.artifact_type = Some(manifest.artifact_type);
                index.manifests.push(entry);
            }
        }
        index.manifests.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(Some(crate::go_json::to_vec(&index)))
    }
}
