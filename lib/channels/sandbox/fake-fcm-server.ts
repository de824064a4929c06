import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { Credential, GoogleOAuthAccessToken } from 'firebase-admin/app';
import { appendBounded } from './bounded-log.js';

/**
 * A loopback stand-in for Google's OAuth token endpoint and the FCM HTTP v1 API
 * (`POST /v1/projects/<id>/messages:send`, one request per message, which is what
 * firebase-admin 13's sendEach does). Tests and the sandbox route the real SDK here through
 * `agent()`, so the errors our adapter classifies are the SDK's own.
 */

export interface FakeFcmSend {
  deliveryId: string | undefined;
  projectId: string;
  token: string;
  message: Record<string, any>;
  messageName: string;
  at: number;
}

/** What the fake answers to one send. */
export type FakeFcmReply =
  | { status: number; body: unknown; headers?: Record<string, string> }
  /** Read the request, then never answer (timeouts). */
  | 'hang'
  /** Read the request, then drop the connection without a reply. */
  | 'reset';

/** FCM v1 error bodies as Google sends them. */
export function fcmErrorReply(status: number, grpcStatus: string, message: string, fcmErrorCode?: string): FakeFcmReply {
  const details = fcmErrorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: fcmErrorCode }] : [];
  return { status, body: { error: { code: status, message, status: grpcStatus, details } } };
}

export const fcmErrors = {
  unregistered: () => fcmErrorReply(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'),
  invalidToken: () => fcmErrorReply(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token', 'INVALID_ARGUMENT'),
  invalidPayload: () => fcmErrorReply(400, 'INVALID_ARGUMENT', 'Invalid value at \'message.data[0].value\'', 'INVALID_ARGUMENT'),
  unavailable: () => fcmErrorReply(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'),
  internal: () => fcmErrorReply(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'),
  quotaExceeded: () => fcmErrorReply(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric.', 'QUOTA_EXCEEDED'),
  senderIdMismatch: () => fcmErrorReply(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH'),
  thirdPartyAuth: () => fcmErrorReply(401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service', 'THIRD_PARTY_AUTH_ERROR'),
  /** What Google answers to a revoked or wrong OAuth access token: no FcmError detail. */
  badAccessToken: () => fcmErrorReply(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.'),
};

export interface FakeFcmServer {
  readonly port: number;
  /** Every send the fake accepted, in order. */
  readonly sends: FakeFcmSend[];
  /** Every messages:send request that reached the fake, answered or not (to spot SDK retries). */
  readonly attempts: { deliveryId: string | undefined; token: string }[];
  /** An https agent for firebase-admin's `httpAgent` that connects every request to this fake. */
  agent(): https.Agent;
  /** A firebase-admin credential that gets its access tokens from this fake's token endpoint. */
  credential(): Credential;
  sendsFor(deliveryId: string): FakeFcmSend[];
  attemptsFor(deliveryId: string): number;
  /** Answer every send to this token with `reply` until cleared. */
  failToken(token: string, reply: FakeFcmReply): void;
  /** Answer the next `count` sends (any token) with `reply`. */
  failNext(reply: FakeFcmReply, count?: number): void;
  /** Make the OAuth token endpoint refuse the service account, as Google does for a revoked key. */
  rejectCredentials(error?: { status: number; error: string; error_description: string }): void;
  /** Make every access token issued so far invalid, as when a key is revoked. */
  revokeAccessTokens(): void;
  /** Forget scripted failures (keeps the log and the issued access tokens). */
  reset(): void;
  close(): Promise<void>;
}

/** A throwaway service account (fresh RSA key) for tests and the sandbox. Never valid at Google. */
export function sandboxServiceAccount(projectId = 'herald-sandbox'): { project_id: string; client_email: string; private_key: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    project_id: projectId,
    client_email: `herald@${projectId}.iam.gserviceaccount.com`,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * Sockets to Google hosts are opened to the fake instead, in clear text: the TLS layer is
 * skipped because https.request only needs the agent's socket, and an agent whose protocol is
 * 'https:' is what it accepts.
 */
class LoopbackAgent extends https.Agent {
  constructor(private readonly port: number) {
    super({ keepAlive: false });
  }
  override createConnection(): net.Socket {
    return net.connect({ host: '127.0.0.1', port: this.port });
  }
}

/**
 * Speaks the OAuth token protocol to the fake. A refusal carries the HTTP status the way
 * google-auth-library's errors do, so the adapter can tell a refused key from an outage.
 */
class FakeTokenCredential implements Credential {
  constructor(private readonly port: number) {}

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    const res = await fetch(`http://127.0.0.1:${this.port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=sandbox',
    });
    const body = (await res.json()) as Record<string, any>;
    if (!res.ok) throw Object.assign(new Error(`${body.error}: ${body.error_description}`), { status: res.status });
    return { access_token: body.access_token, expires_in: body.expires_in };
  }
}

export interface FakeFcmServerOptions {
  port?: number;
  /** Called for every accepted send, e.g. to log it in the sandbox. */
  onSend?: (send: FakeFcmSend) => void;
  /** How many sends and attempts the logs keep. */
  logLimit?: number;
}

/** Options for createFcmPushChannel that send to this fake, for the sandbox. */
export function fcmSandboxOptions(fake: FakeFcmServer, projectId = 'herald-sandbox') {
  return { projectId, credential: fake.credential(), httpAgent: fake.agent() };
}

export async function startFakeFcmServer(options: FakeFcmServerOptions = {}): Promise<FakeFcmServer> {
  const sends: FakeFcmSend[] = [];
  const attempts: { deliveryId: string | undefined; token: string }[] = [];
  const tokenFailures = new Map<string, FakeFcmReply>();
  let nextFailures: FakeFcmReply[] = [];
  let credentialError: { status: number; error: string; error_description: string } | undefined;
  const issuedTokens = new Set<string>();
  const hanging = new Set<ServerResponse>();

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const handleToken = (res: ServerResponse) => {
    if (credentialError) return reply(res, credentialError.status, { error: credentialError.error, error_description: credentialError.error_description });
    const accessToken = `ya29.fake-${randomUUID()}`;
    issuedTokens.add(accessToken);
    reply(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
  };

  const handleSend = (req: IncomingMessage, res: ServerResponse, projectId: string, raw: string) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    let message: Record<string, any>;
    try {
      message = (JSON.parse(raw) as { message: Record<string, any> }).message;
    } catch {
      return reply(res, 400, { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } });
    }
    const token = String(message?.token ?? '');
    const deliveryId = message?.data?.deliveryId as string | undefined;
    appendBounded(attempts, { deliveryId, token }, options.logLimit);
    if (!bearer || !issuedTokens.has(bearer)) return answer(res, fcmErrors.badAccessToken());
    const scripted = nextFailures.shift() ?? tokenFailures.get(token);
    if (scripted) return answer(res, scripted);
    const messageName = `projects/${projectId}/messages/${randomUUID()}`;
    const send = { deliveryId, projectId, token, message, messageName, at: Date.now() };
    appendBounded(sends, send, options.logLimit);
    options.onSend?.(send);
    reply(res, 200, { name: messageName });
  };

  const answer = (res: ServerResponse, scripted: FakeFcmReply) => {
    if (scripted === 'hang') return void hanging.add(res);
    if (scripted === 'reset') return void res.socket?.destroy();
    reply(res, scripted.status, scripted.body, scripted.headers);
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
      if (req.method === 'POST' && path === '/token') return handleToken(res);
      if (req.method === 'POST' && send) return handleSend(req, res, send[1]!, raw);
      reply(res, 404, { error: { code: 404, message: `fake FCM has no ${req.method} ${path}`, status: 'NOT_FOUND' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    sends,
    attempts,
    agent: () => new LoopbackAgent(port),
    credential: () => new FakeTokenCredential(port),
    sendsFor: (deliveryId) => sends.filter((s) => s.deliveryId === deliveryId),
    attemptsFor: (deliveryId) => attempts.filter((a) => a.deliveryId === deliveryId).length,
    failToken: (token, scripted) => void tokenFailures.set(token, scripted),
    failNext: (scripted, count = 1) => void nextFailures.push(...Array.from({ length: count }, () => scripted)),
    rejectCredentials: (error = { status: 400, error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }) => {
      credentialError = error;
    },
    revokeAccessTokens: () => issuedTokens.clear(),
    reset: () => {
      tokenFailures.clear();
      nextFailures = [];
      credentialError = undefined;
    },
    close: async () => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
