/**
 * Backpressure from the store to the miners. Every accepted share is answered only once its
 * record is durable; when the store (or the thread that handles its answers) falls behind, the
 * shares waiting for their commit pile up until the commit queue is full or a commit times out,
 * and then every one of them is answered with an error and never credited. Instead, the pool
 * stops reading from its connections once `pauseAt` shares wait, and reads again when half of
 * them are committed: the miners' answers come late, TCP slows the senders, and nothing that
 * was sent is refused for the pool's own slowness.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { ReadGate } from "../net/read_gate.ts";
import type { AcceptedShare, ShareRecorder } from "./share_recorder.ts";

/** Under a steady overload the gate shuts and reopens many times a second: once, then counted. */
const episodes = new EpisodeLog(getLogger(["vbkpool", "server", "shares"]));

/** Options for {@linkcode RecordBacklog}. */
export interface RecordBacklogOptions {
  /** The recorder whose pending records are counted. */
  recorder: ShareRecorder;
  /** Pending records at which reads pause; 0 never pauses. @default 10000 */
  pauseAt?: number;
  /** Clock for the pause durations (ms). @default performance.now */
  clock?: () => number;
}

/** Counters of a {@linkcode RecordBacklog}. */
export interface RecordBacklogStats {
  /** Shares accepted whose record has not settled yet. */
  pending: number;
  /** Times reads were paused. */
  pauses: number;
  /** Time spent paused in all (ms), including a pause under way. */
  pausedMs: number;
  /** Whether reads are paused now. */
  paused: boolean;
}

/**
 * A {@linkcode ShareRecorder} that counts the records in flight and shuts a
 * {@linkcode ReadGate} while there are too many.
 *
 * @example Usage
 * ```ts
 * import { RecordBacklog } from "./record_backlog.ts";
 * import assert from "node:assert/strict";
 *
 * const commits: (() => void)[] = [];
 * const slow = { record: () => new Promise<void>((resolve) => commits.push(resolve)) };
 * const backlog = new RecordBacklog({ recorder: slow, pauseAt: 2 });
 * const share = {} as Parameters<typeof backlog.record>[0];
 * const first = backlog.record(share);
 * const second = backlog.record(share);
 * assert.equal(backlog.gate.open, false);
 * commits[0]!();
 * await first;
 * assert.equal(backlog.gate.open, true);
 * commits[1]!();
 * await second;
 * assert.equal(backlog.stats().pauses, 1);
 * ```
 */
export class RecordBacklog implements ShareRecorder {
  /** Shut while reads should pause; give it to every connection. */
  readonly gate: ReadGate;
  #recorder: ShareRecorder;
  #pauseAt: number;
  #resumeAt: number;
  #clock: () => number;
  #pending = 0;
  #pauses = 0;
  #pausedSince = 0;
  #peak = 0;

  /** @param options The recorder and the threshold. */
  constructor(options: RecordBacklogOptions) {
    this.#recorder = options.recorder;
    this.#pauseAt = 0;
    this.#resumeAt = 0;
    this.#clock = options.clock ?? (() => performance.now());
    this.gate = new ReadGate({ clock: this.#clock });
    this.setPauseAt(options.pauseAt ?? 10_000);
  }

  /**
   * Change the threshold (a reload); a lower one takes effect with the next share, a higher
   * one or 0 reopens the gate when the backlog is below it.
   *
   * @param pauseAt Pending records at which reads pause; 0 never pauses.
   */
  setPauseAt(pauseAt: number): void {
    this.#pauseAt = Math.max(0, Math.floor(pauseAt));
    this.#resumeAt = Math.floor(this.#pauseAt / 2);
    if (!this.gate.open && (this.#pauseAt === 0 || this.#pending <= this.#resumeAt)) this.#resume();
  }

  /**
   * Record a share through the wrapped recorder, counting it while it is pending.
   *
   * @param share The accepted share.
   * @returns The wrapped recorder's promise.
   */
  record(share: AcceptedShare): Promise<void> {
    this.#pending++;
    if (!this.gate.open && this.#pending > this.#peak) this.#peak = this.#pending;
    if (this.#pauseAt > 0 && this.#pending >= this.#pauseAt && this.gate.open) this.#pause();
    let recording: Promise<void>;
    try {
      recording = this.#recorder.record(share);
    } catch (err) {
      recording = Promise.reject(err);
    }
    recording.then(this.#settled, this.#settled);
    return recording;
  }

  /** One function for every share (no closure per share on the share path). */
  #settled = (): void => {
    this.#pending--;
    if (!this.gate.open && this.#pending <= this.#resumeAt) this.#resume();
  };

  /**
   * The counters.
   *
   * @returns A snapshot.
   */
  stats(): RecordBacklogStats {
    const paused = !this.gate.open;
    return {
      pending: this.#pending,
      pauses: this.#pauses,
      pausedMs: this.gate.shutMs(),
      paused,
    };
  }

  #pause(): void {
    this.#pauses++;
    this.#pausedSince = this.#clock();
    this.#peak = this.#pending;
    this.gate.shut();
    episodes.warn(
      "pause",
      "the store is behind: {pending} accepted shares wait for their commit; reading from " +
        "miners is paused until {resume} are left (answers come late, none is refused)",
      { pending: this.#pending, resume: this.#resumeAt },
    );
  }

  #resume(): void {
    const ms = Math.round(this.#clock() - this.#pausedSince);
    this.gate.reopen();
    episodes.debug("resume", "reading from miners again after {ms} ms (at most {peak} waited)", {
      ms,
      peak: this.#peak,
    });
  }
}
