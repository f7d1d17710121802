/**
 * Query-string checks for the HTTP API: each parameter is parsed strictly and a bad one is an
 * {@linkcode HttpError} 400 naming it; unknown parameters are refused too (except `_`, a
 * cache-buster some clients add).
 *
 * @module
 */

/** An error with an HTTP status; its message is safe to show to the client. */
export class HttpError extends Error {
  /** The HTTP status. */
  readonly status: number;

  /**
   * @param status HTTP status.
   * @param message Client-facing message.
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}

/**
 * Refuse parameters outside `allowed`.
 *
 * @param params The query.
 * @param allowed Known names.
 * @param action What the request does ("list blocks"), for the message.
 */
export function onlyParams(params: URLSearchParams, allowed: readonly string[], action: string) {
  for (const name of params.keys()) {
    if (name !== "_" && !allowed.includes(name)) {
      throw new HttpError(400, `Cannot ${action}: unknown parameter "${name.slice(0, 64)}"`);
    }
  }
}

/**
 * An integer parameter in [min, max].
 *
 * @param params The query.
 * @param name Parameter name.
 * @param options Default and bounds, and the action for the message.
 * @returns The value.
 */
export function intParam(
  params: URLSearchParams,
  name: string,
  options: { def: number; min: number; max: number; action: string },
): number {
  const all = params.getAll(name);
  if (all.length === 0) return options.def;
  const text = all[0]!;
  if (all.length > 1 || !/^-?\d{1,15}$/.test(text)) {
    throw new HttpError(
      400,
      `Cannot ${options.action}: "${name}" must be one integer, got "${text.slice(0, 32)}"`,
    );
  }
  const value = Number(text);
  if (value < options.min || value > options.max) {
    throw new HttpError(
      400,
      `Cannot ${options.action}: "${name}" must be from ${options.min} to ${options.max}, got ${value}`,
    );
  }
  return value;
}

/**
 * A parameter from a fixed list, or undefined when absent.
 *
 * @param params The query.
 * @param name Parameter name.
 * @param options Allowed values and the action for the message.
 * @returns The value.
 */
export function choiceParam<T extends string>(
  params: URLSearchParams,
  name: string,
  options: { choices: readonly T[]; action: string },
): T | undefined {
  const all = params.getAll(name);
  if (all.length === 0) return undefined;
  const text = all[0]!;
  if (all.length > 1 || !(options.choices as readonly string[]).includes(text)) {
    throw new HttpError(
      400,
      `Cannot ${options.action}: "${name}" must be one of ${options.choices.join(", ")}, got "${
        text.slice(0, 32)
      }"`,
    );
  }
  return text as T;
}
