/**
 * What a connection's ended request gave, for every kind of shard (closed and open loop): a
 * success, or an error category with its message. A check runs here, on a complete 2xx response.
 */
import type { Connection } from './connection.ts';
import { classifyError, classifyStatus } from './errors.ts';
import type { CheckResponse, ErrorCategory } from './types.ts';

/** A response check as the shards take it. */
export type ShardCheck = (response: CheckResponse) => boolean | void | Promise<boolean | void>;

/** How a request ended: `category` undefined is a success. */
export interface RequestOutcome {
  category: ErrorCategory | undefined;
  message: string;
}

/** The outcome of `c`'s request, which ended with `err` (undefined: a complete response). Runs `check` on a success. */
export function requestOutcome(c: Connection, err: Error | undefined, check: ShardCheck | undefined): RequestOutcome {
  if (err !== undefined) return { category: classifyError(err), message: err.message };
  const category = classifyStatus(c.status);
  if (category !== undefined) return { category, message: `HTTP ${c.status}` };
  if (check) {
    const verdict = runCheck(c, check);
    if (verdict !== true) return { category: 'check_failed', message: typeof verdict === 'string' ? verdict : 'check returned false' };
  }
  return { category: undefined, message: '' };
}

function runCheck(c: Connection, check: ShardCheck): true | string | false {
  const body = c.body();
  const response: CheckResponse = {
    status: c.status,
    headers: c.headers(),
    body,
    json: <T>() => JSON.parse(body) as T,
  };
  try {
    const out = check(response);
    if (out instanceof Promise) return 'check returned a Promise: checks must be synchronous';
    return out === false ? false : true;
  } catch (error) {
    return `check threw: ${(error as Error).message}`;
  }
}
