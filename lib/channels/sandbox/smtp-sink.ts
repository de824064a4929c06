import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { appendBounded } from './bounded-log.js';

/** How the sink answers the end of a message (DATA). */
export type SmtpSinkReply =
  | { kind: 'accept' }
  | { kind: 'defer'; code: 421 | 450 | 451 | 452; message?: string }
  | { kind: 'reject'; code: 550 | 552 | 554; message?: string }
  /** Read the whole message, then cut the connection without a reply: the case where a resend duplicates. */
  | { kind: 'drop' }
  /** Read the whole message and never reply (timeouts). */
  | { kind: 'hang' };

export interface SinkMessage {
  messageId: string;
  /** The local part of the Message-ID, which Herald sets to the delivery id. */
  deliveryId: string;
  from: string;
  to: string[];
  subject: string;
  raw: string;
  at: number;
}

export interface SmtpSink {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Messages the sink accepted (replied 250 to), in order. */
  readonly messages: SinkMessage[];
  /** Messages the sink read to the end, whatever it replied: counts every transmission. */
  readonly transmissions: string[];
  acceptedFor(deliveryId: string): SinkMessage[];
  transmissionsFor(deliveryId: string): number;
  /** The reply for every message from now on. */
  setReply(reply: SmtpSinkReply): void;
  /** The reply for the next `count` messages only. */
  replyNext(reply: SmtpSinkReply, count?: number): void;
  /** Answer RCPT TO for this address with `code` (5xx rejects, 4xx defers). */
  refuseRecipient(address: string, code?: number, message?: string): void;
  /** Answer MAIL FROM with `code`, as a server does for a sender it will not relay for. */
  refuseSender(code?: number, message?: string): void;
  reset(): void;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  port?: number;
  /** When set, the sink requires AUTH with these credentials (535 otherwise). */
  auth?: { user: string; pass: string };
  /** Called for every accepted message, e.g. to log it in the sandbox. */
  onMessage?: (message: SinkMessage) => void;
  /** How many messages and transmissions the logs keep. */
  logLimit?: number;
}

/** A real SMTP server on loopback (smtp-server), for tests and as the sandbox mail host. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const transmissions: string[] = [];
  const refusedRecipients = new Map<string, { code: number; message: string }>();
  let refusedSender: { code: number; message: string } | undefined;
  let standing: SmtpSinkReply = { kind: 'accept' };
  let next: SmtpSinkReply[] = [];

  const server: SMTPServer = new SMTPServer({
    // Loopback only and no TLS: the built-in test certificate would only add noise.
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !options.auth,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.pass) return callback(null, { user: auth.username });
      callback(withCode(new Error('5.7.8 Authentication credentials invalid'), 535));
    },
    onMailFrom(_address, _session, callback) {
      callback(refusedSender ? withCode(new Error(refusedSender.message), refusedSender.code) : null);
    },
    onRcptTo(address, _session, callback) {
      const refusal = refusedRecipients.get(address.address.toLowerCase());
      callback(refusal ? withCode(new Error(refusal.message), refusal.code) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const messageId = header(raw, 'message-id').replace(/^<|>$/g, '');
        appendBounded(transmissions, messageId, options.logLimit);
        const reply = next.shift() ?? standing;
        if (reply.kind === 'hang') return;
        if (reply.kind === 'drop') return dropConnection(server, session);
        if (reply.kind !== 'accept') return callback(withCode(new Error(reply.message ?? defaultText(reply.code)), reply.code));
        const message: SinkMessage = {
          messageId,
          deliveryId: messageId.split('@')[0] ?? '',
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: header(raw, 'subject'),
          raw,
          at: Date.now(),
        };
        appendBounded(messages, message, options.logLimit);
        options.onMessage?.(message);
        callback(null, `Ok: queued as ${messageId}`);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    messages,
    transmissions,
    acceptedFor: (deliveryId) => messages.filter((m) => m.deliveryId === deliveryId),
    transmissionsFor: (deliveryId) => transmissions.filter((id) => id.split('@')[0] === deliveryId).length,
    setReply: (reply) => void (standing = reply),
    replyNext: (reply, count = 1) => void next.push(...Array.from({ length: count }, () => reply)),
    refuseRecipient: (address, code = 550, message = '5.1.1 Recipient address rejected: User unknown') =>
      void refusedRecipients.set(address.toLowerCase(), { code, message }),
    refuseSender: (code = 553, message = '5.7.1 Sender address rejected: not owned by user') => void (refusedSender = { code, message }),
    reset: () => {
      standing = { kind: 'accept' };
      next = [];
      refusedRecipients.clear();
      refusedSender = undefined;
    },
    close: async () => {
      for (const connection of server.connections) connection._socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function withCode(error: Error, responseCode: number): Error {
  return Object.assign(error, { responseCode });
}

function defaultText(code: number): string {
  if (code === 421) return '4.3.2 Service not available, closing transmission channel';
  if (code < 500) return '4.3.0 Temporary failure, try again later';
  return '5.7.1 Message rejected as spam';
}

/** First value of a header in a raw message, unfolded. */
function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head);
  return (match?.[1] ?? '').replace(/\r?\n[ \t]+/g, ' ').trim();
}

function dropConnection(server: SMTPServer, session: SMTPServerSession): void {
  for (const connection of server.connections) {
    if (connection.session.id === session.id) connection._socket.destroy();
  }
}
