//! The resolver over explicit environments and context stores written to scratch dirs.

use super::*;
use crate::test_dir::TestDir;

/// A docker config dir holding a context `name` with `meta` as its docker endpoint.
fn with_context(dir: &TestDir, name: &str, endpoint: &str) -> String {
    let id = hex(&sha2::Sha256::digest(name.as_bytes()));
    dir.write(
        &format!("contexts/meta/{id}/meta.json"),
        format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{endpoint}}}}}"#),
    );
    id
}

fn env_for(dir: &TestDir) -> Environment {
    Environment::empty()
        .set("HOME", "/nonexistent-home")
        .set("DOCKER_CONFIG", dir.path())
}

#[test]
fn contexts_are_stored_under_the_sha256_of_their_name() {
    assert_eq!(
        hex(&sha2::Sha256::digest(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn precedence_is_the_clis() {
    let dir = TestDir::new("ctx-precedence");
    with_context(&dir, "from-var", r#"{"Host":"tcp://var:2375"}"#);
    with_context(&dir, "from-file", r#"{"Host":"tcp://file:2375"}"#);
    let config = dir.write("config.json", r#"{"currentContext":"from-file"}"#);
    let env = env_for(&dir);

    let c = DockerContext::resolve(&env).unwrap();
    assert_eq!(
        (c.name(), c.host(), c.chosen_by()),
        (
            "from-file",
            "tcp://file:2375",
            &ContextSource::ConfigFile(config)
        )
    );

    let env = env.set("DOCKER_CONTEXT", "from-var");
    let c = DockerContext::resolve(&env).unwrap();
    assert_eq!(
        (c.name(), c.host(), c.chosen_by()),
        (
            "from-var",
            "tcp://var:2375",
            &ContextSource::DockerContextVariable
        )
    );

    // DOCKER_HOST wins over DOCKER_CONTEXT, as in the CLI (only --context beats it).
    let env = env.set("DOCKER_HOST", "unix:///run/other.sock");
    let c = DockerContext::resolve(&env).unwrap();
    assert_eq!(
        (c.name(), c.host(), c.chosen_by()),
        (
            "default",
            "unix:///run/other.sock",
            &ContextSource::DockerHost
        )
    );
    let c = DockerContext::load(&env, "from-var").unwrap();
    assert_eq!(
        (c.host(), c.chosen_by()),
        ("tcp://var:2375", &ContextSource::Named)
    );

    // `default` by name is the environment's endpoint.
    let env = env.unset("DOCKER_HOST").set("DOCKER_CONTEXT", "default");
    let c = DockerContext::resolve(&env).unwrap();
    assert_eq!((c.name(), c.host()), ("default", DEFAULT_DOCKER_HOST));
    assert!(c.meta_path().is_none() && c.tls().is_none());

    // Nothing set (no config.json): the default socket.
    let empty = TestDir::new("ctx-empty");
    let c = DockerContext::resolve(&env_for(&empty)).unwrap();
    assert_eq!(
        (c.host(), c.chosen_by()),
        (DEFAULT_DOCKER_HOST, &ContextSource::Default)
    );
}

#[test]
fn a_context_carries_its_tls_files_and_skip_verify() {
    let dir = TestDir::new("ctx-tls");
    let id = with_context(
        &dir,
        "remote",
        r#"{"Host":"tcp://10.0.0.7:2376","SkipTLSVerify":false}"#,
    );
    dir.write(&format!("contexts/tls/{id}/docker/ca.pem"), "CA");
    dir.write(&format!("contexts/tls/{id}/docker/cert.pem"), "CERT");
    dir.write(&format!("contexts/tls/{id}/docker/key.pem"), "KEY");
    let c = DockerContext::load(&env_for(&dir), "remote").unwrap();
    let tls = c.tls().expect("tls material");
    assert_eq!(tls.ca.as_deref(), Some(&b"CA"[..]));
    assert_eq!(tls.key.as_deref(), Some(&b"KEY"[..]));
    assert!(!tls.insecure_skip_verify);
    assert!(c.meta_path().unwrap().ends_with(format!("{id}/meta.json")));

    // SkipTLSVerify alone still means TLS, unverified.
    with_context(
        &dir,
        "insecure",
        r#"{"Host":"tcp://10.0.0.8:2376","SkipTLSVerify":true}"#,
    );
    let c = DockerContext::load(&env_for(&dir), "insecure").unwrap();
    assert!(c.tls().unwrap().insecure_skip_verify);
    assert!(c.tls().unwrap().ca.is_none());

    // No TLS files, no skip: plain TCP. A unix or ssh host never takes TLS.
    with_context(&dir, "plain", r#"{"Host":"tcp://10.0.0.9:2375"}"#);
    assert!(DockerContext::load(&env_for(&dir), "plain")
        .unwrap()
        .tls()
        .is_none());
    let id = with_context(
        &dir,
        "ssh",
        r#"{"Host":"ssh://me@builder:22","SkipTLSVerify":true}"#,
    );
    dir.write(&format!("contexts/tls/{id}/docker/ca.pem"), "CA");
    let c = DockerContext::load(&env_for(&dir), "ssh").unwrap();
    assert_eq!((c.host(), c.tls().is_none()), ("ssh://me@builder:22", true));

    // No Host: the default socket, as the CLI's client.
    with_context(&dir, "hostless", r#"{}"#);
    let c = DockerContext::load(&env_for(&dir), "hostless").unwrap();
    assert_eq!(c.host(), DEFAULT_DOCKER_HOST);
}

#[test]
fn missing_and_malformed_contexts_say_which_and_where() {
    let dir = TestDir::new("ctx-errors");
    let env = env_for(&dir).set("DOCKER_CONTEXT", "nope");
    let e = DockerContext::resolve(&env).unwrap_err();
    let id = hex(&sha2::Sha256::digest(b"nope"));
    match &e {
        Error::ContextNotFound {
            name,
            named_by,
            path,
        } => {
            assert_eq!(
                (name.as_str(), named_by.as_str()),
                ("nope", "DOCKER_CONTEXT")
            );
            assert!(
                path.ends_with(format!("contexts/meta/{id}/meta.json")),
                "{path:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(text.contains("\"nope\"") && text.contains(&id), "{text}");

    let config = dir.write("config.json", r#"{"currentContext": "gone""#);
    let e = DockerContext::resolve(&env_for(&dir)).unwrap_err();
    assert!(
        matches!(&e, Error::ConfigFile { path, .. } if *path == config),
        "{e:?}"
    );
    dir.write("config.json", r#"{"currentContext": "gone"}"#);
    let e = DockerContext::resolve(&env_for(&dir)).unwrap_err();
    assert!(
        e.to_string().contains("currentContext in") && e.to_string().contains("config.json"),
        "{e}"
    );

    let id = with_context(&dir, "broken", r#"{"Host": 7}"#);
    let e = DockerContext::load(&env_for(&dir), "broken").unwrap_err();
    assert!(
        matches!(&e, Error::ConfigFile { path, .. } if path.ends_with(format!("{id}/meta.json"))),
        "{e:?}"
    );
    dir.write(
        &format!("contexts/meta/{id}/meta.json"),
        r#"{"Name":"broken","Endpoints":{"kubernetes":{}}}"#,
    );
    let e = DockerContext::load(&env_for(&dir), "broken").unwrap_err();
    assert!(e.to_string().contains("no docker endpoint"), "{e}");
}

#[test]
fn docker_tls_variables_behave_as_in_the_cli() {
    let certs = TestDir::new("ctx-certs");
    certs.write("ca.pem", "CA");
    certs.write("cert.pem", "CERT");
    certs.write("key.pem", "KEY");
    let base = Environment::empty()
        .set("HOME", "/nonexistent-home")
        .set("DOCKER_CERT_PATH", certs.path());

    // DOCKER_TLS_VERIFY (any non-empty value, "0" too): TLS, verified against ca.pem;
    // without DOCKER_HOST, the CLI's TLS default host.
    for value in ["1", "0", "yes"] {
        let c = DockerContext::resolve(&base.clone().set("DOCKER_TLS_VERIFY", value)).unwrap();
        let tls = c.tls().expect("tls");
        assert_eq!(c.host(), DEFAULT_TLS_HOST);
        assert_eq!(tls.ca.as_deref(), Some(&b"CA"[..]));
        assert_eq!(tls.cert.as_deref(), Some(&b"CERT"[..]));
        assert!(!tls.insecure_skip_verify);
    }

    // DOCKER_TLS alone: TLS without verification, the client pair still offered.
    let env = base
        .clone()
        .set("DOCKER_TLS", "1")
        .set("DOCKER_HOST", "10.0.0.7:2376");
    let c = DockerContext::resolve(&env).unwrap();
    assert_eq!(c.host(), "tcp://10.0.0.7:2376", "a bare host:port is TCP");
    let tls = c.tls().unwrap();
    assert!(tls.insecure_skip_verify && tls.ca.is_none() && tls.key.is_some());

    // No TLS variable: none, whatever DOCKER_CERT_PATH holds.
    let c = DockerContext::resolve(&base.clone().set("DOCKER_HOST", "tcp://h:2375")).unwrap();
    assert!(c.tls().is_none());

    // Verification without a CA is an error naming the file; the client pair is optional.
    let no_ca = TestDir::new("ctx-no-ca");
    let env = base
        .clone()
        .set("DOCKER_CERT_PATH", no_ca.path())
        .set("DOCKER_TLS_VERIFY", "1");
    let e = DockerContext::resolve(&env).unwrap_err();
    assert!(
        matches!(&e, Error::ConfigFile { path, .. } if path.ends_with("ca.pem")),
        "{e:?}"
    );
    no_ca.write("ca.pem", "CA");
    let tls = DockerContext::resolve(&env)
        .unwrap()
        .tls()
        .cloned()
        .unwrap();
    assert!(tls.cert.is_none() && tls.key.is_none());

    // DOCKER_CERT_PATH defaults to the docker config directory.
    let env = Environment::empty()
        .set("DOCKER_CONFIG", certs.path())
        .set("DOCKER_TLS_VERIFY", "1");
    let c = DockerContext::resolve(&env).unwrap();
    assert_eq!(c.tls().unwrap().ca.as_deref(), Some(&b"CA"[..]));
}
