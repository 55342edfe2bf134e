//! Part two on screen: the new columns and marks, the SILENCED count, the
//! banner, the details pane, the prompts, the filter, the profile's title
//! and identify. The details screen is also the one in `docs/`.

use std::collections::BTreeMap;

use noc_shared::{
    EventKind, HistoryEntry, Profile, ServerMessage, Severity, Writeback, WritebackState,
};

use super::{app, assert_16_colours_only, draw, find, line, lines};
use crate::api::Reply;
use crate::app::tests::{alert, event, snapshot};
use crate::app::{Action, App, Msg, update};
use crate::net::NetEvent;

fn key(app: &mut App, action: Action) {
    let now = app.now;
    update(app, Msg::Action(action), now);
}

fn part_two_alerts(app: &App) -> Vec<noc_shared::Alert> {
    let now = app.now.wall;
    let mut flap = alert("f1", "Serengeti", Severity::High, 1);
    flap.flapping = true;
    let mut acked = alert("k1", "Kilimanjaro", Severity::Critical, 2);
    acked.acked_by = Some("irene@sprinttz.example".into());
    acked.acked_at = Some(now);
    acked.writeback = Some(Writeback {
        state: WritebackState::Failed,
        error: Some("zabbix said no".into()),
    });
    let mut everywhere = alert("e1", "*", Severity::Warning, 3);
    everywhere.message = "Maintenance tonight".into();
    let mut silenced = alert("s1", "Kampala", Severity::Critical, 4);
    silenced.silenced_by = Some("sil-1".into());
    let mut old = alert("o1", "Entebbe", Severity::Info, 0);
    old.created_at = now - chrono::Duration::seconds(2 * 86_400 + 5 * 3600 + 60);
    vec![flap, acked, everywhere, silenced, old]
}

#[test]
fn rows_show_age_flap_ack_who_writeback_and_every_site() {
    let (mut app, now) = app(&[]);
    let alerts = part_two_alerts(&app);
    update(&mut app, snapshot(alerts), now);
    let buf = draw(&mut app, 120, 14);
    let text = lines(&buf).join("\n");
    assert!(
        find(&buf, "[ACK] irene [WB FAILED] critical problem k1").is_some(),
        "{text}"
    );
    assert!(find(&buf, "FLAP high problem f1").is_some(), "{text}");
    assert!(find(&buf, "* every site").is_some(), "{text}");
    assert!(find(&buf, "2d5h").is_some(), "{text}");
    assert!(find(&buf, "1h3m").is_some(), "{text}");
    // Silenced: hidden, counted beside the counts; shown with z, marked.
    assert!(find(&buf, "problem s1").is_none(), "{text}");
    assert!(
        line(&buf, 2).contains("SILENCED 1 (hidden)"),
        "{}",
        line(&buf, 2)
    );
    assert!(line(&buf, 2).contains("CRITICAL 1 "), "{}", line(&buf, 2));
    key(&mut app, Action::ToggleSilenced);
    let buf = draw(&mut app, 120, 14);
    assert!(find(&buf, "[SILENCED] critical problem s1").is_some());
    assert!(line(&buf, 2).contains("SILENCED 1 (shown)"));
    assert!(line(&buf, 2).contains("CRITICAL 2 "));
    assert_16_colours_only(&buf);
}

#[test]
fn the_selection_mark_stays_on_its_alert_as_rows_move() {
    let (mut app, now) = app(&[]);
    update(
        &mut app,
        snapshot(vec![
            alert("c1", "Kilimanjaro", Severity::Critical, 1),
            alert("w1", "Serengeti", Severity::Warning, 2),
        ]),
        now,
    );
    key(&mut app, Action::RowDown);
    update(
        &mut app,
        event(
            EventKind::Created,
            alert("c0", "Arusha", Severity::Critical, 5),
        ),
        now,
    );
    let buf = draw(&mut app, 100, 12);
    let (_, y) = find(&buf, "problem w1").expect("w1 on screen");
    assert!(line(&buf, y).starts_with("> "), "{}", line(&buf, y));
    assert_eq!(
        lines(&buf).iter().filter(|l| l.starts_with("> ")).count(),
        1
    );
}

#[test]
fn a_silent_source_is_a_banner_over_the_list() {
    let (mut app, now) = app(&[]);
    let silent = noc_shared::Alert::new(
        "source-silent-zabbix-dc1",
        "*",
        Severity::Critical,
        "No word from zabbix-dc1 for 7m (heartbeat every 5m)",
        "noc-server",
        now.wall,
    );
    update(
        &mut app,
        snapshot(vec![
            silent,
            alert("c1", "Kilimanjaro", Severity::Critical, 1),
        ]),
        now,
    );
    let buf = draw(&mut app, 100, 12);
    assert!(
        line(&buf, 3)
            .starts_with(" SOURCE SILENT: No word from zabbix-dc1 for 7m (heartbeat every 5m)"),
        "{}",
        line(&buf, 3)
    );
    assert_eq!(buf[(1, 3)].bg, ratatui::style::Color::Red);
    assert!(line(&buf, 4).starts_with("ALERTS 2"));
    assert_16_colours_only(&buf);
}

#[test]
fn the_filter_line_and_the_title_say_what_is_filtered() {
    let (mut app, now) = app(&[]);
    update(
        &mut app,
        snapshot(vec![
            alert("c1", "Kilimanjaro", Severity::Critical, 1),
            alert("w1", "Serengeti", Severity::Warning, 2),
        ]),
        now,
    );
    key(&mut app, Action::Filter);
    for c in "seren".chars() {
        key(&mut app, Action::Type(c));
    }
    let buf = draw(&mut app, 100, 12);
    assert!(line(&buf, 11).starts_with("/seren_"), "{}", line(&buf, 11));
    assert!(
        line(&buf, 3).starts_with("ALERTS 1  filter \"seren\""),
        "{}",
        line(&buf, 3)
    );
    assert!(find(&buf, "problem c1").is_none());
    for c in "zzz".chars() {
        key(&mut app, Action::Type(c));
    }
    let buf = draw(&mut app, 100, 12);
    assert!(find(&buf, "No alert matches the filter.").is_some());
}

#[test]
fn prompts_ask_on_the_bottom_line_and_say_what_is_wrong() {
    let (mut app, now) = app(&["--user-token", "t"]);
    update(
        &mut app,
        snapshot(vec![alert("c1", "Kilimanjaro", Severity::Critical, 1)]),
        now,
    );
    key(&mut app, Action::Ack);
    for c in "on it".chars() {
        key(&mut app, Action::Type(c));
    }
    let buf = draw(&mut app, 100, 12);
    assert_eq!(
        line(&buf, 11).trim_end(),
        "Ack note (Enter for none): on it_"
    );
    key(&mut app, Action::Submit);
    key(&mut app, Action::Type('x'));
    key(&mut app, Action::Submit);
    let buf = draw(&mut app, 100, 12);
    let bottom = line(&buf, 11);
    assert!(
        bottom.starts_with("Ack expires in, e.g. 2h (Enter for never): x_"),
        "{bottom}"
    );
    assert!(bottom.contains("\"x\" is not a duration"), "{bottom}");

    // Without a user token: said at once, on the same line.
    let (mut viewer, now) = app_without_token();
    update(
        &mut viewer,
        snapshot(vec![alert("c1", "Kilimanjaro", Severity::Critical, 1)]),
        now,
    );
    key(&mut viewer, Action::Silence);
    let buf = draw(&mut viewer, 100, 12);
    assert!(
        line(&buf, 11).starts_with("a user token is needed to act"),
        "{}",
        line(&buf, 11)
    );
}

fn app_without_token() -> (App, crate::app::Now) {
    app(&[])
}

#[test]
fn the_profile_title_heads_the_screen_and_identify_fills_it() {
    let (mut app, now) = app(&[]);
    let profile = Profile {
        title: Some("Tanzania NOC".into()),
        ..Profile::default()
    };
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Profile {
            profile: Some(profile),
        })),
        now,
    );
    let buf = draw(&mut app, 100, 12);
    assert!(
        line(&buf, 0).starts_with("Tanzania NOC (wall-1)"),
        "{}",
        line(&buf, 0)
    );
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Identify)),
        now,
    );
    let buf = draw(&mut app, 100, 12);
    assert!(
        find(&buf, "W A L L - 1").is_some(),
        "{}",
        lines(&buf).join("\n")
    );
    assert!(find(&buf, "this screen is wall-1").is_some());
    assert!(
        find(&buf, "ALERTS").is_none(),
        "the name covers the whole screen"
    );
    assert_16_colours_only(&buf);
}

/// The details screen of `docs/tui-details.txt`.
fn details_screen() -> (App, ratatui::buffer::Buffer) {
    let (mut app, now) = app(&["--user-token", "t"]);
    let mut a = alert("zbx-48213", "Kilimanjaro", Severity::Critical, 40);
    a.message = "Core switch sw-01 unreachable".into();
    a.host = Some("sw-01.kili".into());
    a.source = "zabbix-dc1".into();
    a.description = Some("Interface Gi0/1 down since 19:39; 120 customers behind it".into());
    a.url = Some("https://zabbix.dc1.example/tr_events.php?triggerid=1771&eventid=48213".into());
    a.labels = BTreeMap::from([
        ("team".to_owned(), "core".to_owned()),
        ("zabbix.eventid".to_owned(), "48213".to_owned()),
    ]);
    a.occurrences = 3;
    a.acked_by = Some("irene@sprinttz.example".into());
    a.acked_at = Some(a.created_at + chrono::Duration::minutes(5));
    a.ack_note = Some("on it".into());
    a.notes = 1;
    update(&mut app, snapshot(vec![a.clone()]), now);
    key(&mut app, Action::Open);
    let step = |seq, event, minutes, by: &str, note: Option<&str>| HistoryEntry {
        seq,
        event,
        at: a.created_at + chrono::Duration::minutes(minutes),
        by: by.into(),
        note: note.map(str::to_owned),
        changes: BTreeMap::new(),
        reason: None,
    };
    let mut acked = step(
        42,
        EventKind::Acknowledged,
        5,
        "irene@sprinttz.example",
        Some("on it"),
    );
    acked.changes.insert(
        "acked_by".into(),
        (serde_json::Value::Null, "irene@sprinttz.example".into()),
    );
    let history = vec![
        step(41, EventKind::Created, 0, "zabbix-dc1", None),
        acked,
        step(
            43,
            EventKind::Noted,
            9,
            "irene@sprinttz.example",
            Some("fibre cut at km 12, crew sent"),
        ),
    ];
    let reply = Reply::History {
        id: a.id.clone(),
        result: Ok(history),
    };
    update(&mut app, Msg::Api(reply), now);
    let buf = draw(&mut app, 100, 50);
    (app, buf)
}

#[test]
fn details_show_every_field_the_link_labels_notes_and_history() {
    let (_, buf) = details_screen();
    assert_16_colours_only(&buf);
    let text = lines(&buf).join("\n");
    for want in [
        " zbx-48213 — Esc closes ",
        "     message  Core switch sw-01 unreachable",
        "        link  https://zabbix.dc1.example/tr_events.php?triggerid=1771&eventid=48213",
        " occurrences  3",
        "    acked by  irene@sprinttz.example",
        "    ack note  on it",
        "Interface Gi0/1 down since 19:39; 120 customers behind it",
        "team=core",
        "zabbix.eventid=48213",
        "NOTES 1",
        "irene@sprinttz.example: fibre cut at km 12, crew sent",
        "HISTORY 3",
        "alert.acknowledged  by irene@sprinttz.example  note: on it  acked_by: null →",
        "Esc close  Up/Down scroll  a ack  u unack  n note  s silence  q quit",
    ] {
        assert!(text.contains(want), "{want}\n{text}");
    }
}

#[test]
fn the_details_screenshot_in_the_docs_is_this_screen() {
    let (_, buf) = details_screen();
    let screen: String = lines(&buf)
        .iter()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tui-details.txt");
    if std::env::var_os("NOC_WRITE_DOCS").is_some() {
        std::fs::write(path, &screen).expect("write the screenshot");
    }
    let docs =
        std::fs::read_to_string(path).expect("docs/tui-details.txt (NOC_WRITE_DOCS=1 writes it)");
    assert_eq!(
        docs, screen,
        "docs/tui-details.txt is out of date: NOC_WRITE_DOCS=1 rewrites it"
    );
}
