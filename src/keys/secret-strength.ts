import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { createHash } from 'node:crypto';
import { KNOWN_SECRETS } from './known-secrets';

/** What to say instead of a weak secret. */
export const GENERATE_SECRET =
  'generate one with `npx tokenguard secret` (or `openssl rand -base64 48`)';

/**
 * Why a secret (an HMAC key, the CSRF secret) could be guessed, in words that never repeat it;
 * undefined when nothing says so. Refused, whatever the length: a secret from public lists of JWT
 * secrets and framework defaults (shipped as hash prefixes, see scripts/build-known-secrets.mjs),
 * a placeholder, too few distinct bytes, and text whose estimated strength (zxcvbn, on its common
 * passwords, diceware words and keyboard layouts) is far below its length: sequences, repeats,
 * keyboard walks, common words with digits. Random secrets pass: zxcvbn rates random hex,
 * base64 and base64url at about one decimal digit of guesses per character, 0.9 at worst in
 * thousands of draws; the bar is 0.7.
 */
export function secretWeakness(bytes: Buffer): string | undefined {
  const text = utf8(bytes);
  if (isKnown(bytes) || (text !== undefined && isKnown(Buffer.from(text.trim())))) {
    return 'appears in public lists of JWT secrets';
  }
  if (text !== undefined && isPlaceholder(text)) return 'is a well-known placeholder';
  if (new Set(bytes).size < 8) return 'repeats too few distinct bytes to be random';
  if (text === undefined) return undefined; // not text: bytes from a random source
  const weak = patternsOf(text);
  return weak && `is guessable: it is made of ${weak}`;
}

/** Values seen in tutorials and .env examples; a secret equal to one of them is public. */
const PLACEHOLDERS = new Set([
  'secret',
  'secretkey',
  'mysecret',
  'supersecret',
  'yoursecretkey',
  'yoursecret',
  'jwtsecret',
  'yourjwtsecret',
  'your256bitsecret',
  'changeme',
  'changethis',
  'password',
  'default',
  'test',
  'example',
]);
/** Words of a human-made secret; a random one contains none of them by chance. */
const PLACEHOLDER_PATTERN =
  /change.?(me|this|it)|placeholder|replace.?(me|this)|your.{0,24}(secret|key)|(super|my|jwt).?secret|secret.?key|for.?production|example/i;

function isPlaceholder(text: string): boolean {
  return (
    PLACEHOLDERS.has(text.toLowerCase().replace(/[^a-z0-9]/g, '')) || PLACEHOLDER_PATTERN.test(text)
  );
}

let known: Set<string> | undefined;
function isKnown(bytes: Buffer): boolean {
  if (!known) {
    const packed = Buffer.from(KNOWN_SECRETS, 'base64');
    known = new Set();
    for (let at = 0; at < packed.length; at += 8) {
      known.add(packed.subarray(at, at + 8).toString('hex'));
    }
  }
  return known.has(createHash('sha256').update(bytes).digest('hex').slice(0, 16));
}

const MAX_LENGTH = 256;
const PATTERN_NAMES: Record<string, string> = {
  dictionary: 'common passwords or words',
  repeat: 'repeats',
  sequence: 'sequences such as abc or 123',
  spatial: 'keyboard walks',
  date: 'dates',
  regex: 'years',
};

let estimator: ZxcvbnFactory | undefined;
/** The weak patterns that make up `text` when its estimated strength is far below its length. */
function patternsOf(text: string): string | undefined {
  // Built on first use (about 0.1 s); l33t substitutions capped, which keeps a check near 10 ms.
  estimator ??= new ZxcvbnFactory({
    dictionary,
    graphs: adjacencyGraphs,
    l33tMaxSubstitutions: 5,
    maxLength: MAX_LENGTH,
  });
  const result: ZxcvbnResult = estimator.check(text);
  if (result.guessesLog10 >= 0.7 * Math.min(text.length, MAX_LENGTH)) return undefined;
  const kinds = new Set(result.sequence.map(({ pattern }) => PATTERN_NAMES[pattern]));
  kinds.delete(undefined);
  return kinds.size > 0 ? [...kinds].join(', ') : 'too few guessable characters';
}

/** The bytes as text, or undefined when they are not UTF-8 (random bytes, DER). */
export function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
