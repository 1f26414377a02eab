// SVG charts: a time series for the timeline and the hourly figures, and a game's price curve. Pure functions of
// their data, returning an <svg> element sized by CSS (the viewBox keeps proportions on any screen).

import { clock, count, decimal } from "./format.js";

const NS = "http://www.w3.org/2000/svg";
const MARGIN = { top: 12, right: 14, bottom: 26, left: 52 };

function node(tag, attributes = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

// View-box sizes near the sizes the charts are drawn at on a laptop, so their text shows at about its font size.
const TIME_CHART = { width: 420, height: 150 };
const GAME_CHART = { width: 1100, height: 320 };

function frame({ width, height }, label) {
  return node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart" });
}

function scale([d0, d1], [r0, r1]) {
  const span = d1 - d0 || 1;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten at or above `value`. */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= value);
}

function yAxis(group, y, max, format, width) {
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    const at = y(value);
    group.append(node("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: at, y2: at, class: "grid" }));
    group.append(node("text", { x: MARGIN.left - 6, y: at + 4, "text-anchor": "end", class: "axis" }, format(value)));
  }
}

/** Connected runs of points with a value (a null breaks the line). */
function runs(points) {
  const result = [[]];
  for (const point of points) {
    if (point.v == null) {
      if (result.at(-1).length) result.push([]);
    } else {
      result.at(-1).push(point);
    }
  }
  return result.filter((run) => run.length);
}

/**
 * A line over time. `points`: [{t: Date, v: number|null}] oldest first. `options.format` labels the values,
 * `options.max` fixes the top of the axis (e.g. 1 for a share), `options.domain` the period shown ([from, to] Dates;
 * by default the points' own), `options.label` names the chart for screen readers.
 */
export function timeChart(points, { label, format = count, max, domain, withDate = false } = {}) {
  const { width, height } = TIME_CHART;
  const svg = frame(TIME_CHART, label);
  const values = points.map((p) => p.v).filter((v) => v != null);
  if (values.length === 0) {
    svg.append(node("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis" }, "No data yet"));
    return svg;
  }
  const top = max ?? niceMax(Math.max(...values));
  const [first, last] = domain ?? [points[0].t, points.at(-1).t];
  const x = scale([first.getTime(), last.getTime()], [MARGIN.left, width - MARGIN.right]);
  const y = scale([0, top], [height - MARGIN.bottom, MARGIN.top]);
  yAxis(svg, y, top, format, width);
  svg.append(
    node("text", { x: MARGIN.left, y: height - 6, class: "axis" }, clock(first, withDate)),
    node("text", { x: width - MARGIN.right, y: height - 6, "text-anchor": "end", class: "axis" }, clock(last, withDate)),
  );
  for (const run of runs(points)) {
    const line = run.map((p) => `${x(p.t.getTime()).toFixed(1)},${y(p.v).toFixed(1)}`).join(" L");
    const base = y(0).toFixed(1);
    const area = `M${x(run[0].t.getTime()).toFixed(1)},${base} L${line} L${x(run.at(-1).t.getTime()).toFixed(1)},${base} Z`;
    svg.append(node("path", { d: area, class: "area" }), node("path", { d: `M${line}`, class: "line" }));
    if (run.length === 1) svg.append(node("circle", { cx: x(run[0].t.getTime()), cy: y(run[0].v), r: 3, class: "dot" }));
  }
  return svg;
}

/**
 * A game's price curve with its predictions' rug ticks (a rug plot under the curve, darker when more confident)
 * and its side bets' windows (`windowTicks` from the tick each was placed at), coloured by outcome.
 */
export function gameChart({ game, ticks, predictions, sideBets, windowTicks = 40 }) {
  const { width, height } = GAME_CHART;
  const rugBand = 24;
  const endTick = game.end_tick ?? ticks.at(-1)?.tick ?? 0;
  const lastTick = Math.max(endTick, ...ticks.map((t) => t.tick), ...predictions.map((p) => p.predicted_end_tick),
    ...sideBets.map((b) => b.placed_at_tick + windowTicks));
  const firstTick = Math.min(game.start_tick ?? 0, ...ticks.map((t) => t.tick));
  const svg = frame(GAME_CHART, `Game ${game.game_id}: price over ${count(endTick - firstTick + 1)} ticks, `
    + `${predictions.length} predictions, ${sideBets.length} side bets`);
  const plotBottom = height - MARGIN.bottom - rugBand;
  const x = scale([firstTick, lastTick], [MARGIN.left, width - MARGIN.right]);
  const top = niceMax(Math.max(...ticks.map((t) => t.price), game.peak_price ?? 1));
  const y = scale([0, top], [plotBottom, MARGIN.top]);
  yAxis(svg, y, top, (v) => `${decimal(v, top < 5 ? 1 : 0)}×`, width);

  for (const bet of sideBets) {
    // Only a placed bet (BET) wins or loses; a skipped one, an open one or a void one is drawn neutral.
    const placed = bet.recommendation === "BET";
    const outcome = placed && ["WON", "LOST"].includes(bet.actual_outcome) ? bet.actual_outcome.toLowerCase() : "open";
    const x0 = x(bet.placed_at_tick);
    svg.append(node("rect", {
      x: x0, y: MARGIN.top, width: Math.max(1, x(bet.placed_at_tick + windowTicks) - x0), height: plotBottom - MARGIN.top,
      class: `bet-window ${outcome}`,
    }, node("title", {}, `Side bet at tick ${bet.placed_at_tick} (${bet.recommendation}, p ${decimal(bet.probability)}): `
      + `${(bet.actual_outcome ?? "open").toLowerCase()}`)));
  }
  if (ticks.length > 0) {
    const path = ticks.map((t) => `${x(t.tick).toFixed(1)},${y(t.price).toFixed(2)}`).join(" L");
    svg.append(node("path", { d: `M${path}`, class: "price-line" }));
  }
  if (game.end_tick != null) {
    const at = x(game.end_tick);
    svg.append(
      node("line", { x1: at, x2: at, y1: MARGIN.top, y2: plotBottom + rugBand, class: "end-line" }),
      node("text", { x: at - 4, y: MARGIN.top + 10, "text-anchor": "end", class: "axis" },
        game.end_inferred ? "end (inferred)" : "rug"),
    );
  }
  for (const prediction of predictions) {
    const at = x(prediction.predicted_end_tick);
    svg.append(node("line", {
      x1: at, x2: at, y1: plotBottom + 4, y2: plotBottom + rugBand - 2, class: "rug-tick",
      "stroke-opacity": (0.2 + 0.8 * (prediction.confidence ?? 0)).toFixed(2),
    }, node("title", {}, `Predicted at tick ${prediction.predicted_at_tick}: rug at ${prediction.predicted_end_tick} `
      + `(confidence ${decimal(prediction.confidence)})`)));
  }
  const axisY = height - 6;
  svg.append(
    node("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: plotBottom + rugBand, y2: plotBottom + rugBand, class: "grid" }),
    node("text", { x: MARGIN.left, y: axisY, class: "axis" }, `tick ${count(firstTick)}`),
    node("text", { x: width - MARGIN.right, y: axisY, "text-anchor": "end", class: "axis" }, `tick ${count(lastTick)}`),
  );
  return svg;
}
