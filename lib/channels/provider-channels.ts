import type { Logger } from '../logger.js';
import type { ChannelSet } from './channel.js';
import { createSmtpEmailChannel } from './email-smtp.js';
import type { ProviderConfig } from './provider-config.js';
import { createFcmPushChannel, type FcmServiceAccount } from './push-fcm.js';
import { fcmSandboxOptions, startFakeFcmServer, type FakeFcmServer } from './sandbox/fake-fcm-server.js';
import { startSmsGatewaySink, type SmsGatewaySink } from './sandbox/sms-gateway-sink.js';
import { startSmtpSink, type SmtpSink } from './sandbox/smtp-sink.js';
import { createSmsGatewayChannel } from './sms-gateway.js';

export interface ProviderChannels {
  channels: ChannelSet;
  /** One line for the start-up log: which provider each channel talks to. */
  summary: string;
  sandboxed: string[];
  /** The loopback peers standing in for unconfigured providers (what they received, for inspection). */
  sinks: { fcm?: FakeFcmServer; smtp?: SmtpSink; sms?: SmsGatewaySink };
  close(): Promise<void>;
}

/**
 * The real adapters, always. A provider that is not configured gets a sandbox peer on
 * loopback (fake FCM endpoint, SMTP server, SMS gateway) so that the same code paths run.
 */
export async function createProviderChannels(config: ProviderConfig, logger: Logger): Promise<ProviderChannels> {
  const closers: (() => Promise<void>)[] = [];
  const sandboxed: string[] = [];
  const parts: string[] = [];
  const sinks: ProviderChannels['sinks'] = {};

  let push;
  if (config.fcmServiceAccount) {
    push = createFcmPushChannel({ serviceAccount: config.fcmServiceAccount as FcmServiceAccount });
    parts.push(`push=fcm(project ${String(config.fcmServiceAccount.project_id)})`);
  } else {
    const fake = await startFakeFcmServer();
    sinks.fcm = fake;
    closers.push(() => fake.close());
    push = createFcmPushChannel(fcmSandboxOptions(fake));
    sandboxed.push('push');
    parts.push(`push=sandbox(fake FCM on 127.0.0.1:${fake.port})`);
  }
  closers.push(() => push.close());

  let email;
  if (config.SMTP_HOST) {
    email = createSmtpEmailChannel({
      host: config.SMTP_HOST, port: config.SMTP_PORT, secure: config.SMTP_SECURE,
      auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASS! } : undefined,
      from: config.EMAIL_FROM, messageIdDomain: config.EMAIL_MESSAGE_ID_DOMAIN,
    });
    parts.push(`email=smtp(${config.SMTP_HOST}:${config.SMTP_PORT})`);
  } else {
    const sink = await startSmtpSink();
    sinks.smtp = sink;
    closers.push(() => sink.close());
    email = createSmtpEmailChannel({ host: '127.0.0.1', port: sink.port, from: config.EMAIL_FROM, messageIdDomain: config.EMAIL_MESSAGE_ID_DOMAIN });
    sandboxed.push('email');
    parts.push(`email=sandbox(SMTP on 127.0.0.1:${sink.port})`);
  }
  closers.push(() => email.close());

  let sms;
  if (config.SMS_GATEWAY_URL) {
    sms = createSmsGatewayChannel({
      url: config.SMS_GATEWAY_URL,
      auth: config.SMS_GATEWAY_AUTH_VALUE ? { header: config.SMS_GATEWAY_AUTH_HEADER, value: config.SMS_GATEWAY_AUTH_VALUE } : undefined,
      sender: config.SMS_SENDER, messageIdPath: config.SMS_MESSAGE_ID_PATH, timeoutMs: config.SMS_TIMEOUT_MS,
    });
    parts.push(`sms=gateway(${new URL(config.SMS_GATEWAY_URL).host})`);
  } else {
    const sink = await startSmsGatewaySink();
    sinks.sms = sink;
    closers.push(() => sink.close());
    sms = createSmsGatewayChannel({ url: sink.url, timeoutMs: config.SMS_TIMEOUT_MS });
    sandboxed.push('sms');
    parts.push(`sms=sandbox(HTTP gateway on ${new URL(sink.url).host})`);
  }

  const summary = `providers: ${parts.join(' ')}${sandboxed.length ? ` (sandboxed: ${sandboxed.join(', ')}; nothing leaves this machine)` : ''}`;
  logger.info({ sandboxed }, summary);
  return {
    channels: { push, email, sms },
    summary,
    sandboxed,
    sinks,
    async close() {
      for (const close of closers.reverse()) await close().catch(() => {});
    },
  };
}
