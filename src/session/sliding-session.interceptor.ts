import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { authTarget } from '../context/auth-target';
import { from, switchMap, tap, type Observable } from 'rxjs';
import { NEW_TOKEN_HEADER } from '../auth.constants';
import { CookieTransport } from '../cookies/cookie-transport';
import { AuthService, type Renewal } from '../tokens/auth.service';

/** Opts a route or controller out of sliding renewal. */
export const NoTokenRenewal = Reflector.createDecorator<true>({ transform: () => true });

/**
 * Sliding sessions: a successful response to a request whose access token is close to expiry
 * carries a fresh one in `X-New-Token` (exposed to browsers through CORS), and the body is left
 * as it is. Written on the real response after the handler succeeded, so error responses never
 * carry one; through the HTTP adapter, so Express and Fastify behave alike.
 */
@Injectable()
export class SlidingSessionInterceptor implements NestInterceptor {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    private readonly transport: CookieTransport,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { request, response, connection } = authTarget(context);
    const principal = request?.user;
    // Sockets and subscriptions have no response to carry a header: they end with their token.
    if (
      !principal?.claims ||
      !request ||
      response === undefined ||
      connection ||
      this.reflector.getAllAndOverride(NoTokenRenewal, [context.getHandler(), context.getClass()])
    ) {
      return next.handle();
    }
    // Decided before the handler runs: most requests are far from expiry and pay nothing more.
    const pending = this.auth.renewAccessToken(principal, request);
    if (!pending) return next.handle();
    const viaCookie = this.transport.accessToken(request)?.via === 'cookie';
    return from(pending).pipe(
      switchMap((renewal) =>
        renewal
          ? next.handle().pipe(
              tap(() => {
                if (!this.auth.hasEnded(principal)) this.write(response, renewal, viaCookie);
              }),
            )
          : next.handle(),
      ),
    );
  }

  private write(response: unknown, { token, expiresAt }: Renewal, viaCookie: boolean): void {
    const { httpAdapter } = this.adapterHost;
    if (httpAdapter.isHeadersSent(response)) return; // the handler wrote the response itself
    // The response now carries a token, which no cache may keep (RFC 6749 section 5.1).
    httpAdapter.setHeader(response, 'Cache-Control', 'no-store');
    // A cookie session keeps its token out of page scripts' reach: no header, only the cookie.
    if (viaCookie) return this.transport.renewAccessCookie(response, token, expiresAt);
    httpAdapter.setHeader(response, NEW_TOKEN_HEADER, token);
    const exposed = String(httpAdapter.getHeader(response, 'Access-Control-Expose-Headers') ?? '');
    if (
      !exposed
        .toLowerCase()
        .split(/\s*,\s*/)
        .includes(NEW_TOKEN_HEADER.toLowerCase())
    ) {
      httpAdapter.setHeader(
        response,
        'Access-Control-Expose-Headers',
        exposed ? `${exposed}, ${NEW_TOKEN_HEADER}` : NEW_TOKEN_HEADER,
      );
    }
  }
}
