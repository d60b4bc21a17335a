//! QR payloads: base64 of the UTF-8 id printed on a user's card or an asset's sticker.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// Why QR data does not decode to an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("QR data is empty")]
    Empty,
    #[error("QR data is not valid base64")]
    NotBase64,
    #[error("QR data does not decode to UTF-8 text")]
    NotUtf8,
    #[error("QR data decodes to an empty or malformed id")]
    BadId,
}

/// Decodes base64 (padded or not) into the id text it carries.
pub fn decode_qr(data: &str) -> Result<String, QrError> {
    let data = data.trim();
    if data.is_empty() {
        return Err(QrError::Empty);
    }
    let bytes = STANDARD
        .decode(data)
        .or_else(|_| STANDARD_NO_PAD.decode(data))
        .map_err(|_| QrError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| QrError::NotUtf8)?;
    crate::ids::check_id(&text).map_err(|_| QrError::BadId)?;
    Ok(text)
}

/// The promise [`decode_qr`] keeps for any text (see [`crate::edge::TextParser`]): a valid id,
/// or a reason, "empty" only for blank text.
pub(crate) fn check_any(data: &str) -> Result<bool, String> {
    match decode_qr(data) {
        Ok(id) => crate::ids::check_id(&id)
            .map(|()| true)
            .map_err(|e| format!("decoded to a bad id {id:?} ({e:?})")),
        Err(QrError::Empty) if !data.trim().is_empty() => Err("called empty".to_owned()),
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_example_payloads() {
        assert_eq!(decode_qr("dHBnX3UwMDAx").unwrap(), "tpg_u0001");
        assert_eq!(decode_qr("dHBnX2EwMDAwMQ==").unwrap(), "tpg_a00001");
        assert_eq!(
            decode_qr("dHBnX2EwMDAwMQ").unwrap(),
            "tpg_a00001",
            "padding optional"
        );
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(decode_qr(""), Err(QrError::Empty));
        assert_eq!(decode_qr("   "), Err(QrError::Empty));
    }

    #[test]
    fn rejects_bad_base64() {
        assert_eq!(decode_qr("not base64!"), Err(QrError::NotBase64));
    }

    #[test]
    fn rejects_non_utf8() {
        assert_eq!(decode_qr("//79"), Err(QrError::NotUtf8)); // 0xff 0xfe 0xfd
    }

    #[test]
    fn rejects_blank_decoded_id() {
        assert_eq!(decode_qr("ICA="), Err(QrError::BadId)); // two spaces
    }
}
