#!/usr/bin/env bash
# A local Label Studio for review: its own venv (it pins old libraries), 127.0.0.1 only, SQLite
# under a data folder, an admin user and a legacy API token preset from the environment.
#   scripts/labelstudio.sh install|start|stop|status
# Settings (environment): LABEL_STUDIO_PORT (8080), LABEL_STUDIO_DATA (.labelstudio),
# LABEL_STUDIO_USERNAME, LABEL_STUDIO_PASSWORD, LABEL_STUDIO_API_KEY (the token clients use;
# generated into $LABEL_STUDIO_DATA/api-key, mode 600, when unset). The token is never printed.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.23.2
VENV=${LABEL_STUDIO_VENV:-.venv-labelstudio}
DATA=${LABEL_STUDIO_DATA:-.labelstudio}
PORT=${LABEL_STUDIO_PORT:-8080}
PIDFILE=$DATA/label-studio.pid
PYTHON=${PYTHON:-python3}

install() {
  if [ -x "$VENV/bin/label-studio" ] && [ -f "$VENV/.installed-$VERSION" ]; then return; fi
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "label-studio==$VERSION"
  touch "$VENV/.installed-$VERSION"
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  install
  # The database holds the API token: only this user may read the data folder (0700, files 0600).
  umask 077
  mkdir -p "$DATA"
  chmod 700 "$DATA"
  find "$DATA" -type f -exec chmod 600 {} +
  DATA=$(cd "$DATA" && pwd)
  PIDFILE=$DATA/label-studio.pid
  if running; then echo "Label Studio already running (pid $(cat "$PIDFILE")) on port $PORT"; return; fi
  if [ -z "${LABEL_STUDIO_API_KEY:-}" ]; then
    if [ ! -s "$DATA/api-key" ]; then
      (umask 077 && "$PYTHON" -c 'import secrets; print(secrets.token_hex(20))' > "$DATA/api-key")
    fi
    LABEL_STUDIO_API_KEY=$(cat "$DATA/api-key")
  fi
  if [ -z "${LABEL_STUDIO_PASSWORD:-}" ]; then
    if [ ! -s "$DATA/admin-password" ]; then
      (umask 077 && "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(16))' > "$DATA/admin-password")
    fi
    LABEL_STUDIO_PASSWORD=$(cat "$DATA/admin-password")
  fi
  # Air-gapped by default: no version check against PyPI, no analytics, no Sentry.
  LABEL_STUDIO_BASE_DATA_DIR="$DATA" \
  LABEL_STUDIO_USERNAME="${LABEL_STUDIO_USERNAME:-admin@parallelner.local}" \
  LABEL_STUDIO_PASSWORD="$LABEL_STUDIO_PASSWORD" \
  LABEL_STUDIO_USER_TOKEN="$LABEL_STUDIO_API_KEY" \
  LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
  LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false SENTRY_DSN= FRONTEND_SENTRY_DSN= \
  LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true \
    setsid "$VENV/bin/label-studio" start --no-browser --internal-host 127.0.0.1 --port "$PORT" \
      --data-dir "$DATA" --database "$DATA/label_studio.sqlite3" \
      > "$DATA/label-studio.log" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$PORT/health" > /dev/null 2>&1; then
      echo "Label Studio $VERSION on http://127.0.0.1:$PORT (pid $(cat "$PIDFILE"), data $DATA)"
      echo "  export LABEL_STUDIO_URL=http://127.0.0.1:$PORT"
      if [ -f "$DATA/api-key" ]; then
        echo "  export LABEL_STUDIO_API_KEY=\$(cat $DATA/api-key)"
      fi
      return 0
    fi
    if ! running; then echo "Label Studio exited; see $DATA/label-studio.log" >&2; exit 1; fi
    sleep 1
  done
  echo "Label Studio did not answer within 300 s; see $DATA/label-studio.log" >&2
  exit 1
}

stop() {
  if ! running; then echo "Label Studio is not running"; rm -f "$PIDFILE"; return; fi
  pid=$(cat "$PIDFILE")
  # setsid made it a process group of its own: end that group, and nothing else.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  echo "Label Studio stopped (pid $pid)"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (pid $(cat "$PIDFILE"))"; else echo "not running"; fi ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
