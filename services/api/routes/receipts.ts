import type { FastifyPluginAsync } from 'fastify';
import { channelNames } from '../../../lib/channels/channel.js';
import { HttpError, type ErrorSlug } from '../../../lib/api/http-errors.js';
import { applyReceipt, isReceiptError, parseReceiptBody, verifyReceiptSignature, type ReceiptErrorCode } from '../../../lib/notifications/delivery-receipts.js';
import type { RouteDeps } from '../server.js';

const slugFor: Record<ReceiptErrorCode, ErrorSlug> = {
  bad_signature: 'unauthorized',
  stale_signature: 'unauthorized',
  invalid_body: 'validation_failed',
  unknown_delivery: 'not_found',
  duplicate_receipt: 'conflict',
};

/**
 * Provider delivery receipts. Providers hold no API key: each receipt is signed
 * (`Herald-Signature: t=<unix>,v1=<hmac-sha256 hex of "t.body">`) with RECEIPT_SIGNING_SECRET,
 * verified over the raw bytes, so this plugin keeps the body as a string.
 */
export const receiptRoutes: FastifyPluginAsync<RouteDeps> = async (app, { ctx }) => {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post<{ Params: { channel: string }; Body: string }>(
    '/v1/receipts/:channel',
    { schema: { tags: ['receipts'], summary: 'A provider delivery receipt (HMAC-signed)' } },
    async (request, reply) => {
      const secret = ctx.config.RECEIPT_SIGNING_SECRET;
      if (!secret) throw new HttpError('unavailable', 'Receipts are not configured (RECEIPT_SIGNING_SECRET is unset)');
      const channel = request.params.channel;
      if (!(channelNames as readonly string[]).includes(channel)) {
        throw new HttpError('validation_failed', 'Unknown channel', [{ path: 'channel', message: `must be one of ${channelNames.join(', ')}` }]);
      }
      try {
        const signature = request.headers['herald-signature'];
        verifyReceiptSignature(request.body, typeof signature === 'string' ? signature : undefined, secret);
        let json: unknown;
        try {
          json = JSON.parse(request.body);
        } catch {
          throw new HttpError('validation_failed', 'The body is not valid JSON', [{ path: '', message: 'must be JSON' }]);
        }
        const applied = await applyReceipt(ctx.pool, channel, parseReceiptBody(json));
        return reply.code(200).send(applied);
      } catch (error) {
        if (isReceiptError(error)) throw new HttpError(slugFor[error.code], error.message, error.details.length ? error.details : undefined);
        throw error;
      }
    },
  );
};
