//! The stack's Zabbix objects: the write-back user and its token, the
//! project's media type as an operator imports it, its recipient, and the
//! host, item, trigger and action the tests raise problems with.

use std::time::Duration;

use serde_json::json;
use tokio::process::Command;

use super::super::media::read;
use super::{HOST, KEY, WRITEBACK_USER, ZabbixStack, wait_until};

impl ZabbixStack {
    pub(super) async fn provision(&mut self, noc_url: &str, noc_token: &str) {
        self.admin = self
            .call(
                "user.login",
                json!({"username": "Admin", "password": "zabbix"}),
                None,
            )
            .await
            .expect("login")
            .as_str()
            .expect("a session")
            .to_owned();
        let admins = self
            .admin(
                "usergroup.get",
                json!({"output": ["usrgrpid"], "filter": {"name": "Zabbix administrators"}}),
            )
            .await[0]["usrgrpid"]
            .clone();

        // The write-back's own user and its API token.
        let writer = self
            .admin("user.create", json!({"username": WRITEBACK_USER, "passwd": "Wb-7q!x-pass", "roleid": "3", "usrgrps": [{"usrgrpid": admins}]}))
            .await["userids"][0]
            .clone();
        let tokenid = self
            .admin("token.create", json!({"name": "noc", "userid": writer}))
            .await["tokenids"][0]
            .clone();
        let token = self.admin("token.generate", json!([tokenid])).await[0]["token"]
            .as_str()
            .expect("token")
            .to_owned();
        std::fs::write(&self.token_file, format!("{token}\n")).expect("token file");

        // The project's media type, as an operator imports it.
        let yaml = read("media_noc.yaml")
            .replace("'<PLACE NOC SERVER URL>'", &format!("'{noc_url}'"))
            .replace("'<PLACE INGEST TOKEN>'", &format!("'{noc_token}'"))
            .replace(
                "- name: writeback_user\n          value: ''",
                &format!("- name: writeback_user\n          value: '{WRITEBACK_USER}'"),
            )
            .replace("'{$ZABBIX.URL}'", &format!("'{}'", self.admin_url))
            // Fail fast in a test: one attempt, no retry half a minute later.
            .replace("attempts: '10'", "attempts: '1'");
        self.admin(
            "configuration.import",
            json!({"format": "yaml", "source": yaml,
            "rules": {"mediaTypes": {"createMissing": true, "updateExisting": true}}}),
        )
        .await;
        let mediatype = self
            .admin(
                "mediatype.get",
                json!({"output": ["mediatypeid"], "filter": {"name": "NOC alert server"}}),
            )
            .await[0]["mediatypeid"]
            .clone();

        // The recipient of the messages: a user of its own.
        let recipient = self
            .admin("user.create", json!({"username": "noc", "passwd": "Rc-3z!y-pass", "roleid": "3",
                "usrgrps": [{"usrgrpid": admins}],
                "medias": [{"mediatypeid": mediatype, "sendto": "noc", "active": 0, "severity": 63, "period": "1-7,00:00-24:00"}]}))
            .await["userids"][0]
            .clone();

        let group = self
            .admin("hostgroup.create", json!({"name": "NOC test"}))
            .await["groupids"][0]
            .clone();
        let host = self
            .admin("host.create", json!({"host": HOST, "groups": [{"groupid": group}], "tags": [{"tag": "site", "value": "Kilimanjaro"}]}))
            .await["hostids"][0]
            .clone();
        self.admin("item.create", json!({"name": "NOC test value", "key_": KEY, "hostid": host, "type": 2, "value_type": 3}))
            .await;
        self.triggerid = self
            .admin("trigger.create", json!({"description": "Uplink down on {HOST.NAME}", "comments": "Gi0/1 carries the Arusha link",
                "expression": format!("last(/{HOST}/{KEY})>0"), "priority": 4, "manual_close": 1,
                "tags": [{"tag": "team", "value": "core"}]}))
            .await["triggerids"][0]
            .as_str()
            .expect("triggerid")
            .to_owned();
        let operation = json!({"operationtype": 0, "opmessage": {"default_msg": 1, "mediatypeid": mediatype},
            "opmessage_usr": [{"userid": recipient}]});
        self.admin("action.create", json!({"name": "NOC wall", "eventsource": 0, "status": 0, "esc_period": "1h",
            "filter": {"evaltype": 0, "conditions": [{"conditiontype": 0, "operator": 0, "value": group}]},
            "operations": [operation], "recovery_operations": [operation], "update_operations": [operation]}))
            .await;

        // The server takes the new configuration now rather than at its next
        // sync; the trapper accepts the item once it has.
        let reloaded = Command::new("zabbix_server")
            .arg("-c")
            .arg(&self.conf)
            .args(["-R", "config_cache_reload"])
            .output()
            .await
            .is_ok_and(|o| o.status.success());
        assert!(reloaded, "config_cache_reload");
        wait_until(
            "the trapper to take the item",
            Duration::from_secs(30),
            || self.try_send(0),
        )
        .await;
    }
}
