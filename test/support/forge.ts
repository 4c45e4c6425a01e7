import { createHmac, type KeyObject, sign as cryptoSign } from 'node:crypto';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Decodes a token's header and payload without verifying: for assertions only. */
export function decode(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >,
    payload: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >,
  };
}

/** Signs any header and payload with an HMAC secret: how an attacker holding a key would. */
export function forgeHmac(
  header: Record<string, unknown>,
  payload: unknown,
  secret: string | Buffer,
  hash = 'sha256',
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** Signs with an asymmetric private key (RS256 / ES256 in JOSE form). */
export function forgeAsymmetric(
  header: Record<string, unknown>,
  payload: unknown,
  key: KeyObject,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** An unsecured JWT (`alg: none`, empty signature). */
export function forgeNone(payload: unknown): string {
  return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(payload)}.`;
}

/** Re-signs a real token's claims, changed by `edit`, with the same secret: tests each claim check alone. */
export function resign(
  token: string,
  secret: string,
  edit: (claims: Record<string, unknown>, header: Record<string, unknown>) => void,
): string {
  const { header, payload } = decode(token);
  edit(payload, header);
  return forgeHmac(header, payload, secret);
}
