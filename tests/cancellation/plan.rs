//! What each call does, from the seed alone, so that `BERTH_CANCEL_SEED` replays a run's
//! plan: its mode (raced against a deadline, dropped mid-stream, or normal), its kind and
//! the container it is about.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::fixture::{DONE, LOG_LINES};

/// The seed of the run: `BERTH_CANCEL_SEED` when set, the clock otherwise.
pub fn seed() -> u64 {
    match std::env::var("BERTH_CANCEL_SEED") {
        Ok(s) if !s.is_empty() => s
            .parse()
            .unwrap_or_else(|_| panic!("BERTH_CANCEL_SEED={s:?} is not a number")),
        _ => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// xorshift64*, seeded through splitmix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A kind, with probability proportional to its share in `column` of [`SHARES`].
    fn pick(&mut self, column: fn(&Share) -> u64) -> &'static Share {
        let total: u64 = SHARES.iter().map(column).sum();
        let mut at = self.below(total);
        for share in SHARES {
            if at < column(share) {
                return share;
            }
            at -= column(share);
        }
        unreachable!()
    }
}

/// Bytes that depend on `seed` only.
pub fn bytes_of(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The size of the file an upload puts in a container.
pub const UPLOAD: usize = 128 * 1024;

/// The file call `i` uploads (when it is an upload).
pub fn upload_of(seed: u64, i: usize) -> (String, Vec<u8>) {
    (
        format!("up-{i}.bin"),
        bytes_of(seed ^ 0xA5A5 ^ i as u64, UPLOAD),
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Ping,
    Inspect,
    List,
    Logs,
    LogsFollowDone,
    LogsFollowChatty,
    Events,
    EventsBounded,
    ArchiveNote,
    ArchiveBig,
    AttachLogs,
    AttachChatty,
    Put,
}

impl Kind {
    /// Its answer is read whole by `invoke` (no head / body split visible).
    pub fn buffered(self) -> bool {
        matches!(self, Kind::Ping | Kind::Inspect | Kind::List | Kind::Put)
    }
}

/// How often a kind is picked in each mode, against the other kinds' shares in that mode
/// (0: never). Normal calls are the kinds whose answer ends; dropped ones are streams.
pub struct Share {
    kind: Kind,
    raced: u64,
    dropped: u64,
    normal: u64,
    /// A dropped stream is dropped after `0..drop_within` items (frames, events, chunks).
    drop_within: u64,
}

const fn share(kind: Kind, raced: u64, dropped: u64, normal: u64, drop_within: u64) -> Share {
    Share {
        kind,
        raced,
        dropped,
        normal,
        drop_within,
    }
}

const LINES: u64 = LOG_LINES as u64;

#[rustfmt::skip]
const SHARES: &[Share] = &[
    //    kind                    raced  dropped  normal  drop_within
    share(Kind::Ping,             18,    0,       15,     0),
    share(Kind::Inspect,          18,    0,       25,     0),
    share(Kind::List,             5,     0,       5,      0),
    share(Kind::Logs,             10,    3,       10,     LINES),
    share(Kind::LogsFollowDone,   5,     0,       5,      0),
    share(Kind::LogsFollowChatty, 5,     3,       0,      4),
    share(Kind::Events,           6,     2,       0,      5),
    share(Kind::EventsBounded,    4,     0,       5,      0),
    share(Kind::ArchiveNote,      3,     0,       4,      0),
    share(Kind::ArchiveBig,       3,     1,       2,      6),
    share(Kind::AttachLogs,       5,     2,       5,      LINES),
    share(Kind::AttachChatty,     5,     2,       0,      3),
    share(Kind::Put,              4,     0,       3,      0),
];

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Raced(Duration),
    /// Dropped after this many items (frames, events, chunks).
    Dropped(usize),
    Normal,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Raced(_) => "raced",
            Mode::Dropped(_) => "dropped",
            Mode::Normal => "normal",
        }
    }
}

/// The plan of call `i`: its mode, kind and container. Every third call is a normal one;
/// of the others, 3 in 10 are dropped streams and the rest raced against a deadline of
/// 0–5 ms (a quarter of them 5–50 ms).
pub fn plan(seed: u64, i: usize) -> (Mode, Kind, usize) {
    let mut rng = Rng::new(seed.wrapping_add((i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)));
    let k = rng.below(DONE as u64) as usize;
    if i % 3 == 2 {
        return (Mode::Normal, rng.pick(|s| s.normal).kind, k);
    }
    if rng.below(10) < 3 {
        let share = rng.pick(|s| s.dropped);
        let n = rng.below(share.drop_within) as usize;
        return (Mode::Dropped(n), share.kind, k);
    }
    let kind = rng.pick(|s| s.raced).kind;
    let micros = if rng.below(4) == 0 {
        5_000 + rng.below(45_001)
    } else {
        rng.below(5_001)
    };
    (Mode::Raced(Duration::from_micros(micros)), kind, k)
}
