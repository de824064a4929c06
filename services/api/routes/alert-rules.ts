import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../../../lib/api/http-errors.js';
import { alertRulesInputSchema, getAlertRules, replaceAlertRules } from '../../../lib/banking/alert-rules.js';
import { accountNumber } from '../../../lib/events/catalog/fields.js';
import type { RouteDeps } from '../server.js';

const accountParams = z.object({ accountNumber });

/** Operators' view of an account's alert rules (SPEC §10): balance below / above, debit over. */
export const alertRuleRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/accounts/:accountNumber/alert-rules',
    {
      config: { scope: 'read' },
      schema: { tags: ['accounts'], summary: "An account's alert rules, with each balance rule's state", params: accountParams },
    },
    async (request) => {
      const rules = await getAlertRules(ctx.prisma, request.params.accountNumber);
      if (!rules) throw new HttpError('not_found', `No account ${request.params.accountNumber}`);
      return rules;
    },
  );

  app.put(
    '/v1/accounts/:accountNumber/alert-rules',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['accounts'],
        summary: "Replace an account's alert rules; a rule kept (same kind and threshold) keeps its state",
        params: accountParams,
        body: alertRulesInputSchema,
      },
    },
    async (request) => {
      const rules = await replaceAlertRules(ctx.prisma, request.params.accountNumber, request.body.rules);
      if (!rules) throw new HttpError('not_found', `No account ${request.params.accountNumber}`);
      return rules;
    },
  );
};
