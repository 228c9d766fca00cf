import { RUN_CHARTS, outputName } from '../../core/model/outputs.ts';
import { redactCredentials, redactUrl } from '../../core/model/redaction.ts';
import { CLIENT_BOUND_LIMITS, GENERATOR_DELAY_NOTE_MS, isOpenLoopScenario, levelName, measuredLevels, type MeasuredLevel, type RunSummary, type ScenarioSummary } from '../../core/model/summary.ts';
import { LITTLE_CLIENT_LIMIT_RATIO, OPEN_LATENCY_BLOWUP, OPEN_SATURATION_RATIO, scenarioFindings, type OpenLoopFindings, type ScenarioFindings } from './findings.ts';
import { codeBlock, codeSpan, escapeMarkdown, markdownTable } from './markdown.ts';

/** Facts about the machine and project, read by the writer (I/O) and passed in. */
export interface EnvironmentFacts {
  hardware: string;
  software: string;
  gitCommit?: string;
}

/** The Mustache view of the report. Strings marked `md` are already-escaped Markdown. */
export interface ReportView {
  run_label: string;
  /** When the run finished (ISO 8601). */
  date: string;
  started_at: string;
  interrupted: boolean;
  partial_note_md: string;
  hardware: string;
  software: string;
  num_nodes: string;
  /** The load generators: this machine, or the run shards a merged run adds up (issue 15). */
  load_generators: string;
  git_commit: string;
  scenarios: {
    name: string;
    /** The bench file as inline code. */
    file_md: string;
    /** Method and URL (credentials removed) as inline code. */
    target_md: string;
    /** Header names sent, as inline code (values never stored). */
    headers_md: string;
    /** The payload shape as a fenced JSON block. */
    payload_md: string;
    levels: string;
    amount: string;
    warmup_seconds: number;
    timeout_seconds: number;
    slo: string;
  }[];
  results_table_md: string;
  figures: { title: string; file: string }[];
  findings: { scenario: string; items_md: string[] }[];
  tradeoffs_md: string[];
  conclusions_md: string[];
  /** The regression gate's table, when the run was compared with a baseline. */
  baseline_md: string;
}

const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const n1 = (x: number): string => x.toFixed(1);
const n2 = (x: number): string => x.toFixed(2);
const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)} %` : 'from zero');

function sloText(s: ScenarioSummary): string {
  const parts: string[] = [];
  if (s.slo.p50_ms !== undefined) parts.push(`p50 ≤ ${s.slo.p50_ms} ms`);
  if (s.slo.p95_ms !== undefined) parts.push(`p95 ≤ ${s.slo.p95_ms} ms`);
  if (s.slo.p99_ms !== undefined) parts.push(`p99 ≤ ${s.slo.p99_ms} ms`);
  if (s.slo.error_rate_pct !== undefined) parts.push(`error rate ≤ ${s.slo.error_rate_pct} %`);
  if (s.slo.min_throughput_rps !== undefined) parts.push(`throughput ≥ ${s.slo.min_throughput_rps} req/s`);
  if (s.slo.min_achieved_rate_pct !== undefined) parts.push(`achieved rate ≥ ${s.slo.min_achieved_rate_pct} % of the target`);
  if (s.slo.max_dropped_pct !== undefined) parts.push(`dropped ≤ ${s.slo.max_dropped_pct} % of arrivals`);
  if (s.slo.up_to_concurrency !== undefined) parts.push(`judged up to concurrency ${s.slo.up_to_concurrency}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** Distinct error messages quoted per scenario. */
const MAX_ERROR_MESSAGES = 8;

/** The note column of a level: partial, client-bound, which repetition stands for the level. */
function levelNotes(l: MeasuredLevel): string {
  const notes = [
    l.status === 'partial' ? 'partial' : '',
    l.generator.client_bound
      ? 'client-bound'
      : l.generator.event_loop_delay_p99_ms > GENERATOR_DELAY_NOTE_MS
        ? `generator delayed (event-loop p99 ${n1(l.generator.event_loop_delay_p99_ms)} ms)`
        : '',
    l.repetition ? `median repetition (#${l.repetition})` : '',
  ];
  return notes.filter(Boolean).join(', ') || '-';
}

function resultsTable(summary: RunSummary): string {
  const closed = summary.scenarios.filter((s) => !isOpenLoopScenario(s));
  const open = summary.scenarios.filter(isOpenLoopScenario);
  const tables = [closed.length || !open.length ? closedResultsTable(closed) : '', open.length ? openResultsTable(open) : ''];
  return tables.filter(Boolean).join('\n\n');
}

/** Open-loop levels: offered and achieved rate, latency from the due time, service time and schedule lag, drops. */
function openResultsTable(scenarios: ScenarioSummary[]): string {
  const rows = scenarios
    .flatMap((s) => measuredLevels(s).map((l) => ({ s, l })))
    .map(({ s, l }) => {
      const o = l.open_loop;
      return [
        escapeMarkdown(s.name),
        String(l.concurrency),
        o ? n2(o.achieved_rate_rps) : '-',
        n2(l.throughput_rps),
        l.latency_ms.p50.toFixed(3),
        l.latency_ms.p95.toFixed(3),
        l.latency_ms.p99.toFixed(3),
        o ? o.service_time_ms.p99.toFixed(3) : '-',
        o ? o.schedule_lag_ms.p99.toFixed(3) : '-',
        o ? n0(o.dropped) : '-',
        n2(l.error_rate_pct),
        !l.slo.judged ? '-' : l.slo.pass ? 'pass' : `**fail** (${l.slo.checks.filter((c) => !c.pass).map((c) => c.metric).join(', ')})`,
        levelNotes(l),
      ];
    });
  return [
    'Open loop (arrival rates): latency is timed from each request\'s due time, service time from its actual send; dropped arrivals (not sent at `max_in_flight`) count in the error rate.',
    '',
    markdownTable(
      ['scenario', 'offered (req/s)', 'achieved (req/s)', 'throughput (req/s)', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'service p99 (ms)', 'lag p99 (ms)', 'dropped', 'error rate (%)', 'SLO', 'notes'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
    ),
  ].join('\n');
}

function closedResultsTable(scenarios: ScenarioSummary[]): string {
  const rows = scenarios
    .flatMap((s) => measuredLevels(s).map((l) => ({ s, l })))
    .sort((a, b) => (a.s.name < b.s.name ? -1 : a.s.name > b.s.name ? 1 : a.l.concurrency - b.l.concurrency))
    .map(({ s, l }) => [
      escapeMarkdown(s.name),
      String(l.concurrency),
      n0(l.requests),
      n2(l.throughput_rps),
      l.latency_ms.p50.toFixed(3),
      l.latency_ms.p95.toFixed(3),
      l.latency_ms.p99.toFixed(3),
      n2(l.error_rate_pct),
      !l.slo.judged ? '-' : l.slo.pass ? 'pass' : `**fail** (${l.slo.checks.filter((c) => !c.pass).map((c) => c.metric).join(', ')})`,
      levelNotes(l),
    ]);
  return markdownTable(
    ['scenario', 'concurrency', 'requests', 'throughput (req/s)', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'error rate (%)', 'SLO', 'notes'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
  );
}

/** The findings of an open-loop scenario: capacity at the SLO and the saturation rate, in offered req/s. */
function openFindingItems(s: ScenarioSummary, f: ScenarioFindings, o: OpenLoopFindings, summary: RunSummary): string[] {
  const items: string[] = [];
  if (!f.has_slo) items.push('**Capacity at the SLO**: no SLO set for this scenario.');
  else if (o.capacity) {
    items.push(
      `**Capacity at the SLO** (${escapeMarkdown(sloText(s))}): ${o.capacity.rate_rps} req/s offered, ${n1(o.capacity.achieved_rps)} req/s sent and ${n1(o.capacity.throughput_rps)} successful req/s, p95 ${n1(o.capacity.p95_ms)} ms from the due time.`,
    );
  } else if (f.slo_failures.length) {
    items.push(`**Capacity at the SLO**: none; the lowest rate (${f.slo_failures[0]!.concurrency} req/s) already broke ${f.slo_failures[0]!.metrics.join(', ')}.`);
  } else {
    items.push('**Capacity at the SLO**: no level was judged.');
  }
  items.push(
    o.saturation
      ? `**Saturation** at ${o.saturation.rate_rps} req/s: ${o.saturation.reason}.`
      : `**Saturation**: not reached; at every offered rate the system kept up (≥ ${OPEN_SATURATION_RATIO * 100} % of the due arrivals sent and of those answered with success, p95 never grew ${OPEN_LATENCY_BLOWUP}-fold). Extend \`arrival_rates\` to find it.`,
  );
  if (o.dropped.length) {
    items.push(`**Dropped arrivals** (not sent: \`max_in_flight\` requests were outstanding; counted in the error rate): ${o.dropped.map((d) => `${n0(d.dropped)} at ${d.rate_rps} req/s`).join(', ')}.`);
  }
  items.push(
    f.errors_start
      ? `**Errors** start at ${f.errors_start.concurrency} req/s (${n2(f.errors_start.error_rate_pct)} %), categories from there on: ${f.errors_start.categories.join(', ')}.`
      : '**Errors**: none at any rate.',
  );
  // A closed-loop scenario against the same target in the same run: both views side by side.
  for (const c of summary.scenarios.filter((x) => !isOpenLoopScenario(x) && x.workload.url === s.workload.url && x.workload.method === s.workload.method)) {
    const cf = scenarioFindings(c);
    if (!cf.peak) continue;
    items.push(
      `**Closed loop beside it** (scenario ${escapeMarkdown(c.name)}, same target): peak ${n1(cf.peak.throughput_rps)} req/s at concurrency ${cf.peak.concurrency} with p95 ${n1(cf.peak.p95_ms)} ms` +
        (o.capacity ? `; open loop: ${o.capacity.rate_rps} req/s within the SLO at p95 ${n1(o.capacity.p95_ms)} ms from the due time.` : '.') +
        ' A closed loop waits for each answer, so a stall slows its sending and hides in a few slow samples; the open loop keeps sending and times every request from when it was due.',
    );
  }
  const saturated = measuredLevels(s).filter((l) => l.generator.client_bound).map((l) => `${l.concurrency} req/s`);
  if (saturated.length) {
    items.push(
      `**Load generator saturated or late** at ${saturated.join(', ')} (CPU at ${CLIENT_BOUND_LIMITS.cpuPct} % of a core or more, event-loop delay p99 above ${CLIENT_BOUND_LIMITS.eventLoopP99Ms} ms, or schedule lag p99 above ${CLIENT_BOUND_LIMITS.scheduleLagP99Ms} ms): requests left late, so part of those latencies is the generator's.`,
    );
  }
  if (f.partial_levels.length) items.push(`**Partial levels** (interrupted): ${f.partial_levels.map((r) => `${r} req/s`).join(', ')}.`);
  return items;
}

function findingItems(s: ScenarioSummary, f: ScenarioFindings, summary: RunSummary): string[] {
  if (f.open) return openFindingItems(s, f, f.open, summary);
  const items: string[] = [];
  if (f.peak) {
    items.push(
      `**Peak throughput**: ${n1(f.peak.throughput_rps)} req/s at concurrency ${f.peak.concurrency} (p95 ${n1(f.peak.p95_ms)} ms).`,
    );
  } else {
    items.push('**Peak throughput**: no level completed a request.');
  }
  items.push(
    f.knee
      ? `**Knee**: at concurrency ${f.knee.concurrency}, throughput changed ${pct(f.knee.throughput_growth_pct)} over concurrency ${f.knee.previous} while p95 changed ${pct(f.knee.p95_growth_pct)}: past this point more clients mostly add queueing delay.`
      : '**Knee**: none found (no level where throughput grew by less than 10 % while p95 grew by more than 50 %).',
  );
  if (!f.has_slo) items.push('**SLO**: none set for this scenario.');
  else if (f.slo_capacity) {
    const broken = f.slo_failures.filter((x) => x.concurrency > f.slo_capacity!.concurrency)[0];
    const below = f.slo_failures.filter((x) => x.concurrency < f.slo_capacity!.concurrency);
    items.push(
      `**Highest level meeting every SLO** (${escapeMarkdown(sloText(s))}): concurrency ${f.slo_capacity.concurrency}, at ${n1(f.slo_capacity.throughput_rps)} req/s with p95 ${n1(f.slo_capacity.p95_ms)} ms${broken ? `; concurrency ${broken.concurrency} broke ${broken.metrics.join(', ')}` : ''}.` +
        (below.length
          ? ` Yet the lower level${below.length > 1 ? 's' : ''} ${below.map((x) => `${x.concurrency} (${x.metrics.join(', ')})`).join(', ')} failed: the results are noisy near the limit; repeat the sweep (\`repetitions\`) before relying on it.`
          : ''),
    );
  } else if (f.slo_failures.length) {
    items.push(`**Highest level meeting every SLO**: none; the lowest level (${f.slo_failures[0]!.concurrency}) already broke ${f.slo_failures[0]!.metrics.join(', ')}.`);
  } else {
    items.push('**Highest level meeting every SLO**: no level was judged.');
  }
  items.push(
    f.errors_start
      ? `**Errors** start at concurrency ${f.errors_start.concurrency} (${n2(f.errors_start.error_rate_pct)} %), categories from there on: ${f.errors_start.categories.join(', ')}.`
      : '**Errors**: none at any level.',
  );
  const samples = measuredLevels(s).flatMap((l) => l.error_samples.map((e) => `${e.category}: ${redactCredentials(e.message)}`));
  const unique = [...new Set(samples)].slice(0, MAX_ERROR_MESSAGES);
  if (unique.length) items.push(`Error messages seen (escaped, truncated): ${unique.map((m) => `"${escapeMarkdown(m)}"`).join('; ')}.`);
  const littleText = f.little
    .map((x) => `c=${x.concurrency}: ${n2(x.in_system)} (${(x.ratio * 100).toFixed(0)} %${x.judged ? '' : ', not judged'})`)
    .join(', ');
  const unjudged = f.little.filter((x) => !x.judged).map((x) => `c=${x.concurrency}`);
  const judgedCount = f.little.length - unjudged.length;
  const unjudgedText = unjudged.length
    ? ` Not judged at ${unjudged.join(', ')}: 1 % or more of their requests failed, and the mean latency covers successes only.`
    : '';
  const limited = f.little.filter((x) => x.client_limited).map((x) => `c=${x.concurrency}`);
  const saturated = f.little.filter((x) => x.client_bound).map((x) => `c=${x.concurrency}`);
  items.push(
    `**Little's law** (throughput x mean latency = requests in the system, vs the offered concurrency): ${littleText || 'no data'}. ` +
      (limited.length
        ? `At ${limited.join(', ')} fewer than ${LITTLE_CLIENT_LIMIT_RATIO * 100} % of the offered requests were in the system: the client, not the system, was the limit, and those figures understate what the system can do.`
        : judgedCount === 0
          ? 'No level could be judged.'
          : `${unjudged.length ? 'Every judged level' : 'Every level'} kept its offered concurrency in the system (the closed loop was not starved by the client).`) +
      unjudgedText,
  );
  if (saturated.length) {
    items.push(
      `**Load generator saturated** at ${saturated.join(', ')} (CPU at ${CLIENT_BOUND_LIMITS.cpuPct} % of a core or more, or event-loop delay p99 above ${CLIENT_BOUND_LIMITS.eventLoopP99Ms} ms): its own delays are part of those latencies; on a machine shared with the target this also means the two competed for CPU.`,
    );
  }
  if (f.partial_levels.length) items.push(`**Partial levels** (interrupted): ${f.partial_levels.join(', ')}.`);
  // Issue 16: what limited each level, from the CPU of the system under test's processes.
  if (f.bottlenecks.length) {
    items.push(
      `**Bottleneck per level** (CPU of each process of the system under test, the load generator and the machine, sampled every 250 ms): ${f.bottlenecks
        .map((b) => `at concurrency ${b.concurrency} ${escapeMarkdown(b.text, 1000)}`)
        .join('; ')}.`,
    );
  }
  return items;
}

/** Builds the report view from a run summary and environment facts. Pure. */
export function buildReportView(summary: RunSummary, env: EnvironmentFacts): ReportView {
  const findings = summary.scenarios.map((s) => ({ s, f: scenarioFindings(s) }));
  const tradeoffs: string[] = [];
  const conclusions: string[] = [];
  for (const { s, f } of findings) {
    const name = summary.scenarios.length > 1 ? `${escapeMarkdown(s.name)}: ` : '';
    const first = measuredLevels(s).find((l) => l.requests > 0);
    if (f.open) {
      const o = f.open;
      if (o.capacity) conclusions.push(`${name}Offer at most **${o.capacity.rate_rps} req/s** to keep ${escapeMarkdown(sloText(s))} (measured: p95 ${n1(o.capacity.p95_ms)} ms from the due time).`);
      else if (f.has_slo) conclusions.push(`${name}No offered rate met the SLO (${escapeMarkdown(sloText(s))}): the system needs more capacity, or the SLO needs review.`);
      if (o.saturation) conclusions.push(`${name}The system saturates at ${o.saturation.rate_rps} req/s offered (${o.saturation.reason}).`);
      if (f.client_bound_levels.length) conclusions.push(`${name}Some rates were limited by the load generator: rerun them with \`generator_threads\` or from another machine before drawing capacity conclusions.`);
      continue;
    }
    if (f.peak && first) {
      tradeoffs.push(
        `${name}*Latency vs throughput*: from concurrency ${first.concurrency} to ${f.peak.concurrency}, throughput went from ${n1(first.throughput_rps)} to ${n1(f.peak.throughput_rps)} req/s while p95 went from ${n1(first.latency_ms.p95)} to ${n1(f.peak.p95_ms)} ms. Which end of this curve does your service need? _(author: explain)_`,
      );
    }
    tradeoffs.push(
      `${name}*Consistency vs availability*: ${f.errors_start ? `under overload the system answered with ${f.errors_start.categories.join(', ')} from concurrency ${f.errors_start.concurrency}` : 'the system answered every request at every level'}. Does it shed load (fast errors, 503) or queue it (growing latency), and which do your clients prefer? _(author: explain)_`,
    );
    tradeoffs.push(
      `${name}*Cost of replicas*: at ${summary.report.num_nodes ? escapeMarkdown(summary.report.num_nodes) : 'this size'} the peak is ${f.peak ? `${n1(f.peak.throughput_rps)} req/s` : 'unknown'}; repeat the sweep at other replica counts (\`npx loadbench compare\`) to see what each replica buys. _(author: explain)_`,
    );
    if (f.slo_capacity) {
      conclusions.push(
        `${name}Run at most **${f.slo_capacity.concurrency} concurrent clients** to keep ${escapeMarkdown(sloText(s))} (measured: p95 ${n1(f.slo_capacity.p95_ms)} ms at ${n1(f.slo_capacity.throughput_rps)} req/s).`,
      );
    } else if (f.has_slo) {
      conclusions.push(`${name}No measured level met the SLO (${escapeMarkdown(sloText(s))}): the system needs more capacity, or the SLO needs review.`);
    }
    if (f.knee) conclusions.push(`${name}Beyond concurrency ${f.knee.previous}, added clients mostly add latency (knee at ${f.knee.concurrency}); scale out rather than up the client count.`);
    else if (f.peak) conclusions.push(`${name}No knee within the sweep: throughput peaked at concurrency ${f.peak.concurrency}; extend the sweep to find the saturation point.`);
    if (f.client_bound_levels.length || f.little.some((x) => x.client_limited)) {
      conclusions.push(`${name}Some levels were limited by the load generator: rerun them with \`generator_threads\` or from another machine before drawing capacity conclusions.`);
    }
  }
  const partial = summary.scenarios.flatMap((s) => s.levels.filter((l) => l.status === 'partial').map((l) => `${escapeMarkdown(s.name)} at ${levelName(l)}`));
  const partialText = partial.length
    ? ` Partial level${partial.length > 1 ? 's' : ''} (cut short, fewer requests than planned): ${partial.join('; ')}.`
    : '';
  return {
    run_label: summary.run_label,
    date: summary.finished_at,
    started_at: summary.started_at,
    interrupted: summary.interrupted,
    partial_note_md: summary.interrupted
      ? `> **This run was interrupted.** The results cover the levels measured before the interruption; levels planned after it are missing.${partialText}`
      : partial.length
        ? `> **Some levels are partial.**${partialText}`
        : '',
    hardware: env.hardware,
    software: env.software,
    num_nodes: summary.report.num_nodes,
    load_generators: loadGenerators(summary),
    git_commit: env.gitCommit ?? 'not available',
    scenarios: summary.scenarios.map((s) => ({
      name: s.name,
      file_md: codeSpan(s.file),
      target_md: codeSpan(`${s.workload.method} ${redactUrl(s.workload.url)}`, 500),
      headers_md: s.workload.header_names.length ? s.workload.header_names.map((h) => codeSpan(h)).join(', ') : 'none',
      payload_md: codeBlock(JSON.stringify(s.workload.payload_shape ?? null, null, 2), 'json'),
      levels: s.workload.arrival_rates?.length
        ? `arrival rates ${s.workload.arrival_rates.join(', ')} req/s (open loop, ${s.workload.arrivals ?? 'constant'}${s.workload.seed !== undefined ? `, seed ${s.workload.seed}` : ''}, max_in_flight ${s.workload.max_in_flight ?? '-'})`
        : s.workload.concurrency_levels.join(', '),
      amount:
        s.workload.requests_per_level !== undefined
          ? `${s.workload.requests_per_level} requests per level`
          : `${s.workload.duration_seconds} s per level`,
      warmup_seconds: s.workload.warmup_seconds,
      timeout_seconds: s.workload.timeout_seconds,
      slo: sloText(s),
    })),
    results_table_md: resultsTable(summary),
    figures: RUN_CHARTS.filter((f) => f.output !== 'resourcesChart' || hasResources(summary)).map((f) => ({ title: f.title, file: encodeURI(outputName(summary.run_label, f.output)) })),
    findings: findings.map(({ s, f }) => ({
      scenario: s.name,
      items_md: [
        ...findingItems(s, f, summary),
        // Issue 16: say why there are no resource figures rather than leave them out silently.
        ...(summary.resources && !summary.resources.available ? [`**Resources of the system under test**: unavailable: ${escapeMarkdown(summary.resources.reason ?? 'not sampled')}.`] : []),
      ],
    })),
    tradeoffs_md: tradeoffs,
    conclusions_md: conclusions.length ? conclusions : ['No conclusion can be drawn: no level was measured.'],
    baseline_md: baselineSection(summary),
  };
}

/** Whether any level has resource figures (issue 16): only then is the resources chart written. */
export function hasResources(summary: RunSummary): boolean {
  return summary.scenarios.some((s) => measuredLevels(s).some((l) => l.resources?.available));
}

function baselineSection(summary: RunSummary): string {
  const b = summary.baseline;
  if (!b) return '';
  const t = b.tolerances;
  const cell = (v: (typeof b.verdicts)[number], metric: string): string => {
    const c = v.checks.find((x) => x.metric === metric);
    if (!c) return '-';
    const unit = metric === 'error_rate_pct' ? ' pts' : ' %';
    // Issue 13: the noise of the repetitions beside the change.
    const noise = c.noise !== undefined && c.repetitions && (c.repetitions.baseline > 1 || c.repetitions.run > 1) ? `, noise ±${c.noise}` : '';
    return `${c.baseline} → ${c.value} (${c.change >= 0 ? '+' : ''}${c.change}${unit}${noise})${c.pass ? '' : ' **over**'}`;
  };
  const rows = b.verdicts.map((v) => [
    escapeMarkdown(v.scenario),
    String(v.concurrency),
    (v.status === 'fail' ? '**regressed**' : v.status === 'pass' ? 'within tolerance' : `not judged: ${escapeMarkdown(v.reason ?? '')}`) +
      (v.client_bound ? ` (load generator saturated or delayed in the ${v.client_bound === 'both' ? 'run and the baseline' : v.client_bound}: rerun to confirm)` : ''),
    cell(v, 'p95_ms'),
    cell(v, 'throughput_rps'),
    cell(v, 'error_rate_pct'),
  ]);
  // Issue 13: whether the baseline applies to this machine and workload.
  const a = b.applicability;
  const notJudged = (a?.reasons ?? []).map((r) => `- Not judged${r.scenario !== undefined ? `: scenario ${escapeMarkdown(r.scenario)}` : ''}: ${escapeMarkdown(r.reason)}. Record a baseline on this machine: ${codeSpan(`npx loadbench baseline ${summary.run_label} --out ${b.file}`)}`);
  if (a && !a.judged) {
    const strict = a.strict ? ` With ${codeSpan('baseline.strict: true')}, that fails the run.` : ' That alone does not fail the run (with `baseline.strict: true` it would).';
    return [`## Baseline comparison`, '', `Against ${codeSpan(b.file)}: **not judged**.${strict}`, '', ...notJudged, ''].join('\n');
  }
  const calibration =
    a?.calibration_change_pct !== undefined
      ? ` This machine's calibration score is ${Math.abs(a.calibration_change_pct)} % ${a.calibration_change_pct > 0 ? 'slower' : 'faster'} than the baseline's (margin ${a.calibration_margin_pct} %).`
      : '';
  const noiseAware = b.verdicts.some((v) => v.checks.some((c) => c.repetitions && (c.repetitions.baseline > 1 || c.repetitions.run > 1)))
    ? ` With repetitions, a metric regresses when the median is worse than the baseline's worst repetition by more than its tolerance; "noise" is the largest distance of a repetition from its median, either side.`
    : '';
  return [
    `## Baseline comparison`,
    '',
    ...(notJudged.length ? [...notJudged, ''] : []),
    `Against \`${escapeMarkdown(b.file)}\` (${noiseAware ? 'medians of repetitions; ' : ''}tolerances: p95 up to +${t.max_p95_increase_pct} %, throughput down to -${t.max_throughput_drop_pct} %, error rate up to +${t.max_error_rate_increase_pct} points; levels under ${t.min_requests} requests are not judged).${noiseAware}${calibration}`,
    '',
    markdownTable(['scenario', 'concurrency', 'verdict', 'p95 (ms)', 'throughput (req/s)', 'error rate (%)'], rows),
    '',
  ].join('\n');
}

/** The report's "Load generators" line: one, or the n run shards of a merged run with their machines and start skew. */
export function loadGenerators(summary: RunSummary): string {
  const m = summary.merged_from;
  if (!m) return '1 (one loadbench process)';
  const machines = m.machines.map((x) => `shard ${x.index}: ${x.cpu_model ? `${x.cpu_model}, ${x.logical_cpus} CPUs, calibration ${x.calibration_ms} ms` : 'no fingerprint'}`).join('; ');
  return (
    `${m.shards} generators (run shards merged by loadbench merge, config ${m.config_hash}; ` +
    `${m.shared_start ? 'one shared LOADBENCH_START_AT' : 'no shared start time'}; largest level start skew ${m.max_start_skew_ms} ms, largest lateness ${m.max_late_ms} ms). ${machines}`
  );
}
