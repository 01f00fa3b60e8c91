/**
 * The live status page served at `/`: one self-contained document (inline style and script, no
 * request leaves the process). It opens `/events` (Server-Sent Events) and redraws on each
 * status; if the stream fails it polls `/status.json` instead. Lag histories are drawn as inline
 * SVG sparklines. Elements carry `data-*` attributes so tests and scripts can read them.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tributary status</title>
<style>
  :root { --fg: #1d2433; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; --ok: #12805c; --bad: #c0392b; --accent: #2f6fde; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 16px; align-items: baseline; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: var(--muted); }
  .pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--muted); }
  .pill.running { background: var(--ok); } .pill.stopping, .pill.stopped { background: var(--bad); }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; padding: 16px 24px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; overflow-x: auto; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.msg { white-space: normal; min-width: 220px; max-width: 460px; }
  td.clip { max-width: 280px; overflow: hidden; text-overflow: ellipsis; }
  .self { font-weight: 600; }
  .empty { color: var(--muted); font-style: italic; }
  svg.spark { vertical-align: middle; }
  svg.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
  .warn { color: var(--bad); }
</style>
</head>
<body>
<header>
  <h1 id="app">tributary</h1>
  <span id="state" class="pill">connecting</span>
  <span class="meta">worker <span id="worker"></span></span>
  <span class="meta">updated <span id="updated" data-at="">never</span> via <span id="via">-</span></span>
  <span class="meta warn" id="error"></span>
</header>
<main>
  <section><h2>Workers</h2><table id="workers"><thead><tr><th>Worker</th><th>Shards held</th><th>Shards</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Pipelines (records per second over <span id="window">0</span> s)</h2>
    <table id="pipelines"><thead><tr><th>Pipeline</th><th>In/s</th><th>Applied/s</th><th>Dead-lettered/s</th><th>In</th><th>Applied</th><th>Dead letters</th></tr></thead><tbody></tbody></table></section>
  <section class="wide"><h2>Shards</h2>
    <table id="shards"><thead><tr><th>Source</th><th>Shard</th><th>Owner</th><th>Checkpoint</th><th>Lag</th><th>Lag history</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Capacity (units per second)</h2>
    <table id="tables"><thead><tr><th>Table</th><th>Kind</th><th>Budget</th><th>Rate</th><th>Consumed/s</th><th>Throttled/s</th><th>Throttled</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Latest dead letters</h2>
    <table id="dead-letters"><thead><tr><th>At</th><th>Pipeline</th><th>Code</th><th>Reason</th><th>Position</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); };
  var num = function (n, d) { return n === undefined || n === null ? '-' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d === undefined ? 1 : d }); };
  var ms = function (v) { return v === undefined ? '-' : v < 1000 ? v + ' ms' : (v / 1000).toFixed(1) + ' s'; };
  function spark(points) {
    if (!points || points.length < 2) return '<span class="empty">-</span>';
    var w = 160, h = 28, max = 1, t0 = points[0][0], t1 = points[points.length - 1][0];
    points.forEach(function (p) { if (p[1] > max) max = p[1]; });
    var xy = points.map(function (p) {
      return ((p[0] - t0) / Math.max(1, t1 - t0) * w).toFixed(1) + ',' + (h - 2 - p[1] / max * (h - 4)).toFixed(1);
    }).join(' ');
    return '<svg class="spark" width="' + w + '" height="' + h + '" data-points="' + points.length + '"><polyline points="' + xy + '"/></svg>';
  }
  function rows(id, items, render, empty) {
    $(id).tBodies[0].innerHTML = items.length ? items.map(render).join('') : '<tr><td class="empty" colspan="9">' + empty + '</td></tr>';
  }
  function draw(s) {
    $('app').textContent = s.app;
    $('state').textContent = s.state; $('state').className = 'pill ' + s.state;
    $('worker').textContent = s.worker;
    $('updated').textContent = new Date(s.at).toLocaleTimeString(); $('updated').setAttribute('data-at', s.at);
    $('window').textContent = num(s.windowSeconds, 0);
    $('error').textContent = s.leasesError ? 'lease table: ' + s.leasesError : '';
    rows('workers', s.workers, function (w) {
      return '<tr data-worker="' + esc(w.id) + '"' + (w.self ? ' class="self"' : '') + '><td>' + esc(w.id) + (w.self ? ' (this process)' : '') +
        '</td><td class="num" data-held="' + w.shards.length + '">' + w.shards.length + '</td><td class="msg">' +
        w.shards.map(function (k) { return esc(k.slice(k.lastIndexOf('#') + 1)); }).join(', ') + '</td></tr>';
    }, 'no worker holds a lease');
    rows('pipelines', s.pipelines, function (p) {
      return '<tr data-pipeline="' + esc(p.name) + '"><td>' + esc(p.name) + '</td>' +
        '<td class="num" data-rate="in">' + num(p.perSecond.in) + '</td><td class="num" data-rate="applied">' + num(p.perSecond.applied) +
        '</td><td class="num" data-rate="dead">' + num(p.perSecond.deadLettered) + '</td><td class="num" data-total="in">' + num(p.totals.in, 0) +
        '</td><td class="num" data-total="applied">' + num(p.totals.applied, 0) + '</td><td class="num" data-total="dead">' + num(p.totals.deadLettered, 0) + '</td></tr>';
    }, 'no pipeline');
    rows('shards', s.shards, function (sh) {
      return '<tr data-shard="' + esc(sh.source + '/' + sh.shardId) + '"><td>' + esc(sh.source) + '</td><td>' + esc(sh.shardId) + '</td><td>' +
        esc(sh.owner || '-') + '</td><td class="clip" title="' + esc(sh.checkpoint) + '" data-checkpoint="' + esc(sh.checkpoint) + '">' + esc(sh.checkpoint) + '</td><td class="num" data-lag="' +
        (sh.lagMs === undefined ? '' : sh.lagMs) + '">' + ms(sh.lagMs) + '</td><td>' + spark(sh.lagHistory) + '</td></tr>';
    }, 'no shard in the lease table yet');
    rows('tables', s.tables, function (t) {
      return '<tr data-table="' + esc(t.table + '/' + t.kind) + '"><td>' + esc(t.table) + '</td><td>' + esc(t.kind) + '</td><td class="num">' + num(t.budget) +
        '</td><td class="num">' + num(t.rate) + '</td><td class="num">' + num(t.consumedPerSecond) + '</td><td class="num">' + num(t.throttledPerSecond) +
        '</td><td class="num">' + num(t.throttledTotal, 0) + '</td></tr>';
    }, 'no governed table has been written yet');
    rows('dead-letters', s.deadLetters, function (d) {
      return '<tr data-dead-letter="' + esc(d.position) + '"><td>' + esc(new Date(d.at).toLocaleTimeString()) + '</td><td>' + esc(d.pipeline) + '</td><td>' +
        esc(d.code) + '</td><td class="msg">' + esc(d.message) + '</td><td class="clip" title="' + esc(d.position) + '">' + esc(d.position) + '</td></tr>';
    }, 'none');
  }
  function poll() {
    $('via').textContent = 'polling';
    fetch('/status.json').then(function (r) { return r.json(); }).then(draw).catch(function (e) { $('error').textContent = String(e); })
      .then(function () { setTimeout(poll, 2000); });
  }
  if (window.EventSource) {
    var es = new EventSource('/events');
    es.addEventListener('status', function (e) { $('via').textContent = 'live'; draw(JSON.parse(e.data)); });
    es.onerror = function () { if (es.readyState === 2) poll(); };
  } else poll();
})();
</script>
</body>
</html>
`;
