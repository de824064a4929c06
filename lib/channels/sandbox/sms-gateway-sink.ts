import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendBounded, DEFAULT_SINK_LOG_LIMIT } from './bounded-log.js';
import { ScriptedReplies, sendJson as json, type ScriptedPeer, type ScriptedReply } from './scripted-replies.js';

export type SmsSinkReply = ScriptedReply;

export interface SmsSinkRequest {
  idempotencyKey: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
  at: number;
}

export interface SmsSinkMessage extends SmsSinkRequest {
  idempotencyKey: string;
  messageId: string;
}

export interface SmsGatewaySink extends ScriptedPeer {
  readonly url: string;
  readonly port: number;
  /** SMS the gateway accepted, one per Idempotency-Key. */
  readonly messages: SmsSinkMessage[];
  /** Every POST that arrived, including replays and scripted failures. */
  readonly requests: SmsSinkRequest[];
  acceptedFor(idempotencyKey: string): SmsSinkMessage | undefined;
  requestsFor(idempotencyKey: string): number;
}

export interface SmsGatewaySinkOptions {
  port?: number;
  /** Require this header (401 when absent, 403 when wrong). */
  auth?: { header: string; value: string };
  /** Body of an accepted answer; defaults to `{ messageId, status: 'ACCEPTED' }`. */
  acceptedBody?: (messageId: string) => unknown;
  /** Called for every SMS accepted (not for replays), e.g. to log it in the sandbox. */
  onMessage?: (message: SmsSinkMessage) => void;
  /** How many messages (and so idempotency keys) and requests the logs keep. */
  logLimit?: number;
}

/**
 * A loopback SMS gateway speaking Herald's default contract: POST JSON `{ to, text, reference }`
 * with an Idempotency-Key header. A key it has accepted before is answered with the first answer
 * and not sent again, as the bank's ESB does.
 */
export async function startSmsGatewaySink(options: SmsGatewaySinkOptions = {}): Promise<SmsGatewaySink> {
  const messages: SmsSinkMessage[] = [];
  const byKey = new Map<string, SmsSinkMessage>();
  const limit = options.logLimit ?? DEFAULT_SINK_LOG_LIMIT;
  const requests: SmsSinkRequest[] = [];
  const replies = new ScriptedReplies();
  const acceptedBody = options.acceptedBody ?? ((messageId: string) => ({ messageId, status: 'ACCEPTED' }));

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return json(res, 400, { code: 'invalid_json' });
      }
      const key = req.headers['idempotency-key'] as string | undefined;
      appendBounded(requests, { idempotencyKey: key, headers: req.headers, body, at: Date.now() }, limit);
      if (options.auth) {
        const given = req.headers[options.auth.header.toLowerCase()];
        if (!given) return json(res, 401, { code: 'unauthenticated' });
        if (given !== options.auth.value) return json(res, 403, { code: 'forbidden' });
      }
      if (replies.answer(req, res)) return;
      if (!key) return json(res, 400, { code: 'missing_idempotency_key' });
      const earlier = byKey.get(key);
      if (earlier) return json(res, 200, acceptedBody(earlier.messageId), { 'idempotent-replayed': 'true' });
      const message = { idempotencyKey: key, headers: req.headers, body, at: Date.now(), messageId: `sms-${randomUUID()}` };
      appendBounded(messages, message, limit);
      byKey.set(key, message);
      if (byKey.size > limit) byKey.delete(byKey.keys().next().value!);
      options.onMessage?.(message);
      json(res, 202, acceptedBody(message.messageId));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/sms/send`,
    port,
    messages,
    requests,
    acceptedFor: (key) => byKey.get(key),
    requestsFor: (key) => requests.filter((r) => r.idempotencyKey === key).length,
    setReply: (reply) => replies.set(reply),
    replyNext: (reply, count) => replies.queue(reply, count),
    reset: () => replies.reset(),
    close: async () => {
      replies.dropHanging();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
