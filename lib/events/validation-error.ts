export interface FieldProblem {
  /** Dotted path into the submitted event, e.g. "payload.amount". */
  path: string;
  message: string;
}

/** Raised before anything is written: the event as submitted cannot be accepted. */
export class EventValidationError extends Error {
  readonly code = 'HERALD_ERR_VALIDATION';
  constructor(readonly details: FieldProblem[]) {
    super(`Invalid event: ${details.map((d) => `${d.path || '(event)'}: ${d.message}`).join('; ')}`);
    this.name = 'EventValidationError';
  }
}
