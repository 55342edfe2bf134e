//! The built binary's command line: bad URLs and unusable `--ca-file`s are
//! refused before the terminal is touched.

use std::process::{Command, Output};

fn noc_tui(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_noc-tui"));
    command
        .args(args)
        .env_remove("NOC_URL")
        .env_remove("NOC_SITES")
        .env_remove("NOC_CA_FILE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run noc-tui")
}

fn assert_refused(output: &Output, url: &str) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "nothing on stdout: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.contains(url), "names the URL: {stderr:?}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no escape sequences: {stderr:?}"
    );
}

#[test]
fn a_bad_url_is_one_line_and_exit_code_2() {
    for url in [
        "ftp://noc.example/ws",
        "localhost:8080",
        "noc.example",
        "ws://",
    ] {
        let output = noc_tui(&["--url", url], &[]);
        assert_refused(&output, url);
    }
}

#[test]
fn a_bad_url_among_good_ones_is_refused_too() {
    let output = noc_tui(
        &["--url", "ws://ok.example", "--url", "gopher://x", "--plain"],
        &[],
    );
    assert_refused(&output, "gopher://x");
}

#[test]
fn a_bad_url_from_the_environment_is_refused() {
    let output = noc_tui(&[], &[("NOC_URL", "tcp://10.0.0.1:8080")]);
    assert_refused(&output, "tcp://10.0.0.1:8080");
}

#[test]
fn help_lists_every_flag() {
    let output = noc_tui(&["--help"], &[]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--url",
        "--sites",
        "--min-severity",
        "--name",
        "--token",
        "--plain",
        "--bell",
        "--ca-file",
        "NOC_URL",
        "NOC_SITES",
        "NOC_TOKEN",
        "NOC_CA_FILE",
    ] {
        assert!(help.contains(flag), "{flag} in --help");
    }
}

#[test]
fn an_unknown_severity_is_a_usage_error() {
    let output = noc_tui(&["--min-severity", "severe"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("severe"));
}

#[test]
fn an_unusable_ca_file_is_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing-ca.pem");
    let garbage = dir.path().join("garbage-ca.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let empty = dir.path().join("empty-ca.pem");
    std::fs::write(&empty, "").expect("write");
    for path in [&missing, &garbage, &empty] {
        let path = path.to_str().expect("utf-8");
        let output = noc_tui(&["--url", "wss://noc.example", "--ca-file", path], &[]);
        assert_refused(&output, path);
    }
    // From the environment too, and checked even when no URL is wss://.
    let garbage = garbage.to_str().expect("utf-8");
    let output = noc_tui(
        &["--url", "ws://noc.example", "--plain"],
        &[("NOC_CA_FILE", garbage)],
    );
    assert_refused(&output, garbage);
    let missing = missing.to_str().expect("utf-8");
    let stderr = String::from_utf8_lossy(
        &noc_tui(&["--url", "wss://noc.example", "--ca-file", missing], &[]).stderr,
    )
    .into_owned();
    assert!(stderr.contains("--ca-file"), "says which flag: {stderr}");
}
