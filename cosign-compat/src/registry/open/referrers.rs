//! `GET /v2/<name>/referrers/<digest>` on an open registry.

use reqwest::{StatusCode, header};

use super::{MAX_MANIFEST_LEN, Open, OpenRegistry, check, read_bounded};
use crate::media_type::OCI_INDEX;
use crate::reference::{Digest, Repository};

impl OpenRegistry<'_> {
    /// The Referrers API's index for `subject`; `Ok(None)` when the registry has none: 404, 400
    /// or 406, or a 200 that is not an OCI index (go-containerregistry `fetchReferrers`).
    pub(in crate::registry) async fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Option<Vec<u8>>, Open> {
        const OPERATION: &str = "list referrers";
        let what = format!("{repository}@{subject}");
        let url = format!("{}/referrers/{subject}", self.base(repository));
        let response = self.get(&url, Some(OCI_INDEX), OPERATION, &what, repository).await?;
        if matches!(
            response.status(),
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST | StatusCode::NOT_ACCEPTABLE
        ) {
            return Ok(None);
        }
        let response = check(response, OPERATION, &what, repository).await?;
        let is_index = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(';').next().unwrap_or_default().trim() == OCI_INDEX);
        if !is_index {
            return Ok(None);
        }
        Ok(Some(read_bounded(response, MAX_MANIFEST_LEN, OPERATION, &what).await?))
    }
}
