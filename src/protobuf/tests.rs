//! Tests of the protobuf decoder against bodies built by hand the way client-go's encoder
//! writes them: every value-typed field present even when zero, pointers only when set.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::message::{MAX_DEPTH, decode_message};
use super::model::{Field, Kind, Message, Shape};
use super::{ProtobufError, WireType, decode, schema};

/// A protobuf message under construction; each method appends one field.
#[derive(Clone, Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn new() -> Self {
        Self::default()
    }

    fn key(mut self, tag: u32, wire_type: u8) -> Self {
        put_varint(&mut self.0, u64::from(tag) << 3 | u64::from(wire_type));
        self
    }

    fn varint(self, tag: u32, value: u64) -> Self {
        let mut pb = self.key(tag, 0);
        put_varint(&mut pb.0, value);
        pb
    }

    /// An int32 or int64; negative values travel sign-extended to ten bytes.
    fn int(self, tag: u32, value: i64) -> Self {
        self.varint(tag, value as u64)
    }

    fn bool(self, tag: u32, value: bool) -> Self {
        self.varint(tag, u64::from(value))
    }

    fn fixed32(self, tag: u32, value: u32) -> Self {
        let mut pb = self.key(tag, 5);
        pb.0.extend_from_slice(&value.to_le_bytes());
        pb
    }

    fn fixed64(self, tag: u32, value: u64) -> Self {
        let mut pb = self.key(tag, 1);
        pb.0.extend_from_slice(&value.to_le_bytes());
        pb
    }

    fn bytes(self, tag: u32, payload: &[u8]) -> Self {
        let mut pb = self.key(tag, 2);
        put_varint(&mut pb.0, payload.len() as u64);
        pb.0.extend_from_slice(payload);
        pb
    }

    fn string(self, tag: u32, text: &str) -> Self {
        self.bytes(tag, text.as_bytes())
    }

    fn message(self, tag: u32, inner: Pb) -> Self {
        self.bytes(tag, &inner.0)
    }

    /// One entry (key = 1, value = 2) of a map with length-delimited values.
    fn bytes_entry(self, tag: u32, key: &str, value: &[u8]) -> Self {
        self.message(tag, Pb::new().string(1, key).bytes(2, value))
    }

    fn string_entry(self, tag: u32, key: &str, value: &str) -> Self {
        self.bytes_entry(tag, key, value.as_bytes())
    }

    fn message_entry(self, tag: u32, key: &str, value: Pb) -> Self {
        self.bytes_entry(tag, key, &value.0)
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A whole request body: the magic, then `runtime.Unknown` around `object`.
fn body(api_version: &str, kind: &str, object: Pb) -> Vec<u8> {
    envelope(api_version, kind, object, "")
}

fn envelope(api_version: &str, kind: &str, object: Pb, content_encoding: &str) -> Vec<u8> {
    let type_meta = Pb::new().string(1, api_version).string(2, kind);
    let unknown = Pb::new()
        .message(1, type_meta)
        .message(2, object)
        .string(3, content_encoding)
        .string(4, "");
    [b"k8s\0".as_slice(), &unknown.0].concat()
}

/// ObjectMeta of a new object as Go writes it: the value fields all present, the zero
/// creationTimestamp as an empty message.
fn object_meta(name: &str, labels: &[(&str, &str)]) -> Pb {
    let meta = Pb::new()
        .string(1, name)
        .string(2, "")
        .string(3, "")
        .string(4, "")
        .string(5, "")
        .string(6, "")
        .int(7, 0)
        .message(8, Pb::new());
    labels
        .iter()
        .fold(meta, |meta, (key, value)| meta.string_entry(11, key, value))
}

/// A Timestamp message (seconds = 1, nanos = 2).
fn timestamp(seconds: i64, nanos: i64) -> Pb {
    Pb::new().int(1, seconds).int(2, nanos)
}

/// 2024-01-02T03:04:05Z.
const SECONDS: i64 = 1_704_164_645;

/// A container as Go writes it, with its zero-valued value fields.
fn container(name: &str, image: &str, resources: Pb) -> Pb {
    Pb::new()
        .string(1, name)
        .string(2, image)
        .string(5, "")
        .message(8, resources)
        .string(13, "")
        .string(14, "")
        .bool(16, false)
        .bool(17, false)
        .bool(18, false)
        .string(20, "")
}

/// A PodSpec as Go writes it around `containers`, with its zero-valued value fields.
fn pod_spec(containers: Vec<Pb>) -> Pb {
    let spec = containers
        .into_iter()
        .fold(Pb::new(), |spec, c| spec.message(2, c));
    [3, 6, 8, 9, 10]
        .iter()
        .fold(spec, |spec, &tag| spec.string(tag, ""))
        .bool(11, false)
        .bool(12, false)
        .bool(13, false)
        .string(16, "")
        .string(17, "")
        .string(19, "")
        .string(24, "")
}

/// What `kubectl create deployment web --image=nginx --replicas=3` sends.
fn deployment_body() -> Vec<u8> {
    let labels = [("app", "web")];
    let template = Pb::new()
        .message(1, object_meta("", &labels))
        .message(2, pod_spec(vec![container("nginx", "nginx", Pb::new())]));
    let spec = Pb::new()
        .int(1, 3)
        .message(2, Pb::new().string_entry(1, "app", "web"))
        .message(3, template)
        .message(4, Pb::new().string(1, ""))
        .int(5, 0)
        .bool(7, false);
    let status = [1, 2, 3, 4, 5, 7]
        .iter()
        .fold(Pb::new(), |status, &tag| status.int(tag, 0));
    let deployment = Pb::new()
        .message(1, object_meta("web", &labels))
        .message(2, spec)
        .message(3, status);
    body("apps/v1", "Deployment", deployment)
}

#[test]
fn namespace() -> Result<(), ProtobufError> {
    let namespace = Pb::new()
        .message(1, object_meta("dev", &[]))
        .message(2, Pb::new())
        .message(3, Pb::new().string(1, ""));
    assert_eq!(
        decode(&body("v1", "Namespace", namespace))?,
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "dev", "creationTimestamp": null},
            "spec": {},
            "status": {},
        })
    );
    Ok(())
}

#[test]
fn deployment_as_kubectl_creates_it() -> Result<(), ProtobufError> {
    assert_eq!(
        decode(&deployment_body())?,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]},
                },
                "strategy": {},
            },
            "status": {},
        })
    );
    Ok(())
}

#[test]
fn secret_data_is_base64() -> Result<(), ProtobufError> {
    let secret = Pb::new()
        .message(1, object_meta("db", &[]))
        .bytes_entry(2, "password", b"hunter2")
        .bytes_entry(2, "blob", &[0x00, 0xff, 0x01])
        .string(3, "Opaque");
    assert_eq!(
        decode(&body("v1", "Secret", secret))?,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "creationTimestamp": null},
            "data": {"password": "aHVudGVyMg==", "blob": "AP8B"},
            "type": "Opaque",
        })
    );
    Ok(())
}

#[test]
fn service_with_cluster_ips_and_both_target_port_forms() -> Result<(), ProtobufError> {
    let port = |name: &str, number: i64, target: Pb| {
        Pb::new()
            .string(1, name)
            .string(2, "TCP")
            .int(3, number)
            .message(4, target)
            .int(5, 0)
    };
    let numeric = Pb::new().int(1, 0).int(2, 8080).string(3, "");
    let named = Pb::new().int(1, 1).int(2, 0).string(3, "metrics");
    let spec = Pb::new()
        .message(1, port("http", 80, numeric))
        .message(1, port("metrics", 9090, named))
        .string_entry(2, "app", "web")
        .string(3, "10.96.0.10")
        .string(4, "ClusterIP")
        .string(7, "")
        .string(8, "")
        .string(10, "")
        .string(11, "")
        .int(12, 0)
        .bool(13, false)
        .string(17, "PreferDualStack")
        .string(18, "10.96.0.10")
        .string(18, "fd00::a")
        .string(19, "IPv4")
        .string(19, "IPv6");
    let service = Pb::new()
        .message(1, object_meta("web", &[]))
        .message(2, spec)
        .message(3, Pb::new().message(1, Pb::new()));
    assert_eq!(
        decode(&body("v1", "Service", service))?,
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "creationTimestamp": null},
            "spec": {
                "ports": [
                    {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics"},
                ],
                "selector": {"app": "web"},
                "clusterIP": "10.96.0.10",
                "clusterIPs": ["10.96.0.10", "fd00::a"],
                "type": "ClusterIP",
                "ipFamilies": ["IPv4", "IPv6"],
                "ipFamilyPolicy": "PreferDualStack",
            },
            "status": {"loadBalancer": {}},
        })
    );
    Ok(())
}

#[test]
fn times_and_micro_times() -> Result<(), ProtobufError> {
    let meta = Pb::new()
        .string(1, "node-1")
        .message(8, timestamp(SECONDS, 999));
    let spec = Pb::new()
        .string(1, "node-1")
        .int(2, 40)
        .message(3, Pb::new())
        .message(4, timestamp(SECONDS, 123_456_789))
        .int(5, 0);
    let lease = Pb::new().message(1, meta).message(2, spec);
    assert_eq!(
        decode(&body("coordination.k8s.io/v1", "Lease", lease))?,
        json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "node-1", "creationTimestamp": "2024-01-02T03:04:05Z"},
            "spec": {
                "holderIdentity": "node-1",
                "leaseDurationSeconds": 40,
                "acquireTime": null,
                "renewTime": "2024-01-02T03:04:05.123456Z",
                "leaseTransitions": 0,
            },
        })
    );
    Ok(())
}

#[test]
fn resource_quantities() -> Result<(), ProtobufError> {
    let quantity = |text: &str| Pb::new().string(1, text);
    let resources = Pb::new()
        .message_entry(1, "cpu", quantity("500m"))
        .message_entry(1, "memory", quantity("128Mi"))
        .message_entry(2, "cpu", quantity("250m"))
        .message(2, Pb::new().string(1, "ephemeral-storage"));
    let pod = Pb::new()
        .message(1, object_meta("app", &[]))
        .message(2, pod_spec(vec![container("app", "busybox", resources)]));
    assert_eq!(
        decode(&body("v1", "Pod", pod))?,
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "app", "creationTimestamp": null},
            "spec": {"containers": [{
                "name": "app",
                "image": "busybox",
                "resources": {
                    "limits": {"cpu": "500m", "memory": "128Mi"},
                    "requests": {"cpu": "250m", "ephemeral-storage": "0"},
                },
            }]},
        })
    );
    Ok(())
}

#[test]
fn embedded_structs_are_inlined() -> Result<(), ProtobufError> {
    let name = |name: &str| Pb::new().string(1, name);
    let config_map = Pb::new().message(1, name("app-config")).int(3, 0o644);
    let volume = Pb::new()
        .string(1, "config")
        .message(2, Pb::new().message(19, config_map));
    let env_from = Pb::new()
        .string(1, "")
        .message(3, Pb::new().message(1, name("creds")));
    let http_get = Pb::new()
        .string(1, "/healthz")
        .message(2, Pb::new().int(1, 1).int(2, 0).string(3, "http"))
        .string(3, "")
        .string(4, "HTTP");
    let probe = Pb::new()
        .message(1, Pb::new().message(2, http_get))
        .int(4, 10);
    let app = Pb::new()
        .string(1, "app")
        .message(10, probe)
        .message(19, env_from);
    let pod = Pb::new().message(2, Pb::new().message(1, volume).message(2, app));
    assert_eq!(
        decode(&body("v1", "Pod", pod))?,
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "spec": {
                "volumes": [{"name": "config", "configMap": {"name": "app-config", "defaultMode": 420}}],
                "containers": [{
                    "name": "app",
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10,
                    },
                    "envFrom": [{"secretRef": {"name": "creds"}}],
                }],
            },
        })
    );
    Ok(())
}

#[test]
fn set_pointers_keep_their_zero_values() -> Result<(), ProtobufError> {
    let options = Pb::new().int(1, 0).string(4, "Foreground").string(5, "All");
    assert_eq!(
        decode(&body("v1", "DeleteOptions", options))?,
        json!({
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "propagationPolicy": "Foreground",
            "dryRun": ["All"],
        })
    );
    let meta = Pb::new().string(1, "web-1").string(3, "default");
    let eviction = Pb::new().message(1, meta).message(2, Pb::new().int(1, 30));
    assert_eq!(
        decode(&body("policy/v1", "Eviction", eviction))?,
        json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": "web-1", "namespace": "default"},
            "deleteOptions": {"gracePeriodSeconds": 30},
        })
    );
    Ok(())
}

#[test]
fn token_request_keeps_required_zero_values() -> Result<(), ProtobufError> {
    let request = Pb::new()
        .message(1, object_meta("", &[]))
        .message(2, Pb::new().int(4, 3600))
        .message(3, Pb::new().string(1, "").message(2, Pb::new()));
    assert_eq!(
        decode(&body("authentication.k8s.io/v1", "TokenRequest", request))?,
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {"creationTimestamp": null},
            "spec": {"expirationSeconds": 3600},
            "status": {"token": "", "expirationTimestamp": null},
        })
    );
    Ok(())
}

#[test]
fn string_lists_become_arrays() -> Result<(), ProtobufError> {
    let scopes = Pb::new().string(1, "read").string(1, "write");
    let user = Pb::new()
        .string(1, "alice")
        .string(3, "dev")
        .message_entry(4, "scopes", scopes)
        .message_entry(4, "empty", Pb::new());
    let status = Pb::new().bool(1, true).message(2, user).string(3, "");
    let review = Pb::new().message(3, status);
    assert_eq!(
        decode(&body("authentication.k8s.io/v1", "TokenReview", review))?,
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "status": {
                "authenticated": true,
                "user": {
                    "username": "alice",
                    "groups": ["dev"],
                    "extra": {"scopes": ["read", "write"], "empty": []},
                },
            },
        })
    );
    Ok(())
}

#[test]
fn embedded_json_is_parsed() -> Result<(), ProtobufError> {
    let managed = Pb::new()
        .string(1, "kubectl")
        .string(2, "Update")
        .message(4, timestamp(SECONDS, 0))
        .string(6, "FieldsV1")
        .message(7, Pb::new().string(1, r#"{"f:data":{}}"#));
    let meta = Pb::new().string(1, "web-1").message(17, managed);
    let revision = Pb::new()
        .message(1, meta)
        .message(2, Pb::new().string(1, r#"{"spec":{"replicas":2}}"#))
        .int(3, 4);
    assert_eq!(
        decode(&body("apps/v1", "ControllerRevision", revision))?,
        json!({
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": "web-1",
                "managedFields": [{
                    "manager": "kubectl",
                    "operation": "Update",
                    "time": "2024-01-02T03:04:05Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {}},
                }],
            },
            "data": {"spec": {"replicas": 2}},
            "revision": 4,
        })
    );
    let empty = Pb::new().message(2, Pb::new());
    assert_eq!(
        decode(&body("apps/v1", "ControllerRevision", empty))?,
        json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "data": null})
    );
    Ok(())
}

#[test]
fn repeated_varints_packed_or_not_and_negative_numbers() -> Result<(), ProtobufError> {
    let mut packed = Vec::new();
    put_varint(&mut packed, 1000);
    put_varint(&mut packed, 2000);
    let security = Pb::new().bytes(4, &packed).int(4, 3000).int(2, -1);
    let spec = Pb::new().message(14, security).int(25, -5);
    let pod = Pb::new().message(2, spec);
    assert_eq!(
        decode(&body("v1", "Pod", pod))?,
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "spec": {
                "securityContext": {"runAsUser": -1, "supplementalGroups": [1000, 2000, 3000]},
                "priority": -5,
            },
        })
    );
    Ok(())
}

#[test]
fn unknown_fields_are_skipped_and_the_last_singular_value_wins() -> Result<(), ProtobufError> {
    let meta = Pb::new()
        .string(1, "first")
        .varint(90, 7)
        .string(91, "later Kubernetes field")
        .fixed32(92, 1)
        .fixed64(93, 2)
        .string(1, "dev");
    let namespace = Pb::new()
        .message(1, meta)
        .message(99, Pb::new().string(1, "x"));
    assert_eq!(
        decode(&body("v1", "Namespace", namespace))?,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    );
    Ok(())
}

#[test]
fn body_without_magic_is_rejected() {
    assert!(matches!(decode(b""), Err(ProtobufError::MissingMagic)));
    assert!(matches!(
        decode(br#"{"kind":"Namespace"}"#),
        Err(ProtobufError::MissingMagic)
    ));
}

/// Decodes `object` as the encoded body of a Namespace.
fn decode_namespace(object: &[u8]) -> Result<Value, ProtobufError> {
    decode(&body("v1", "Namespace", Pb(object.to_vec())))
}

#[test]
fn truncated_varint_is_rejected() {
    assert!(matches!(
        decode_namespace(&[0x08, 0xff]),
        Err(ProtobufError::Truncated)
    ));
}

#[test]
fn length_past_the_end_is_rejected() {
    assert!(matches!(
        decode_namespace(&[0x0a, 0x05, 0x01, 0x02]),
        Err(ProtobufError::LengthOutOfBounds {
            length: 5,
            available: 2
        })
    ));
}

#[test]
fn unknown_kinds_are_rejected() {
    let unknown = decode(&body("v1", "Frobnicator", Pb::new()));
    assert!(matches!(
        unknown,
        Err(ProtobufError::UnknownKind { api_version, kind }) if api_version == "v1" && kind == "Frobnicator"
    ));
    let wrong_version = decode(&body("apps/v1beta1", "Deployment", Pb::new()));
    assert!(matches!(
        wrong_version,
        Err(ProtobufError::UnknownKind { .. })
    ));
}

#[test]
fn malformed_wire_data_is_rejected() {
    let overlong_varint = [[0x08].as_slice(), &[0xff; 10], &[0x01]].concat();
    assert!(matches!(
        decode_namespace(&overlong_varint),
        Err(ProtobufError::VarintOverflow)
    ));
    assert!(matches!(
        decode_namespace(&[0x0b]),
        Err(ProtobufError::UnsupportedWireType(3))
    ));
    assert!(matches!(
        decode_namespace(&[0x00, 0x00]),
        Err(ProtobufError::InvalidFieldNumber(0))
    ));
    assert!(matches!(
        decode_namespace(&[0x0d, 0x01]),
        Err(ProtobufError::Truncated)
    ));
}

#[test]
fn values_that_do_not_fit_their_field_are_rejected() {
    let mismatch = decode(&body("apps/v1", "Deployment", Pb::new().varint(2, 1)));
    assert!(matches!(
        mismatch,
        Err(ProtobufError::WireTypeMismatch {
            message: "apps/v1.Deployment",
            field: "spec",
            found: WireType::Varint,
        })
    ));
    let bad_utf8 = Pb::new().message(1, Pb::new().bytes(1, &[0xff]));
    assert!(matches!(
        decode_namespace(&bad_utf8.0),
        Err(ProtobufError::InvalidUtf8 {
            message: "meta/v1.ObjectMeta",
            field: "name"
        })
    ));
    let bad_json = Pb::new().message(2, Pb::new().string(1, "{not json"));
    assert!(matches!(
        decode(&body("apps/v1", "ControllerRevision", bad_json)),
        Err(ProtobufError::EmbeddedJson {
            message: "apps/v1.ControllerRevision",
            field: "data",
            ..
        })
    ));
    let far_future = Pb::new().message(1, Pb::new().message(8, timestamp(i64::MAX, 0)));
    assert!(matches!(
        decode_namespace(&far_future.0),
        Err(ProtobufError::TimestampOutOfRange {
            seconds: i64::MAX,
            nanos: 0
        })
    ));
    let compressed = envelope("v1", "Namespace", Pb::new(), "gzip");
    assert!(matches!(
        decode(&compressed),
        Err(ProtobufError::UnsupportedContentEncoding(encoding)) if encoding == "gzip"
    ));
}

/// A message type that contains itself, as no Kubernetes type in the table does.
static NODE: Message = Message::new(
    "test.Node",
    &[Field::new(1, "child", Kind::Message(&NODE), Shape::Single)],
);

fn nested(levels: usize) -> Vec<u8> {
    (0..levels)
        .fold(Pb::new(), |inner, _| Pb::new().message(1, inner))
        .0
}

#[test]
fn nesting_is_bounded() -> Result<(), ProtobufError> {
    let shallow = decode_message(&NODE, &nested(2), MAX_DEPTH)?;
    assert_eq!(Value::Object(shallow), json!({"child": {"child": {}}}));
    assert!(decode_message(&NODE, &nested(MAX_DEPTH - 1), MAX_DEPTH).is_ok());
    assert!(matches!(
        decode_message(&NODE, &nested(MAX_DEPTH), MAX_DEPTH),
        Err(ProtobufError::TooDeep)
    ));
    Ok(())
}

#[test]
fn every_prefix_decodes_or_fails_without_panicking() {
    let body = deployment_body();
    assert!(decode(&body).is_ok());
    for end in 0..body.len() {
        let _ = decode(&body[..end]);
    }
}

#[test]
fn corrupted_bytes_decode_or_fail_without_panicking() {
    let body = deployment_body();
    for index in 0..body.len() {
        for byte in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut corrupted = body.clone();
            corrupted[index] = byte;
            let _ = decode(&corrupted);
        }
    }
}

#[test]
fn schema_fields_are_sorted_and_named_uniquely() {
    let mut roots = HashSet::new();
    let mut seen = HashSet::new();
    let mut pending: Vec<&Message> = Vec::new();
    for root in schema::ROOTS {
        assert!(
            roots.insert((root.api_version, root.kind)),
            "{} {}",
            root.api_version,
            root.kind
        );
        pending.push(root.message);
    }
    while let Some(message) = pending.pop() {
        if !seen.insert(message.name) {
            continue;
        }
        let tags: Vec<u32> = message.fields.iter().map(|field| field.tag).collect();
        assert!(
            tags.windows(2).all(|pair| pair[0] < pair[1]),
            "{}: tags out of order",
            message.name
        );
        let mut names = HashSet::new();
        for field in message.fields {
            assert!(
                names.insert(field.json),
                "{}: two fields named {}",
                message.name,
                field.json
            );
            if let Kind::Message(inner) = field.kind {
                pending.push(inner);
            }
        }
    }
    assert!(seen.len() > 200, "only {} messages reachable", seen.len());
}

#[test]
fn role_binding_as_kubectl_creates_it() -> Result<(), ProtobufError> {
    let subject = Pb::new()
        .string(1, "User")
        .string(2, "rbac.authorization.k8s.io")
        .string(3, "alice");
    let role_ref = Pb::new()
        .string(1, "rbac.authorization.k8s.io")
        .string(2, "Role")
        .string(3, "pod-reader");
    let binding = Pb::new()
        .message(1, object_meta("alice-reads", &[]))
        .message(2, subject)
        .message(3, role_ref);
    assert_eq!(
        decode(&body(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            binding
        ))?,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "alice-reads", "creationTimestamp": null},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        })
    );
    Ok(())
}

#[test]
fn a_struct_embedded_in_an_embedded_struct_is_spelled_inline() -> Result<(), ProtobufError> {
    // ValidatingAdmissionPolicy's matchConstraints.resourceRules: NamedRuleWithOperations
    // embeds RuleWithOperations (operations, rule), which embeds Rule.
    let rule = Pb::new()
        .string(1, "apps")
        .string(2, "v1")
        .string(3, "deployments");
    let with_operations = Pb::new().string(1, "CREATE").message(2, rule);
    let named = Pb::new().string(1, "web").message(2, with_operations);
    let constraints = Pb::new().message(3, named);
    let spec = Pb::new().message(2, constraints);
    let policy = Pb::new().message(1, object_meta("p", &[])).message(2, spec);
    let decoded = decode(&body(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
        policy,
    ))?;
    assert_eq!(
        decoded["spec"]["matchConstraints"]["resourceRules"],
        json!([{
            "resourceNames": ["web"],
            "operations": ["CREATE"],
            "apiGroups": ["apps"],
            "apiVersions": ["v1"],
            "resources": ["deployments"],
        }])
    );
    Ok(())
}
