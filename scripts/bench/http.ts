// HTTP ingest: POST /v1/events through the real server (auth, rate limit, validation, store,
// broadcast) against a bare Fastify route that does nothing, both driven by autocannon.
import autocannon from 'autocannon';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AppContext } from '../../lib/app-context.js';
import { createApiKey } from '../../lib/api/api-keys.js';
import { buildServer } from '../../services/api/server.js';
import { threadCpuSeconds } from './proc-cpu.js';
import { median, ratio, round } from './util.js';

export interface HttpOptions {
  connections: number;
  /** Length of each measured window. */
  durationSec: number;
  warmupSec: number;
  /**
   * Pairs of windows, bare and Herald alternating (A B, B A, ...). This machine's speed drifts
   * by tens of percent within a minute, so one window per route measured the drift as much as
   * the routes; the headline ratio is the median of the pairs' ratios.
   */
  pairs: number;
}

type Window = Awaited<ReturnType<typeof cannon>>;

/** One route's windows as one result: rates averaged, counts summed, latencies by median. */
function combine(windows: Window[]) {
  const sum = (f: (w: Window) => number) => windows.reduce((a, w) => a + f(w), 0);
  const requests = sum((w) => w.requests);
  const statusCodes: Record<string, number> = {};
  for (const w of windows) for (const [code, n] of Object.entries(w.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    windows: windows.length,
    requests,
    cpuUsPerRequest: requests > 0 ? round(sum((w) => (w.cpuUsPerRequest ?? 0) * w.requests) / requests, 1) : null,
    mainThreadCpuUsPerRequest: requests > 0 && windows.every((w) => w.mainThreadCpuUsPerRequest !== null)
      ? round(sum((w) => w.mainThreadCpuUsPerRequest! * w.requests) / requests, 1)
      : null,
    loopUtilizationByWindow: windows.map((w) => w.loopUtilization),
    reqPerSec: round(sum((w) => w.reqPerSec ?? 0) / windows.length, 0),
    reqPerSecByWindow: windows.map((w) => w.reqPerSec),
    latencyMs: {
      p50: median(windows.map((w) => w.latencyMs.p50)),
      p99: median(windows.map((w) => w.latencyMs.p99)),
      max: Math.max(...windows.map((w) => w.latencyMs.max)),
    },
    non2xx: sum((w) => w.non2xx),
    errors: sum((w) => w.errors),
    timeouts: sum((w) => w.timeouts),
    statusCodes,
  };
}

function body(): string {
  return JSON.stringify({
    type: 'transaction.completed',
    aggregateType: 'transaction',
    aggregateId: 't-http-bench',
    payload: { transactionId: 't-http-bench', accountNumber: '100000000000', amount: '1250.00', currency: 'MWK', direction: 'debit', description: 'Bench transfer' },
    metadata: { userId: 'bench-http-user', correlationId: 'bench-http', source: 'herald.bench' },
  });
}

async function cannon(url: string, headers: Record<string, string>, o: HttpOptions, durationSec: number) {
  // Client and server share this process, so CPU per request counts both; the client's share is
  // the same for both routes, and the difference is what Herald adds: a second view beside
  // req/s, which also moves with how fast Postgres and Redis answer on the other core. The main
  // thread's share of that CPU and how busy its event loop was tell the rest: a route whose loop
  // idles while requests are open is waiting on its peers, not short of CPU.
  const cpuBefore = process.cpuUsage();
  const threadBefore = threadCpuSeconds();
  const loopBefore = performance.eventLoopUtilization();
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body(),
    connections: o.connections,
    duration: durationSec,
    timeout: 10,
  });
  const loop = performance.eventLoopUtilization(loopBefore);
  const threadAfter = threadCpuSeconds();
  const cpu = process.cpuUsage(cpuBefore);
  const perRequest = (us: number | null) => (us !== null && result.requests.total > 0 ? round(us / result.requests.total, 1) : null);
  return {
    requests: result.requests.total,
    cpuUsPerRequest: perRequest(cpu.user + cpu.system),
    mainThreadCpuUsPerRequest: perRequest(threadBefore !== null && threadAfter !== null ? (threadAfter - threadBefore) * 1e6 : null),
    loopUtilization: round(loop.utilization, 3),
    reqPerSec: round(result.requests.average, 0),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, (s as { count: number }).count])),
  };
}

export async function runHttp(ctx: AppContext, o: HttpOptions, log: (line: string) => void) {
  // The bare baseline: same body, same connections, a route that answers 202 at once.
  const bare = Fastify({ logger: false });
  bare.post('/v1/events', async (_request, reply) => reply.code(202).send({ ok: true }));
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/v1/events`;

  // A key with a limit far above what the bench can reach, so the limiter runs but never rejects.
  const { key } = await createApiKey(ctx.pool, { name: `bench-${Date.now()}`, scopes: ['publish'], rateLimitPerMinute: 1_000_000_000 });
  const app = await buildServer(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const appUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/events`;
  const auth = { authorization: `Bearer ${key}` };

  const routes = {
    bare: { name: 'bare Fastify route', run: (sec: number) => cannon(bareUrl, {}, o, sec), windows: [] as Window[] },
    herald: { name: 'POST /v1/events via buildServer', run: (sec: number) => cannon(appUrl, auth, o, sec), windows: [] as Window[] },
  };
  try {
    if (o.warmupSec > 0) for (const route of [routes.bare, routes.herald]) await route.run(o.warmupSec);
    const pairRatios: (number | null)[] = [];
    for (let pair = 0; pair < o.pairs; pair++) {
      for (const route of pair % 2 === 0 ? [routes.bare, routes.herald] : [routes.herald, routes.bare]) {
        log(`http: pair ${pair + 1}/${o.pairs}, ${route.name}, ${o.connections} connections, ${o.durationSec} s`);
        route.windows.push(await route.run(o.durationSec));
      }
      pairRatios.push(ratio(routes.herald.windows[pair]!.reqPerSec, routes.bare.windows[pair]!.reqPerSec));
    }
    log(`http: pair ratios ${pairRatios.join(', ')}; median ${median(pairRatios)}`);
    return {
      connections: o.connections,
      durationSec: o.durationSec,
      pairs: o.pairs,
      pairRatios,
      medianRatio: median(pairRatios),
      bare: combine(routes.bare.windows),
      herald: combine(routes.herald.windows),
    };
  } finally {
    await app.close();
    await bare.close();
  }
}
