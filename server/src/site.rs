//! Where the console's site (its WebAssembly, JavaScript and CSS) comes from: a directory
//! (`SCIMSYNC_SITE_ROOT`, or `LEPTOS_SITE_ROOT` as `cargo leptos serve` sets it: development
//! and tests), else the files a release binary carries inside itself (see `build.rs`).
//! Embedded files are served under a path holding their content hash (`/pkg/<hash>/…`), so
//! browsers keep them for a year, each in the encoding the browser takes best (brotli, gzip,
//! none), with an `ETag`.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::config::LeptosOptions;
use std::net::SocketAddr;

/// One file of the embedded site, with its compressed variants.
pub struct EmbeddedFile {
    pub path: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
    pub identity: &'static [u8],
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

mod embedded {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/embedded_site.rs"));
}

/// The name the console's files carry (`pkg/scimsync.js`, …).
const OUTPUT_NAME: &str = "scimsync";

pub enum Site {
    /// Files in a directory (the site root).
    Directory(String),
    /// The files built into this binary.
    Embedded,
}

impl Site {
    /// The site root named by the environment, else the embedded site, else `target/site`
    /// (with a warning: the console would have no assets).
    pub fn locate() -> Site {
        let named = ["SCIMSYNC_SITE_ROOT", "LEPTOS_SITE_ROOT"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()));
        match named {
            Some(root) => Site::Directory(root),
            None if !embedded::FILES.is_empty() => Site::Embedded,
            None => {
                tracing::warn!(
                    "this scimsync carries no console site and SCIMSYNC_SITE_ROOT is not set: \
                     serving target/site (build a release with scripts/release.sh)"
                );
                Site::Directory("target/site".into())
            }
        }
    }

    /// Where the console's files are, below the site root: `pkg`, or `pkg/<content hash>`
    /// for the embedded site.
    pub fn pkg_dir(&self) -> String {
        match self {
            Site::Directory(_) => "pkg".into(),
            Site::Embedded => format!("pkg/{}", embedded::SITE_HASH),
        }
    }

    /// The stylesheet's URL.
    pub fn stylesheet(&self) -> String {
        format!("/{}/{OUTPUT_NAME}.css", self.pkg_dir())
    }

    /// The Leptos options the console renders with, listening on `addr`. Read from the
    /// environment when `cargo leptos` runs the server; else made here, so a release binary
    /// needs no Leptos variables (and warns of none).
    pub fn leptos_options(&self, addr: Option<SocketAddr>) -> anyhow::Result<LeptosOptions> {
        let mut options = if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
            leptos::config::get_configuration(None)?.leptos_options
        } else {
            LeptosOptions::builder().output_name(OUTPUT_NAME).build()
        };
        options.site_root = match self {
            Site::Directory(root) => root.as_str().into(),
            // Nothing is read from it: the files are served from memory.
            Site::Embedded => "embedded".into(),
        };
        options.site_pkg_dir = self.pkg_dir().into();
        if let Some(addr) = addr {
            options.site_addr = addr;
        }
        Ok(options)
    }

    /// Routes serving the embedded files (none for a directory: the console's fallback
    /// serves those).
    pub fn router(&self) -> Router {
        match self {
            Site::Directory(_) => Router::new(),
            Site::Embedded => Router::new().route(
                &format!("/{}/{{*file}}", self.pkg_dir()),
                get(|Path(file): Path<String>, headers: HeaderMap| async move {
                    serve_embedded(&format!("pkg/{file}"), &headers)
                }),
            ),
        }
    }
}

/// Which variant of a file to send for an `Accept-Encoding`: brotli, else gzip, else none
/// (an encoding refused with `q=0` is not taken).
fn encoding(accepted: Option<&str>) -> Option<&'static str> {
    let accepted = accepted.unwrap_or_default().to_ascii_lowercase();
    let takes = |name: &str| {
        accepted.split(',').any(|part| {
            let mut fields = part.split(';').map(str::trim);
            fields.next() == Some(name)
                && fields.all(|f| {
                    f.strip_prefix("q=")
                        .is_none_or(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0))
                })
        })
    };
    ["br", "gzip"].into_iter().find(|e| takes(e))
}

fn serve_embedded(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = embedded::FILES.iter().find(|f| f.path == path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == file.etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accepted = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok());
        let (body, encoded) = match encoding(accepted) {
            Some("br") => (file.brotli, Some("br")),
            Some(_) => (file.gzip, Some("gzip")),
            None => (file.identity, None),
        };
        let mut response = body.into_response();
        if let Some(encoded) = encoded {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoded));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_static(file.etag));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // The path holds the content hash: it never names other content.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::encoding;

    #[test]
    fn the_best_encoding_the_browser_takes() {
        assert_eq!(encoding(Some("gzip, deflate, br, zstd")), Some("br"));
        assert_eq!(encoding(Some("gzip;q=1.0, br;q=0")), Some("gzip"));
        assert_eq!(encoding(Some("identity")), None);
        assert_eq!(encoding(None), None);
    }
}
