// Formatting and DOM helpers shared by the console and its charts. Nothing here fetches.

const numberFormat = new Intl.NumberFormat("en-US");
const DASH = "–";

/** A whole number with thousands separators; a dash for null. */
export function count(value) {
  return value == null ? DASH : numberFormat.format(value);
}

/** A decimal with `digits` places; a dash for null. */
export function decimal(value, digits = 2) {
  return value == null ? DASH : value.toFixed(digits);
}

/** A value already in percent (such as an ROI). */
export function percentage(value, digits = 1) {
  return value == null ? DASH : `${value.toFixed(digits)} %`;
}

/** A share (0…1) as a percentage. */
export function percent(share, digits = 1) {
  return percentage(share == null ? null : share * 100, digits);
}

/** Seconds as "3 d 4 h", "5 h 12 min", "4 min 3 s" or "12 s". */
export function duration(seconds) {
  if (seconds == null) return DASH;
  const s = Math.round(seconds);
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  const index = units.findIndex(([, size]) => s >= size);
  if (index < 0) return "0 s";
  const [bigName, bigSize] = units[index];
  const parts = [`${Math.floor(s / bigSize)} ${bigName}`];
  const next = units[index + 1];
  if (next && s % bigSize >= next[1]) parts.push(`${Math.floor((s % bigSize) / next[1])} ${next[0]}`);
  return parts.join(" ");
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

/** A `<time>` element: the clock time today, else the date; the full ISO time as its tooltip. */
export function time(iso) {
  if (!iso) return DASH;
  const date = new Date(iso);
  const today = date.toDateString() === new Date().toDateString();
  return el("time", { datetime: iso, title: iso }, today ? timeFormat.format(date) : dateTimeFormat.format(date));
}

/** A short clock label for chart axes. */
export function clock(date, withDate = false) {
  return (withDate ? dateTimeFormat : timeFormat).format(date);
}

/** Builds an element: `attributes` are set as attributes (null ones skipped), children appended (strings as text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value != null && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child != null));
  return node;
}

/** Fills every `[data-bind=name]` under `root` with text or a node. */
export function bind(root, values) {
  for (const [name, value] of Object.entries(values)) {
    for (const target of root.querySelectorAll(`[data-bind="${name}"]`)) {
      target.replaceChildren(value ?? DASH);
    }
  }
}

/** Replaces a table's body rows; `empty` is shown in one spanning cell when there are none. */
export function fillTable(table, rows, empty) {
  const body = table.tBodies[0];
  if (rows.length > 0) {
    body.replaceChildren(...rows);
  } else {
    const columns = table.tHead.rows[0].cells.length;
    body.replaceChildren(el("tr", {}, el("td", { colspan: columns, class: "empty" }, empty)));
  }
}
