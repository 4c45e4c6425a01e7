/**
 * `npm run bench`: the demo app under HTTP load, guarded routes against an unguarded one in the
 * same run, rounds interleaved so drift hits every target alike. Then memory per revocation.
 * Prints figures, asserts nothing. Servers run in child processes; the load comes from wrk
 * (Debian's package) when installed, else autocannon.
 */
import autocannon from 'autocannon';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { sign } from 'jsonwebtoken';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { MemoryRevocationStore } from '../src/index';
import { SystemClock } from '../src/common/clock';

/**
 * Rounds of 1 s runs on each generation of processes. A process has its own luck (JIT, heap
 * layout): three runs of the same ceiling in three processes, interleaved, read 1.00, 1.02 and
 * 1.06 of each other, so every generation starts the servers afresh.
 */
const GENERATIONS = Number(process.env.BENCH_GENERATIONS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
/**
 * Load on each target of a new generation before it counts: a fresh process runs colder (V8's
 * optimising tiers not reached yet, its young generation not grown; see PRIME_SECONDS). After
 * 1 s, the first pair of a generation read Redis 0.57 and 0.65 where the later ones read 0.73-1.09.
 */
const WARM_UP_SECONDS = 3;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
/**
 * Load, not counted, just before each counted run. Between its runs a target idles some 15 s
 * while the others are loaded, and V8 shrinks an idle process's young generation: the first
 * second of load then runs on a small one (`--trace-gc`: scavenges every 3-5 MB allocated, not
 * every 10 MB), which costs most where requests stay longest on the heap, waiting for Redis's
 * answer (Express on Redis read 0.59-0.77 of its ceiling that way, 0.92 primed; the steady state
 * is what a loaded server is in). wrk takes whole seconds.
 */
const PRIME_SECONDS = 1;
const CONNECTIONS = 50;
/** Requests a second for the per-store latency figures, for 6 s. */
const RATE = Number(process.env.BENCH_RATE ?? 500);
const LATENCY_SECONDS = 6;
/** The bench's own Redis (started below) unless REDIS_URL names one. */
const OWN_REDIS_PORT = 6391;
const REDIS_URL = process.env.REDIS_URL ?? `redis://127.0.0.1:${OWN_REDIS_PORT}`;
const MAIN = join(__dirname, '..', 'test', 'demo', 'main.js');
const BENCH_APP = join(__dirname, 'bench-app.js');
/** Distinct tokens for the cache-miss target: twice what the verified-token cache holds. */
const MISS_TOKENS = 20_000;
const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((path) => existsSync(path));
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));
/**
 * With two CPUs or more and taskset, the apps run on the last CPU and the load (wrk, and the
 * bench's Redis) on the others. Unpinned, the scheduler moves the app, wrk and Redis over the
 * cores as it likes, and two runs of the same ceiling seconds apart read 2,800 and 4,400 req/s on
 * the 2-core VM; pinned, 4,200-4,600. It is also how production runs: Redis is not on the app's
 * core. `BENCH_PIN=false` turns it off.
 */
const CPUS = availableParallelism();
const PINNED = TASKSET !== undefined && CPUS >= 2 && process.env.BENCH_PIN !== 'false';
const APP_CPUS = String(CPUS - 1);
const LOAD_CPUS = CPUS === 2 ? '0' : `0-${CPUS - 2}`;
const execFileAsync = promisify(execFile);

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

interface Target {
  name: string;
  url: string;
  token?: string;
  /** A file of tokens, one per line, sent in turn: every request a different token (cache misses). */
  tokensFile?: string;
  /** The ceiling this target is compared with: loaded just before it, every time. */
  ceiling?: Target;
}

/** BENCH_ADAPTERS=express (or fastify) loads one adapter only. */
const ADAPTERS = (['express', 'fastify'] as const).filter((adapter) =>
  (process.env.BENCH_ADAPTERS ?? 'express,fastify').split(',').includes(adapter),
);

/** Pins the CPUs, starts the bench's own Redis, and runs the benchmark. */
async function main(): Promise<void> {
  // The bench itself (autocannon when there is no wrk) and what it starts run on the load CPUs.
  if (PINNED) execFileSync(TASKSET, ['-a', '-p', '-c', LOAD_CPUS, String(process.pid)]);
  console.log(
    PINNED
      ? `apps on CPU ${APP_CPUS}, load and Redis on CPU ${LOAD_CPUS}`
      : 'not pinned to CPUs (BENCH_PIN=false, one CPU, or no taskset): expect wider ranges',
  );
  const redis = process.env.REDIS_URL ? undefined : await startRedis();
  try {
    await benchmark();
  } finally {
    redis?.kill();
  }
}

/**
 * The load in generations of fresh processes (`startTargets`), then latency per store and memory.
 * Tokens are signed here with the app's key and the claims TokenGuard issues: one for the hit
 * path (verified once, then cached), 20,000 for the miss path (each request a signature check).
 */
async function benchmark(): Promise<void> {
  const secret = randomBytes(48).toString('base64url');
  const prefix = `tokenguard-bench:${randomUUID()}:`;
  const tokensFile = join(tmpdir(), `tokenguard-bench-${process.pid}.tokens`);
  const results = new Map<string, Run[]>();
  const ratios = new Map<string, number[]>();
  let targets: Target[] = [];
  try {
    for (let generation = 1; generation <= GENERATIONS; generation++) {
      const servers: ChildProcess[] = [];
      try {
        // Signed afresh for each generation (a couple of minutes): the whole bench outlasts the
        // 10 minutes before renewal starts, and renewing every request is not what it measures.
        const [hitToken = '', ...misses] = accessTokens(secret, MISS_TOKENS + 1);
        writeFileSync(tokensFile, misses.join('\n'));
        targets = await startTargets(servers, { secret, prefix, hitToken, tokensFile });
        for (const target of targets) await load(target, WARM_UP_SECONDS);
        for (let round = 1; round <= ROUNDS; round++) {
          // Each target beside a run of its ceiling, seconds apart, so that the VM's drift
          // (which moves the ceiling itself by 10-30% between runs) mostly cancels out; and in
          // turn first and second, so that what the order costs is paid by both alike.
          for (const target of targets) {
            if (!target.ceiling) continue;
            const ceilingFirst = round % 2 === 1;
            const first = await primedLoad(ceilingFirst ? target.ceiling : target);
            const second = await primedLoad(ceilingFirst ? target : target.ceiling);
            const [ceiling, run] = ceilingFirst ? [first, second] : [second, first];
            push(results, target.ceiling.name, ceiling);
            push(results, target.name, run);
            push(ratios, target.name, run.rps / ceiling.rps);
          }
        }
      } finally {
        servers.forEach((server) => server.kill());
      }
      process.stdout.write(`processes ${generation}/${GENERATIONS} done\n`);
    }
    report(targets, results, ratios);
  } finally {
    rmSync(tokensFile, { force: true });
    rmSync(`${tokensFile}.lua`, { force: true });
    rmSync(`${tokensFile}.offset`, { force: true });
  }
  const limits: Record<string, string> = process.env.BENCH_RATE_LIMIT
    ? { RATE_LIMIT: `${process.env.BENCH_RATE_LIMIT}/60s` }
    : {};
  try {
    await storeLatency(secret, prefix, limits);
  } finally {
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  }
  await measureMemory();
}

/** What every generation's servers and targets share: the key, the Redis prefix, the tokens. */
interface Shared {
  secret: string;
  prefix: string;
  hitToken: string;
  tokensFile: string;
}

const push = <T>(map: Map<string, T[]>, key: string, value: T) =>
  map.set(key, [...(map.get(key) ?? []), value]);

/**
 * Per adapter, three processes of bench/bench-app.ts (the ceiling, TokenGuard on the memory
 * store, TokenGuard on Redis) and the targets loaded on them, each compared one with its ceiling.
 */
async function startTargets(
  servers: ChildProcess[],
  { secret, prefix, hitToken, tokensFile }: Shared,
): Promise<Target[]> {
  const targets: Target[] = [];
  for (const [index, adapter] of ADAPTERS.entries()) {
    const port = 3301 + index * 10;
    const env = { HTTP_ADAPTER: adapter, JWT_SECRET: secret, BENCH_APP: 'tokenguard' };
    servers.push(
      await startServer(port, { HTTP_ADAPTER: adapter, BENCH_APP: 'ceiling' }, BENCH_APP),
      await startServer(port + 1, env, BENCH_APP),
      await startServer(port + 2, { ...env, REDIS_URL, REDIS_KEY_PREFIX: prefix }, BENCH_APP),
    );
    const url = (offset: number, path: string) => `http://127.0.0.1:${port + offset}${path}`;
    const health = { name: `${adapter}: ceiling GET /health`, url: url(0, '/health') };
    const admin = { name: `${adapter}: ceiling GET /admin/users`, url: url(0, '/admin/users') };
    const guarded = (name: string, offset: number, sent: Partial<Target>): Target => ({
      name: `${adapter}: ${name}`,
      url: url(offset, '/admin/users'),
      ceiling: admin,
      ...sent,
    });
    targets.push(
      health,
      { name: `${adapter}: public GET /health`, url: url(1, '/health'), ceiling: health },
      admin,
      guarded('full stack, memory', 1, { token: hitToken }),
      guarded('full stack, Redis', 2, { token: hitToken }),
      guarded('cache misses, memory', 1, { tokensFile }),
    );
  }
  return targets;
}

/**
 * Access tokens for alice as TokenGuard issues them in the bench app (claims, `typ`, HS256 with
 * the app's key), each with its own jti and session. Revocation finds nothing for them, as for
 * any live token; they expire in 15 minutes, and renewal starts 5 minutes before.
 */
function accessTokens(secret: string, count: number): string[] {
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  return Array.from({ length: count }, () =>
    sign(
      {
        iss: 'tokenguard-bench',
        aud: 'tokenguard-bench-api',
        sub: '1',
        iat: now,
        iat_ms: nowMs,
        nbf: now,
        exp: now + 900,
        jti: randomBytes(16).toString('base64url'),
        sid: randomBytes(16).toString('base64url'),
        token_use: 'access',
        roles: ['admin'],
        auth_time: now,
      },
      secret,
      { algorithm: 'HS256', header: { alg: 'HS256', typ: 'at+jwt' } },
    ),
  );
}

/**
 * Medians over the runs; a target's ratio is the median of its ratios to the ceiling run paired
 * with it, with their interquartile range.
 */
function report(
  targets: Target[],
  results: Map<string, Run[]>,
  ratios: Map<string, number[]>,
): void {
  const quantile = (values: number[], q: number) =>
    [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * q + 0.5)] ?? 0;
  const median = (values: number[]) => quantile(values, 0.5);
  console.log(
    `\n${WRK ? 'wrk' : 'autocannon'}: ${GENERATIONS} generations of processes x ${ROUNDS} interleaved rounds of ${SECONDS}s runs, ${CONNECTIONS} connections, medians`,
  );
  console.log(
    'target                                 req/s   p50 ms  p99 ms  vs ceiling (IQR)    non-2xx',
  );
  for (const target of targets) {
    const runs = results.get(target.name) ?? [];
    const paired = ratios.get(target.name) ?? [];
    const ratio =
      paired.length > 0
        ? `${median(paired).toFixed(2)} (${quantile(paired, 0.25).toFixed(2)}-${quantile(paired, 0.75).toFixed(2)})`
        : '';
    const errors = runs.reduce((sum, run) => sum + run.errors, 0);
    console.log(
      `${target.name.padEnd(37)} ${median(runs.map((r) => r.rps))
        .toFixed(0)
        .padStart(6)} ${median(runs.map((r) => r.p50))
        .toFixed(1)
        .padStart(8)} ${median(runs.map((r) => r.p99))
        .toFixed(1)
        .padStart(7)} ${ratio.padStart(19)} ${String(errors).padStart(8)}`,
    );
  }
}

/**
 * Latency of GET /protected on each store at a fixed rate (not flat out, where queueing hides
 * the store's cost): one demo process per store, requests sent on a schedule, each timed alone.
 */
async function storeLatency(
  secret: string,
  prefix: string,
  limits: Record<string, string>,
): Promise<void> {
  const stores = [
    ['memory', {}],
    ['Redis', { REDIS_URL, REDIS_KEY_PREFIX: prefix }],
    [
      'cache-manager, @keyv/redis',
      { REDIS_URL, REDIS_KEY_PREFIX: prefix, REVOCATION_STORE: 'cache-manager' },
    ],
  ] as const;
  console.log(`\nGET /protected at ${RATE} req/s for ${LATENCY_SECONDS}s, per store`);
  console.log('store                              p50 ms  p99 ms  non-2xx');
  for (const [index, [name, env]] of stores.entries()) {
    const port = 3310 + index;
    const server = await startServer(port, { JWT_SECRET: secret, ...limits, ...env });
    try {
      const token = await login(port);
      const url = `http://127.0.0.1:${port}/protected`;
      await fixedRate(url, token, RATE, 1); // warm-up
      const { p50, p99, errors } = await fixedRate(url, token, RATE, LATENCY_SECONDS);
      console.log(
        `${name.padEnd(34)} ${p50.toFixed(2).padStart(6)} ${p99.toFixed(2).padStart(7)} ${String(errors).padStart(8)}`,
      );
    } finally {
      server.kill();
    }
  }
}

/** Sends `rate` requests a second for `seconds`, on schedule whatever the answers' pace. */
async function fixedRate(
  url: string,
  token: string,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = rate * seconds;
  const times: number[] = [];
  let errors = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      new Promise<void>((resolve) => {
        const sent = performance.now();
        const req = httpRequest(
          url,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => {
              times.push(performance.now() - sent);
              if (res.statusCode !== 200) errors += 1;
              resolve();
            });
          },
        );
        req.on('error', () => ((errors += 1), resolve()));
        req.end();
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), errors };
}

/** Heap bytes per entry for 1,000,000 revocations in the memory store, ids included. */
async function measureMemory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return console.log('\nmemory: run with node --expose-gc to measure');
  const count = 1_000_000;
  const stores = { memory: () => new MemoryRevocationStore(new SystemClock()) };
  for (const [name, create] of Object.entries(stores)) {
    for (const kind of ['session (logout)', 'single token'] as const) {
      const store = create();
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < count; i++) {
        const id = randomBytes(16).toString('base64url');
        await (kind === 'single token'
          ? store.revokeToken({ jti: id, sub: '1' }, 900_000)
          : store.revokeSession({ sid: id, sub: '1' }, 604_800_000));
      }
      gc();
      const bytes = (process.memoryUsage().heapUsed - before) / count;
      console.log(`memory per revoked ${kind}, ${name}: ${bytes.toFixed(0)} bytes`);
      store.onModuleDestroy();
    }
  }
}

/** A counted run of `target`, straight after one that is not (see PRIME_SECONDS). */
async function primedLoad(target: Target): Promise<Run> {
  await load(target, PRIME_SECONDS);
  return load(target, SECONDS);
}

/** The last token autocannon sent on the miss target. */
let missOffset = 0;

/** One load run. wrk (C) when installed: autocannon, in Node, needs a core of its own at these rates. */
async function load(target: Target, duration: number): Promise<Run> {
  const auth = target.token ? { authorization: `Bearer ${target.token}` } : undefined;
  if (WRK) {
    const args = ['-t1', `-c${CONNECTIONS}`, `-d${duration}s`, '--latency', target.url];
    if (auth) args.unshift('-H', `Authorization: ${auth.authorization}`);
    if (target.tokensFile) args.unshift('-s', rotatingTokensScript(target.tokensFile));
    const { stdout } = await execFileAsync(WRK, args, { maxBuffer: 1 << 20 });
    const latency = (pct: string) =>
      toMs(new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(stdout));
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
      p50: latency('50'),
      p99: latency('99'),
      errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0),
    };
  }
  const tokens = target.tokensFile ? readFileSync(target.tokensFile, 'utf8').split('\n') : [];
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration,
    headers: auth ?? {},
    ...(tokens.length > 0 && {
      requests: [
        {
          setupRequest: (request: { headers: Record<string, string> }) => {
            // Going on where the last run stopped, as the wrk script does.
            missOffset = (missOffset + 1) % tokens.length;
            request.headers = { authorization: `Bearer ${tokens[missOffset]}` };
            return request;
          },
        },
      ],
    }),
  } as autocannon.Options);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/**
 * A wrk script that sends the tokens of `file` in turn, one per request, each run going on where
 * the last one stopped (`file.offset`): were every run to start again at the first token, a run
 * shorter than the cache would find the previous run's tokens cached, and measure hits.
 */
function rotatingTokensScript(file: string): string {
  const script = `${file}.lua`;
  if (!existsSync(script)) {
    writeFileSync(
      script,
      `local threads = {}
function setup(thread) threads[#threads + 1] = thread end
tokens = {}
for line in io.lines(${JSON.stringify(file)}) do tokens[#tokens + 1] = line end
local saved = io.open(${JSON.stringify(`${file}.offset`)})
i = saved and tonumber(saved:read("*l")) or 0
if saved then saved:close() end
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", nil, { Authorization = "Bearer " .. tokens[i] })
end
done = function()
  local out = io.open(${JSON.stringify(`${file}.offset`)}, "w")
  out:write(tostring(threads[1]:get("i")))
  out:close()
end
`,
    );
  }
  return script;
}

const toMs = (match: RegExpExecArray | null): number => {
  const value = Number(match?.[1] ?? 0);
  return match?.[2] === 'us' ? value / 1000 : match?.[2] === 's' ? value * 1000 : value;
};

async function startServer(
  port: number,
  env: Record<string, string>,
  script = MAIN,
): Promise<ChildProcess> {
  const [command, args] = PINNED
    ? [TASKSET, ['-c', APP_CPUS, process.execPath, script]]
    : [process.execPath, [script]];
  const child = spawn(command, args, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (
      await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`demo on port ${port} did not start`);
}

/** A Redis of the bench's own, nothing on disk, on the load CPUs like wrk. */
async function startRedis(): Promise<ChildProcess> {
  const server = spawn(
    'redis-server',
    ['--port', String(OWN_REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const started = new Promise<void>((resolve, reject) => {
    server.once('error', () =>
      reject(new Error('the bench needs redis-server on the PATH, or REDIS_URL')),
    );
    server.once('spawn', resolve);
  });
  await started;
  const client = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => 100 });
  client.on('error', () => undefined); // refused until the server listens
  for (let tries = 0; (await client.ping().catch(() => '')) !== 'PONG'; tries++) {
    if (tries === 50) throw new Error(`redis-server on port ${OWN_REDIS_PORT} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // It exits at once when the port is taken, and the PONG came from another Redis.
  await new Promise((resolve) => setTimeout(resolve, 200));
  client.disconnect();
  if (server.exitCode !== null) {
    throw new Error(`port ${OWN_REDIS_PORT} is taken: stop that Redis, or name it in REDIS_URL`);
  }
  return server;
}

async function login(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

void main();
