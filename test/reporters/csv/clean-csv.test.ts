import { describe, expect, it } from 'vitest';
import { levelsOf } from '../../fixtures/summaries.ts';
import { CLEAN_COLUMNS, formatCleanSummaryCsv } from '../../../reporters/csv/clean-csv.ts';
import { kneeSummary, twoScenarioSummary } from '../../fixtures/summaries.ts';

const HEADER =
  'scenario,concurrency,requests,successes,failures,error_rate_pct,throughput_rps,latency_p50_ms,latency_p90_ms,latency_p95_ms,latency_p99_ms,latency_mean_ms,latency_max_ms,duration_s,slo_judged,slo_pass,client_bound,partial';

describe('clean summary CSV', () => {
  it('has exactly this content for the knee sweep (levels given in reverse order)', () => {
    const s = kneeSummary();
    s.scenarios[0]!.levels.reverse();
    expect(formatCleanSummaryCsv(s)).toBe(
      [
        HEADER,
        'submit,1,500,500,0,0.00,100.00,4.500,7.000,8.000,12.000,5.000,20.000,5.000,1,1,0,0',
        'submit,2,1900,1900,0,0.00,380.00,4.737,7.200,9.000,13.500,5.263,27.000,5.000,1,1,0,0',
        'submit,4,3500,3500,0,0.00,700.00,5.143,9.600,12.000,18.000,5.714,36.000,5.000,1,1,0,0',
        'submit,8,5500,5500,0,0.00,1100.00,6.545,16.000,20.000,30.000,7.273,60.000,5.000,1,1,0,0',
        'submit,16,5750,5750,0,0.00,1150.00,12.522,36.000,45.000,67.500,13.913,135.000,5.000,1,1,0,0',
        'submit,32,5850,5800,50,0.85,1160.00,24.828,76.000,95.000,142.500,27.586,285.000,5.000,1,0,1,0',
        '',
      ].join('\n'),
    );
    expect(CLEAN_COLUMNS.map((c) => c.name).join(',')).toBe(HEADER);
  });

  it('sorts by scenario then concurrency, leaves skipped levels out, and has no empty or non-numeric cell', () => {
    const lines = formatCleanSummaryCsv(twoScenarioSummary()).trim().split('\n').slice(1);
    expect(lines.map((l) => l.split(',').slice(0, 2).join(' '))).toEqual([
      'status 1',
      'status 4',
      'status 16',
      'submit 1',
      'submit 2',
      'submit 4',
      'submit 8',
      'submit 16',
      'submit 32',
    ]);
    for (const line of lines) {
      const cells = line.split(',');
      expect(cells).toHaveLength(CLEAN_COLUMNS.length);
      expect(cells.slice(1).every((c) => /^-?\d+(\.\d+)?$/.test(c)), line).toBe(true);
    }
  });

  it('quotes a scenario name with a comma and writes 0 rather than NaN', () => {
    const s = kneeSummary();
    s.scenarios[0]!.name = 'submit, "big"';
    levelsOf(s.scenarios[0]!)[0]!.latency_ms.mean = Number.NaN;
    const row = formatCleanSummaryCsv(s).split('\n')[1]!;
    expect(row.startsWith('"submit, ""big""",1,500,')).toBe(true);
    expect(row).toContain(',0.000,20.000,');
    expect(row).not.toContain('NaN');
  });
});
