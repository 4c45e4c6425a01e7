import type { Response } from 'supertest';

/** The Set-Cookie headers of a response, by cookie name: value and attributes as sent. */
export function setCookies(res: Response): Map<string, { value: string; attributes: string[] }> {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  return new Map(
    (header ?? []).map((line) => {
      const [pair = '', ...attributes] = line.split(/;\s*/);
      const at = pair.indexOf('=');
      return [pair.slice(0, at), { value: decodeURIComponent(pair.slice(at + 1)), attributes }];
    }),
  );
}

/** A Cookie request header carrying the named cookies. */
export const cookieHeader = (cookies: Map<string, { value: string }>, ...names: string[]) =>
  names.map((name) => `${name}=${encodeURIComponent(cookies.get(name)?.value ?? '')}`).join('; ');
