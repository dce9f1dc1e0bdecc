//! The cluster's certificates: a CA made on first start and kept in the data directory, the API
//! server's serving certificate (issued afresh at every start, so its names always match the
//! addresses it serves on), and client certificates whose subject names the user and groups.
//! The front proxy (the API server calling aggregated APIs on a user's behalf) has a CA of its
//! own, as upstream's clusters do, so that extension API servers trust its certificate for
//! that and nothing else.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

/// What can go wrong making or reading certificates.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path} does not hold a usable {what}")]
    Corrupt { path: PathBuf, what: &'static str },
}

/// A certificate and its private key, PEM encoded.
#[derive(Debug, Clone)]
pub struct CertAndKey {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The cluster CA: it signs every certificate the cluster trusts.
pub struct Authority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

const CA_NAME: &str = "mkc-ca";
/// The front proxy's CA, under kubeadm's file name and common name.
pub const FRONT_PROXY_CA: &str = "front-proxy-ca";
const YEARS_VALID: i16 = 10;

impl Authority {
    /// Reads the CA from `dir` (`ca.crt`, `ca.key`), or creates and saves one there.
    pub fn load_or_create(dir: &Path) -> Result<Authority, PkiError> {
        Authority::load_or_create_as(dir, "ca", CA_NAME)
    }

    /// Reads the CA kept in `dir` as `<stem>.crt` and `<stem>.key`, or creates one named
    /// `common_name` and saves it there.
    pub fn load_or_create_as(
        dir: &Path,
        stem: &str,
        common_name: &str,
    ) -> Result<Authority, PkiError> {
        let cert_path = dir.join(format!("{stem}.crt"));
        let key_path = dir.join(format!("{stem}.key"));
        if cert_path.exists() && key_path.exists() {
            let cert_pem = read(&cert_path)?;
            let key =
                KeyPair::from_pem(&read_private(&key_path)?).map_err(|_| PkiError::Corrupt {
                    path: key_path.clone(),
                    what: "private key",
                })?;
            let issuer =
                Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|_| PkiError::Corrupt {
                    path: cert_path.clone(),
                    what: "CA certificate",
                })?;
            return Ok(Authority { cert_pem, issuer });
        }
        let authority = Authority::generate_as(common_name)?;
        write_private(&key_path, &authority.key_pem())?;
        write(&cert_path, &authority.cert_pem)?;
        Ok(authority)
    }

    /// A new CA held in memory only: `mkc up` makes a cluster's CA this way and hands it to the
    /// control plane's data directory, so the host keeps no state of its own.
    pub fn generate() -> Result<Authority, PkiError> {
        Authority::generate_as(CA_NAME)
    }

    fn generate_as(common_name: &str) -> Result<Authority, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = params(common_name, None);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert_pem = params.self_signed(&key)?.pem();
        Ok(Authority {
            cert_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA's private key, PEM encoded: what the data directory keeps as `ca.key`.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// The CA certificate, PEM encoded: what clients trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A serving certificate for the given host names and addresses.
    pub fn issue_server(
        &self,
        common_name: &str,
        names: &[String],
    ) -> Result<CertAndKey, PkiError> {
        let mut params = params(common_name, None);
        params.subject_alt_names = names
            .iter()
            .map(|name| san(name))
            .collect::<Result<_, _>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate for `user` in `group`, the way Kubernetes reads them: the common
    /// name is the user, the organization the group.
    pub fn issue_client(&self, user: &str, group: &str) -> Result<CertAndKey, PkiError> {
        self.sign_client(params(user, Some(group)))
    }

    /// A client certificate naming its holder only, as the front proxy's is: the servers that
    /// trust it check the name it carries, not groups.
    pub fn issue_client_named(&self, name: &str) -> Result<CertAndKey, PkiError> {
        self.sign_client(params(name, None))
    }

    fn sign_client(&self, mut params: CertificateParams) -> Result<CertAndKey, PkiError> {
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, mut params: CertificateParams) -> Result<CertAndKey, PkiError> {
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(CertAndKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

impl CertAndKey {
    /// Reads `<stem>.crt` and `<stem>.key` from `dir`, or has `issue` make them and saves them.
    pub fn load_or_issue(
        dir: &Path,
        stem: &str,
        issue: impl FnOnce() -> Result<CertAndKey, PkiError>,
    ) -> Result<CertAndKey, PkiError> {
        let cert_path = dir.join(format!("{stem}.crt"));
        let key_path = dir.join(format!("{stem}.key"));
        if cert_path.exists() && key_path.exists() {
            return Ok(CertAndKey {
                cert_pem: read(&cert_path)?,
                key_pem: read_private(&key_path)?,
            });
        }
        let issued = issue()?;
        write_private(&key_path, &issued.key_pem)?;
        write(&cert_path, &issued.cert_pem)?;
        Ok(issued)
    }
}

/// Parameters valid from today for ten years, with the subject Kubernetes reads.
fn params(common_name: &str, organization: Option<&str>) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        subject.push(DnType::OrganizationName, org);
    }
    params.distinguished_name = subject;
    let today = jiff::Zoned::now().date();
    let day = |d: jiff::civil::Date| {
        rcgen::date_time_ymd(d.year().into(), d.month() as u8, d.day() as u8)
    };
    // A day of slack absorbs clock differences between the host and its containers.
    params.not_before = day(today.yesterday().unwrap_or(today));
    params.not_after = day(today.saturating_add(jiff::Span::new().years(YEARS_VALID)));
    params
}

fn san(name: &str) -> Result<SanType, PkiError> {
    Ok(match name.parse::<IpAddr>() {
        Ok(ip) => SanType::IpAddress(ip),
        Err(_) => SanType::DnsName(name.try_into()?),
    })
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, contents: &str) -> Result<(), PkiError> {
    std::fs::write(path, contents).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads a private key, narrowing it to its owner first if an older mkc left it wider.
fn read_private(path: &Path) -> Result<String, PkiError> {
    crate::private_files::restrict_file(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })?;
    read(path)
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, contents: &str) -> Result<(), PkiError> {
    crate::private_files::write(path, contents.as_bytes()).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = Authority::load_or_create(dir.path()).unwrap();
        let second = Authority::load_or_create(dir.path()).unwrap();
        assert_eq!(first.cert_pem(), second.cert_pem());
        let mode = std::fs::metadata(dir.path().join("ca.key")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn client_certificates_carry_user_and_group() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::load_or_create(dir.path()).unwrap();
        let issued = ca.issue_client("alice", "system:masters").unwrap();
        let der = pem_der(&issued.cert_pem);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let orgs: Vec<_> = cert
            .subject()
            .iter_organization()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(common_names(cert.subject()), ["alice"]);
        assert_eq!(orgs, ["system:masters"]);
        assert_ne!(cert.issuer(), cert.subject());
    }

    #[test]
    fn a_second_ca_is_kept_apart_and_its_clients_carry_no_group() {
        let dir = tempfile::tempdir().unwrap();
        let cluster = Authority::load_or_create(dir.path()).unwrap();
        let load = || Authority::load_or_create_as(dir.path(), FRONT_PROXY_CA, FRONT_PROXY_CA);
        let proxy = load().unwrap();
        assert_ne!(cluster.cert_pem(), proxy.cert_pem());
        assert!(dir.path().join("front-proxy-ca.key").is_file());
        let again = load().unwrap();
        assert_eq!(proxy.cert_pem(), again.cert_pem());
        let issued = proxy.issue_client_named("front-proxy-client").unwrap();
        let der = pem_der(&issued.cert_pem);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(common_names(cert.subject()), ["front-proxy-client"]);
        assert_eq!(cert.subject().iter_organization().count(), 0);
        assert_eq!(common_names(cert.issuer()), [FRONT_PROXY_CA]);
    }

    fn common_names<'a>(name: &'a x509_parser::x509::X509Name<'_>) -> Vec<&'a str> {
        name.iter_common_name()
            .map(|a| a.as_str().unwrap())
            .collect()
    }

    #[test]
    fn server_certificates_name_hosts_and_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::load_or_create(dir.path()).unwrap();
        let names = [
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "10.1.2.3".to_string(),
        ];
        let issued = ca.issue_server("mkc-apiserver", &names).unwrap();
        let der = pem_der(&issued.cert_pem);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let sans = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .len();
        assert_eq!(sans, 3);
    }

    fn pem_der(pem: &str) -> Vec<u8> {
        use base64::Engine;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }
}
