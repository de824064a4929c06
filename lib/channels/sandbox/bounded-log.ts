/** Sinks also run for hours under `npm start`: their logs keep only the newest entries. */
export const DEFAULT_SINK_LOG_LIMIT = 10_000;

export function appendBounded<T>(log: T[], entry: T, limit = DEFAULT_SINK_LOG_LIMIT): void {
  log.push(entry);
  if (log.length > limit) log.splice(0, log.length - limit);
}
