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

/** A Markdown table from header cells and rows of already-escaped cells. */
export function markdownTable(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
