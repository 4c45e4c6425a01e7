// Jest global setup: do the Redis tests have a Redis? In CI a missing Redis fails the run loudly;
// elsewhere the Redis suites are skipped with the reason (see test/support/redis.ts).
const net = require('node:net');

module.exports = async function redisGlobalSetup() {
  const url = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
  const answered = await new Promise((resolve) => {
    const socket = net.connect(Number(url.port || 6379), url.hostname);
    const done = (ok) => (socket.destroy(), resolve(ok));
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
  if (answered) return;
  const reason = `Redis does not answer at ${url.href}`;
  if (process.env.CI) throw new Error(`${reason}: the Redis tests cannot run (CI is set)`);
  process.env.TOKENGUARD_REDIS_SKIP = reason;
};
