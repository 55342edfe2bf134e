//! The Alertmanager write-back client against a real Alertmanager: an ack
//! becomes a silence with one equality matcher per label, the person and
//! the note; deleting it expires it; a stopped Alertmanager is an error to
//! retry, never a success.

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use common::alertmanager::{Alertmanager, alertmanager_binary};
use common::skip_or_fail;
use noc_server::writeback::alertmanager::Alertmanager as Client;
use noc_server::writeback::{SendError, http_client};
use serde_json::{Value, json};

async fn silence(am: &Alertmanager, id: &str) -> Value {
    reqwest::get(format!("{}/api/v2/silence/{id}", am.base))
        .await
        .expect("GET silence")
        .json()
        .await
        .expect("a silence")
}

#[tokio::test]
async fn an_ack_is_a_silence_until_it_is_deleted() {
    let Some(binary) = alertmanager_binary() else {
        skip_or_fail(
            "NOC_REQUIRE_ALERTMANAGER",
            "Alertmanager (prometheus-alertmanager)",
        );
        return;
    };
    // Its own notifications go nowhere: only its API is used here.
    let am = Alertmanager::start(&binary, "http://127.0.0.1:9/").await;
    let client = Client::new(http_client(), &format!("{}/", am.base), None);
    let labels = BTreeMap::from([
        ("alertname".to_owned(), "LinkDown".to_owned()),
        ("instance".to_owned(), "rtr-01.kili:9116".to_owned()),
        ("site".to_owned(), "Kilimanjaro".to_owned()),
    ]);
    let expires = Utc::now() + Duration::hours(2);
    let id = client
        .silence(
            &labels,
            "irene@sprinttz.example",
            Some("fibre cut"),
            Some(expires),
        )
        .await
        .expect("silence created");

    let created = silence(&am, &id).await;
    assert_eq!(created["status"]["state"], "active", "{created}");
    assert_eq!(created["createdBy"], "irene@sprinttz.example");
    assert_eq!(created["comment"], "fibre cut");
    let mut matchers: Vec<Value> = created["matchers"].as_array().cloned().unwrap_or_default();
    matchers.sort_by_key(|m| m["name"].as_str().map(str::to_owned));
    assert_eq!(
        matchers,
        vec![
            json!({"name": "alertname", "value": "LinkDown", "isRegex": false, "isEqual": true}),
            json!({"name": "instance", "value": "rtr-01.kili:9116", "isRegex": false, "isEqual": true}),
            json!({"name": "site", "value": "Kilimanjaro", "isRegex": false, "isEqual": true}),
        ]
    );
    let ends = chrono::DateTime::parse_from_rfc3339(created["endsAt"].as_str().expect("endsAt"))
        .expect("a time");
    assert!(
        (ends.timestamp() - expires.timestamp()).abs() <= 1,
        "{ends} vs {expires}"
    );

    // Unack or resolve: deleted, and deleting again is no error.
    client.unsilence(&id).await.expect("deleted");
    assert_eq!(silence(&am, &id).await["status"]["state"], "expired");
    client.unsilence(&id).await.expect("deleted twice");

    // Without labels there is nothing to match: failed for good.
    let none = client
        .silence(&BTreeMap::new(), "irene@sprinttz.example", None, None)
        .await;
    assert!(matches!(none, Err(SendError::Fail(_))), "{none:?}");

    // Alertmanager stopped: an error to retry.
    let base = am.base.clone();
    am.stop().await;
    let down = Client::new(http_client(), &base, None);
    let result = down
        .silence(&labels, "irene@sprinttz.example", None, None)
        .await;
    let Err(SendError::Retry(words)) = result else {
        panic!("{result:?}");
    };
    assert!(words.contains("cannot connect"), "{words}");
}
