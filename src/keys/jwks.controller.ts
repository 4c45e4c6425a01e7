import { Controller, Get, Header, type Type } from '@nestjs/common';
import { AuthConfig } from '../auth-options.validate';
import { Public } from '../jwt/public.decorator';
import type { PublicJwk } from './key-ring';

/**
 * The JWKS controller for `path`: the ring's public keys, so other services (and jose,
 * and API gateways) can verify TokenGuard's tokens. Built per path because Nest reads routes
 * from decorators before any option is resolved.
 */
export function createJwksController(path: string): Type {
  @Controller()
  class JwksController {
    private readonly document: { keys: PublicJwk[] };

    constructor(config: AuthConfig) {
      this.document = config.keys.jwks();
    }

    // Short enough that a newly added key is seen well before it signs anything.
    @Public()
    @Get(path)
    @Header('Cache-Control', 'public, max-age=300')
    jwks(): { keys: PublicJwk[] } {
      return this.document;
    }
  }
  return JwksController;
}
