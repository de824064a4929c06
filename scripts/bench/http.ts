// HTTP ingest: POST /v1/events through the real server (auth, rate limit, validation, store,
// broadcast) against a bare Fastify route that does nothing, both driven by autocannon.
import autocannon from 'autocannon';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import type { AppContext } from '../../lib/app-context.js';
import { createApiKey } from '../../lib/api/api-keys.js';
import { buildServer } from '../../services/api/server.js';
import { round } from './util.js';

export interface HttpOptions {
  connections: number;
  durationSec: number;
  warmupSec: number;
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
  // req/s, which also moves with how fast Postgres and Redis answer on the other core.
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body(),
    connections: o.connections,
    duration: durationSec,
    timeout: 10,
  });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    requests: result.requests.total,
    cpuUsPerRequest: result.requests.total > 0 ? round((cpu.user + cpu.system) / result.requests.total, 1) : null,
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

  try {
    log(`http: bare Fastify route, ${o.connections} connections, ${o.durationSec} s`);
    if (o.warmupSec > 0) await cannon(bareUrl, {}, o, o.warmupSec);
    const bareResult = await cannon(bareUrl, {}, o, o.durationSec);
    log(`http: POST /v1/events via buildServer, ${o.connections} connections, ${o.durationSec} s`);
    if (o.warmupSec > 0) await cannon(appUrl, auth, o, o.warmupSec);
    const herald = await cannon(appUrl, auth, o, o.durationSec);
    return { connections: o.connections, durationSec: o.durationSec, bare: bareResult, herald };
  } finally {
    await app.close();
    await bare.close();
  }
}
