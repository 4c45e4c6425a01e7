import type { FastifyInstance, FastifyReply } from 'fastify';
import { jsonShapeProblem } from './json-shape';
import { hasBody, isUtf8, JSON_ONLY, UTF8_ONLY } from './request-body';

/**
 * The Express demo's body rules on Fastify, so both answer alike: JSON only (415 otherwise, no
 * body at all is fine), UTF-8 only, objects or arrays only, the JSON shape rules. One
 * difference: compressed bodies get 415 here (Express inflates gzip and deflate under the limit).
 */
export function applyBodyRules(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser(['text/plain']);
  // What reaches this parser has no body worth reading (see hasBody): it is drained, not parsed.
  fastify.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    payload.on('end', () => done(null, undefined));
  });

  fastify.addHook('onRequest', async (request, reply) => {
    const { headers } = request;
    if (!hasBody(headers)) {
      delete headers['content-type']; // nothing to parse, whatever the type says
      return;
    }
    const contentType = String(headers['content-type'] ?? '');
    if (contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json')
      return refuse(reply, 415, JSON_ONLY);
    if (!isUtf8(contentType)) return refuse(reply, 415, UTF8_ONLY);
    const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
    // Fastify does not inflate bodies: compressed ones are refused here (Express reads gzip).
    if (encoding !== 'identity') return refuse(reply, 415, 'This Content-Encoding is not accepted');
  });

  fastify.addHook('preValidation', async (request, reply) => {
    const { body } = request;
    if (body === undefined) return;
    if (typeof body !== 'object' || body === null) {
      return refuse(
        reply,
        400,
        'The request body must be a well-formed JSON object',
        'AUTH_REQUEST_INVALID',
      );
    }
    const problem = jsonShapeProblem(body);
    if (problem !== undefined) return refuse(reply, 400, problem, 'AUTH_REQUEST_INVALID');
  });
}

async function refuse(
  reply: FastifyReply,
  statusCode: number,
  message: string,
  code = 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
): Promise<void> {
  await reply.code(statusCode).send({ statusCode, code, message });
}
