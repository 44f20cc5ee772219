//! Credentials out of sight: `Debug` of what holds a password, token or private key shows
//! that one is there, never its value; URIs in messages lose their password.

use std::fmt;

/// What `Debug` shows in place of a credential.
pub(crate) const REDACTED: &str = "<redacted>";

/// `Debug` of a secret value: `<redacted>`, `Some(<redacted>)` or `None`. Generated types
/// with credential fields (see the generator's `secrets.rs`) print them through this.
#[doc(hidden)]
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

impl<T> fmt::Debug for Redacted<'_, Option<T>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => write!(f, "Some({REDACTED})"),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Redacted<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The unknown keys of a generated type with credential fields: shown, with the values
/// of keys that may hold credentials replaced.
impl fmt::Debug for Redacted<'_, crate::Extra> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: serde_json::Value = self
            .0
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<serde_json::Map<_, _>>()
            .into();
        fmt::Debug::fmt(&RedactedJson(&shown), f)
    }
}

/// JSON keys whose values are credentials, case-insensitively: the generator's secret
/// names and per-type fields (`codegen/src/secrets.rs`; `tests/secrets.rs` checks that
/// both agree), and the registry headers of calls by name.
const SECRET_KEYS: &[&str] = &[
    "password",
    "identitytoken",
    "registrytoken",
    "jointoken",
    "unlockkey",
    "secretdata",
    "auth",
    "worker",
    "manager",
    "data",
    "x-registry-auth",
    "x-registry-config",
];

/// Whether a JSON key of a document berth did not type (calls by name) may hold a
/// credential. Broader than the generator's rule, which knows each key's type.
pub(crate) fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// `Debug` of a JSON document with the values of secret keys replaced, at any depth.
pub(crate) struct RedactedJson<'a>(pub &'a serde_json::Value);

impl fmt::Debug for RedactedJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn redact(value: &serde_json::Value) -> serde_json::Value {
            use serde_json::Value;
            match value {
                Value::Object(map) => Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            let v = if is_secret_key(k) && !v.is_null() {
                                Value::String(REDACTED.into())
                            } else {
                                redact(v)
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                ),
                Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
                other => other.clone(),
            }
        }
        fmt::Debug::fmt(&redact(self.0), f)
    }
}

/// `scheme://user:password@host...` with the password replaced, for error messages.
pub(crate) fn uri_for_display(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return uri.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:{REDACTED}{}", &rest[at..]),
        None => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_the_generator_hides_is_hidden_in_untyped_json() {
        // The generator is not a dependency of the runtime: read its lists as text.
        let source = include_str!("../codegen/src/secrets.rs");
        let names: Vec<&str> = source
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('"') || l.starts_with("(\""))
            .filter_map(|l| l.rsplit('"').nth(1))
            .collect();
        assert!(
            names.len() >= 10,
            "read {names:?} from codegen/src/secrets.rs"
        );
        for name in names {
            assert!(
                is_secret_key(name),
                "{name} is secret in generated types, not in JSON"
            );
        }
        let json =
            serde_json::json!({"auths": [{"Password": "pw", "user": "me"}], "IdentityToken": "t"});
        let shown = format!("{:?}", RedactedJson(&json));
        assert!(
            !shown.contains("pw") && !shown.contains("\"t\"") && shown.contains("me"),
            "{shown}"
        );
    }

    #[test]
    fn passwords_leave_uris() {
        assert_eq!(
            uri_for_display("https://me:hunter2@engine:2376"),
            "https://me:<redacted>@engine:2376"
        );
        assert_eq!(
            uri_for_display("ssh://me@host:22/run/docker.sock"),
            "ssh://me@host:22/run/docker.sock"
        );
        assert_eq!(uri_for_display("unix:///a@b:c"), "unix:///a@b:c");
    }

    #[test]
    fn redacted_shows_presence_only() {
        assert_eq!(
            format!("{:?}", Redacted(&Some("pw".to_string()))),
            "Some(<redacted>)"
        );
        assert_eq!(format!("{:?}", Redacted(&None::<String>)), "None");
        assert_eq!(format!("{:?}", Redacted(&"pw".to_string())), "<redacted>");
    }
}
