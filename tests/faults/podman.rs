//! The podman service stopped (SIGTERM) and started again in the middle of a libpod log
//! follow and a libpod events stream. Podman has no daemon of its own containers: they
//! run on under conmon while the service is down.

use std::collections::HashMap;

use berth::podman::v5_1_0::{libpod, models};
use berth::Client;

use crate::common::{self, Cleanup};
use crate::outage::{After, Engine};
use crate::streams;

/// podman's API service, stopped and started.
struct Podman;

impl Engine for Podman {
    const FAULT: (&'static str, &'static str) = ("stop", "podman");
    const ERROR_WITHIN: u64 = 60;

    async fn connect() -> Option<Client> {
        common::podman().await
    }

    async fn ping(client: &Client) -> berth::Result<String> {
        client
            .invoke(libpod::_ping::SystemPing {})
            .await
            .map(|pong| pong.body)
    }

    async fn version(client: &Client, after: &mut After) {
        let version = after.ok(
            "SystemVersionLibpod",
            client.invoke(libpod::version::SystemVersionLibpod {}).await,
        );
        assert!(version.version.is_some(), "{version:?}");
    }
}

async fn create(client: &Client, cleanup: &Cleanup, command: &[&str], label: &str) -> String {
    let created = client
        .invoke(libpod::containers::ContainerCreateLibpod {
            body: models::SpecGenerator {
                name: Some(common::unique("pfault")),
                image: Some(common::test_image()),
                command: Some(command.iter().map(|s| s.to_string()).collect()),
                labels: Some(HashMap::from([
                    ("berth-it".to_string(), "faults".to_string()),
                    ("berth-fault".to_string(), label.to_string()),
                ])),
                ..Default::default()
            },
        })
        .await
        .expect("ContainerCreateLibpod");
    cleanup.container(created.id.clone());
    created.id
}

/// The stdout of `name`'s log: all of it so far, or followed.
fn logs(name: &str, follow: bool) -> libpod::containers::ContainerLogsLibpod {
    libpod::containers::ContainerLogsLibpod {
        name: name.to_string(),
        follow: follow.then_some(true),
        stdout: Some(true),
        ..Default::default()
    }
}

#[tokio::test]
async fn podman_stopped_during_libpod_log_follow() {
    let Some((client, cleanup)) = Podman::setup().await else {
        return;
    };
    let id = create(&client, &cleanup, &streams::COUNTING, "logs").await;
    let started = libpod::containers::ContainerStartLibpod {
        name: id.clone(),
        ..Default::default()
    };
    client.invoke(started).await.expect("ContainerStartLibpod");
    let followed = client.invoke(logs(&id, true)).await;
    let mut frames = followed.expect("ContainerLogsLibpod").frames();
    streams::first_lines(&mut frames).await;
    let mut cut = Podman::cut_short(
        &client,
        &mut frames,
        "the libpod log follow",
        "ContainerLogsLibpod",
    )
    .await;
    let logged = client.invoke(logs(&id, false)).await;
    let out = streams::log_text(&mut cut.after, "ContainerLogsLibpod", logged).await;
    assert!(out.starts_with("line 0\nline 1\nline 2\n"), "{out}");
    cut.record(
        "podman service stopped (SIGTERM) during a libpod log follow",
        format!("{} lines in the log afterwards", out.lines().count()),
    );
}

#[tokio::test]
async fn podman_stopped_during_libpod_events() {
    let Some((client, cleanup)) = Podman::setup().await else {
        return;
    };
    let label = common::unique("pevents");
    let filters = HashMap::from([("label".to_string(), vec![format!("berth-fault={label}")])]);
    let subscribe = || {
        client.invoke(libpod::events::SystemEventsLibpod {
            since: Some((common::now_secs() - 1).to_string()),
            filters: Some(filters.clone()),
            stream: Some(true),
            ..Default::default()
        })
    };
    let is_create = |e: &models::SystemEventsLibpodItem, id: &str| {
        e.action.as_deref().or(e.status.as_deref()) == Some("create")
            && e.actor.as_ref().and_then(|a| a.id.as_deref()) == Some(id)
    };
    let create_labelled = || create(&client, &cleanup, &["true"], &label);
    let (cut, _) = Podman::events_cut(
        &client,
        "SystemEventsLibpod",
        subscribe,
        create_labelled,
        is_create,
    )
    .await;
    cut.record(
        "podman service stopped (SIGTERM) during a libpod events stream",
        "a new subscription sees a new create",
    );
}
