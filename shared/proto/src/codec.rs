//! The codec every generated client and server uses: prost's, plus the checks that make a bad
//! request body the client's mistake.
//!
//! - A request that is not a valid message (bad UTF-8 in a string, a bad wire type, a truncated
//!   field) answers `INVALID_ARGUMENT` with a `BadRequest` naming the field, where tonic's codec
//!   answers `INTERNAL` with prost's text.
//! - A string containing U+0000 answers `INVALID_ARGUMENT` before any handler sees it: PostgreSQL
//!   cannot store NUL in text and SQLite truncates at it, so it is refused the same way on both.
//!
//! Responses are checked the same way only for validity: an undecodable *response* is the
//! server's fault and stays `INTERNAL`.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::OnceLock;

use prost::bytes::Buf;
use prost::{Message, Name};
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, Value};
use tonic::codec::{DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every kefu error.
pub const ERROR_DOMAIN: &str = "kefu.dev";

/// The codec tonic's generated code is pointed at (`codec_path`).
#[derive(Debug, Clone)]
pub struct Codec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = tonic_prost::ProstEncoder<T>;
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder { _type: PhantomData }
    }
}

/// Decodes with prost, then refuses NUL in strings; see the module docs.
#[derive(Debug, Clone)]
pub struct CheckedDecoder<U> {
    _type: PhantomData<U>,
}

impl<U: Message + Name + Default> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let from_client = U::NAME.ends_with("Request");
        // A string holding U+0000 encodes a zero byte; most messages have none, so only those
        // that do are walked (their bytes kept for it).
        let raw = (from_client && memchr::memchr(0, buf.chunk()).is_some())
            .then(|| prost::bytes::Bytes::copy_from_slice(buf.chunk()));
        let whole = buf.chunk().len() == buf.remaining();
        let message = U::decode(&mut *buf).map_err(|error| {
            if from_client {
                undecodable(&U::full_name(), &error.to_string())
            } else {
                Status::internal(error.to_string())
            }
        })?;
        if let Some(raw) = raw.filter(|_| whole)
            && let Some(path) = nul_path(&U::full_name(), raw)
        {
            return Err(nul_refused(&path));
        }
        Ok(Some(message))
    }
}

/// The request body could not be decoded as `message`: `INVALID_ARGUMENT` naming the field.
///
/// prost's text reads `failed to decode Protobuf message: Outer.field: Inner.field: reason`.
pub fn undecodable(message: &str, prost_text: &str) -> Status {
    let text = prost_text
        .strip_prefix("failed to decode Protobuf message: ")
        .unwrap_or(prost_text);
    let mut fields = Vec::new();
    let mut reason = text;
    while let Some((segment, rest)) = reason.split_once(": ") {
        match segment.rsplit_once('.') {
            Some((owner, field))
                if !owner.is_empty() && !field.is_empty() && !segment.contains(' ') =>
            {
                fields.push(field);
                reason = rest;
            }
            _ => break,
        }
    }
    // prost lists the innermost field first.
    fields.reverse();
    let field = fields.join(".");
    let mut details = ErrorDetails::new();
    if !field.is_empty() {
        details.add_bad_request_violation(field.clone(), reason);
    }
    details.set_error_info("UNDECODABLE_REQUEST", ERROR_DOMAIN, HashMap::new());
    let at = if field.is_empty() {
        String::new()
    } else {
        format!(" at {field}")
    };
    Status::with_error_details(
        Code::InvalidArgument,
        format!("the request body is not a valid {message}{at}: {reason}"),
        details,
    )
}

/// `INVALID_ARGUMENT` for a string field holding U+0000.
pub fn nul_refused(field: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.add_bad_request_violation(field, "must not contain U+0000 (NUL)");
    details.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid request: {field}: must not contain U+0000 (NUL)"),
        details,
    )
}

fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

/// The path of the first string field in the encoded `message` that contains U+0000.
pub fn nul_path(message: &str, encoded: prost::bytes::Bytes) -> Option<String> {
    let descriptor = pool()?.get_message_by_name(message)?;
    let dynamic = DynamicMessage::decode(descriptor, encoded).ok()?;
    nul_in_message(&dynamic)
}

fn nul_in_message(message: &DynamicMessage) -> Option<String> {
    message
        .fields()
        .find_map(|(field, value)| nul_in_value(value).map(|below| join(field.name(), below)))
}

fn nul_in_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Message(inner) => nul_in_message(inner),
        Value::List(items) => items.iter().enumerate().find_map(|(index, item)| {
            nul_in_value(item).map(|below| format!("[{index}]{}", dotted(below)))
        }),
        Value::Map(entries) => entries.iter().find_map(|(key, item)| {
            let key_text = match key {
                MapKey::String(text) => text.clone(),
                other => format!("{other:?}"),
            };
            if key_text.contains('\0') {
                return Some(String::new());
            }
            nul_in_value(item).map(|below| format!("[{key_text:?}]{}", dotted(below)))
        }),
        _ => None,
    }
}

fn dotted(below: String) -> String {
    if below.is_empty() || below.starts_with('[') {
        below
    } else {
        format!(".{below}")
    }
}

fn join(label: &str, below: String) -> String {
    format!("{label}{}", dotted(below))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prost_text_becomes_a_field_path_and_a_reason() {
        let status = undecodable(
            "kefu.tickets.v1.CreateTicketRequest",
            "failed to decode Protobuf message: Ticket.subject: CreateTicketRequest.ticket: invalid string value: data is not UTF-8 encoded",
        );
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violations = details.bad_request().map(|b| b.field_violations.clone());
        let violation = violations.and_then(|v| v.into_iter().next());
        assert_eq!(
            violation.map(|v| (v.field, v.description)),
            Some((
                "ticket.subject".to_string(),
                "invalid string value: data is not UTF-8 encoded".to_string()
            ))
        );
    }

    #[test]
    fn text_without_a_field_keeps_its_reason() {
        let status = undecodable(
            "kefu.x.v1.R",
            "failed to decode Protobuf message: buffer underflow",
        );
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().ends_with(": buffer underflow"),
            "{}",
            status.message()
        );
    }
}
