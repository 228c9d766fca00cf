/**
 * `loadbench compare <label> <label> [...]`: reads the JSON summaries of two or more runs and
 * writes overlay charts, a CSV and a Markdown report `<output_dir>/compare_<labels>_*` on how
 * throughput and latency scale between them.
 */
import { cpus } from 'node:os';
import { relative } from 'node:path';
import { outputDir, outputFile } from '../core/model/outputs.ts';
import { readRunSummary } from '../core/model/read-summary.ts';
import { replicasFromNumNodes, type CompareInput } from '../reporters/compare/compare-model.ts';
import { comparisonLines, writeComparison } from '../reporters/compare/write-compare.ts';
import { UsageError, defineCommand } from './command.ts';

export default defineCommand({
  name: 'compare',
  summary: 'compare two or more runs (e.g. 1, 2 and 4 replicas): overlay charts, a CSV and a scaling report',
  args: '<label> <label> [...] [--replicas 1,2,4] [--output-dir runs]',
  positionals: { min: 2, max: Infinity },
  help: [
    'Reads runs/<label>_summary.json of each label and writes runs/compare_<labels>_throughput.png, _p95_latency.png, ' +
      '_error_rate.png (one line per label), _summary.csv and _report.md: per label its peak throughput, its capacity at ' +
      'the SLO, its speed-up against the first label and the scaling efficiency, and whether adding replicas still pays.',
  ],
  options: {
    replicas: { type: 'string', value: 'n,n,...', description: 'replica count of each label, in order (default: from report.num_nodes of each run)' },
    'output-dir': { type: 'string', value: 'dir', description: 'folder of the summaries and of the comparison (default: runs)' },
  },
  exitStatus: '0 written; 2 usage error, a missing or unreadable summary',
  async run({ values, positionals }, io) {
    const root = io.cwd;
    const dir = values['output-dir'] ?? 'runs';
    let replicas: number[] | undefined;
    if (values.replicas !== undefined) {
      replicas = values.replicas.split(',').map(Number);
      if (replicas.length !== positionals.length || replicas.some((r) => !Number.isInteger(r) || r < 1)) {
        throw new UsageError(`--replicas needs one positive integer per label (${positionals.length}), e.g. --replicas 1,2,4`);
      }
    }
    const inputs: CompareInput[] = [];
    for (const [i, label] of positionals.entries()) {
      const summary = await readRunSummary(outputFile(root, dir, label, 'summaryJson'));
      const fromNodes = replicasFromNumNodes(summary.report.num_nodes);
      inputs.push({
        label,
        summary,
        replicas: replicas?.[i] ?? summary.scaling?.replicas ?? fromNodes ?? 1,
        replicasFrom: replicas ? 'command line' : summary.scaling ? 'scaling sweep' : fromNodes !== undefined ? 'num_nodes' : 'unknown (assumed 1)',
      });
    }
    const prefix = `compare_${positionals.join('_')}`;
    const { comparison, written } = await writeComparison(inputs, { dir: outputDir(root, dir), prefix, cpuCount: cpus().length });
    for (const line of comparisonLines(comparison)) io.out(line);
    io.out(`loadbench compare: wrote ${written.map((p) => relative(root, p)).join(', ')}`);
    return 0;
  },
});
