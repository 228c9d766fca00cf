/** Longest text taken from the target (error messages, names) into the report. */
export const MAX_FOREIGN_TEXT = 200;

/**
 * Makes text safe inside Markdown prose and table cells: one line, at most `max` characters,
 * and every character that Markdown or HTML would interpret escaped.
 */
export function escapeMarkdown(text: string, max = MAX_FOREIGN_TEXT): string {
  const oneLine = String(text).replace(/[\r\n\t]+/g, ' ');
  const cut = oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
  // Newlines are gone, so only inline syntax can break out: code, emphasis, links/images, tables, HTML.
  return cut.replace(/[\\`*_{}[\]#|<>~]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

/** A Markdown table from header cells and rows of already-escaped cells. */
export function markdownTable(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
