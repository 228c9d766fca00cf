/**
 * The bytes of a connection's next request, shared by the closed loop (shard.ts) and the open loop
 * (open-shard.ts), so that both call a payload function with the same context and count iterations
 * alike.
 */
import type { Connection } from './connection.ts';
import { requestWithBody, type RequestTemplate } from './http1.ts';
import type { ShardPlan } from './shard-types.ts';
import type { PayloadContext } from './types.ts';

/**
 * The next request of `c`: the payload function's body for this connection and iteration when
 * there is one, else the template's fixed bytes. Advances `c.iteration`: call it once per send.
 */
export function nextRequestBytes(
  template: RequestTemplate,
  bodyFn: ((ctx: PayloadContext) => string) | undefined,
  plan: Pick<ShardPlan, 'levelConcurrency' | 'challengeId'>,
  c: Connection,
): Buffer | string {
  const data = bodyFn
    ? requestWithBody(template, bodyFn({ level: plan.levelConcurrency, worker: c.id, iteration: c.iteration, challengeId: plan.challengeId }))
    : template.fixed!;
  c.iteration++;
  return data;
}
