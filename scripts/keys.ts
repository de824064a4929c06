// API keys: `npm run keys -- create --name x --scopes publish,read [--rate-limit 600]` prints the key once;
// `npm run keys -- list`; `npm run keys -- revoke <id>`.
import { parseArgs } from 'node:util';
import { broadcastApiKeyRevocation } from '../lib/api/api-key-revocations.js';
import { apiScopes, createApiKey, isApiScope, listApiKeys, revokeApiKey, type ApiScope } from '../lib/api/api-keys.js';
import { loadConfig } from '../lib/config.js';
import { createPool } from '../lib/db/pool.js';
import { createRedis, type Redis } from '../lib/redis.js';
import { runCli } from './run-cli.js';

const usage = `usage:
  npm run keys -- create --name <name> --scopes <${apiScopes.join('|')}>[,...] [--rate-limit <per minute>]
  npm run keys -- list
  npm run keys -- revoke <id>`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { name: { type: 'string' }, scopes: { type: 'string' }, 'rate-limit': { type: 'string' } },
});
const [command, ...rest] = positionals;
const config = loadConfig();
const pool = createPool(config.DATABASE_URL, 1);
let redis: Redis | null = null;
await runCli(async () => {
  if (command === 'create') {
    const scopes = (values.scopes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = scopes.filter((s) => !isApiScope(s));
    if (!values.name || scopes.length === 0 || bad.length > 0) {
      throw new Error(bad.length ? `unknown scope(s): ${bad.join(', ')}\n${usage}` : usage);
    }
    const rateLimit = values['rate-limit'] === undefined ? null : Number(values['rate-limit']);
    const { key, record } = await createApiKey(pool, { name: values.name, scopes: scopes as ApiScope[], rateLimitPerMinute: rateLimit });
    process.stdout.write(`id:     ${record.id}\nname:   ${record.name}\nscopes: ${record.scopes.join(',')}\n`);
    process.stdout.write(`key:    ${key}\n\nThe key is shown only now; Herald stores its SHA-256 hash.\n`);
  } else if (command === 'list') {
    for (const k of await listApiKeys(pool)) {
      process.stdout.write(
        `${k.id}  ${k.prefix}…  ${k.name}  scopes=${k.scopes.join(',')}  rate=${k.rateLimitPerMinute ?? 'default'}/min  ` +
          `created=${k.createdAt}  lastUsed=${k.lastUsedAt ?? '-'}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}\n`,
      );
    }
  } else if (command === 'revoke' && rest[0]) {
    if (!(await revokeApiKey(pool, rest[0]))) throw new Error(`no active key ${rest[0]}`);
    process.stdout.write(`revoked ${rest[0]}\n`);
    // Running API servers cache verified keys; this tells them now instead of at expiry.
    redis = createRedis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
    if (!(await broadcastApiKeyRevocation(redis, rest[0]))) {
      process.stderr.write(
        `warning: could not announce the revocation on Redis; running API servers refuse the key within ${config.API_KEY_CACHE_TTL_MS} ms (API_KEY_CACHE_TTL_MS)\n`,
      );
    }
  } else {
    throw new Error(usage);
  }
}, async () => {
  redis?.disconnect();
  await pool.end();
});
