//! Fields that hold credentials. Their generated `Debug` prints `<redacted>` (or `None`), so
//! that a password, token or key never reaches a log through `{:?}` of a request or answer.
//! Serialization is untouched: the engine still receives and sends the values.

/// JSON names that are secret in every type that has them, case-insensitively.
pub const SECRET_NAMES: &[&str] = &[
    // AuthConfig (SystemAuth, X-Registry-Auth): a registry password.
    "password",
    // AuthConfig and the SystemAuth answer: tokens that stand in for a password.
    "identitytoken",
    "registrytoken",
    // SwarmJoin: the token that admits a node to the swarm.
    "jointoken",
    // SwarmUnlock and the SwarmUnlockkey answer: the key that decrypts the swarm's raft log.
    "unlockkey",
    // Podman's secret inspect with `showsecret`: the secret's value.
    "secretdata",
];

/// Fields that are secret only in one type: (type name, JSON name).
pub const SECRET_FIELDS: &[(&str, &str)] = &[
    // base64 of `user:password`.
    ("AuthConfig", "auth"),
    // The swarm's join tokens, for workers and for managers.
    ("JoinTokens", "Worker"),
    ("JoinTokens", "Manager"),
    // A Docker secret's value (base64), in its spec and in SecretCreate's body.
    ("SecretSpec", "Data"),
    ("SecretCreateBody", "Data"),
];

/// Whether the field `json_name` of the type `type_name` holds a credential.
pub fn is_secret(type_name: &str, json_name: &str) -> bool {
    SECRET_NAMES
        .iter()
        .any(|name| name.eq_ignore_ascii_case(json_name))
        || SECRET_FIELDS
            .iter()
            .any(|(ty, name)| *ty == type_name && *name == json_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_secret_anywhere_fields_only_in_their_type() {
        assert!(is_secret("AuthConfig", "password"));
        assert!(is_secret("AuthResponse", "IdentityToken"));
        assert!(is_secret("SwarmJoinBody", "JoinToken"));
        assert!(is_secret("JoinTokens", "Worker"));
        assert!(!is_secret("ContainerConfig", "Worker"));
        assert!(!is_secret("ConfigSpec", "Data"));
        assert!(!is_secret("AuthConfig", "username"));
    }
}
