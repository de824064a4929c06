// Herald monitoring page: plain JS, no build step. Talks to the v1 API with the key the user
// enters (kept in sessionStorage, sent as a Bearer header), never anything else.
'use strict';

const storageKey = 'herald.apiKey';
const $ = (selector) => document.querySelector(selector);
const state = {
  key: sessionStorage.getItem(storageKey),
  window: '24h',
  charts: { hour: null, type: null },
  feed: null,
  refreshTimer: null,
};
const feedLimit = 200;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const numberFormat = new Intl.NumberFormat();

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { authorization: `Bearer ${state.key}`, ...(options.headers || {}) },
  });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    if (response.status === 401) signOut('The API key was rejected; enter a valid key.');
    throw new ApiError(response.status, body);
  }
  return body;
}

// ---------- DOM helpers (text only: nothing from the API is ever parsed as HTML) ----------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('data-')) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}
const fmt = (n) => numberFormat.format(n ?? 0);
// Two decimals near 100%, so a handful of failures never shows as a round 100.0%.
const pct = (rate) => (rate == null ? '–' : `${(rate * 100).toFixed(rate < 1 && rate >= 0.99 ? 2 : 1)}%`);
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '');
const dateTime = (iso) => (iso ? new Date(iso).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '');
const status = (s) => el('span', { class: `status ${s}`, text: s });
const shortId = (id) => el('span', { class: 'id', title: id, text: id ? `${id.slice(0, 8)}…` : '' });
function banner(message) {
  const node = $('#banner');
  node.textContent = message || '';
  node.hidden = !message;
}

// ---------- Sign in ----------
function signOut(message) {
  sessionStorage.removeItem(storageKey);
  state.key = null;
  stopFeed();
  clearInterval(state.refreshTimer);
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
  $('#login-error').hidden = !message;
  $('#api-key').value = '';
  $('#api-key').focus();
}

async function signIn(key) {
  state.key = key;
  try {
    await api(`/v1/stats?window=1h`);
  } catch (error) {
    state.key = null;
    const message = error instanceof ApiError && error.status === 403 ? 'This key lacks the read scope.' : error.message;
    $('#login-error').textContent = message;
    $('#login-error').hidden = false;
    return;
  }
  sessionStorage.setItem(storageKey, key);
  start();
}

function start() {
  $('#login').hidden = true;
  $('#app').hidden = false;
  refresh();
  clearInterval(state.refreshTimer);
  state.refreshTimer = setInterval(refresh, 10_000);
  startFeed();
}

async function refresh() {
  await Promise.all([loadStats(), loadDeadLetters()]);
  $('#updated').textContent = `Updated ${time(new Date().toISOString())}`;
}

// ---------- Overview, channels, charts ----------
async function loadStats() {
  let stats;
  try {
    stats = await api(`/v1/stats?window=${encodeURIComponent(state.window)}`);
  } catch (error) {
    if (error.status !== 401) banner(`Could not load statistics: ${error.message}`);
    return;
  }
  banner('');
  const d = stats.deliveries;
  $('#stat-total').textContent = fmt(d.total);
  $('#stat-total-sub').textContent = `${fmt(stats.events)} events · ${fmt(stats.notifications)} notifications`;
  $('#stat-sent').textContent = fmt(d.sent);
  $('#stat-sent-sub').textContent = `${fmt(d.pending)} pending · ${fmt(d.skipped)} skipped`;
  $('#stat-failed').textContent = fmt(d.failed + d.deadLettered);
  $('#stat-failed-sub').textContent = `${fmt(d.failed)} permanent · ${fmt(d.deadLettered)} dead-lettered`;
  $('#stat-success').textContent = pct(d.successRate);
  $('#stat-success-sub').textContent = 'sent ÷ (sent + failed + dead-lettered)';

  const body = $('#channels tbody');
  body.replaceChildren(
    ...Object.entries(stats.byChannel).map(([channel, c]) =>
      el('tr', { 'data-channel': channel },
        el('td', { text: channel }),
        el('td', { class: 'num', text: fmt(c.total) }),
        el('td', { class: 'num', text: fmt(c.sent) }),
        el('td', { class: 'num', text: fmt(c.failed) }),
        el('td', { class: 'num', text: fmt(c.pending) }),
        el('td', { class: 'num', text: fmt(c.deadLettered) }),
        el('td', { class: 'num', text: pct(c.successRate) }),
      ),
    ),
  );
  drawCharts(stats);
}

const colors = { sent: '#1a8f55', failed: '#c9372c', pending: '#2b6cb0', skipped: '#98a2b3' };

function drawCharts(stats) {
  if (typeof Chart === 'undefined') return;
  const longWindow = stats.window.seconds > 86_400;
  const hourLabel = (iso) => {
    const d = new Date(iso);
    const hh = `${String(d.getHours()).padStart(2, '0')}:00`;
    return longWindow ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${hh}` : hh;
  };
  const series = (rows) => [
    { label: 'Sent', data: rows.map((r) => r.sent), backgroundColor: colors.sent, maxBarThickness: 48 },
    { label: 'Failed', data: rows.map((r) => r.failed + r.deadLettered), backgroundColor: colors.failed, maxBarThickness: 48 },
    { label: 'Pending', data: rows.map((r) => r.pending), backgroundColor: colors.pending, maxBarThickness: 48 },
    { label: 'Skipped', data: rows.map((r) => r.skipped), backgroundColor: colors.skipped, maxBarThickness: 48 },
  ];
  const base = (horizontal) => ({
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: horizontal ? 'y' : 'x',
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    scales: {
      x: { stacked: true, grid: { display: horizontal }, ticks: { precision: 0, maxRotation: 0, autoSkip: true } },
      y: { stacked: true, grid: { display: !horizontal }, ticks: { precision: 0 }, beginAtZero: true },
    },
  });
  const draw = (name, canvas, labels, rows, horizontal) => {
    const chart = state.charts[name];
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets = series(rows);
      chart.update();
    } else {
      state.charts[name] = new Chart(canvas, { type: 'bar', data: { labels, datasets: series(rows) }, options: base(horizontal) });
    }
  };
  draw('hour', $('#chart-hour'), stats.byHour.map((h) => hourLabel(h.hour)), stats.byHour, false);
  const types = Object.entries(stats.byEventType).sort(([, a], [, b]) => b.total - a.total).slice(0, 12);
  draw('type', $('#chart-type'), types.map(([t]) => t), types.map(([, c]) => c), true);
}

// ---------- Dead letters ----------
async function loadDeadLetters() {
  let page;
  try {
    page = await api('/v1/dead-letters?limit=50');
  } catch (error) {
    if (error.status === 403) {
      $('#dead-note').textContent = 'Listing and retrying dead letters needs an admin key.';
      $('#dead-letters tbody').replaceChildren();
    } else if (error.status !== 401) {
      $('#dead-note').textContent = `Could not load dead letters: ${error.message}`;
    }
    return;
  }
  const items = page.items;
  $('#dead-count').textContent = items.length ? `${items.length}${page.nextCursor ? '+' : ''}` : '';
  $('#dead-note').textContent = items.length ? '' : 'Nothing needs attention: no open dead letters.';
  $('#dead-letters tbody').replaceChildren(
    ...items.map((d) => {
      const retry = el('button', { class: 'small retry', type: 'button', text: 'Retry', title: `Retry delivery ${d.deliveryId}` });
      retry.addEventListener('click', () => retryDeadLetter(d.deliveryId, retry));
      return el('tr', { 'data-delivery-id': d.deliveryId },
        el('td', { text: dateTime(d.deadLetteredAt) }),
        el('td', {}, el('a', { href: '#', text: d.eventType, title: d.eventId, onclick: (e) => { e.preventDefault(); search(d.eventId); } })),
        el('td', { text: d.channel }),
        el('td', { class: 'ellipsis', title: d.userId, text: d.userId }),
        el('td', { class: 'ellipsis', title: d.lastError || '', text: `${d.lastError || d.reason} (${d.attempts} attempts)` }),
        el('td', { class: 'num' }, retry),
      );
    }),
  );
}

async function retryDeadLetter(deliveryId, button) {
  button.disabled = true;
  button.textContent = 'Retrying…';
  try {
    await api(`/v1/dead-letters/${encodeURIComponent(deliveryId)}/retry`, { method: 'POST' });
    button.textContent = 'Queued';
    setTimeout(loadDeadLetters, 800);
  } catch (error) {
    button.disabled = false;
    button.textContent = 'Retry';
    banner(error.status === 403 ? 'Retrying needs an admin key.' : `Retry failed: ${error.message}`);
  }
}

// ---------- Live feed (SSE over fetch, so the key travels in a header, not the URL) ----------
function setFeedState(text, cls) {
  const node = $('#feed-state');
  node.textContent = text;
  node.className = `pill ${cls || ''}`;
}

function stopFeed() {
  if (state.feed) state.feed.abort();
  state.feed = null;
}

function startFeed() {
  stopFeed();
  const controller = new AbortController();
  state.feed = controller;
  const params = new URLSearchParams();
  if ($('#feed-channel').value) params.set('channel', $('#feed-channel').value);
  if ($('#feed-status').value) params.set('status', $('#feed-status').value);
  const url = `/v1/stream${params.size ? `?${params}` : ''}`;
  setFeedState('connecting');
  (async () => {
    try {
      const response = await fetch(url, { headers: { authorization: `Bearer ${state.key}`, accept: 'text/event-stream' }, signal: controller.signal });
      if (response.status === 401) return signOut('The API key was rejected; enter a valid key.');
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      setFeedState('live', 'live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (data) {
            try { addFeedRow(JSON.parse(data)); } catch { /* not a change */ }
          }
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    if (controller.signal.aborted || state.feed !== controller) return;
    setFeedState('reconnecting', 'down');
    setTimeout(() => { if (state.feed === controller && state.key) startFeed(); }, 3_000);
  })();
}

function addFeedRow(change) {
  const body = $('#feed tbody');
  const row = el('tr', { class: 'fresh', 'data-delivery-id': change.deliveryId, 'data-status': change.status },
    el('td', { text: time(change.at) }),
    el('td', {}, status(change.status)),
    el('td', { text: change.channel }),
    el('td', {}, el('a', { href: '#', text: change.eventType, onclick: (e) => { e.preventDefault(); searchNotification(change.notificationId); } })),
    el('td', { class: 'ellipsis', title: change.userId, text: change.userId }),
  );
  body.prepend(row);
  while (body.rows.length > feedLimit) body.lastElementChild.remove();
  $('#feed-empty').hidden = true;
}

// ---------- Search and trace ----------
function renderNotification(n) {
  return el('div', { class: 'notification' },
    el('div', {}, el('strong', { text: n.eventType }), ' ', el('span', { class: 'muted small', text: `${dateTime(n.createdAt)} · user ${n.userId} · ${n.priority}` })),
    ...n.deliveries.map((d) =>
      el('div', { 'data-delivery-id': d.id },
        el('div', {}, status(d.status), ' ', el('span', { text: d.channel }), ' ',
          el('span', { class: 'muted small', text: `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastError ? ` · ${d.lastError}` : ''}` })),
        el('ul', { class: 'attempts' },
          ...d.history.map((h) => el('li', { text: `#${h.attempt} ${h.status} at ${time(h.at)}${h.latencyMs != null ? ` (${h.latencyMs} ms)` : ''}${h.error ? ` — ${h.error}` : ''}` })),
        ),
      ),
    ),
  );
}

function processingText(p) {
  if (!p || p.state === 'processed') return 'processed';
  if (p.state === 'quarantined') return `quarantined after ${p.failedAttempts} failed attempts (replay to retry)`;
  return p.failedAttempts ? `pending, ${p.failedAttempts} failed attempts, next at ${dateTime(p.retryAt)}` : 'pending';
}

function renderEvent(e) {
  const meta = e.metadata || {};
  const rows = [['Id', e.id], ['Type', e.type], ['Aggregate', `${e.aggregateType} ${e.aggregateId}`], ['User', meta.userId || '–'],
    ['Occurred', dateTime(e.timestamp)], ['Stored', dateTime(e.storedAt)], ['Processing', processingText(e.processing)],
    ['Source', meta.source || '–'], ['Correlation', meta.correlationId || '–']];
  if (e.processing?.lastError) rows.push(['Error', e.processing.lastError]);
  return el('div', { class: 'event' },
    el('h3', { text: `Event ${e.type}` }),
    el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v ?? '') })])),
    e.notifications.length ? null : el('p', { class: 'muted small', text: 'No notifications.' }),
    ...e.notifications.map(renderNotification),
  );
}

async function search(query) {
  const q = query.trim();
  $('#search-input').value = q;
  const out = $('#search-result');
  if (!q) return;
  out.replaceChildren(el('p', { class: 'muted small', text: 'Searching…' }));
  try {
    if (uuidPattern.test(q)) {
      try {
        const event = await api(`/v1/events/${encodeURIComponent(q)}`);
        out.replaceChildren(renderEvent(event));
        return;
      } catch (error) {
        if (error.status !== 404) throw error;
      }
    }
    const page = await api(`/v1/notifications?userId=${encodeURIComponent(q)}&limit=20`);
    out.replaceChildren(
      el('p', { class: 'muted small', text: page.items.length ? `Latest notifications for user ${q}` : `No event and no notifications for "${q}".` }),
      ...page.items.map(renderNotification),
    );
  } catch (error) {
    out.replaceChildren(el('p', { class: 'error', text: `Search failed: ${error.message}` }));
  }
}

async function searchNotification(id) {
  const out = $('#search-result');
  try {
    const n = await api(`/v1/notifications/${encodeURIComponent(id)}`);
    $('#search-input').value = n.eventId;
    out.replaceChildren(renderNotification(n));
  } catch (error) {
    out.replaceChildren(el('p', { class: 'error', text: `Could not load notification: ${error.message}` }));
  }
}

// ---------- Queue UI (bull-board): exchange the admin key for an HttpOnly session cookie ----------
async function openQueues() {
  try {
    await api('/admin/queues/session', { method: 'POST' });
    window.open('/admin/queues/', '_blank', 'noopener');
  } catch (error) {
    banner(error.status === 403 ? 'The queue UI needs an admin key.' : `Could not open the queue UI: ${error.message}`);
  }
}

// ---------- Wiring ----------
document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('#api-key').value.trim();
    if (key) signIn(key);
  });
  $('#sign-out').addEventListener('click', () => signOut());
  $('#open-queues').addEventListener('click', openQueues);
  $('#window').addEventListener('change', (e) => {
    state.window = e.target.value;
    refresh();
  });
  $('#feed-channel').addEventListener('change', startFeed);
  $('#feed-status').addEventListener('change', startFeed);
  $('#feed-clear').addEventListener('click', () => {
    $('#feed tbody').replaceChildren();
    $('#feed-empty').hidden = false;
  });
  $('#search').addEventListener('submit', (e) => {
    e.preventDefault();
    search($('#search-input').value);
  });
  if (state.key) start();
  else signOut();
});
