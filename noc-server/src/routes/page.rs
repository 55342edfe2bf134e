//! The browser NOC screen's files, embedded in the binary so that the
//! server is one file to deploy. They are edited in `web/` (no build step):
//! `index.html`, `style.css`, and the script `app.js` with its modules and
//! style sheets under `web/static/`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;

const INDEX_HTML: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const STYLE_CSS: &str = include_str!("../../web/style.css");

/// `web/static/`, by file name.
const STATIC: &[(&str, &str)] = &[
    ("actions.js", include_str!("../../web/static/actions.js")),
    ("api.js", include_str!("../../web/static/api.js")),
    ("board.js", include_str!("../../web/static/board.js")),
    ("controls.js", include_str!("../../web/static/controls.js")),
    ("drawer.js", include_str!("../../web/static/drawer.js")),
    ("format.js", include_str!("../../web/static/format.js")),
    ("link.js", include_str!("../../web/static/link.js")),
    ("list.js", include_str!("../../web/static/list.js")),
    ("model.js", include_str!("../../web/static/model.js")),
    ("rows.js", include_str!("../../web/static/rows.js")),
    ("settings.js", include_str!("../../web/static/settings.js")),
    ("sound.js", include_str!("../../web/static/sound.js")),
    ("drawer.css", include_str!("../../web/static/drawer.css")),
    ("wall.css", include_str!("../../web/static/wall.css")),
];

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The screen's files change with the binary: a browser must ask again
/// rather than keep a page from before an upgrade.
const NO_CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-cache");

/// `GET /`: the browser NOC screen.
pub async fn index() -> impl IntoResponse {
    ([NO_CACHE], Html(INDEX_HTML))
}

/// `GET /app.js`: the screen's script, which imports the modules.
pub async fn app_js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, JS), NO_CACHE], APP_JS)
}

/// `GET /style.css`: the screen's main style sheet.
pub async fn style_css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CSS), NO_CACHE], STYLE_CSS)
}

/// `GET /static/{file}`: the script's modules and the other style sheets.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let Some((name, body)) = STATIC.iter().find(|(name, _)| *name == file) else {
        return ApiError::NotFound(format!("no page file {file:?}")).into_response();
    };
    let kind = if name.ends_with(".css") { CSS } else { JS };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, kind), NO_CACHE],
        *body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `web/static/` is served, so that a new module cannot
    /// be forgotten in the table above.
    #[test]
    fn every_static_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/static");
        for entry in std::fs::read_dir(&dir).expect("web/static") {
            let name = entry.expect("entry").file_name();
            let name = name.to_str().expect("utf-8 name");
            assert!(
                STATIC.iter().any(|(n, _)| *n == name),
                "web/static/{name} is not in routes/page.rs STATIC"
            );
        }
    }

    /// Alert text is hostile input: no file of the page may hand text to
    /// an HTML parser. (Alert text reaches the page only via textContent.)
    #[test]
    fn the_page_never_parses_text_as_html() {
        let banned = [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "createContextualFragment",
            "DOMParser",
            "srcdoc",
        ];
        let scripts = STATIC
            .iter()
            .filter(|(name, _)| name.ends_with(".js"))
            .chain([&("app.js", APP_JS), &("index.html", INDEX_HTML)]);
        for (name, text) in scripts {
            for word in banned {
                // The comments that state the rule may name what they ban.
                let code: String = text
                    .lines()
                    .filter(|l| {
                        !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*')
                    })
                    .collect();
                assert!(!code.contains(word), "{name} uses {word}");
            }
        }
    }
}
