"""Fault-injection cases for `ted serve` (run through scripts/faults, with the SecantusDB venv's python).

Every case starts its own SecantusDB (with a storage directory, so a restart keeps the data) and its own
`ted serve` (own temp dir, own .env, free loopback ports), drives it with a generated feed in which every record
is numbered (game ids `f<case>-<phase>-g<n>`, ticks 0..k-1), then checks the accounting rule through
`/api/persistence/status` and the documents in MongoDB (pymongo) with exact numbers:

  * every record acknowledged by a 202 is stored (its deterministic `_id` is in its collection);
  * nothing is stored that was not sent (ids outside acknowledged + in-doubt requests), no duplicates;
  * `accepted + recovered = stored + pending + spooled + rejected + dropped + superseded` (`balanced`) per collection;
  * a record the store refuses for good (cases 9, 10) is in `dead_letters` instead, counted `rejected`, and nothing
    waits behind it; faults injected into the server (cases 11-13: SecantusDB's configureFailPoint/failCommand)
    lose and duplicate nothing, and game documents keep the start, peak and end that were sent.

A request whose answer was lost (connection reset by a kill, timeout) or that was refused with 503 is "in doubt":
its records may or may not be stored, but never twice and never outside the ids sent.
"""

from __future__ import annotations

import argparse
import contextlib
import atexit
import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field

from pymongo import MongoClient

TED_BIN = os.environ.get("TED_BIN", "")
SECANTUS_BIN = os.environ.get("TED_SECANTUS_BIN", "")
COLLECTIONS = ("games", "tick_samples", "predictions", "side_bets")
MODEL = "m1"

# ----------------------------------------------------------------------------------------------------------------
# Processes: everything started here is registered and stopped on exit (by its own pid, nothing else).

_children: list[subprocess.Popen] = []
_children_lock = threading.Lock()


def _spawn(argv, logfile, env=None) -> subprocess.Popen:
    log = open(logfile, "ab", buffering=0)
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    log.close()
    with _children_lock:
        _children.append(proc)
    return proc


def _stop(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout=8.0) -> int | None:
    """Signals one of our children and waits for it (SIGKILL after `timeout`). Returns its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    with _children_lock:
        if proc in _children:
            _children.remove(proc)
    return proc.returncode


def _cleanup_children():
    with _children_lock:
        procs = list(_children)
    for proc in procs:
        if proc.poll() is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except Exception:
            pass


atexit.register(_cleanup_children)


def _on_signal(signum, _frame):
    _cleanup_children()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # not ready yet
            last_error = error
        if time.monotonic() > deadline:
            raise CaseError(f"timed out after {timeout:.0f} s waiting for {what}" +
                            (f" (last error: {last_error})" if last_error else ""))
        time.sleep(interval)


class CaseError(Exception):
    pass


def log(message: str):
    print(f"    {time.strftime('%H:%M:%S')} {message}", flush=True)


# ----------------------------------------------------------------------------------------------------------------
# SecantusDB


class Mongo:
    def __init__(self, workdir: str, db: str, test_commands: bool = False):
        self.test_commands = test_commands  # --enable-test-commands: configureFailPoint
        self.port = free_port()
        self.storage = os.path.join(workdir, "mongo-data")
        self.logfile = os.path.join(workdir, "secantus.log")
        self.db = db
        self.proc: subprocess.Popen | None = None
        os.makedirs(self.storage, exist_ok=True)

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/{self.db}"

    def start(self):
        self.proc = _spawn([SECANTUS_BIN, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path",
                            self.storage, "--standalone", "--sync-on-commit"] +
                           (["--enable-test-commands"] if self.test_commands else []), self.logfile)

        def ping():
            if self.proc.poll() is not None:
                raise CaseError(f"SecantusDB exited during start-up (status {self.proc.returncode}); see {self.logfile}")
            with self.client(500) as client:
                client.admin.command("ping")
                return True
        try:
            wait_until(ping, 30, what=f"SecantusDB on port {self.port}")
        except CaseError as error:
            if "exited" in str(error):
                raise
            raise CaseError(f"{error}; see {self.logfile}")

    def stop(self, sig=signal.SIGTERM):
        _stop(self.proc, sig, timeout=5)
        self.proc = None

    def client(self, timeout_ms=5000) -> MongoClient:
        return MongoClient("127.0.0.1", self.port, directConnection=True, serverSelectionTimeoutMS=timeout_ms,
                           connectTimeoutMS=timeout_ms, socketTimeoutMS=30000)

    def stored_ids(self) -> dict[str, tuple[set[str], int]]:
        """Per collection: the set of `_id`s and the number of documents."""
        result = {}
        with self.client() as client:
            database = client[self.db]
            for collection in COLLECTIONS:
                ids = [doc["_id"] for doc in database[collection].find({}, {"_id": 1})]
                count = database[collection].count_documents({})
                result[collection] = (set(ids), max(count, len(ids)))
        return result

    def fail_command(self, mode, **data):
        """Arms (mode {'times': n}) or clears (mode 'off') the server's failCommand fail point."""
        with self.client() as client:
            if mode == "off":
                client.admin.command("configureFailPoint", "failCommand", mode="off")
            else:
                client.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)

    def dead_letters(self) -> list[dict]:
        with self.client() as client:
            return list(client[self.db]["dead_letters"].find({}))


# ----------------------------------------------------------------------------------------------------------------
# ted serve


class Ted:
    def __init__(self, workdir: str, mongo_url: str | None, **settings):
        self.workdir = workdir
        self.port = free_port()
        self.envfile = os.path.join(workdir, ".env")
        self.logfile = os.path.join(workdir, "ted.log")
        self.spool_path = os.path.join(workdir, "spool", "spool.sqlite")
        self.proc: subprocess.Popen | None = None
        self.settings = {
            "PERSISTENCE_ENABLED": "true",
            "MONGO_URL": mongo_url or "",
            "PERSISTENCE_INTERVAL_SECONDS": "0.5",
            "PERSISTENCE_BATCH_SIZE": "100",
            "PERSISTENCE_MAX_PENDING": "200000",
            "SHUTDOWN_GRACE_SECONDS": "5",
            "SPOOL_PATH": self.spool_path,
            "SQLITE_PATH": os.path.join(workdir, "ted.sqlite"),
            "HOST": "127.0.0.1",
            # As the deployment guide has it (migrate before enabling): the game_id indexes the outcome resolution
            # reads by exist.
            "MIGRATE_ON_START": "true",
            "LOG_LEVEL": "info",
            "BACKUP_DIR": os.path.join(workdir, "backups"),
        }
        self.settings.update({k: str(v) for k, v in settings.items()})
        self.write_env()

    def write_env(self):
        """Rewrites the .env the way `sed -i` does: a new file renamed over the old one."""
        self.settings["PORT"] = str(self.port)
        text = "".join(f"{key}={value}\n" for key, value in self.settings.items())
        tmp = self.envfile + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(text)
        os.replace(tmp, self.envfile)

    def set_flag(self, enabled: bool):
        self.settings["PERSISTENCE_ENABLED"] = "true" if enabled else "false"
        self.write_env()

    def start(self, new_port=False):
        if new_port:
            self.port = free_port()
        self.write_env()
        env = {key: value for key, value in os.environ.items() if key not in self.settings}
        env["ENV_FILE"] = self.envfile
        with open(self.logfile, "a") as handle:
            handle.write(f"\n===== start {time.strftime('%H:%M:%S')} port {self.port} =====\n")
        self.proc = _spawn([TED_BIN, "serve"], self.logfile, env=env)

        def live():
            if self.proc.poll() is not None:
                raise CaseError(f"ted exited during start-up (status {self.proc.returncode}); see {self.logfile}")
            return self.get("/health/live", timeout=2)[0] == 200
        try:
            wait_until(live, 60, what=f"ted on port {self.port}")
        except CaseError as error:
            raise CaseError(f"{error}\n{tail(self.logfile)}")

    def stop(self, sig=signal.SIGTERM, timeout=30.0) -> int | None:
        status = _stop(self.proc, sig, timeout=timeout)
        self.proc = None
        return status

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, method, path, body=None, headers=None, timeout=15.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def get(self, path, timeout=10.0):
        status, _, data = self.request("GET", path, timeout=timeout)
        return status, data

    def status(self) -> dict:
        code, data = self.get("/api/persistence/status")
        if code != 200:
            raise CaseError(f"/api/persistence/status answered {code}: {data[:200]!r}")
        return json.loads(data)

    def live(self) -> bool:
        try:
            return self.get("/health/live", timeout=5)[0] == 200
        except Exception:
            return False

    def drain(self, timeout=90.0, ceiling=900.0) -> dict:
        """Waits until nothing is pending or spooled; returns the last status. Fails when the backlog has not shrunk
        for `timeout` s (the write path is stuck) or after `ceiling` s in all. Progress, not a fixed time, tells a
        stuck write path from a slow drain: how much a case feeds depends on the build (a release build feeds
        several times more in the same seconds), and SecantusDB merges games and resolves outcomes far slower than
        ted ingests them."""
        started = time.monotonic()
        smallest, shrunk_at, status, last_error = None, started, None, None
        while True:
            try:
                status = self.status()
                backlog = status["repository"]["records_pending"] + status["spool"].get("records", 0)
            except Exception as error:  # restarting, or slow to answer: counts as no progress
                last_error, backlog = error, None
            now = time.monotonic()
            if backlog == 0:
                if now - started > timeout:
                    log(f"drained in {now - started:.0f} s")
                return status
            if backlog is not None and (smallest is None or backlog < smallest):
                smallest, shrunk_at = backlog, now
            if now - shrunk_at > timeout or now - started > ceiling:
                what = (f"no progress for {now - shrunk_at:.0f} s" if now - shrunk_at > timeout
                        else f"still draining after {now - started:.0f} s")
                if status is None:
                    raise CaseError(f"{what} waiting for the pending queue and the spool to drain (last error: {last_error})")
                raise CaseError(f"{what} waiting for the pending queue and the spool to drain; status: "
                                f"pending={status['repository']['records_pending']} spool={status['spool']} "
                                f"last_error={status['repository'].get('last_error')}")
            time.sleep(0.5)


def tail(path, lines=25) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()[-20000:].decode("utf-8", "replace").splitlines()
        data = [line for line in data if "Calculated hourly metrics" not in line]
        return "\n".join("      | " + line for line in data[-lines:])
    except OSError:
        return ""


def crash_report(path: str) -> str:
    """The crashed thread's first frames when the log holds a Swift crash report, else ''."""
    try:
        with open(path, "r", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return ""
    for index, line in enumerate(lines):
        if line.startswith("*** Program crashed"):
            report = [line]
            for j in range(index, len(lines)):
                if lines[j].endswith("crashed:"):
                    report += [l for l in lines[j:j + 10] if l.strip()]
                    break
            return "\n".join("      " + l[:200] for l in report)
    return ""


def unbalanced(status: dict) -> list[str]:
    problems = []
    for collection, acc in status["repository"]["accounting"].items():
        left = acc["accepted"] + acc["recovered"]
        right = (acc["stored"] + acc["pending"] + acc["spooled"] + acc.get("rejected", 0) + acc["dropped"] +
                 acc["superseded"])
        if not acc["balanced"] or left != right:
            problems.append(f"{collection}: accepted {acc['accepted']} + recovered {acc['recovered']} != stored "
                            f"{acc['stored']} + pending {acc['pending']} + spooled {acc['spooled']} + rejected "
                            f"{acc.get('rejected')} + dropped {acc['dropped']} + superseded {acc['superseded']} "
                            f"(balanced={acc['balanced']})")
    return problems


# ----------------------------------------------------------------------------------------------------------------
# The feed


def game_events(game_id: str, ticks: int, prices=None,
                extra_predictions: dict[int, float] | None = None) -> tuple[bytes, dict[str, set[str]]]:
    """One whole game as NDJSON: tick 0, a prediction and a side bet at tick 0, ticks 1..k-1, the last one rugged.
    `prices` (one per tick) replaces the default rising prices; `extra_predictions` maps a tick to the confidence of
    one more prediction made right after that tick. Returns the body and the `_id`s it derives, per collection."""
    prices = prices or [round(1.0 + tick * 0.01, 4) for tick in range(ticks)]
    extra_predictions = extra_predictions or {}
    events = [{"type": "game_state", "game_id": game_id, "tick": 0, "price": prices[0], "rugged": False},
              {"type": "prediction", "game_id": game_id, "predicted_at_tick": 0, "predicted_end_tick": ticks + 5,
               "confidence": 0.5, "model_version": MODEL},
              {"type": "side_bet", "game_id": game_id, "placed_at_tick": 0, "probability": 0.3,
               "expected_value": 0.1, "confidence": 0.6, "recommendation": "BET"}]
    for tick in range(1, ticks):
        events.append({"type": "game_state", "game_id": game_id, "tick": tick, "price": prices[tick],
                       "rugged": tick == ticks - 1})
        if tick in extra_predictions:
            events.append({"type": "prediction", "game_id": game_id, "predicted_at_tick": tick,
                           "predicted_end_tick": ticks + 5, "confidence": extra_predictions[tick],
                           "model_version": MODEL})
    body = "".join(json.dumps(event) + "\n" for event in events).encode()
    ids = {"games": {game_id}, "tick_samples": {f"{game_id}:{t}" for t in range(ticks)},
           "predictions": {f"{game_id}:0:{MODEL}"} | {f"{game_id}:{t}:{MODEL}" for t in extra_predictions},
           "side_bets": {f"{game_id}:0"}}
    return body, ids


NDJSON = {"Content-Type": "application/x-ndjson"}


@dataclass
class Ledger:
    """What the client knows: ids acknowledged (202), ids in doubt (answer lost or 503), per collection."""
    acked: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in COLLECTIONS})
    doubt: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in COLLECTIONS})
    requests: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ids: dict[str, set[str]]):
        with self.lock:
            target = self.acked if kind == "acked" else self.doubt
            for collection, values in ids.items():
                target[collection] |= values

    def count(self, name: str):
        with self.lock:
            self.requests[name] = self.requests.get(name, 0) + 1

    def acked_total(self) -> int:
        return sum(len(v) for v in self.acked.values())


def send_game(ted: Ted, ledger: Ledger, game_id: str, ticks: int, timeout=15.0, **shape) -> int | None:
    """Sends one game (`shape`: see game_events); files its ids as acknowledged or in doubt. Returns the HTTP
    status (None: no answer)."""
    body, ids = game_events(game_id, ticks, **shape)
    return send_body(ted, ledger, body, ids, timeout)


def send_body(ted: Ted, ledger: Ledger, body: bytes, ids: dict[str, set[str]], timeout=15.0) -> int | None:
    """Sends NDJSON events; files the ids they derive as acknowledged (202) or in doubt. Returns the HTTP status."""
    events = body.count(b"\n")
    try:
        status, headers, data = ted.request("POST", "/api/ingest", body, NDJSON, timeout=timeout)
    except (OSError, http.client.HTTPException):
        ledger.add("doubt", ids)
        ledger.count("no_answer")
        return None
    if status == 202:
        answer = json.loads(data)
        if answer.get("accepted") != events:
            raise CaseError(f"202 with accepted={answer.get('accepted')} for {events} events")
        ledger.add("acked", ids)
        ledger.count("202")
    else:
        ledger.add("doubt", ids)
        ledger.count(str(status))
        if status == 503 and "Retry-After" not in headers and "retry-after" not in headers:
            raise CaseError("503 without Retry-After")
        if status not in (503,):
            raise CaseError(f"unexpected {status} for a valid game: {data[:300]!r}")
    return status


class Feeder(threading.Thread):
    """Sends games one after another (f<case>-<tag>-g<n>) until stopped; `tag()` may change the ids' phase."""

    def __init__(self, ted: Ted, ledger: Ledger, prefix: str, ticks: int, pause: float = 0.0, timeout=15.0):
        super().__init__(daemon=True)
        self.ted, self.ledger, self.prefix, self.ticks, self.pause, self.timeout = ted, ledger, prefix, ticks, pause, timeout
        self.stop_event = threading.Event()
        self.n = 0
        self.error: BaseException | None = None
        self.statuses: list[int | None] = []
        self.on_game = None  # optional callback(game_id, status, started, finished)

    def run(self):
        try:
            while not self.stop_event.is_set():
                self.n += 1
                game_id = f"{self.prefix}-g{self.n}"
                started = time.monotonic()
                status = send_game(self.ted, self.ledger, game_id, self.ticks, timeout=self.timeout)
                self.statuses.append(status)
                if self.on_game:
                    self.on_game(game_id, status, started, time.monotonic())
                if status is None or status == 503:
                    self.stop_event.wait(0.2)
                elif self.pause:
                    self.stop_event.wait(self.pause)
        except BaseException as error:  # reported by the case
            self.error = error

    def finish(self, timeout=30.0):
        self.stop_event.set()
        self.join(timeout)
        if self.is_alive():
            raise CaseError("the feeder did not stop")
        if self.error:
            raise CaseError(f"feeder: {self.error}")


# ----------------------------------------------------------------------------------------------------------------
# Verification


@dataclass
class Result:
    name: str
    acknowledged: int = 0
    stored: int = 0
    spooled: int = 0
    dropped: int = 0
    rejected: int = 0
    duplicates: int = 0
    ok: bool = False
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, message: str):
        if message not in self.failures:
            self.failures.append(message)


def verify_store(result: Result, mongo: Mongo, ledger: Ledger, forbidden: dict[str, set[str]] | None = None,
                 allow_missing: int = 0, forbidden_why: str = "ingested while persistence was off"):
    """Every acknowledged id stored, nothing stored that was not sent, no duplicates."""
    stored = mongo.stored_ids()
    result.stored = sum(count for _, count in stored.values())
    result.acknowledged = ledger.acked_total()
    if not ledger.acked["tick_samples"]:
        result.fail(f"no record was acknowledged: the case tested nothing ({ledger.requests})")
    duplicates = 0
    missing_total = 0
    for collection in COLLECTIONS:
        ids, count = stored[collection]
        duplicates += count - len(ids)
        missing = ledger.acked[collection] - ids
        unexpected = ids - ledger.acked[collection] - ledger.doubt[collection]
        missing_total += len(missing)
        if missing and not allow_missing:
            result.fail(f"{collection}: {len(missing)} acknowledged records missing, e.g. {sorted(missing)[:5]}")
        if unexpected:
            result.fail(f"{collection}: {len(unexpected)} stored records never sent/acknowledged, e.g. {sorted(unexpected)[:5]}")
        if forbidden:
            leaked = ids & forbidden.get(collection, set())
            if leaked:
                result.fail(f"{collection}: {len(leaked)} records {forbidden_why} were written, e.g. {sorted(leaked)[:5]}")
    if duplicates:
        result.fail(f"{duplicates} duplicate documents (count_documents > distinct _id)")
    result.duplicates = duplicates
    return stored, missing_total


def verify_status(result: Result, status: dict, expect_no_drops=True):
    result.spooled = status["spool"].get("records", 0)
    result.dropped = status["repository"]["records_dropped"]
    result.rejected = status["repository"].get("records_rejected", 0)
    for problem in unbalanced(status):
        result.fail("accounting: " + problem)
    if expect_no_drops and result.dropped:
        result.fail(f"records_dropped = {result.dropped} ({status['repository'].get('records_dropped_by_reason')})")
    if status["spool"].get("records", 0):
        result.fail(f"spool still holds {status['spool']['records']} records")


# ----------------------------------------------------------------------------------------------------------------
# The cases


class Case:
    number = 0
    title = ""

    def __init__(self, args):
        self.args = args
        self.short = args.short
        self.workdir = tempfile.mkdtemp(prefix=f"ted-faults-{self.number}-")
        self.mongo: Mongo | None = None
        self.teds: list[Ted] = []
        self.result = Result(f"{self.number} {self.title}")

    def new_mongo(self, test_commands: bool = False) -> Mongo:
        self.mongo = Mongo(self.workdir, f"faults{self.number}", test_commands=test_commands)
        return self.mongo

    def new_ted(self, mongo_url, **settings) -> Ted:
        ted = Ted(self.workdir, mongo_url, **settings)
        self.teds.append(ted)
        return ted

    def execute(self) -> Result:
        started = time.monotonic()
        try:
            self.run()
        except CaseError as error:
            self.result.fail(str(error))
        except Exception as error:
            self.result.fail(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        finally:
            for ted in self.teds:
                if ted.alive():
                    ted.stop(signal.SIGKILL)
            if self.mongo:
                self.mongo.stop()
            self.result.seconds = time.monotonic() - started
        for ted in self.teds:
            crash = crash_report(ted.logfile)
            if crash:
                self.result.fail(f"ted crashed ({ted.logfile}):\n{crash}")
        self.result.ok = not self.result.failures
        if self.result.failures:
            for ted in self.teds:
                print(f"    ted log ({ted.logfile}):\n{tail(ted.logfile, 15)}")
        if self.result.ok and not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            self.result.notes.append(f"workdir {self.workdir}")
        return self.result

    def run(self):
        raise NotImplementedError


class KillDuringFlush(Case):
    number = 1
    title = "kill -9 during flushes (durable)"

    def run(self):
        mongo = self.new_mongo()
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="durable", PERSISTENCE_INTERVAL_SECONDS="0.2",
                           PERSISTENCE_BATCH_SIZE="50")
        ted.start()
        ledger = Ledger()
        kills = 3 if self.short else 10
        rng = random.Random(self.args.seed + 1)
        for round_number in range(1, kills + 1):
            feeder = Feeder(ted, ledger, f"f1-r{round_number}", ticks=30, timeout=10)
            feeder.start()
            time.sleep(rng.uniform(0.8, 2.5))
            # Kill while a flush is running: wait (briefly) until the spool holds records to replay.
            try:
                wait_until(lambda: ted.status()["spool"]["records"] > 0, 3, interval=0.05, what="records in the spool")
            except CaseError:
                pass
            ted.stop(signal.SIGKILL)
            feeder.finish()
            log(f"kill {round_number}/{kills}: {feeder.n} games sent, acknowledged so far "
                f"{len(ledger.acked['tick_samples'])} tick samples")
            ted.start(new_port=True)
            status = ted.status()
            if status["spool"]["records"] and not any(a["recovered"] for a in status["repository"]["accounting"].values()):
                self.result.fail(f"restart {round_number}: spool holds {status['spool']['records']} records but "
                                 "nothing is counted as recovered")
        status = ted.drain()
        stored, _ = verify_store(self.result, mongo, ledger)
        verify_status(self.result, status)
        lost = ledger.acked["tick_samples"] - stored["tick_samples"][0]
        self.result.notes.append(f"{kills} kills, {ledger.requests}, lost tick samples {len(lost)}")
        ted.stop()


class StoreOutage(Case):
    number = 2
    title = "MongoDB down > pending capacity (memory)"

    def run(self):
        mongo = self.new_mongo()
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", PERSISTENCE_MAX_PENDING="500",
                           PERSISTENCE_INTERVAL_SECONDS="0.5")
        ted.start()
        ledger = Ledger()
        # ~23 records a game, one game every ~40 ms: several hundred records a second.
        feeder = Feeder(ted, ledger, "f2", ticks=20, pause=self.args.outage_pause)
        feeder.start()
        time.sleep(2)
        before = len(ledger.acked["tick_samples"])
        mongo.stop(signal.SIGKILL)
        outage = 8 if self.short else 25
        log(f"MongoDB killed after {before} tick samples acknowledged; down for {outage} s")
        time.sleep(outage)
        status = ted.status()
        during = sum(len(v) for v in ledger.acked.values())
        log(f"during the outage: spool {status['spool']['records']} records, pending "
            f"{status['repository']['records_pending']}, dropped {status['repository']['records_dropped']}, "
            f"acknowledged {during} records")
        if status["spool"]["records"] == 0:
            self.result.fail("nothing went to the spool during the outage")
        for problem in unbalanced(status):
            self.result.fail("accounting during the outage: " + problem)
        mongo.start()
        log("MongoDB restarted")
        time.sleep(3)
        feeder.finish()
        status = ted.drain()
        verify_store(self.result, mongo, ledger)
        verify_status(self.result, status)
        self.result.notes.append(f"outage {outage} s, {ledger.requests}")
        ted.stop()


class FlagFlips(Case):
    number = 3
    title = "flag off/on flips under load"

    def run(self):
        mongo = self.new_mongo()
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", PERSISTENCE_INTERVAL_SECONDS="0.3")
        ted.start()
        ledger = Ledger()
        # A game counts for a phase only when the phase was stable (same epoch, flag confirmed) from before the
        # request until after its answer; games sent across a flip are in doubt for the "off" check.
        phase = {"epoch": 0, "state": "on"}
        off_ids: dict[str, set[str]] = {c: set() for c in COLLECTIONS}
        on_ids: dict[str, set[str]] = {c: set() for c in COLLECTIONS}
        on_games = []
        phase_lock = threading.Lock()

        class PhaseFeeder(Feeder):
            def run(inner):
                try:
                    while not inner.stop_event.is_set():
                        inner.n += 1
                        with phase_lock:
                            epoch, state = phase["epoch"], phase["state"]
                        game_id = f"f3-e{epoch}-{state}-g{inner.n}"
                        body, ids = game_events(game_id, 10)
                        status = send_game(ted, ledger, game_id, 10)
                        with phase_lock:
                            stable = phase["epoch"] == epoch and phase["state"] == state
                        if status == 202 and stable and state == "off":
                            for c in COLLECTIONS:
                                off_ids[c] |= ids[c]
                        if status == 202 and stable and state == "on":
                            on_games.append(game_id)
                            for c in COLLECTIONS:
                                on_ids[c] |= ids[c]
                        inner.stop_event.wait(0.02)
                except BaseException as error:
                    inner.error = error

        feeder = PhaseFeeder(ted, ledger, "f3", ticks=10)
        feeder.start()
        flips = 5 if self.short else 50
        checks = 0
        enabled = True
        for flip in range(1, flips + 1):
            enabled = not enabled
            with phase_lock:
                phase["epoch"] += 1
                phase["state"] = "transition"
            ted.set_flag(enabled)
            wait_until(lambda: ted.status()["enabled"] == enabled, 10, interval=0.1,
                       what=f"flip {flip}: enabled={enabled}")
            with phase_lock:
                phase["epoch"] += 1
                phase["state"] = "on" if enabled else "off"
            time.sleep(0.6)
            status = ted.status()
            checks += 1
            for problem in unbalanced(status):
                self.result.fail(f"flip {flip} (enabled={enabled}): {problem}")
            if flip % 10 == 0 or self.short:
                log(f"flip {flip}/{flips}: enabled={enabled}, {feeder.n} games sent, pending "
                    f"{status['repository']['records_pending']}")
        if not enabled:
            with phase_lock:
                phase["epoch"] += 1
                phase["state"] = "transition"
            ted.set_flag(True)
            wait_until(lambda: ted.status()["enabled"], 10, interval=0.1, what="the flag back on")
            with phase_lock:
                phase["epoch"] += 1
                phase["state"] = "on"
        time.sleep(1)
        feeder.finish()
        if not on_games or not off_ids["games"]:
            self.result.fail(f"the feed did not cover both phases ({len(on_games)} on, {len(off_ids['games'])} off)")
        status = ted.drain()
        # Required: what was acknowledged while the flag was steadily on. Forbidden: what was acknowledged while it
        # was steadily off. Requests that straddled a flip may go either way (in doubt).
        expected = Ledger()
        for c in COLLECTIONS:
            expected.acked[c] = set(on_ids[c])
            expected.doubt[c] = ledger.doubt[c] | (ledger.acked[c] - off_ids[c])
        verify_store(self.result, mongo, expected, forbidden=off_ids)
        verify_status(self.result, status)
        self.result.acknowledged = ledger.acked_total()
        self.result.notes.append(f"{flips} flips, {checks} balanced checks, {len(on_games)} games on, "
                                 f"{len(off_ids['games'])} games off (none stored)")
        ted.stop()


class SigtermUnderLoad(Case):
    number = 4
    title = "SIGTERM under load"

    def run(self):
        mongo = self.new_mongo()
        mongo.start()
        grace = 3
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", PERSISTENCE_INTERVAL_SECONDS="4",
                           SHUTDOWN_GRACE_SECONDS=str(grace), PERSISTENCE_BATCH_SIZE="20")
        ted.start()
        ledger = Ledger()
        feeders = [Feeder(ted, ledger, f"f4-t{i}", ticks=40, timeout=10) for i in range(3)]
        for feeder in feeders:
            feeder.start()
        time.sleep(3.5)
        pending = ted.status()["repository"]["records_pending"]
        started = time.monotonic()
        ted.proc.send_signal(signal.SIGTERM)
        try:
            code = ted.proc.wait(timeout=grace + 15)
        except subprocess.TimeoutExpired:
            self.result.fail(f"ted did not exit within {grace + 15} s of SIGTERM (grace {grace} s)")
            code = ted.stop(signal.SIGKILL)
        took = time.monotonic() - started
        ted.proc = None
        for feeder in feeders:
            feeder.finish()
        log(f"SIGTERM with {pending} records pending: exited {code} after {took:.1f} s")
        if code != 0:
            self.result.fail(f"exit status {code} after SIGTERM")
        # The grace period bounds the exit: the write in flight when it ends, and closing, get a few seconds more.
        if took > grace + 5:
            self.result.fail(f"exited {took:.1f} s after SIGTERM, past the grace period of {grace} s (+5 s)")
        # The log says how many were left; a restart replays the spool.
        ted.start(new_port=True)
        status = ted.status()
        recovered = sum(a["recovered"] for a in status["repository"]["accounting"].values())
        status = ted.drain()
        verify_store(self.result, mongo, ledger)
        verify_status(self.result, status)
        self.result.notes.append(f"pending at SIGTERM ~{pending}, exit {code} in {took:.1f} s, "
                                 f"recovered from spool {recovered}, {ledger.requests}")
        if not self.short:
            self.stalled_client_shutdown(ted, ledger, grace)
        ted.stop()

    def stalled_client_shutdown(self, ted: Ted, ledger: Ledger, grace: int):
        """SIGTERM while one client has sent headers and half a body: the grace period must still bound the exit,
        and the records pending must still be flushed or spooled."""
        for n in range(1, 31):
            send_game(ted, ledger, f"f4-stall-g{n}", ticks=40)
        sock = socket.create_connection(("127.0.0.1", ted.port), timeout=5)
        try:
            sock.sendall(b"POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"type\":")
            time.sleep(0.5)
            started = time.monotonic()
            ted.proc.send_signal(signal.SIGTERM)
            limit = grace + 10
            try:
                code = ted.proc.wait(timeout=limit)
                log(f"SIGTERM with a stalled client: exited {code} after {time.monotonic() - started:.1f} s")
            except subprocess.TimeoutExpired:
                self.result.fail(f"SIGTERM with one stalled client connection (headers + partial body): ted still "
                                 f"running {limit} s later (SHUTDOWN_GRACE_SECONDS={grace}); the flush waits for it")
        finally:
            sock.close()
        try:
            code = ted.proc.wait(timeout=grace + 15)
            log(f"after the stalled client closed: exited {code} after {time.monotonic() - started:.1f} s")
        except subprocess.TimeoutExpired:
            self.result.fail("ted did not exit even after the stalled client closed")
        ted.stop(signal.SIGKILL)
        ted.start(new_port=True)
        status = ted.drain()
        verify_store(self.result, mongo_of(self), ledger)
        verify_status(self.result, status)


def mongo_of(case) -> Mongo:
    return case.mongo


def leaf_cells(path: str) -> int:
    """Cells in the table-leaf pages of an SQLite file that are still in it: rows a page-level scan could read."""
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 100:
        return 0
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    cells = 0
    for number in range(2, len(data) // page_size + 1):
        offset = (number - 1) * page_size
        if data[offset] == 13:
            cells += int.from_bytes(data[offset + 3:offset + 5], "big")
    return cells


class DamagedSpool(Case):
    number = 5
    title = "spool truncated + bytes flipped"
    VARIANTS = (("truncate-flip", 0.7, 40), ("flip-only", 1.0, 40), ("truncate-only", 0.9, 0))

    def run(self):
        workdir = self.workdir
        try:
            for name, keep, flips in self.VARIANTS:
                self.workdir = os.path.join(workdir, name)
                os.makedirs(self.workdir)
                self.variant(name, keep, flips)
                self.mongo.stop()
        finally:
            self.workdir = workdir

    def variant(self, name: str, keep: float, flips: int):
        mongo = self.new_mongo()  # not started yet: the records must stay in the spool
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="durable", PERSISTENCE_INTERVAL_SECONDS="0.5")
        ted.start()
        ledger = Ledger()
        for n in range(1, 301):
            send_game(ted, ledger, f"f5-{name}-g{n}", ticks=30)
        status = ted.status()
        spooled = status["spool"]["records"]
        code = ted.stop(signal.SIGTERM)
        if code != 0:
            self.result.fail(f"{name}: exit status {code} after SIGTERM")
        path = ted.spool_path
        size = os.path.getsize(path)
        wal = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
        rng = random.Random(self.args.seed + 5)
        with open(path, "r+b") as handle:
            handle.truncate(int(size * keep))
            data = bytearray(handle.read())
            for _ in range(flips):
                offset = rng.randrange(4096, len(data))
                data[offset] ^= 0xFF
            handle.seek(0)
            handle.write(data)
        present = leaf_cells(path)
        log(f"{name}: {spooled} rows spooled ({size} bytes, WAL {wal} bytes); kept {keep:.0%}, flipped {flips} "
            f"bytes; {present} rows left in intact-looking leaf pages")
        ted.start(new_port=True)
        status = ted.status()
        spool = status["spool"]
        recovery = spool.get("recovery") or {}
        log(f"{name}: restart: degraded={spool.get('degraded')} records={spool['records']} recovered="
            f"{recovery.get('recovered')} unreadable={recovery.get('unreadable')} reason={recovery.get('reason')!r}")
        if not spool.get("degraded") or not recovery:
            # A truncated file always breaks SQLite's structure. Flipped bytes may land only inside rows' payloads,
            # which SQLite's quick_check cannot see: then the file is not degraded, and the rows' checksums must
            # quarantine them on replay (checked below: what was salvaged and not replayed was quarantined).
            if keep < 1:
                self.result.fail(f"{name}: the spool does not show degraded/recovery after the damage: {spool}")
            recovery = {"recovered": spool["records"], "unreadable": 0}
        recovered_total = sum(a["recovered"] for a in status["repository"]["accounting"].values())
        if recovered_total != spool["records"]:
            self.result.fail(f"{name}: {recovered_total} counted as recovered, the spool holds {spool['records']}")
        if recovery["recovered"] + recovery["unreadable"] != spooled:
            self.result.fail(f"{name}: recovered {recovery['recovered']} + unreadable {recovery['unreadable']} != "
                             f"{spooled} rows spooled before the damage")
        if recovery["recovered"] < present // 2:
            self.result.fail(f"{name}: salvage recovered {recovery['recovered']} of {spooled} rows although {present} "
                             "rows are still in readable leaf pages of the damaged file")
        # What the salvaged spool holds, read-only (nothing drains it yet: MongoDB is down).
        salvaged: dict[str, set[str]] = {c: set() for c in COLLECTIONS}
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
            # Bytes: a flipped byte can leave a row's text invalid UTF-8 (a row the replay will quarantine).
            db.text_factory = bytes
            for collection, record_id in db.execute("SELECT collection, record_id FROM spool"):
                collection = collection.decode("utf-8", "replace")
                if collection in salvaged:
                    salvaged[collection].add(record_id.decode("utf-8", "replace"))
        mongo.start()
        status = ted.drain()
        stored, _ = verify_store(self.result, mongo, ledger, allow_missing=1)
        quarantined = status["spool"].get("quarantined", 0)
        not_replayed = sum(len(salvaged[c] - stored[c][0]) for c in COLLECTIONS)
        if not_replayed > quarantined:
            self.result.fail(f"{name}: {not_replayed} salvaged records not in MongoDB, only {quarantined} quarantined")
        extra = sum(len(stored[c][0] - salvaged[c]) for c in COLLECTIONS)
        if extra:
            self.result.fail(f"{name}: {extra} records in MongoDB that the salvaged spool did not hold")
        for problem in unbalanced(status):
            self.result.fail(f"{name}: accounting: {problem}")
        self.result.acknowledged += ledger.acked_total()
        self.result.stored += sum(count for _, count in stored.values())
        self.result.spooled += status["spool"].get("records", 0)
        lost = sum(len(ledger.acked[c] - stored[c][0]) for c in COLLECTIONS)
        self.result.notes.append(f"{name}: rows {spooled}, in readable leaf pages {present}, recovered "
                                 f"{recovery['recovered']}, unreadable {recovery['unreadable']}, quarantined on replay "
                                 f"{quarantined}, acknowledged records lost {lost}")
        ted.stop()


class SpoolLimit(Case):
    number = 6
    title = "spool limit with MongoDB down"

    def run(self):
        mongo = self.new_mongo()  # down at first
        rows = []
        for policy, durability in (("reject", "durable"), ("reject", "memory"), ("drop_oldest", "memory")):
            sub = f"{policy}/{durability}"
            ted = self.new_ted(mongo.url, INGEST_DURABILITY=durability, OVERFLOW_POLICY=policy,
                               SPOOL_MAX_BYTES="200000", PERSISTENCE_MAX_PENDING="500",
                               PERSISTENCE_INTERVAL_SECONDS="0.5")
            ted.spool_path = os.path.join(self.workdir, f"spool-{policy}-{durability}", "spool.sqlite")
            ted.settings["SPOOL_PATH"] = ted.spool_path
            ted.start()
            ledger = Ledger()
            saw_503 = False
            deadline = time.monotonic() + 60
            n = 0
            while time.monotonic() < deadline:
                n += 1
                status = send_game(ted, ledger, f"f6-{policy}-{durability}-g{n}", ticks=30)
                if status == 503:
                    saw_503 = True
                    if policy == "reject":
                        break
                if policy == "drop_oldest" and ted.status()["repository"]["records_dropped"] > 0 and n > 150:
                    break
                time.sleep(0.01)
            status = ted.status()
            log(f"{sub}: {n} games sent, {ledger.requests}, spool {status['spool']['records']} rows "
                f"full={status['spool']['full']}, pending {status['repository']['records_pending']}, dropped "
                f"{status['repository']['records_dropped']}")
            for problem in unbalanced(status):
                self.result.fail(f"{sub}: accounting at the limit: {problem}")
            if policy == "reject" and not saw_503:
                self.result.fail(f"{sub}: no 503 within 60 s with the spool limit reached")
            if policy == "drop_oldest":
                if saw_503:
                    self.result.fail(f"{sub}: 503 under drop_oldest")
                if status["repository"]["records_dropped"] == 0:
                    self.result.fail(f"{sub}: nothing counted as dropped after {n} games with the spool full")
            # The store comes back: everything acknowledged and not counted as dropped is stored.
            mongo.start()
            status = ted.drain()
            stored = mongo.stored_ids()
            dropped = status["repository"]["records_dropped"]
            missing = sum(len(ledger.acked[c] - stored[c][0]) for c in COLLECTIONS)
            if policy == "reject" and (missing or dropped):
                self.result.fail(f"{sub}: OVERFLOW_POLICY=reject yet {dropped} records dropped "
                                 f"({status['repository'].get('records_dropped_by_reason')}), {missing} acknowledged "
                                 f"(202) records missing; first 503 after {n} games")
            if missing > dropped:
                self.result.fail(f"{sub}: {missing} acknowledged records missing but only {dropped} counted as dropped")
            for collection in COLLECTIONS:
                ids, count = stored[collection]
                if count != len(ids):
                    self.result.fail(f"{sub}: {count - len(ids)} duplicates in {collection}")
                unexpected = {i for i in ids if i.startswith(f"f6-{policy}-{durability}-")} \
                    - ledger.acked[collection] - ledger.doubt[collection]
                if unexpected:
                    self.result.fail(f"{sub}: {len(unexpected)} stored records never sent")
            for problem in unbalanced(status):
                self.result.fail(f"{sub}: accounting after the drain: {problem}")
            rows.append(f"{sub}: 503={ledger.requests.get('503', 0)} dropped={dropped} missing={missing}")
            self.result.acknowledged += ledger.acked_total()
            self.result.dropped += dropped
            ted.stop()
            mongo.stop()
        mongo.start()
        self.result.stored = sum(count for _, count in mongo.stored_ids().values())
        self.result.notes.extend(rows)


class BadInput(Case):
    number = 7
    title = "bad input"

    def raw(self, ted: Ted, payload: bytes, timeout=15.0) -> tuple[int | None, str]:
        """Sends raw bytes from a thread while reading the answer (a server may answer 413 before the body is
        all sent, as curl expects). Returns (status, note); status None: closed without an answer or no answer."""
        sock = socket.create_connection(("127.0.0.1", ted.port), timeout=timeout)
        send_error: list[str] = []

        def sender():
            try:
                sock.sendall(payload)
            except (BrokenPipeError, ConnectionResetError) as error:
                send_error.append(f"send interrupted ({type(error).__name__})")
            except OSError as error:  # timeout, or the socket closed by the reader
                send_error.append(f"send stopped ({type(error).__name__})")
        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            return None, "no answer (timeout)"
        except ConnectionResetError:
            pass
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            thread.join(timeout + 5)
            sock.close()
        note = " ".join(send_error)
        if not data.startswith(b"HTTP/1.1 "):
            return None, (note + " connection closed without an answer").strip()
        return int(data.split(b" ")[1]), note

    def post(self, body: bytes, content_type="application/json", extra=b"") -> bytes:
        return (b"POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type.encode() +
                b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"Connection: close\r\n\r\n" + body)

    def run(self):
        mongo = self.new_mongo()
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", PERSISTENCE_INTERVAL_SECONDS="0.5")
        ted.start()
        ledger = Ledger()
        for n in range(1, 21):
            if send_game(ted, ledger, f"f7-good-g{n}", ticks=15) != 202:
                raise CaseError("a valid game was refused")
        bad_prefix = "f7-bad"
        gs = lambda **kw: json.dumps({"type": "game_state", "game_id": f"{bad_prefix}-x", "tick": 1, "price": 1.0, **kw})
        small = json.dumps({"type": "game_state", "game_id": f"{bad_prefix}-many", "tick": 1, "price": 1}) + ","
        cases = [
            ("malformed JSON", self.post(b'{"type":"game_state","game_id":"f7-bad-m","tick":1,'), (400,)),
            ("malformed NDJSON line 2", self.post((gs(game_id=f"{bad_prefix}-nd") + "\n{oops\n").encode(),
                                                   "application/x-ndjson"), (400,)),
            ("tick as string", self.post(gs(tick="5").encode()), (400,)),
            ("price as string", self.post(gs(price="1.0").encode()), (400,)),
            ("game_id as number", self.post(b'{"type":"game_state","game_id":7,"tick":1,"price":1}'), (400,)),
            ("unknown type", self.post(gs(type="bogus").encode()), (400,)),
            ("missing price", self.post(b'{"type":"game_state","game_id":"f7-bad-mp","tick":1}'), (400,)),
            ("NaN price", self.post(b'{"type":"game_state","game_id":"f7-bad-nan","tick":1,"price":NaN}'), (400,)),
            ("Infinity price", self.post(b'{"type":"game_state","game_id":"f7-bad-inf","tick":1,"price":Infinity}'), (400,)),
            ("1e999 price", self.post(b'{"type":"game_state","game_id":"f7-bad-big","tick":1,"price":1e999}'), (400,)),
            ("negative tick", self.post(gs(tick=-1).encode()), (400,)),
            ("fractional tick", self.post(gs(tick=1.5).encode()), (400,)),
            ("confidence 7", self.post(json.dumps({"type": "prediction", "game_id": f"{bad_prefix}-p",
                                                   "predicted_at_tick": 1, "predicted_end_tick": 5, "confidence": 7,
                                                   "model_version": "m"}).encode()), (400,)),
            ("valid then invalid (whole request refused)",
             self.post(("[" + gs(game_id=f"{bad_prefix}-half") + "," + gs(tick=-5) + "]").encode()), (400,)),
            ("invalid UTF-8", self.post(b'{"type":"game_state","game_id":"f7-bad-\xff\xfe","tick":1,"price":1}'), (400,)),
            ("invalid UTF-8 NDJSON", self.post(b'{"type":"game_state","game_id":"f7-bad-\xc3\x28","tick":1,"price":1}\n',
                                               "application/x-ndjson"), (400,)),
            ("lone surrogate escape", self.post(b'{"type":"game_state","game_id":"f7-bad-\\ud800","tick":1,"price":1}'), (400,)),
            ("empty body", self.post(b""), (400,)),
            ("JSON scalar", self.post(b"42"), (400,)),
            ("deep nesting", self.post(b"[" * 100000 + b"]" * 100000), (400, 413)),
            ("10 MB body", self.post(b"[" + (small * 200000).encode()[:10 * 1024 * 1024] + b"]"), (413,)),
            ("100k-event array", self.post(("[" + small * 100000)[:-1].encode() + b"]"), (413,)),
            ("25k events (< body limit)", self.post(("[" + small * 25000)[:-1].encode() + b"]"), (413,)),
            # What a page of another site can send through a browser without a CORS preflight.
            ("text/plain body", self.post(gs(game_id=f"{bad_prefix}-text").encode(), "text/plain"), (415,)),
            ("form body", self.post(b"type=game_state&game_id=f7-bad-form&tick=1&price=1",
                                    "application/x-www-form-urlencoded"), (415,)),
            ("foreign Origin", self.post(gs(game_id=f"{bad_prefix}-origin").encode(),
                                         extra=b"Origin: https://evil.example\r\n"), (403,)),
        ]
        answers = []
        for name, payload, allowed in cases:
            status, note = self.raw(ted, payload)
            ok = status in allowed
            answers.append(f"{name}: {status}{' ' + note if note else ''}")
            log(answers[-1])
            if not ok:
                self.result.fail(f"{name}: answered {status} {note}, expected one of {allowed}")
            if not ted.live():
                raise CaseError(f"/health/live failed after {name!r}\n{tail(ted.logfile)}")
        # Slow client: headers then a partial body, one byte every 0.5 s for ~10 s, then silence.
        slow = self.slow_client(ted)
        answers.append(f"slow client: {slow}")
        if not ted.live():
            raise CaseError(f"/health/live failed after the slow client\n{tail(ted.logfile)}")
        for n in range(21, 41):
            if send_game(ted, ledger, f"f7-good-g{n}", ticks=15) != 202:
                raise CaseError("a valid game was refused after the bad input")
        status = ted.drain()
        stored, _ = verify_store(self.result, mongo, ledger)
        leaked = [i for c in COLLECTIONS for i in stored[c][0] if i.startswith(bad_prefix)]
        if leaked:
            self.result.fail(f"records of refused requests were stored: {leaked[:5]}")
        verify_status(self.result, status)
        self.result.notes.extend(answers)
        ted.stop()

    def slow_client(self, ted: Ted) -> str:
        """Returns a note; fails the case when the server neither answers nor closes within ~20 s."""
        body = (json.dumps({"type": "game_state", "game_id": "f7-bad-slow", "tick": 1, "price": 1.0}) + " " * 200).encode()
        head = (b"POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        sock = socket.create_connection(("127.0.0.1", ted.port), timeout=5)
        sock.settimeout(0.5)
        started = time.monotonic()
        outcome = None
        live_during = True
        try:
            sock.sendall(head)
            sent = 0
            # ~10 s of trickling (the body is never completed), then silence: the server's 30 s idle timeout
            # must close the connection (up to 45 s in all).
            while time.monotonic() - started < 45:
                if time.monotonic() - started < 10 and sent < 20:
                    try:
                        sock.sendall(body[sent:sent + 1])
                        sent += 1
                    except (BrokenPipeError, ConnectionResetError):
                        outcome = "closed by the server while sending"
                        break
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    if sent % 6 == 0:
                        live_during = live_during and ted.live()
                    continue
                except ConnectionResetError:
                    outcome = "reset by the server"
                    break
                if not data:
                    outcome = "closed by the server"
                    break
                outcome = "answered " + data.split(b"\r\n")[0].decode("latin-1")
                if not data.startswith(b"HTTP/1.1 4"):
                    self.result.fail(f"slow client: {outcome}")
                break
        finally:
            sock.close()
        took = time.monotonic() - started
        if not live_during:
            self.result.fail("slow client: /health/live failed while the slow client was connected")
        if outcome is None:
            self.result.fail(f"slow client: the connection was still open after {took:.0f} s (an incomplete body "
                             "for 10 s then 35 s of silence): no read timeout")
            return f"still open after {took:.0f} s"
        return f"{outcome} after {took:.1f} s"


def raise_open_files_limit(needed: int):
    """Raises this process's soft limit of open files to `needed` (its children inherit it), or fails the case when
    the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise CaseError(f"this case needs {needed} open files; the hard limit is {hard} (raise it: ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def vm_hwm_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM of /proc/PID/status) in MiB."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise CaseError(f"no VmHWM in /proc/{pid}/status")


class StalledUploads(Case):
    """Many uploads announce a large body, send part of it and stall. The request-body budget
    (INGEST_BODY_BUDGET_BYTES) bounds what they hold together, the body timeout (INGEST_BODY_TIMEOUT_SECONDS) ends
    them, and ordinary requests are served meanwhile. Measure it against a release build (TED_BIN=.build/release/ted):
    the peak RSS must stay near the budget, not grow with the number of uploads. Most of the 1200 are refused (503):
    what each connection reads before its upload is refused is what grows with their number (up to 256 KiB each
    when NIO read four 64 KiB buffers per readiness event; 16 KiB since each connection reads once, into at most
    16 KiB)."""
    number = 8
    title = "stalled large uploads"
    uploads = 1200
    declared = 4 * 1024 * 1024 - 1024   # just under INGEST_MAX_BODY_BYTES (4 MiB)
    sent_each = 1024 * 1024
    budget_mib = 64

    def run(self):
        # This process holds a socket per upload, and ted (started below, inheriting the limit) one more each.
        raise_open_files_limit(self.uploads + 256)
        mongo = self.new_mongo()
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", INGEST_BODY_BUDGET_BYTES=str(self.budget_mib << 20),
                           INGEST_BODY_TIMEOUT_SECONDS="5")
        ted.start()
        ledger = Ledger()
        for n in range(1, 6):
            if send_game(ted, ledger, f"f8-before-g{n}", ticks=15) != 202:
                raise CaseError("a valid game was refused before the stalled uploads")
        baseline = vm_hwm_mib(ted.proc.pid)
        head = (b"POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(self.declared).encode() + b"\r\n\r\n")
        part = b"[" + b" " * (self.sent_each - 1)
        sockets: list[socket.socket] = []
        refused_early = 0
        served_during = 0
        started = time.monotonic()
        try:
            for i in range(self.uploads):
                sock = socket.create_connection(("127.0.0.1", ted.port), timeout=10)
                sockets.append(sock)
                try:
                    sock.sendall(head + part)
                except OSError:
                    refused_early += 1
                if i % 30 == 29:
                    # Ordinary clients keep being served while the uploads hold their bytes.
                    if send_game(ted, ledger, f"f8-during-g{i}", ticks=15, timeout=10) == 202:
                        served_during += 1
            opened = time.monotonic() - started
            peak = vm_hwm_mib(ted.proc.pid)
            answers: dict[str, int] = {}
            for sock in sockets:
                sock.settimeout(max(1.0, 15 - (time.monotonic() - started)))
                try:
                    data = sock.recv(200)
                    key = data.split(b"\r\n")[0].decode("latin-1")[9:12] if data else "closed"
                except (socket.timeout, TimeoutError):
                    key = "no answer"
                except OSError:
                    key = "reset"
                answers[key] = answers.get(key, 0) + 1
        finally:
            for sock in sockets:
                sock.close()
        peak = max(peak, vm_hwm_mib(ted.proc.pid))
        note = (f"{self.uploads} uploads of {self.declared / 2**20:.1f} MiB stalled after {self.sent_each / 2**20:.1f} MiB "
                f"(opened in {opened:.1f} s): peak RSS {baseline:.0f} -> {peak:.0f} MiB (budget {self.budget_mib} MiB); "
                f"answers {dict(sorted(answers.items()))}; {served_during}/{self.uploads // 30} ordinary requests "
                f"served meanwhile")
        log(note)
        self.result.notes.append(note)
        # Without the budget every upload's megabyte stays buffered: 1200 MiB and more. With it, and NIO's read-ahead
        # of up to 256 KiB a connection, 1200 uploads took 208 MiB (release) and 238 MiB (debug) above the baseline;
        # with 16 KiB a connection 89 and 111 MiB.
        if peak - baseline > self.budget_mib + 64:
            self.result.fail(f"peak RSS grew by {peak - baseline:.0f} MiB with a {self.budget_mib} MiB body budget "
                             f"and {self.uploads} connections")
        if served_during < self.uploads // 30:
            self.result.fail(f"only {served_during} of {self.uploads // 30} ordinary requests served during the uploads")
        if answers.get("no answer", 0):
            self.result.fail(f"{answers['no answer']} stalled uploads got no answer within 15 s (no body timeout?)")
        if not answers.get("503"):
            self.result.fail("no upload was refused with 503: the budget was never reached")
        for n in range(1, 6):
            if send_game(ted, ledger, f"f8-after-g{n}", ticks=15) != 202:
                raise CaseError("a valid game was refused after the stalled uploads")
        status = ted.drain()
        verify_store(self.result, mongo, ledger)
        verify_status(self.result, status)
        ted.stop()


# ----------------------------------------------------------------------------------------------------------------
# Records the store refuses for good (cases 9, 10): they go to the dead-letter, everything else is stored.


def dead_letter_ids(result: Result, mongo: Mongo, ted: Ted, expected: dict[str, set[str]], code: int):
    """The `dead_letters` collection and GET /api/persistence/dead-letters hold exactly `expected` (collection -> ids),
    each with error `code`."""
    letters = mongo.dead_letters()
    found: dict[str, set[str]] = {}
    for letter in letters:
        found.setdefault(letter.get("collection"), set()).add(letter.get("record_id"))
        if letter.get("error_code") != code:
            result.fail(f"dead letter {letter.get('_id')}: error_code {letter.get('error_code')}, expected {code} "
                        f"({letter.get('error_message')!r})")
    wanted = {c: ids for c, ids in expected.items() if ids}
    if found != wanted:
        result.fail(f"dead_letters holds {sum(len(v) for v in found.values())} records "
                    f"{ {c: sorted(v)[:4] for c, v in found.items()} }, expected "
                    f"{ {c: sorted(v)[:4] for c, v in wanted.items()} }")
    status, data = ted.get("/api/persistence/dead-letters?limit=1000")
    if status != 200:
        result.fail(f"GET /api/persistence/dead-letters answered {status}: {data[:200]!r}")
        return
    answer = json.loads(data)
    listed = {(l["collection"], l["record_id"]) for l in answer.get("dead_letters", [])}
    if answer.get("total") != len(letters) or listed != {(c, i) for c, ids in wanted.items() for i in ids}:
        result.fail(f"/api/persistence/dead-letters: total {answer.get('total')}, listed {sorted(listed)[:5]}; "
                    f"the collection holds {len(letters)}")
    codes = {l.get("error_code") for l in answer.get("dead_letters", [])}
    if codes - {code}:
        result.fail(f"/api/persistence/dead-letters lists error codes {sorted(codes)}, expected {code}")


def verify_rejected(result: Result, status: dict, expected: dict[str, int]):
    """`rejected` per collection and `records_rejected` are exactly what the store refused."""
    accounting = status["repository"]["accounting"]
    for collection in COLLECTIONS:
        got = accounting.get(collection, {}).get("rejected")
        if got != expected.get(collection, 0):
            result.fail(f"accounting.{collection}.rejected = {got}, expected {expected.get(collection, 0)}")
    total = status["repository"].get("records_rejected")
    if total != sum(expected.values()):
        result.fail(f"records_rejected = {total}, expected {sum(expected.values())}")


class RefusalCase(Case):
    """Shared by cases 9 and 10: a feed in which a few records break a rule the store enforces; those are refused
    (dead-lettered and counted `rejected`), the rest stored within two flush intervals, and nothing waits behind them."""
    interval = 1.0

    def feed(self, ted: Ted, ledger: Ledger) -> dict[str, set[str]]:
        """Sends the games; returns the ids the store must refuse (per collection)."""
        raise NotImplementedError

    def start(self):
        mongo = self.new_mongo()
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", PERSISTENCE_INTERVAL_SECONDS=str(self.interval))
        ted.start()  # creates the collections and ted's indexes
        return mongo, ted

    def check(self, mongo: Mongo, ted: Ted, ledger: Ledger, refused: dict[str, set[str]], code: int, last_ack: float):
        refused_count = {c: len(ids) for c, ids in refused.items()}
        expected = Ledger()
        for c in COLLECTIONS:
            expected.acked[c] = ledger.acked[c] - refused[c]
            expected.doubt[c] = ledger.doubt[c]
        wanted = {c: len(expected.acked[c]) for c in COLLECTIONS}

        # Every other record is stored within two flush intervals (a little slack for the polling and the server).
        limit = 2 * self.interval + 1.0
        def all_stored():
            with mongo.client() as client:
                db = client[mongo.db]
                return all(db[c].count_documents({}) >= wanted[c] for c in COLLECTIONS)
        try:
            wait_until(all_stored, limit - (time.monotonic() - last_ack), interval=0.1,
                       what=f"every accepted record to be stored")
            took = time.monotonic() - last_ack
        except CaseError:
            took = None
            self.result.fail(f"not every acceptable record was stored within two flush intervals ({limit:.1f} s) of "
                             f"the last 202: something waits behind the refused records")
        # Past three flush intervals a record still waiting would make readiness say "stuck".
        time.sleep(max(0.0, 3 * self.interval + 1 - (time.monotonic() - last_ack)))
        status = ted.status()
        pending = status["repository"]["records_pending"]
        if pending:
            self.result.fail(f"{pending} records still pending {3 * self.interval + 1:.0f} s after the feed")
        code_ready, data = ted.get("/health/ready")
        if code_ready != 200:
            self.result.fail(f"/health/ready answered {code_ready}: {data[:300]!r}")
        stored, _ = verify_store(self.result, mongo, expected, forbidden=refused, forbidden_why="the store refuses")
        verify_status(self.result, status)
        verify_rejected(self.result, status, refused_count)
        self.result.acknowledged = ledger.acked_total()
        dead_letter_ids(self.result, mongo, ted, refused, code)
        # "Error persisting <collection>: N records refused and moved to the dead-letter; first: ..." (one per flush)
        with open(ted.logfile, errors="replace") as handle:
            lines = [l for l in handle if "records refused and moved to the dead-letter" in l]
        for collection, ids in refused.items():
            logged = sum(int(l.split(f"Error persisting {collection}: ", 1)[1].split()[0]) for l in lines
                         if f"Error persisting {collection}: " in l)
            if logged != len(ids):
                self.result.fail(f"the log reports {logged} {collection} records refused, expected {len(ids)}")
        self.result.notes.append(
            f"refused {refused_count} (code {code}), stored the other {sum(wanted.values())} records "
            f"{'in %.1f s' % took if took is not None else 'late'} (limit {limit:.1f} s), pending {pending}, "
            f"ready {code_ready}; log: {lines[0].strip()[-160:] if lines else '-'}")
        return stored


class RefusedByValidator(RefusalCase):
    number = 9
    title = "validator refuses K predictions"
    refused_games = (2, 5, 8, 11)

    def run(self):
        mongo, ted = self.start()
        # A JSON-schema validator left on the collection: predictions with confidence > 0.9 are refused (code 121).
        with mongo.client() as client:
            db = client[mongo.db]
            validator = {"$jsonSchema": {"properties": {"confidence": {"bsonType": "double", "maximum": 0.9}}}}
            if "predictions" in db.list_collection_names():
                db.command("collMod", "predictions", validator=validator, validationAction="error",
                           validationLevel="strict")
            else:
                db.create_collection("predictions", validator=validator, validationAction="error")
        ledger = Ledger()
        refused = {c: set() for c in COLLECTIONS}
        games = 12  # small enough to be written within one flush interval on a loaded machine
        for n in range(1, games + 1):
            game_id = f"f9-g{n}"
            # Every game has a second prediction at tick 3: 0.95 (refused) in a few games, 0.9 (the bound) elsewhere.
            confidence = 0.95 if n in self.refused_games else 0.9
            if send_game(ted, ledger, game_id, ticks=20, extra_predictions={3: confidence}) != 202:
                raise CaseError(f"{game_id} was not accepted")
            if n in self.refused_games:
                refused["predictions"].add(f"{game_id}:3:{MODEL}")
        self.check(mongo, ted, ledger, refused, 121, time.monotonic())
        ted.stop()


class RefusedByForeignIndex(RefusalCase):
    number = 10
    title = "foreign unique index refuses K ticks"
    repeat_games = (3, 7, 10)

    def run(self):
        mongo, ted = self.start()
        # Another program left a unique index on tick_samples.price; the feed repeats a price in a few games.
        with mongo.client() as client:
            client[mongo.db]["tick_samples"].create_index([("price", 1)], unique=True, name="foreign_price_unique")
        ledger = Ledger()
        pairs = []
        games = 12  # small enough to be written within one flush interval on a loaded machine
        for n in range(1, games + 1):
            game_id = f"f10-g{n}"
            prices = [round(n + 1 + tick / 1000, 4) for tick in range(20)]  # unique across the feed...
            if n in self.repeat_games:
                prices[6] = prices[5]  # ...but for these: tick 6 repeats tick 5's price
                pairs.append((f"{game_id}:5", f"{game_id}:6"))
            if send_game(ted, ledger, game_id, ticks=20, prices=prices) != 202:
                raise CaseError(f"{game_id} was not accepted")
        last_ack = time.monotonic()
        # Which of a pair is refused is the store's business (the first written wins); read it from the dead-letter.
        refused = {c: set() for c in COLLECTIONS}
        wait_until(lambda: len(mongo.dead_letters()) >= len(pairs), 2 * self.interval + 1.0, interval=0.1,
                   what=f"{len(pairs)} dead letters")
        lettered = {l.get("record_id") for l in mongo.dead_letters() if l.get("collection") == "tick_samples"}
        for first, second in pairs:
            loser = second if second in lettered else first
            refused["tick_samples"].add(loser)
        stored = self.check(mongo, ted, ledger, refused, 11000, last_ack)
        for first, second in pairs:
            kept = {first, second} & stored["tick_samples"][0]
            if len(kept) != 1:
                self.result.fail(f"of the ticks {first} and {second} (same price) {len(kept)} are stored, expected one")
        ted.stop()


# ----------------------------------------------------------------------------------------------------------------
# Faults injected into the server with configureFailPoint/failCommand (cases 11-13; SecantusDB --enable-test-commands)


class FailPointCase(Case):
    """A feed runs while the server's failCommand fail point is armed again and again on the writes ted makes
    (insert, update). Every acknowledged record must end up stored exactly once, nothing refused, nothing dropped,
    the accounting balanced, and the faults must have been seen (the status counts flush errors)."""
    rounds_short = 0
    rounds_full = 0
    round_seconds = 1.2

    def arm(self, mongo: Mongo, round_number: int) -> str:
        """Arms the fail point for one round; returns what it did."""
        raise NotImplementedError

    def run(self):
        mongo = self.new_mongo(test_commands=True)
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", PERSISTENCE_INTERVAL_SECONDS="0.3",
                           PERSISTENCE_BATCH_SIZE="50")
        ted.start()
        ledger = Ledger()
        feeder = Feeder(ted, ledger, f"f{self.number}", ticks=20, pause=0.1 if self.short else 0.05)
        feeder.start()
        rounds = self.rounds_short if self.short else self.rounds_full
        started = time.monotonic()
        armed = []
        try:
            for round_number in range(1, rounds + 1):
                armed.append(self.arm(mongo, round_number))
                time.sleep(self.round_seconds)
        finally:
            mongo.fail_command("off")
            feeder.finish()
        errors = ted.status()["repository"]["errors"]
        fed = time.monotonic() - started
        status = ted.drain()
        log(f"{rounds} rounds in {fed:.1f} s, drained in {time.monotonic() - started - fed:.1f} s")
        verify_store(self.result, mongo, ledger)
        verify_status(self.result, status)
        verify_rejected(self.result, status, {})
        if not errors:
            self.result.fail(f"no flush error counted after {rounds} armed fail points: the faults were not seen")
        with open(ted.logfile, errors="replace") as handle:
            logged = [l.strip() for l in handle if "Error persisting" in l]
        self.result.notes.append(f"{rounds} rounds ({', '.join(sorted(set(armed)))}), {feeder.n} games sent, "
                                 f"{ledger.requests}, flush errors {errors}; first: "
                                 f"{logged[0].split('Error persisting', 1)[1][:140] if logged else '-'}")
        ted.stop()


class DroppedConnections(FailPointCase):
    number = 11
    title = "failCommand closeConnection"
    rounds_short = 3
    rounds_full = 12

    def arm(self, mongo: Mongo, round_number: int) -> str:
        mongo.fail_command({"times": 3}, failCommands=["insert", "update"], closeConnection=True)
        return "closeConnection x3"


class RetryableCodes(FailPointCase):
    number = 12
    title = "failCommand retryable codes"
    codes = (91, 10107, 11600)  # ShutdownInProgress, NotWritablePrimary, InterruptedAtShutdown
    rounds_short = 3
    rounds_full = 12

    def arm(self, mongo: Mongo, round_number: int) -> str:
        code = self.codes[(round_number - 1) % len(self.codes)]
        mongo.fail_command({"times": 3}, failCommands=["insert", "update"], errorCode=code)
        return f"errorCode {code} x3"


def chunked_game(game_id: str, ticks: int, peak_tick: int, chunk: int) -> list[tuple[bytes, dict[str, set[str]]]]:
    """One game sent in requests of `chunk` ticks: prices rise to `peak_tick`, then fall; a prediction and a side
    bet at tick 0; the last tick rugged. Returns (body, ids) per request."""
    prices = game_prices(ticks, peak_tick)
    body, _ = game_events(game_id, ticks, prices=prices)
    lines = body.decode().splitlines(keepends=True)
    requests = []
    start = 0
    while start < len(lines):
        first_tick = json.loads(lines[start]).get("tick", 0)
        end = start
        while end < len(lines) and json.loads(lines[end]).get("tick", first_tick) < first_tick + chunk:
            end += 1
        part = lines[start:end]
        ids = {c: set() for c in COLLECTIONS}
        ids["games"].add(game_id)
        for line in part:
            event = json.loads(line)
            if event["type"] == "game_state":
                ids["tick_samples"].add(f"{game_id}:{event['tick']}")
            elif event["type"] == "prediction":
                ids["predictions"].add(f"{game_id}:{event['predicted_at_tick']}:{MODEL}")
            else:
                ids["side_bets"].add(f"{game_id}:{event['placed_at_tick']}")
        requests.append(("".join(part).encode(), ids))
        start = end
    return requests


def game_prices(ticks: int, peak_tick: int) -> list[float]:
    return [round(1.0 + 0.05 * t if t <= peak_tick else 1.0 + 0.05 * peak_tick - 0.03 * (t - peak_tick), 4)
            for t in range(ticks)]


class SlowServerSpill(Case):
    """While the server holds ted's writes for 3 s (failCommand blockConnection), a burst pushes the pending queue
    past SPOOL_HIGH_WATER: records spill to the spool beside the blocked write. After the block everything is stored
    once, nothing lost, the accounting balanced, and each game document (merged from versions written, spilled and
    replayed in any order) has the start, peak and end that were sent."""
    number = 13
    title = "blocked writes + spill (blockConnection)"
    ticks = 40
    chunk = 10

    def run(self):
        mongo = self.new_mongo(test_commands=True)
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", SPOOL_HIGH_WATER="200",
                           PERSISTENCE_INTERVAL_SECONDS="0.5", PERSISTENCE_BATCH_SIZE="100")
        ted.start()
        ledger = Ledger()
        games: dict[str, int] = {}  # game_id -> peak tick, for games whose every request was acknowledged

        def send(n: int, phase: str, pause=0.0):
            game_id = f"f13-{phase}-g{n}"
            peak = 3 + (n * 7) % (self.ticks - 6)
            statuses = []
            for body, ids in chunked_game(game_id, self.ticks, peak, self.chunk):
                statuses.append(send_body(ted, ledger, body, ids))
                time.sleep(pause)
            if all(s == 202 for s in statuses):
                games[game_id] = peak

        for n in range(1, 4):
            send(n, "before")
        ted.drain()
        # Each of the next 2 inserts/updates is held 3 s by the server, then answered.
        mongo.fail_command({"times": 2}, failCommands=["insert", "update"], blockConnection=True, blockTimeMS=3000)
        peaks = {"spool": 0, "pending": 0}
        watching = threading.Event()

        def watch():
            while not watching.is_set():
                try:
                    status = ted.status()
                    peaks["spool"] = max(peaks["spool"], status["spool"].get("records", 0))
                    peaks["pending"] = max(peaks["pending"], status["repository"]["records_pending"])
                    for problem in unbalanced(status):
                        self.result.fail("accounting during the block: " + problem)
                except Exception:
                    pass
                watching.wait(0.1)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.monotonic()
        n = 0
        # ~4 s of requests 20 ms apart (a few thousand records): the first blocked write holds 3 s of them.
        while time.monotonic() - started < 4.0:
            n += 1
            send(n, "burst", pause=0.02)
        log(f"burst: {n} games ({ledger.requests}) in {time.monotonic() - started:.1f} s; peak pending "
            f"{peaks['pending']}, peak spool {peaks['spool']}")
        for n in range(1, 4):
            send(n, "after")
        status = ted.drain(timeout=120)
        watching.set()
        watcher.join(5)
        mongo.fail_command("off")
        stored, _ = verify_store(self.result, mongo, ledger)
        verify_status(self.result, status)
        verify_rejected(self.result, status, {})
        if peaks["spool"] == 0:
            self.result.fail(f"nothing spilled to the spool during the block (peak pending {peaks['pending']}): "
                             "the case did not test a spill beside a blocked write")
        wrong = self.check_games(mongo, games)
        self.result.notes.append(f"{len(games)} games of {self.ticks} ticks in requests of {self.chunk}; block 2 x 3 s; "
                                 f"peak pending {peaks['pending']}, peak spool {peaks['spool']}; {ledger.requests}; "
                                 f"game documents wrong {wrong}")
        ted.stop()

    def check_games(self, mongo: Mongo, games: dict[str, int]) -> int:
        with mongo.client() as client:
            documents = {d["_id"]: d for d in client[mongo.db]["games"].find({"_id": {"$in": list(games)}})}
        wrong = 0
        for game_id, peak in sorted(games.items()):
            prices = game_prices(self.ticks, peak)
            expected = {"start_tick": 0, "end_tick": self.ticks - 1, "peak_price": max(prices), "peak_tick": peak,
                        "final_price": prices[-1], "rugged": True}
            document = documents.get(game_id)
            if document is None:
                continue  # reported by verify_store
            got = {key: document.get(key) for key in expected}
            if got != expected:
                wrong += 1
                self.result.fail(f"game {game_id}: {got}, expected {expected}")
        return wrong


class SlowReports(Case):
    """Report queries the server holds for 4 s each (failCommand blockConnection on `aggregate`, which the metrics
    report runs and a feed of running games' ticks never needs) are requested six at a time, non-stop, while a feed
    runs. The flush must keep writing within a few intervals, readiness must answer fast, the report gate must refuse
    what is past its places, and everything acknowledged is stored once."""
    number = 14
    title = "slow reports vs the flush"
    interval = 1.0
    block_ms = 4000

    def run(self):
        mongo = self.new_mongo(test_commands=True)
        mongo.start()
        ted = self.new_ted(mongo.url, INGEST_DURABILITY="memory", PERSISTENCE_INTERVAL_SECONDS=str(self.interval),
                           PERSISTENCE_BATCH_SIZE="200")
        ted.start()
        ledger = Ledger()
        seconds = 10.0 if self.short else 20.0
        mongo.fail_command({"times": 100000}, failCommands=["aggregate"], blockConnection=True, blockTimeMS=self.block_ms)
        stop = threading.Event()
        reports: list[tuple[int | None, float]] = []
        reports_lock = threading.Lock()

        def ask_reports():
            while not stop.is_set():
                started = time.monotonic()
                try:
                    code, _ = ted.get("/api/persistence/metrics?hours=8760", timeout=60)
                except (OSError, http.client.HTTPException):
                    code = None
                with reports_lock:
                    reports.append((code, time.monotonic() - started))
                if code != 200:
                    stop.wait(0.2)

        askers = [threading.Thread(target=ask_reports, daemon=True) for _ in range(6)]
        for asker in askers:
            asker.start()
        lags, ready = [], []
        started = time.monotonic()
        tick = 0
        while time.monotonic() - started < seconds:
            # Ticks of one running game: the flush inserts and merges and never aggregates (an ended game would:
            # its outcomes are counted in the store).
            game = "f14-g1"
            lines = "".join(json.dumps({"type": "game_state", "game_id": game, "tick": t, "price": 1 + (t % 7) / 10})
                            + "\n" for t in range(tick, tick + 20))
            ids = {c: set() for c in COLLECTIONS}
            ids["games"].add(game)
            ids["tick_samples"] |= {f"{game}:{t}" for t in range(tick, tick + 20)}
            sent_at = time.monotonic()
            send_body(ted, ledger, lines.encode(), ids)
            tick += 20

            def written():
                return ted.status()["repository"]["records_pending"] == 0 or None
            try:
                wait_until(written, 15, interval=0.05, what="the flush")
            except CaseError:
                pass
            lags.append(time.monotonic() - sent_at)
            probe = time.monotonic()
            code, _ = ted.get("/health/ready", timeout=10)
            ready.append((code, time.monotonic() - probe))
        stop.set()
        for asker in askers:
            asker.join(self.block_ms / 1000 * 3)
        mongo.fail_command("off")
        status = ted.drain()
        verify_store(self.result, mongo, ledger)
        verify_status(self.result, status)
        verify_rejected(self.result, status, {})
        worst_lag = max(lags) if lags else 0.0
        worst_ready = max(latency for _, latency in ready) if ready else 0.0
        slow = sum(1 for code, latency in reports if code == 200 and latency >= self.block_ms / 1000)
        refused = sum(1 for code, _ in reports if code == 503)
        if worst_lag > 3 * self.interval + 1:
            self.result.fail(f"a request waited {worst_lag:.1f} s to be written (limit {3 * self.interval + 1:.0f} s): "
                             "the reports held the flush")
        if worst_ready > 1.0:
            self.result.fail(f"/health/ready took {worst_ready:.2f} s (limit 1 s)")
        if any(code != 200 for code, _ in ready):
            self.result.fail(f"/health/ready answered {sorted({code for code, _ in ready})}")
        if slow == 0:
            self.result.fail("no report was held by the server: the case did not test slow reports")
        if refused == 0:
            self.result.fail("no report was refused: the report gate never closed")
        self.result.notes.append(f"{len(lags)} requests, write lag max {worst_lag:.2f} s (median "
                                 f"{sorted(lags)[len(lags) // 2]:.2f} s); /health/ready max {worst_ready * 1000:.0f} ms; "
                                 f"reports: {slow} held {self.block_ms / 1000:.0f} s, {refused} refused with 503, "
                                 f"{len(reports)} in all")
        ted.stop()


class KillMidGame(Case):
    """One game split by a kill -9 in its middle, then finished by the restarted process: in memory mode once the
    first half was flushed, in durable mode with nothing waited for, and in durable mode with the store down across
    the restart. Every prediction and side bet must end up resolved against the rug tick, and the stored game must
    have the start, peak, end and counters of a run without the kill."""
    number = 15
    title = "kill -9 in mid-game, outcomes resolved"
    ticks = 200
    peak = 150  # prices stay positive to the rug at 199
    predictions = {10: 180, 50: 230, 150: 199}      # tick -> predicted end tick
    side_bets = {20: "BET", 120: "BET", 170: "BET", 190: "SKIP"}
    chunk = 10

    def events(self, game_id: str, first: int, last: int) -> list[bytes]:
        prices = game_prices(self.ticks, self.peak)
        bodies, lines = [], []
        for tick in range(first, last):
            lines.append({"type": "game_state", "game_id": game_id, "tick": tick, "price": prices[tick],
                          "rugged": tick == self.ticks - 1})
            if tick in self.predictions:
                lines.append({"type": "prediction", "game_id": game_id, "predicted_at_tick": tick,
                              "predicted_end_tick": self.predictions[tick], "confidence": 0.6, "model_version": MODEL})
            if tick in self.side_bets:
                lines.append({"type": "side_bet", "game_id": game_id, "placed_at_tick": tick, "probability": 0.3,
                              "expected_value": 0.2, "confidence": 0.5, "recommendation": self.side_bets[tick]})
            if (tick + 1) % self.chunk == 0 or tick == last - 1:
                bodies.append("".join(json.dumps(line) + "\n" for line in lines).encode())
                lines = []
        return bodies

    def send(self, ted: Ted, bodies: list[bytes]):
        for body in bodies:
            status, _, data = ted.request("POST", "/api/ingest", body, NDJSON)
            if status != 202:
                raise CaseError(f"a request of the game answered {status}: {data[:200]!r}")

    def run(self):
        mongo = self.new_mongo()
        mongo.start()
        variants = [("memory", False), ("durable", False), ("durable", True)]
        for durability, store_down in variants[:2] if self.short else variants:
            game_id = f"f15-{durability}{'-down' if store_down else ''}"
            ted = self.new_ted(mongo.url, INGEST_DURABILITY=durability, PERSISTENCE_INTERVAL_SECONDS="0.3")
            ted.start()
            half = self.ticks // 2
            self.send(ted, self.events(game_id, 0, half))
            if durability == "memory":
                ted.drain()  # memory mode keeps only what was flushed before the kill
            ted.stop(signal.SIGKILL)
            if store_down:
                mongo.stop()
            ted.start()
            self.send(ted, self.events(game_id, half, self.ticks))
            if store_down:
                time.sleep(1.0)
                mongo.start()
            status = ted.drain(timeout=120)
            verify_status(self.result, status)
            self.check(mongo, game_id, durability + (" (store down across the restart)" if store_down else ""))
            ted.stop()

    def check(self, mongo: Mongo, game_id: str, variant: str):
        prices = game_prices(self.ticks, self.peak)
        end = self.ticks - 1
        with mongo.client() as client:
            database = client[mongo.db]
            game = database["games"].find_one({"_id": game_id}) or {}
            predictions = list(database["predictions"].find({"game_id": game_id}))
            side_bets = list(database["side_bets"].find({"game_id": game_id}))
            samples = database["tick_samples"].count_documents({"game_id": game_id})
        expected = {"start_tick": 0, "end_tick": end, "peak_price": max(prices), "peak_tick": self.peak,
                    "final_price": prices[-1], "rugged": True, "prediction_count": len(self.predictions),
                    "side_bets_placed": sum(1 for r in self.side_bets.values() if r == "BET")}
        got = {key: game.get(key) for key in expected}
        # Every record of the game was acknowledged (202): 1 game, its tick samples, predictions and side bets.
        records = 1 + self.ticks + len(self.predictions) + len(self.side_bets)
        self.result.acknowledged += records
        self.result.stored += (1 if game else 0) + samples + len(predictions) + len(side_bets)
        if got != expected:
            self.result.fail(f"{variant}: game {got}, expected {expected}")
        if samples != self.ticks:
            self.result.fail(f"{variant}: {samples} tick samples, expected {self.ticks}")
        resolved = {p["predicted_at_tick"]: (p.get("actual_end_tick"), (p.get("error_metrics") or {}).get("raw_error"))
                    for p in predictions}
        want = {tick: (end, predicted - end) for tick, predicted in self.predictions.items()}
        if resolved != want:
            self.result.fail(f"{variant}: predictions {resolved}, expected {want}")
        outcomes = {b["placed_at_tick"]: (b.get("actual_outcome"), b.get("payout")) for b in side_bets}
        want_bets = {}
        for tick, recommendation in self.side_bets.items():
            won = end <= tick + 39
            want_bets[tick] = ("WON" if won else "LOST", (4.0 if won else -1.0) if recommendation == "BET" else None)
        if outcomes != want_bets:
            self.result.fail(f"{variant}: side bets {outcomes}, expected {want_bets}")
        self.result.notes.append(f"{variant}: game {got['start_tick']}..{got['end_tick']} peak {got['peak_price']}@"
                                 f"{got['peak_tick']}, {len(predictions)} predictions and {len(side_bets)} side bets "
                                 f"resolved against tick {end}")


ALL = [KillDuringFlush, StoreOutage, FlagFlips, SigtermUnderLoad, DamagedSpool, SpoolLimit, BadInput, StalledUploads,
       RefusedByValidator, RefusedByForeignIndex, DroppedConnections, RetryableCodes,
       SlowServerSpill, SlowReports, KillMidGame]
SHORT = {1, 2, 3, 7, 9, 10, 11, 12, 14, 15}


def main() -> int:
    global TED_BIN
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="reduced cases 1, 2, 3, 7, 9, 10, 11, 12, 14 and 15 (CI)")
    parser.add_argument("--case", default="", help="comma-separated case numbers to run")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FAULTS_SEED", "0")) or int(time.time()))
    parser.add_argument("--outage-pause", type=float, default=0.04,
                        help="case 2: seconds between games of 23 records (default 0.04: ~400-500 records/s)")
    parser.add_argument("--keep", action="store_true", help="keep every case's temp directory")
    args = parser.parse_args()
    if not TED_BIN or not os.access(TED_BIN, os.X_OK):
        print(f"error: TED_BIN is not an executable: {TED_BIN!r} (run through scripts/faults)", file=sys.stderr)
        return 2
    if not SECANTUS_BIN or not os.access(SECANTUS_BIN, os.X_OK):
        print(f"error: SecantusDB not found: {SECANTUS_BIN!r} (run through scripts/faults)", file=sys.stderr)
        return 2
    # Run a private copy: others rebuild .build/debug/ted while the cases run, and a binary replaced under a
    # running process (or a half-linked one) would make crashes that are not the service's.
    snapshot_dir = tempfile.mkdtemp(prefix="ted-faults-bin-")
    atexit.register(shutil.rmtree, snapshot_dir, True)
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(TED_BIN)))
    snapshot = os.path.join(snapshot_dir, "ted")
    shutil.copy2(TED_BIN, snapshot)
    original, TED_BIN = TED_BIN, snapshot
    wanted = {int(x) for x in args.case.split(",") if x.strip()} or (SHORT if args.short else {c.number for c in ALL})
    print(f"faults: ted={original} (built {built}, run from a copy) seed={args.seed} {'short' if args.short else 'full'} cases={sorted(wanted)}", flush=True)
    results = []
    started = time.monotonic()
    for case_class in ALL:
        if case_class.number not in wanted:
            continue
        print(f"--- case {case_class.number}: {case_class.title}", flush=True)
        result = case_class(args).execute()
        results.append(result)
        print(f"    {'PASS' if result.ok else 'FAIL'} in {result.seconds:.0f} s", flush=True)
        for failure in result.failures:
            print(f"    ! {failure}", flush=True)
    print()
    header = ("case", "acknowledged", "stored", "spooled", "dropped", "rejected", "duplicates", "result")
    rows = [(r.name, str(r.acknowledged), str(r.stored), str(r.spooled), str(r.dropped), str(r.rejected),
             str(r.duplicates), "PASS" if r.ok else "FAIL") for r in results]
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    line = lambda row: " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row))
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()
    for r in results:
        for note in r.notes:
            print(f"  [{r.name.split()[0]}] {note}")
        for failure in r.failures:
            print(f"  [{r.name.split()[0]}] FAIL: {failure.splitlines()[0]}")
    passed = sum(r.ok for r in results)
    print(f"\nfaults: {passed}/{len(results)} cases passed in {time.monotonic() - started:.0f} s")
    # The plain closing line CI runners read.
    print(f"faults: {passed} passed, {len(results) - passed} failed")
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _cleanup_children()
        sys.exit(130)
