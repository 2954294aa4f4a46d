//! HTTPS (`--features tls`): certificates and keys of each kind over real TLS (curl verifying
//! against the test's own certificate), clear startup errors for bad files, and a client that
//! never completes its handshake does not hold up anyone else. Without the feature, asking for
//! HTTPS is a clear startup error.

use std::process::Command;
#[cfg(feature = "tls")]
use std::time::{Duration, Instant};

#[cfg(feature = "tls")]
use crate::process::Running;
use crate::support::{Fixture, prices_fixture};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");

/// Runs `openssl` with `args` in `dir`, which must succeed.
#[cfg(feature = "tls")]
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for localhost and 127.0.0.1 with its key, in the fixture's root:
/// `rsa` (PKCS#8), `ec` (SEC1, "BEGIN EC PRIVATE KEY") or `ec8` (PKCS#8). Returns the paths.
#[cfg(feature = "tls")]
fn certificate(fixture: &Fixture, kind: &str) -> (String, String) {
    let dir = &fixture.root;
    let key = format!("{kind}-key.pem");
    match kind {
        "rsa" => openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &key,
            ],
        ),
        "ec" => openssl(
            dir,
            &[
                "ecparam",
                "-genkey",
                "-name",
                "prime256v1",
                "-noout",
                "-out",
                &key,
            ],
        ),
        "ec8" => {
            openssl(
                dir,
                &[
                    "ecparam",
                    "-genkey",
                    "-name",
                    "prime256v1",
                    "-noout",
                    "-out",
                    "ec8-sec1.pem",
                ],
            );
            openssl(
                dir,
                &[
                    "pkcs8",
                    "-topk8",
                    "-nocrypt",
                    "-in",
                    "ec8-sec1.pem",
                    "-out",
                    &key,
                ],
            );
        }
        other => panic!("no key kind {other}"),
    }
    let cert = format!("{kind}-cert.pem");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-key",
            &key,
            "-out",
            &cert,
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
    );
    let path = |name: &str| fixture.path(name).to_str().unwrap().to_string();
    (path(&cert), path(&key))
}

/// The binary's exit code and stderr when started with `args` (it must exit by itself).
fn fails_to_start(fixture: &Fixture, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["--root", fixture.root.to_str().unwrap(), "--port", "0"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `curl` over HTTPS, trusting only `cert`; returns the status and the body.
#[cfg(feature = "tls")]
fn curl(cert: &str, port: u16, path: &str, extra: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "5",
            "--cacert",
            cert,
            "-w",
            "\n%{http_code}",
        ])
        .args(extra)
        .arg(format!("https://localhost:{port}{path}"))
        .output()
        .expect("curl is installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (status.parse().unwrap_or(0), body.to_string())
}

#[cfg(feature = "tls")]
#[test]
fn rsa_and_ec_keys_in_pkcs8_and_sec1_serve_https() {
    let fixture = prices_fixture();
    for kind in ["rsa", "ec", "ec8"] {
        let (cert, key) = certificate(&fixture, kind);
        let server = Running::start(&fixture, &["--tls-cert", &cert, "--tls-key", &key]);
        let (status, body) = curl(&cert, server.port, "/prices?ticker=AAPL", &[]);
        assert_eq!(status, 200, "{kind}: {body}");
        let rows: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 2, "{kind}: {body}");
        // Limits hold over TLS too, with a JSON answer.
        let big = format!("X-Big: {}", "b".repeat(64 * 1024));
        let (status, body) = curl(&cert, server.port, "/prices", &["-H", &big]);
        assert_eq!(status, 431, "{kind}: {body}");
        assert!(body.contains("\"detail\""), "{body}");
        // TLS 1.1 and older are refused.
        let (status, _) = curl(&cert, server.port, "/", &["--tlsv1.1", "--tls-max", "1.1"]);
        assert_eq!(status, 0, "{kind}: TLS 1.1 was accepted");
        assert_eq!(server.terminate().0, Some(0));
    }
}

#[cfg(feature = "tls")]
#[test]
fn a_client_that_never_finishes_its_handshake_holds_up_nobody() {
    let fixture = prices_fixture();
    let (cert, key) = certificate(&fixture, "ec");
    let server = Running::start(&fixture, &["--tls-cert", &cert, "--tls-key", &key]);
    // Connected, but never a byte of a ClientHello.
    let silent: Vec<_> = (0..5)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (status, body) = curl(&cert, server.port, "/prices", &[]);
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    drop(silent);
    assert_eq!(server.terminate().0, Some(0));
}

#[cfg(feature = "tls")]
#[test]
fn bad_certificates_and_keys_are_clear_startup_errors() {
    let fixture = prices_fixture();
    let (rsa_cert, rsa_key) = certificate(&fixture, "rsa");
    let (ec_cert, ec_key) = certificate(&fixture, "ec");
    fixture.write("garbage.pem", "not a certificate\n");
    let garbage = fixture.path("garbage.pem").to_str().unwrap().to_string();
    openssl(
        &fixture.root,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "rsa-key.pem",
            "-out",
            "locked.pem",
            "-passout",
            "pass:x",
        ],
    );
    let locked = fixture.path("locked.pem").to_str().unwrap().to_string();
    for (cert, key, says) in [
        (&rsa_cert, &ec_key, "is the key the certificate's?"),
        (&ec_cert, &rsa_key, "is the key the certificate's?"),
        (&garbage, &rsa_key, "holds no PEM block CERTIFICATE"),
        (&rsa_cert, &garbage, "holds no PEM block PRIVATE KEY"),
        (&rsa_key, &rsa_key, "holds no PEM block CERTIFICATE"),
        (&rsa_cert, &locked, "is encrypted"),
        (
            &"/no/such/cert.pem".to_string(),
            &rsa_key,
            "cannot read the TLS certificate",
        ),
    ] {
        let (code, stderr) = fails_to_start(&fixture, &["--tls-cert", cert, "--tls-key", key]);
        assert_eq!(code, Some(1), "{cert} {key}: {stderr}");
        assert!(stderr.contains(says), "{cert} {key}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[cfg(not(feature = "tls"))]
#[test]
fn without_the_tls_feature_https_is_a_clear_startup_error() {
    let fixture = prices_fixture();
    fixture.write("c.pem", "-----BEGIN CERTIFICATE-----\n");
    let cert = fixture.path("c.pem").to_str().unwrap().to_string();
    let (code, stderr) = fails_to_start(&fixture, &["--tls-cert", &cert, "--tls-key", &cert]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--features tls"), "{stderr}");
}
