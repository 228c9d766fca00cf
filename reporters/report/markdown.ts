/** Longest text taken from the target (error messages, names) into the report. */
export const MAX_FOREIGN_TEXT = 200;

/** Line breaks, tabs and other control characters (Unicode line/paragraph separators included). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * Makes text safe inside Markdown prose and table cells: one line, at most `max` characters,
 * and every character that Markdown or HTML would interpret escaped.
 */
export function escapeMarkdown(text: string, max = MAX_FOREIGN_TEXT): string {
  const oneLine = String(text).replace(CONTROL, ' ');
  const cut = oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
  // Newlines are gone, so only inline syntax can break out: code, emphasis, links/images, tables, HTML.
  return cut.replace(/[\\`*_{}[\]#|<>~]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

/**
 * Inline code showing `text` verbatim (one line, at most `max` characters): the backtick fence is
 * longer than any run of backticks inside. Pipes, which would split a table cell even in code, become `¦`.
 */
export function codeSpan(text: string, max = MAX_FOREIGN_TEXT): string {
  const oneLine = String(text).replace(CONTROL, ' ').replace(/\|/g, '¦');
  const cut = oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
  const fence = '`'.repeat(longestRun(cut, '`') + 1);
  const pad = cut.startsWith('`') || cut.endsWith('`') || cut === '' ? ' ' : '';
  return `${fence}${pad}${cut}${pad}${fence}`;
}

/** A fenced code block whose fence no line of `text` can close. */
export function codeBlock(text: string, language = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}${language}\n${text}\n${fence}`;
}

function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

/** Query and key names that carry credentials. */
const SECRET_WORDS = 'token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|auth|signature|sig|session|cookie|credential|private[_-]?key';
const SECRET_KEY = new RegExp(`${SECRET_WORDS}|^key$`, 'i');
/** `key=value`, `key: value`, `"key":"value"` where the key names a credential. */
const SECRET_PAIR = new RegExp(
  `(?<![A-Za-z0-9_.-])((?:[A-Za-z0-9_.-]*(?:${SECRET_WORDS})[A-Za-z0-9_.-]*|key))(["']?\\s*[=:]\\s*["']?)(?!(?:bearer|basic|REDACTED)\\b)([^\\s&"',;#}\\])]+)`,
  'gi',
);

/**
 * Removes credentials that may hide in a URL: userinfo, and the values of credential-like query
 * parameters (token, key, secret, password, auth, sig...).
 */
export function redactUrlText(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) if (SECRET_KEY.test(key)) u.searchParams.set(key, 'REDACTED');
    return redactCredentials(u.href);
  } catch {
    return redactCredentials(url);
  }
}

/**
 * Best-effort removal of credentials from free text (error messages): URL userinfo,
 * `Bearer`/`Basic` values, and the values of credential-like `key=value` / `key: value` pairs.
 * The engine already replaces the configured token; this catches what a target echoes back.
 */
export function redactCredentials(text: string): string {
  return String(text)
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1')
    .replace(/\b(bearer|basic)(\s+)(?!REDACTED\b)[A-Za-z0-9._~+/=-]+/gi, '$1$2REDACTED')
    .replace(SECRET_PAIR, '$1$2REDACTED');
}

/** A Markdown table from header cells and rows of already-escaped cells. */
export function markdownTable(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
