# shellcheck shell=bash
# Helpers shared by the scripts in scripts/. Source it; do not run it.
#
#   ted_root                 repo root (derived from this file's location)
#   ensure_system_packages   libmongoc/libbson/sqlite3/zlib headers + pkg-config
#   ensure_chromium          headless Chromium for the console's browser tests
#   ensure_secantus_venv     SecantusDB (MongoDB-compatible test server) venv
#   free_port                prints a free loopback TCP port
#   start_secantus PORT STORAGE_DIR LOGFILE   background server, sets SECANTUS_PID
#   stop_secantus            SIGTERM, up to 5 s, then SIGKILL
#
# Everything here is non-interactive: CI runs with CI=true and no stdin.

ted_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# The venv lives in a git-ignored folder (.venv/ is in .gitignore).
secantus_venv="${TED_SECANTUS_VENV:-$ted_root/.venv/secantus}"
secantus_bin="$secantus_venv/bin/secantusd-py"
secantus_python="$secantus_venv/bin/python"

_ted_apt_updated=0

ted_log() {
    printf '==> %s\n' "$*" >&2
}

ted_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Installs the C libraries the Swift package links against, unless pkg-config
# already finds them.
ensure_system_packages() {
    if command -v pkg-config >/dev/null 2>&1 &&
        pkg-config --exists libmongoc-1.0 libbson-1.0 sqlite3 zlib; then
        return 0
    fi
    local packages=(libmongoc-dev libbson-dev libsqlite3-dev zlib1g-dev pkg-config)
    if [[ "$(id -u)" -ne 0 ]]; then
        ted_die "libmongoc/libbson/sqlite3/zlib development files are missing; install them with:
    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages[*]}"
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        ted_die "libmongoc/libbson/sqlite3/zlib development files are missing and apt-get is not available; install ${packages[*]} (or your platform's equivalents) by hand"
    fi
    ted_log "installing system packages: ${packages[*]}"
    if [[ "$_ted_apt_updated" -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
        _ted_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${packages[@]}" </dev/null
    pkg-config --exists libmongoc-1.0 libbson-1.0 sqlite3 zlib ||
        ted_die "pkg-config still cannot find libmongoc-1.0, libbson-1.0, sqlite3 and zlib after installing ${packages[*]}"
}

# Installs Debian's Chromium (the console's browser tests render the page in it) unless one is on the PATH or
# TED_CHROMIUM names one.
ensure_chromium() {
    if [[ -n "${TED_CHROMIUM:-}" ]] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        ted_die "chromium is missing (the console's browser tests need it); install it with:
    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        ted_die "chromium is missing and apt-get is not available; install Chromium and set TED_CHROMIUM to its path"
    ted_log "installing chromium (the console's browser tests)"
    if [[ "$_ted_apt_updated" -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
        _ted_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium </dev/null
    command -v chromium >/dev/null 2>&1 || ted_die "chromium is still not on the PATH after installing it"
}

# Creates (or reuses) the SecantusDB venv. Serialised with flock when
# available, so two scripts started at once do not install into it together.
ensure_secantus_venv() {
    if _secantus_venv_ok; then
        ted_log "reusing SecantusDB venv at $secantus_venv"
        return 0
    fi
    mkdir -p -- "$(dirname -- "$secantus_venv")"
    if command -v flock >/dev/null 2>&1; then
        local lock_fd
        exec {lock_fd}>"$secantus_venv.lock"
        if ! flock -n "$lock_fd"; then
            ted_log "another process is installing the SecantusDB venv; waiting"
            flock "$lock_fd"
        fi
        local status=0
        _install_secantus_venv || status=$?
        exec {lock_fd}>&-
        return "$status"
    fi
    _install_secantus_venv
}

_secantus_venv_ok() {
    [[ -x "$secantus_bin" ]] && "$secantus_python" -c 'import pymongo' >/dev/null 2>&1
}

_install_secantus_venv() {
    # Another process may have finished the install while we waited.
    if _secantus_venv_ok; then
        ted_log "reusing SecantusDB venv at $secantus_venv"
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || ted_die "python3 is required for the SecantusDB test server"
    if [[ -d "$secantus_venv" ]] && ! "$secantus_python" -c 'pass' >/dev/null 2>&1; then
        ted_log "recreating broken venv at $secantus_venv"
        python3 -m venv --clear "$secantus_venv"
    else
        ted_log "creating venv at $secantus_venv"
        python3 -m venv "$secantus_venv"
    fi
    ted_log "installing secantusdb into the venv (first time takes 30-60 s)"
    PIP_NO_INPUT=1 "$secantus_venv/bin/pip" install --disable-pip-version-check -q secantusdb </dev/null
    [[ -x "$secantus_bin" ]] || ted_die "secantusdb installed but $secantus_bin is missing"
    ted_log "SecantusDB ready: $secantus_bin"
}

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# start_secantus PORT STORAGE_DIR LOGFILE
# Starts SecantusDB in the background on 127.0.0.1:PORT, waits (up to 30 s)
# until it answers a ping and exports SECANTUS_PID. On failure prints the
# log's tail, stops the process and returns 1.
start_secantus() {
    local port="${1:?start_secantus: PORT required}"
    local storage="${2:?start_secantus: STORAGE_DIR required}"
    local logfile="${3:?start_secantus: LOGFILE required}"
    [[ -x "$secantus_bin" ]] || ted_die "SecantusDB is not installed: call ensure_secantus_venv first"
    if [[ "$storage" != ":memory:" ]]; then
        mkdir -p -- "$storage"
    fi
    # exec, so that $! is the server's own PID and a SIGTERM reaches it.
    (exec "$secantus_bin" --host 127.0.0.1 --port "$port" \
        --storage-path "$storage" --standalone) >"$logfile" 2>&1 </dev/null &
    SECANTUS_PID=$!
    export SECANTUS_PID

    if ! "$secantus_python" - "$port" "$SECANTUS_PID" <<'PY'; then
import os, sys, time
from pymongo import MongoClient

port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("SecantusDB (pid %d) exited during start-up" % pid)
    client = MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=500,
                         connectTimeoutMS=500, directConnection=True)
    try:
        client.admin.command("ping")
        sys.exit(0)
    except Exception as error:  # not ready yet
        last = error
    finally:
        client.close()
    if time.monotonic() > deadline:
        sys.exit("SecantusDB did not answer a ping on 127.0.0.1:%d within 30 s: %s" % (port, last))
    time.sleep(0.2)
PY
        printf 'SecantusDB failed to start; last lines of %s:\n' "$logfile" >&2
        tail -n 30 -- "$logfile" >&2 || true
        stop_secantus
        return 1
    fi
}

_pid_alive() {
    local pid="$1" state=""
    kill -0 "$pid" 2>/dev/null || return 1
    # A zombie still answers kill -0; treat it as gone.
    if [[ -r "/proc/$pid/stat" ]]; then
        state="$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" || true
        [[ "$state" != "Z" ]] || return 1
    fi
    return 0
}

# Stops the server started by start_secantus: SIGTERM, up to 5 s, SIGKILL.
stop_secantus() {
    local pid="${SECANTUS_PID:-}"
    [[ -n "$pid" ]] || return 0
    if _pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            _pid_alive "$pid" || break
            sleep 0.1
        done
        if _pid_alive "$pid"; then
            ted_log "SecantusDB (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Reap it if it is our child; ignore its exit status.
    wait "$pid" 2>/dev/null || true
    SECANTUS_PID=""
}
