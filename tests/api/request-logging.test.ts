import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppContext, type AppContext } from '../../lib/app-context.js';
import { loadConfig } from '../../lib/config.js';
import { buildServer } from '../../services/api/server.js';
import { inject, TestKeys } from './api-support.js';

const lines: { level: number; msg: string; reqId?: string }[] = [];
let ctx: AppContext;
let app: FastifyInstance;
let keys: TestKeys;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  ctx = createAppContext(loadConfig({ ...process.env, LOG_LEVEL: 'info' }), pino({ level: 'info' }, sink));
  app = await buildServer(ctx);
  keys = new TestKeys(ctx);
});
afterAll(async () => {
  await keys.cleanup();
  await app.close();
  await ctx.close();
});

describe('request logging at info', () => {
  it('writes no line per successful request, and still one per rejected request', async () => {
    const reader = await keys.create(['read']);
    lines.length = 0;
    expect((await inject(app, 'GET', '/v1/events?limit=1', reader.auth)).status).toBe(200);
    expect(lines.filter((l) => /incoming request|request completed/.test(l.msg))).toEqual([]);

    const rejected = await inject(app, 'GET', '/v1/events?limit=0', { ...reader.auth, 'x-request-id': 'req-logged-1' });
    expect(rejected.status).toBe(400);
    // The per-request logger is built lazily, on this first line; it still carries the request id.
    expect(lines.find((l) => l.msg === 'request rejected')).toMatchObject({ level: 30, reqId: 'req-logged-1' });
  });
});

describe('request logging at debug', () => {
  it('writes the access lines, each with its request id', async () => {
    const debugLines: { msg: string; reqId?: string; level: number }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n').filter(Boolean)) debugLines.push(JSON.parse(line));
        callback();
      },
    });
    const debugCtx = createAppContext(loadConfig({ ...process.env, LOG_LEVEL: 'debug' }), pino({ level: 'debug' }, sink));
    const debugApp = await buildServer(debugCtx);
    try {
      expect((await inject(debugApp, 'GET', '/health/live', { 'x-request-id': 'req-debug-1' })).status).toBe(200);
      const access = debugLines.filter((l) => l.reqId === 'req-debug-1').map((l) => [l.level, l.msg]);
      expect(access).toEqual([[20, 'incoming request'], [20, 'request completed']]);
    } finally {
      await debugApp.close();
      await debugCtx.close();
    }
  });
});
