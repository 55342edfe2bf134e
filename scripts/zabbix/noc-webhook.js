// NOC alert server: the script of the Zabbix webhook media type.
//
// Posts each problem, update and recovery of a trigger to the server's
// webhook, POST /internal/alerts, as one alert whose id is id_prefix
// ("zbx-" by default; one prefix per Zabbix server) and the problem's event
// id. Zabbix gives a recovery message the problem's
// {EVENT.ID} (the recovery event's own id is {EVENT.RECOVERY.ID}), so a
// recovery resolves the very alert its problem created.
//
// A refused or failed post throws, with the server's error text, so that
// Zabbix shows the failure in the action log and tries again.
//
// This file is kept identical to the "script" of media_noc.yaml (a test
// compares them). Zabbix runs it in Duktape: ECMAScript 5 only.

var Noc = {
    // Zabbix leaves a macro it cannot resolve as its own text, for example
    // "{EVENT.TAGS.site}" on an event without a site tag, or "*UNKNOWN*".
    given: function (value) {
        if (typeof value !== 'string') {
            return null;
        }
        var v = value.trim();
        if (v === '' || v === '*UNKNOWN*' || /^\{[^{}]*\}$/.test(v)) {
            return null;
        }
        return v;
    },

    // The server refuses over-long fields; cutting here keeps the alert.
    // Limits in characters, as the server counts them.
    cut: function (value, max) {
        if (value.length <= max) {
            return value;
        }
        var end = max;
        var last = value.charCodeAt(end - 1);
        // Do not split a character made of two UTF-16 code units.
        if (last >= 0xD800 && last <= 0xDBFF) {
            end -= 1;
        }
        return value.substring(0, end).trim();
    },

    // {EVENT.NSEVERITY} first: severity names can be renamed in Zabbix,
    // their numbers cannot.
    severity: function (nseverity, name) {
        var byNumber = ['info', 'info', 'warning', 'average', 'high', 'critical'];
        var byName = {
            'not classified': 'info',
            'information': 'info',
            'warning': 'warning',
            'average': 'average',
            'high': 'high',
            'disaster': 'critical'
        };
        var n = Noc.given(nseverity);
        if (n !== null && /^[0-5]$/.test(n)) {
            return byNumber[parseInt(n, 10)];
        }
        var s = Noc.given(name);
        if (s !== null && byName.hasOwnProperty(s.toLowerCase())) {
            return byName[s.toLowerCase()];
        }
        // Never drop an alert for its severity.
        return 'warning';
    },

    // The site: the "site" parameter ({EVENT.TAGS.site} by default, or any
    // macro you set), else an event tag named "site" in any letter case,
    // else the default site.
    site: function (params) {
        var site = Noc.given(params.site);
        var tags = Noc.tags(params);
        for (var i = 0; i < tags.length && site === null; i++) {
            if (tags[i] && typeof tags[i].tag === 'string'
                    && tags[i].tag.toLowerCase() === 'site') {
                site = Noc.given(tags[i].value);
            }
        }
        if (site === null) {
            site = Noc.given(params.default_site) || 'unknown';
        }
        return Noc.cut(site, 100);
    },

    // "problem", "update" or "recovery".
    kind: function (params) {
        if (params.event_update_status === '1') {
            // An update (comment, acknowledgement, severity change) of a
            // problem that is already resolved must not re-open its alert:
            // it is sent as a resolve, which changes nothing on a resolved
            // alert.
            var resolved = Noc.given(params.event_status) === 'RESOLVED'
                || /^[1-9][0-9]*$/.test(Noc.given(params.event_recovery_id) || '');
            return resolved ? 'recovery' : 'update';
        }
        if (params.event_value === '0') {
            return 'recovery';
        }
        if (params.event_value === '1') {
            return 'problem';
        }
        throw new Error('event_value must be 1 (problem) or 0 (recovery), not "'
            + params.event_value + '": send this media type from a trigger action');
    },

    // When the event happened, as RFC 3339 in UTC, from Zabbix's date and
    // time macros ("2026.11.28", "19:40:00"), which Zabbix gives in the
    // receiving user's time zone: utc_offset says which ("+03:00"). Never
    // the time of sending, so that a retry keeps its place in the order.
    // The macros hold whole seconds: a recovery is stamped at the end of
    // its second, so that a problem of the same second is never after it.
    at: function (date, time, offset, endOfSecond) {
        var d = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(Noc.given(date) || '');
        var t = /^(\d{2}):(\d{2}):(\d{2})$/.exec(Noc.given(time) || '');
        if (d === null || t === null) {
            return null;
        }
        var o = /^(?:UTC|Z|([+-])(\d{2}):?(\d{2}))$/.exec(Noc.given(offset) || 'UTC');
        if (o === null) {
            throw new Error('utc_offset must look like +03:00 or UTC, not "' + offset + '"');
        }
        var offsetMs = o[1] === undefined || o[1] === ''
            ? 0
            : (o[1] === '-' ? -1 : 1) * (parseInt(o[2], 10) * 60 + parseInt(o[3], 10)) * 60000;
        var ms = Date.UTC(parseInt(d[1], 10), parseInt(d[2], 10) - 1, parseInt(d[3], 10),
            parseInt(t[1], 10), parseInt(t[2], 10), parseInt(t[3], 10)) - offsetMs;
        return new Date(ms + (endOfSecond ? 999 : 0)).toISOString();
    },

    // The time of this kind of message: the problem's, the update's or the
    // recovery's. An update of a resolved problem (sent as a resolve) takes
    // the update's time.
    eventAt: function (params, kind) {
        if (params.event_update_status === '1') {
            return Noc.at(params.event_update_date, params.event_update_time,
                params.utc_offset, kind === 'recovery');
        }
        if (kind === 'recovery') {
            return Noc.at(params.event_recovery_date, params.event_recovery_time,
                params.utc_offset, true);
        }
        return Noc.at(params.event_date, params.event_time, params.utc_offset, false);
    },

    // The event's tags, [{tag, value}], from {EVENT.TAGSJSON}.
    tags: function (params) {
        try {
            var tags = JSON.parse(Noc.given(params.event_tags_json) || '[]');
            return tags instanceof Array ? tags : [];
        }
        catch (error) {
            return [];
        }
    },

    // Labels: the Zabbix ids, then the event's tags (a tag given twice
    // keeps its values joined by ", "), within the server's limits.
    labels: function (params, eventId) {
        var labels = {'zabbix.eventid': eventId};
        var count = 1;
        var triggerId = Noc.given(params.trigger_id);
        if (triggerId !== null) {
            labels['zabbix.triggerid'] = triggerId;
            count += 1;
        }
        var tags = Noc.tags(params);
        for (var i = 0; i < tags.length; i++) {
            if (!tags[i] || typeof tags[i].tag !== 'string' || tags[i].tag.trim() === '') {
                continue;
            }
            var name = Noc.cut(tags[i].tag.trim(), 100);
            var value = typeof tags[i].value === 'string' ? tags[i].value.trim() : '';
            if (labels.hasOwnProperty(name)) {
                if (value !== '' && labels[name] !== value) {
                    labels[name] = Noc.cut(labels[name] + ', ' + value, 1024);
                }
            }
            else if (count < 64) {
                labels[name] = Noc.cut(value, 1024);
                count += 1;
            }
        }
        return labels;
    },

    // The problem's page in the Zabbix frontend, when zabbix_url is set.
    link: function (params, eventId) {
        var base = Noc.given(params.zabbix_url);
        var triggerId = Noc.given(params.trigger_id);
        if (base === null || triggerId === null || !/^https?:\/\//.test(base)) {
            return null;
        }
        base = base.replace(/\/+$/, '').replace(/\/[a-z_]+\.php$/, '');
        return Noc.cut(base + '/tr_events.php?triggerid=' + encodeURIComponent(triggerId)
            + '&eventid=' + encodeURIComponent(eventId), 2048);
    },

    // What an update did to the acknowledgement, from {EVENT.UPDATE.ACTION}
    // ("acknowledged, commented"): {acked, by, note}, or null.
    ack: function (params) {
        var action = Noc.given(params.event_update_action) || '';
        var acked = /(^|[^a-z])acknowledged/.test(action);
        var unacked = /unacknowledged/.test(action);
        if (!acked && !unacked) {
            return null;
        }
        var ack = {acked: !unacked, by: Noc.cut(Noc.given(params.event_update_user) || 'Zabbix', 200)};
        var note = Noc.given(params.event_update_message);
        if (ack.acked && note !== null) {
            ack.note = Noc.cut(note, 4096);
        }
        return ack;
    },

    // An update the NOC server made itself: its write-back signs its
    // messages " via NOC", and acts as the Zabbix user named in
    // writeback_user (an unacknowledgement carries no message), whom
    // {USER.FULLNAME} names last, in brackets: "Name Surname (username)".
    // The server already shows it.
    isEcho: function (params) {
        if (params.event_update_status !== '1') {
            return false;
        }
        var user = Noc.given(params.writeback_user);
        var by = /\(([^()]*)\)$/.exec(Noc.given(params.event_update_user) || '');
        return / via NOC$/.test(Noc.given(params.event_update_message) || '')
            || (user !== null && user.charAt(0) !== '<' && by !== null && by[1] === user);
    },

    // The alert as the webhook takes it. Every field goes with every kind,
    // so that a recovery the server never saw as a problem is still stored.
    alert: function (params) {
        var eventId = Noc.given(params.event_id);
        if (eventId === null) {
            throw new Error('event_id is not set: it must be {EVENT.ID} of a trigger action');
        }
        var prefix = params.id_prefix === undefined ? 'zbx-' : (Noc.given(params.id_prefix) || '');
        var kind = Noc.kind(params);
        var alert = {
            id: Noc.cut(prefix + eventId, 200),
            event: kind === 'recovery' ? 'alert.resolved' : 'alert.created',
            site: Noc.site(params),
            severity: Noc.severity(params.event_nseverity, params.event_severity),
            message: Noc.cut(Noc.given(params.event_name) || ('Zabbix event ' + eventId), 4096),
            source: 'zabbix',
            labels: Noc.labels(params, eventId)
        };
        var host = Noc.given(params.host_name);
        if (host !== null) {
            alert.host = Noc.cut(host, 255);
        }
        var at = Noc.eventAt(params, kind);
        if (at !== null) {
            alert.at = at;
        }
        var url = Noc.link(params, eventId);
        if (url !== null) {
            alert.url = url;
        }
        var description = Noc.given(params.trigger_description);
        if (description !== null) {
            alert.description = Noc.cut(description, 16384);
        }
        var ack = kind === 'update' ? Noc.ack(params) : null;
        if (ack !== null) {
            alert.ack = ack;
        }
        return alert;
    },

    // The webhook's address: a base URL, or the full /internal/alerts URL.
    url: function (params) {
        var url = Noc.given(params.noc_url);
        if (url === null || url.charAt(0) === '<') {
            throw new Error('set the noc_url parameter to the NOC server, e.g. http://noc.example:8080');
        }
        url = url.replace(/\/+$/, '');
        if (!/\/internal\/alerts$/.test(url)) {
            url += '/internal/alerts';
        }
        return url;
    },

    token: function (params) {
        var token = Noc.given(params.noc_token);
        if (token === null || token.charAt(0) === '<') {
            throw new Error('set the noc_token parameter to the NOC server\'s ingest token');
        }
        return token;
    },

    // What went wrong, in the server's words: its {"error": "..."} answer.
    errorText: function (response) {
        if (typeof response !== 'string' || response.trim() === '') {
            return '(no answer body)';
        }
        try {
            var answer = JSON.parse(response);
            if (answer && typeof answer.error === 'string') {
                return answer.error;
            }
        }
        catch (error) {
            // Not JSON (a proxy's page, say): show its start.
        }
        return Noc.cut(response, 500);
    },

    post: function (params, alert) {
        var url = Noc.url(params);
        var request = new HttpRequest();
        var proxy = Noc.given(params.http_proxy);
        if (proxy !== null) {
            request.setProxy(proxy);
        }
        request.addHeader('Content-Type: application/json');
        request.addHeader('Authorization: Bearer ' + Noc.token(params));
        Zabbix.log(4, '[ NOC webhook ] ' + alert.event + ' ' + alert.id + ' to ' + url);
        var response = request.post(url, JSON.stringify(alert));
        var status = request.getStatus();
        if (status < 200 || status > 299) {
            throw new Error('NOC server answered HTTP ' + status + ': ' + Noc.errorText(response));
        }
        return alert.event + ' ' + alert.id;
    }
};

try {
    var params = JSON.parse(value);
    if (Noc.isEcho(params)) {
        Zabbix.log(4, '[ NOC webhook ] not sent: the NOC server made this update');
        return 'OK: not sent, made by NOC';
    }
    var done = Noc.post(params, Noc.alert(params));
    Zabbix.log(4, '[ NOC webhook ] stored: ' + done);
    return 'OK: ' + done;
}
catch (error) {
    Zabbix.log(3, '[ NOC webhook ] failed: ' + error);
    throw error;
}
