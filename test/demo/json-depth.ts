import type { NextFunction, Request, Response } from 'express';

/**
 * Refuses JSON bodies nested deeper than `maxDepth` with a 400 before validation runs:
 * class-transformer recurses once per level and a few kilobytes of `[[[[…]]]]` overflow its stack.
 * Walks the body with an explicit stack, so this check cannot overflow itself.
 */
export function rejectDeepJson(maxDepth: number) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (!tooDeep(request.body, maxDepth)) return next();
    response.status(400).json({
      statusCode: 400,
      code: 'AUTH_REQUEST_INVALID',
      message: `The JSON body is nested deeper than ${maxDepth} levels`,
    });
  };
}

/** Whether `body` nests deeper than `maxDepth`; an explicit stack, so it cannot overflow itself. */
export function tooDeep(body: unknown, maxDepth: number): boolean {
  const pending: [unknown, number][] = [[body, 0]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop() as [unknown, number];
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= maxDepth) return true;
    for (const inner of Object.values(value)) pending.push([inner, depth + 1]);
  }
  return false;
}
