//! Embeds the console's built site into the binary when `SCIMSYNC_EMBED_SITE` names it (the
//! site root `cargo leptos build --release` wrote: `pkg/scimsync.js`, `.wasm`, `.css`), each
//! file with gzip and brotli variants compressed now, so a release `scimsync` serves its
//! console with nothing beside it (`scripts/release.sh` builds it so). Without the variable
//! nothing is embedded: development and tests serve the site from its directory.
//!
//! Also records the git commit the binary is built from, for `scimsync --version`.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    record_commit();
    println!("cargo:rerun-if-env-changed=SCIMSYNC_EMBED_SITE");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files = Vec::new();
    if let Some(root) = std::env::var_os("SCIMSYNC_EMBED_SITE").filter(|r| !r.is_empty()) {
        let root = PathBuf::from(root);
        collect(&root, &root, &mut files);
        files.sort();
        let has = |name: &str| files.iter().any(|(rel, _)| rel == name);
        if !(has("pkg/scimsync.js") && has("pkg/scimsync.wasm")) {
            // A build error, at build time: the release would serve a console that cannot start.
            panic!(
                "SCIMSYNC_EMBED_SITE={} holds no pkg/scimsync.js and pkg/scimsync.wasm: \
                 build the site first (cargo leptos build --release)",
                root.display()
            );
        }
    }
    let mut site = Sha256::new();
    let mut entries = String::new();
    for (i, (rel, path)) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = std::fs::read(path).expect("reading a site file");
        let hash = hex(&Sha256::digest(&bytes));
        site.update(rel.as_bytes());
        site.update(hash.as_bytes());
        let gzip = out.join(format!("site-{i}.gz"));
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&bytes).expect("gzip");
        std::fs::write(&gzip, encoder.finish().expect("gzip")).expect("writing OUT_DIR");
        let brotli = out.join(format!("site-{i}.br"));
        let mut compressed = Vec::new();
        {
            let mut encoder = brotli::CompressorWriter::new(&mut compressed, 1 << 16, 11, 22);
            encoder.write_all(&bytes).expect("brotli");
        }
        std::fs::write(&brotli, compressed).expect("writing OUT_DIR");
        entries.push_str(&format!(
            "    EmbeddedFile {{ path: {rel:?}, content_type: {ct:?}, etag: {etag:?}, \
             identity: include_bytes!({id:?}), gzip: include_bytes!({gz:?}), \
             brotli: include_bytes!({br:?}) }},\n",
            ct = content_type(rel),
            etag = format!("\"{}\"", &hash[..32]),
            id = path.canonicalize().expect("a site file's path"),
            gz = gzip,
            br = brotli,
        ));
    }
    let site_hash = if files.is_empty() {
        String::new()
    } else {
        hex(&site.finalize())[..16].to_owned()
    };
    let code = format!(
        "/// The content hash of the embedded site (empty: none is embedded).\n\
         pub const SITE_HASH: &str = {site_hash:?};\n\
         /// The embedded site's files, by path below the site root.\n\
         pub static FILES: &[EmbeddedFile] = &[\n{entries}];\n"
    );
    std::fs::write(out.join("embedded_site.rs"), code).expect("writing OUT_DIR");
}

/// `SCIMSYNC_COMMIT`: `SCIMSYNC_GIT_COMMIT` when set (a release build), else what git says
/// of the checkout, else "unknown".
fn record_commit() {
    println!("cargo:rerun-if-env-changed=SCIMSYNC_GIT_COMMIT");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = root.join(".git");
    if git.join("HEAD").exists() {
        println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(branch) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed={}", git.join(branch).display());
        }
    }
    let commit = std::env::var("SCIMSYNC_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let out = std::process::Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .current_dir(&root)
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SCIMSYNC_COMMIT={commit}");
}

/// Every file below `dir`, as (path relative to `root` with `/`, path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("SCIMSYNC_EMBED_SITE: cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if !path.to_string_lossy().ends_with(".d.ts") {
            let rel = path.strip_prefix(root).expect("below the root");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((rel, path));
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
