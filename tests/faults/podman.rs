//! The podman service stopped (SIGTERM) and started again in the middle of a libpod log
//! follow and a libpod events stream. Podman has no daemon of its own containers: they
//! run on under conmon while the service is down.

use std::collections::HashMap;

use berth::podman::v5_1_0::{libpod, models};
use berth::Client;

use crate::common::{self, report, Cleanup};
use crate::harness::{self, After, Fault, Figures};

async fn setup() -> Option<Client> {
    if !harness::can_inject() {
        return None;
    }
    common::podman().await
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

/// A connection left idle in the pool before the fault.
async fn pool_one(client: &Client) {
    let ping = client
        .invoke(libpod::_ping::SystemPing {})
        .await
        .expect("libpod ping");
    assert_eq!(ping, "OK");
}

/// The same client once the service is back: two pings (the second on the connection the
/// first left idle) and the version.
async fn podman_answers(client: &Client, after: &mut After) {
    for what in ["libpod SystemPing", "libpod SystemPing again"] {
        let ping = after.ok(what, client.invoke(libpod::_ping::SystemPing {}).await);
        assert_eq!(ping, "OK");
    }
    let version = after.ok(
        "SystemVersionLibpod",
        client.invoke(libpod::version::SystemVersionLibpod {}).await,
    );
    assert!(version.version.is_some(), "{version:?}");
}

#[tokio::test]
async fn podman_stopped_during_libpod_log_follow() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    let id = create(
        &client,
        &cleanup,
        &[
            "sh",
            "-c",
            "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done",
        ],
        "logs",
    )
    .await;
    client
        .invoke(libpod::containers::ContainerStartLibpod {
            name: id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerStartLibpod");
    let logs = client
        .invoke(libpod::containers::ContainerLogsLibpod {
            name: id.clone(),
            follow: Some(true),
            stdout: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerLogsLibpod");
    let mut frames = logs.frames();
    harness::until_item(
        &mut frames,
        20,
        "the first log lines",
        |f: &berth::Frame| String::from_utf8_lossy(&f.data).contains("line 2"),
    )
    .await;
    pool_one(&client).await;

    let mut fault = Fault::start("stop", "podman");
    let (_, error) = harness::until_error(&mut frames, 60, "the libpod log follow").await;
    let error_after = fault.at.elapsed();
    harness::assert_cut_short(&error, "ContainerLogsLibpod");
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    podman_answers(&client, &mut after).await;
    let logged = after.ok(
        "ContainerLogsLibpod",
        client
            .invoke(libpod::containers::ContainerLogsLibpod {
                name: id.clone(),
                stdout: Some(true),
                ..Default::default()
            })
            .await,
    );
    let (out, _) = after.ok("log frames", logged.frames().collect_output().await);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("line 0\nline 1\nline 2\n"), "{out}");
    report::record(
        "fault",
        "podman service stopped (SIGTERM) during a libpod log follow",
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: format!("{} lines in the log afterwards", out.lines().count()),
        }
        .to_string(),
    );
}

#[tokio::test]
async fn podman_stopped_during_libpod_events() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    let label = common::unique("pevents");
    let subscribe = || {
        client.invoke(libpod::events::SystemEventsLibpod {
            since: Some((common::now_secs() - 1).to_string()),
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![format!("berth-fault={label}")],
            )])),
            stream: Some(true),
            ..Default::default()
        })
    };
    let mut live = subscribe().await.expect("SystemEventsLibpod");
    let id = create(&client, &cleanup, &["true"], &label).await;
    let is_create = |id: String| {
        move |e: &models::SystemEventsLibpodItem| {
            e.action.as_deref().or(e.status.as_deref()) == Some("create")
                && e.actor.as_ref().and_then(|a| a.id.as_deref()) == Some(id.as_str())
        }
    };
    harness::until_item(&mut live, 20, "the create event", is_create(id)).await;
    pool_one(&client).await;

    let mut fault = Fault::start("stop", "podman");
    let (_, error) = harness::until_error(&mut live, 60, "the libpod events stream").await;
    let error_after = fault.at.elapsed();
    harness::assert_cut_short(&error, "SystemEventsLibpod");
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    podman_answers(&client, &mut after).await;
    let mut again = after.ok("SystemEventsLibpod", subscribe().await);
    let id = create(&client, &cleanup, &["true"], &label).await;
    after.calls += 1;
    harness::until_item(&mut again, 20, "an event after the restart", is_create(id)).await;
    after.calls += 1;
    report::record(
        "fault",
        "podman service stopped (SIGTERM) during a libpod events stream",
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: "a new subscription sees a new create".into(),
        }
        .to_string(),
    );
}
