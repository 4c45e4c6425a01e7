/**
 * The app `npm run bench` loads, in two builds that differ by TokenGuard alone: the demo's shell
 * (adapter, helmet, body rules, validation pipe, OpenAPI) around the same three routes with the
 * same answers. `BENCH_APP=ceiling` has no TokenGuard at all (its decorators are inert metadata
 * there); `BENCH_APP=tokenguard` imports `AuthModule.forRoot` as the README shows, with its
 * defaults (the global guard, filter, login and refresh limits) plus a
 * `findUser` and sliding renewal, on the memory store or on Redis with `REDIS_URL`. A route of an
 * app with TokenGuard installed is no ceiling: the global chain runs there too.
 */
import { Controller, Get, Logger, Module, type DynamicModule } from '@nestjs/common';
import { AuthModule, Public, Roles } from '../src/index';
import { createDemoApp } from '../test/demo/create-demo-app';
import { loadDemoConfig } from '../test/demo/demo-config';

const USERS = [
  { sub: '1', username: 'alice', roles: ['admin'] },
  { sub: '2', username: 'bob', roles: ['moderator'] },
  { sub: '3', username: 'carol', roles: ['user'] },
];

@Controller()
class BenchController {
  @Public()
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Roles('admin')
  @Get('admin/users')
  adminUsers(): { users: typeof USERS } {
    return { users: USERS };
  }
}

@Module({ controllers: [BenchController] })
class CeilingModule {}

/** TokenGuard as an app installs it; the claims the bench signs are the ones it issues. */
function withTokenGuard(): DynamicModule {
  const auth = AuthModule.forRoot({
    // BENCH_GLOBAL_GUARDS=false: no global guards (to measure what the guard chain costs).
    globalGuards: process.env.BENCH_GLOBAL_GUARDS !== 'false',
    secret: process.env.JWT_SECRET!,
    issuer: 'tokenguard-bench',
    audience: 'tokenguard-bench-api',
    findUser: (sub) => USERS.find((user) => user.sub === sub),
    sliding: { renewWithinSeconds: 300 },
    revocation: { redis: process.env.REDIS_URL, keyPrefix: process.env.REDIS_KEY_PREFIX },
    // BENCH_RATE_LIMIT (requests a minute) adds the opt-in app-wide limit.
    ...(process.env.BENCH_RATE_LIMIT && {
      rateLimit: { default: { limit: Number(process.env.BENCH_RATE_LIMIT), ttlSeconds: 60 } },
    }),
  });
  return { module: CeilingModule, imports: [auth] };
}

async function main(): Promise<void> {
  const config = loadDemoConfig(process.env); // the adapter and the port
  const module =
    process.env.BENCH_APP === 'tokenguard' ? withTokenGuard() : { module: CeilingModule };
  const app = await createDemoApp({ config, module });
  await app.listen(config.port);
  // Exit cleanly on a signal, so that `node --cpu-prof` writes its profile.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
}

main().catch((error: unknown) => {
  new Logger('BenchApp').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
