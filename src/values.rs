//! Values an engine sends in more than one form, typed so that every form decodes.

/// A signal, as podman sends it: a number (`15`, podman 4.3.1's `Config.StopSignal`) or a
/// name (`"SIGTERM"`, podman 5). Written back in the form it came in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Signal {
    Number(i64),
    Name(String),
}

impl Default for Signal {
    fn default() -> Signal {
        Signal::Name(String::new())
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signal::Number(n) => write!(f, "{n}"),
            Signal::Name(name) => f.write_str(name),
        }
    }
}

/// What `ContainerArchiveInfo` says of a path in a container (the
/// `X-Docker-Container-Path-Stat` header: base64 JSON, as dockerd and podman send it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode`: the permission bits, and the type in the high bits
    /// (`1 << 31` a directory, `1 << 27` a symbolic link).
    pub mode: u32,
    /// The modification time, RFC 3339.
    pub mtime: String,
    /// A symbolic link's target; empty otherwise.
    pub link_target: String,
}

impl PathStat {
    pub fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }

    pub fn is_symlink(&self) -> bool {
        self.mode & (1 << 27) != 0
    }
}

/// A response header's value as its typed field reads it.
pub(crate) trait HeaderValue: Sized {
    fn from_header(value: &str) -> Result<Self, String>;
}

impl HeaderValue for String {
    fn from_header(value: &str) -> Result<Self, String> {
        Ok(value.to_string())
    }
}

impl HeaderValue for bool {
    fn from_header(value: &str) -> Result<Self, String> {
        match value.trim() {
            v if v.eq_ignore_ascii_case("true") => Ok(true),
            v if v.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(format!("expected true or false, got {other:?}")),
        }
    }
}

impl HeaderValue for PathStat {
    fn from_header(value: &str) -> Result<Self, String> {
        use base64::Engine;
        let json = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|e| format!("not base64: {e}"))?;
        serde_json::from_slice(&json).map_err(|e| format!("not a path stat: {e}"))
    }
}
