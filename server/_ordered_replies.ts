/**
 * Keeps a connection's replies in request order when some are answered later (a submit waits
 * for its durable record) and others at once.
 *
 * @module
 */

interface Slot {
  line: string | undefined;
  filled: boolean;
}

/** Replies in request order. */
export class OrderedReplies {
  #queue: Slot[] = [];
  #send: (line: string) => void;

  /**
   * @param send Writes one line to the connection.
   */
  constructor(send: (line: string) => void) {
    this.#send = send;
  }

  /**
   * Reply now, or as soon as every earlier reserved reply has been sent.
   *
   * @param line The reply.
   */
  now(line: string): void {
    if (this.#queue.length === 0) this.#send(line);
    else this.#queue.push({ line, filled: true });
  }

  /**
   * Reserve a place for a reply that comes later.
   *
   * @returns A function that fills the place (a line, or undefined for no reply).
   */
  reserve(): (line: string | undefined) => void {
    const slot: Slot = { line: undefined, filled: false };
    this.#queue.push(slot);
    return (line) => {
      if (slot.filled) return;
      slot.line = line;
      slot.filled = true;
      this.#flush();
    };
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#queue[0]!.filled) {
      const slot = this.#queue.shift()!;
      if (slot.line !== undefined) this.#send(slot.line);
    }
  }
}
