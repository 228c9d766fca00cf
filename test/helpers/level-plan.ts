import type { LevelPlan } from '../../engine/level-controller.ts';

/** A level plan for engine tests: POST a small JSON body, 4 workers, no warm-up; override what the test is about. */
export function levelPlan(url: string, over: Partial<LevelPlan> = {}): LevelPlan {
  return {
    scenario: 'test',
    concurrency: 4,
    url: new URL(url),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"challenge_id":"x"}',
    challengeId: 'x',
    warmupSeconds: 0,
    timeoutSeconds: 5,
    maxBodyBytes: 1024 * 1024,
    ...over,
  };
}
