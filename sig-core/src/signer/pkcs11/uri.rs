//! RFC 7512 `pkcs11:` URIs: [`Pkcs11Uri`].

use core::fmt;
use core::str::FromStr;
use std::path::{Path, PathBuf};

use crate::error::Pkcs11Error;

/// A parsed RFC 7512 `pkcs11:` URI naming a private key: which module, token and key to sign with.
/// It never holds a PIN.
///
/// ```text
/// pkcs11:token=ci-signing;object=release-key;id=%01%a2;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/pin
///        (path attributes, separated by ;)                         (query attributes, separated by &)
/// ```
///
/// Path attributes select: `token`, `manufacturer`, `serial`, `model` (the token),
/// `slot-id`, `slot-description`, `slot-manufacturer` (the slot), `library-manufacturer`,
/// `library-description`, `library-version` (the module), `object` (`CKA_LABEL`), `id`
/// (`CKA_ID`, percent-encoded bytes) and `type` (only `private`). Query attributes: `module-path`
/// and `pin-source` (a file holding the PIN). `pin-value` is refused: a PIN never goes in a URI,
/// because URIs end up in configuration files, shell history and logs. Values are
/// percent-decoded (RFC 7512 §2.3); an attribute may appear only once. Unknown attributes are
/// refused (an ignored path attribute would silently select more objects), except vendor query
/// attributes (`x-…`), which are ignored.
///
/// ```
/// use sig_core::signer::Pkcs11Uri;
///
/// let uri: Pkcs11Uri = "pkcs11:token=ci;object=release;id=%01;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so"
///     .parse()?;
/// assert_eq!(uri.object(), Some("release"));
/// assert_eq!(uri.id(), Some(&[1u8][..]));
/// assert!("pkcs11:token=ci?pin-value=1234".parse::<Pkcs11Uri>().is_err());
/// # Ok::<(), sig_core::Pkcs11Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    token: Option<String>,
    manufacturer: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    slot_id: Option<u64>,
    slot_description: Option<String>,
    slot_manufacturer: Option<String>,
    library_manufacturer: Option<String>,
    library_description: Option<String>,
    library_version: Option<String>,
    object: Option<String>,
    id: Option<Vec<u8>>,
    private_type: bool,
    module_path: Option<PathBuf>,
    pin_source: Option<PathBuf>,
}

const PATH_ATTRIBUTES: [&str; 13] = [
    "token",
    "manufacturer",
    "serial",
    "model",
    "slot-id",
    "slot-description",
    "slot-manufacturer",
    "library-manufacturer",
    "library-description",
    "library-version",
    "object",
    "id",
    "type",
];
const QUERY_ATTRIBUTES: [&str; 3] = ["module-path", "pin-source", "pin-value"];

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    ///
    /// # Errors
    ///
    /// [`Pkcs11Error::PinInUri`] when it has `pin-value`, [`Pkcs11Error::Uri`] for anything else
    /// that is not a URI naming a private key (unknown or repeated attribute, bad percent
    /// encoding, `type` other than `private`, `module-name`). Messages never repeat the URI.
    pub fn parse(text: &str) -> Result<Self, Pkcs11Error> {
        let bad = |reason: String| Pkcs11Error::Uri { reason };
        let text = text.trim();
        let Some(rest) =
            text.get(..7).filter(|s| s.eq_ignore_ascii_case("pkcs11:")).map(|_| &text[7..])
        else {
            return Err(bad("it must start with \"pkcs11:\" (RFC 7512)".to_owned()));
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path: Vec<&str> = path.split(';').filter(|a| !a.is_empty()).collect();
        let query: Vec<&str> = query.split('&').filter(|a| !a.is_empty()).collect();
        // Refuse a PIN before anything else looks at (and might echo) the values.
        if query.iter().chain(&path).any(|a| attribute_name(a).eq_ignore_ascii_case("pin-value")) {
            return Err(Pkcs11Error::PinInUri);
        }
        let mut uri = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for (attribute, in_query) in
            path.iter().map(|a| (*a, false)).chain(query.iter().map(|a| (*a, true)))
        {
            let Some((name, raw)) = attribute.split_once('=') else {
                return Err(bad(format!(
                    "attribute {:?} has no value (NAME=VALUE)",
                    name_of(attribute)
                )));
            };
            let known: &[&str] = if in_query { &QUERY_ATTRIBUTES } else { &PATH_ATTRIBUTES };
            if !known.contains(&name) {
                if in_query && name.starts_with("x-") {
                    continue;
                }
                return Err(bad(if name == "module-name" {
                    "module-name is not supported: give the module's file with module-path=PATH"
                        .to_owned()
                } else {
                    format!(
                        "unknown {} attribute {:?}; known: {}",
                        if in_query { "query" } else { "path" },
                        name_of(name),
                        known
                            .iter()
                            .filter(|k| **k != "pin-value")
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }));
            }
            if seen.contains(&name) {
                return Err(bad(format!("attribute {name} appears twice")));
            }
            seen.push(name);
            let bytes = percent_decode(raw).map_err(|reason| bad(format!("{name}: {reason}")))?;
            if name == "id" {
                uri.id = Some(bytes);
                continue;
            }
            let value = String::from_utf8(bytes)
                .map_err(|_| bad(format!("{name} is not UTF-8 after percent-decoding")))?;
            let slot = match name {
                "token" => &mut uri.token,
                "manufacturer" => &mut uri.manufacturer,
                "serial" => &mut uri.serial,
                "model" => &mut uri.model,
                "slot-description" => &mut uri.slot_description,
                "slot-manufacturer" => &mut uri.slot_manufacturer,
                "library-manufacturer" => &mut uri.library_manufacturer,
                "library-description" => &mut uri.library_description,
                "library-version" => &mut uri.library_version,
                "object" => &mut uri.object,
                "slot-id" => {
                    uri.slot_id = Some(value.parse().map_err(|_| {
                        bad(format!("slot-id must be a decimal number, got {value:?}"))
                    })?);
                    continue;
                }
                "type" => {
                    if value != "private" {
                        return Err(bad(format!(
                            "type={value} names no private key; a signing key is type=private (or leave type out)"
                        )));
                    }
                    uri.private_type = true;
                    continue;
                }
                "module-path" => {
                    uri.module_path = Some(PathBuf::from(value));
                    continue;
                }
                _ => {
                    // pin-source: a path, or a file: URI (RFC 7512 §2.3 lets it be either).
                    let path =
                        value.strip_prefix("file://").or_else(|| value.strip_prefix("file:"));
                    uri.pin_source = Some(PathBuf::from(path.unwrap_or(&value)));
                    continue;
                }
            };
            *slot = Some(value);
        }
        Ok(uri)
    }

    /// `token`: the token label.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `manufacturer`: the token manufacturer.
    pub fn manufacturer(&self) -> Option<&str> {
        self.manufacturer.as_deref()
    }

    /// `serial`: the token serial number.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// `model`: the token model.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// `slot-id`: the slot number.
    pub fn slot_id(&self) -> Option<u64> {
        self.slot_id
    }

    /// `slot-description`.
    pub fn slot_description(&self) -> Option<&str> {
        self.slot_description.as_deref()
    }

    /// `slot-manufacturer`.
    pub fn slot_manufacturer(&self) -> Option<&str> {
        self.slot_manufacturer.as_deref()
    }

    /// `library-manufacturer`: the module's manufacturer.
    pub fn library_manufacturer(&self) -> Option<&str> {
        self.library_manufacturer.as_deref()
    }

    /// `library-description`: the module's description.
    pub fn library_description(&self) -> Option<&str> {
        self.library_description.as_deref()
    }

    /// `library-version`: the module's version, `MAJOR.MINOR`.
    pub fn library_version(&self) -> Option<&str> {
        self.library_version.as_deref()
    }

    /// `object`: the key label (`CKA_LABEL`).
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// `id`: the key id (`CKA_ID`) bytes.
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// `module-path`: the PKCS#11 module file.
    pub fn module_path(&self) -> Option<&Path> {
        self.module_path.as_deref()
    }

    /// `pin-source`: the file holding the PIN.
    pub fn pin_source(&self) -> Option<&Path> {
        self.pin_source.as_deref()
    }

    /// The token, slot and library attributes, as they appear in the URI (for messages).
    pub(crate) fn token_selector(&self) -> String {
        let parts = self.token_parts();
        if parts.is_empty() { "any token".to_owned() } else { parts.join(";") }
    }

    /// The object attributes, as they appear in the URI (for messages).
    pub(crate) fn object_selector(&self) -> String {
        let parts = self.object_parts();
        if parts.is_empty() { "any private key".to_owned() } else { parts.join(";") }
    }

    fn token_parts(&self) -> Vec<String> {
        let mut parts = Vec::new();
        push(&mut parts, "token", self.token.as_deref());
        push(&mut parts, "manufacturer", self.manufacturer.as_deref());
        push(&mut parts, "serial", self.serial.as_deref());
        push(&mut parts, "model", self.model.as_deref());
        if let Some(id) = self.slot_id {
            parts.push(format!("slot-id={id}"));
        }
        push(&mut parts, "slot-description", self.slot_description.as_deref());
        push(&mut parts, "slot-manufacturer", self.slot_manufacturer.as_deref());
        push(&mut parts, "library-manufacturer", self.library_manufacturer.as_deref());
        push(&mut parts, "library-description", self.library_description.as_deref());
        push(&mut parts, "library-version", self.library_version.as_deref());
        parts
    }

    fn object_parts(&self) -> Vec<String> {
        let mut parts = Vec::new();
        push(&mut parts, "object", self.object.as_deref());
        if let Some(id) = &self.id {
            parts.push(format!("id={}", percent_encode_bytes(id)));
        }
        parts
    }
}

fn push(parts: &mut Vec<String>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        parts.push(format!("{name}={}", percent_encode(value)));
    }
}

impl FromStr for Pkcs11Uri {
    type Err = Pkcs11Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The canonical form: path attributes in RFC 7512 order, values percent-encoded where
    /// needed. It never contains a PIN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = self.token_parts();
        path.extend(self.object_parts());
        if self.private_type {
            path.push("type=private".to_owned());
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        let mut query = Vec::new();
        if let Some(p) = &self.module_path {
            query.push(format!("module-path={}", percent_encode(&p.to_string_lossy())));
        }
        if let Some(p) = &self.pin_source {
            query.push(format!("pin-source={}", percent_encode(&p.to_string_lossy())));
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

/// The part of `attribute` before `=` (all of it when there is none).
fn attribute_name(attribute: &str) -> &str {
    attribute.split_once('=').map_or(attribute, |(name, _)| name)
}

/// An attribute name for a message: at most 40 characters, so that a value pasted in the wrong
/// place is not echoed whole.
fn name_of(name: &str) -> String {
    name.chars().take(40).collect()
}

fn percent_decode(raw: &str) -> Result<Vec<u8>, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| core::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding at byte {i} (expected %XX)"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters and the few that RFC 7512 lets
/// stand in values (`:`, `@`, `/` for paths).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every byte as `%XX` (the usual spelling of `id`).
fn percent_encode_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_path_and_query_attributes() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;serial=ca94ea4827f1abc2;model=SoftHSM%20v2;slot-id=670149570;object=rsa-2048;id=%01%A2;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin&x-vendor=1",
        )
        .unwrap();
        assert_eq!(uri.token(), Some("My Token"));
        assert_eq!(uri.manufacturer(), Some("SoftHSM project"));
        assert_eq!(uri.serial(), Some("ca94ea4827f1abc2"));
        assert_eq!(uri.model(), Some("SoftHSM v2"));
        assert_eq!(uri.slot_id(), Some(670_149_570));
        assert_eq!(uri.object(), Some("rsa-2048"));
        assert_eq!(uri.id(), Some(&[0x01, 0xa2][..]));
        assert_eq!(uri.module_path(), Some(Path::new("/usr/lib/softhsm/libsofthsm2.so")));
        assert_eq!(uri.pin_source(), Some(Path::new("/run/pin")));
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;serial=ca94ea4827f1abc2;model=SoftHSM%20v2;slot-id=670149570;object=rsa-2048;id=%01%a2;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin"
        );
        assert_eq!(Pkcs11Uri::parse(&uri.to_string()).unwrap(), uri);
    }

    #[test]
    fn empty_uri_selects_anything() {
        let uri = Pkcs11Uri::parse("pkcs11:").unwrap();
        assert_eq!(uri, Pkcs11Uri::default());
        assert_eq!(uri.to_string(), "pkcs11:");
        assert_eq!(uri.object_selector(), "any private key");
        assert_eq!(Pkcs11Uri::parse("PKCS11:object=a").unwrap().object(), Some("a"));
    }

    #[test]
    fn refuses_pin_value_without_echoing_it() {
        for text in [
            "pkcs11:token=t?pin-value=123456",
            "pkcs11:token=t?module-path=/m.so&pin-value=123456",
            "pkcs11:token=t;pin-value=123456",
            "pkcs11:token=t?PIN-VALUE=123456",
            "pkcs11:token=t?pin-value=12%zz3456",
        ] {
            let err = Pkcs11Uri::parse(text).unwrap_err();
            assert!(matches!(err, Pkcs11Error::PinInUri), "{text}: {err}");
            assert!(!err.to_string().contains("123456"), "{err}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for (text, needle) in [
            ("token=t", "must start with \"pkcs11:\""),
            ("pkcs11:token=t;token=u", "appears twice"),
            ("pkcs11:label=t", "unknown path attribute \"label\""),
            ("pkcs11:token=t?module_path=/m.so", "unknown query attribute \"module_path\""),
            ("pkcs11:token=t?module-name=softhsm2", "module-name is not supported"),
            ("pkcs11:type=cert", "type=cert names no private key"),
            ("pkcs11:slot-id=0x10", "slot-id must be a decimal number"),
            ("pkcs11:id=%0", "bad percent-encoding"),
            ("pkcs11:object=%ff%fe", "not UTF-8"),
            ("pkcs11:object", "has no value"),
        ] {
            let err = Pkcs11Uri::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn selectors_for_messages() {
        let uri = Pkcs11Uri::parse("pkcs11:token=a;slot-id=3;object=k;id=%01").unwrap();
        assert_eq!(uri.token_selector(), "token=a;slot-id=3");
        assert_eq!(uri.object_selector(), "object=k;id=%01");
        assert_eq!(Pkcs11Uri::parse("pkcs11:object=k").unwrap().token_selector(), "any token");
    }
}
