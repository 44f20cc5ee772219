//! API versions: what the server speaks, and what to do when a module is newer or older.

use std::cmp::Ordering;

/// How a client treats a generated module whose API version is not the server's.
///
/// Before the first call of a generated module, the client asks the server its versions
/// (`GET /version`, once per client, the *version probe*). A Docker module is held against
/// the server's Docker API versions (`ApiVersion`, `MinAPIVersion`); a libpod module
/// against its libpod API versions (the `Podman Engine` component's `APIVersion` and
/// `MinAPIVersion`), so `podman::v5_1_0` against podman 4.3.1 is sent as `/v4.3.1/libpod/...`
/// under `Negotiate` and refused before sending under `Strict`. A module older than the
/// server's minimum fails with [`Error::UnsupportedVersion`](crate::Error::UnsupportedVersion)
/// before any request of it is sent, under `Negotiate` and `Strict` alike.
///
/// ```no_run
/// # #[cfg(feature = "docker-v1_55")]
/// # async fn demo() -> berth::Result<()> {
/// use berth::docker::v1_55::containers::ContainerList;
/// use berth::{Client, Error, VersionPolicy};
///
/// // The default, `Negotiate`: against dockerd 20.10 (API 1.41) this `v1_55` call is sent
/// // as `GET /v1.41/containers/json`.
/// let docker = Client::new("unix:///var/run/docker.sock")?;
/// let server = docker.server_version().await?; // the probe's answer, kept by the client
/// println!("{} speaks API {} down to {}", server.version, server.api_version, server.min_api_version);
/// let containers = docker.invoke(ContainerList::default()).await?;
///
/// // `Strict`: the same call is refused before sending when the server is older than 1.55.
/// let strict = Client::builder("unix:///var/run/docker.sock")
///     .version_policy(VersionPolicy::Strict)
///     .build()?;
/// match strict.invoke(ContainerList::default()).await {
///     Ok(containers) => println!("{} containers", containers.len()),
///     Err(Error::UnsupportedVersion { operation, requested, server_min, server_max }) => {
///         // The fix: a module in that range (`v1_41` for dockerd 20.10), or `Negotiate`.
///         eprintln!("{operation}: {requested} is outside the server's {server_min} to {server_max}");
///     }
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
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

/// What the server says of its API versions (empty where it says nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "VersionAnswer")]
pub struct ServerVersion {
    /// The newest Docker API version it speaks (`1.41`).
    pub api_version: String,
    /// The oldest (`1.12`).
    pub min_api_version: String,
    /// The engine's own version (`20.10.24`, `4.3.1`).
    pub version: String,
    /// Podman only: the newest libpod API version it speaks (`4.3.1`).
    pub libpod_api_version: String,
    /// Podman only: the oldest (`4.0.0`).
    pub libpod_min_api_version: String,
}

impl ServerVersion {
    /// The versions that hold for a module of `engine` (`docker` or `podman`).
    fn range_for(&self, engine: &str) -> (&str, &str) {
        match engine {
            "podman" => (&self.libpod_api_version, &self.libpod_min_api_version),
            _ => (&self.api_version, &self.min_api_version),
        }
    }
}

/// `GET /version` as both engines answer it; podman adds its libpod versions in the
/// `Podman Engine` component.
#[derive(serde::Deserialize)]
struct VersionAnswer {
    #[serde(rename = "ApiVersion", default)]
    api_version: String,
    #[serde(rename = "MinAPIVersion", default)]
    min_api_version: String,
    #[serde(rename = "Version", default)]
    version: String,
    #[serde(rename = "Components", default)]
    components: Option<Vec<Component>>,
}

#[derive(serde::Deserialize)]
struct Component {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Details", default)]
    details: Option<ComponentDetails>,
}

#[derive(Default, serde::Deserialize)]
struct ComponentDetails {
    #[serde(rename = "APIVersion", default)]
    api_version: String,
    #[serde(rename = "MinAPIVersion", default)]
    min_api_version: String,
}

impl From<VersionAnswer> for ServerVersion {
    fn from(answer: VersionAnswer) -> Self {
        let libpod = answer
            .components
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.name == "Podman Engine")
            .and_then(|c| c.details)
            .unwrap_or_default();
        ServerVersion {
            api_version: answer.api_version,
            min_api_version: answer.min_api_version,
            version: answer.version,
            libpod_api_version: libpod.api_version,
            libpod_min_api_version: libpod.min_api_version,
        }
    }
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

/// What to send for a module of `engine` at `requested` version: `Ok(None)` as is,
/// `Ok(Some(v))` at version `v`, or `Err((min, max))` when the server cannot serve it.
pub(crate) fn decide<'a>(
    policy: VersionPolicy,
    engine: &str,
    requested: &str,
    server: &'a ServerVersion,
) -> Result<Option<&'a str>, (&'a str, &'a str)> {
    let (max, min) = server.range_for(engine);
    if max.is_empty() {
        return Ok(None); // The server did not say: let it decide.
    }
    let too_new = compare(requested, max) == Ordering::Greater;
    let too_old = !min.is_empty() && compare(requested, min) == Ordering::Less;
    match (policy, too_new, too_old) {
        (VersionPolicy::Off, _, _) | (_, false, false) => Ok(None),
        (VersionPolicy::Negotiate, true, false) => Ok(Some(max)),
        (VersionPolicy::Strict, true, _) | (_, _, true) => Err((min, max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(max: &str, min: &str) -> ServerVersion {
        ServerVersion {
            api_version: max.into(),
            min_api_version: min.into(),
            ..Default::default()
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
            assert_eq!(decide(policy, "docker", "1.41", &s), Ok(None));
            assert_eq!(
                decide(policy, "docker", "1.25", &s),
                Ok(None),
                "older, still served"
            );
            assert_eq!(
                decide(policy, "docker", "1.11", &s),
                Err(("1.12", "1.41")),
                "older than the minimum"
            );
            assert_eq!(decide(policy, "docker", "1.55", &server("", "")), Ok(None));
        }
        assert_eq!(
            decide(VersionPolicy::Negotiate, "docker", "1.55", &s),
            Ok(Some("1.41"))
        );
        assert_eq!(
            decide(VersionPolicy::Strict, "docker", "1.55", &s),
            Err(("1.12", "1.41"))
        );
        assert_eq!(decide(VersionPolicy::Off, "docker", "1.55", &s), Ok(None));
        assert_eq!(decide(VersionPolicy::Off, "docker", "1.11", &s), Ok(None));
    }

    /// Podman 4.3.1's `/version` (trimmed): its Docker API is 1.41, its libpod API 4.3.1.
    const PODMAN_4_3_1: &str = r#"{"Components":[{"Name":"Podman Engine","Version":"4.3.1",
        "Details":{"APIVersion":"4.3.1","MinAPIVersion":"4.0.0","Os":"linux"}},
        {"Name":"Conmon","Version":"conmon version 2.1.6","Details":{"Package":"conmon"}}],
        "Version":"4.3.1","ApiVersion":"1.41","MinAPIVersion":"1.24"}"#;

    #[test]
    fn podman_says_its_libpod_versions_in_a_component() {
        let s: ServerVersion = serde_json::from_str(PODMAN_4_3_1).unwrap();
        assert_eq!(
            (s.api_version.as_str(), s.min_api_version.as_str()),
            ("1.41", "1.24")
        );
        assert_eq!(s.libpod_api_version, "4.3.1");
        assert_eq!(s.libpod_min_api_version, "4.0.0");
        let docker: ServerVersion =
            serde_json::from_str(r#"{"ApiVersion":"1.51","Components":[{"Name":"Engine"}]}"#)
                .unwrap();
        assert_eq!(docker.libpod_api_version, "");
    }

    #[test]
    fn libpod_modules_are_held_against_the_libpod_versions() {
        let s: ServerVersion = serde_json::from_str(PODMAN_4_3_1).unwrap();
        let negotiate = VersionPolicy::Negotiate;
        assert_eq!(decide(negotiate, "podman", "5.1.0", &s), Ok(Some("4.3.1")));
        assert_eq!(decide(negotiate, "podman", "4.3.1", &s), Ok(None));
        assert_eq!(decide(negotiate, "podman", "4.0", &s), Ok(None));
        assert_eq!(
            decide(negotiate, "podman", "3.4.0", &s),
            Err(("4.0.0", "4.3.1"))
        );
        assert_eq!(
            decide(VersionPolicy::Strict, "podman", "5.1.0", &s),
            Err(("4.0.0", "4.3.1"))
        );
        assert_eq!(decide(VersionPolicy::Off, "podman", "5.1.0", &s), Ok(None));
        // A server that says nothing of libpod (dockerd) decides libpod calls itself.
        assert_eq!(
            decide(
                VersionPolicy::Strict,
                "podman",
                "5.1.0",
                &server("1.51", "1.24")
            ),
            Ok(None)
        );
    }
}
