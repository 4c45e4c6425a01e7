import { AuditSink, type AuditEvent, type AuditEventName } from '../audit/audit-event';

/** Keeps every audit event in memory (`auditSink: new RecordingAuditSink()`), for assertions. */
export class RecordingAuditSink extends AuditSink {
  readonly events: AuditEvent[] = [];

  write(event: AuditEvent): void {
    this.events.push(event);
  }

  /** The events of one kind, oldest first. */
  named(name: AuditEventName): AuditEvent[] {
    return this.events.filter((event) => event.event === name);
  }

  clear(): void {
    this.events.length = 0;
  }
}
