//! Finding the token and the key, logging in, and checking the key against the leaf.

use std::path::Path;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{SECP_256_R_1, SECP_384_R_1, SECP_521_R_1};
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::RawAuthPin;
use der::Decode;

use super::{Pkcs11Pin, Pkcs11Uri, module};
use crate::algorithm::KeySpec;
use crate::error::{LoginRefusal, Pkcs11Error};
use crate::key::PublicKey;

/// The one initialized token matching `uri`, with its description.
pub(super) fn find_token(
    context: &Pkcs11,
    uri: &Pkcs11Uri,
    module: &Path,
) -> Result<(Slot, TokenInfo, String), Pkcs11Error> {
    let library_matches = if uri.library_manufacturer().is_some()
        || uri.library_description().is_some()
        || uri.library_version().is_some()
    {
        let info = context.get_library_info().map_err(|e| {
            module::call_error(format!("reading the information of module {}", module.display()), e)
        })?;
        let version =
            format!("{}.{}", info.library_version().major(), info.library_version().minor());
        same(uri.library_manufacturer(), info.manufacturer_id())
            && same(uri.library_description(), info.library_description())
            && same(uri.library_version(), &version)
    } else {
        true
    };
    let slots = context
        .get_slots_with_token()
        .map_err(|e| module::call_error(format!("listing the slots of {}", module.display()), e))?;
    let mut found = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let Ok(info) = context.get_token_info(slot) else {
            continue;
        };
        if !info.token_initialized() {
            continue;
        }
        let description = format!(
            "token {:?} ({} {}, serial {}, slot-id {})",
            info.label().trim_end(),
            info.manufacturer_id().trim_end(),
            info.model().trim_end(),
            info.serial_number().trim_end(),
            slot.id()
        );
        let slot_matches = if uri.slot_description().is_some() || uri.slot_manufacturer().is_some()
        {
            context.get_slot_info(slot).is_ok_and(|s| {
                same(uri.slot_description(), s.slot_description())
                    && same(uri.slot_manufacturer(), s.manufacturer_id())
            })
        } else {
            true
        };
        if library_matches
            && slot_matches
            && same(uri.token(), info.label())
            && same(uri.manufacturer(), info.manufacturer_id())
            && same(uri.serial(), info.serial_number())
            && same(uri.model(), info.model())
            && uri.slot_id().is_none_or(|id| id == slot.id())
        {
            matching.push((slot, info, description.clone()));
        }
        found.push(description);
    }
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(Pkcs11Error::TokenNotFound {
            wanted: uri.token_selector(),
            module: module.to_owned(),
            found,
        }),
        _ => Err(Pkcs11Error::AmbiguousToken {
            wanted: uri.token_selector(),
            found: matching.into_iter().map(|(_, _, d)| d).collect(),
        }),
    }
}

/// Whether a URI attribute (if given) equals a blank-padded PKCS#11 string.
fn same(wanted: Option<&str>, actual: &str) -> bool {
    wanted.is_none_or(|w| w == actual.trim_end())
}

/// Logs the user in; `Ok(false)` when there is no PIN and the token does not need one.
pub(super) fn login(
    session: &Session,
    info: &TokenInfo,
    pin: Option<&Pkcs11Pin>,
    token: &str,
) -> Result<bool, Pkcs11Error> {
    let result = match pin {
        // RawAuthPin (secrecy) clears its copy when dropped, as Zeroizing does ours.
        Some(pin) => {
            session.login_with_raw(UserType::User, &RawAuthPin::new(Box::new(pin.0.to_vec())))
        }
        None if info.protected_authentication_path() => session.login(UserType::User, None),
        None if info.login_required() => {
            return Err(Pkcs11Error::PinRequired { token: token.to_owned() });
        }
        None => return Ok(false),
    };
    let denied = |reason| Pkcs11Error::AccessDenied { token: token.to_owned(), reason };
    match result {
        // PKCS#11 logins belong to the application: another signer in this process logged in.
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(true),
        Err(CryptokiError::Pkcs11(
            rv @ (RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange),
            _,
        )) => Err(denied(LoginRefusal::WrongPin(match rv {
            RvError::PinInvalid => "CKR_PIN_INVALID",
            RvError::PinLenRange => "CKR_PIN_LEN_RANGE",
            _ => "CKR_PIN_INCORRECT",
        }))),
        Err(CryptokiError::Pkcs11(RvError::PinLocked, _)) => Err(denied(LoginRefusal::PinLocked)),
        Err(CryptokiError::Pkcs11(RvError::PinExpired, _)) => Err(denied(LoginRefusal::PinExpired)),
        Err(CryptokiError::Pkcs11(RvError::UserPinNotInitialized, _)) => {
            Err(denied(LoginRefusal::PinNotInitialized))
        }
        Err(other) => Err(module::call_error(format!("logging in to {token}"), other)),
    }
}

/// The one private key matching the URI's `object` and `id`, with its description.
pub(super) fn find_private_key(
    session: &Session,
    uri: &Pkcs11Uri,
    token: &str,
    logged_in: bool,
) -> Result<(ObjectHandle, String), Pkcs11Error> {
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    if let Some(label) = uri.object() {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = uri.id() {
        template.push(Attribute::Id(id.to_vec()));
    }
    let search = |template: &[Attribute]| {
        session
            .find_objects(template)
            .map_err(|e| module::call_error(format!("searching the keys of {token}"), e))
    };
    let mut keys = search(&template)?;
    match keys.len() {
        1 => {
            let key = keys.remove(0);
            Ok((key, describe_object(session, key)))
        }
        0 => {
            let all = search(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])?;
            Err(Pkcs11Error::KeyNotFound {
                token: token.to_owned(),
                searched: uri.object_selector(),
                logged_in,
                available: all.into_iter().map(|k| describe_object(session, k)).collect(),
            })
        }
        _ => Err(Pkcs11Error::AmbiguousKey {
            token: token.to_owned(),
            searched: uri.object_selector(),
            found: keys.into_iter().map(|k| describe_object(session, k)).collect(),
        }),
    }
}

/// `"rsa-2048" (id %01)`, from `CKA_LABEL` and `CKA_ID`.
fn describe_object(session: &Session, object: ObjectHandle) -> String {
    let attributes = session
        .get_attributes(object, &[AttributeType::Label, AttributeType::Id])
        .unwrap_or_default();
    let label = find_attr(&attributes, |a| match a {
        Attribute::Label(l) => Some(String::from_utf8_lossy(l).into_owned()),
        _ => None,
    });
    let id = find_attr(&attributes, |a| match a {
        Attribute::Id(id) if !id.is_empty() => {
            Some(id.iter().map(|b| format!("%{b:02x}")).collect::<String>())
        }
        _ => None,
    });
    match (label, id) {
        (Some(label), Some(id)) => format!("{label:?} (id {id})"),
        (Some(label), None) => format!("{label:?}"),
        (None, Some(id)) => format!("id {id}"),
        (None, None) => format!("object {object:?}"),
    }
}

pub(super) fn find_attr<'a, T>(
    attributes: &'a [Attribute],
    f: impl Fn(&'a Attribute) -> Option<T>,
) -> Option<T> {
    attributes.iter().find_map(f)
}

/// The key spec of a token key from `CKA_KEY_TYPE` and `CKA_MODULUS` / `CKA_EC_PARAMS`.
pub(super) fn key_spec(attributes: &[Attribute], key: &str) -> Result<KeySpec, Pkcs11Error> {
    let unsupported = |kind: String| Pkcs11Error::UnsupportedKey { key: key.to_owned(), kind };
    let key_type = find_attr(attributes, |a| match a {
        Attribute::KeyType(t) => Some(*t),
        _ => None,
    });
    match key_type {
        Some(KeyType::RSA) => {
            let Some(modulus) = find_attr(attributes, |a| match a {
                Attribute::Modulus(m) => Some(m.as_slice()),
                _ => None,
            }) else {
                return Err(unsupported("an RSA key without a readable CKA_MODULUS".to_owned()));
            };
            match significant(modulus).len() * 8 {
                2048 => Ok(KeySpec::Rsa2048),
                3072 => Ok(KeySpec::Rsa3072),
                4096 => Ok(KeySpec::Rsa4096),
                bits => Err(unsupported(format!("an RSA {bits}-bit key"))),
            }
        }
        Some(KeyType::EC) => {
            let curve = find_attr(attributes, |a| match a {
                Attribute::EcParams(p) => ObjectIdentifier::from_der(p).ok(),
                _ => None,
            });
            match curve {
                Some(SECP_256_R_1) => Ok(KeySpec::Ec256),
                Some(SECP_384_R_1) => Ok(KeySpec::Ec384),
                Some(SECP_521_R_1) => Ok(KeySpec::Ec521),
                Some(other) => Err(unsupported(format!("an EC key on curve {other}"))),
                None => {
                    Err(unsupported("an EC key without a named curve in CKA_EC_PARAMS".to_owned()))
                }
            }
        }
        Some(other) => Err(unsupported(format!("a {other} key"))),
        None => Err(unsupported("a key without CKA_KEY_TYPE".to_owned())),
    }
}

pub(super) fn check_can_sign(attributes: &[Attribute], key: &str) -> Result<(), Pkcs11Error> {
    let cannot = |reason| Pkcs11Error::CannotSign { key: key.to_owned(), reason };
    if find_attr(attributes, |a| matches!(a, Attribute::Sign(false)).then_some(())).is_some() {
        return Err(cannot("CKA_SIGN is false"));
    }
    if find_attr(attributes, |a| matches!(a, Attribute::AlwaysAuthenticate(true)).then_some(()))
        .is_some()
    {
        return Err(cannot(
            "CKA_ALWAYS_AUTHENTICATE is true: every signature needs its own PIN entry, which this signer does not do; use a key without it",
        ));
    }
    Ok(())
}

/// Big-endian integer bytes without leading zeros.
fn significant(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Whether `modulus` is the leaf RSA key's modulus.
pub(super) fn same_modulus(modulus: &[u8], leaf: &PublicKey) -> bool {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        _exponent: der::asn1::UintRef<'a>,
    }
    RsaPublicKey::from_der(leaf.as_bytes())
        .is_ok_and(|k| significant(k.modulus.as_bytes()) == significant(modulus))
}

/// Compares the public key object that shares the private key's `CKA_ID` (or, without one, its
/// `CKA_LABEL`) with the leaf key. `Ok(false)`: no such object; `Err`: what differs.
pub(super) fn check_public_key_object(
    session: &Session,
    private_attributes: &[Attribute],
    leaf: &PublicKey,
) -> Result<bool, &'static str> {
    let mut template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY)];
    if let Some(id) = find_attr(private_attributes, |a| match a {
        Attribute::Id(id) if !id.is_empty() => Some(id.clone()),
        _ => None,
    }) {
        template.push(Attribute::Id(id));
    } else if let Some(label) = find_attr(private_attributes, |a| match a {
        Attribute::Label(l) if !l.is_empty() => Some(l.clone()),
        _ => None,
    }) {
        template.push(Attribute::Label(label));
    } else {
        return Ok(false);
    }
    let Ok(objects) = session.find_objects(&template) else {
        return Ok(false);
    };
    let (attribute, compared) = if leaf.key_spec().is_rsa() {
        (AttributeType::Modulus, "the public key object's CKA_MODULUS")
    } else {
        (AttributeType::EcPoint, "the public key object's CKA_EC_POINT")
    };
    let mut checked = false;
    for object in objects {
        let Ok(attributes) = session.get_attributes(object, &[attribute]) else {
            continue;
        };
        let same = match attributes.first() {
            Some(Attribute::Modulus(m)) => same_modulus(m, leaf),
            Some(Attribute::EcPoint(p)) => ec_point(p, leaf.key_spec()) == Some(leaf.as_bytes()),
            _ => continue,
        };
        if same {
            return Ok(true);
        }
        checked = true;
    }
    if checked { Err(compared) } else { Ok(false) }
}

/// The uncompressed point in a `CKA_EC_POINT`: DER OCTET STRING as PKCS#11 specifies, or the
/// raw point some tokens return.
fn ec_point(value: &[u8], spec: KeySpec) -> Option<&[u8]> {
    let point_len = 1 + 2 * spec.ec_scalar_len()?;
    if value.len() == point_len && value.first() == Some(&0x04) {
        return Some(value);
    }
    <&der::asn1::OctetStringRef>::from_der(value).ok().map(der::asn1::OctetStringRef::as_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_accepts_der_and_raw() {
        let raw = [[0x04].as_slice(), &[7u8; 64]].concat();
        let der = [[0x04, 0x41].as_slice(), &raw].concat();
        assert_eq!(ec_point(&der, KeySpec::Ec256), Some(raw.as_slice()));
        assert_eq!(ec_point(&raw, KeySpec::Ec256), Some(raw.as_slice()));
        assert_eq!(ec_point(&[1, 2, 3], KeySpec::Ec256), None);
    }
}
