/**
 * The one place that decides what a credential looks like and removes it: from the stored
 * workload, from error samples and from every report. No output may hold the token, a
 * credential header, URL userinfo or a credential-like query value.
 */
import { ERROR_SAMPLE_LENGTH, MAX_ERROR_SAMPLE_SOURCE_LENGTH, type ErrorSample } from '../../engine/types.ts';

/** Header names whose values are credentials. */
export const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)$|token|secret|password|session|auth/i;

/** Words that mark a query parameter or a `key=value` pair as a credential. */
const SECRET_WORDS = 'token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|auth|signature|sig|session|cookie|credential|private[_-]?key';
/** Query parameter names whose values are redacted in URLs. */
const CREDENTIAL_QUERY_KEY = new RegExp(`${SECRET_WORDS}|key`, 'i');
/** `key=value`, `key: value`, `"key":"value"` in free text where the key names a credential. */
const SECRET_PAIR = new RegExp(
  `(?<![A-Za-z0-9_.-])((?:[A-Za-z0-9_.-]*(?:${SECRET_WORDS})[A-Za-z0-9_.-]*|key))(["']?\\s*[=:]\\s*["']?)(?!(?:bearer|basic|REDACTED)\\b)([^\\s&"',;#}\\])]+)`,
  'gi',
);

/** The values that must never reach an output: the token and every credential-like header value. */
export function secretValues(token: string | undefined, headers: Record<string, string>): string[] {
  const out = new Set<string>();
  if (token) out.add(token);
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADER.test(name) || !value) continue;
    out.add(value);
    const bearer = /^Bearer\s+(.+)$/i.exec(value)?.[1];
    if (bearer) out.add(bearer);
  }
  // Very short values would redact innocent text; they are not credentials worth the name.
  return [...out].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
}

/** Replaces every secret value in `text` with REDACTED. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('REDACTED');
  return out;
}

/**
 * Best-effort removal of credentials from free text (error messages): URL userinfo,
 * `Bearer`/`Basic` values, and the values of credential-like `key=value` / `key: value` pairs.
 * The configured token is removed by {@link redactSecrets}; this catches what a target echoes back.
 */
export function redactCredentials(text: string): string {
  return String(text)
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1')
    .replace(/\b(bearer|basic)(\s+)(?!REDACTED\b)[A-Za-z0-9._~+/=-]+/gi, '$1$2REDACTED')
    .replace(SECRET_PAIR, '$1$2REDACTED');
}

/** A URL without userinfo, with credential-like query values replaced by `REDACTED`; text that is no URL is redacted as free text. */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(typeof url === 'string' ? url : url.href);
  } catch {
    return redactCredentials(String(url));
  }
  u.username = '';
  u.password = '';
  for (const key of [...u.searchParams.keys()]) if (CREDENTIAL_QUERY_KEY.test(key)) u.searchParams.set(key, 'REDACTED');
  return redactCredentials(u.href);
}

/**
 * Error samples as the results keep them: the secrets redacted in the engine's long text, and
 * only then cut to {@link ERROR_SAMPLE_LENGTH} characters (a secret cut first would no longer
 * match, and its prefix would be written); samples that now read the same are dropped. Pure.
 */
export function redactErrorSamples(samples: readonly ErrorSample[], secrets: readonly string[]): ErrorSample[] {
  const seen = new Set<string>();
  const out: ErrorSample[] = [];
  for (const { category, message } of samples) {
    let text = redactSecrets(message, secrets);
    // The engine cut this text: a secret that starts before its cut ends past it.
    if (message.length >= MAX_ERROR_SAMPLE_SOURCE_LENGTH) text = dropCutSecret(text, secrets);
    text = text.slice(0, ERROR_SAMPLE_LENGTH);
    const key = `${category}\n${text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ category, message: text });
  }
  return out;
}

/** `text` without the longest start of a secret it ends with (what is left of a secret cut off). */
function dropCutSecret(text: string, secrets: readonly string[]): string {
  let cut = 0;
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, text.length); k > cut; k--) {
      if (text.endsWith(secret.slice(0, k))) {
        cut = k;
        break;
      }
    }
  }
  return cut > 0 ? text.slice(0, -cut) : text;
}
