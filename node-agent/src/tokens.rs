//! Service account tokens for pods' `projected` volumes, kept as upstream's kubelet token
//! manager keeps them: each asked of the API server (a TokenRequest bound to the pod) through
//! the agent's own client, cached per pod, service account, audience and lifetime, and reused
//! until it is due for renewal, so that a pod's containers and its periodic volume refreshes
//! share one token instead of asking for one each.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount, ServiceAccountTokenProjection};
use kube::api::PostParams;
use kube::{Api, Client};

/// A token's lifetime when its source names none, as upstream defaults it.
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// A token this old is renewed whatever its lifetime (upstream's maxTTL).
const MAX_AGE: SignedDuration = SignedDuration::from_hours(24);

/// Why a pod's token could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The API server refused the request; its message says why, as upstream's does.
    #[error("{0}")]
    Refused(String),
    /// The request could not be made, or its answer not read.
    #[error("requesting a token: {0}")]
    Request(#[source] kube::Error),
    #[error("the API server answered the TokenRequest without a token")]
    NoToken,
}

impl From<kube::Error> for TokenError {
    fn from(error: kube::Error) -> TokenError {
        match error {
            kube::Error::Api(status) => TokenError::Refused(status.message),
            other => TokenError::Request(other),
        }
    }
}

/// What a `serviceAccountToken` source asks for: an audience (empty for the API server's
/// own) and a lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Projection {
    pub audience: String,
    pub expiration_seconds: i64,
}

impl Projection {
    pub fn of(source: &ServiceAccountTokenProjection) -> Projection {
        Projection {
            audience: source.audience.clone().unwrap_or_default(),
            expiration_seconds: source
                .expiration_seconds
                .unwrap_or(DEFAULT_EXPIRATION_SECONDS),
        }
    }
}

/// What one of a pod's tokens is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    account: String,
    projection: Projection,
}

/// A token as the API server issued it. No `Debug`: the token is a credential.
#[derive(Clone)]
struct Issued {
    token: String,
    expires: Timestamp,
    /// Its lifetime in seconds, as the server granted it.
    lifetime: i64,
}

impl Issued {
    /// When it was issued: its lifetime before it expires.
    fn issued_at(&self) -> Option<Timestamp> {
        let lifetime = SignedDuration::from_secs(self.lifetime);
        self.expires.checked_sub(lifetime).ok()
    }

    /// When it is due for renewal: once less than a fifth (20%) of its lifetime is left, or
    /// once it is a day old, whichever comes first. A token whose times overflow is due at
    /// once.
    fn renewal(&self) -> Timestamp {
        let fifth = SignedDuration::from_secs(self.lifetime / 5);
        let by_lifetime = self.expires.checked_sub(fifth).ok();
        let by_age = self.issued_at().and_then(|at| at.checked_add(MAX_AGE).ok());
        match (by_lifetime, by_age) {
            (Some(lifetime), Some(age)) => lifetime.min(age),
            _ => Timestamp::MIN,
        }
    }

    /// Upstream's requiresRefresh (without its jitter): past its renewal time, or issued
    /// after `now` (the clock went back).
    fn requires_refresh(&self, now: Timestamp) -> bool {
        now > self.renewal() || self.issued_at().is_some_and(|at| now < at)
    }

    fn expired(&self, now: Timestamp) -> bool {
        now > self.expires
    }
}

/// The tokens of the process's pods, by pod UID.
#[derive(Default)]
pub struct Tokens {
    pods: Mutex<HashMap<String, HashMap<Key, Issued>>>,
}

impl Tokens {
    /// The token of `pod`'s service account that `projection` asks for: the cached one until
    /// it is due for renewal, then a new one requested through `client`. A renewal that fails
    /// keeps the cached token while it has not expired, as upstream does.
    pub async fn get(
        &self,
        client: &Client,
        pod: &Pod,
        projection: &Projection,
    ) -> Result<String, TokenError> {
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        let key = Key {
            account: account(pod).to_owned(),
            projection: projection.clone(),
        };
        let now = Timestamp::now();
        self.cached_or(uid, &key, now, || request(client, pod, &key))
            .await
    }

    /// The cached token of `uid` for `key` unless it needs a refresh at `now`; else what
    /// `request` gets, cached.
    async fn cached_or<F>(
        &self,
        uid: &str,
        key: &Key,
        now: Timestamp,
        request: impl FnOnce() -> F,
    ) -> Result<String, TokenError>
    where
        F: Future<Output = Result<Issued, TokenError>>,
    {
        let cached = self.lock().get(uid).and_then(|pod| pod.get(key)).cloned();
        if let Some(fresh) = cached.as_ref().filter(|c| !c.requires_refresh(now)) {
            return Ok(fresh.token.clone());
        }
        match request().await {
            Ok(issued) => {
                let token = issued.token.clone();
                let mut pods = self.lock();
                pods.entry(uid.to_owned())
                    .or_default()
                    .insert(key.clone(), issued);
                Ok(token)
            }
            Err(error) => match cached.filter(|c| !c.expired(now)) {
                Some(valid) => {
                    tracing::warn!(
                        pod = uid, account = %key.account, audience = %key.projection.audience,
                        %error, "renewing a service account token failed; the current one is kept"
                    );
                    Ok(valid.token)
                }
                None => Err(error),
            },
        }
    }

    /// When the first of the pod's tokens is due for renewal; `None` when it holds none.
    pub fn renewal(&self, uid: &str) -> Option<Timestamp> {
        let pods = self.lock();
        pods.get(uid)?.values().map(Issued::renewal).min()
    }

    /// The pod is finished, terminating or gone.
    pub fn forget(&self, uid: &str) {
        self.lock().remove(uid);
    }

    /// Forgets every pod whose UID `keep` refuses.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        self.lock().retain(|uid, _| keep(uid));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, HashMap<Key, Issued>>> {
        self.pods.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The service account `pod` runs as: the one admission named, else `default`.
fn account(pod: &Pod) -> &str {
    let spec = pod.spec.as_ref();
    let named = spec.and_then(|s| s.service_account_name.as_deref());
    let deprecated = spec.and_then(|s| s.service_account.as_deref());
    [named, deprecated]
        .into_iter()
        .flatten()
        .find(|name| !name.is_empty())
        .unwrap_or("default")
}

/// Asks the API server for the token `key` names, bound to `pod`.
async fn request(client: &Client, pod: &Pod, key: &Key) -> Result<Issued, TokenError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let answer = Api::<ServiceAccount>::namespaced(client.clone(), namespace)
        .create_token_request(&key.account, &PostParams::default(), &ask(pod, key))
        .await?;
    answered(answer, &key.projection)
}

/// The TokenRequest for `key`, bound to `pod` as upstream's projected volume binds it: the
/// token then lives no longer than the pod, and the node may only ask for its own pods'.
fn ask(pod: &Pod, key: &Key) -> TokenRequest {
    let audience = &key.projection.audience;
    TokenRequest {
        spec: TokenRequestSpec {
            audiences: if audience.is_empty() {
                Vec::new()
            } else {
                vec![audience.clone()]
            },
            expiration_seconds: Some(key.projection.expiration_seconds),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".to_owned()),
                kind: Some("Pod".to_owned()),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
            }),
        },
        ..TokenRequest::default()
    }
}

/// The token the server answered with; its lifetime is the one it granted, else the one
/// asked for.
fn answered(answer: TokenRequest, asked: &Projection) -> Result<Issued, TokenError> {
    let status = answer.status.ok_or(TokenError::NoToken)?;
    Ok(Issued {
        token: status.token,
        expires: status.expiration_timestamp.0,
        lifetime: answer
            .spec
            .expiration_seconds
            .unwrap_or(asked.expiration_seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    /// A token issued at `issued` (seconds from the tests' epoch) for `lifetime` seconds.
    fn token(name: &str, issued: i64, lifetime: i64) -> Issued {
        Issued {
            token: name.to_owned(),
            expires: at(issued + lifetime),
            lifetime,
        }
    }

    fn key(audience: &str, expiration_seconds: i64) -> Key {
        Key {
            account: "robot".to_owned(),
            projection: Projection {
                audience: audience.to_owned(),
                expiration_seconds,
            },
        }
    }

    #[test]
    fn a_token_is_renewed_past_four_fifths_of_its_life_or_a_day() {
        let hour = token("t", 0, 3600);
        assert_eq!(hour.renewal(), at(2880));
        assert!(!hour.requires_refresh(at(0)));
        assert!(!hour.requires_refresh(at(2880)));
        assert!(hour.requires_refresh(at(2881)));
        assert!(hour.requires_refresh(at(3600)));

        let shortest = token("t", 0, 600);
        assert!(!shortest.requires_refresh(at(480)));
        assert!(shortest.requires_refresh(at(481)));

        let week = token("t", 0, 7 * 24 * 3600);
        assert_eq!(week.renewal(), at(24 * 3600));
        assert!(!week.requires_refresh(at(24 * 3600)));
        assert!(week.requires_refresh(at(24 * 3600 + 1)));

        // Issued after now: the clock went back.
        assert!(hour.requires_refresh(at(-1)));
        assert!(!hour.expired(at(3600)));
        assert!(hour.expired(at(3601)));
    }

    /// Tokens whose requests are counted, each issuing the token it is told to.
    #[derive(Default)]
    struct Counted {
        tokens: Tokens,
        requests: Cell<u32>,
    }

    impl Counted {
        /// The token of `uid` for `key` at `now`; a request issues `name` then.
        async fn get(&self, uid: &str, key: Key, now: i64, name: &str) -> String {
            let lifetime = key.projection.expiration_seconds;
            let request = || {
                self.requests.set(self.requests.get() + 1);
                async move { Ok(token(name, now, lifetime)) }
            };
            let got = self.tokens.cached_or(uid, &key, at(now), request).await;
            got.unwrap()
        }
    }

    #[tokio::test]
    async fn tokens_are_cached_per_pod_and_key_until_due() {
        let counted = Counted::default();
        assert_eq!(counted.get("pod-1", key("", 3600), 0, "a").await, "a");
        assert_eq!(counted.get("pod-1", key("", 3600), 2880, "b").await, "a");
        assert_eq!(counted.requests.get(), 1);
        // Another audience, lifetime or pod is another token.
        assert_eq!(counted.get("pod-1", key("vault", 3600), 10, "c").await, "c");
        assert_eq!(counted.get("pod-1", key("", 7200), 20, "d").await, "d");
        assert_eq!(counted.get("pod-2", key("", 3600), 30, "e").await, "e");
        assert_eq!(counted.requests.get(), 4);
        assert_eq!(counted.tokens.renewal("pod-1"), Some(at(2880)));
        // Due: asked again, and the new one is kept.
        assert_eq!(counted.get("pod-1", key("", 3600), 2881, "f").await, "f");
        assert_eq!(counted.get("pod-1", key("", 3600), 2900, "g").await, "f");
        assert_eq!(counted.requests.get(), 5);
        assert_eq!(counted.tokens.renewal("pod-1"), Some(at(10 + 2880)));

        counted.tokens.forget("pod-1");
        assert_eq!(counted.tokens.renewal("pod-1"), None);
        counted.tokens.retain(|uid| uid != "pod-2");
        assert_eq!(counted.tokens.renewal("pod-2"), None);
        assert_eq!(counted.get("pod-2", key("", 3600), 40, "h").await, "h");
        assert_eq!(counted.requests.get(), 6);
    }

    #[tokio::test]
    async fn a_failed_renewal_keeps_the_token_until_it_expires() {
        let tokens = Tokens::default();
        let key = key("", 600);
        let fresh = || async { Ok(token("a", 0, 600)) };
        tokens.cached_or("pod", &key, at(0), fresh).await.unwrap();
        let refused = || async { Err(TokenError::Refused("no".to_owned())) };
        let kept = tokens.cached_or("pod", &key, at(500), refused).await;
        assert_eq!(kept.unwrap(), "a");
        let expired = tokens.cached_or("pod", &key, at(601), refused).await;
        assert!(matches!(expired, Err(TokenError::Refused(_))));
        let never = tokens.cached_or("other", &key, at(0), refused).await;
        assert!(never.is_err());
    }

    #[test]
    fn the_request_is_bound_to_the_pod_and_asks_for_the_source() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "6f1c"},
            "spec": {"containers": [], "serviceAccountName": "robot"},
        }))
        .unwrap();
        assert_eq!(account(&pod), "robot");
        let asked = serde_json::to_value(ask(&pod, &key("", 3607))).unwrap();
        assert_eq!(
            asked,
            serde_json::json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "metadata": {},
                "spec": {
                    "audiences": [],
                    "expirationSeconds": 3607,
                    "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web", "uid": "6f1c"},
                },
            })
        );
        let vault = serde_json::to_value(ask(&pod, &key("vault", 600))).unwrap();
        assert_eq!(vault["spec"]["audiences"], serde_json::json!(["vault"]));
    }
}
