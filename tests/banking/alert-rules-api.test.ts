import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context.js';
import { buildServer } from '../../services/api/server.js';
import { inject, TestKeys } from '../api/api-support.js';
import { testContext } from '../support/harness.js';
import { BankingFixtures, uniqueAccountNumber } from './support.js';

let ctx: AppContext;
let app: FastifyInstance;
let keys: TestKeys;
let fixtures: BankingFixtures;
let reader: { auth: { authorization: string } };
let publisher: { auth: { authorization: string } };
let admin: { auth: { authorization: string } };

beforeAll(async () => {
  ctx = testContext();
  app = await buildServer(ctx);
  keys = new TestKeys(ctx);
  fixtures = new BankingFixtures(ctx);
  reader = await keys.create(['read']);
  publisher = await keys.create(['publish']);
  admin = await keys.create(['admin']);
});
afterAll(async () => {
  await fixtures.cleanup();
  await keys.cleanup();
  await app.close();
  await ctx.close();
});

const url = (accountNumber: string) => `/v1/accounts/${accountNumber}/alert-rules`;

describe('alert rules API', () => {
  it('PUT replaces the set (admin), GET reads it back (read)', async () => {
    const { accountNumbers } = await fixtures.customer(1);
    const n = accountNumbers[0]!;
    const empty = await inject(app, 'GET', url(n), reader.auth);
    expect(empty).toMatchObject({ status: 200, body: { accountNumber: n, currency: 'MWK', rules: [] } });

    const put = await inject(app, 'PUT', url(n), admin.auth, {
      rules: [{ kind: 'debit_over', threshold: '250000' }, { kind: 'balance_below', threshold: '5000.5' }],
    });
    expect(put.status).toBe(200);
    expect(put.body.rules.map((r: { kind: string; threshold: string; state: string }) => [r.kind, r.threshold, r.state])).toEqual([
      ['balance_below', '5000.50', 'armed'],
      ['debit_over', '250000.00', 'armed'],
    ]);
    const get = await inject(app, 'GET', url(n), reader.auth);
    expect(get.body).toEqual(put.body);
  });

  it('a rule kept by the next PUT keeps its id and state; rules left out are removed', async () => {
    const { accountNumbers } = await fixtures.customer(1);
    const n = accountNumbers[0]!;
    const first = await inject(app, 'PUT', url(n), admin.auth, {
      rules: [{ kind: 'balance_below', threshold: '100.00' }, { kind: 'balance_above', threshold: '900000.00' }],
    });
    const below = first.body.rules.find((r: { kind: string }) => r.kind === 'balance_below');
    await ctx.pool.query(`UPDATE alert_rules SET state = 'fired', fired_count = 1 WHERE id = $1`, [below.id]);

    const second = await inject(app, 'PUT', url(n), admin.auth, {
      rules: [{ kind: 'balance_below', threshold: '0100' }, { kind: 'debit_over', threshold: '10.00' }],
    });
    expect(second.status).toBe(200);
    expect(second.body.rules).toHaveLength(2);
    expect(second.body.rules[0]).toMatchObject({ id: below.id, kind: 'balance_below', state: 'fired', firedCount: 1 });
    expect(second.body.rules[1]).toMatchObject({ kind: 'debit_over', threshold: '10.00' });

    const cleared = await inject(app, 'PUT', url(n), admin.auth, { rules: [] });
    expect(cleared.body.rules).toEqual([]);
  });

  it('400 names the offending field, and nothing is written', async () => {
    const { accountNumbers } = await fixtures.customer(1);
    const n = accountNumbers[0]!;
    const cases: [unknown, string][] = [
      [{ rules: [{ kind: 'balance_below', threshold: '-5.00' }] }, 'rules.0.threshold'],
      [{ rules: [{ kind: 'balance_below', threshold: 5000 }] }, 'rules.0.threshold'],
      [{ rules: [{ kind: 'debit_over', threshold: '1.005' }] }, 'rules.0.threshold'],
      [{ rules: [{ kind: 'debit_over', threshold: '10' }, { kind: 'sometimes', threshold: '10' }] }, 'rules.1.kind'],
      [{ rules: [{ kind: 'debit_over', threshold: '10' }, { kind: 'debit_over', threshold: '10.00' }] }, 'rules.1'],
      [{ rules: [{ kind: 'debit_over', threshold: '10', extra: true }] }, 'rules.0'],
      [{}, 'rules'],
    ];
    for (const [body, path] of cases) {
      const res = await inject(app, 'PUT', url(n), admin.auth, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.details.map((d: { path: string }) => d.path), JSON.stringify(res.body)).toContain(path);
    }
    const badNumber = await inject(app, 'GET', url('12-34'), reader.auth);
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.details[0].path).toBe('accountNumber');
    expect((await inject(app, 'GET', url(n), reader.auth)).body.rules).toEqual([]);
  });

  it('404 for an account Herald does not know', async () => {
    const unknown = uniqueAccountNumber();
    const get = await inject(app, 'GET', url(unknown), reader.auth);
    expect(get.status).toBe(404);
    expect(get.body.error).toBe('not_found');
    const put = await inject(app, 'PUT', url(unknown), admin.auth, { rules: [{ kind: 'debit_over', threshold: '1.00' }] });
    expect(put.status).toBe(404);
  });

  it('PUT needs admin, GET needs read; no key is 401', async () => {
    const { accountNumbers } = await fixtures.customer(1);
    const n = accountNumbers[0]!;
    const body = { rules: [{ kind: 'debit_over', threshold: '1.00' }] };
    expect((await inject(app, 'PUT', url(n), reader.auth, body)).status).toBe(403);
    expect((await inject(app, 'PUT', url(n), publisher.auth, body)).status).toBe(403);
    expect((await inject(app, 'GET', url(n), publisher.auth)).status).toBe(403);
    expect((await inject(app, 'GET', url(n))).status).toBe(401);
    expect((await inject(app, 'PUT', url(n), {}, body)).status).toBe(401);
    expect((await inject(app, 'GET', url(n), admin.auth)).status).toBe(200);
  });
});
