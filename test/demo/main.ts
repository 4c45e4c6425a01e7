import { Logger } from '@nestjs/common';
import { createDemoApp } from './create-demo-app';
import { loadDemoConfig } from './demo-config';

async function main(): Promise<void> {
  const config = loadDemoConfig(process.env);
  const app = await createDemoApp({ config });
  app.enableShutdownHooks();
  await app.listen(config.port);
  new Logger('Demo').log(`TokenGuard demo listening on http://localhost:${config.port}`);
}

main().catch((error: unknown) => {
  new Logger('Demo').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
