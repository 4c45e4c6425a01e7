import { Controller, Get, Header, NotFoundException, type Type } from '@nestjs/common';
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
    /** Undefined on a resource server: the keys it uses are the auth service's to publish. */
    private readonly document?: { keys: PublicJwk[] };

    constructor(config: AuthConfig) {
      if (!config.remoteKeys) this.document = config.keys.jwks();
    }

    // Short enough that a newly added key is seen well before it signs anything.
    @Public()
    @Get(path)
    @Header('Cache-Control', 'public, max-age=300')
    jwks(): { keys: PublicJwk[] } {
      if (!this.document) throw new NotFoundException();
      return this.document;
    }
  }
  return JwksController;
}
