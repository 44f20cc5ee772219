//! Registry credentials, sent as the engines expect: base64url of a JSON document in
//! `X-Registry-Auth` (pull, push) or `X-Registry-Config` (build, one entry per registry).

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::request::ParamValue;

/// Credentials for one registry: a username and password, or an identity token.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryAuth {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The registry, e.g. `127.0.0.1:5000` or `https://index.docker.io/v1/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serveraddress: Option<String>,
    /// A token from `SystemAuth` (`IdentityToken`), used instead of the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identitytoken: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrytoken: Option<String>,
}

impl RegistryAuth {
    /// Username and password for a registry.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// use berth::auth::RegistryAuth;
    /// use berth::docker::v1_55::images::ImageCreate;
    /// let auth = RegistryAuth::password("un", "pw", "docker.acme.com");
    /// let pull = ImageCreate {
    ///     from_image: Some("docker.acme.com/eg:2.1.995".into()),
    ///     x_registry_auth: Some(auth),
    ///     ..Default::default()
    /// };
    /// docker.invoke(pull).await?.collect_all().await?;
    /// # Ok(()) }
    /// ```
    /// More in `examples/registry_auth.rs`.
    pub fn password(
        username: impl Into<String>,
        password: impl Into<String>,
        serveraddress: impl Into<String>,
    ) -> Self {
        RegistryAuth {
            username: Some(username.into()),
            password: Some(password.into()),
            serveraddress: Some(serveraddress.into()),
            ..Default::default()
        }
    }

    /// An identity token for a registry.
    pub fn identity_token(token: impl Into<String>, serveraddress: impl Into<String>) -> Self {
        RegistryAuth {
            identitytoken: Some(token.into()),
            serveraddress: Some(serveraddress.into()),
            ..Default::default()
        }
    }

    /// The header value: base64url of the JSON document.
    pub fn encode(&self) -> String {
        encode_json(self)
    }
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("password", &secret(&self.password))
            .field("serveraddress", &self.serveraddress)
            .field("identitytoken", &secret(&self.identitytoken))
            .finish_non_exhaustive()
    }
}

impl ParamValue for RegistryAuth {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        out(Cow::Owned(self.encode()))
    }
}

/// Credentials for several registries at once (`X-Registry-Config` of ImageBuild), keyed
/// by registry address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistryConfig(pub HashMap<String, RegistryAuth>);

impl RegistryConfig {
    pub fn with(mut self, auth: RegistryAuth) -> Self {
        let key = auth.serveraddress.clone().unwrap_or_default();
        self.0.insert(key, auth);
        self
    }
}

impl ParamValue for RegistryConfig {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        out(Cow::Owned(encode_json(self)))
    }
}

pub(crate) fn encode_json(value: &impl Serialize) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE.encode(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_is_base64url_json_and_debug_hides_the_password() {
        let auth = RegistryAuth::password("u", "p?>", "127.0.0.1:5000");
        let decoded = base64::engine::general_purpose::URL_SAFE
            .decode(auth.encode())
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"username": "u", "password": "p?>", "serveraddress": "127.0.0.1:5000"})
        );
        assert!(!format!("{auth:?}").contains("p?>"));
    }
}
