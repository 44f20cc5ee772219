//! TLS for `https://` endpoints, from one of two backends chosen by features:
//!
//! - `tls` (default): the system's OpenSSL (`openssl`, `tokio-openssl`). About 4 s of
//!   build, the system's CA store; building needs `libssl-dev` and `pkg-config`.
//! - `rustls`: pure Rust (rustls with ring, tokio-rustls; the system's CAs through
//!   rustls-native-certs). No system library, about 19 s more of build. It wins when both
//!   features are on.
//!
//! Either way the CA given in [`TlsMaterial`] replaces the system's, and a client
//! certificate with its key makes it mutual TLS.

use std::io;

use tokio::net::TcpStream;

use crate::transport::TlsMaterial;
use crate::Error;

pub(crate) use backend::{Connector, Stream};

fn config_error(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

/// Encrypted PEM keys are refused with a clear message rather than an opaque parse error.
fn check_key(key: &[u8]) -> crate::Result<()> {
    let text = String::from_utf8_lossy(key);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(config_error("the client key is password-protected; decrypt it first (openssl pkey -in key.pem -out key.plain.pem)"));
    }
    Ok(())
}

fn client_pair(tls: Option<&TlsMaterial>) -> crate::Result<Option<(&[u8], &[u8])>> {
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

/// The message of a TLS failure among an error's sources, if there is one.
pub(crate) fn failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(message) = backend::message(e) {
            return Some(message);
        }
        // `io::Error::source()` skips the error it wraps (it answers the wrapped error's
        // source), and the TLS streams wrap their errors in io errors: step into the
        // wrapped error instead.
        current = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[cfg(not(feature = "rustls"))]
mod backend {
    use std::pin::Pin;

    use openssl::error::ErrorStack;
    use openssl::pkey::PKey;
    use openssl::ssl::{SslConnector, SslMethod};
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509VerifyResult, X509};

    use super::*;

    pub(crate) type Stream = tokio_openssl::SslStream<TcpStream>;

    pub(crate) struct Connector {
        connector: SslConnector,
        host: String,
    }

    impl Connector {
        pub(crate) fn new(tls: Option<&TlsMaterial>, host: &str) -> crate::Result<Connector> {
            let failed =
                |what: &'static str| move |e: ErrorStack| config_error(format!("{what}: {e}"));
            let mut builder =
                SslConnector::builder(SslMethod::tls_client()).map_err(failed("OpenSSL"))?;
            if let Some(ca) = tls.and_then(|t| t.ca.as_deref()) {
                let certs = X509::stack_from_pem(ca).map_err(failed("bad CA PEM"))?;
                if certs.is_empty() {
                    return Err(config_error("the CA PEM holds no certificate"));
                }
                let mut store = X509StoreBuilder::new().map_err(failed("OpenSSL"))?;
                for cert in certs {
                    store.add_cert(cert).map_err(failed("bad CA certificate"))?;
                }
                builder.set_cert_store(store.build());
            }
            if let Some((cert, key)) = client_pair(tls)? {
                let mut chain = X509::stack_from_pem(cert)
                    .map_err(failed("bad client certificate PEM"))?
                    .into_iter();
                let leaf = chain.next().ok_or_else(|| {
                    config_error("the client certificate PEM holds no certificate")
                })?;
                let key = PKey::private_key_from_pem(key).map_err(failed("bad key PEM"))?;
                builder
                    .set_certificate(&leaf)
                    .map_err(failed("bad client certificate"))?;
                for cert in chain {
                    builder
                        .add_extra_chain_cert(cert)
                        .map_err(failed("bad client certificate chain"))?;
                }
                builder.set_private_key(&key).map_err(failed("bad key"))?;
                builder
                    .check_private_key()
                    .map_err(failed("the key does not match the client certificate"))?;
            }
            Ok(Connector {
                connector: builder.build(),
                host: host.to_string(),
            })
        }

        pub(crate) async fn connect(&self, tcp: TcpStream) -> io::Result<Stream> {
            // Checks the name (or IP address) in the engine's certificate, and sends SNI
            // for names.
            let ssl = self
                .connector
                .configure()
                .and_then(|c| c.into_ssl(&self.host))
                .map_err(io::Error::other)?;
            let mut stream = Stream::new(ssl, tcp).map_err(io::Error::other)?;
            if let Err(error) = Pin::new(&mut stream).connect().await {
                let verify = stream.ssl().verify_result();
                return Err(match error.into_io_error() {
                    Ok(io) => io,
                    Err(error) => io::Error::other(Handshake {
                        error,
                        verify: (verify != X509VerifyResult::OK)
                            .then(|| verify.error_string().to_string()),
                    }),
                });
            }
            Ok(stream)
        }
    }

    pub(crate) fn tcp(stream: &Stream) -> &TcpStream {
        stream.get_ref()
    }

    /// A failed handshake, with why the engine's certificate was not trusted, if it was not.
    #[derive(Debug)]
    struct Handshake {
        error: openssl::ssl::Error,
        verify: Option<String>,
    }

    impl std::fmt::Display for Handshake {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match &self.verify {
                Some(verify) => write!(
                    f,
                    "the engine's certificate was refused: {verify} ({})",
                    self.error
                ),
                None => write!(f, "{}", self.error),
            }
        }
    }

    impl std::error::Error for Handshake {}

    pub(super) fn message(e: &(dyn std::error::Error + 'static)) -> Option<String> {
        if let Some(handshake) = e.downcast_ref::<Handshake>() {
            return Some(handshake.to_string());
        }
        if let Some(ssl) = e.downcast_ref::<openssl::ssl::Error>() {
            return Some(ssl.to_string());
        }
        e.downcast_ref::<ErrorStack>().map(ToString::to_string)
    }
}

#[cfg(feature = "rustls")]
mod backend {
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

    use super::*;

    pub(crate) type Stream = tokio_rustls::client::TlsStream<TcpStream>;

    pub(crate) struct Connector {
        connector: tokio_rustls::TlsConnector,
        server_name: ServerName<'static>,
    }

    fn certs_of(pem: &[u8], what: &str) -> crate::Result<Vec<CertificateDer<'static>>> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_error(format!("bad {what} PEM: {e}")))?;
        if certs.is_empty() {
            return Err(config_error(format!("the {what} PEM holds no certificate")));
        }
        Ok(certs)
    }

    impl Connector {
        pub(crate) fn new(tls: Option<&TlsMaterial>, host: &str) -> crate::Result<Connector> {
            let server_name = ServerName::try_from(host.to_string())
                .map_err(|e| config_error(format!("{host:?} cannot be a TLS server name: {e}")))?;
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
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let builder = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| config_error(e.to_string()))?
                .with_root_certificates(roots);
            let config = match client_pair(tls)? {
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
            })
        }

        pub(crate) async fn connect(&self, tcp: TcpStream) -> io::Result<Stream> {
            self.connector.connect(self.server_name.clone(), tcp).await
        }
    }

    pub(crate) fn tcp(stream: &Stream) -> &TcpStream {
        stream.get_ref().0
    }

    pub(super) fn message(e: &(dyn std::error::Error + 'static)) -> Option<String> {
        e.downcast_ref::<rustls::Error>().map(ToString::to_string)
    }
}

pub(crate) use backend::tcp;
