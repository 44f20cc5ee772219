//! The `berth.call` span of every call, seen by a subscriber of the test's own, against the
//! real dockerd: its fields say the operation, method, path template, status (or error
//! kind) and duration, and nothing of what was sent: no credential reaches it. A failure
//! the engine reports inside a 200's stream is recorded on the call's span when the stream
//! is read; the version probe is a `berth.probe` span inside the first call's.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use berth::auth::RegistryAuth;
use berth::docker::v1_41::{_ping, containers, images};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

type Fields = BTreeMap<String, String>;

/// Keeps the fields of every closed span, by span name.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(String, Fields)>>>);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Collect(&mut fields));
        let span = ctx.span(id).unwrap();
        if let Some(parent) = span.parent() {
            fields.insert("parent".into(), parent.name().into());
        }
        span.extensions_mut().insert(fields);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        values.record(&mut Collect(extensions.get_mut::<Fields>().unwrap()));
    }
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        let fields = span.extensions_mut().remove::<Fields>().unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push((span.name().to_string(), fields));
    }
}

#[tokio::test]
async fn every_call_is_a_span_with_its_outcome_and_no_secret() {
    let Some(client) = common::docker().await else {
        return;
    };
    let spans = Spans::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));

    client.invoke(_ping::SystemPing::default()).await.unwrap();
    let pushed = failed_push(&client).await;
    let missing = common::unique("no-such-container");
    let error = client
        .invoke(containers::ContainerInspect {
            id: missing.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let secret = "span-secret-hunter2";
    let pull = client
        .invoke(images::ImageCreate {
            from_image: Some(format!("127.0.0.1:1/{}:none", common::unique("missing"))),
            x_registry_auth: Some(RegistryAuth::password("someone", secret, "127.0.0.1:1")),
            ..Default::default()
        })
        .await;
    if let Ok(progress) = pull {
        let _ = progress.collect_all().await;
    }

    let spans = spans.0.lock().unwrap().clone();
    let calls: Vec<&Fields> = spans
        .iter()
        .filter(|(name, _)| name == "berth.call")
        .map(|(_, fields)| fields)
        .collect();
    let of = |operation: &str| {
        calls
            .iter()
            .find(|f| f.get("operation").map(String::as_str) == Some(operation))
            .unwrap_or_else(|| panic!("no span for {operation}: {calls:?}"))
    };
    let ping = of("SystemPing");
    assert_eq!(ping["method"], "GET");
    assert_eq!(ping["path"], "/_ping");
    assert_eq!(ping["status"], "200");
    assert!(ping["duration_us"].parse::<u64>().unwrap() > 0);
    assert!(ping["endpoint"].starts_with("unix://"), "{ping:?}");
    let inspect = of("ContainerInspect");
    assert_eq!(
        inspect["path"], "/containers/{id}/json",
        "the template, not the id"
    );
    assert_eq!(inspect["status"], "404");
    assert!(of("ImageCreate").contains_key("duration_us"));
    // The push answered 200, then an error item: the span says both.
    let push = of("ImagePush");
    assert_eq!(push["status"], "200", "{push:?}");
    assert_eq!(push["error"], "Stream", "{push:?} ({pushed})");
    // The version probe is a span of its own, inside the first call's, not a call.
    let probes: Vec<&Fields> = spans
        .iter()
        .filter(|(name, _)| name == "berth.probe")
        .map(|(_, fields)| fields)
        .collect();
    assert_eq!(probes.len(), 1, "one probe per client: {spans:?}");
    assert_eq!(probes[0]["parent"], "berth.call", "{probes:?}");
    assert_eq!(probes[0]["status"], "200", "{probes:?}");
    assert!(probes[0].contains_key("duration_us"), "{probes:?}");
    assert!(
        calls
            .iter()
            .all(|f| !f["operation"].contains("GET /version")),
        "the probe is not a call of its own: {calls:?}"
    );
    for (_, fields) in &spans {
        for value in fields.values() {
            assert!(
                !value.contains(secret),
                "a span recorded a credential: {fields:?}"
            );
            assert!(
                !value.contains(&missing),
                "a span recorded a parameter: {fields:?}"
            );
        }
    }
}

/// Pushes the test image, tagged for the test registry, with a wrong password: dockerd
/// answers 200, then ends the progress with an error item. Gives the error as text.
async fn failed_push(client: &berth::Client) -> String {
    let repo = format!("{}/{}", common::registry(), common::unique("span-push"));
    client
        .invoke(images::ImageTag {
            name: common::test_image(),
            repo: Some(repo.clone()),
            tag: Some("v1".into()),
        })
        .await
        .expect("ImageTag");
    let wrong = RegistryAuth::password(
        common::registry_user(),
        "not-the-password",
        common::registry(),
    );
    let answer = client
        .invoke(images::ImagePush {
            name: repo.clone(),
            tag: Some("v1".into()),
            x_registry_auth: wrong,
        })
        .await
        .expect("dockerd answers 200 before it tries the registry");
    let error = common::within(60, "push progress", answer.collect_all())
        .await
        .expect_err("a wrong password");
    assert!(matches!(error, berth::Error::Stream { .. }), "{error:?}");
    client
        .invoke(images::ImageDelete {
            name: format!("{repo}:v1"),
            ..Default::default()
        })
        .await
        .expect("ImageDelete");
    error.to_string()
}
