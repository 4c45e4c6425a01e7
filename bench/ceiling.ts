/**
 * The bench's ceiling: the demo's app shell (adapter, helmet, body rules, validation pipe,
 * OpenAPI) around the same routes with the same answers, and no TokenGuard at all. A route of an
 * app that has TokenGuard installed is no ceiling: the global guards, filter and interceptor run
 * there too. Started by `npm run bench` as `node .build/bench/ceiling.js` with PORT and HTTP_ADAPTER.
 */
import { Controller, Get, Logger, Module, type DynamicModule } from '@nestjs/common';
import { createDemoApp } from '../test/demo/create-demo-app';
import { loadDemoConfig } from '../test/demo/demo-config';

const USERS = [
  { sub: '1', username: 'alice', roles: ['admin'] },
  { sub: '2', username: 'bob', roles: ['moderator'] },
  { sub: '3', username: 'carol', roles: ['user'] },
];

@Controller()
class CeilingController {
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('protected')
  protected(): { sub: string; username: string; roles: string[] } {
    return USERS[0]!;
  }

  @Get('admin/users')
  adminUsers(): { users: typeof USERS } {
    return { users: USERS };
  }
}

@Module({ controllers: [CeilingController] })
class CeilingModule {}

async function main(): Promise<void> {
  const config = loadDemoConfig(process.env); // the adapter and the port; the key goes unused
  const module: DynamicModule = { module: CeilingModule };
  const app = await createDemoApp({ config, module });
  await app.listen(config.port);
}

main().catch((error: unknown) => {
  new Logger('Ceiling').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
