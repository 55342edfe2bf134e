//! Rendering tests on ratatui's `TestBackend`: what a wall would show, cell
//! by cell, at a fixed size and a fixed clock.

use std::time::Duration;

use noc_shared::{EventKind, Severity};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use crate::app::tests::{alert, config, event, snapshot, t0};
use crate::app::{Action, App, Mode, Msg, Now, Zone, update};
use crate::net::NetEvent;

/// A connected screen at the fixed test clock, times in UTC.
fn app(args: &[&str]) -> (App, Now) {
    let now = t0();
    let mut app = App::new(&config(args), now);
    app.zone = Zone::Utc;
    update(
        &mut app,
        Msg::Net(NetEvent::Connected {
            url: "ws://noc.example:8080/ws/alerts".into(),
        }),
        now,
    );
    (app, now)
}

fn sample_alerts() -> Vec<noc_shared::Alert> {
    vec![
        alert("i1", "Kampala", Severity::Info, 10),
        alert("c1", "Kilimanjaro", Severity::Critical, 1),
        alert("w1", "Serengeti", Severity::Warning, 30),
        alert("h1", "Entebbe", Severity::High, 20),
        alert("a1", "Dar es Salaam", Severity::Average, 40),
        alert("c2", "Serengeti", Severity::Critical, 5),
    ]
}

fn draw(app: &mut App, width: u16, height: u16) -> Buffer {
    let now = app.now;
    update(app, Msg::Resize { width, height }, now);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal
        .draw(|frame| frame.render_widget(&*app, frame.area()))
        .expect("draw");
    terminal.backend().buffer().clone()
}

fn line(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol())
        .collect::<String>()
}

fn lines(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height).map(|y| line(buf, y)).collect()
}

/// The row holding `needle`, and the column where it starts.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    lines(buf).iter().enumerate().find_map(|(y, l)| {
        l.find(needle).map(|byte| {
            let x = l[..byte].chars().count();
            (x as u16, y as u16)
        })
    })
}

fn assert_16_colours_only(buf: &Buffer) {
    for cell in buf.content() {
        for color in [cell.fg, cell.bg] {
            assert!(
                !matches!(color, Color::Rgb(..) | Color::Indexed(16..)),
                "colour outside the 16 ANSI ones: {color:?}"
            );
        }
    }
}

#[test]
fn whole_screen_at_100_by_14() {
    let (mut app, now) = app(&["--sites", "Kilimanjaro,Serengeti"]);
    update(&mut app, snapshot(sample_alerts()), now);
    update(
        &mut app,
        Msg::Net(NetEvent::Message(noc_shared::ServerMessage::Heartbeat {
            ts: 0,
        })),
        now,
    );
    let later = now.plus(Duration::from_secs(3));
    update(&mut app, Msg::Tick, later);
    let buf = draw(&mut app, 100, 14);
    let want = [
        "NOC wall-1  ws://noc.example:8080/ws/alerts  sites: Kilimanjaro,Serengeti        2026-11-28 21:05:12",
        "CONNECTED since 21:05:09 · heartbeat 3s ago                                                         ",
        " CRITICAL 2   HIGH 1   AVERAGE 1   WARNING 1   INFO 1  total 6  SILENCED 0                          ",
        "ALERTS 6                                                                                            ",
        "  TIME        AGE    SEVERITY SITE             HOST               MESSAGE                           ",
        "> 20:05:00    1h0m   CRITICAL Serengeti        host-c2            critical problem c2               ",
        "  20:01:00    1h4m   CRITICAL Kilimanjaro      host-c1            critical problem c1               ",
        "  20:20:00    45m    HIGH     Entebbe          host-h1            high problem h1                   ",
        "  20:40:00    25m    AVERAGE  Dar es Salaam    host-a1            average problem a1                ",
        "  20:30:00    35m    WARNING  Serengeti        host-w1            warning problem w1                ",
        "  20:10:00    55m    INFO     Kampala          host-i1            info problem i1                   ",
        "                                                                                                    ",
        "                                                                                                    ",
        "q quit  ? keys  v board  Enter open  a ack  u unack  n note  s silence  / filter  h/z acked/silenced",
    ];
    assert_eq!(lines(&buf), want);
    assert_16_colours_only(&buf);
}

#[test]
fn alerts_are_ordered_most_severe_then_newest() {
    let (mut app, now) = app(&[]);
    update(&mut app, snapshot(sample_alerts()), now);
    let buf = draw(&mut app, 100, 20);
    let rows: Vec<u16> = ["c2", "c1", "h1", "a1", "w1", "i1"]
        .iter()
        .map(|id| find(&buf, &format!("problem {id}")).expect(id).1)
        .collect();
    let mut sorted = rows.clone();
    sorted.sort_unstable();
    assert_eq!(rows, sorted, "rows in display order");
}

#[test]
fn colours_follow_severity() {
    let (mut app, now) = app(&[]);
    update(&mut app, snapshot(sample_alerts()), now);
    let buf = draw(&mut app, 100, 20);
    let cases = [
        ("CRITICAL Serengeti", Color::White, Color::Red, true),
        ("HIGH     Entebbe", Color::LightRed, Color::Reset, true),
        ("AVERAGE  Dar", Color::Yellow, Color::Reset, false),
        (
            "WARNING  Serengeti",
            Color::LightYellow,
            Color::Reset,
            false,
        ),
        ("INFO     Kampala", Color::Cyan, Color::Reset, false),
    ];
    for (needle, fg, bg, bold) in cases {
        let (x, y) = find(&buf, needle).expect(needle);
        // The whole row carries the style, message included.
        for x in [x, x + 20, buf.area.width - 1] {
            let cell = &buf[(x, y)];
            assert_eq!((cell.fg, cell.bg), (fg, bg), "{needle} at x={x}");
            assert_eq!(cell.modifier.contains(Modifier::BOLD), bold, "{needle}");
        }
    }
    // Counts row: a critical badge is white on red; zero counts stay plain.
    let (x, y) = find(&buf, "CRITICAL 2").expect("critical badge");
    assert_eq!((buf[(x, y)].fg, buf[(x, y)].bg), (Color::White, Color::Red));
    assert_16_colours_only(&buf);
}

#[test]
fn no_color_means_no_colour_but_critical_still_stands_out() {
    let (mut app, now) = app(&[]);
    app.color = false;
    update(&mut app, snapshot(sample_alerts()), now);
    update(
        &mut app,
        Msg::Net(NetEvent::Disconnected {
            url: "ws://noc.example:8080/ws/alerts".into(),
            reason: "Connection refused".into(),
            retry_in: Duration::from_secs(4),
        }),
        now,
    );
    let buf = draw(&mut app, 100, 20);
    for cell in buf.content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset));
    }
    let (x, y) = find(&buf, "CRITICAL Serengeti").expect("critical row");
    let modifier = buf[(x, y)].modifier;
    assert!(modifier.contains(Modifier::BOLD | Modifier::REVERSED));
    let (x, y) = find(&buf, "DISCONNECTED").expect("banner");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn disconnected_state_is_said_in_plain_words_and_alerts_stay_marked_stale() {
    let (mut app, now) = app(&[]);
    update(&mut app, snapshot(sample_alerts()), now);
    update(
        &mut app,
        Msg::Net(NetEvent::Disconnected {
            url: "ws://noc.example:8080/ws/alerts".into(),
            reason: "Connection refused (os error 111)".into(),
            retry_in: Duration::from_secs(4),
        }),
        now,
    );
    let buf = draw(&mut app, 100, 20);
    assert!(
        line(&buf, 1).starts_with(
            " DISCONNECTED — retrying in 4s (at 21:05:13)  Connection refused (os error 111)"
        ),
        "{}",
        line(&buf, 1)
    );
    assert!(
        line(&buf, 3).contains("STALE: link down"),
        "{}",
        line(&buf, 3)
    );
    let (x, y) = find(&buf, "critical problem c2").expect("alerts kept");
    assert!(buf[(x, y)].modifier.contains(Modifier::DIM));

    // A second later the countdown has moved on.
    update(&mut app, Msg::Tick, now.plus(Duration::from_millis(1500)));
    let buf = draw(&mut app, 100, 20);
    assert!(line(&buf, 1).contains("retrying in 3s (at 21:05:13)"));
    update(&mut app, Msg::Tick, now.plus(Duration::from_secs(5)));
    let buf = draw(&mut app, 100, 20);
    assert!(line(&buf, 1).contains("retrying now"));
}

#[test]
fn narrow_terminal_drops_columns_and_keeps_the_essentials() {
    let (mut app, now) = app(&[]);
    update(&mut app, snapshot(sample_alerts()), now);
    let buf = draw(&mut app, 40, 12);
    let text = lines(&buf);
    assert!(text[0].starts_with("NOC wall-1"), "{text:?}");
    assert!(text[1].starts_with("CONNECTED"), "{text:?}");
    assert!(text[2].starts_with(" CRIT 2"), "{text:?}");
    assert_eq!(text[4].trim_end(), "  AGE    SEV  SITE       MESSAGE");
    assert_eq!(
        text[5].trim_end(),
        "> 1h0m   CRIT Serengeti  critical proble"
    );
    assert!(text[8].starts_with("  25m    AVG  Dar es Sa~"), "{text:?}");
    // Still ordered, still coloured.
    assert_eq!(buf[(0, 5)].bg, Color::Red);

    let buf = draw(&mut app, 75, 12);
    assert_eq!(
        line(&buf, 4).trim_end(),
        "  TIME     AGE    SEVERITY SITE         MESSAGE"
    );
}

#[test]
fn tiny_and_resized_terminals_do_not_panic() {
    let (mut app, now) = app(&[]);
    update(&mut app, snapshot(sample_alerts()), now);
    for (w, h) in [(1, 1), (10, 3), (0, 0), (20, 6), (200, 60), (80, 24)] {
        draw(&mut app, w, h);
    }
    app.mode = Mode::Help;
    draw(&mut app, 12, 4);
}

#[test]
fn a_new_critical_alert_stands_out_then_settles() {
    let (mut app, now) = app(&[]);
    update(&mut app, snapshot(sample_alerts()), now);
    update(
        &mut app,
        event(
            EventKind::Created,
            alert("c9", "Kilimanjaro", Severity::Critical, 59),
        ),
        now,
    );
    let buf = draw(&mut app, 100, 20);
    let (x, y) = find(&buf, "NEW critical problem c9").expect("marked new");
    assert!(
        buf[(x, y)]
            .modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
    update(&mut app, Msg::Tick, now.plus(Duration::from_secs(6)));
    let buf = draw(&mut app, 100, 20);
    assert!(find(&buf, "NEW critical").is_none());
    let (x, y) = find(&buf, "critical problem c9").expect("still listed");
    assert!(!buf[(x, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn resolved_alerts_leave_the_list() {
    let (mut app, now) = app(&[]);
    update(&mut app, snapshot(sample_alerts()), now);
    let mut gone = alert("h1", "Entebbe", Severity::High, 20);
    gone.status = noc_shared::Status::Resolved;
    update(&mut app, event(EventKind::Resolved, gone), now);
    let buf = draw(&mut app, 100, 20);
    assert!(find(&buf, "problem h1").is_none());
    assert!(find(&buf, "ALERTS 5").is_some());
}

#[test]
fn site_board_shows_a_tile_or_row_per_site_with_counts_and_worst_alert() {
    let (mut app, now) = app(&[]);
    let mut alerts = sample_alerts();
    alerts.push(alert("w2", "serengeti", Severity::Warning, 31));
    let mut snap = match snapshot(alerts) {
        Msg::Net(NetEvent::Message(noc_shared::ServerMessage::Snapshot(s))) => s,
        _ => unreachable!("snapshot() builds a snapshot"),
    };
    snap.sites = Some(vec![
        "Kilimanjaro".into(),
        "Serengeti".into(),
        "Dar es Salaam".into(),
        "Kampala".into(),
        "Entebbe".into(),
        "Arusha".into(),
    ]);
    update(
        &mut app,
        Msg::Net(NetEvent::Message(noc_shared::ServerMessage::Snapshot(snap))),
        now,
    );
    update(&mut app, Msg::Action(Action::SwitchView), now);
    // Where two tiles fit across: a grid, worst sites first, each tile in
    // its worst alert's colours.
    let grid = draw(&mut app, 100, 16);
    let text = lines(&grid);
    assert!(text[3].starts_with("SITES 6  (5 with alerts)"), "{text:?}");
    let tiles: Vec<&str> = text[4..14].iter().map(|l| l.trim_end()).collect();
    assert_eq!(
        tiles,
        [
            "┌ Serengeti ─────────────┐┌ Kilimanjaro ───────────┐┌ Entebbe ───────────────┐",
            "│CRITICAL                ││CRITICAL                ││HIGH                    │",
            "│C1 H0 A0 W2 I0          ││C1 H0 A0 W0 I0          ││C0 H1 A0 W0 I0          │",
            "│critical problem c2     ││critical problem c1     ││high problem h1         │",
            "└────────────────────────┘└────────────────────────┘└────────────────────────┘",
            "┌ Dar es Salaam ─────────┐┌ Kampala ───────────────┐┌ Arusha ────────────────┐",
            "│AVERAGE                 ││INFO                    ││OK                      │",
            "│C0 H0 A1 W0 I0          ││C0 H0 A0 W0 I1          ││C0 H0 A0 W0 I0          │",
            "│average problem a1      ││info problem i1         ││                        │",
            "└────────────────────────┘└────────────────────────┘└────────────────────────┘",
        ]
    );
    assert_eq!(grid[(1, 5)].bg, Color::Red);
    assert_eq!(grid[(53, 5)].fg, Color::LightRed);
    assert_eq!(grid[(53, 10)].fg, Color::Green);
    assert!(text[15].contains("v list"));

    // Narrower: one row per site.
    let buf = draw(&mut app, 51, 16);
    let text = lines(&buf);
    assert_eq!(
        text[4].trim_end(),
        "SITE         CRIT HIGH AVG  WARN INFO WORST ALERT"
    );
    let rows: Vec<&str> = text[5..11].iter().map(|l| l.trim_end()).collect();
    assert_eq!(
        rows,
        [
            "Serengeti    1    -    -    2    -    CRIT critical",
            "Kilimanjaro  1    -    -    -    -    CRIT critical",
            "Entebbe      -    1    -    -    -    HIGH high pro",
            "Dar es Sala~ -    -    1    -    -    AVG average p",
            "Kampala      -    -    -    -    1    INFO info pro",
            "Arusha       -    -    -    -    -    OK",
        ]
    );
    assert_eq!(buf[(0, 5)].bg, Color::Red);
    assert_eq!(buf[(0, 10)].fg, Color::Green);
}

#[test]
fn hiding_acknowledged_alerts_changes_list_and_counts() {
    let (mut app, now) = app(&[]);
    let mut alerts = sample_alerts();
    alerts[1].acked_at = Some(now.wall);
    alerts[1].acked_by = Some("irene@example".into());
    update(&mut app, snapshot(alerts), now);
    let buf = draw(&mut app, 100, 20);
    assert!(find(&buf, "[ACK] irene critical problem c1").is_some());
    app.show_acked = false;
    let buf = draw(&mut app, 100, 20);
    assert!(find(&buf, "problem c1").is_none());
    assert!(line(&buf, 2).contains("CRITICAL 1"));
    assert!(line(&buf, 2).contains("(1 acked hidden)"));
}

#[test]
fn help_lists_the_keys() {
    let (mut app, _) = app(&[]);
    app.mode = Mode::Help;
    let buf = draw(&mut app, 80, 24);
    for key in [
        "q, Ctrl-C",
        "Esc",
        "PgUp/PgDn",
        "Enter",
        "site board",
        "acknowledge (asks a note, then an expiry)",
        "take the acknowledgement back",
        "add a note",
        "silence its host or site",
        "filter by site, host, message",
        "hide / show acknowledged",
        "hide / show silenced",
        "? ",
    ] {
        assert!(find(&buf, key).is_some(), "{key}");
    }
}

#[test]
fn alert_text_cannot_move_the_cursor() {
    let (mut app, now) = app(&[]);
    let mut evil = alert("x", "Site\u{1b}[2J", Severity::High, 1);
    evil.message = "line one\nline two\u{7}".into();
    update(&mut app, snapshot(vec![evil]), now);
    let buf = draw(&mut app, 100, 10);
    assert!(find(&buf, "line one line two").is_some());
    for cell in buf.content() {
        assert!(!cell.symbol().chars().any(char::is_control));
    }
}

#[test]
fn older_alerts_show_their_date() {
    let (mut app, now) = app(&[]);
    let mut old = alert("o", "Kampala", Severity::Info, 1);
    old.created_at -= chrono::Duration::days(2);
    update(&mut app, snapshot(vec![old]), now);
    let buf = draw(&mut app, 100, 10);
    assert!(
        line(&buf, 5).starts_with("> 11-26 20:01 2d1h   INFO"),
        "{}",
        line(&buf, 5)
    );
}

mod part_two;
