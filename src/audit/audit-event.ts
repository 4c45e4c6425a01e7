import { Logger } from '@nestjs/common';

/** Every audit event TokenGuard emits (see the README's table). */
export type AuditEventName =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'token.issued'
  | 'token.refreshed'
  | 'refresh.replayed'
  | 'refresh.reused'
  | 'token.revoked'
  | 'session.revoked'
  | 'logout.everywhere'
  | 'access.refused'
  | 'rate.limited'
  | 'store.unavailable';

/**
 * One audit event: what happened, to whom, from where. Never a token, a password or a secret:
 * tokens are named by their `jti`, sessions by their `sid`.
 */
export interface AuditEvent {
  /** ISO 8601, from the module's clock. */
  time: string;
  event: AuditEventName;
  outcome: 'success' | 'failure';
  /** The error code of a failure. */
  reason?: string;
  sub?: string;
  jti?: string;
  sid?: string;
  ip?: string;
  userAgent?: string;
}

/**
 * Where audit events go. Implement it to ship them elsewhere (a SIEM, a table); TokenGuard
 * catches what `write` throws or rejects with, so a failing sink never fails a request.
 */
export abstract class AuditSink {
  abstract write(event: AuditEvent): void | Promise<void>;
}

/** The default sink: one JSON line per event through Nest's logger, context `Audit`. */
export class LoggerAuditSink extends AuditSink {
  private readonly logger = new Logger('Audit');

  write(event: AuditEvent): void {
    this.logger.log(JSON.stringify(event));
  }
}

/** One bare JSON line per event on a stream (stdout by default), for log shippers. */
export class JsonLinesAuditSink extends AuditSink {
  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    super();
  }

  write(event: AuditEvent): void {
    this.stream.write(`${JSON.stringify(event)}\n`);
  }
}
