import { isCanonicalBase64url } from './token.verifier';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** What "canonical" means: the one spelling Node's decoder gives back for these bytes. */
const roundTrips = (segment: string) =>
  Buffer.from(segment, 'base64url').toString('base64url') === segment;

describe('isCanonicalBase64url', () => {
  it('agrees with a decode and re-encode for every last character at every length modulo 4', () => {
    // Deterministic: every character of the alphabet, last, after bodies of 0 to 7 characters.
    const bodies = ['', 'e', 'ey', 'eyJ', 'eyJh', 'eyJhb', 'eyJhbG', 'eyJhbGc'];
    for (const body of bodies) {
      for (const last of ALPHABET) {
        const segment = `${body}${last}`;
        expect([segment, isCanonicalBase64url(segment)]).toEqual([segment, roundTrips(segment)]);
      }
    }
  });

  it('takes the empty segment (an unsigned JWS has one) and refuses a lone character', () => {
    expect(isCanonicalBase64url('')).toBe(true);
    expect(isCanonicalBase64url('A')).toBe(false);
  });
});
