import fc from 'fast-check';
import { extractBearerToken } from './bearer-token';

/** The expression the scanner replaced: its reference, except that blanks alone are no token. */
const REFERENCE = /^Bearer[ \t]+(.+?)[ \t]*$/i;
const reference = (header: string): string | null => {
  const credentials = REFERENCE.exec(header)?.[1];
  return credentials && /[^ \t]/.test(credentials) ? credentials : null;
};

const of = (authorization: string, rawHeaders?: string[]) =>
  extractBearerToken({ headers: { authorization }, rawHeaders });

describe('extractBearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER\tabc \t', 'abc'],
    ['Bearer   a b ', 'a b'],
    ['Bearer', null],
    ['Bearer ', null],
    ['Bearer \t ', null],
    ['Bearerabc', null],
    [' Bearer abc', null],
    ['Basic YTpi', null],
    ['Bearär abc', null],
  ])('%j gives %j', (header, token) => {
    expect(of(header)).toBe(token);
  });

  it('returns nothing without an Authorization header', () => {
    expect(extractBearerToken({ headers: {} })).toBeNull();
  });

  it('joins several Authorization fields, so the request is refused rather than half-read', () => {
    const raw = ['Host', 'x', 'authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b'];
    expect(of('Bearer a', raw)).toBe('Bearer a, Bearer b');
    expect(of('Basic a', ['Authorization', 'Basic a', 'Authorization', 'Basic b'])).toBeNull();
  });

  it('reads any header value exactly as the RFC 6750 expression does (property)', () => {
    // Header values Node accepts are latin-1 without CR/LF; the alphabet stresses the edges.
    // (A socket's token comes from a JSON payload: any string, line breaks included.)
    const char = fc.constantFrom(
      ' ',
      '\t',
      'b',
      'B',
      'e',
      'E',
      'a',
      'r',
      'R',
      'x',
      '.',
      'é',
      '\v',
      '\n',
    );
    const value = fc.oneof(
      fc.string({ unit: char, maxLength: 14 }),
      fc.string({ unit: char, maxLength: 8 }).map((rest) => `Bearer${rest}`),
    );
    fc.assert(
      fc.property(value, (header) => {
        expect(of(header)).toBe(reference(header));
      }),
      { numRuns: 2000 },
    );
  });
});
