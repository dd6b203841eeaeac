/**
 * The technicians' status page, served at `/` on the control listener. One self-contained
 * document (no CDN, no build step): it runs on an exhibition host with no internet. It reads
 * the open routes (the status as server-sent events, the screen, the revert history) and calls
 * the token-guarded actions with the token typed into it. Its JavaScript uses no template
 * literals, so this file's own template needs no escaping.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>demotool watchdog</title>
<style>
  :root { --ok: #1b7a3a; --warn: #a15c00; --bad: #b3261e; --off: #5f6368; --line: #d6d9dd; --bg: #f4f5f7; --fg: #1d1f23; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .9rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 1.35rem; }
  header .vm { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; }
  #connection { margin-left: auto; font-size: .9rem; color: var(--off); }
  #connection.live::before { content: "\\25CF  "; color: var(--ok); }
  #connection.lost { color: var(--bad); font-weight: 600; }
  main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.3fr); gap: 1rem; padding: 1rem 1.5rem 2rem; max-width: 80rem; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; }
  section.wide { grid-column: 1 / -1; }
  h2 { margin: 0 0 .75rem; font-size: 1.1rem; }
  .badge { display: inline-block; padding: .15rem .7rem; border-radius: 999px; color: #fff; font-weight: 700; background: var(--off); }
  .badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); } .badge.bad { background: var(--bad); }
  #explanation { margin: .5rem 0 1rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.25rem; margin: 0; }
  dt { color: #4a4f57; } dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
  figure { margin: 0; }
  #screen { display: block; width: 100%; max-height: 26rem; object-fit: contain; background: #000; border-radius: 4px; min-height: 8rem; }
  #screen[hidden] { display: none; }
  figcaption { margin-top: .4rem; font-size: .9rem; color: var(--off); }
  .controls { display: flex; flex-wrap: wrap; gap: .6rem; margin: .75rem 0; }
  button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid #9aa0a6; background: #fff; cursor: pointer; }
  button:hover { background: #eef1f4; }
  button.danger { border-color: var(--bad); color: var(--bad); }
  button:disabled { opacity: .5; cursor: wait; }
  label { font-weight: 600; }
  input { font: inherit; padding: .35rem .5rem; border: 1px solid #9aa0a6; border-radius: 6px; width: min(22rem, 100%); }
  .hint { font-size: .9rem; color: var(--off); margin: .25rem 0 0; }
  #result { min-height: 1.5em; margin: .5rem 0 0; padding: .4rem .6rem; border-radius: 6px; }
  #result.ok { background: #e6f4ea; color: var(--ok); } #result.bad { background: #fce8e6; color: var(--bad); } #result.busy { background: #fef7e0; color: var(--warn); }
  table { width: 100%; border-collapse: collapse; font-size: .95rem; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { background: #f8f9fa; }
  td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
  td.failed { color: var(--bad); font-weight: 600; }
  .scroll { overflow-x: auto; }
  @media (max-width: 50rem) { main { grid-template-columns: minmax(0, 1fr); padding: 1rem .75rem 2rem; } }
</style>
</head>
<body>
<header>
  <h1>Watchdog: <span class="vm" id="vm-name">…</span></h1>
  <span id="connection">connecting…</span>
</header>
<main>
  <section aria-labelledby="status-heading">
    <h2 id="status-heading">Status</h2>
    <span class="badge" id="state">…</span>
    <p id="explanation"></p>
    <dl>
      <dt>VM (libvirt)</dt><dd id="vm-state">…</dd>
      <dt>Last heartbeat</dt><dd id="heartbeat-age">…</dd>
      <dt>Auto-revert</dt><dd id="auto-revert">…</dd>
      <dt>Idle</dt><dd id="idle">…</dd>
      <dt>Snapshot</dt><dd id="snapshot">…</dd>
      <dt>Reverts</dt><dd id="revert-count">…</dd>
    </dl>
  </section>
  <section aria-labelledby="screen-heading">
    <h2 id="screen-heading">Screen</h2>
    <figure>
      <img id="screen" alt="The guest's screen" hidden>
      <figcaption id="screen-caption">loading…</figcaption>
    </figure>
  </section>
  <section class="wide" aria-labelledby="controls-heading">
    <h2 id="controls-heading">Controls</h2>
    <label for="token">Control token</label><br>
    <input id="token" type="password" autocomplete="off" spellcheck="false">
    <p class="hint">Needed when the watchdog has a token. Kept in this browser tab only.</p>
    <div class="controls">
      <button type="button" data-path="api/v1/vm/start">Start</button>
      <button type="button" class="danger" data-path="api/v1/vm/stop" data-confirm="Stop the VM? It stays off until someone presses Start.">Stop</button>
      <button type="button" class="danger" data-path="api/v1/vm/restart" data-confirm="Revert the VM to its snapshot now? The artwork restarts from the snapshot.">Revert now</button>
      <button type="button" class="danger" data-path="api/v1/snapshot/create" data-confirm="Replace the known-good snapshot with the screen as it is now? Every later revert returns to it.">Take snapshot</button>
      <button type="button" data-path="api/v1/revert/enable">Auto-revert on</button>
      <button type="button" data-path="api/v1/revert/disable" data-confirm="Switch auto-revert off? Faults are then only logged until it is switched on again.">Auto-revert off</button>
    </div>
    <p id="result" role="status" aria-live="polite"></p>
  </section>
  <section class="wide" aria-labelledby="history-heading">
    <h2 id="history-heading">Revert history</h2>
    <div class="scroll"><table aria-labelledby="history-heading">
      <thead><tr><th scope="col">Time</th><th scope="col">Reason</th><th scope="col">Detail</th><th scope="col">Method</th><th scope="col">Duration</th><th scope="col">Outcome</th></tr></thead>
      <tbody id="history"><tr><td colspan="6">No reverts yet.</td></tr></tbody>
    </table></div>
  </section>
</main>
<script>
"use strict";
var STATES = {
  healthy: ["ok", "The artwork is running: heartbeats arrive."],
  watching: ["ok", "Watching the VM (no heartbeats expected)."],
  waiting: ["warn", "Waiting for the guest's first heartbeat."],
  paused: ["warn", "A snapshot is being saved: heartbeats are not judged meanwhile."],
  reverting: ["warn", "Bringing the VM back to its snapshot…"],
  "timed-out": ["bad", "No heartbeat: the guest does not answer."],
  failed: ["bad", "Recovery gave up after repeated faults. Someone needs to look at the VM, then press Start."],
  stopped: ["off", "Stopped by an operator. Press Start to bring it back."],
  closed: ["off", "The watchdog has shut down."]
};
var $ = function (id) { return document.getElementById(id); };
var historyCount = -1;
/** The last status's heartbeat age and when it came: the page counts on from it between events. */
var shownHeartbeat = null;

/*
 * The server sends the status every second and at every heartbeat. A guest that beats once a
 * second in step with that tick would show "0.0 s" at every event; counting locally keeps the
 * age moving between events, and a stalled stream still shows time passing.
 */
function showHeartbeatAge() {
  if (!shownHeartbeat) return;
  var age = shownHeartbeat.age + (Date.now() - shownHeartbeat.at) / 1000;
  $("heartbeat-age").textContent = shownHeartbeat.received ? seconds(age) + " ago" : "none yet (" + seconds(age) + ")";
}
setInterval(showHeartbeatAge, 200);

function seconds(s) {
  if (s < 60) return s.toFixed(1) + " s";
  var m = Math.floor(s / 60);
  var rest = Math.floor(s % 60);
  if (m < 60) return m + " min" + (rest ? " " + rest + " s" : "");
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
}

function showStatus(s) {
  var kind = STATES[s.state] || ["off", ""];
  $("vm-name").textContent = s.vm_name;
  $("state").textContent = s.state;
  $("state").className = "badge " + kind[0];
  $("explanation").textContent = kind[1];
  $("vm-state").textContent = s.vm_state + (s.vm_state_reason ? " (" + s.vm_state_reason + ")" : "");
  shownHeartbeat = { received: s.heartbeat.has_received_heartbeat, age: s.heartbeat.time_since_heartbeat, at: Date.now() };
  showHeartbeatAge();
  $("auto-revert").textContent = s.auto_revert_enabled ? "on" : "off";
  $("idle").textContent = s.idle && s.idle.enabled ? seconds(s.idle.idle_seconds) + " of " + seconds(s.idle.timeout) : "not watched";
  $("snapshot").textContent = s.snapshot_name + (s.snapshot_exists ? "" : " (missing!)");
  $("revert-count").textContent = String(s.reverts);
  document.title = s.vm_name + ": " + s.state;
  // A missed 'reverts' event (a reconnect) still shows a new revert.
  if (s.reverts !== historyCount) loadHistory(s.reverts);
}

function connect() {
  var events = new EventSource("api/v1/events");
  events.addEventListener("status", function (e) {
    $("connection").textContent = "live";
    $("connection").className = "live";
    showStatus(JSON.parse(e.data));
  });
  // After a reconnect the history is fetched again: a recovery may have been missed.
  events.onopen = function () { historyCount = -1; };
  events.addEventListener("reverts", function (e) { loadHistory(JSON.parse(e.data).reverts); });
  events.onerror = function () {
    $("connection").textContent = "connection lost: retrying…";
    $("connection").className = "lost";
  };
}

function pad(n) { return (n < 10 ? "0" : "") + n; }
/** Local time, 24 hours, the date first: unambiguous in every locale. */
function when(iso, withDate) {
  var d = new Date(iso);
  var time = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  return withDate ? d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + time : time;
}

function cell(row, text, cls) {
  var td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

function loadHistory(count) {
  historyCount = count;
  fetch("api/v1/reverts", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (list) {
    var body = $("history");
    body.textContent = "";
    if (!list.reverts.length) {
      var empty = document.createElement("tr");
      cell(empty, "No reverts yet.");
      empty.firstChild.colSpan = 6;
      body.appendChild(empty);
    }
    list.reverts.forEach(function (r) {
      var row = document.createElement("tr");
      cell(row, when(r.started_at, true), "num");
      cell(row, r.reason);
      cell(row, r.detail || "");
      cell(row, r.method);
      cell(row, (r.duration_ms / 1000).toFixed(1) + " s", "num");
      if (!r.ok) cell(row, "failed: " + (r.error || "unknown error"), "failed");
      else cell(row, r.recovered_at ? "recovered at " + when(r.recovered_at) : "reverted");
      body.appendChild(row);
    });
  }).catch(function () { historyCount = -1; });
}

var screenUrl = null;
function refreshScreen() {
  if (document.hidden) return setTimeout(refreshScreen, 2000);
  fetch("api/v1/screen.png", { cache: "no-store" }).then(function (r) {
    if (r.status === 404) {
      $("screen").hidden = true;
      $("screen-caption").textContent = "This VM has no screen to show.";
      return "stop";
    }
    if (!r.ok) return r.json().then(function (e) { $("screen-caption").textContent = e.detail + " (showing the last picture)"; });
    return r.blob().then(function (png) {
      var old = screenUrl;
      screenUrl = URL.createObjectURL(png);
      $("screen").src = screenUrl;
      $("screen").hidden = false;
      if (old) URL.revokeObjectURL(old);
      $("screen-caption").textContent = "updated " + when(new Date().toISOString());
    });
  }).catch(function () {
    $("screen-caption").textContent = "the screen could not be loaded (showing the last picture)";
  }).then(function (outcome) { if (outcome !== "stop") setTimeout(refreshScreen, 2000); });
}

function say(text, kind) {
  $("result").textContent = text;
  $("result").className = kind;
}

function act(button) {
  var question = button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) return say(button.textContent + ": cancelled.", "");
  var token = $("token").value.trim();
  var headers = token ? { Authorization: "Bearer " + token } : {};
  var buttons = document.querySelectorAll("button[data-path]");
  buttons.forEach(function (b) { b.disabled = true; });
  say(button.textContent + ": working…", "busy");
  fetch(button.getAttribute("data-path"), { method: "POST", headers: headers }).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (body) {
      if (r.ok) say(button.textContent + ": " + (body.message || "done"), "ok");
      else say(button.textContent + " refused (" + r.status + "): " + (body.detail || r.statusText), "bad");
    });
  }).catch(function (e) {
    say(button.textContent + " failed: " + e.message, "bad");
  }).then(function () {
    buttons.forEach(function (b) { b.disabled = false; });
  });
}

$("token").value = sessionStorage.getItem("demotool-token") || "";
$("token").addEventListener("input", function () { sessionStorage.setItem("demotool-token", $("token").value.trim()); });
document.querySelectorAll("button[data-path]").forEach(function (b) {
  b.addEventListener("click", function () { act(b); });
});
connect();
refreshScreen();
</script>
</body>
</html>
`;
