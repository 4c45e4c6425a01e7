/** Lookups one MGET carries at most: a flood is served in several commands, none huge. */
const MAX_LOOKUPS = 256;

interface Lookup {
  keys: readonly string[];
  resolve(values: (string | null)[]): void;
  reject(error: unknown): void;
}

/**
 * One MGET for every lookup asked for in one turn of the event loop. Requests that arrive
 * together (read in one poll phase) each ask in their own callback, and ioredis would send each
 * its own command (its auto-pipelining batches within one callback only); here they share one
 * command, one write and one reply. A lookup waits at most until the end of that turn
 * (`setImmediate`), and an error fails every lookup of the batch, as each would have failed.
 * Keys of many users in one command assume one keyspace (one node, or a Sentinel's master): on a
 * Redis Cluster the store sends each token's MGET alone, to its user's slot.
 */
export class MgetBatch {
  private pending: Lookup[] = [];

  constructor(private readonly mget: (keys: string[]) => Promise<(string | null)[]>) {}

  get(keys: readonly string[]): Promise<(string | null)[]> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ keys, resolve, reject });
      if (this.pending.length >= MAX_LOOKUPS) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    // Through a promise: a client that throws at once fails the batch, not the process.
    Promise.resolve(batch.flatMap((lookup) => lookup.keys))
      .then((keys) => this.mget(keys))
      .then(
        (values) => {
          let at = 0;
          for (const lookup of batch) {
            lookup.resolve(values.slice(at, (at += lookup.keys.length)));
          }
        },
        (error: unknown) => batch.forEach((lookup) => lookup.reject(error)),
      );
  }
}
