import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAuthConfig } from '../auth-options.validate';
import { secretWeakness } from '../keys/secret-strength';
import { run } from './tokenguard';

describe('npx tokenguard', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tokenguard-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const call = (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = run(
      args,
      (line: string) => out.push(line),
      (line: string) => err.push(line),
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('secret: prints 48 random bytes that the module accepts as an HS256 secret', () => {
    const { code, out } = call('secret');
    expect(code).toBe(0);
    expect(out).toMatch(/^[\w-]{64}$/);
    expect(secretWeakness(Buffer.from(out))).toBeUndefined();
    expect(call('secret').out).not.toBe(out);
  });

  it.each(['ES256', 'ES384', 'ES512', 'RS256', 'PS256'])(
    'keygen %s: writes a private key (mode 600) the module signs with, and prints the JWK it publishes',
    (alg) => {
      const file = join(dir, 'signing.pem');
      const { code, out, err } = call('keygen', alg, '--out', file);
      expect(code).toBe(0);
      expect(err).toContain(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const jwk = JSON.parse(out) as Record<string, unknown>;
      expect(jwk).toMatchObject({ alg, use: 'sig', kid: expect.any(String) });
      expect(jwk).not.toHaveProperty('d');
      const config = resolveAuthConfig({
        keys: [{ alg: alg as 'ES256', privateKeyFile: file }],
        issuer: 'iss',
        audience: 'aud',
      });
      expect(config.keys.jwks().keys).toEqual([jwk]);
    },
  );

  it('keygen: names the file after the kid, and never overwrites a key', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const { out } = call('keygen', 'ES256');
      const { kid } = JSON.parse(out) as { kid: string };
      expect(readFileSync(join(dir, `${kid}.pem`), 'utf8')).toContain('BEGIN PRIVATE KEY');
      const again = call('keygen', 'ES256', '--out', `${kid}.pem`);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/EEXIST/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('jwks: the JWKS of a rotation (the new key and the retired one), as the server publishes it', () => {
    const current = join(dir, 'current.pem');
    const retired = join(dir, 'retired.pem');
    call('keygen', 'ES256', '--out', current);
    call('keygen', 'PS256', '--out', retired);
    const { code, out, err } = call('jwks', current, `${retired}:PS256`);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const config = resolveAuthConfig({
      keys: [
        { alg: 'ES256', privateKeyFile: current },
        // A retired key is published from its public half, as the module requires.
        {
          alg: 'PS256',
          publicKey: createPublicKey(readFileSync(retired)).export({ format: 'pem', type: 'spki' }),
        },
      ],
      issuer: 'iss',
      audience: 'aud',
    });
    expect(JSON.parse(out)).toEqual(config.keys.jwks());
  });

  it('refuses what it cannot do, saying what to do instead', () => {
    expect(call('keygen', 'HS256')).toMatchObject({
      code: 1,
      err: expect.stringContaining('tokenguard secret'),
    });
    expect(call('keygen', 'XS999')).toMatchObject({
      code: 1,
      err: expect.stringContaining('ES256'),
    });
    expect(call('jwks', join(dir, 'missing.pem')).code).toBe(1);
    expect(call()).toMatchObject({ code: 2, err: expect.stringContaining('Usage') });
    expect(call('keygen')).toMatchObject({ code: 2 });
  });
});
