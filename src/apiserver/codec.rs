//! Content negotiation: request bodies in JSON, YAML or Kubernetes protobuf, and responses as
//! JSON or YAML objects, Tables (what `kubectl get` prints) or PartialObjectMetadata.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::ApiError;

const JSON: &str = "application/json";
const YAML: &str = "application/yaml";
const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// The media types a body may come in, for the 415 message.
pub const ACCEPTED_BODIES: &str =
    "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// The media type of a request body, without parameters.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Decodes an object body of the given media type.
pub fn decode_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    match content_type {
        "" | JSON => decode_json(body),
        YAML => decode_yaml(body),
        PROTOBUF => crate::protobuf::decode(body).map_err(|e| ApiError::BadRequest(e.to_string())),
        _ => Err(ApiError::UnsupportedMediaType(ACCEPTED_BODIES)),
    }
}

pub fn decode_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

pub fn decode_yaml(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("the YAML body is not UTF-8".into()))?;
    serde_saphyr::from_str(text)
        .map_err(|e| ApiError::BadRequest(format!("error converting YAML to JSON: {e}")))
}

/// What `includeObject` asks Table rows to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

/// The shape of the answer a client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Object,
    Table,
    PartialMetadata,
}

/// A client's Accept header, reduced to what mkc can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accept {
    pub output: Output,
    pub yaml: bool,
    /// JSON indented by two spaces, as upstream indents it (see [`pretty`]).
    pub pretty: bool,
}

impl Accept {
    /// Picks the first acceptable media type in the header; protobuf is skipped because JSON,
    /// which every Kubernetes client also accepts, is always answered instead.
    pub fn from_headers(headers: &HeaderMap) -> Result<Accept, ApiError> {
        let Some(text) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Ok(Accept::JSON);
        };
        let mut saw_only_unservable = false;
        for media in text.split(',') {
            let mut params = media.split(';').map(str::trim);
            let essence = params.next().unwrap_or_default().to_ascii_lowercase();
            let params: Vec<(&str, &str)> = params.filter_map(|p| p.split_once('=')).collect();
            let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
            let yaml = match essence.as_str() {
                JSON | "*/*" | "application/*" => false,
                YAML => true,
                _ => {
                    saw_only_unservable = true;
                    continue;
                }
            };
            let output = match (param("as"), param("g")) {
                (Some("Table"), Some("meta.k8s.io")) => Output::Table,
                (
                    Some("PartialObjectMetadata" | "PartialObjectMetadataList"),
                    Some("meta.k8s.io"),
                ) => Output::PartialMetadata,
                (Some(_), _) => continue,
                (None, _) => Output::Object,
            };
            return Ok(Accept {
                output,
                yaml,
                pretty: false,
            });
        }
        if saw_only_unservable {
            return Err(ApiError::NotAcceptable);
        }
        Ok(Accept::JSON)
    }

    pub const JSON: Accept = Accept {
        output: Output::Object,
        yaml: false,
        pretty: false,
    };
}

/// Answers `value` as the client asked: JSON, or YAML if that is what it accepts.
pub fn respond(accept: Accept, code: StatusCode, value: &impl Serialize) -> Response {
    let (body, media) = if accept.yaml {
        match serde_saphyr::to_string(value) {
            Ok(text) => (text.into_bytes(), YAML),
            Err(e) => return ApiError::Internal(format!("encoding YAML: {e}")).into_response(),
        }
    } else {
        (json(value, accept.pretty), JSON)
    };
    let mut response = (code, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    response
}

/// JSON as upstream's encoder writes it: compact with a closing newline, or indented by two
/// spaces without one when `pretty` is asked for.
pub fn json(value: &impl Serialize, pretty: bool) -> Vec<u8> {
    if pretty {
        return serde_json::to_vec_pretty(value).unwrap_or_default();
    }
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Whether to indent JSON, as upstream decides: what `?pretty` says, else yes for the user
/// agents of browsers and command-line HTTP tools.
pub fn pretty(asked: Option<bool>, headers: &HeaderMap) -> bool {
    asked.unwrap_or_else(|| {
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        ["curl", "Wget", "Mozilla/5.0"]
            .iter()
            .any(|tool| agent.starts_with(tool))
    })
}

/// The PartialObjectMetadata view of an object.
pub fn partial_metadata(object: &Value) -> Value {
    serde_json::json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object["metadata"].clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Result<Accept, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        Accept::from_headers(&headers)
    }

    #[test]
    fn reads_what_kubectl_and_client_go_accept() {
        let table = accept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json").unwrap();
        assert_eq!(table.output, Output::Table);
        let typed = accept("application/vnd.kubernetes.protobuf, */*").unwrap();
        assert_eq!(typed, Accept::JSON);
        let meta =
            accept("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1").unwrap();
        assert_eq!(meta.output, Output::PartialMetadata);
        assert!(accept("application/yaml").unwrap().yaml);
        assert!(matches!(accept("text/html"), Err(ApiError::NotAcceptable)));
        let fallback = accept("application/json;as=Widget;g=x;v=v1, application/json").unwrap();
        assert_eq!(fallback, Accept::JSON);
    }

    #[test]
    fn bodies_decode_by_media_type() {
        assert_eq!(
            decode_body("application/json", br#"{"a":1}"#).unwrap()["a"],
            1
        );
        assert_eq!(
            decode_body("application/yaml", b"a: 1\nb: [x]\n").unwrap()["b"][0],
            "x"
        );
        assert!(matches!(
            decode_body("application/json", b"{"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            decode_body("text/plain", b"x"),
            Err(ApiError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            decode_body(PROTOBUF, b"nope"),
            Err(ApiError::BadRequest(_))
        ));
    }
}
