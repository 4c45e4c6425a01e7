/** A value's kind for a start-up message, never its content (it may hold a password). */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = value.constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'a plain object';
}
