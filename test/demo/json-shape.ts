import type { NextFunction, Request, Response } from 'express';

/** Deepest nesting accepted: a login or refresh body is one flat object. */
export const MAX_JSON_DEPTH = 16;

/**
 * Keys that name `Object.prototype` members (`__proto__`, `constructor`, `toString`, ...):
 * never a real field, a classic prototype-pollution vector, and class-validator's whitelist
 * takes the inherited ones for declared properties, so they would pass silently.
 */
const RESERVED_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Why a parsed JSON body is refused, or undefined: nested deeper than MAX_JSON_DEPTH
 * (class-transformer recurses once per level, and a few kilobytes of `[[[[…]]]]` overflow its
 * stack) or a reserved key at any depth. Walks with an explicit stack, so it cannot overflow
 * itself.
 */
export function jsonShapeProblem(body: unknown): string | undefined {
  const pending: [unknown, number][] = [[body, 0]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop() as [unknown, number];
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH)
      return `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`;
    for (const key of Object.keys(value)) {
      if (RESERVED_KEYS.has(key)) return `The JSON body may not use "${key}" as a key`;
      pending.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}

/** Express: refuses a body with a shape problem with a 400, before validation runs. */
export function rejectHostileJson() {
  return (request: Request, response: Response, next: NextFunction): void => {
    const problem = jsonShapeProblem(request.body);
    if (problem === undefined) return next();
    response.status(400).json({ statusCode: 400, code: 'AUTH_REQUEST_INVALID', message: problem });
  };
}
