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
