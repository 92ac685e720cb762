// One stack of things to close at shutdown. Whatever startPool opens is
// registered right after it exists, so every exit — a failed start, a graceful
// stop, a kill — closes exactly what is open, in reverse order, with no
// hand-written teardown sequence to keep in step.
export interface Closable {
  name: string;
  /** Graceful close (awaited). */
  close(): void | Promise<void>;
  /** Abrupt close, as a crash would leave it (default: close, not awaited). */
  kill?(): void;
}

export class Closer {
  private readonly stack: Closable[] = [];

  /** Registers a thing to close before everything registered earlier. */
  add(name: string, close: () => void | Promise<void>, kill?: () => void): void {
    this.stack.push({ name, close, kill });
  }

  /**
   * Graceful: closes everything, last registered first, each awaited. A failing
   * close is reported and does not stop the others.
   */
  async close(onError: (name: string, err: unknown) => void = () => {}): Promise<void> {
    for (let c = this.stack.pop(); c; c = this.stack.pop()) {
      try {
        await c.close();
      } catch (err) {
        onError(c.name, err);
      }
    }
  }

  /** Abrupt: kills everything, last registered first, without waiting. */
  kill(): void {
    for (let c = this.stack.pop(); c; c = this.stack.pop()) {
      try {
        if (c.kill) c.kill();
        else void Promise.resolve(c.close()).catch(() => {});
      } catch {
        // a crash does not stop halfway either
      }
    }
  }
}
