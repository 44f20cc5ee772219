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
