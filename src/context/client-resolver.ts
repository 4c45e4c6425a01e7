import { Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import { isIP } from 'node:net';
import { AuthConfig } from '../auth-options.validate';
import type { ClientInfo, ClientRequest } from '../common/client';

const MAX_USER_AGENT = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Some proxies write `1.2.3.4:5678` or `[2001:db8::1]:443`; the address is what counts. */
function withoutPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed) return bracketed[1] ?? '';
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  return v4 ? (v4[1] ?? '') : entry;
}

/**
 * Reads the client's address: the socket peer, or with `trustProxy: n` the address the n-th
 * proxy in front of the app saw, counted from the right of `X-Forwarded-For` (entries further
 * left are whatever the client chose to send).
 */
@Injectable()
export class ClientResolver {
  constructor(private readonly config: AuthConfig) {}

  of(request: ClientRequest): ClientInfo {
    const agent = request.headers['user-agent'];
    return {
      ip: this.address(request),
      ...(typeof agent === 'string' && {
        // Control and line-separator characters out: a log line must stay one line.
        userAgent: agent.replace(CONTROL, '').slice(0, MAX_USER_AGENT),
      }),
    };
  }

  address(request: ClientRequest): string {
    const peer = request.socket?.remoteAddress ?? 'unknown';
    const hops = this.config.trustProxy;
    let address = peer;
    if (hops > 0) {
      const forwarded = request.headers['x-forwarded-for'];
      const list = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      const candidate = withoutPort(list[Math.max(0, list.length - hops)] ?? '');
      if (candidate && isIP(candidate)) address = candidate;
    }
    return isIP(address) ? normalizeIp(address) : 'unknown';
  }
}
