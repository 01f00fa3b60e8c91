/**
 * The built-in live chart of a tap (`/taps/:name/view`): one self-contained page (inline style
 * and script, nothing from outside) that follows `/taps/:name` by Server-Sent Events and draws,
 * for the aggregate chosen, one line per key over the windows (inline SVG), and a table of the
 * latest windows' values, final ones marked. Cells carry `data-*` attributes for tests.
 */
export function tapViewPage(name: string): string {
  const safe = name.replace(/[^\w.-]/g, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tap ${safe}</title>
<style>
  body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1d2433; background: #f8f9fb; }
  header { display: flex; gap: 16px; align-items: baseline; padding: 12px 24px; background: #fff; border-bottom: 1px solid #e4e7ec; }
  h1 { font-size: 18px; margin: 0; } .meta { color: #667085; }
  main { padding: 16px 24px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #e4e7ec; border-radius: 8px; padding: 12px 16px; overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #e4e7ec; white-space: nowrap; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; } tr.final td { color: #12805c; }
  svg text { font-size: 11px; fill: #667085; } .legend span { margin-right: 12px; }
</style>
</head>
<body>
<header><h1>tap ${safe}</h1>
  <label class="meta">aggregate <select id="field"></select></label>
  <span class="meta">watermark <span id="watermark" data-watermark="">-</span></span>
  <span class="meta">late <span id="late">0</span></span>
  <span class="meta">last event <span id="last" data-id="">-</span></span></header>
<main>
  <section><svg id="chart" width="960" height="280"></svg><div class="legend" id="legend"></div></section>
  <section><table id="values"><thead><tr><th>Window</th><th>Key</th><th>State</th><th>Values</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
(function () {
  var COLORS = ['#2f6fde', '#e8590c', '#12805c', '#9c36b5', '#c0392b', '#0b7285', '#5c940d', '#862e9c'];
  var cells = new Map(); // window start|end|key -> { window, key, value, final }
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); };
  var iso = function (t) { return new Date(t).toISOString().slice(11, 19); };
  function set(v, final) { cells.set(v.window.start + '|' + v.window.end + '|' + v.key, { window: v.window, key: v.key, value: v.value, final: final }); }
  function scalar(x) { return typeof x === 'number' ? x : x && typeof x === 'object' && !Array.isArray(x) ? undefined : undefined; }
  function fields() {
    var names = {};
    cells.forEach(function (c) { Object.keys(c.value || {}).forEach(function (k) { if (typeof c.value[k] === 'number') names[k] = true; }); });
    return Object.keys(names).sort();
  }
  function fmt(v) {
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
    return esc(JSON.stringify(v));
  }
  function draw() {
    var f = fields(), sel = $('field'), chosen = sel.value || f[0];
    if (sel.options.length !== f.length) sel.innerHTML = f.map(function (k) { return '<option' + (k === chosen ? ' selected' : '') + '>' + esc(k) + '</option>'; }).join('');
    var all = Array.from(cells.values()).sort(function (a, b) { return b.window.start - a.window.start || a.key.localeCompare(b.key); });
    $('values').tBodies[0].innerHTML = all.slice(0, 200).map(function (c) {
      var vals = Object.keys(c.value || {}).map(function (k) { return '<span data-field="' + esc(k) + '" data-value="' + esc(JSON.stringify(c.value[k])) + '">' + esc(k) + '=' + fmt(c.value[k]) + '</span>'; }).join(' ');
      return '<tr class="' + (c.final ? 'final' : '') + '" data-window="' + c.window.start + '-' + c.window.end + '" data-key="' + esc(c.key) + '" data-final="' + c.final + '"><td>' +
        iso(c.window.start) + '–' + iso(c.window.end) + '</td><td>' + esc(c.key) + '</td><td>' + (c.final ? 'final' : 'open') + '</td><td>' + vals + '</td></tr>';
    }).join('');
    if (!chosen) return;
    var byKey = {}, t0 = Infinity, t1 = -Infinity, max = 0;
    cells.forEach(function (c) {
      var y = scalar(c.value && c.value[chosen]); if (y === undefined) return;
      (byKey[c.key] = byKey[c.key] || []).push([c.window.end, y]);
      t0 = Math.min(t0, c.window.end); t1 = Math.max(t1, c.window.end); max = Math.max(max, y);
    });
    var keys = Object.keys(byKey).sort(function (a, b) { return byKey[b].length - byKey[a].length; }).slice(0, COLORS.length);
    var W = 960, H = 280, L = 48, B = 24, x = function (t) { return L + (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5) * (W - L - 10); }, y = function (v) { return H - B - (max ? v / max : 0) * (H - B - 10); };
    var svg = '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + W + '" y2="' + (H - B) + '" stroke="#ccc"/><text x="4" y="14">' + fmt(max) + '</text><text x="4" y="' + (H - B) + '">0</text>';
    if (t1 >= t0) svg += '<text x="' + L + '" y="' + (H - 6) + '">' + iso(t0) + '</text><text x="' + (W - 60) + '" y="' + (H - 6) + '">' + iso(t1) + '</text>';
    keys.forEach(function (k, i) {
      var pts = byKey[k].sort(function (a, b) { return a[0] - b[0]; }).map(function (p) { return x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1); }).join(' ');
      svg += '<polyline fill="none" stroke-width="2" stroke="' + COLORS[i] + '" points="' + pts + '" data-key="' + esc(k) + '"/>';
    });
    $('chart').innerHTML = svg;
    $('legend').innerHTML = keys.map(function (k, i) { return '<span style="color:' + COLORS[i] + '">■ ' + esc(k) + '</span>'; }).join('');
  }
  var pending = false;
  function later() { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; draw(); }); } }
  $('field').onchange = draw;
  var es = new EventSource(location.pathname.replace(/\\/view$/, ''));
  function on(type, fn) { es.addEventListener(type, function (e) { $('last').textContent = e.lastEventId; $('last').setAttribute('data-id', e.lastEventId); fn(JSON.parse(e.data)); later(); }); }
  on('snapshot', function (s) { cells.clear(); s.values.forEach(function (v) { set(v, false); }); });
  on('update', function (u) { set(u, false); });
  on('final', function (f) { set(f, true); });
  on('progress', function (p) {
    $('watermark').textContent = p.watermark === null ? '-' : new Date(p.watermark).toISOString().slice(11, 23);
    $('watermark').setAttribute('data-watermark', p.watermark === null ? '' : String(p.watermark));
    $('late').textContent = p.late;
  });
  on('lag', function () {});
})();
</script>
</body>
</html>
`;
}
