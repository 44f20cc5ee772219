//! TLS for `https://` endpoints: rustls with ring (the `tls` feature, on by default), the
//! system's CAs through rustls-native-certs when no CA is given. A CA given in
//! [`TlsMaterial`] replaces the system's; a client certificate with its key makes it mutual
//! TLS.

use std::io;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;

use super::endpoint::TlsMaterial;
use crate::error::{Error, Result};

pub(crate) type Stream = tokio_rustls::client::TlsStream<TcpStream>;

/// Ready to make TLS connections to one engine.
pub(crate) struct Connector {
    connector: tokio_rustls::TlsConnector,
    server_name: ServerName<'static>,
    /// Whether berth offers a client certificate: the words for a refusal depend on it.
    client_certificate: bool,
}

fn config_error(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

/// Encrypted PEM keys are refused with a clear message rather than an opaque parse error.
fn check_key(key: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(key);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(config_error("the client key is password-protected; decrypt it first (openssl pkey -in key.pem -out key.plain.pem)"));
    }
    Ok(())
}

fn client_pair(tls: Option<&TlsMaterial>) -> Result<Option<(&[u8], &[u8])>> {
    match tls.map(|t| (t.cert.as_deref(), t.key.as_deref())) {
        Some((Some(cert), Some(key))) => {
            check_key(key)?;
            Ok(Some((cert, key)))
        }
        None | Some((None, None)) => Ok(None),
        Some(_) => Err(config_error(
            "a client certificate needs its key, and a key its certificate",
        )),
    }
}

fn certs_of(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(format!("bad {what} PEM: {e}")))?;
    if certs.is_empty() {
        return Err(config_error(format!("the {what} PEM holds no certificate")));
    }
    Ok(certs)
}

impl Connector {
    /// Checks the material now, so that bad material fails when the client is built.
    pub(crate) fn new(tls: Option<&TlsMaterial>, host: &str) -> Result<Connector> {
        let server_name = ServerName::try_from(host.to_string())
            .map_err(|e| config_error(format!("{host:?} cannot be a TLS server name: {e}")))?;
        // rustls 0.23.48 deprecates ring's provider for its lack of post-quantum key
        // exchange; berth keeps ring (aws-lc-rs would add a C library to every build) and
        // the classical key exchanges dockerd's Go TLS offers as well.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error(e.to_string()))?;
        let skip_verify = tls.is_some_and(|t| t.insecure_skip_verify);
        let builder = if skip_verify {
            // Asked for in so many words (`TlsMaterial::insecure_skip_verify`, documented
            // as dangerous): the docker CLI's `--tls` without `--tlsverify`.
            versions
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyServerCertificate(
                    provider.signature_verification_algorithms,
                )))
        } else {
            versions.with_root_certificates(roots(tls)?)
        };
        let pair = client_pair(tls)?;
        let config = match pair {
            Some((cert, key)) => {
                let key = PrivateKeyDer::from_pem_slice(key)
                    .map_err(|e| config_error(format!("bad key PEM: {e}")))?;
                builder
                    .with_client_auth_cert(certs_of(cert, "client certificate")?, key)
                    .map_err(|e| config_error(format!("bad client certificate or key: {e}")))?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(Connector {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name,
            client_certificate: pair.is_some(),
        })
    }

    pub(crate) async fn connect(&self, tcp: TcpStream) -> io::Result<Stream> {
        self.connector.connect(self.server_name.clone(), tcp).await
    }

    /// A TLS failure among an error's sources, in words: a refused client certificate says
    /// why, rather than naming a raw TLS alert.
    pub(crate) fn failure(&self, error: &(dyn std::error::Error + 'static)) -> Option<String> {
        let tls = rustls_error(error)?;
        let refused = match tls {
            rustls::Error::AlertReceived(alert) => {
                use rustls::AlertDescription as A;
                matches!(
                    alert,
                    A::CertificateRequired
                        | A::BadCertificate
                        | A::UnknownCA
                        | A::CertificateUnknown
                        | A::UnsupportedCertificate
                        | A::CertificateRevoked
                        | A::CertificateExpired
                )
                .then_some(alert)
            }
            _ => None,
        };
        Some(match refused {
            Some(alert) if !self.client_certificate => format!(
                "the engine refused the client certificate — none was given \
                 (TlsMaterial with cert and key; the engine sent {alert:?})"
            ),
            Some(alert) => format!(
                "the engine refused the client certificate — it was not signed by a CA the \
                 engine trusts (the engine sent {alert:?})"
            ),
            None => tls.to_string(),
        })
    }
}

/// The CAs the engine's certificate must chain to: the material's, else the system's.
fn roots(tls: Option<&TlsMaterial>) -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    match tls.and_then(|t| t.ca.as_deref()) {
        Some(ca) => {
            for cert in certs_of(ca, "CA")? {
                roots
                    .add(cert)
                    .map_err(|e| config_error(format!("bad CA certificate: {e}")))?;
            }
        }
        None => {
            let system = rustls_native_certs::load_native_certs().certs;
            if roots.add_parsable_certificates(system).0 == 0 {
                return Err(config_error(
                    "no CA was given and the system has no CA certificates",
                ));
            }
        }
    }
    Ok(roots)
}

/// Accepts any server certificate (`TlsMaterial::insecure_skip_verify`), as Go's
/// `InsecureSkipVerify` does: no chain, name or expiry check. The handshake signatures are
/// still checked against the certificate's key, so the session is at least bound to the
/// certificate that was shown.
#[derive(Debug)]
struct AnyServerCertificate(rustls::crypto::WebPkiSupportedAlgorithms);

impl rustls::client::danger::ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// The rustls error among an error's sources, if there is one.
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // `io::Error::source()` skips the error it wraps (it answers the wrapped error's
        // source), and the TLS stream wraps its errors in io errors: step into it instead.
        current = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}
