import type { PayloadContext } from '../../engine/types.ts';

/** Request headers: JSON content type when there is a body, the bearer token, then the user's headers. */
export function buildHeaders(input: {
  token?: string;
  headers: Record<string, string>;
  hasBody: boolean;
}): Record<string, string> {
  const out: Record<string, string> = {};
  if (input.hasBody) out['content-type'] = 'application/json';
  if (input.token) out.authorization = `Bearer ${input.token}`;
  for (const [k, v] of Object.entries(input.headers)) out[k.toLowerCase()] = v;
  return out;
}

/** Replaces `{{challenge_id}}` in every string of a JSON-like value. */
export function fillTemplate(value: unknown, challengeId: string): unknown {
  if (typeof value === 'string') return value.replaceAll('{{challenge_id}}', challengeId);
  if (Array.isArray(value)) return value.map((v) => fillTemplate(v, challengeId));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplate(v, challengeId)]));
  }
  return value;
}

function serialize(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/**
 * The request body: a static payload is templated and serialised once; a payload function is
 * called per request and its result serialised (a string is sent as is).
 */
export function renderPayload(
  payload: unknown,
  challengeId: string,
): string | ((ctx: PayloadContext) => string) | undefined {
  if (payload === undefined) return undefined;
  if (typeof payload === 'function') {
    const f = payload as (ctx: PayloadContext) => unknown;
    return (ctx) => serialize(f(ctx));
  }
  return serialize(fillTemplate(payload, challengeId));
}

/** The payload with every leaf replaced by its type name, for reports (values may be secrets). */
export function payloadShape(payload: unknown): unknown {
  if (typeof payload === 'function') return 'function (generated per request)';
  if (Array.isArray(payload)) return payload.slice(0, 3).map(payloadShape);
  if (payload !== null && typeof payload === 'object') {
    return Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, payloadShape(v)]));
  }
  return payload === null ? 'null' : typeof payload;
}
