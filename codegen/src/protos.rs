//! BuildKit's protocol files → Rust (feature `protos`): the messages with prost, the session
//! services berth serves with tonic's server code, compiled by protox (pure Rust: no
//! `protoc` on the user's machine).
//!
//! The `.proto` files under `protos/` are vendored untouched; `protos/manifest.json` names
//! each one's source and sha256, checked here before anything is compiled. What the files
//! need that berth does not vendor is corrected at compile time, in one place
//! ([`VTPROTO_OPTIONS`]).

use std::path::{Path, PathBuf};

use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use sha2::{Digest, Sha256};

use crate::Error;

/// The files berth compiles (their imports come along).
pub const ROOTS: &[&str] = &[
    "github.com/moby/buildkit/session/filesync/filesync.proto",
    "github.com/moby/buildkit/session/auth/auth.proto",
    "github.com/moby/buildkit/session/secrets/secrets.proto",
    "github.com/moby/buildkit/session/sshforward/ssh.proto",
    "github.com/moby/buildkit/api/services/control/control.proto",
];

/// fsutil's files import vtprotobuf's `ext.proto` for one Go option, `(vtproto.mempool)`
/// (pooled message allocation in Go); no registry ships that file, and the option means
/// nothing to prost. The import and the option are left out when the files are read.
pub const VTPROTO_OPTIONS: &str = "vtproto-options";

/// Messages whose `Debug` would print a credential: berth writes their `Debug` itself.
pub const SECRET_MESSAGES: &[&str] = &[
    ".moby.buildkit.secrets.v1.GetSecretResponse",
    ".moby.filesync.v1.CredentialsResponse",
];

/// One entry of `protos/manifest.json`.
#[derive(Debug, serde::Deserialize)]
struct ManifestFile {
    path: String,
    sha256: String,
}

#[derive(Debug, serde::Deserialize)]
struct Manifest {
    files: Vec<ManifestFile>,
}

/// Checks every vendored file against the manifest, then writes the Rust of [`ROOTS`] into
/// `out_dir`, with `_include.rs` holding the module tree.
pub fn generate(protos_dir: &Path, out_dir: &Path) -> Result<(), Error> {
    verify(protos_dir)?;
    let mut resolver = ChainFileResolver::new();
    resolver.add(Vendored {
        root: protos_dir.to_path_buf(),
    });
    resolver.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler
        .open_files(ROOTS)
        .map_err(|e| Error::new(protos_dir.join(e.file().unwrap_or("")), "", e.to_string()))?;
    let mut fds = compiler.file_descriptor_set();
    // The daemon's Control service is BuildKit's own API; berth reads only its messages.
    for file in &mut fds.file {
        if file.package() == "moby.buildkit.v1" {
            file.service.clear();
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| Error::new(out_dir, "", e.to_string()))?;
    let mut builder = tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .build_transport(false)
        .emit_rerun_if_changed(false)
        .include_file("_include.rs")
        .out_dir(out_dir);
    for message in SECRET_MESSAGES {
        builder = builder.skip_debug([*message]);
    }
    builder
        .compile_fds(fds)
        .map_err(|e| Error::new(protos_dir, "", format!("generating the protobuf code: {e}")))
}

/// Every file the manifest lists is there with its sha256, and no `.proto` is unlisted.
fn verify(protos_dir: &Path) -> Result<(), Error> {
    let manifest_path = protos_dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| Error::new(&manifest_path, "", e.to_string()))?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| Error::new(&manifest_path, "", e.to_string()))?;
    for file in &manifest.files {
        let path = protos_dir.join(&file.path);
        let bytes = std::fs::read(&path).map_err(|e| Error::new(&path, "", e.to_string()))?;
        let actual = hex(&Sha256::digest(&bytes));
        if actual != file.sha256 {
            return Err(Error::new(
                &path,
                "",
                format!(
                    "sha256 {actual}, the manifest says {}: vendored protocol files stay untouched",
                    file.sha256
                ),
            ));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads files under `protos/`, with [`VTPROTO_OPTIONS`] applied to fsutil's.
struct Vendored {
    root: PathBuf,
}

impl FileResolver for Vendored {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let path = self.root.join(name);
        if !path.is_file() {
            return Err(protox::Error::file_not_found(name));
        }
        let source = std::fs::read_to_string(&path)?;
        File::from_source(name, &without_vtproto(&source))
    }
}

/// The file without vtprotobuf's import and options (see [`VTPROTO_OPTIONS`]).
pub fn without_vtproto(source: &str) -> String {
    source
        .lines()
        .filter(|line| {
            let line = line.trim();
            !(line.starts_with("import") && line.contains("vtprotobuf/vtproto/ext.proto")
                || line.starts_with("option (vtproto."))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtproto_import_and_options_go_and_nothing_else() {
        let source = "syntax = \"proto3\";\nimport \"github.com/planetscale/vtprotobuf/vtproto/ext.proto\";\nimport \"a.proto\";\nmessage P {\n  option (vtproto.mempool) = true;\n  uint32 ID = 3;\n}";
        assert_eq!(
            without_vtproto(source),
            "syntax = \"proto3\";\nimport \"a.proto\";\nmessage P {\n  uint32 ID = 3;\n}"
        );
    }
}
