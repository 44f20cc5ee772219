//! API versions: what the server speaks, and what to do when a module is newer or older.

use std::cmp::Ordering;

/// How a client treats a generated module whose API version is not the server's.
///
/// Before the first call of a Docker module, the client asks the server its versions
/// (`GET /version`, once per client, the *version probe*; Podman's libpod serves every
/// version prefix and is never probed). A module older than the server's minimum fails
/// with [`Error::UnsupportedVersion`](crate::Error::UnsupportedVersion) before any request
/// of it is sent, under `Negotiate` and `Strict` alike. Example: `tests/versions.rs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VersionPolicy {
    /// What Docker's own client does, and the default: a module newer than the server is
    /// sent at the server's newest version (`v1_55` against dockerd 20.10 goes as
    /// `/v1.41/...`). The risk: the module's types may hold fields and parameters the
    /// older server does not know (it ignores most, and refuses some with a 400), and the
    /// server may leave out what the module expects (decoded as `None` or empty). Calls
    /// that only use what both versions have behave as with the server's own module.
    #[default]
    Negotiate,
    /// Only a module the server speaks: a newer module fails with `UnsupportedVersion`
    /// before sending. No surprise from a field the server does not know; the cost is that
    /// a program must pick the module for the oldest server it meets.
    Strict,
    /// Never ask: every call is sent with its module's version and the server decides (a
    /// newer one answers 400 "client version is too new", an older one too). Saves the one
    /// probe per client.
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
        (VersionPolicy::Strict, true, _) | (_, _, true) => Err(()),
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
        assert_eq!(VersionPolicy::default(), VersionPolicy::Negotiate);
        for policy in [VersionPolicy::Negotiate, VersionPolicy::Strict] {
            assert_eq!(decide(policy, "1.41", &s), Ok(None));
            assert_eq!(decide(policy, "1.25", &s), Ok(None), "older, still served");
            assert_eq!(
                decide(policy, "1.11", &s),
                Err(()),
                "older than the minimum"
            );
            assert_eq!(decide(policy, "1.55", &server("", "")), Ok(None));
        }
        assert_eq!(
            decide(VersionPolicy::Negotiate, "1.55", &s),
            Ok(Some("1.41".into()))
        );
        assert_eq!(decide(VersionPolicy::Strict, "1.55", &s), Err(()));
        assert_eq!(decide(VersionPolicy::Off, "1.55", &s), Ok(None));
        assert_eq!(decide(VersionPolicy::Off, "1.11", &s), Ok(None));
    }
}
