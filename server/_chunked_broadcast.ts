/**
 * Sends a job to many sessions in chunks, letting the event loop read and answer submits
 * between chunks: a notify to ten thousand miners costs a write each, and done in one go it
 * would hold up every submit for the whole broadcast. A new broadcast first completes the one
 * still going, so every miner gets the jobs in order.
 *
 * @module
 */

/** Anything that takes a job. */
export interface JobTarget<J> {
  /** Send the job (a closed session ignores it). */
  sendJob(job: J): void;
}

/** Sessions per chunk: about a few milliseconds of sends. */
export const BROADCAST_CHUNK = 256;

/** One port's broadcasts, chunked. */
export class ChunkedBroadcast<J> {
  #chunk: number;
  #job: J | undefined;
  #targets: JobTarget<J>[] = [];
  #next = 0;
  #channel: MessageChannel | undefined;

  /**
   * @param chunk Sessions per chunk.
   */
  constructor(chunk = BROADCAST_CHUNK) {
    this.#chunk = Math.max(1, chunk);
  }

  /** Whether a broadcast is still going. */
  get busy(): boolean {
    return this.#job !== undefined;
  }

  /**
   * Send `job` to every target: the first chunk now, the rest after the event loop has run.
   *
   * @param job The job.
   * @param targets The sessions, in sending order.
   */
  start(job: J, targets: JobTarget<J>[]): void {
    this.finish();
    this.#job = job;
    this.#targets = targets;
    this.#next = 0;
    this.#step();
  }

  /** Send what is left of the current broadcast now. */
  finish(): void {
    const job = this.#job;
    if (job === undefined) return;
    const targets = this.#targets;
    while (this.#next < targets.length) targets[this.#next++]!.sendJob(job);
    this.#done();
  }

  /** Drop what is left of the current broadcast (the port is closing). */
  cancel(): void {
    this.#done();
  }

  #step(): void {
    const job = this.#job;
    if (job === undefined) return;
    const targets = this.#targets;
    const end = Math.min(targets.length, this.#next + this.#chunk);
    while (this.#next < end) targets[this.#next++]!.sendJob(job);
    if (this.#next >= targets.length) return this.#done();
    // A message to ourselves: the next chunk runs after pending I/O, without the 4 ms clamp
    // that nested timers get.
    if (this.#channel === undefined) {
      this.#channel = new MessageChannel();
      this.#channel.port1.onmessage = () => this.#step();
    }
    this.#channel.port2.postMessage(null);
  }

  #done(): void {
    this.#job = undefined;
    this.#targets = [];
    this.#next = 0;
    if (this.#channel !== undefined) {
      this.#channel.port1.close();
      this.#channel.port2.close();
      this.#channel = undefined;
    }
  }
}
