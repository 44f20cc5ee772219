//! The docker CLI's `config.json` and Podman's `auth.json` (the same format): the parts
//! berth reads. Parse errors say where (line, column) and what kind of error, never the
//! value that failed, since the values are credentials.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use serde::Deserialize;

use crate::auth::RegistryAuth;
use crate::error::{Error, Result};

#[derive(Deserialize, Default)]
pub(crate) struct ConfigFile {
    #[serde(rename = "currentContext")]
    pub(crate) current_context: Option<String>,
    pub(crate) auths: Option<BTreeMap<String, AuthEntry>>,
    #[serde(rename = "credsStore")]
    pub(crate) creds_store: Option<String>,
    #[serde(rename = "credHelpers")]
    pub(crate) cred_helpers: Option<BTreeMap<String, String>>,
}

/// One `auths` entry: `auth` is base64 of `user:password`; the other fields as the CLI
/// writes them.
#[derive(Deserialize, Default)]
pub(crate) struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

impl ConfigFile {
    pub(crate) fn auths(&self) -> impl Iterator<Item = (&String, &AuthEntry)> {
        self.auths.iter().flatten()
    }

    pub(crate) fn cred_helpers(&self) -> impl Iterator<Item = (&String, &String)> {
        self.cred_helpers.iter().flatten()
    }

    pub(crate) fn creds_store(&self) -> Option<&str> {
        self.creds_store.as_deref().filter(|s| !s.is_empty())
    }
}

/// A file's contents, or `None` when it does not exist.
pub(crate) fn read(path: &Path) -> Result<Option<ConfigFile>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::ConfigFile {
                path: path.into(),
                message: e.to_string(),
            })
        }
    };
    // An empty file is an empty configuration (the CLI treats it so).
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(ConfigFile::default()));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::ConfigFile {
            path: path.into(),
            message: json_error(&e),
        })
}

/// A JSON error without serde's quote of the offending value.
pub(crate) fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "cannot be read",
        Category::Syntax => "is not valid JSON",
        Category::Data => "has a value of the wrong type",
        Category::Eof => "ends in the middle of the JSON",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

impl AuthEntry {
    /// The credentials of the entry for `server`, or `None` when it holds none (the
    /// CLI writes `{}` for registries whose credentials are in a helper).
    pub(crate) fn to_auth(&self, path: &Path, server: &str) -> Result<Option<RegistryAuth>> {
        let (mut username, mut password) = (self.username.clone(), self.password.clone());
        if let Some(auth) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let bad = |why: &str| Error::ConfigFile {
                path: path.into(),
                message: format!("the `auth` of {server:?} {why}"),
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad("is not base64"))?;
            let text = String::from_utf8(decoded).map_err(|_| bad("is not UTF-8 text"))?;
            let (user, pass) = text
                .split_once(':')
                .ok_or_else(|| bad("is not base64 of user:password"))?;
            username = Some(user.to_string());
            password = Some(pass.to_string());
        }
        let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        let auth = RegistryAuth {
            username: nonempty(&username),
            password: nonempty(&password),
            email: nonempty(&self.email),
            serveraddress: Some(server.to_string()),
            identitytoken: nonempty(&self.identitytoken),
            registrytoken: nonempty(&self.registrytoken),
        };
        let holds_some = auth.username.is_some()
            || auth.password.is_some()
            || auth.identitytoken.is_some()
            || auth.registrytoken.is_some();
        Ok(holds_some.then_some(auth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_entries_decode_and_errors_keep_values_out() {
        let path = Path::new("/x/config.json");
        let file: ConfigFile = serde_json::from_str(
            r#"{"auths": {"r:5000": {"auth": "dTpwOnc="}, "t": {"identitytoken": "tok"}, "e": {}},
                "credHelpers": null}"#,
        )
        .unwrap();
        let auths = file.auths.as_ref().unwrap();
        let r = auths["r:5000"].to_auth(path, "r:5000").unwrap().unwrap();
        // Only the first colon splits: passwords may hold colons.
        assert_eq!(
            (r.username.as_deref(), r.password.as_deref()),
            (Some("u"), Some("p:w"))
        );
        assert_eq!(auths["e"].to_auth(path, "e").unwrap(), None);
        let t = auths["t"].to_auth(path, "t").unwrap().unwrap();
        assert_eq!(t.identitytoken.as_deref(), Some("tok"));

        let bad = AuthEntry {
            auth: Some("not base64 s3cret!".into()),
            ..Default::default()
        };
        let e = bad.to_auth(path, "r").unwrap_err().to_string();
        assert!(e.contains("/x/config.json") && !e.contains("s3cret"), "{e}");

        let Err(e) = serde_json::from_str::<ConfigFile>(r#"{"auths": {"r": {"auth": 12345}}}"#)
        else {
            panic!("a number is not an auth");
        };
        let message = json_error(&e);
        assert!(
            message.contains("wrong type") && !message.contains("12345"),
            "{message}"
        );
    }
}
