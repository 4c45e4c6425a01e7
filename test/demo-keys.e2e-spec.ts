import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from './support/demo-app';
import { decode } from './support/forge';

/** The demo on asymmetric keys from its environment, and a rotation through JWT_RETIRED_JWKS_FILE. */
describe('demo with keys from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenguard-demo-keys-'));

  it('runs on an RS256 private key given by value', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const demo = await startDemo({
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
    });
    try {
      const { access_token } = await demo.login('alice');
      expect(decode(access_token).header.alg).toBe('RS256');
      await demo.http.get('/protected').set('Authorization', `Bearer ${access_token}`).expect(200);
      const jwks = await demo.http.get('/.well-known/jwks.json').expect(200);
      expect(jwks.body.keys).toEqual([
        expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig' }),
      ]);
    } finally {
      await demo.close();
    }
  });

  it('rotates ES256 keys from files: old tokens keep working with the old JWKS as retired keys', async () => {
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
      key.export({ type: 'pkcs8', format: 'pem' }) as string;
    const old = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const current = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const before = await startDemo({
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY_FILE: write('old.pem', pem(old.privateKey)),
    });
    const oldToken = (await before.login('bob')).access_token;
    const oldJwks = (await before.http.get('/.well-known/jwks.json')).text;
    await before.close();

    const after = await startDemo({
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY_FILE: write('current.pem', pem(current.privateKey)),
      JWT_RETIRED_JWKS_FILE: write('retired.json', oldJwks),
    });
    try {
      await after.http.get('/protected').set('Authorization', `Bearer ${oldToken}`).expect(200);
      const newToken = (await after.login('bob')).access_token;
      expect(decode(newToken).header.kid).not.toBe(decode(oldToken).header.kid);
      const jwks = (await after.http.get('/.well-known/jwks.json')).body as {
        keys: { kid: string }[];
      };
      expect(jwks.keys).toHaveLength(2);
    } finally {
      await after.close();
    }
  });
});
