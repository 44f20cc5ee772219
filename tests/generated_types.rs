//! The generated types as users meet them: enums that keep values they do not know, `null`
//! where the spec promised a list, snake_case fields with the spec's names on the wire.

#![cfg(feature = "docker-v1_41")]

use berth::docker::v1_41::models::{ContainerState, ContainerStateStatus, ContainerSummary};

#[test]
fn enums_keep_values_newer_than_the_spec() {
    // Podman reports "stopped" and "stopping", which Docker's spec does not list.
    let state: ContainerState =
        serde_json::from_str(r#"{"Status": "stopping", "Running": false}"#).unwrap();
    assert_eq!(
        state.status,
        Some(ContainerStateStatus::Unknown("stopping".into()))
    );
    assert_eq!(
        serde_json::to_value(&state.status).unwrap(),
        "stopping",
        "and sends them back unchanged"
    );

    let known: ContainerState = serde_json::from_str(r#"{"Status": "running"}"#).unwrap();
    assert_eq!(known.status, Some(ContainerStateStatus::Running));
    assert_eq!(ContainerStateStatus::from("exited").as_str(), "exited");
}

#[test]
fn nulls_and_missing_values_decode() {
    let summary: ContainerSummary =
        serde_json::from_str(r#"{"Id": "abc", "Names": null, "Labels": null, "Mounts": null}"#)
            .unwrap();
    assert_eq!(summary.id.as_deref(), Some("abc"));
    assert_eq!(summary.names, None);
    assert_eq!(summary.labels, None);
}

#[test]
fn fields_are_snake_case_with_the_wire_names_kept() {
    let summary = ContainerSummary {
        id: Some("abc".into()),
        size_rw: Some(1),
        ..Default::default()
    };
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"Id": "abc", "SizeRw": 1}),
        "unset options are not sent"
    );
}

/// Keys the spec does not name (a newer engine's fields) are kept in `extra`, in the order
/// sent, at every depth, and written back after the known fields: an inspect → modify →
/// send round trip loses nothing. A `null` is not kept (it says no more than a missing key).
#[test]
fn unknown_keys_survive_decode_modify_send() {
    // From the text, as an engine sends it (`json!` would sort the keys).
    let text = r#"{"Id": "abc", "Names": ["/web"], "ImageManifestDescriptor": {"mediaType": "application/vnd.oci.image.manifest.v1+json"}, "Health": {"Status": "healthy", "FailingStreak": 0}, "NetworkSettings": {"Networks": {"bridge": {"GwPriority": 10, "DNSNames": null}}}}"#;
    let mut summary: ContainerSummary = serde_json::from_str(text).unwrap();
    assert_eq!(
        summary.extra.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        ["ImageManifestDescriptor", "Health"],
        "in the order sent"
    );
    let bridge = &summary
        .network_settings
        .as_ref()
        .unwrap()
        .networks
        .as_ref()
        .unwrap()["bridge"];
    assert_eq!(bridge.extra.get("GwPriority"), Some(&serde_json::json!(10)));
    assert_eq!(bridge.extra.get("DNSNames"), None, "a null is not kept");

    summary.names = Some(vec!["/renamed".into()]);
    summary
        .extra
        .insert("Health", serde_json::json!({ "Status": "unhealthy" }));
    let written = serde_json::to_value(&summary).unwrap();
    assert_eq!(written["Names"][0], "/renamed");
    assert_eq!(
        written["ImageManifestDescriptor"]["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(written["Health"]["Status"], "unhealthy", "changed in place");
    assert_eq!(
        written["NetworkSettings"]["Networks"]["bridge"]["GwPriority"],
        10
    );
    let again: ContainerSummary = serde_json::from_value(written).unwrap();
    assert_eq!(again, summary, "and read back the same");
}

/// A type holding credentials shows its unknown keys in `Debug` with their secret values
/// hidden, like its known fields.
#[test]
fn unknown_keys_of_a_credential_type_are_redacted_in_debug() {
    let auth: berth::docker::v1_41::models::AuthConfig = serde_json::from_value(
        serde_json::json!({ "username": "me", "password": "hunter2", "Realm": "r", "RegistryToken": "tok" }),
    )
    .unwrap();
    let shown = format!("{auth:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("\"tok\""),
        "{shown}"
    );
    assert!(shown.contains("Realm"), "{shown}");
}

/// One type per shape: what an inspect answers is what an update or a create takes, in
/// every Docker module this build has (each line compiles only if the types are one), and
/// Podman's answers of one shape are one type (no `IdResponse2`).
#[test]
fn inspected_specs_are_the_bodies_updates_and_creates_take() {
    macro_rules! docker_module {
        ($($module:ident),*) => {$({
            use berth::docker::$module::{configs, models, secrets, services};
            let service = models::Service::default();
            let _ = services::ServiceUpdate {
                body: service.spec.clone().unwrap_or_default(),
                ..Default::default()
            };
            let _ = services::ServiceCreate {
                body: service.spec.unwrap_or_default(),
                ..Default::default()
            };
            let config = models::Config::default();
            let _ = configs::ConfigCreate { body: config.spec.clone() };
            let _ = configs::ConfigUpdate { body: config.spec, ..Default::default() };
            let _ = secrets::SecretCreate { body: models::Secret::default().spec };
        })*};
    }
    docker_module!(v1_41);
    #[cfg(feature = "docker-v1_51")]
    docker_module!(v1_51);
    docker_module!(newest);

    #[cfg(feature = "podman-v5_1_0")]
    {
        use berth::podman::v5_1_0::{models, ops};
        // `IDResponse` was a reference to `IdResponse`: one type, pod create's answer.
        let pod: <ops::PodCreateLibpod as berth::Operation>::Output = models::IdResponse::default();
        let _: models::IdResponse = pod;
    }
}
