//! The flags' tests: URLs normalised and refused as the contract says,
//! defaults, tokens kept out of `Debug`, TLS set up only for `wss://`.

use super::*;
use clap::CommandFactory;

fn norm(input: &str) -> String {
    match normalize_url(input) {
        Ok(u) => u.to_string(),
        Err(e) => format!("ERR {e}"),
    }
}

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn urls_are_normalised_as_the_contract_says() {
    let cases = [
        (
            "ws://localhost:8080/ws/alerts",
            "ws://localhost:8080/ws/alerts",
        ),
        ("ws://localhost:8080", "ws://localhost:8080/ws/alerts"),
        ("ws://localhost:8080/", "ws://localhost:8080/ws/alerts"),
        ("wss://noc.example/ws/alerts", "wss://noc.example/ws/alerts"),
        ("wss://noc.example", "wss://noc.example/ws/alerts"),
        ("http://h/noc", "ws://h/noc/ws/alerts"),
        ("http://h/noc/", "ws://h/noc/ws/alerts"),
        ("http://h:8080", "ws://h:8080/ws/alerts"),
        ("https://h", "wss://h/ws/alerts"),
        ("https://h/a/b", "wss://h/a/b/ws/alerts"),
        ("HTTP://H:80/noc", "ws://h/noc/ws/alerts"),
        ("http://h/ws/alerts", "ws://h/ws/alerts"),
        ("ws://h/custom/path", "ws://h/custom/path"),
        ("ws://h/ws/alerts#frag", "ws://h/ws/alerts"),
    ];
    for (input, want) in cases {
        assert_eq!(norm(input), want, "{input}");
    }
}

#[test]
fn anything_else_is_refused_and_named() {
    for input in [
        "localhost:8080",
        "ftp://h/ws",
        "file:///tmp/x",
        "not a url",
        "",
        "ws://",
        "mailto:a@b",
    ] {
        let err = normalize_url(input).expect_err(input);
        assert_eq!(err.url, input);
        let line = err.to_string();
        assert!(line.contains(&format!("{input:?}")), "{line}");
        assert!(!line.contains('\n'), "one line: {line}");
    }
}

#[test]
fn connect_url_carries_filter_and_name_but_not_the_token() {
    let cli = Cli::parse_from([
        "noc-tui",
        "--url",
        "http://h:8080/noc",
        "--sites",
        "Kilimanjaro, Serengeti",
        "--min-severity",
        "warning",
        "--name",
        "wall 1",
        "--token",
        "s3cret",
    ]);
    let config = Config::from_cli(cli).expect("valid");
    let url = config.connect_url(&config.urls[0]);
    assert_eq!(
        url.as_str(),
        "ws://h:8080/noc/ws/alerts?sites=Kilimanjaro%2CSerengeti&min_severity=warning&client=wall+1"
    );
    assert!(!format!("{config:?}").contains("s3cret"));
    assert_eq!(
        config.subscribe_message().to_json(),
        r#"{"min_severity":"warning","subscribe":["Kilimanjaro","Serengeti"]}"#
    );
}

#[test]
fn defaults_follow_the_contract() {
    let cli = Cli::try_parse_from(["noc-tui"]).expect("no flags needed");
    let config = Config::from_cli(cli).expect("valid");
    assert_eq!(config.urls.len(), 1);
    assert_eq!(config.urls[0].as_str(), DEFAULT_URL);
    assert_eq!(config.sites, None);
    assert_eq!(config.min_severity, Severity::Info);
    assert!(!config.name.is_empty());
    assert_eq!(config.bell, None);
    assert!(!config.plain);
    assert_eq!(
        config.subscribe_message().to_json(),
        r#"{"min_severity":"info","subscribe":[]}"#
    );
}

#[test]
fn url_is_repeatable_and_severities_take_aliases() {
    let cli = Cli::try_parse_from([
        "noc-tui",
        "--url",
        "ws://a:1",
        "--url",
        "https://b",
        "--min-severity",
        "Disaster",
        "--bell",
        "high",
    ])
    .expect("valid");
    let config = Config::from_cli(cli).expect("valid");
    let urls: Vec<&str> = config.urls.iter().map(Url::as_str).collect();
    assert_eq!(urls, ["ws://a:1/ws/alerts", "wss://b/ws/alerts"]);
    assert_eq!(config.min_severity, Severity::Critical);
    assert_eq!(config.bell, Some(Severity::High));
    assert!(Cli::try_parse_from(["noc-tui", "--min-severity", "severe"]).is_err());
}

#[test]
fn tls_is_set_up_only_for_wss_and_the_ca_file_is_always_checked() {
    let plain = Config::from_cli(Cli::parse_from(["noc-tui", "--url", "http://h"])).expect("valid");
    assert!(plain.tls.is_none());
    let secure = Config::from_cli(Cli::parse_from([
        "noc-tui",
        "--url",
        "ws://a",
        "--url",
        "https://b",
    ]))
    .expect("valid");
    assert!(secure.tls.is_some());

    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    let cert = rcgen::generate_simple_self_signed(vec!["noc.test".to_owned()]).expect("cert");
    std::fs::write(&ca, cert.cert.pem()).expect("write");
    let ca = ca.to_str().expect("utf-8");
    let config = Config::from_cli(Cli::parse_from([
        "noc-tui",
        "--url",
        "wss://noc.test",
        "--ca-file",
        ca,
    ]))
    .expect("valid");
    assert!(config.tls.is_some());
    assert!(format!("{config:?}").contains("ca.pem"));

    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().expect("utf-8");
    let err = Config::from_cli(Cli::parse_from([
        "noc-tui",
        "--url",
        "ws://h",
        "--ca-file",
        missing,
    ]))
    .expect_err("refused even without wss://");
    assert!(matches!(err, ConfigError::CaFile(_)), "{err:?}");
    assert!(err.to_string().contains("missing.pem"), "{err}");
}

#[test]
fn the_user_token_acts_and_views_when_no_viewing_token_is_given() {
    let config = Config::from_cli(Cli::parse_from(["noc-tui", "--user-token", "irene-s3cret"]))
        .expect("valid");
    assert_eq!(config.user_token.as_deref(), Some("irene-s3cret"));
    assert_eq!(
        config.token.as_deref(),
        Some("irene-s3cret"),
        "it views too"
    );
    assert!(!format!("{config:?}").contains("irene-s3cret"));
    let both = Cli::parse_from([
        "noc-tui",
        "--token",
        "viewer",
        "--user-token",
        "irene-s3cret",
    ]);
    assert!(!format!("{both:?}").contains("irene-s3cret"));
    let config = Config::from_cli(both).expect("valid");
    assert_eq!(config.token.as_deref(), Some("viewer"), "--token views");
    assert_eq!(config.user_token.as_deref(), Some("irene-s3cret"));
    let none = Config::from_cli(Cli::parse_from(["noc-tui", "--user-token", ""])).expect("valid");
    assert_eq!(none.user_token, None, "an empty token is none");
}
