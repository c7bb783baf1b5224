// The dashboard page: renders each snapshot the server sends (server-sent events, a whole
// snapshot per event, so a reconnect needs nothing more) and sends the buttons' POSTs with the
// session token in the X-Deepconf-Token header. Plain JavaScript, no build step.

const state = { token: null, snapshot: null, source: null };

const esc = (value) =>
  String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
const pct = (x, digits = 1) =>
  x === null || x === undefined ? "-" : `${(x * 100).toFixed(digits)}%`;
const num = (x, digits = 0) =>
  x === null || x === undefined
    ? "-"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const usd = (x) => (x === null || x === undefined ? "-" : `$${x.toFixed(2)}`);
const ci = (interval) => (interval ? `[${pct(interval[0], 0)}, ${pct(interval[1], 0)}]` : "");

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function ago(iso) {
  if (!iso) return "-";
  return `${duration(Math.max(0, (Date.now() - Date.parse(iso)) / 1000))} ago`;
}

function bar(done, total) {
  return `<progress max="${Math.max(1, total)}" value="${Math.min(done, total)}"></progress>`;
}

function sparkline(points) {
  const w = 240;
  const h = 40;
  if (!points || points.length < 2) return `<span class="muted">tokens/s: collecting</span>`;
  const max = Math.max(1, ...points.map((p) => p.tokens_per_s));
  const xs = points.map((_p, i) => (i / (points.length - 1)) * w);
  const coords = points
    .map((p, i) => `${xs[i].toFixed(1)},${(h - (p.tokens_per_s / max) * (h - 4) - 2).toFixed(1)}`)
    .join(" ");
  return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="tokens per second over time"><polyline points="${coords}"/></svg> <span class="muted">peak ${num(max)} tok/s</span>`;
}

function shardsText(shards) {
  return `${shards.waiting} waiting, ${shards.active} active, ${shards.done} done, ${shards.failed} failed, ${shards.cancelled} cancelled`;
}

function renderSweeps(snapshot) {
  if (snapshot.sweeps.length === 0) {
    return `<p class="muted">no sweep in ${esc(snapshot.out)}</p>`;
  }
  const queued = snapshot.queue.redis !== null;
  return snapshot.sweeps
    .map((s) => {
      const runs = s.runs
        .map((r) => {
          const errors =
            r.errors.length > 0
              ? `<ul class="errors">${r.errors.map((e) => `<li>${esc(e)}</li>`).join("")}</ul>`
              : "";
          return `<tr data-testid="run-${esc(r.run_id)}">
            <td><span class="id">${esc(r.run_id)}</span>${errors}</td>
            <td>${esc(r.method)}</td>
            <td>${bar(r.instances.done, r.instances.total)} ${r.instances.done}/${r.instances.total}</td>
            <td>${esc(shardsText(r.shards))}</td>
            <td class="num">${num(r.tokens.generated)}</td>
            <td class="num">${num(r.tokens.per_second, 1)}</td>
            <td class="num">${duration(r.eta_seconds)}</td>
          </tr>`;
        })
        .join("");
      const buttons = queued
        ? `<button data-action="cancel" data-sweep="${esc(s.sweep_id)}" data-testid="cancel-${esc(s.sweep_id)}" class="danger" ${s.state === "done" || s.state === "cancelled" ? "disabled" : ""}>cancel</button>
           <button data-action="retry" data-sweep="${esc(s.sweep_id)}" data-testid="retry-${esc(s.sweep_id)}" ${s.shards.failed + s.shards.cancelled === 0 ? "disabled" : ""}>retry failed</button>`
        : "";
      return `<div class="card" data-testid="sweep-${esc(s.sweep_id)}" data-state="${esc(s.state)}" data-done="${s.instances.done}" data-total="${s.instances.total}">
        <div class="row">
          <h3>${esc(s.name)} <span class="id">${esc(s.sweep_id)}</span></h3>
          <span class="badge" data-state="${esc(s.state)}">${esc(s.state)}</span>
          <span>${bar(s.instances.done, s.instances.total)} <span data-testid="sweep-progress">${s.instances.done}/${s.instances.total}</span> instances</span>
          <span>shards: ${esc(shardsText(s.shards))}</span>
          <span>${num(s.tokens_per_s, 1)} tok/s now</span>
          <span>ETA ${duration(s.eta_seconds)}</span>
          ${buttons}
        </div>
        <div class="row">${sparkline(s.rate)}</div>
        <table><thead><tr><th>run</th><th>method</th><th>instances</th><th>shards</th><th>tokens</th><th>tok/s (one worker)</th><th>ETA</th></tr></thead>
        <tbody>${runs}</tbody></table>
      </div>`;
    })
    .join("");
}

function renderWorkers(snapshot) {
  if (snapshot.queue.redis === null) return `<p class="muted">no queue: start with --redis URL</p>`;
  if (snapshot.workers.length === 0) return `<p class="muted">no worker has a heartbeat</p>`;
  const rows = snapshot.workers
    .map((w) => {
      const shard = w.current_shard
        ? `<span class="id">${esc(w.current_shard.job_id)}</span> (${w.current_shard.done}/${w.current_shard.total})`
        : "-";
      return `<tr data-testid="worker-${esc(w.id)}" data-state="${esc(w.state)}">
        <td class="id">${esc(w.id)}</td><td>${esc(w.host)}</td><td>${esc(w.node ?? "-")}</td>
        <td>${esc(w.gpu)}</td><td>${esc(w.models.join(", ") || "-")}</td><td>${shard}</td>
        <td class="num">${num(w.tokens_per_s, 1)}</td><td>${ago(w.last_heartbeat)}</td>
        <td><span class="badge" data-state="${esc(w.state)}">${esc(w.state)}</span></td></tr>`;
    })
    .join("");
  return `<table><thead><tr><th>worker</th><th>host</th><th>node</th><th>GPU / device</th><th>models loaded</th><th>current shard</th><th>tok/s</th><th>last heartbeat</th><th>state</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderNodes(snapshot) {
  const nodes = snapshot.nodes;
  if (!nodes.configured)
    return `<p class="muted" data-testid="nodes-message">${esc(nodes.message)}</p>`;
  const error = nodes.error ? `<p class="problem">${esc(nodes.error)}</p>` : "";
  const rows = nodes.nodes
    .map(
      (n) => `<tr data-testid="node-${esc(n.name ?? n.id)}">
        <td>${esc(n.name ?? n.id)}</td><td><span class="badge" data-state="${esc(n.status)}">${esc(n.status)}</span></td>
        <td>${esc(n.type)}</td><td>${esc(n.gpu ?? "-")}</td><td>${esc(n.region)}</td>
        <td>${duration(n.uptime_s)}</td><td class="num">${usd(n.price_per_hour)}/h</td><td class="num">${usd(n.cost_usd)}</td>
        <td><button class="danger" data-action="terminate" data-node="${esc(n.name ?? n.id)}">terminate</button></td></tr>`,
    )
    .join("");
  return `${error}<p>${nodes.nodes.length} live nodes, ${usd(nodes.hourly_usd)}/h; total so far (ended nodes included) <strong data-testid="nodes-total">${usd(nodes.total_cost_usd)}</strong></p>
    <table><thead><tr><th>node</th><th>status</th><th>type</th><th>GPU</th><th>region</th><th>uptime</th><th>price</th><th>cost so far</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

function metric(m) {
  return m.value === null
    ? "-"
    : `${pct(m.value)} <span class="muted">${ci(m.ci95)} n=${m.n}</span>`;
}

function renderResults(snapshot) {
  const runs = snapshot.sweeps.flatMap((s) => s.runs);
  if (runs.length === 0) return `<p class="muted">no runs</p>`;
  const rows = runs
    .map((r) => {
      const x = r.results;
      const id = encodeURIComponent(r.run_id);
      const regenerate = `<button data-action="report" data-run="${esc(r.run_id)}">regenerate figures and report</button>`;
      if (x === null)
        return `<tr data-testid="results-${esc(r.run_id)}"><td class="id">${esc(r.run_id)}</td><td colspan="9" class="muted">no results yet</td></tr>`;
      const kind =
        x.tokens.baseline_kind === "measured"
          ? "measured"
          : x.tokens.baseline_kind === "upper_bound"
            ? "upper bound"
            : (x.tokens.baseline_kind ?? "-");
      const buckets = x.buckets
        .map(
          (b) =>
            `<div>${esc(b.bucket.replace("_", " "))}: n=${b.n}, acc ${pct(b.accuracy, 0)} <span class="muted">${ci(b.ci95)}</span></div>`,
        )
        .join("");
      const links = [
        x.report.generated_at
          ? `<a href="/runs/${id}/report.html" target="_blank" rel="noopener">report</a> <span class="muted">(${ago(x.report.generated_at)})</span>`
          : "",
        ...x.report.figures.map(
          (f) =>
            `<a href="/runs/${id}/figures/${encodeURIComponent(f)}" target="_blank" rel="noopener">${esc(f.replace(/\.svg$/, ""))}</a>`,
        ),
      ]
        .filter((l) => l !== "")
        .join("<br>");
      return `<tr data-testid="results-${esc(r.run_id)}">
        <td class="id">${esc(r.run_id)}</td><td>${esc(r.method)}</td><td class="num">${x.n}</td>
        <td class="num">${pct(r.early_stop_rate)}</td>
        <td class="num">${pct(x.tokens.savings)} <span class="muted">vs ${esc(kind)}</span></td>
        <td>${buckets}</td>
        <td>${metric(x.metrics.accuracy)}</td><td>${metric(x.metrics.precision)}</td><td>${metric(x.metrics.recall)}</td>
        <td>${links}<div>${regenerate}</div></td></tr>`;
    })
    .join("");
  return `<table><thead><tr><th>run</th><th>method</th><th>n</th><th>early-stop (traces)</th><th>token savings</th><th>confidence buckets</th><th>accuracy</th><th>precision</th><th>recall</th><th>figures and report</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function render(snapshot) {
  state.snapshot = snapshot;
  const q = snapshot.queue;
  document.getElementById("queue").textContent =
    q.redis === null
      ? `disk only: ${snapshot.out}`
      : `${q.redis} (prefix ${q.prefix}), ${snapshot.out}`;
  const problem = document.getElementById("problem");
  problem.hidden = q.error === null;
  problem.textContent = q.error ?? "";
  document.getElementById("updated").textContent =
    `updated ${new Date(snapshot.generated_at).toLocaleTimeString()}`;
  document.getElementById("sweeps").innerHTML = renderSweeps(snapshot);
  document.getElementById("workers").innerHTML = renderWorkers(snapshot);
  document.getElementById("nodes").innerHTML = renderNodes(snapshot);
  document.getElementById("results").innerHTML = renderResults(snapshot);
}

function connection(label) {
  const badge = document.getElementById("connection");
  badge.textContent = label;
  badge.dataset.state = label;
}

async function post(path) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "X-Deepconf-Token": state.token ?? "" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

async function refetch() {
  const response = await fetch("/api/state");
  if (response.ok) render(await response.json());
}

function listen() {
  const source = new EventSource("/api/events");
  state.source = source;
  source.addEventListener("open", () => {
    connection("live");
    // Each event is a whole snapshot; fetching once more makes the page right at once.
    refetch().catch(() => undefined);
  });
  source.addEventListener("snapshot", (event) => render(JSON.parse(event.data)));
  source.addEventListener("problem", (event) => {
    const problem = document.getElementById("problem");
    problem.hidden = false;
    problem.textContent = JSON.parse(event.data).error;
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      connection("reconnecting");
      // The browser gave up (e.g. the server restarted): start again in a moment.
      setTimeout(() => start().catch(() => undefined), 2000);
    } else connection("reconnecting");
  });
}

async function act(button) {
  const { action } = button.dataset;
  let path;
  if (action === "cancel") {
    if (
      !confirm(
        `Cancel sweep ${button.dataset.sweep}? Waiting shards are removed; running ones stop after their instance in flight.`,
      )
    )
      return;
    path = `/api/sweeps/${encodeURIComponent(button.dataset.sweep)}/cancel`;
  } else if (action === "retry") {
    path = `/api/sweeps/${encodeURIComponent(button.dataset.sweep)}/retry`;
  } else if (action === "terminate") {
    if (
      !confirm(
        `Terminate node ${button.dataset.node}? Its worker hands its job back first; the node and its disk are gone for good.`,
      )
    )
      return;
    path = `/api/nodes/${encodeURIComponent(button.dataset.node)}/terminate`;
  } else if (action === "report") {
    path = `/api/runs/${encodeURIComponent(button.dataset.run)}/report`;
  } else return;
  button.disabled = true;
  const label = button.textContent;
  button.textContent = "working...";
  try {
    await post(path);
    await refetch();
  } catch (error) {
    alert(`${action} failed: ${error.message}`);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

async function start() {
  state.source?.close();
  // A ?token= in the address authenticates this visit (the server sets a cookie) and is the
  // token the buttons send.
  const response = await fetch(`/api/session${location.search}`);
  if (response.status === 401) {
    connection("unauthorized");
    return;
  }
  state.token = (await response.json()).token;
  if (location.search !== "") history.replaceState(null, "", location.pathname);
  listen();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) act(button);
});
start().catch(() => connection("reconnecting"));
