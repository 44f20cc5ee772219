//! Which registry an image reference names, and how stored keys match it, as the docker
//! CLI (and, for Podman's namespaced keys, containers/image) match them.

/// The key Docker Hub's credentials are stored under in the docker CLI's `config.json`.
pub const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// Names of Docker Hub that all mean [`DOCKER_HUB`].
const HUB_NAMES: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];

/// A registry credentials are looked up for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registry {
    /// The docker CLI's key: [`DOCKER_HUB`], else `host[:port]`.
    pub(crate) key: String,
    /// `docker.io` for Docker Hub (Podman's key), else the same as `key`.
    pub(crate) host: String,
    /// The repository path (`library/busybox`), when an image was named.
    pub(crate) repository: Option<String>,
}

impl Registry {
    /// The registry of an image reference: its first component when that holds a `.` or
    /// a `:`, is `localhost` or has upper case (the docker rule), else Docker Hub.
    pub(crate) fn of_image(reference: &str) -> Registry {
        // Drop the digest, then a tag (a `:` after the last `/`).
        let name = reference.split('@').next().unwrap_or(reference);
        let name = match name.rfind(':') {
            Some(colon) if !name[colon..].contains('/') => &name[..colon],
            _ => name,
        };
        let (domain, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first, rest.to_string())
            }
            _ => ("docker.io", name.to_string()),
        };
        let mut registry = Registry::named(domain);
        let hub = registry.key == DOCKER_HUB;
        registry.repository = Some(if hub && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        });
        registry
    }

    /// A registry by name: `127.0.0.1:5000`, `https://127.0.0.1:5000/v1/`, `docker.io`,
    /// `https://index.docker.io/v1/`.
    pub(crate) fn named(name: &str) -> Registry {
        let key = normalize_key(name);
        let host = if key == DOCKER_HUB {
            "docker.io".to_string()
        } else {
            key.clone()
        };
        Registry {
            key,
            host,
            repository: None,
        }
    }

    /// Podman's namespaced keys for the image, most specific first:
    /// `host/org/repo`, `host/org` (the bare host is matched as a key).
    pub(crate) fn namespaces(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(repository) = &self.repository {
            let mut path = repository.as_str();
            loop {
                keys.push(format!("{}/{path}", self.host));
                match path.rfind('/') {
                    Some(slash) => path = &path[..slash],
                    None => break,
                }
            }
        }
        keys
    }
}

/// A stored key as the CLI compares it: no scheme, no path (`https://r:5000/v1/` is
/// `r:5000`), and every name of Docker Hub is [`DOCKER_HUB`].
pub(crate) fn normalize_key(key: &str) -> String {
    if key == DOCKER_HUB {
        return key.to_string();
    }
    let stripped = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = stripped.split('/').next().unwrap_or(stripped);
    if HUB_NAMES.contains(&host) {
        DOCKER_HUB.to_string()
    } else {
        host.to_string()
    }
}

/// Whether a key of Podman's `auth.json` names a namespace (`quay.io/org`) rather than a
/// whole registry: such a key applies only to images under it.
pub(crate) fn is_namespace_key(key: &str) -> bool {
    !key.contains("://") && key.trim_end_matches('/').contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_name_their_registry_as_the_cli_reads_them() {
        for (image, key, repository) in [
            ("busybox", DOCKER_HUB, "library/busybox"),
            ("busybox:1.36", DOCKER_HUB, "library/busybox"),
            ("me/app@sha256:abc", DOCKER_HUB, "me/app"),
            ("docker.io/library/busybox", DOCKER_HUB, "library/busybox"),
            ("index.docker.io/me/app:1", DOCKER_HUB, "me/app"),
            ("registry-1.docker.io/me/app", DOCKER_HUB, "me/app"),
            ("127.0.0.1:5000/berth/x:tag", "127.0.0.1:5000", "berth/x"),
            ("localhost/app", "localhost", "app"),
            ("quay.io/org/sub/app:v1", "quay.io", "org/sub/app"),
            ("Registry/app", "Registry", "app"),
        ] {
            let registry = Registry::of_image(image);
            assert_eq!(registry.key, key, "{image}");
            assert_eq!(registry.repository.as_deref(), Some(repository), "{image}");
        }
        assert_eq!(Registry::of_image("busybox").host, "docker.io");
        assert_eq!(
            Registry::of_image("quay.io/org/sub/app").namespaces(),
            ["quay.io/org/sub/app", "quay.io/org/sub", "quay.io/org"]
        );
    }

    #[test]
    fn keys_normalize_like_the_cli() {
        assert_eq!(
            normalize_key("https://127.0.0.1:5000/v1/"),
            "127.0.0.1:5000"
        );
        assert_eq!(normalize_key("http://r:5000"), "r:5000");
        assert_eq!(normalize_key("r:5000"), "r:5000");
        for hub in [
            "docker.io",
            "index.docker.io",
            "https://index.docker.io/v1/",
            "https://registry-1.docker.io/v2/",
        ] {
            assert_eq!(normalize_key(hub), DOCKER_HUB, "{hub}");
        }
        assert_eq!(Registry::named("docker.io").host, "docker.io");
        assert!(is_namespace_key("quay.io/org"));
        assert!(!is_namespace_key("https://r:5000/v1/"));
        assert!(!is_namespace_key("r:5000"));
    }
}
