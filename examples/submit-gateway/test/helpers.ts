/** Shared helpers for the submit-gateway tests (not a test file itself). */
import { readFileSync } from 'node:fs';

/** Authorised JSON POST to /submit. */
export function submit(
  baseUrl: string,
  body: unknown,
  init: { token?: string | null; signal?: AbortSignal; raw?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = init.token === undefined ? 'dev-token' : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${baseUrl}/submit`, {
    method: 'POST',
    headers,
    body: init.raw ? (body as string) : JSON.stringify(body),
    signal: init.signal,
  });
}

/** Poll until `check` returns true or the deadline passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Whether a process still exists. Orphans are reparented to PID 1, which in a
 * container may never reap them, so a zombie counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
