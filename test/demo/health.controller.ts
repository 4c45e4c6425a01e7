import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { NoRateLimit, Public, StoreHealthIndicator } from '../../src/index';

/** Readiness (`/health` in AppController is liveness): 503 while the revocation store cannot answer. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly store: StoreHealthIndicator,
  ) {}

  @Public()
  @NoRateLimit()
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.store.isHealthy('revocation')]);
  }
}
