//! The model's part-two behaviour: the selection that follows its alert,
//! the `/` filter, what Esc closes, silenced alerts, the profile, identify
//! and the bell's pace.

use std::time::Duration;

use noc_shared::{Bell, EventKind, Profile, ProfileView, ServerMessage, Severity};

use super::{act, alert, config, event, ids, snapshot, t0};
use crate::app::{Action, App, BELL_EVERY, IDENTIFY_FOR, Mode, Msg, View, update};
use crate::net::NetEvent;

fn sample() -> App {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        snapshot(vec![
            alert("c1", "Kilimanjaro", Severity::Critical, 1),
            alert("h1", "Kampala", Severity::High, 2),
            alert("w1", "Serengeti", Severity::Warning, 3),
            alert("i1", "Kampala", Severity::Info, 4),
        ]),
        now,
    );
    app
}

fn selected(app: &App) -> Option<String> {
    app.selected_alert().map(|a| a.id.clone())
}

#[test]
fn the_selection_follows_its_alert_not_its_row() {
    let mut app = sample();
    let now = t0();
    assert_eq!(selected(&app).as_deref(), Some("c1"), "first row at start");
    update(&mut app, act(Action::RowDown), now);
    update(&mut app, act(Action::RowDown), now);
    assert_eq!(selected(&app).as_deref(), Some("w1"));
    // A new critical alert comes in above: the rows move, the selection
    // stays on w1.
    update(
        &mut app,
        event(
            EventKind::Created,
            alert("c0", "Arusha", Severity::Critical, 9),
        ),
        now,
    );
    assert_eq!(ids(&app), ["c0", "c1", "h1", "w1", "i1"]);
    assert_eq!(selected(&app).as_deref(), Some("w1"));
    assert_eq!(app.selected_index(), Some(3));
    // It escalates and moves up: still selected.
    update(
        &mut app,
        event(
            EventKind::Updated,
            alert("w1", "Serengeti", Severity::High, 3),
        ),
        now,
    );
    assert_eq!(selected(&app).as_deref(), Some("w1"));
    assert_eq!(app.selected_index(), Some(2));
    update(
        &mut app,
        event(
            EventKind::Updated,
            alert("w1", "Serengeti", Severity::Warning, 3),
        ),
        now,
    );
    // A whole new snapshot keeps it too.
    let alerts: Vec<_> = app.alerts.iter().cloned().collect();
    update(&mut app, snapshot(alerts), now);
    assert_eq!(selected(&app).as_deref(), Some("w1"));
    // When it resolves, the selection stays on its row, now the next alert.
    let mut gone = alert("w1", "Serengeti", Severity::Warning, 3);
    gone.status = noc_shared::Status::Resolved;
    update(&mut app, event(EventKind::Resolved, gone), now);
    assert_eq!(selected(&app).as_deref(), Some("i1"));
    // And the moves go on from there.
    update(&mut app, act(Action::RowUp), now);
    assert_eq!(selected(&app).as_deref(), Some("h1"));
    update(&mut app, act(Action::Last), now);
    assert_eq!(selected(&app).as_deref(), Some("i1"));
    update(&mut app, act(Action::First), now);
    assert_eq!(selected(&app).as_deref(), Some("c0"));
}

#[test]
fn the_selection_is_kept_on_the_page_as_events_move_it() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        Msg::Resize {
            width: 80,
            height: 10,
        },
        now,
    );
    let page = app.page_rows();
    let alerts = (0..20)
        .map(|i| alert(&format!("a{i:02}"), "S", Severity::Info, i))
        .collect();
    update(&mut app, snapshot(alerts), now);
    update(&mut app, act(Action::Last), now);
    let last = selected(&app);
    assert_eq!(app.first_row(20), 20 - page);
    // Ten alerts above it: it is the last row still, and still on the page.
    for i in 0..10 {
        update(
            &mut app,
            event(
                EventKind::Created,
                alert(&format!("n{i}"), "S", Severity::High, i),
            ),
            now,
        );
    }
    assert_eq!(selected(&app), last);
    let at = app.selected_index().expect("a selection");
    let first = app.first_row(app.visible_count());
    assert!(first <= at && at < first + page, "{first} {at} {page}");
}

#[test]
fn the_filter_narrows_as_you_type_and_esc_clears_it() {
    let mut app = sample();
    let now = t0();
    update(&mut app, act(Action::Filter), now);
    assert_eq!(app.mode, Mode::Filter);
    for c in "KAMP".chars() {
        update(&mut app, act(Action::Type(c)), now);
    }
    assert_eq!(ids(&app), ["h1", "i1"], "site, whatever the case");
    assert_eq!(app.counts(), [0, 1, 0, 0, 1]);
    update(&mut app, act(Action::Erase), now);
    update(&mut app, act(Action::Erase), now);
    update(&mut app, act(Action::Erase), now);
    update(&mut app, act(Action::Erase), now);
    for c in "host-w".chars() {
        update(&mut app, act(Action::Type(c)), now);
    }
    assert_eq!(ids(&app), ["w1"], "host");
    // Enter keeps it and gives the keys back to the list.
    update(&mut app, act(Action::Submit), now);
    assert_eq!(app.mode, Mode::Browse);
    assert_eq!(ids(&app), ["w1"]);
    // Esc on the list clears the filter first, and does not quit.
    update(&mut app, act(Action::Back), now);
    assert!(!app.quit);
    assert_eq!(ids(&app).len(), 4);
    // The message is searched too; Esc while typing clears it.
    update(&mut app, act(Action::Filter), now);
    for c in "problem i1".chars() {
        update(&mut app, act(Action::Type(c)), now);
    }
    assert_eq!(ids(&app), ["i1"]);
    update(&mut app, act(Action::Close), now);
    assert_eq!((app.mode, ids(&app).len()), (Mode::Browse, 4));
    assert!(!app.quit);
    update(&mut app, act(Action::Back), now);
    assert!(app.quit, "Esc on the bare list quits");
}

#[test]
fn esc_closes_help_details_and_prompts_without_quitting() {
    let mut app = sample();
    let now = t0();
    update(&mut app, act(Action::Help), now);
    update(&mut app, act(Action::Back), now);
    assert_eq!((app.mode, app.quit), (Mode::Browse, false));
    update(&mut app, act(Action::Open), now);
    assert_eq!(app.mode, Mode::Details);
    update(&mut app, act(Action::Close), now);
    assert_eq!((app.mode, app.quit), (Mode::Browse, false));
    assert!(app.details.is_none());
    update(&mut app, act(Action::Quit), now);
    assert!(app.quit, "q quits from anywhere but a text field");
}

#[test]
fn silenced_alerts_are_hidden_unless_asked_and_always_counted() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    let mut s1 = alert("s1", "Kampala", Severity::Critical, 1);
    s1.silenced_by = Some("sil-1".into());
    let mut both = alert("b1", "Kampala", Severity::Critical, 2);
    both.silenced_by = Some("sil-1".into());
    both.acked_at = Some(now.wall);
    let mut acked = alert("a1", "Kampala", Severity::High, 3);
    acked.acked_at = Some(now.wall);
    let plain = alert("p1", "Kampala", Severity::High, 4);
    update(&mut app, snapshot(vec![s1, both, acked, plain]), now);
    assert_eq!(ids(&app), ["p1", "a1"]);
    assert_eq!(app.silenced_count(), 2);
    assert_eq!(app.counts(), [0, 2, 0, 0, 0]);
    update(&mut app, act(Action::ToggleSilenced), now);
    assert_eq!(ids(&app), ["b1", "s1", "p1", "a1"]);
    assert_eq!(app.counts(), [2, 2, 0, 0, 0]);
    // Both hidden: the alert both acked and silenced is taken off once.
    update(&mut app, act(Action::ToggleSilenced), now);
    update(&mut app, act(Action::ToggleAcked), now);
    assert_eq!(ids(&app), ["p1"]);
    assert_eq!(app.counts(), [0, 1, 0, 0, 0]);
    assert_eq!(app.hidden_acked(), 1);
    // A silence that starts hides the alert; one that ends brings it back.
    let mut p1 = alert("p1", "Kampala", Severity::High, 4);
    p1.silenced_by = Some("sil-2".into());
    update(&mut app, event(EventKind::Updated, p1.clone()), now);
    assert!(ids(&app).is_empty());
    assert_eq!(app.silenced_count(), 3);
    p1.silenced_by = None;
    update(&mut app, event(EventKind::Updated, p1), now);
    assert_eq!(ids(&app), ["p1"]);
}

fn profile_snapshot(profile: Option<Profile>) -> Msg {
    let Msg::Net(NetEvent::Message(ServerMessage::Snapshot(mut s))) =
        snapshot(vec![alert("c1", "Kilimanjaro", Severity::Critical, 1)])
    else {
        unreachable!("snapshot() builds a snapshot")
    };
    s.profile = profile;
    Msg::Net(NetEvent::Message(ServerMessage::Snapshot(s)))
}

#[test]
fn the_profile_sets_view_switches_bell_and_title_once() {
    let now = t0();
    let mut app = App::new(&config(&["--bell", "high"]), now);
    let profile = Profile {
        title: Some("Tanzania NOC".into()),
        view: Some(ProfileView::Board),
        hide_acked: Some(true),
        show_silenced: Some(true),
        bell: Some(Bell::At(Severity::Critical)),
        ..Profile::default()
    };
    update(&mut app, profile_snapshot(Some(profile.clone())), now);
    assert_eq!(app.title(), Some("Tanzania NOC"));
    assert_eq!(app.view, View::Sites);
    assert!(!app.show_acked && app.show_silenced);
    assert_eq!(app.bell, Some(Severity::Critical));
    // The operator's own switch holds over a snapshot with the same profile.
    update(&mut app, act(Action::ToggleAcked), now);
    update(&mut app, profile_snapshot(Some(profile)), now);
    assert!(app.show_acked);
    // The profile removed: the screen's own settings are back.
    let removed = Msg::Net(NetEvent::Message(ServerMessage::Profile { profile: None }));
    update(&mut app, removed, now);
    assert_eq!(app.title(), None);
    assert_eq!(app.view, View::Alerts);
    assert!(app.show_acked && !app.show_silenced);
    assert_eq!(app.bell, Some(Severity::High));
}

#[test]
fn rotate_switches_views_on_the_clock() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    let profile = Profile {
        view: Some(ProfileView::Rotate),
        rotate: Some("20s".into()),
        ..Profile::default()
    };
    let msg = Msg::Net(NetEvent::Message(ServerMessage::Profile {
        profile: Some(profile),
    }));
    update(&mut app, msg, now);
    assert_eq!(app.view, View::Alerts);
    update(&mut app, Msg::Tick, now.plus(Duration::from_secs(19)));
    assert_eq!(app.view, View::Alerts);
    update(&mut app, Msg::Tick, now.plus(Duration::from_secs(20)));
    assert_eq!(app.view, View::Sites);
    update(&mut app, Msg::Tick, now.plus(Duration::from_secs(40)));
    assert_eq!(app.view, View::Alerts);
}

#[test]
fn identify_shows_the_name_for_ten_seconds() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Identify)),
        now,
    );
    assert!(app.identifying());
    update(
        &mut app,
        Msg::Tick,
        now.plus(IDENTIFY_FOR - Duration::from_millis(1)),
    );
    assert!(app.identifying());
    update(&mut app, Msg::Tick, now.plus(IDENTIFY_FOR));
    assert!(!app.identifying());
    // Esc takes the name away early, and does not quit.
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Identify)),
        now,
    );
    update(&mut app, act(Action::Back), now);
    assert!(!app.identifying() && !app.quit);
    update(&mut app, act(Action::Back), now);
    assert!(app.quit);
}

#[test]
fn the_bell_rings_at_most_once_in_five_seconds() {
    let now = t0();
    let mut app = App::new(&config(&["--bell", "high"]), now);
    update(&mut app, snapshot(vec![]), now);
    let ring = |app: &mut App, id: &str, severity, at| {
        update(
            app,
            event(EventKind::Created, alert(id, "S", severity, 1)),
            at,
        )
        .bell
    };
    assert!(ring(&mut app, "x1", Severity::Critical, now));
    assert!(!ring(
        &mut app,
        "x2",
        Severity::Critical,
        now.plus(Duration::from_secs(1))
    ));
    assert!(
        !ring(&mut app, "x3", Severity::Warning, now.plus(BELL_EVERY)),
        "below the bell"
    );
    assert!(ring(&mut app, "x4", Severity::High, now.plus(BELL_EVERY)));
    // A silenced alert is hidden, so it does not ring either.
    let mut quiet = alert("x5", "S", Severity::Critical, 1);
    quiet.silenced_by = Some("sil".into());
    let fx = update(
        &mut app,
        event(EventKind::Created, quiet),
        now.plus(BELL_EVERY * 3),
    );
    assert!(!fx.bell);
}

#[test]
fn a_silent_source_takes_a_banner_row_from_the_page() {
    let now = t0();
    let mut app = App::new(&config(&[]), now);
    update(
        &mut app,
        Msg::Resize {
            width: 80,
            height: 24,
        },
        now,
    );
    let before = app.page_rows();
    let silent = noc_shared::Alert::new(
        "source-silent-zabbix-dc1",
        "*",
        Severity::Critical,
        "No word from zabbix-dc1 for 7m (heartbeat every 5m)",
        "noc-server",
        now.wall,
    );
    update(&mut app, snapshot(vec![silent]), now);
    assert_eq!(app.banner_rows(), 1);
    assert_eq!(app.page_rows(), before - 1);
    assert_eq!(app.silent_sources().count(), 1);
}
