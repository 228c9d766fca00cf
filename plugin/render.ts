/**
 * What the Vitest adapter prints for each level and scenario instead of Vitest's tinybench table:
 * a pass or failure mark that agrees with loadbench's verdict, and the verdict's own line. Pure.
 */
import { isMeasured, levelName, type LevelRef, type LevelResult } from '../core/model/summary.ts';

/** Marks and colours; colours only on a terminal that wants them. */
export interface Style {
  color: boolean;
}

const paint = (style: Style, code: number, text: string): string => (style.color ? `\x1b[${code}m${text}\x1b[39m` : text);
const dim = (style: Style, text: string): string => (style.color ? `\x1b[2m${text}\x1b[22m` : text);

/** The marks: a failure is never shown with a pass mark. */
export const MARK = { pass: '✓', fail: '✗', skip: '↓' } as const;

/** The failure line without the scenario and level it names, since the line it is printed on names them already. */
export function shortFailure(line: string, scenario: string, level: LevelRef): string {
  return line.replace(`scenario ${JSON.stringify(scenario)} at ${levelName(level)}: `, '');
}

/** Input of {@link formatLevelLines}. */
export interface LevelLineInput {
  /** Bench file, relative to the project. */
  file: string;
  /** Suite names and the task name, e.g. ["submit", "concurrency 8"]. */
  names: string[];
  level: LevelResult;
  failures: string[];
  warnings: string[];
}

/** The lines of one finished level: its mark, name and key figures, or its failures one per line. */
export function formatLevelLines(x: LevelLineInput, style: Style): string[] {
  const name = [x.file, ...x.names].join(dim(style, ' > '));
  const { level } = x;
  if (x.failures.length) {
    const [first, ...rest] = x.failures.map((f) => shortFailure(f, level.scenario, level));
    return [
      ` ${paint(style, 31, MARK.fail)} ${name}  ${paint(style, 31, first!)}`,
      ...rest.map((f) => `     ${paint(style, 31, f)}`),
      ...x.warnings.map((w) => `     ${dim(style, shortFailure(w, level.scenario, level))}`),
    ];
  }
  if (!isMeasured(level)) return [` ${paint(style, 33, MARK.skip)} ${name}  ${dim(style, level.reason)}`];
  const figures = `${level.throughput_rps.toFixed(1)} req/s, p95 ${level.latency_ms.p95.toFixed(2)} ms, ${level.error_rate_pct.toFixed(2)} % errors${level.status === 'partial' ? ', partial' : ''}`;
  return [
    ` ${paint(style, 32, MARK.pass)} ${name}  ${dim(style, figures)}`,
    ...x.warnings.map((w) => `     ${dim(style, shortFailure(w, level.scenario, level))}`),
  ];
}

/** The line of a finished scenario (a Vitest suite): failed when any of its levels failed. */
export function formatSuiteLine(file: string, names: string[], levels: number, failed: number, style: Style): string {
  const name = [file, ...names].join(dim(style, ' > '));
  return failed > 0
    ? ` ${paint(style, 31, MARK.fail)} ${name}  ${paint(style, 31, `${failed} of ${levels} level${levels === 1 ? '' : 's'} failed`)}`
    : ` ${paint(style, 32, MARK.pass)} ${name}  ${dim(style, `${levels} level${levels === 1 ? '' : 's'} passed`)}`;
}

/** An error Vitest reported (a bench file that failed to load, an unhandled error), as printable lines. */
export function formatError(where: string, error: { name?: string; message?: string; stack?: string }, style: Style): string[] {
  const message = error.message ?? String(error);
  // Our own errors say everything in their message; anything else keeps its stack for the bug report.
  const ours = error.name === 'ConfigError' || error.name === 'TargetError' || error.name === 'SummaryFileError' || error.name === 'OutputPathError';
  const stack = !ours && error.stack ? error.stack.split('\n').slice(1, 6).map((l) => `     ${dim(style, l.trim())}`) : [];
  const [first, ...more] = message.split('\n');
  return [` ${paint(style, 31, MARK.fail)} ${where}  ${paint(style, 31, first ?? '')}`, ...more.map((l) => `     ${l}`), ...stack];
}
