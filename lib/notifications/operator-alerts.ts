import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../logger.js';

export interface OperatorAlert {
  /** Stable kind, e.g. `delivery_dead_lettered`, `channel_paused`. */
  kind: string;
  summary: string;
  details: Record<string, unknown>;
}

export interface OperatorAlertsOptions {
  logger: Logger;
  /** Emails the operations address when given; alerts are always logged at error level. */
  email?: { to: string; from: string; smtp: { host: string; port: number; secure?: boolean; auth?: { user: string; pass: string } } };
  /** At most one email per kind in this window; the log line is never suppressed. */
  emailIntervalMs?: number;
}

export interface OperatorAlerts {
  raise(alert: OperatorAlert): void;
  close(): Promise<void>;
}

/**
 * Tells a human. Every alert is an error-level log line (what log-based alerting keys on);
 * with an operations address configured it is also emailed, throttled per kind so an outage
 * that dead-letters thousands of deliveries sends one email a window, not thousands.
 */
export function createOperatorAlerts(options: OperatorAlertsOptions): OperatorAlerts {
  const interval = options.emailIntervalMs ?? 5 * 60_000;
  const lastEmail = new Map<string, number>();
  const suppressed = new Map<string, number>();
  const transport: Transporter | null = options.email
    ? nodemailer.createTransport({ ...options.email.smtp, pool: false, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 })
    : null;
  const pending = new Set<Promise<unknown>>();

  return {
    raise(alert) {
      options.logger.error({ alert: alert.kind, ...alert.details }, `OPERATOR ALERT: ${alert.summary}`);
      if (!transport || !options.email) return;
      const now = Date.now();
      if (now - (lastEmail.get(alert.kind) ?? 0) < interval) {
        suppressed.set(alert.kind, (suppressed.get(alert.kind) ?? 0) + 1);
        return;
      }
      lastEmail.set(alert.kind, now);
      const skipped = suppressed.get(alert.kind) ?? 0;
      suppressed.delete(alert.kind);
      const text = [alert.summary, '', JSON.stringify(alert.details, null, 2), skipped ? `\n(${skipped} more "${alert.kind}" alerts in the last window were logged but not emailed)` : ''].join('\n');
      const send = transport
        .sendMail({ from: options.email.from, to: options.email.to, subject: `[Herald] ${alert.summary}`, text })
        .catch((error) => options.logger.warn({ err: error, alert: alert.kind }, 'could not email the operator alert (it is logged)'))
        .finally(() => pending.delete(send));
      pending.add(send);
    },
    async close() {
      await Promise.all(pending);
      transport?.close();
    },
  };
}
