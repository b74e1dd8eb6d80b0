import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BadRequestError } from '../errors.ts';

/** Deeper documents are refused: serialising them back is recursive and could exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

/** Depth of a parsed JSON value, iteratively, stopping as soon as `limit` is exceeded. */
export function exceedsDepth(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

export const echoRoute: FastifyPluginAsyncTypebox = async (app) => {
  const schema = {
    body: Type.Unknown(),
    response: { 200: Type.Object({ received: Type.Unknown(), bytes: Type.Integer() }) },
  };
  app.post('/api/echo', { schema }, async (request) => {
    if (exceedsDepth(request.body, MAX_JSON_DEPTH)) throw new BadRequestError(`body must be nested at most ${MAX_JSON_DEPTH} levels deep`);
    return { received: request.body, bytes: Number(request.headers['content-length'] ?? 0) };
  });
};
