import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  devDependencies: Record<string, string>;
};

/** The version this repo tests with, for the app's own dependencies. */
const tested = (name: string): string => {
  const installed = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return installed.version;
};

/** The README's quick start, verbatim, with the imports and the user-owned pieces it assumes. */
function quickStart(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## Quick start\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README: no Quick start code block');
  return `
import 'reflect-metadata';
import { Body, Controller, Delete, Get, HttpCode, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AuthModule, AuthService, CurrentUser, LoginEndpoint, Public, RefreshEndpoint, Roles,
  type AuthPrincipal, type ClientRequest,
} from '${manifest.name}';

class LoginDto { username!: string; password!: string; }
class RefreshDto { refresh_token!: string; }
const ACCOUNTS: Record<string, { sub: string; roles: string[]; password: string }> = {
  ada: { sub: '1', roles: ['editor'], password: 'ada-password' },
  bo: { sub: '2', roles: ['reader'], password: 'bo-password' },
};
const users = {
  check(username: string, password: string) {
    const account = ACCOUNTS[username];
    return account && account.password === password ? { sub: account.sub, roles: account.roles } : null;
  },
};

${block}
async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1'); // a free port, printed for the test
  console.log('listening on ' + (app.getHttpServer().address() as { port: number }).port);
}
void main();
`;
}

/**
 * Every code block of the README's sections on GraphQL and gateways, on storage and on deploying
 * at scale: whole files,
 * imports included, that need optional packages the quick start's app does without.
 */
function optionalBlocks(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [
    /## GraphQL, subscriptions and WebSocket gateways\n([\s\S]*?)\n## /,
    /### Storage\n([\s\S]*?)\n### /,
    /## Deploying at scale\n([\s\S]*?)\n## /,
  ].flatMap((heading) => {
    const section = heading.exec(readme)?.[1];
    if (!section) throw new Error(`README: no section matching ${heading}`);
    return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  });
}

/** The README's Jest configuration and example spec ("Testing your app"), verbatim. */
function testingBlocks(): { config: string; spec: string } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /\n## Testing your app\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const config = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  const spec = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!config || !spec) throw new Error('README: Testing your app needs a js and a ts block');
  return { config, spec };
}

/** What the README's testing section has an app install. */
const TESTING_PACKAGES = [
  'jest',
  '@swc/jest',
  '@swc/core',
  '@types/jest',
  '@nestjs/testing',
  'supertest',
  '@types/supertest',
];

/** What the context sections' apps install beside the peers. */
const CONTEXT_PACKAGES = [
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@apollo/server',
  '@as-integrations/express5',
  '@nestjs/mercurius',
  'mercurius',
  'fastify',
  'graphql',
  'graphql-ws',
  'ws',
  '@nestjs/websockets',
  '@nestjs/platform-socket.io',
  '@nestjs/platform-ws',
  '@nestjs/cache-manager',
  'cache-manager',
  'keyv',
  '@keyv/redis',
];

const TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    outDir: 'dist',
    rootDir: 'src',
    types: ['node'],
    // As in the Nest starter: @nestjs/passport's own declarations need @types/passport otherwise.
    skipLibCheck: true,
  },
  include: ['src'],
};

/**
 * Packs the library as npm would publish it, installs the tarball into a new app in a temporary
 * folder (with the peers it asks for), compiles that app against the published types, and talks
 * to it over HTTP. Also imports it from an ES module, and runs publint on the package.
 */
describe('the packed package in a fresh Nest app', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tokenguard-consumer-'));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: ROOT,
    });
    const tarball = join(dir, stdout.trim().split('\n').at(-1) ?? '');
    const app = join(dir, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    const peers = ['@nestjs/common', '@nestjs/core', '@nestjs/jwt', '@nestjs/passport'];
    const others = [
      '@nestjs/platform-express',
      '@nestjs/throttler',
      'passport',
      'reflect-metadata',
      'rxjs',
    ];
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer-app',
        private: true,
        type: 'commonjs',
        dependencies: {
          [manifest.name]: `file:${tarball}`,
          ...Object.fromEntries([...peers, ...others].map((name) => [name, tested(name)])),
        },
        devDependencies: Object.fromEntries(
          ['@types/node', ...TESTING_PACKAGES].map((name) => [name, tested(name)]),
        ),
      }),
    );
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(app, 'src', 'main.ts'), quickStart());
    const { config, spec } = testingBlocks();
    mkdirSync(join(app, 'test'));
    writeFileSync(join(app, 'jest.config.js'), config);
    writeFileSync(join(app, 'test', 'posts.spec.ts'), spec);

    // A second app with GraphQL and the WebSocket packages, for the README's context sections.
    const contexts = join(dir, 'contexts');
    mkdirSync(join(contexts, 'src'), { recursive: true });
    writeFileSync(
      join(contexts, 'package.json'),
      JSON.stringify({
        name: 'consumer-contexts',
        private: true,
        type: 'commonjs',
        dependencies: {
          [manifest.name]: `file:${tarball}`,
          ...Object.fromEntries(
            [...peers, ...others, ...CONTEXT_PACKAGES].map((name) => [name, tested(name)]),
          ),
        },
        devDependencies: { '@types/node': tested('@types/node'), '@types/ws': tested('@types/ws') },
      }),
    );
    writeFileSync(join(contexts, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    optionalBlocks().forEach((block, i) =>
      writeFileSync(join(contexts, 'src', `context-${i + 1}.ts`), block),
    );

    // --prefer-offline: the packages are in npm's cache after this repo's own install.
    const install = (cwd: string) =>
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd,
      });
    await Promise.all([install(app), install(contexts)]);
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')], {
      cwd: app,
    }).catch((error: { stdout?: string }) => {
      throw new Error(`the app does not compile against the package:\n${error.stdout}`);
    });
    server = spawn(process.execPath, ['dist/main.js'], {
      cwd: app,
      env: { ...process.env, JWT_SECRET: 'Zq8#rT2!mW9$kL4@xN7%vB3^cF6&hJ1*' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((resolve, reject) => {
      server?.stdout?.on('data', (chunk: Buffer) => {
        const listening = /listening on (\d+)/.exec(chunk.toString());
        if (listening?.[1]) resolve(listening[1]);
      });
      server?.on('exit', (code) => reject(new Error(`the app exited with ${code}`)));
      setTimeout(() => reject(new Error('the app did not start within 30 s')), 30_000).unref();
    });
    http = request(`http://127.0.0.1:${port}`);
  }, 240_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill();
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships only the built library: no demo, tests or sources', () => {
    const files = readdirSync(join(dir, 'app', 'node_modules', manifest.name), {
      recursive: true,
    }) as string[];
    expect(files).toContain(join('dist', 'index.js'));
    expect(files).toContain(join('dist', 'index.d.ts'));
    expect(files.filter((f) => /(^|\/)(test|src|bench)\/|\.spec\./.test(f))).toEqual([]);
  });

  it('runs without the optional peers (@nestjs/swagger, ioredis, GraphQL, WebSockets) installed', () => {
    for (const name of ['@nestjs/swagger', 'ioredis', 'graphql', ...CONTEXT_PACKAGES]) {
      expect(existsSync(join(dir, 'app', 'node_modules', name))).toBe(false);
    }
  });

  it("runs the README's quick start: login, a guarded route, a role refusal, refresh, logout", async () => {
    const login = await http
      .post('/auth/login')
      .send({ username: 'bo', password: 'bo-password' })
      .expect(200);
    const pair = login.body as { access_token: string; refresh_token: string };
    const auth = `Bearer ${pair.access_token}`;
    expect((await http.get('/posts/mine').set('Authorization', auth).expect(200)).text).toBe('2');
    const refused = await http.delete('/posts/7').set('Authorization', auth).expect(403);
    expect(refused.body.code).toBe('AUTH_ROLE_REQUIRED');
    expect((await http.get('/posts/mine').expect(401)).body.code).toBe('AUTH_TOKEN_MISSING');
    await http.post('/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(200);
    await http.post('/auth/logout').set('Authorization', auth).expect(200);
    expect((await http.get('/posts/mine').set('Authorization', auth).expect(401)).body.code).toBe(
      'AUTH_TOKEN_REVOKED',
    );
    await http.post('/auth/login').send({ username: 'ada', password: 'wrong' }).expect(401);
  });

  it("runs the README's Jest setup and example spec, with tokenguard/testing, in the app", async () => {
    const jest = join(dir, 'app', 'node_modules', 'jest', 'bin', 'jest.js');
    const { stderr } = await run(process.execPath, [jest, '--ci'], { cwd: join(dir, 'app') }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`the README's testing example fails:\n${error.stderr}${error.stdout}`);
      },
    );
    expect(stderr).toMatch(/Tests:\s+2 passed, 2 total/);
  });

  it("compiles the README's GraphQL, subscription, gateway and cache-manager code against the package", async () => {
    const contexts = join(dir, 'contexts');
    expect(readdirSync(join(contexts, 'src')).length).toBeGreaterThanOrEqual(5);
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')], {
      cwd: contexts,
    }).catch((error: { stdout?: string }) => {
      throw new Error(`the README's context sections do not compile:\n${error.stdout}`);
    });
  });

  it('ships the key tool as a bin (npx tokenguard)', async () => {
    const bin = join(dir, 'app', 'node_modules', '.bin', 'tokenguard');
    const { stdout } = await run(bin, ['secret']);
    expect(stdout.trim()).toMatch(/^[\w-]{64}$/);
  });

  it('imports from an ES module as well', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { AuthModule, JwtAuthGuard } from '${manifest.name}'; console.log(typeof AuthModule.forRoot, typeof JwtAuthGuard);`,
      ],
      { cwd: join(dir, 'app') },
    );
    expect(stdout.trim()).toBe('function function');
  });

  it('passes publint', async () => {
    const { stdout } = await run(process.execPath, [
      join(ROOT, 'node_modules', 'publint', 'src', 'cli.js'),
      ROOT,
    ]);
    expect(stdout).toContain('All good');
  });
});
