import { scenario } from 'loadbench';

/**
 * The default workload: POST /submit with the token and challenge_id from config.yaml,
 * at every concurrency level of config.yaml, judged against its SLO.
 */
scenario('submit');
