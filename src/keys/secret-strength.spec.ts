import fc from 'fast-check';
import { secretWeakness } from './secret-strength';

const weakness = (secret: string | Buffer) =>
  secretWeakness(typeof secret === 'string' ? Buffer.from(secret) : secret);

describe('secretWeakness', () => {
  it.each([
    // wallarm/jwt-secrets: random-looking, and public all the same
    'r9iMKoe5CRMgvJBBtp4HrqN7QiPpUToj',
    '$gbK!srXc2Oivn8ZjHa8WRel&Zy4481W',
    '16f8c0ef4a5d391b26034086c628469d3f9f497f08163ab9b40137092f2909ef',
    'reallyreallyreallyreallyverysafe',
    // defaults: jwt.io's debugger, the NestJS docs
    'a-string-secret-at-least-256-bits-long',
    'DO NOT USE THIS VALUE. INSTEAD, CREATE A COMPLEX SECRET AND KEEP IT SAFE OUTSIDE OF THE SOURCE CODE.',
  ])('refuses %j from a public list', (secret) => {
    expect(weakness(secret)).toBe('appears in public lists of JWT secrets');
    expect(weakness(`${secret}\n`)).toBe('appears in public lists of JWT secrets'); // from a file
  });

  it.each([
    ['a digit run', '23456789012345678901234567890123', /repeats|sequences/],
    ['an alphabet run', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL', /sequences/],
    ['a keyboard walk', '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9', /keyboard walks/],
    ['a keyboard row', 'qwertyuiopasdfghjklzxcvbnm1234567', /keyboard walks|common passwords/],
    ['a repeat', 'Password1!Password1!Password1!Pa', /repeats/],
    ['words with digits', 'dragon2024monkey2024shadow2024master', /common passwords or words/],
    ['diceware words', 'correcthorsebatterystaple12345678', /common passwords or words/],
    ['a long repeat, past what is analysed', 'abc123XYZ!'.repeat(40), /repeats/],
  ])('refuses %s, whatever its length, without repeating it', (_name, secret, kinds) => {
    const said = weakness(secret);
    expect(said).toMatch(/^is guessable: it is made of /);
    expect(said).toMatch(kinds);
    expect(said).not.toContain(secret.slice(0, 8));
  });

  it('refuses placeholders and bytes with too little variety', () => {
    expect(weakness('please-change-me-before-going-to-production-ok')).toBe(
      'is a well-known placeholder',
    );
    expect(weakness(Buffer.alloc(64, 7))).toBe('repeats too few distinct bytes to be random');
  });

  it('never refuses a random 32-byte secret, raw or as hex, base64 or base64url', () => {
    fc.assert(
      fc.property(
        // noBias: uniform bytes, as a random source gives (fast-check otherwise favours small
        // values and repeats, which are exactly the secrets this refuses).
        fc.noBias(fc.uint8Array({ minLength: 32, maxLength: 32 })),
        fc.constantFrom('raw', 'hex', 'base64', 'base64url'),
        (bytes, encoding) => {
          const buffer = Buffer.from(bytes);
          const secret = encoding === 'raw' ? buffer : Buffer.from(buffer.toString(encoding));
          expect(secretWeakness(secret)).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});
