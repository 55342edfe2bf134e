#!/usr/bin/env bash
# Posts one alert to a NOC alert server's webhook (POST /internal/alerts),
# for tests, for cron jobs and for people. Needs bash and curl.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: send-alert.sh --site SITE --severity SEVERITY --message TEXT [options]
       send-alert.sh --resolve --id ID [--message TEXT] [options]

Posts one alert to a NOC alert server and prints the stored alert (JSON).

  --url URL          the server, e.g. http://noc.example:8080 (env NOC_URL,
                     default http://127.0.0.1:8080); a URL ending in
                     /internal/alerts is used as it is
  --token TOKEN      the ingest token (env NOC_INGEST_TOKEN; prefer the
                     environment: a flag shows in the process list)
  --site SITE        the site, e.g. Kilimanjaro
  --severity S       critical, high, average, warning or info (or disaster,
                     major, error, minor, information, not classified)
  --message TEXT     what is wrong
  --host HOST        the host it concerns (optional)
  --id ID            the alert's id; posting the same id again updates that
                     alert (default: the server assigns one)
  --source NAME      where it comes from (default: webhook)
  --resolve          resolve the alert --id instead of raising it
  -h, --help         this help

Exit status: 0 stored; 1 the server refused or failed (its error is
printed); 2 wrong usage; 3 the server could not be reached.
EOF
}

die_usage() {
    echo "send-alert: $1 (see --help)" >&2
    exit 2
}

# A JSON string literal for $1.
json_string() {
    local s=$1 out='' c i
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    if [[ $s == *[$'\x01'-$'\x1f']* ]]; then
        for ((i = 0; i < ${#s}; i++)); do
            c=${s:i:1}
            if [[ $c == [$'\x01'-$'\x1f'] ]]; then
                printf -v c '\\u%04x' "'$c"
            fi
            out+=$c
        done
        s=$out
    fi
    printf '"%s"' "$s"
}

url=${NOC_URL:-http://127.0.0.1:8080}
token=${NOC_INGEST_TOKEN:-}
site='' severity='' message='' host='' id='' source='' resolve=false

while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --resolve) resolve=true; shift; continue ;;
        --url | --token | --site | --severity | --message | --host | --id | --source)
            [ $# -ge 2 ] || die_usage "$1 needs a value"
            case $1 in
                --url) url=$2 ;;
                --token) token=$2 ;;
                --site) site=$2 ;;
                --severity) severity=$2 ;;
                --message) message=$2 ;;
                --host) host=$2 ;;
                --id) id=$2 ;;
                --source) source=$2 ;;
            esac
            shift 2 ;;
        --*=*) die_usage "write ${1%%=*} VALUE, not ${1%%=*}=VALUE" ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done

command -v curl >/dev/null || { echo "send-alert: curl is not installed" >&2; exit 2; }
[ -n "$token" ] || die_usage "no token: set NOC_INGEST_TOKEN or give --token"
if $resolve; then
    [ -n "$id" ] || die_usage "--resolve needs --id"
else
    [ -n "$site" ] || die_usage "--site is required"
    [ -n "$severity" ] || die_usage "--severity is required"
    [ -n "$message" ] || die_usage "--message is required"
fi

url=${url%/}
case $url in
    */internal/alerts) ;;
    *) url+=/internal/alerts ;;
esac

body='{'
sep=''
add() {
    if [ -n "$2" ]; then
        body+="$sep\"$1\":$(json_string "$2")"
        sep=','
    fi
}
add id "$id"
add site "$site"
add severity "$severity"
add message "$message"
add host "$host"
add source "$source"
if $resolve; then
    add event alert.resolved
fi
body+='}'

# The token goes to curl on its standard input, never on a command line.
answer_file=$(mktemp)
trap 'rm -f "$answer_file"' EXIT
if ! status=$(printf 'Authorization: Bearer %s\n' "$token" |
    curl --silent --show-error --max-time 15 \
        --header @- \
        --header 'Content-Type: application/json' \
        --data-binary "$body" \
        --output "$answer_file" \
        --write-out '%{http_code}' \
        "$url"); then
    echo "send-alert: cannot reach $url" >&2
    exit 3
fi
answer=$(cat "$answer_file")

case $status in
    2??)
        printf '%s\n' "$answer"
        ;;
    *)
        # The server's {"error": "..."}, else whatever came back.
        error=$(printf '%s' "$answer" | sed -n 's/^{"error":"\(.*\)"}$/\1/p')
        echo "send-alert: the server answered HTTP $status: ${error:-$answer}" >&2
        exit 1
        ;;
esac
