// Fault-injecting reverse proxy test peer: sits between Scimitar and a real SCIM server
// (scim2-server) and, on command while it runs, delays requests, answers them with 429, 503 or 500,
// or resets their connections, so tests can check retries, back-off and error handling.
//
//   node end2end/peers/fault-proxy.mjs '<JSON config>'
//
// The config (the only argument) is an object with:
//   port    TCP port on 127.0.0.1; 0 (the default) picks a free one
//   target  base URL of the SCIM server, e.g. http://127.0.0.1:5000 (a path there is a prefix)
//
// Once listening it prints one line to stdout, {"url": "http://127.0.0.1:PORT", "port": PORT},
// and runs until SIGTERM or SIGINT. It starts with no faults: every request is forwarded (path
// appended to the target's path, Host kept so the server's locations name the proxy, hop-by-hop
// headers dropped, bodies streamed both ways).
//
// Not forwarded, the control endpoint:
//   POST /__faults                 body: the fault settings, replacing all current ones (a key left
//                                  out takes its default); restarts the random sequence from `seed`;
//                                  answers like GET, or 400 {"error"} leaving the settings as they were
//   GET /__faults                  {settings, requests, forwarded, injected, log}
//   POST /__faults/reset-counters  zeroes the counters and empties the log; answers like GET
// The settings (defaults: no faults):
//   delayMs         added latency, in ms, before a request is forwarded (default 0)
//   status429Share  share 0..1 of requests answered 429 with Retry-After: retryAfter (default 0)
//   status503Share  share 0..1 of requests answered 503, with Retry-After only if retryAfter is set
//   status500Share  share 0..1 of requests answered 500 (default 0)
//   resetShare      share 0..1 of requests whose connection is reset (TCP RST), unanswered
//   retryAfter      whole seconds for Retry-After (default null: 1 for 429, none for 503)
//   down            true: reset the connection of every request, as if the server were down; the
//                   connection itself is still accepted (the control endpoint shares the port)
//   only            null (the default) or a regex: only requests whose "METHOD /path?query"
//                   matches, e.g. "^POST /v2/Users", get any fault (down and delayMs included);
//                   the others are forwarded at once and draw no random number
//   seed            integer seed of the pseudo-random generator (default 1)
// Two settings change how the target behaves rather than inject faults (they draw no number):
//   ignoreFilter       true: a request's `filter` query parameter is dropped before forwarding, so
//                      the server answers every filter query with its whole list, as a target that
//                      ignores filters does (default false)
//   filterUnsupported  true: /ServiceProviderConfig says filter.supported = false (the server's
//                      answer, rewritten), and any request with a `filter` parameter is answered
//                      400 invalidFilter "filtering is not supported" (default false)
// The injected answers carry a SCIM error body (application/scim+json, schemas
// urn:ietf:params:scim:api:messages:2.0:Error, status "429"/"503"/"500").
//
// How a request is decided: a request the faults apply to draws exactly one number u in [0, 1)
// from a deterministic generator (mulberry32 seeded with `seed`), even when down. Then, in order:
// down -> "down" (connection reset); u < resetShare -> "reset";
// u < resetShare + status429Share -> 429; u < ... + status503Share -> 503;
// u < ... + status500Share -> 500; otherwise wait delayMs and forward. The shares are thus disjoint
// slices and must add up to at most 1. The same settings and requests give the same faults.
//
// The counters: `requests` counts every proxied (non-control) request, `forwarded` those sent on
// to the target, `injected` those faulted, by kind {down, reset, 429, 503, 500}. `log` holds the
// last 200 requests, oldest first, as {t, method, path, outcome, status}: t the epoch ms the request
// arrived, path as received (with the query), outcome "forwarded", the kind of fault, or
// "abandoned" (the client left during delayMs: never forwarded), status the status answered (502
// when the target was unreachable; absent for a reset, or while pending).
import { Agent, createServer, request } from 'node:http';

// Headers that describe one hop, not the message (RFC 9110 section 7.6.1).
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
// The random faults in the order they are tried: [share setting, outcome].
const FAULTS = [
  ['resetShare', 'reset'], ['status429Share', '429'], ['status503Share', '503'], ['status500Share', '500'],
];
const SHARES = FAULTS.map(([share]) => share);
const DEFAULTS = {
  delayMs: 0, status429Share: 0, status503Share: 0, status500Share: 0, resetShare: 0,
  retryAfter: null, down: false, only: null, seed: 1, ignoreFilter: false, filterUnsupported: false,
};
const LOG_LENGTH = 200;

const { port = 0, target } = JSON.parse(process.argv[2] ?? '{}');
if (!target) throw new Error('fault-proxy.mjs: the config needs "target"');
const targetUrl = new URL(target);
const basePath = targetUrl.pathname.replace(/\/$/, '');
const agent = new Agent({ keepAlive: true });

let settings = { ...DEFAULTS };
let only = null;
let random = generator(settings.seed);
let counters = freshCounters();

function freshCounters() {
  return { requests: 0, forwarded: 0, injected: { down: 0, reset: 0, 429: 0, 503: 0, 500: 0 }, log: [] };
}

// mulberry32: a small, fast generator of numbers in [0, 1), the same for the same seed.
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Returns the complete settings `body` asks for; throws, saying why, when they are not valid.
function parseSettings(body) {
  const asked = JSON.parse(body || '{}');
  if (asked === null || typeof asked !== 'object' || Array.isArray(asked)) {
    throw new Error('expected a JSON object');
  }
  const unknown = Object.keys(asked).filter((key) => !(key in DEFAULTS));
  if (unknown.length) throw new Error(`unknown settings: ${unknown.join(', ')}`);
  const next = { ...DEFAULTS, ...asked };
  for (const key of SHARES) {
    if (typeof next[key] !== 'number' || !(next[key] >= 0 && next[key] <= 1)) {
      throw new Error(`${key} must be a number from 0 to 1`);
    }
  }
  if (SHARES.reduce((sum, key) => sum + next[key], 0) > 1 + 1e-9) {
    throw new Error('the shares add up to more than 1');
  }
  if (typeof next.delayMs !== 'number' || !(next.delayMs >= 0)) {
    throw new Error('delayMs must be a number >= 0');
  }
  if (next.retryAfter !== null && !(Number.isInteger(next.retryAfter) && next.retryAfter >= 0)) {
    throw new Error('retryAfter must be null or a whole number of seconds >= 0');
  }
  for (const key of ['down', 'ignoreFilter', 'filterUnsupported']) {
    if (typeof next[key] !== 'boolean') throw new Error(`${key} must be true or false`);
  }
  if (!Number.isInteger(next.seed)) throw new Error('seed must be an integer');
  if (next.only !== null && typeof next.only !== 'string') {
    throw new Error('only must be null or a regex string');
  }
  return next;
}

function report() {
  return { settings, ...counters };
}

function forwardedHeaders(headers) {
  const listed = new Set((headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(
    ([name]) => !HOP_BY_HOP.has(name) && !listed.has(name),
  ));
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendScimError(res, status, detail, headers = {}) {
  const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail };
  sendJson(res, status, body, { 'content-type': 'application/scim+json', ...headers });
}

async function control(req, res, pathname) {
  if (pathname === '/__faults/reset-counters') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { allow: 'POST' });
    req.resume();
    counters = freshCounters();
    return sendJson(res, 200, report());
  }
  if (pathname !== '/__faults') return sendJson(res, 404, { error: `no control endpoint ${pathname}` });
  if (req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    let next;
    let nextOnly;
    try {
      next = parseSettings(body);
      nextOnly = next.only === null ? null : new RegExp(next.only);
    } catch (error) {
      return sendJson(res, 400, { error: error.message });
    }
    settings = next;
    only = nextOnly;
    random = generator(settings.seed);
  } else if (req.method !== 'GET') {
    return sendJson(res, 405, { error: 'use GET or POST' }, { allow: 'GET, POST' });
  }
  return sendJson(res, 200, report());
}

// The fault for one request (see the header comment), or 'forwarded' for none.
function decide() {
  const u = random();
  if (settings.down) return 'down';
  let bound = 0;
  for (const [share, outcome] of FAULTS) {
    bound += settings[share];
    if (u < bound) return outcome;
  }
  return 'forwarded';
}

function reset(req) {
  const { socket } = req;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

// The request's path and query as forwarded: without `filter` when the target ignores filters.
function forwardedPath(req) {
  if (!settings.ignoreFilter) return basePath + req.url;
  const url = new URL(req.url, 'http://proxy');
  url.searchParams.delete('filter');
  return basePath + url.pathname + url.search;
}

// The server's /ServiceProviderConfig with filter.supported = false.
function withoutFilter(answer, res, entry) {
  let body = '';
  answer.setEncoding('utf8');
  answer.on('data', (chunk) => { body += chunk; });
  answer.on('end', () => {
    const config = JSON.parse(body);
    config.filter = { ...config.filter, supported: false };
    const headers = forwardedHeaders(answer.headers);
    delete headers['content-length'];
    delete headers.etag;
    entry.status = answer.statusCode;
    res.writeHead(answer.statusCode, headers);
    res.end(JSON.stringify(config));
  });
}

function forward(req, res, entry) {
  counters.forwarded += 1;
  const upstream = request({
    protocol: targetUrl.protocol,
    hostname: targetUrl.hostname,
    port: targetUrl.port,
    path: forwardedPath(req),
    method: req.method,
    headers: forwardedHeaders(req.headers),
    agent,
  });
  const config = settings.filterUnsupported && /\/ServiceProviderConfig$/.test(new URL(req.url, 'http://proxy').pathname);
  upstream.on('response', (answer) => {
    if (config && answer.statusCode === 200) return withoutFilter(answer, res, entry);
    entry.status = answer.statusCode;
    res.writeHead(answer.statusCode, answer.statusMessage, forwardedHeaders(answer.headers));
    return answer.pipe(res);
  });
  upstream.on('error', (error) => {
    if (res.headersSent) return res.destroy(error);
    entry.status = 502;
    return sendScimError(res, 502, `SCIM server unreachable: ${error.message}`);
  });
  // A client that goes away mid-exchange takes the upstream request with it.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

const server = createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://proxy');
  if (pathname === '/__faults' || pathname.startsWith('/__faults/')) {
    return control(req, res, pathname).catch((error) => res.destroy(error));
  }

  const faulted = !only || only.test(`${req.method} ${req.url}`);
  const outcome = faulted ? decide() : 'forwarded';
  const entry = { t: Date.now(), method: req.method, path: req.url, outcome };
  counters.requests += 1;
  counters.log.push(entry);
  if (counters.log.length > LOG_LENGTH) counters.log.shift();

  if (entry.outcome === 'forwarded' && settings.filterUnsupported
      && new URL(req.url, 'http://proxy').searchParams.has('filter')) {
    entry.status = 400;
    req.resume();
    const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidFilter', detail: 'filtering is not supported' };
    return sendJson(res, 400, body, { 'content-type': 'application/scim+json' });
  }
  if (entry.outcome === 'forwarded') {
    const delayMs = faulted ? settings.delayMs : 0;
    if (delayMs === 0) return forward(req, res, entry);
    setTimeout(() => {
      if (req.socket.destroyed) entry.outcome = 'abandoned';
      else forward(req, res, entry);
    }, delayMs);
    return undefined;
  }

  counters.injected[entry.outcome] += 1;
  if (entry.outcome === 'down' || entry.outcome === 'reset') return reset(req);
  const status = Number(entry.outcome);
  let retryAfter = null;
  if (status === 429) retryAfter = settings.retryAfter ?? 1;
  else if (status === 503) retryAfter = settings.retryAfter;
  entry.status = status;
  req.resume();
  return sendScimError(
    res,
    status,
    `injected fault: ${status}`,
    retryAfter === null ? {} : { 'retry-after': String(retryAfter) },
  );
});
await new Promise((listening) => server.listen(port, '127.0.0.1', listening));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

const url = `http://127.0.0.1:${server.address().port}`;
process.stdout.write(`${JSON.stringify({ url, port: server.address().port })}\n`);
