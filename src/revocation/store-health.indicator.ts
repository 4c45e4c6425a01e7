import { Injectable } from '@nestjs/common';
import { RevocationStore } from './revocation-store';
import { RevocationService } from './revocation.service';

/** A terminus health indicator's result: `status` decides, the rest is detail. */
export type StoreHealth = Record<string, { status: 'up' | 'down'; store: string }>;

/**
 * Readiness for @nestjs/terminus: `health.check([() => storeHealth.isHealthy('revocation')])`
 * answers 503 while the revocation store cannot answer (one bounded read), so a load balancer
 * stops sending traffic that would only get 503s. Shaped as terminus expects, without importing it.
 */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    private readonly revocation: RevocationService,
    private readonly store: RevocationStore,
  ) {}

  async isHealthy(key = 'tokenguard'): Promise<StoreHealth> {
    const up = await this.revocation.storeAnswers();
    return { [key]: { status: up ? 'up' : 'down', store: this.store.describe() } };
  }
}
