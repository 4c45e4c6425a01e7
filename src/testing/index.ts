/**
 * `tokenguard/testing`: what an app's own tests need. A clock to move time, tokens for test
 * users that pass the real guard, and a sink that records audit events.
 */
export { ManualClock } from './manual-clock';
export { RecordingAuditSink } from './recording-audit-sink';
export { TestTokens, type TestTokenOptions } from './test-tokens';
