import { scenario } from 'loadbench';

// POST target.url with the token and payload of config.yaml, at every concurrency level of
// config.yaml, judged against its slo. Options override config.yaml for this scenario only,
// e.g. scenario('submit', { concurrency_levels: [8, 16], slo: { p95_ms: 200 } }).
scenario('submit');
