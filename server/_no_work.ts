/**
 * The pool's watch over an outage of work (no current job: the upstream lost or reset). Two
 * stages, each acted on and logged once per outage:
 *
 * 1. after `waitMs`: new miners are refused (their subscribe gets "No work available" and a
 *    close) and those that subscribed but never got a job are closed;
 * 2. after `graceMs`: every subscribed miner is sent away (Stratum: `client.reconnect`, then a
 *    close; UCP: a close), so that it fails over.
 *
 * Before either, miners are answered and keep their sessions: a start or an upstream restart
 * takes a few seconds. The next job ends the outage (logged once when a stage was reached).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Job, JobManager } from "./jobs.ts";

const log = getLogger(["vbkpool", "server", "pool"]);

/** A port as the watch sees it (Stratum and UCP ports). */
export interface NoWorkPort {
  /**
   * Close the subscribed connections that never had a job or, with `everyone`, send every
   * subscribed one away.
   */
  closeWithoutWork(everyone: boolean, reason: string): number;
}

/** Options for {@linkcode NoWorkWatch}. */
export interface NoWorkWatchOptions {
  /** The pool's jobs (when the last one went). */
  jobs: Pick<JobManager, "noJobSince">;
  /** Stage 1: new miners refused, ms without a job. */
  waitMs: number;
  /** Stage 2: everyone sent away, ms without a job. */
  graceMs: number;
  /** The pool's ports. */
  ports(): Iterable<NoWorkPort>;
}

/** The stages of an outage of work. */
export class NoWorkWatch {
  #o: NoWorkWatchOptions;
  #stage: 0 | 1 | 2 = 0;

  /**
   * @param options Jobs, limits and ports.
   */
  constructor(options: NoWorkWatchOptions) {
    this.#o = options;
  }

  /** Whether new miners are refused (stage 1 or 2 of an outage). */
  get refusesNewMiners(): boolean {
    return this.#stage > 0;
  }

  /** How often {@linkcode NoWorkWatch.check} should run to act within a quarter of a limit. */
  get checkEveryMs(): number {
    return Math.max(25, Math.min(1000, this.#o.waitMs / 4, this.#o.graceMs / 4));
  }

  /**
   * Move to the stage the outage has reached, acting on the ports and logging once.
   *
   * @param now Current time, ms since epoch.
   */
  check(now: number): void {
    const since = this.#o.jobs.noJobSince;
    if (since === undefined) return;
    const idle = now - since;
    const { waitMs, graceMs } = this.#o;
    if (this.#stage < 1 && idle >= waitMs) {
      this.#stage = 1;
      let closed = 0;
      for (const port of this.#o.ports()) closed += port.closeWithoutWork(false, "no work");
      log.warn(
        'no job from NodeCore for {seconds} s: new miners are refused ("No work available"), ' +
          "{closed} waiting for a first job closed; miners with work stay up to {grace} s",
        { seconds: Math.round(idle / 1000), closed, grace: graceMs / 1000 },
      );
    }
    if (this.#stage < 2 && idle >= graceMs) {
      this.#stage = 2;
      let told = 0;
      for (const port of this.#o.ports()) told += port.closeWithoutWork(true, "no work");
      log.warn(
        "no job from NodeCore for {seconds} s: {told} miners asked to reconnect and closed",
        {
          seconds: Math.round(idle / 1000),
          told,
        },
      );
    }
  }

  /**
   * A job came: the outage, if any, is over.
   *
   * @param job The new job.
   */
  workBack(job: Job): void {
    if (this.#stage === 0) return;
    this.#stage = 0;
    log.info("work is back (job {id} at height {height}); new miners are welcome again", {
      id: job.id,
      height: job.template.height,
    });
  }
}
