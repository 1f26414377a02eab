// The operator console: polls the service's JSON API and renders it. Sections render independently, so one
// failing route never blanks the others; a route that answers 404 is a feature this service does not have.

import { bind, count, decimal, duration, el, fillTable, percent, percentage, time } from "./format.js";
import { gameChart, timeChart } from "./charts.js";

const POLL_MS = 5000;
const REPORT_POLL_MS = 60000;
const TOKEN_KEY = "ted.adminToken";
const GAMES_SHOWN = 20;
const SIDE_BET_WINDOW_TICKS = 40;
const NOT_AVAILABLE = "Not available on this service.";

const $ = (selector) => document.querySelector(selector);

/** An answer other than 2xx or 404, with the API's error message. */
class HTTPError extends Error {}

/** GET a JSON route; null when it answers 404. */
async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (response.status === 404) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new HTTPError(body.error ?? `${path} answered HTTP ${response.status}`);
  return body;
}

// Store reads pass the service's report gate (two at a time, else 503): this tab sends them one after another.
let storeQueue = Promise.resolve();
function readStore(path) {
  const result = storeQueue.then(() => getJSON(path));
  storeQueue = result.catch(() => {});
  return result;
}

/**
 * Runs a section's render; an error answer goes to `showError` in the section. Other failures (the service is
 * unreachable) go on to the caller, which shows the banner.
 */
async function section(render, showError) {
  try {
    await render();
  } catch (error) {
    if (!(error instanceof HTTPError)) throw error;
    showError(error.message);
  }
}

/** Shows an error in a table's body. */
const inTable = (selector) => (message) => fillTable($(selector), [], message);

// ---- Service, flag and write path ----

function renderStatus(status, persistence) {
  const repository = persistence.repository;
  const spool = persistence.spool;
  const reachable = status.persistence.store_reachable;
  bind(document, {
    version: status.version,
    uptime: duration(status.uptime_seconds),
    store: `${persistence.backend} · ${reachable == null ? "none configured" : reachable ? "reachable" : "unreachable"}`,
    updated: time(new Date().toISOString()),
    "flag-state": persistence.enabled ? "On" : "Off",
    "flag-source": persistence.flag_source,
    "flag-changed": time(persistence.flag_changed_at),
    "records-saved": count(repository.records_saved),
    "records-pending": count(repository.records_pending),
    spool: spool.enabled ? `${count(spool.records)} records${spool.full ? " (full)" : ""}` : "none",
    "last-save": time(repository.last_save),
    errors: count(repository.errors),
    durability: persistence.durability,
    "last-error": repository.last_error ? `Last error: ${repository.last_error}` : "",
  });
  $("#flag-switch").setAttribute("aria-checked", String(persistence.enabled));
  renderAccounting(repository.accounting);
}

const ACCOUNTING_TERMS = ["accepted", "recovered", "caught_up", "stored", "pending", "spooled", "rejected", "dropped", "superseded"];

function renderAccounting(accounting) {
  const rows = Object.entries(accounting).map(([collection, terms]) => el("tr", { "data-collection": collection },
    el("th", { scope: "row" }, collection),
    ACCOUNTING_TERMS.map((term) => el("td", { "data-field": term, class: "num" }, count(terms[term]))),
    el("td", { "data-field": "balanced", class: terms.balanced ? "num good" : "num bad" }, terms.balanced ? "✓ yes" : "✗ no")));
  fillTable($("#accounting table"), rows, "No collections.");
  const balanced = Object.values(accounting).every((terms) => terms.balanced);
  const badge = $('[data-bind="balance"]');
  badge.textContent = balanced ? "balanced" : "does not balance";
  badge.className = `badge ${balanced ? "good" : "bad"}`;
}

function renderTimeline(timeline) {
  const samples = timeline.samples.map((s) => ({ ...s, t: new Date(s.at) }));
  bind(document, { "timeline-span": duration(Math.max(samples.length, 1) * timeline.interval_seconds) });
  const charts = [
    ["flush", "flush_rate_per_second", "Records stored per second", (v) => decimal(v, v < 10 ? 1 : 0)],
    ["pending", "pending", "Records pending in memory", count],
    ["spooled", "spooled", "Records in the spool", count],
  ];
  for (const [name, field, label, format] of charts) {
    const points = samples.map((s) => ({ t: s.t, v: s[field] }));
    const now = points.at(-1)?.v;
    $(`[data-chart="${name}"]`).replaceChildren(timeChart(points, { label: `${label}, now ${format(now)}`, format }));
  }
}

// ---- The flag switch ----

function askToken(purpose) {
  const dialog = $("#token-dialog");
  const input = $("#token-input");
  bind(dialog, { "token-purpose": purpose });
  input.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
  dialog.returnValue = "";  // Escape closes without setting it: the previous answer must not count
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? input.value.trim() : null), { once: true });
  });
}

async function switchFlag() {
  const enable = $("#flag-switch").getAttribute("aria-checked") !== "true";
  const token = await askToken(`Turn persistence ${enable ? "on" : "off"}?`);
  if (!token) return;
  const message = $("#flag-message");
  const response = await fetch(`/api/persistence/${enable ? "enable" : "disable"}`, {
    method: "POST", headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) {
    sessionStorage.setItem(TOKEN_KEY, token);
    message.textContent = `Persistence is ${body.enabled ? "on" : "off"}${body.changed ? "" : " (it already was)"}.`;
    message.className = "small good";
  } else {
    if (response.status === 401 || response.status === 403) sessionStorage.removeItem(TOKEN_KEY);
    message.textContent = body.error ?? `The service answered HTTP ${response.status}.`;
    message.className = "small bad";
  }
  $("#forget-token").hidden = sessionStorage.getItem(TOKEN_KEY) == null;
  await refreshLive();
}

// ---- Games ----

/** One game of any source: a stored game document, or an in-memory summary ({game, predictions, accuracy, ...}). */
function normaliseGame(item) {
  const game = item.game ?? item;
  return {
    ...game,
    prediction_count: game.prediction_count ?? item.predictions,
    prediction_accuracy: item.accuracy ?? game.prediction_accuracy,
  };
}

async function loadGames() {
  const stored = await readStore(`/api/persistence/games?limit=${GAMES_SHOWN}`);
  if (stored) return { games: stored.games, source: stored.enabled === false ? "from memory (persistence is off)" : "from the store" };
  const memory = await getJSON(`/api/prediction-history?limit=${GAMES_SHOWN}`);
  return { games: memory.games.toReversed(), source: "from memory" };  // the history lists oldest first
}

function renderGames({ games, source }) {
  bind(document, { "games-source": source });
  const rows = games.map(normaliseGame).map((g) => el("tr", { "data-game": g.game_id },
    el("th", { scope: "row" }, el("a", { href: `#game=${encodeURIComponent(g.game_id)}` }, g.game_id)),
    el("td", { class: "num" }, time(g.created_at)),
    el("td", { class: "num" }, `${decimal(g.peak_price)}× @ ${count(g.peak_tick)}`),
    el("td", { class: "num" }, count(g.end_tick),
      g.end_inferred ? el("span", { class: "badge warn", title: "End inferred: the rug was never seen" }, "inferred") : null),
    el("td", { class: "num" }, `${count(g.duration_ticks)} ticks`),
    el("td", { class: "num" }, percent(g.completeness)),
    el("td", { class: "num" }, count(g.prediction_count)),
    el("td", { class: "num" }, percent(g.prediction_accuracy)),
    el("td", { class: "num" }, count(g.side_bets_placed))));
  fillTable($("#games table"), rows, "No finished games yet.");
}

/** Every stored tick of a game, page by page; empty when the service keeps no recording of it. */
async function loadTicks(id) {
  const ticks = [];
  let after = -1;
  for (let page = 0; page < 20 && after != null; page += 1) {
    const answer = await readStore(`/api/persistence/game/${encodeURIComponent(id)}/ticks?after_tick=${after}&limit=5000`);
    if (!answer) break;
    ticks.push(...answer.ticks);
    after = answer.next_after_tick;
  }
  return ticks;
}

async function showGame(id) {
  const view = $("#game");
  const detail = await readStore(`/api/persistence/game/${encodeURIComponent(id)}`);
  view.hidden = false;
  bind(view, { "game-id": id });
  if (!detail) {
    bind(view, { "game-summary": "This game is neither stored nor in memory." });
    $('[data-chart="game"]').replaceChildren();
    return;
  }
  const game = normaliseGame(detail.game);
  const ticks = await loadTicks(id);
  const betsPlaced = detail.side_bets.filter((b) => b.recommendation === "BET").length;
  bind(view, {
    "game-summary": `Ticks ${count(game.start_tick)}–${count(game.end_tick)}${game.end_inferred ? " (end inferred)" : ""}, `
      + `peak ${decimal(game.peak_price)}× at tick ${count(game.peak_tick)}, ${detail.predictions.length} predictions, `
      + `${detail.side_bets.length} side-bet signals (${betsPlaced} placed). `
      + (ticks.length ? `${count(ticks.length)} ticks recorded.` : "No tick recording stored for this game."),
  });
  $('[data-chart="game"]').replaceChildren(gameChart({
    game, ticks, predictions: detail.predictions, sideBets: detail.side_bets, windowTicks: SIDE_BET_WINDOW_TICKS,
  }));
}

function showGameError(message) {
  $("#game").hidden = false;
  bind($("#game"), { "game-summary": message });
}

function selectedGame() {
  const match = /^#game=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

// ---- Accuracy ----

function hourlyPoints(hourly, value) {
  return hourly.map((hour) => ({ t: new Date(hour.hour_start), v: value(hour) }));
}

function renderMetrics(metrics) {
  if (!metrics.enabled) {
    bind($("#accuracy"), Object.fromEntries(["total-predictions", "accuracy-1", "accuracy-2", "mean-e40", "median-e40", "roi"]
      .map((name) => [name, "off"])));
    for (const name of ["hourly-accuracy", "hourly-e40", "hourly-resolved"]) {
      $(`[data-chart="${name}"]`).replaceChildren(el("p", { class: "muted" }, metrics.message));
    }
    return;
  }
  bind($("#accuracy"), {
    "total-predictions": count(metrics.total_predictions),
    "accuracy-1": percent(metrics.accuracy_1_window),
    "accuracy-2": percent(metrics.accuracy_2_windows),
    "mean-e40": decimal(metrics.average_e40, 3),
    "median-e40": decimal(metrics.median_e40, 3),
    roi: percentage(metrics.side_bets.roi_percentage),
  });
  // The whole period on the axis (hours without records have no point), with dates: it starts on another day.
  const period = { withDate: true, domain: [new Date(metrics.period_start), new Date(metrics.period_end)] };
  const accuracy = hourlyPoints(metrics.hourly, (h) => {
    const resolved = h.predictions_resolved;
    return resolved ? h.prediction_metrics.within_1_window / resolved : null;
  });
  const e40 = hourlyPoints(metrics.hourly, (h) => h.prediction_metrics?.mean_e40 ?? null);
  $('[data-chart="hourly-accuracy"]').replaceChildren(timeChart(accuracy, {
    label: "Share of predictions within one window, by hour", format: (v) => percent(v, 0), max: 1, ...period,
  }));
  $('[data-chart="hourly-e40"]').replaceChildren(timeChart(e40, {
    label: "Mean e40 by hour", format: (v) => decimal(v, 2), ...period,
  }));
  $('[data-chart="hourly-resolved"]').replaceChildren(timeChart(hourlyPoints(metrics.hourly, (h) => h.predictions_resolved), {
    label: "Predictions resolved by hour", ...period,
  }));
}

function renderAnalytics(analytics, metrics) {
  const table = $("#models table");
  if (!analytics || analytics.enabled === false) {
    fillTable(table, [], analytics ? analytics.message : NOT_AVAILABLE);
  } else {
    fillTable(table, analytics.models.map((m) => el("tr", { "data-model": m.model_version },
      el("th", { scope: "row" }, m.model_version),
      el("td", { class: "num" }, count(m.predictions_resolved)),
      el("td", { class: "num" }, decimal(m.mean_error_ticks, 1)),
      el("td", { class: "num" }, decimal(m.mean_e40, 3)),
      el("td", { class: "num" }, decimal(m.median_e40, 3)),
      el("td", { class: "num" }, percent(m.accuracy_1_window)),
      el("td", { class: "num" }, percent(m.accuracy_2_windows)),
      el("td", { class: "num" }, percent(m.accuracy_3_windows)))), "No resolved predictions in this period.");
  }
  // Side bets from the analytics when the service has them, else the totals of the metrics report.
  const bets = analytics?.side_bets;
  const totals = metrics.enabled ? metrics.side_bets : {};
  bind($("#side-bets"), {
    "bets-placed": count(bets?.placed ?? totals.bets_placed),
    "bets-won": count(bets?.won ?? totals.bets_won),
    "bets-lost": count(bets?.lost ?? totals.bets_lost),
    "bets-void": bets ? count(bets.void) : "n/a",
    "net-payout": decimal(bets?.net_payout ?? totals.net_payout),
    "bets-roi": percentage(bets?.roi_percentage ?? totals.roi_percentage),
  });
}

async function refreshReports() {
  const hours = document.querySelector('input[name="hours"]:checked').value;
  await section(async () => {
    const metrics = await readStore(`/api/persistence/metrics?hours=${hours}`);
    renderMetrics(metrics);
    renderAnalytics(await readStore(`/api/persistence/analytics?hours=${hours}`), metrics);
  }, inTable("#models table"));
}

// ---- Dead letters, jobs, flag history ----

function renderDeadLetters(answer) {
  bind(document, { "dead-total": count(answer.total) });
  fillTable($("#dead-letters table"), answer.dead_letters.map((letter) => el("tr", {},
    el("td", {}, time(letter.failed_at)),
    el("td", {}, letter.collection),
    el("td", { class: "mono" }, letter.record_id),
    el("td", {}, letter.error_code == null ? "" : `${letter.error_code}: `, letter.error_message))), "None: nothing was refused.");
}

function renderJobs(jobs) {
  if (!jobs) {
    bind($("#jobs"), Object.fromEntries(["cleanup-last", "cleanup-next", "cleanup-deleted", "metrics-last", "metrics-next"]
      .map((name) => [name, "not run by this process"])));
    return;
  }
  const deleted = Object.entries(jobs.cleanup.last_deleted).map(([name, n]) => `${name} ${count(n)}`).join(", ");
  bind($("#jobs"), {
    "cleanup-last": time(jobs.cleanup.last_run_at),
    "cleanup-next": time(jobs.cleanup.next_run_at),
    "cleanup-deleted": deleted || "nothing",
    "metrics-last": time(jobs.hourly_metrics.last_hour),
    "metrics-next": time(jobs.hourly_metrics.next_run_at),
  });
}

function renderFlagHistory(history) {
  const table = $("#flag-history table");
  bind($("#flag-history"), { "history-unsynced": history?.unsynced ? `${count(history.unsynced)} not yet in the store` : "" });
  if (!history) {
    fillTable(table, [], NOT_AVAILABLE);
    return;
  }
  const state = (on) => (on ? "on" : "off");
  fillTable(table, history.changes.map((change) => el("tr", {},
    el("td", {}, time(change.at)),
    el("td", {}, `${state(change.from)} → ${state(change.to)}`),
    el("td", {}, change.source),
    el("td", { class: "mono" }, change.token_fingerprint ?? "–"),
    el("td", {}, change.host))), "No changes recorded.");
}

// ---- Polling ----

async function refreshLive() {
  const banner = $("#error");
  try {
    const [status, persistence, timeline, jobs] = await Promise.all([
      getJSON("/api/status"), getJSON("/api/persistence/status"), getJSON("/api/persistence/timeline"),
      getJSON("/api/persistence/jobs"),
    ]);
    renderStatus(status, persistence);
    renderTimeline(timeline);
    renderJobs(jobs);
    await Promise.all([
      section(async () => renderGames(await loadGames()), inTable("#games table")),
      section(async () => renderDeadLetters(await readStore("/api/persistence/dead-letters?limit=20")),
        inTable("#dead-letters table")),
      section(async () => renderFlagHistory(await readStore("/api/persistence/flag-history?limit=20")),
        inTable("#flag-history table")),
    ]);
    banner.hidden = true;
  } catch (error) {
    banner.textContent = `The service did not answer: ${error.message}. Retrying every ${POLL_MS / 1000} s.`;
    banner.hidden = false;
  }
}

/** Runs `task` now and `milliseconds` after each run ends (never two at once), skipping while the tab is hidden. */
function every(milliseconds, task) {
  const run = async () => {
    try {
      if (!document.hidden) await task();
    } finally {
      setTimeout(run, milliseconds);
    }
  };
  run();
}

$("#flag-switch").addEventListener("click", switchFlag);
$("#forget-token").hidden = sessionStorage.getItem(TOKEN_KEY) == null;
$("#forget-token").addEventListener("click", (event) => {
  sessionStorage.removeItem(TOKEN_KEY);
  event.target.hidden = true;
});
for (const radio of document.querySelectorAll('input[name="hours"]')) radio.addEventListener("change", refreshReports);
window.addEventListener("hashchange", async () => {
  const id = selectedGame();
  if (id == null) {
    $("#game").hidden = true;
    return;
  }
  await section(() => showGame(id), showGameError);
  $("#game").scrollIntoView({ behavior: "smooth", block: "start" });
});

every(POLL_MS, refreshLive);
every(REPORT_POLL_MS, refreshReports);
if (selectedGame() != null) section(() => showGame(selectedGame()), showGameError);
