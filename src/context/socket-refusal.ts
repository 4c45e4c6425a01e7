import type { ExecutionContext } from '@nestjs/common';
import type * as Websockets from '@nestjs/websockets';
import type { AuditService } from '../audit/audit.service';
import { isAuthError } from '../errors/auth.errors';
import { authTarget } from './auth-target';
import { answerSocket } from './connections';

/**
 * Nest runs the global guards on gateway messages but not the global filters: an AuthError a
 * guard throws there would reach the client as "Internal server error". A WsException carrying
 * `{ code, message }` is what Nest's socket filter sends as the `exception` event. Audited here
 * for the same reason.
 */
export function forContext(
  context: ExecutionContext,
  error: unknown,
  audit: AuditService,
): unknown {
  if (context.getType() !== 'ws' || !isAuthError(error)) return error;
  const { request, connection } = authTarget(context);
  audit.refused(error, { token: request?.user, request });
  const body = answerSocket(context.getArgs(), connection, error);
  // Loaded only here: an app without gateways has no @nestjs/websockets to load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WsException } = require('@nestjs/websockets') as typeof Websockets;
  return new WsException(body);
}
