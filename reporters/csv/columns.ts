import { stringify } from 'csv-stringify/sync';

/** One CSV column: its header and how a row gives its cell (`undefined` writes an empty cell). */
export interface Column<Row> {
  name: string;
  value: (row: Row) => string | number | boolean | undefined;
}

/** Columns built from a list of `[name, value]` pairs, so that a CSV's header and its cells come from one spec. */
export function columns<Row>(spec: readonly (readonly [string, Column<Row>['value']])[]): Column<Row>[] {
  return spec.map(([name, value]) => ({ name, value }));
}

/**
 * A CSV from a column spec and rows, written by csv-stringify (quoting and escaping included).
 * `booleans` says how true/false are written: `text` (`true`/`false`) or `bits` (`1`/`0`).
 */
export function formatCsv<Row>(cols: readonly Column<Row>[], rows: readonly Row[], booleans: 'text' | 'bits' = 'text'): string {
  const bool = booleans === 'bits' ? (b: boolean) => (b ? '1' : '0') : (b: boolean) => (b ? 'true' : 'false');
  return stringify([cols.map((c) => c.name), ...rows.map((r) => cols.map((c) => c.value(r)))], { cast: { boolean: bool } });
}
