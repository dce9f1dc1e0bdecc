//! Authentication: a client certificate signed by the cluster CA (its common name is the user,
//! its organizations the groups), or a bearer token the server issued: one of its token file,
//! or a service account token it signed. Everything but the
//! health and version endpoints, which upstream serves to anyone, needs one or the other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::{ApiError, ApiState};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
}

/// The identity a verified client certificate carries; the TLS layer puts it on each request
/// of the connection.
#[derive(Debug, Clone)]
pub struct CertificateUser(pub User);

/// The group every authenticated user is in, whatever its credentials say.
pub const AUTHENTICATED: &str = "system:authenticated";

impl User {
    /// Who sends no credentials: upstream's anonymous user, let in to the public paths only.
    pub fn anonymous() -> User {
        User {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
        }
    }

    /// The user as authorizers see it: in `system:authenticated` as well.
    fn authenticated(mut self) -> User {
        if !self.groups.iter().any(|g| g == AUTHENTICATED) {
            self.groups.push(AUTHENTICATED.into());
        }
        self
    }

    /// Reads the user from a DER certificate's subject.
    pub fn from_certificate(der: &[u8]) -> Option<User> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let subject = cert.subject();
        let name = subject.iter_common_name().next()?.as_str().ok()?.to_owned();
        let groups = subject
            .iter_organization()
            .filter_map(|o| o.as_str().ok().map(str::to_owned))
            .collect();
        Some(User { name, groups })
    }
}

/// What can go wrong with the token file.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read or write the token file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The bearer tokens the server issued, kept in `tokens.csv` in the data directory in
/// kube-apiserver's token file format: `token,user,uid,"group1,group2"`.
#[derive(Debug, Default)]
pub struct Tokens {
    users: HashMap<String, User>,
}

impl Tokens {
    /// Loads the token file, creating it with one token for the cluster admin on first start.
    pub fn load_or_create(path: &Path) -> Result<Tokens, AuthError> {
        let io = |source| AuthError::Io {
            path: path.to_owned(),
            source,
        };
        if !path.exists() {
            let token = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            let line = format!("{token},kubernetes-admin,kubernetes-admin,\"system:masters\"\n");
            crate::private_files::write(path, line.as_bytes()).map_err(io)?;
        }
        crate::private_files::restrict_file(path).map_err(io)?;
        let text = std::fs::read_to_string(path).map_err(io)?;
        Ok(Tokens::parse(&text))
    }

    fn parse(text: &str) -> Tokens {
        let users = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.splitn(4, ',');
                let token = fields.next()?.trim();
                let name = fields.next()?.trim();
                let _uid = fields.next();
                let groups = fields
                    .next()
                    .map(|g| {
                        g.trim()
                            .trim_matches('"')
                            .split(',')
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                (!token.is_empty() && !name.is_empty()).then(|| {
                    (
                        token.to_owned(),
                        User {
                            name: name.to_owned(),
                            groups,
                        },
                    )
                })
            })
            .collect();
        Tokens { users }
    }

    /// The admin's token, for the README and tests.
    pub fn admin_token(&self) -> Option<&str> {
        self.users
            .iter()
            .find(|(_, user)| user.name == "kubernetes-admin")
            .map(|(token, _)| token.as_str())
    }

    fn user(&self, token: &str) -> Option<&User> {
        self.users.get(token)
    }
}

/// The service account a token this server signed names, if the token is current and meant
/// for this server, and the account (and the pod it is bound to) still exist as they were:
/// a token outlives neither.
async fn service_account(state: &ApiState, token: &str) -> Option<User> {
    let now = jiff::Timestamp::now().as_second();
    let claims = state.signer.verify(token, now).ok()?;
    let k8s = &claims.kubernetes;
    let still = |plural: &str, name: &str, uid: &str| {
        let name = name.to_owned();
        let uid = uid.to_owned();
        let namespace = k8s.namespace.clone();
        let plural = plural.to_owned();
        async move {
            let Some(resource) = crate::registry::find("", "v1", &plural) else {
                return false;
            };
            state
                .objects
                .find(resource, Some(&namespace), &name)
                .await
                .ok()
                .flatten()
                .is_some_and(|object| object["metadata"]["uid"] == uid.as_str())
        }
    };
    let account = &k8s.serviceaccount;
    if !still("serviceaccounts", &account.name, &account.uid).await {
        return None;
    }
    if let Some(pod) = &k8s.pod
        && !still("pods", &pod.name, &pod.uid).await
    {
        return None;
    }
    Some(User {
        name: format!("system:serviceaccount:{}:{}", k8s.namespace, account.name),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{}", k8s.namespace),
        ],
    })
}

/// Paths upstream serves without authentication.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/livez" | "/readyz" | "/version" | "/version/"
    ) || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

/// Refuses unauthenticated requests with 401, but for the public paths, which anonymous
/// users may read if RBAC lets them, and records the user of the others.
pub async fn authenticate(
    State(state): State<Arc<ApiState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned());
    let from_token = match bearer {
        Some(token) => match state.tokens.user(&token) {
            Some(user) => Some(user.clone()),
            None => service_account(&state, &token).await,
        },
        None => None,
    };
    let from_certificate = request
        .extensions()
        .get::<CertificateUser>()
        .map(|c| c.0.clone());
    match from_certificate.or(from_token) {
        Some(user) => {
            request.extensions_mut().insert(user.authenticated());
            next.run(request).await
        }
        None if is_public(request.uri().path()) => {
            request.extensions_mut().insert(User::anonymous());
            next.run(request).await
        }
        None => super::handlers::refuse(request.into_body(), ApiError::Unauthorized).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_file_format() {
        let tokens = Tokens::parse(
            "abc,alice,1,\"dev,ops\"\n\nbad\ndef,kubernetes-admin,2,\"system:masters\"\n",
        );
        let alice = tokens.user("abc").unwrap();
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.groups, ["dev", "ops"]);
        assert_eq!(tokens.admin_token(), Some("def"));
        assert!(tokens.user("bad").is_none());
    }

    #[test]
    fn health_and_version_are_public_and_nothing_else() {
        assert!(is_public("/healthz"));
        assert!(is_public("/readyz/ping"));
        assert!(is_public("/version"));
        assert!(is_public("/version/"));
        assert!(!is_public("/api/v1/pods"));
        assert!(!is_public("/versionx"));
    }
}
