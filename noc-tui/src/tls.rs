//! TLS for `wss://`: one rustls client configuration, built at start, that
//! trusts the system's certificate authorities and, with `--ca-file`, those
//! of a PEM file as well.
//!
//! The system's store is read with `rustls-native-certs`, so the CAs an
//! administrator installs (a company CA in `/usr/local/share/ca-certificates`
//! and `update-ca-certificates`, say) are trusted, and `SSL_CERT_FILE` /
//! `SSL_CERT_DIR` are honoured as OpenSSL does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// A `--ca-file` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --ca-file {path:?}: {reason}")]
pub struct BadCaFile {
    /// The path as given.
    pub path: PathBuf,
    /// What is wrong with it, for a person.
    pub reason: String,
}

/// Reads the CA certificates of a `--ca-file`: every `CERTIFICATE` block
/// of the PEM file (other blocks, such as a key, are skipped). A file that
/// cannot be read, that is not PEM, that holds no certificate or a
/// certificate that cannot serve as a trust anchor is refused, naming it.
pub fn read_ca_file(path: &Path) -> Result<RootCertStore, BadCaFile> {
    let bad = |reason: String| BadCaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut roots = RootCertStore::empty();
    for (index, der) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let number = index + 1;
        let der = der.map_err(|e| bad(format!("certificate {number} is not valid PEM: {e}")))?;
        roots.add(der).map_err(|e| {
            bad(format!(
                "certificate {number} cannot be used as a CA certificate: {e}"
            ))
        })?;
    }
    if roots.is_empty() {
        return Err(bad(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    Ok(roots)
}

/// The client configuration for every `wss://` connection: the system's
/// CAs plus `extra` (the `--ca-file`'s), with the ring provider.
pub fn client_config(extra: Option<RootCertStore>) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut roots = extra.unwrap_or_else(RootCertStore::empty);
    let from_file = roots.len();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!(%error, "part of the system's CA store could not be read");
    }
    let (added, ignored) = roots.add_parsable_certificates(system.certs);
    if added == 0 {
        // Mozilla's bundled roots are a fallback for a system with no CA
        // store at all (a minimal container, a stripped-down console
        // image), where noc-tui would otherwise trust nothing but the
        // `--ca-file`; before the system's store was used they were all it
        // trusted, so such a setup keeps working with a public CA. They are
        // not added where the system has a store: that would undo an
        // administrator's removal of a distrusted CA.
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        tracing::warn!(
            bundled = webpki_roots::TLS_SERVER_ROOTS.len(),
            from_file,
            "no CA certificates in the system's store; trusting the bundled Mozilla roots"
        );
    } else {
        tracing::info!(
            system = added,
            ignored,
            from_file,
            "trusting the system's CA certificates"
        );
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    // The WebSocket upgrade is HTTP/1.1; say so to a TLS front end that
    // would otherwise pick HTTP/2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_A_CERTIFICATE: &str =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn a_pem_file_of_certificates_is_read_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = rcgen::generate_simple_self_signed(vec!["a.test".to_owned()]).expect("cert");
        let b = rcgen::generate_simple_self_signed(vec!["b.test".to_owned()]).expect("cert");
        // A key block in the same file is skipped, not an error.
        let text = format!(
            "{}{}{}",
            a.cert.pem(),
            a.key_pair.serialize_pem(),
            b.cert.pem()
        );
        let path = write(dir.path(), "ca.pem", &text);
        let roots = read_ca_file(&path).expect("usable");
        assert_eq!(roots.len(), 2);
        let config = client_config(Some(roots)).expect("config");
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn unusable_files_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (dir.path().join("missing.pem"), "cannot read it"),
            (dir.path().to_owned(), "cannot read it"),
            (
                write(dir.path(), "empty.pem", ""),
                "holds no PEM certificate",
            ),
            (
                write(dir.path(), "text.pem", "not a certificate\n"),
                "holds no PEM certificate",
            ),
            (
                write(dir.path(), "bad.pem", NOT_A_CERTIFICATE),
                "certificate 1 cannot be used as a CA certificate",
            ),
            (
                write(dir.path(), "cut.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"),
                "not valid PEM",
            ),
        ];
        for (path, want) in cases {
            let err = read_ca_file(&path).expect_err("refused");
            let line = err.to_string();
            assert!(line.contains(&format!("{path:?}")), "{line}");
            assert!(line.contains(want), "{line}");
            assert!(!line.contains('\n'), "one line: {line}");
        }
    }
}
