// Burrow's dashboard: polls the management API every 5 s and renders the node, the totals,
// the queues (dead-letter queues highlighted) and the connections. Plain DOM, no framework.
// The credentials live in sessionStorage (gone with the tab) and go out as HTTP basic auth;
// /#/login/USER/PASSWORD logs in from the URL, as RabbitMQ's management UI does.
'use strict';

const REFRESH_MS = 5000;
const AUTH_KEY = 'burrow.auth';  // sessionStorage: base64("user:password")
const USER_KEY = 'burrow.user';

let refreshTimer = null;
let generation = 0;  // bumped on login/logout so a late answer of an old session is dropped
let lastQueues = [];
let lastDeadLetterInfo = null;

const $ = (id) => document.getElementById(id);

// ---- credentials -------------------------------------------------------------------------

function base64Utf8(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function storeCredentials(user, password) {
  sessionStorage.setItem(AUTH_KEY, base64Utf8(user + ':' + password));
  sessionStorage.setItem(USER_KEY, user);
}

function clearCredentials() {
  sessionStorage.removeItem(AUTH_KEY);
  sessionStorage.removeItem(USER_KEY);
}

// RabbitMQ's convention: /#/login/USER/PASSWORD (both percent-encoded). The hash is removed
// at once so the password does not stay in the address bar or the history.
function loginFromUrl() {
  const match = /^#\/login\/([^/]*)\/(.*)$/.exec(window.location.hash);
  if (!match) return;
  try {
    storeCredentials(decodeURIComponent(match[1]), decodeURIComponent(match[2]));
  } catch (e) {
    // A malformed escape: ignore the URL and show the form.
  }
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

// ---- API ---------------------------------------------------------------------------------

class AuthError extends Error {}

async function api(path) {
  const auth = sessionStorage.getItem(AUTH_KEY);
  const response = await fetch('api/' + path, {
    headers: {'Authorization': 'Basic ' + auth, 'Accept': 'application/json'},
    cache: 'no-store',
    credentials: 'omit',  // never let the browser add or remember credentials of its own
  });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (response.status === 401) {
    throw new AuthError((body && body.reason) || 'Login failed');
  }
  if (!response.ok) {
    throw new Error(path + ': HTTP ' + response.status + ((body && body.reason) ? ' ' + body.reason : ''));
  }
  return body;
}

// ---- formatting --------------------------------------------------------------------------

function fmtCount(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '–';
}

function fmtRate(r) {
  if (typeof r !== 'number') return '';
  return r >= 100 ? r.toFixed(0) : r.toFixed(1);
}

function fmtBytes(n) {
  if (typeof n !== 'number') return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    ++i;
  }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
}

function fmtDuration(ms) {
  if (typeof ms !== 'number') return '–';
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return d + 'd ' + h + 'h ' + m + 'm';
  if (h > 0) return h + 'h ' + m + 'm ' + s + 's';
  if (m > 0) return m + 'm ' + s + 's';
  return s + 's';
}

function fmtSince(ms) {
  if (typeof ms !== 'number') return '–';
  const at = new Date(ms);
  return at.toDateString() === new Date().toDateString() ? at.toLocaleTimeString()
                                                         : at.toLocaleString();
}

function rateOf(stats, ...names) {
  if (!stats) return undefined;
  for (const name of names) {
    const details = stats[name + '_details'];
    if (details && typeof details.rate === 'number') return details.rate;
  }
  return undefined;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'title') node.title = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// ---- dead-letter queues ------------------------------------------------------------------

// The rule (docs/management.md): a queue is a dead-letter queue (DLQ) when dead-lettered
// messages can land in it, judged from the topology alone. For each queue Q with
// arguments["x-dead-letter-exchange"] = X, in Q's vhost:
//  - X is "" (the default exchange): the queue named by Q's x-dead-letter-routing-key is a DLQ
//    (without that argument the message keeps its own routing key: nothing is marked);
//  - otherwise every queue bound to X, directly or through exchange-to-exchange bindings, is
//    a DLQ, whatever the binding key (the dead-letter routing key is often the message's own).
// Returns Map "vhost\0queue" -> array of the queues that dead-letter into it.
function deadLetterTargets(queues, bindings) {
  const key = (vhost, name) => vhost + '\u0000' + name;
  const byExchange = new Map();  // "vhost\0exchange" -> bindings from it
  for (const b of bindings || []) {
    const k = key(b.vhost, b.source);
    if (!byExchange.has(k)) byExchange.set(k, []);
    byExchange.get(k).push(b);
  }
  const targets = new Map();
  const mark = (vhost, queue, source) => {
    const k = key(vhost, queue);
    if (!targets.has(k)) targets.set(k, []);
    if (!targets.get(k).includes(source)) targets.get(k).push(source);
  };
  for (const q of queues) {
    const args = q.arguments || {};
    const dlx = args['x-dead-letter-exchange'];
    if (typeof dlx !== 'string') continue;
    if (dlx === '') {
      const rk = args['x-dead-letter-routing-key'];
      if (typeof rk === 'string' && rk !== '') mark(q.vhost, rk, q.name);
      continue;
    }
    const seen = new Set([dlx]);
    const pending = [dlx];
    while (pending.length > 0) {
      const exchange = pending.pop();
      for (const b of byExchange.get(key(q.vhost, exchange)) || []) {
        if (b.destination_type === 'queue') {
          mark(q.vhost, b.destination, q.name);
        } else if (!seen.has(b.destination)) {
          seen.add(b.destination);
          pending.push(b.destination);
        }
      }
    }
  }
  return targets;
}

// ---- rendering ---------------------------------------------------------------------------

function renderNode(overview, nodes) {
  $('cluster-name').textContent = overview.cluster_name || '';
  const node = Array.isArray(nodes) && nodes.length > 0 ? nodes[0] : null;
  $('node-name').textContent = (node && node.name) || overview.node || '–';
  const product = overview.product_name || 'Burrow';
  $('node-version').textContent = product + ' ' + (overview.product_version || '?') +
      ' (RabbitMQ ' + (overview.rabbitmq_version || '?') + ' compatible)';
  if (node) {
    $('node-uptime').textContent = fmtDuration(node.uptime);
    $('node-memory').textContent = fmtBytes(node.mem_used) +
        (node.mem_limit ? ' of ' + fmtBytes(node.mem_limit) + ' high watermark' : '');
  } else {
    $('node-uptime').textContent = '– (needs the monitoring tag)';
    $('node-memory').textContent = '–';
  }
}

function renderTotals(overview) {
  const objects = overview.object_totals || {};
  const messages = overview.queue_totals || {};
  $('total-queues').textContent = fmtCount(objects.queues);
  $('total-connections').textContent = fmtCount(objects.connections);
  $('total-channels').textContent = fmtCount(objects.channels);
  $('total-consumers').textContent = fmtCount(objects.consumers);
  $('total-ready').textContent = fmtCount(messages.messages_ready);
  $('total-unacked').textContent = fmtCount(messages.messages_unacknowledged);
}

function featureBadges(q, dlqSources) {
  const badges = [];
  const args = q.arguments || {};
  if (dlqSources) {
    badges.push(el('span', {class: 'badge dlq-badge', title: 'dead-letter queue of: ' + dlqSources.join(', ')}, 'DLQ'));
  }
  if (q.durable) badges.push(el('span', {class: 'badge', title: 'durable'}, 'D'));
  if (q.auto_delete) badges.push(el('span', {class: 'badge', title: 'auto-delete'}, 'AD'));
  if (q.exclusive) badges.push(el('span', {class: 'badge', title: 'exclusive'}, 'Excl'));
  if ('x-message-ttl' in args) badges.push(el('span', {class: 'badge', title: 'x-message-ttl ' + args['x-message-ttl']}, 'TTL'));
  if ('x-max-length' in args || 'x-max-length-bytes' in args) {
    badges.push(el('span', {class: 'badge', title: 'length limit'}, 'Lim'));
  }
  if (typeof args['x-dead-letter-exchange'] === 'string') {
    const dlx = args['x-dead-letter-exchange'];
    badges.push(el('span', {class: 'badge', title: 'dead-letters to exchange "' + dlx + '"'},
                   'DLX→' + (dlx === '' ? '(default)' : dlx)));
  }
  return badges;
}

function renderQueues() {
  const tbody = $('queue-rows');
  const filter = $('queue-filter').value.trim().toLowerCase();
  const targets = lastDeadLetterInfo || new Map();
  const queues = lastQueues.filter((q) => !filter || q.name.toLowerCase().includes(filter));
  const rows = [];
  for (const q of queues) {
    const sources = targets.get(q.vhost + '\u0000' + q.name);
    const stats = q.message_stats;
    const ready = q.messages_ready || 0;
    const classes = [];
    if (sources) classes.push('dlq');
    if (sources && ready > 0) classes.push('dlq-nonempty');
    const row = el('tr', {
      'class': classes.join(' '),
      'data-vhost': q.vhost,
      'data-name': q.name,
      'data-dlq': sources ? 'true' : 'false',
    },
      el('td', {class: 'vhost'}, q.vhost),
      el('td', {class: 'name'}, q.name),
      el('td', {class: 'features'}, ...featureBadges(q, sources).flatMap((b) => [b, ' '])),
      el('td', {class: 'num ready'}, fmtCount(q.messages_ready)),
      el('td', {class: 'num unacked'}, fmtCount(q.messages_unacknowledged)),
      el('td', {class: 'num total'}, fmtCount(q.messages)),
      el('td', {class: 'num consumers'}, fmtCount(q.consumers)),
      el('td', {class: 'num rate publish-rate'}, fmtRate(rateOf(stats, 'publish'))),
      el('td', {class: 'num rate deliver-rate'}, fmtRate(rateOf(stats, 'deliver_get', 'deliver'))),
      el('td', {class: 'num rate ack-rate'}, fmtRate(rateOf(stats, 'ack'))));
    rows.push(row);
  }
  if (rows.length === 0) {
    rows.push(el('tr', {class: 'empty'}, el('td', {colspan: '10'}, lastQueues.length ? 'No queue matches the filter' : 'No queues')));
  }
  tbody.replaceChildren(...rows);
  $('queue-count').textContent = '(' + lastQueues.length + ')';
}

function clientName(c) {
  const props = c.client_properties || {};
  if (typeof props.connection_name === 'string') return props.connection_name;
  const parts = [props.product, props.version].filter((p) => typeof p === 'string');
  return parts.join(' ');
}

function renderConnections(connections) {
  const rows = connections.map((c) => el('tr', {'data-name': c.name},
    el('td', {class: 'name'}, c.name),
    el('td', {}, c.user),
    el('td', {}, c.vhost),
    el('td', {}, clientName(c)),
    el('td', {}, c.ssl ? 'yes' : 'no'),
    el('td', {class: 'num'}, fmtCount(c.channels)),
    el('td', {class: 'num'}, fmtBytes(c.recv_oct)),
    el('td', {class: 'num'}, fmtBytes(c.send_oct)),
    el('td', {}, fmtSince(c.connected_at))));
  if (rows.length === 0) rows.push(el('tr', {class: 'empty'}, el('td', {colspan: '9'}, 'No connections')));
  $('connection-rows').replaceChildren(...rows);
  $('connection-count').textContent = '(' + connections.length + ')';
}

// ---- the loop ----------------------------------------------------------------------------

function showError(message) {
  const banner = $('error-banner');
  banner.textContent = message;
  banner.hidden = !message;
}

async function refresh() {
  const mine = generation;
  try {
    // Nodes need the monitoring tag: a management-only user still sees the rest.
    const [overview, nodes, queues, bindings, connections] = await Promise.all([
      api('overview'),
      api('nodes').catch((e) => (e instanceof AuthError ? null : Promise.reject(e))),
      api('queues'),
      api('bindings'),
      api('connections'),
    ]);
    if (mine !== generation) return;
    lastQueues = (queues || []).slice().sort((a, b) =>
      a.vhost === b.vhost ? a.name.localeCompare(b.name) : a.vhost.localeCompare(b.vhost));
    lastDeadLetterInfo = deadLetterTargets(lastQueues, bindings);
    renderNode(overview, nodes);
    renderTotals(overview);
    renderQueues();
    renderConnections(connections || []);
    showError('');
    $('refresh-status').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.body.dataset.loaded = 'true';
  } catch (e) {
    if (mine !== generation) return;
    if (e instanceof AuthError) {
      logout(e.message);
      return;
    }
    showError('Cannot reach burrowd: ' + e.message + ' (retrying every 5 s)');
  }
  if (mine === generation) refreshTimer = setTimeout(refresh, REFRESH_MS);
}

async function start() {
  const mine = ++generation;
  clearTimeout(refreshTimer);
  try {
    const me = await api('whoami');
    if (mine !== generation) return;
    $('whoami').textContent = 'user ' + me.name;
  } catch (e) {
    if (mine !== generation) return;
    if (e instanceof AuthError) {
      logout(e.message);
    } else {
      showError('Cannot reach burrowd: ' + e.message);
      refreshTimer = setTimeout(start, REFRESH_MS);
    }
    return;
  }
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('logout').hidden = false;
  refresh();
}

function logout(reason) {
  ++generation;
  clearTimeout(refreshTimer);
  clearCredentials();
  $('dashboard').hidden = true;
  $('logout').hidden = true;
  $('whoami').textContent = '';
  $('refresh-status').textContent = '';
  showError('');
  $('login-error').textContent = reason || '';
  $('login').hidden = false;
  $('login-user').focus();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    storeCredentials($('login-user').value, $('login-password').value);
    $('login-password').value = '';
    $('login-error').textContent = '';
    start();
  });
  $('logout').addEventListener('click', () => logout(''));
  $('queue-filter').addEventListener('input', renderQueues);
  window.addEventListener('hashchange', () => {
    if (window.location.hash.startsWith('#/login/')) {
      loginFromUrl();
      start();
    }
  });
  loginFromUrl();
  if (sessionStorage.getItem(AUTH_KEY)) {
    start();
  } else {
    logout('');
  }
});
