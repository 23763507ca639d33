// The live page at "/": one self-contained HTML document (inline style and script, no build
// step) that asks /devices every two seconds and shows the counts and one row per device.
// Device names are text the devices chose: the script only ever puts data into textContent,
// and the Content-Security-Policy allows no script but this one (by its hash).

import { createHash } from "node:crypto";

const STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: #888; }
* { box-sizing: border-box; }
body { font: 15px/1.4 system-ui, sans-serif; margin: 0; padding: 1rem; max-width: 70rem; margin-inline: auto; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
#summary { font-size: 1.1rem; margin: .25rem 0; }
#status { color: var(--muted); font-size: .85rem; margin: 0 0 1rem; }
#status.down { color: #c33; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; color: var(--muted); }
td.name { font-weight: 600; overflow-wrap: anywhere; }
td.num { font-variant-numeric: tabular-nums; }
#empty { color: var(--muted); padding: 1rem 0; }
@media (max-width: 40rem) {
  thead { display: none; }
  table, tbody, tr, td { display: block; width: 100%; }
  tr { border: 1px solid var(--line); border-radius: .5rem; margin-bottom: .75rem; padding: .25rem .5rem; }
  td { border: none; padding: .15rem 0; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-weight: 400; }
}
`;

const SCRIPT = `
"use strict";
var COLUMNS = [
  ["name", "Device"], ["profile", "Profile"], ["address", "Address"],
  ["since", "Connected"], ["seen", "Last seen"], ["traffic", "Messages in / out"]
];
function ago(ms) {
  var s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}
function cell(row, column, text) {
  var td = document.createElement("td");
  td.className = column[0];
  td.setAttribute("data-label", column[1]);
  td.textContent = text;
  row.appendChild(td);
}
function render(data) {
  var now = Date.parse(data.now);
  var v1 = 0, v2 = 0;
  var rows = data.devices.map(function (d) {
    if (d.profile === "v2") v2++; else v1++;
    var tr = document.createElement("tr");
    tr.className = "device";
    cell(tr, COLUMNS[0], d.name);
    cell(tr, COLUMNS[1], d.profile);
    cell(tr, COLUMNS[2], d.peer);
    cell(tr, COLUMNS[3], ago(now - Date.parse(d.connectedSince)));
    cell(tr, COLUMNS[4], ago(now - Date.parse(d.lastSeen)));
    cell(tr, COLUMNS[5], d.messagesIn + " / " + d.messagesOut);
    return tr;
  });
  document.getElementById("devices").replaceChildren.apply(document.getElementById("devices"), rows);
  document.getElementById("empty").hidden = rows.length > 0;
  document.getElementById("count").textContent = String(rows.length);
  document.getElementById("profiles").textContent = "v1 " + v1 + ", v2 " + v2;
}
function refresh() {
  var status = document.getElementById("status");
  fetch("devices", { cache: "no-store" })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (data) {
      render(data);
      status.className = "";
      status.textContent = "updated " + new Date().toLocaleTimeString();
    })
    .catch(function (e) {
      status.className = "down";
      status.textContent = "cannot reach the server (" + e.message + "); retrying";
    })
    .then(function () { setTimeout(refresh, 2000); });
}
var head = document.getElementById("head");
COLUMNS.forEach(function (c) { var th = document.createElement("th"); th.textContent = c[1]; head.appendChild(th); });
refresh();
`;

function sha256(text: string): string {
  return "'sha256-" + createHash("sha256").update(text, "utf8").digest("base64") + "'";
}

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lwstcp devices</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>lwstcp devices</h1>
<p id="summary"><span id="count">…</span> online (<span id="profiles">v1 0, v2 0</span>)</p>
<p id="status">loading…</p>
<table>
<thead><tr id="head"></tr></thead>
<tbody id="devices"></tbody>
</table>
<p id="empty" hidden>No devices online.</p>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** Only the page's own style and script may run; it may fetch only from where it came from. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src " + sha256(SCRIPT),
  "style-src " + sha256(STYLE),
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
