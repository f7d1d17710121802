/**
 * Vardiff settings: the public config and per-call option types, and their validation into the
 * resolved numbers the controller uses. Private to `server/`; `vardiff.ts` re-exports the types.
 *
 * @module
 */

/** Per-port vardiff settings. */
export interface VardiffConfig {
  /** Desired average seconds between shares. @default 10 */
  targetShareSeconds?: number;
  /** Lowest difficulty ever assigned (≥ 1). */
  minDifficulty: bigint;
  /** Highest difficulty ever assigned (≥ `minDifficulty`). */
  maxDifficulty: bigint;
  /** Minimum seconds between two changes (the first change is not delayed). @default 10 */
  retargetSeconds?: number;
  /**
   * Dead band: no quick change while the estimated share time is within ±this % of the target
   * (the measurement after 80 shares uses two thirds of it). @default 30
   */
  variancePercent?: number;
  /** Evidence for a quick change, in standard deviations of the share count. @default 4 */
  confidence?: number;
  /** Largest factor of a single change, up or down. @default 16 */
  maxChangeFactor?: number;
  /** Round to the nearest power of two instead of an exact integer. @default false */
  powerOfTwo?: boolean;
}

/** The per-call facts given to `recordShare` and `checkVardiff` (in `vardiff.ts`). */
export interface VardiffOptions {
  /** The port's settings. */
  config: VardiffConfig;
  /** Current time in milliseconds (any epoch, but the same one for a state's whole life). */
  now: number;
  /** Current network difficulty; the share difficulty is never set above it. */
  networkDifficulty?: bigint;
}

/** The measurement check's band, as a fraction of the dead band. */
const CHECK_BAND = 2 / 3;

/** Resolved, validated settings. */
export interface Settings {
  target: number;
  min: bigint;
  max: bigint;
  retargetMs: number;
  /** Ratio (ideal / current) above which the dead band is left upwards. */
  fast: number;
  /** Ratio below which the dead band is left downwards. */
  slow: number;
  /** The measurement check's band edges. */
  checkFast: number;
  checkSlow: number;
  confidence: number;
  maxFactor: number;
  powerOfTwo: boolean;
}

/**
 * Validate the options of a call and resolve the config's defaults.
 *
 * @param options The options given to `recordShare` or `checkVardiff`.
 * @param action The action named in error messages ("record share").
 * @returns The resolved settings.
 */
export function resolveConfig(options: VardiffOptions, action: string): Settings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot ${action}: options must be an object`);
  }
  const config = options.config;
  if (typeof config !== "object" || config === null) {
    throw new TypeError(`Cannot ${action}: config must be an object`);
  }
  const target = number(config.targetShareSeconds ?? 10, action, "targetShareSeconds");
  if (!(target > 0)) {
    throw new RangeError(`Cannot ${action}: targetShareSeconds must be > 0, got ${target}`);
  }
  if (options.networkDifficulty !== undefined) {
    checkDifficulty(options.networkDifficulty, action, "networkDifficulty");
  }
  const min = checkDifficulty(config.minDifficulty, action, "minDifficulty");
  const max = checkDifficulty(config.maxDifficulty, action, "maxDifficulty");
  if (max < min) {
    throw new RangeError(
      `Cannot ${action}: maxDifficulty (${max}) is below minDifficulty (${min})`,
    );
  }
  const retarget = number(config.retargetSeconds ?? 10, action, "retargetSeconds");
  if (!(retarget >= 0)) {
    throw new RangeError(`Cannot ${action}: retargetSeconds must be >= 0, got ${retarget}`);
  }
  const variance = number(config.variancePercent ?? 30, action, "variancePercent");
  if (!(variance >= 0 && variance < 100)) {
    throw new RangeError(`Cannot ${action}: variancePercent must be in [0, 100), got ${variance}`);
  }
  const confidence = number(config.confidence ?? 4, action, "confidence");
  if (!(confidence > 0)) {
    throw new RangeError(`Cannot ${action}: confidence must be > 0, got ${confidence}`);
  }
  const factor = number(config.maxChangeFactor ?? 16, action, "maxChangeFactor");
  if (!(factor > 1)) {
    throw new RangeError(`Cannot ${action}: maxChangeFactor must be > 1, got ${factor}`);
  }
  const powerOfTwo = config.powerOfTwo ?? false;
  if (typeof powerOfTwo !== "boolean") {
    throw new TypeError(`Cannot ${action}: powerOfTwo must be a boolean`);
  }
  const v = variance / 100;
  return {
    target,
    min,
    max,
    retargetMs: retarget * 1000,
    fast: 1 / (1 - v),
    slow: 1 / (1 + v),
    checkFast: 1 / (1 - CHECK_BAND * v),
    checkSlow: 1 / (1 + CHECK_BAND * v),
    confidence,
    maxFactor: factor,
    powerOfTwo,
  };
}

function number(value: unknown, action: string, name: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`Cannot ${action}: ${name} must be finite, got ${value}`);
  }
  return value;
}

/** A difficulty: a bigint ≥ 1, or a TypeError / RangeError naming `action` and `name`. */
export function checkDifficulty(value: unknown, action: string, name: string): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`Cannot ${action}: ${name} must be a bigint, got ${typeof value}`);
  }
  if (value < 1n) throw new RangeError(`Cannot ${action}: ${name} must be >= 1, got ${value}`);
  return value;
}

/** A time in milliseconds: a finite number, or a TypeError naming `action`. */
export function checkNow(now: unknown, action: string): number {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError(`Cannot ${action}: now must be a finite number of milliseconds`);
  }
  return now;
}
