//! Rust names from spec names: snake_case fields, PascalCase types and variants, keywords
//! escaped, collisions resolved deterministically.

use std::collections::HashSet;

const KEYWORDS: [&str; 51] = [
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// Splits a spec name into lowercase words: `IPv4Address` → ip, v4, address;
/// `container_id` → container, id; `X-Registry-Auth` → x, registry, auth.
pub fn words(name: &str) -> Vec<String> {
    // `IPv4` / `IPv6` are one word, not `i` + `pv4`.
    let name = name.replace("IPv", "Ipv");
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let after_next = chars.get(i + 2).copied();
        // A plural acronym (`CPUs`, `IDs`) keeps its `s`.
        let plural_acronym =
            next == Some('s') && !after_next.is_some_and(|a| a.is_ascii_lowercase());
        let boundary = match prev {
            Some(p) if c.is_ascii_uppercase() => {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase())
                        && !plural_acronym)
            }
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `HostConfig` → `host_config`; a keyword becomes a raw identifier's text (`r#type`).
pub fn snake(name: &str) -> String {
    let mut s = words(name).join("_");
    if s.is_empty() {
        s = "field".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    escape_keyword(s)
}

/// `host_config` → `HostConfig`; leading digits get a prefix.
pub fn pascal(name: &str) -> String {
    let mut s: String = words(name)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if s.is_empty() {
        s = "Empty".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    if s == "Self" {
        s = "SelfValue".into();
    }
    s
}

/// A module name for a category (`_ping` stays `_ping`, `containers` stays).
pub fn module(name: &str) -> String {
    let leading_underscore = name.starts_with('_');
    let s = snake(name);
    if leading_underscore && !s.starts_with('_') {
        format!("_{s}")
    } else {
        s
    }
}

fn escape_keyword(s: String) -> String {
    match s.as_str() {
        "self" | "Self" | "crate" | "super" => format!("{s}_"),
        _ if KEYWORDS.contains(&s.as_str()) => format!("r#{s}"),
        _ => s,
    }
}

/// Hands out names unique within one scope: a taken name gets `2`, `3`, ... appended.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    pub fn new() -> Self {
        Scope::default()
    }

    pub fn reserve(&mut self, name: &str) -> bool {
        self.taken.insert(name.to_string())
    }

    pub fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    /// `name` if free, else the first free `name2`, `name3`, ...
    pub fn unique(&mut self, name: &str) -> String {
        if self.taken.insert(name.to_string()) {
            return name.to_string();
        }
        let base = name.strip_prefix("r#").unwrap_or(name);
        (2..)
            .map(|n| {
                format!(
                    "{base}{}{n}",
                    if base.ends_with(|c: char| c.is_ascii_digit()) {
                        "_"
                    } else {
                        ""
                    }
                )
            })
            .find(|candidate| !self.taken.contains(candidate))
            .inspect(|candidate| {
                self.taken.insert(candidate.clone());
            })
            .expect("an unbounded range finds a free name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_from_spec_names() {
        assert_eq!(snake("HostConfig"), "host_config");
        assert_eq!(snake("IPAddress"), "ip_address");
        assert_eq!(snake("GlobalIPv6Address"), "global_ipv6_address");
        assert_eq!(snake("NanoCPUs"), "nano_cpus");
        assert_eq!(snake("DeviceIDs"), "device_ids");
        assert_eq!(snake("IDsOfThings"), "ids_of_things");
        assert_eq!(snake("Ipv4Address"), "ipv4_address");
        assert_eq!(snake("Id"), "id");
        assert_eq!(snake("X-Registry-Auth"), "x_registry_auth");
        assert_eq!(snake("com.docker.stack"), "com_docker_stack");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("CPUShares"), "cpu_shares");
        assert_eq!(snake("OomKillDisable"), "oom_kill_disable");
        assert_eq!(snake("container_id"), "container_id");
        assert_eq!(snake("1foo"), "_1foo");
        assert_eq!(snake("-"), "field");
    }

    #[test]
    fn pascal_case_from_spec_names() {
        assert_eq!(pascal("ContainerCreate"), "ContainerCreate");
        assert_eq!(pascal("container_create"), "ContainerCreate");
        assert_eq!(pascal("no-new-privileges"), "NoNewPrivileges");
        assert_eq!(pascal(""), "Empty");
        assert_eq!(pascal("3rd"), "V3rd");
        assert_eq!(pascal("self"), "SelfValue");
    }

    #[test]
    fn modules_keep_a_leading_underscore() {
        assert_eq!(module("_ping"), "_ping");
        assert_eq!(module("containers"), "containers");
        assert_eq!(module("system"), "system");
    }

    #[test]
    fn scope_uniquifies_in_order() {
        let mut scope = Scope::new();
        assert_eq!(scope.unique("Port"), "Port");
        assert_eq!(scope.unique("Port"), "Port2");
        assert_eq!(scope.unique("Port"), "Port3");
        assert_eq!(scope.unique("V4"), "V4");
        assert_eq!(scope.unique("V4"), "V4_2");
    }
}
