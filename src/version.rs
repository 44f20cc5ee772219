//! API versions: what the server speaks, and what to do when a module is newer or older.

use std::cmp::Ordering;

/// How a client treats a generated module whose API version the server does not speak.
/// Example: `tests/versions.rs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VersionPolicy {
    /// Before the first call, ask the server its versions (`GET /version`, once per
    /// client); a module outside them fails with `Error::UnsupportedVersion` before any
    /// request of it is sent. The default.
    #[default]
    Check,
    /// Like `Check`, but a module newer than the server is sent at the server's maximum
    /// version. Risky: the module's types may carry fields and parameters the server does
    /// not know (ignored, or refused) and may miss what the older server sends (left
    /// `None`). A module older than the server's minimum still fails.
    Negotiate,
    /// Never ask: every call is sent with its module's version, and the server decides.
    Off,
}

/// What the server says of its API versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ServerVersion {
    /// The newest API version it speaks (`1.41`).
    #[serde(rename = "ApiVersion", default)]
    pub api_version: String,
    /// The oldest (`1.12`).
    #[serde(rename = "MinAPIVersion", default)]
    pub min_api_version: String,
    /// The engine's own version (`20.10.24`).
    #[serde(rename = "Version", default)]
    pub version: String,
}

/// Compares dotted versions numerically (`1.9` < `1.41`).
pub fn compare(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| {
        v.trim_start_matches('v')
            .split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    let (a, b) = (parts(a), parts(b));
    for i in 0..a.len().max(b.len()) {
        match a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0)) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

/// What to send for a module of `requested` version: `Ok(None)` as is, `Ok(Some(v))` at
/// version `v`, or `Err((min, max))` when the server cannot serve it.
pub(crate) fn decide(
    policy: VersionPolicy,
    requested: &str,
    server: &ServerVersion,
) -> Result<Option<String>, ()> {
    if server.api_version.is_empty() {
        return Ok(None); // The server did not say: let it decide.
    }
    let too_new = compare(requested, &server.api_version) == Ordering::Greater;
    let too_old = !server.min_api_version.is_empty()
        && compare(requested, &server.min_api_version) == Ordering::Less;
    match (policy, too_new, too_old) {
        (VersionPolicy::Off, _, _) | (_, false, false) => Ok(None),
        (VersionPolicy::Negotiate, true, false) => Ok(Some(server.api_version.clone())),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(max: &str, min: &str) -> ServerVersion {
        ServerVersion {
            api_version: max.into(),
            min_api_version: min.into(),
            version: String::new(),
        }
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare("1.9", "1.41"), Ordering::Less);
        assert_eq!(compare("1.41", "1.41"), Ordering::Equal);
        assert_eq!(compare("5.1.0", "4.9"), Ordering::Greater);
    }

    #[test]
    fn policies_decide() {
        let s = server("1.41", "1.12");
        assert_eq!(decide(VersionPolicy::Check, "1.41", &s), Ok(None));
        assert_eq!(decide(VersionPolicy::Check, "1.53", &s), Err(()));
        assert_eq!(
            decide(VersionPolicy::Negotiate, "1.53", &s),
            Ok(Some("1.41".into()))
        );
        assert_eq!(decide(VersionPolicy::Check, "1.11", &s), Err(()));
        assert_eq!(decide(VersionPolicy::Negotiate, "1.11", &s), Err(()));
        assert_eq!(decide(VersionPolicy::Off, "1.53", &s), Ok(None));
        assert_eq!(
            decide(VersionPolicy::Check, "1.53", &server("", "")),
            Ok(None)
        );
    }
}
