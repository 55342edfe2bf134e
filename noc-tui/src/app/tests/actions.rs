//! The operator's actions in the model: what the keys ask, the prompts,
//! the requests they end in, the replies in words, and the details pane's
//! history kept fresh.

use noc_shared::{EventKind, HistoryEntry, Severity};

use super::{act, alert, config, event, snapshot, t0};
use crate::api::{Reply, Request, SilenceScope};
use crate::app::{Action, App, Effects, Fetch, Mode, update};

/// A screen with a user token and two alerts, the second without a host.
fn screen(args: &[&str]) -> App {
    let now = t0();
    let mut app = App::new(&config(args), now);
    let mut bare = alert("b1", "Kampala", Severity::High, 2);
    bare.host = None;
    update(
        &mut app,
        snapshot(vec![
            alert("c1", "Kilimanjaro", Severity::Critical, 1),
            bare,
        ]),
        now,
    );
    app
}

fn acting() -> App {
    screen(&["--user-token", "s3cret"])
}

fn key(app: &mut App, action: Action) -> Effects {
    update(app, act(action), t0())
}

fn type_in(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, Action::Type(c));
    }
}

fn status(app: &App) -> String {
    app.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

#[test]
fn without_a_user_token_the_action_keys_say_so_and_ask_nothing() {
    let mut app = screen(&["--token", "viewer"]);
    for action in [Action::Ack, Action::Unack, Action::Note, Action::Silence] {
        app.status = None;
        let fx = key(&mut app, action);
        assert_eq!(app.mode, Mode::Browse, "{action:?}");
        assert!(app.prompt.is_none());
        assert!(fx.requests.is_empty());
        assert!(status(&app).contains("--user-token"), "{}", status(&app));
        assert!(app.status.as_ref().is_some_and(|s| s.error));
    }
}

#[test]
fn ack_asks_a_note_then_an_expiry_and_sends_after_the_second() {
    let mut app = acting();
    key(&mut app, Action::Ack);
    assert_eq!(app.mode, Mode::Prompt);
    let prompt = app.prompt.as_ref().expect("a prompt");
    assert!(prompt.question().starts_with("Ack note"));
    type_in(&mut app, "on it");
    assert!(key(&mut app, Action::Submit).requests.is_empty());
    assert!(
        app.prompt
            .as_ref()
            .expect("still asking")
            .question()
            .starts_with("Ack expires in")
    );
    type_in(&mut app, "2 fortnights");
    assert!(key(&mut app, Action::Submit).requests.is_empty());
    let error = app.prompt.as_ref().and_then(|p| p.error.clone());
    assert!(error.is_some_and(|e| e.contains("not a duration")));
    for _ in 0.."2 fortnights".len() {
        key(&mut app, Action::Erase);
    }
    type_in(&mut app, "2h");
    let fx = key(&mut app, Action::Submit);
    assert_eq!(
        fx.requests,
        [Request::Ack {
            id: "c1".into(),
            note: Some("on it".into()),
            expires_in: Some("2h".into()),
        }]
    );
    assert_eq!(app.mode, Mode::Browse);
    assert!(status(&app).contains("sending the ack of c1"));
    // Two empty answers: an ack with neither.
    key(&mut app, Action::Ack);
    key(&mut app, Action::Submit);
    let fx = key(&mut app, Action::Submit);
    assert_eq!(
        fx.requests,
        [Request::Ack {
            id: "c1".into(),
            note: None,
            expires_in: None,
        }]
    );
}

#[test]
fn unack_sends_at_once_and_note_asks_its_text() {
    let mut app = acting();
    key(&mut app, Action::RowDown);
    let fx = key(&mut app, Action::Unack);
    assert_eq!(fx.requests, [Request::Unack { id: "b1".into() }]);
    key(&mut app, Action::Note);
    assert!(
        key(&mut app, Action::Submit).requests.is_empty(),
        "an empty note is not sent"
    );
    type_in(&mut app, "fibre cut, crew on site");
    let fx = key(&mut app, Action::Submit);
    assert_eq!(
        fx.requests,
        [Request::Note {
            id: "b1".into(),
            text: "fibre cut, crew on site".into(),
        }]
    );
    // Esc cancels a prompt and sends nothing.
    key(&mut app, Action::Note);
    type_in(&mut app, "never mind");
    let fx = key(&mut app, Action::Close);
    assert!(fx.requests.is_empty());
    assert_eq!((app.mode, app.quit), (Mode::Browse, false));
}

#[test]
fn silence_asks_host_or_site_then_duration_then_comment() {
    let mut app = acting();
    key(&mut app, Action::RowDown); // b1 has no host
    key(&mut app, Action::Silence);
    type_in(&mut app, "h");
    key(&mut app, Action::Submit);
    assert!(
        app.prompt
            .as_ref()
            .and_then(|p| p.error.clone())
            .is_some_and(|e| e.contains("no host"))
    );
    key(&mut app, Action::Erase);
    type_in(&mut app, "s");
    key(&mut app, Action::Submit);
    key(&mut app, Action::Submit);
    assert!(
        app.prompt
            .as_ref()
            .and_then(|p| p.error.clone())
            .is_some_and(|e| e.contains("duration"))
    );
    type_in(&mut app, "30m");
    key(&mut app, Action::Submit);
    assert!(
        key(&mut app, Action::Submit).requests.is_empty(),
        "a comment is required"
    );
    type_in(&mut app, "planned works");
    let fx = key(&mut app, Action::Submit);
    assert_eq!(
        fx.requests,
        [Request::Silence {
            id: "b1".into(),
            scope: SilenceScope::Site,
            value: "Kampala".into(),
            duration: "30m".into(),
            comment: "planned works".into(),
        }]
    );
    // The host of an alert that has one.
    key(&mut app, Action::First);
    key(&mut app, Action::Silence);
    for answer in ["host", "2h", "reboot"] {
        type_in(&mut app, answer);
        let fx = key(&mut app, Action::Submit);
        if answer == "reboot" {
            assert!(matches!(
                &fx.requests[..],
                [Request::Silence { scope: SilenceScope::Host, value, .. }] if value == "host-c1"
            ));
        }
    }
}

#[test]
fn replies_are_put_in_words_and_failures_stay_longer() {
    let mut app = acting();
    let request = Request::Unack { id: "c1".into() };
    update(
        &mut app,
        crate::app::Msg::Api(Reply::Done {
            request: request.clone(),
            result: Ok(()),
        }),
        t0(),
    );
    assert_eq!(status(&app), "done: unack of c1");
    update(
        &mut app,
        crate::app::Msg::Api(Reply::Done {
            request,
            result: Err("this token may only view, not act (403): forbidden".into()),
        }),
        t0(),
    );
    assert_eq!(
        status(&app),
        "unack of c1 failed: this token may only view, not act (403): forbidden"
    );
    let until = app.status.as_ref().map(|s| s.until).expect("a status");
    update(
        &mut app,
        crate::app::Msg::Tick,
        t0().plus(std::time::Duration::from_secs(29)),
    );
    assert!(app.status.is_some(), "a failure is not gone in a blink");
    update(
        &mut app,
        crate::app::Msg::Tick,
        crate::app::Now {
            instant: until,
            ..t0()
        },
    );
    assert!(app.status.is_none());
}

fn entry(seq: u64, event: EventKind, note: Option<&str>) -> HistoryEntry {
    HistoryEntry {
        seq,
        event,
        at: t0().wall,
        by: "irene@sprinttz.example".into(),
        note: note.map(str::to_owned),
        changes: Default::default(),
        reason: None,
    }
}

#[test]
fn details_fetch_the_history_and_fetch_it_again_on_each_event() {
    let mut app = acting();
    let fx = key(&mut app, Action::Open);
    assert_eq!(app.mode, Mode::Details);
    assert_eq!(fx.requests, [Request::History { id: "c1".into() }]);
    let details = app.details.as_ref().expect("open");
    assert_eq!(details.history, Fetch::Loading);
    // An event while the fetch is out: one more fetch, after it answers.
    let mut acked = alert("c1", "Kilimanjaro", Severity::Critical, 1);
    acked.acked_by = Some("irene@sprinttz.example".into());
    acked.acked_at = Some(t0().wall);
    let fx = update(&mut app, event(EventKind::Acknowledged, acked), t0());
    assert!(fx.requests.is_empty());
    assert!(
        app.details.as_ref().is_some_and(|d| d.alert.is_acked()),
        "fields live"
    );
    let reply = Reply::History {
        id: "c1".into(),
        result: Ok(vec![entry(1, EventKind::Created, None)]),
    };
    let fx = update(&mut app, crate::app::Msg::Api(reply), t0());
    assert_eq!(fx.requests, [Request::History { id: "c1".into() }]);
    let reply = Reply::History {
        id: "c1".into(),
        result: Ok(vec![
            entry(1, EventKind::Created, None),
            entry(2, EventKind::Acknowledged, Some("on it")),
        ]),
    };
    let fx = update(&mut app, crate::app::Msg::Api(reply), t0());
    assert!(fx.requests.is_empty(), "nothing owed");
    assert!(
        matches!(&app.details.as_ref().expect("open").history, Fetch::Loaded(e) if e.len() == 2)
    );
    // A later event fetches at once; an event for another alert does not.
    let fx = update(
        &mut app,
        event(
            EventKind::Noted,
            alert("c1", "Kilimanjaro", Severity::Critical, 1),
        ),
        t0(),
    );
    assert_eq!(fx.requests, [Request::History { id: "c1".into() }]);
    let fx = update(
        &mut app,
        event(EventKind::Noted, alert("b1", "Kampala", Severity::High, 2)),
        t0(),
    );
    assert!(fx.requests.is_empty());
    // A failed fetch is said in the pane; a reply for a closed pane is dropped.
    let reply = Reply::History {
        id: "c1".into(),
        result: Err("cannot reach the server".into()),
    };
    update(&mut app, crate::app::Msg::Api(reply), t0());
    assert!(matches!(
        &app.details.as_ref().expect("open").history,
        Fetch::Failed(_)
    ));
    // Actions from the details act on its alert, and return to it.
    key(&mut app, Action::Note);
    type_in(&mut app, "seen");
    let fx = key(&mut app, Action::Submit);
    assert_eq!(
        fx.requests,
        [Request::Note {
            id: "c1".into(),
            text: "seen".into()
        }]
    );
    assert_eq!(app.mode, Mode::Details);
    key(&mut app, Action::Close);
    assert!(app.details.is_none());
}
