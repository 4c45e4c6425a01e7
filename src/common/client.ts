import type { IncomingHttpHeaders } from 'node:http';

/** The parts of a request TokenGuard reads to tell clients apart. */
export interface ClientRequest {
  headers: IncomingHttpHeaders;
  socket?: { remoteAddress?: string };
}

/** Who sent a request, as far as the server can tell. */
export interface ClientInfo {
  /** The client address; IPv6 addresses cut to their /64, which one client usually holds whole. */
  ip: string;
  /** The `User-Agent` header, cut to 256 characters. */
  userAgent?: string;
}
