let controller: AbortController | undefined;

/**
 * Aborted when this process receives SIGINT or SIGTERM, so that the running level stops
 * sending, ends as partial and its results still reach the reporters.
 */
export function interruptSignal(): AbortSignal {
  if (!controller) {
    const c = new AbortController();
    controller = c;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!c.signal.aborted) c.abort(new Error(`interrupted by ${signal}`));
    };
    // `on`, not `once`: the runner may forward a signal we already got; a repeat must not kill us mid-write.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return controller.signal;
}
