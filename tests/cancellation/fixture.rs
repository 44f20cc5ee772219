//! The containers every call is about, made before the run: exited ones whose output and
//! files are known, so that each answer can be checked against what it must be, and a
//! running one printing numbered lines, for streams that never end.

use std::collections::HashSet;

use berth::docker::v1_41::containers;
use berth::Client;

use crate::common::stress::{self, run_to_exit};
use crate::common::{self, within, Cleanup};
use crate::plan::bytes_of;

/// Exited containers with known output, a known `/note` and a known `/data/big.bin`.
pub const DONE: usize = 6;
/// The lines each of them prints.
pub const LOG_LINES: usize = 100;
const BIG: usize = 512 * 1024;
/// The label that marks this run's containers, valued with its tag.
pub const LABEL: &str = "berth-cancel";

pub struct Done {
    pub id: String,
    pub name: String,
    pub out: String,
    pub err: String,
    pub note: String,
}

pub struct Fixture {
    pub tag: String,
    pub done: Vec<Done>,
    pub chatty: String,
    /// Every line the chatty container prints starts with this, then a number.
    pub chatty_prefix: String,
    pub big: Vec<u8>,
    pub ids: HashSet<String>,
    /// When the fixtures were being made (events replay from here).
    pub since: i64,
}

impl Fixture {
    /// `DONE` exited containers with known output, a known /note and a known
    /// /data/big.bin (from `seed`); one running container printing numbered lines.
    pub async fn make(client: &Client, cleanup: &Cleanup, seed: u64) -> Fixture {
        let tag = common::unique("cancel");
        let since = common::now_secs() - 1;
        let big = bytes_of(seed ^ 0xB16, BIG);
        let big_tar = common::tar_of(&[("data/big.bin", 0o644, &big)]);
        let mut done = Vec::new();
        for k in 0..DONE {
            let d = make_done(client, cleanup, &tag, k).await;
            client
                .invoke(containers::PutContainerArchive {
                    id: d.id.clone(),
                    path: "/".into(),
                    body: berth::Body::from(big_tar.clone()),
                    ..Default::default()
                })
                .await
                .expect("PutContainerArchive big.bin");
            done.push(d);
        }
        let chatty_prefix = format!("chatty-{tag}-");
        let chatty = create(
            client,
            cleanup,
            &tag,
            &format!("{tag}-chatty"),
            &format!("i=0; while :; do echo {chatty_prefix}$i; i=$((i+1)); sleep 0.02; done"),
        )
        .await;
        client
            .invoke(containers::ContainerStart {
                id: chatty.clone(),
                ..Default::default()
            })
            .await
            .expect("ContainerStart chatty");
        let ids = done
            .iter()
            .map(|d| d.id.clone())
            .chain([chatty.clone()])
            .collect();
        Fixture {
            tag,
            done,
            chatty,
            chatty_prefix,
            big,
            ids,
            since,
        }
    }
}

/// Exited container `k`: `LOG_LINES` numbered lines on stdout, one on stderr, and `/note`.
async fn make_done(client: &Client, cleanup: &Cleanup, tag: &str, k: usize) -> Done {
    let name = format!("{tag}-done-{k}");
    let script = format!(
        "i=0; while [ $i -lt {LOG_LINES} ]; do echo out-{k}-$i; i=$((i+1)); done; \
         echo err-{k}-{tag} >&2; echo note-{k}-{tag} > /note"
    );
    let id = create(client, cleanup, tag, &name, &script).await;
    within(
        60,
        "ContainerStart and ContainerWait",
        run_to_exit(client, &name, &id),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    Done {
        id,
        out: (0..LOG_LINES).map(|i| format!("out-{k}-{i}\n")).collect(),
        err: format!("err-{k}-{tag}\n"),
        note: format!("note-{k}-{tag}\n"),
        name,
    }
}

async fn create(client: &Client, cleanup: &Cleanup, tag: &str, name: &str, script: &str) -> String {
    stress::create(client, cleanup, name, (LABEL, tag), script)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}
