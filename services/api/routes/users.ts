import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../../../lib/api/http-errors.js';
import { maskPii } from '../../../lib/api/pii.js';
import { registerDevice } from '../../../lib/notifications/contacts.js';
import { contactSchema, getPreferences, preferencesSchema, putContact, putPreferences, removeDevice } from '../../../lib/notifications/preferences-store.js';
import type { RouteDeps } from '../server.js';

const userParams = z.object({ userId: z.string().min(1).max(128) });

export const userRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/users/:userId/preferences',
    { config: { scope: 'read' }, schema: { tags: ['users'], summary: "A user's notification preferences", params: userParams } },
    async (request) => {
      const preferences = await getPreferences(ctx.pool, request.params.userId);
      if (!preferences) throw new HttpError('not_found', `No user ${request.params.userId}`);
      return preferences;
    },
  );

  app.put(
    '/v1/users/:userId/preferences',
    {
      config: { scope: 'publish' },
      schema: { tags: ['users'], summary: "Replace a user's notification preferences", params: userParams, body: preferencesSchema },
    },
    async (request) => putPreferences(ctx.pool, request.params.userId, request.body),
  );

  app.put(
    '/v1/users/:userId/contact',
    {
      config: { scope: 'publish' },
      schema: { tags: ['users'], summary: "Set a user's e-mail and phone (E.164); null clears one", params: userParams, body: contactSchema },
    },
    async (request) => maskPii(await putContact(ctx.pool, request.params.userId, request.body)),
  );

  app.post(
    '/v1/users/:userId/devices',
    {
      config: { scope: 'publish' },
      schema: {
        tags: ['users'],
        summary: 'Register (or re-activate) a push device token',
        params: userParams,
        body: z.strictObject({ token: z.string().min(8).max(4096), platform: z.enum(['android', 'ios', 'web']) }),
      },
    },
    async (request, reply) => {
      await registerDevice(ctx.pool, request.params.userId, request.body.token, request.body.platform);
      return reply.code(201).send({ userId: request.params.userId, platform: request.body.platform, active: true });
    },
  );

  app.delete(
    '/v1/users/:userId/devices/:token',
    {
      config: { scope: 'publish' },
      // The device token is in the path: keep it out of the request log.
      logSerializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.replace(/\/devices\/[^/?]+/, '/devices/[redacted]') }),
      },
      schema: {
        tags: ['users'],
        summary: 'Remove a push device token',
        params: userParams.extend({ token: z.string().min(1).max(4096) }),
      },
    },
    async (request, reply) => {
      const removed = await removeDevice(ctx.pool, request.params.userId, request.params.token);
      if (!removed) throw new HttpError('not_found', 'No such active device for this user');
      return reply.code(204).send();
    },
  );
};
