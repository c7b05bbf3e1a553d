//! Compiles every contract under `proto/` into Rust, plus one descriptor set for server reflection.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let well_known = protoc_bin_vendored::include_path()?;

    let mut files = Vec::new();
    collect_protos(&proto_root.join("kefu"), &mut files)?;
    files.sort();
    // tonic-prost-build does not emit rerun-if-changed for the protos it reads.
    println!(
        "cargo:rerun-if-changed={}",
        proto_root.join("kefu").display()
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // The vendored protoc is handed to prost directly, so nothing needs installing.
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    // Maps as BTreeMap: their encoding is then in key order, the same in every process, which
    // request fingerprints (kefu-db's idempotency) and stored payloads rely on.
    config.btree_map(["."]);
    // `prost::Name` on every message: the codec names the message in its errors and looks it up
    // in the descriptor set.
    config.enable_type_names();
    tonic_prost_build::configure()
        .codec_path("crate::codec::Codec")
        .file_descriptor_set_path(out_dir.join("kefu_descriptor.bin"))
        .compile_with_config(config, &files, &[proto_root, well_known])?;
    Ok(())
}

fn collect_protos(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    Ok(())
}
