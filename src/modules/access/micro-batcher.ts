/**
 * Groups calls that arrive while the database is busy into one round trip. A call goes out at once when fewer than
 * `maxInFlight` batches are running (so a quiet door waits for nobody); otherwise it waits for the next batch, which
 * leaves as soon as one in flight comes back, with everything that queued meanwhile (up to `maxBatch`). Under load
 * the batches grow by themselves, and one statement, one commit and one flush serve many scans.
 *
 * `run` answers a batch in order, one result per item. When it fails for a batch of several, each item is tried
 * again alone, as a batch of one (so one bad item cannot fail the others), if `retryAlone` says the failure allows it: a
 * failure the database reported rolled the batch back, while a lost connection may have committed it.
 */
export interface MicroBatcherOptions<I, O> {
  run: (items: I[]) => Promise<O[]>;
  /** Told when a batch of several failed and its items go alone (worth a log line: it should not happen). */
  onBatchFailed?: (error: unknown, size: number) => void;
  retryAlone: (error: unknown) => boolean;
  maxBatch: number;
  maxInFlight: number;
  /** Batch size of `runInOrder` (default `maxBatch`). */
  orderedBatch?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  /** Batches of several that failed and whose items went alone. */
  failedBatches = 0;
  /** `runInOrder` batches, one at a time across all runs (FIFO): ordered runs never hold more than one connection. */
  private lane: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MicroBatcherOptions<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /**
   * Runs `items` in their order, outside the queue: batches of at most `orderedBatch`, each sent when the one before
   * it is answered, so a later item always sees what an earlier one did. Batches of all ordered runs go one at a
   * time, in turn (several long runs share one lane and do not crowd out the queue). A batch of several that fails
   * (and allows it) is tried again one item at a time, still in order. `each` gets every result as soon as its batch
   * is answered; the first failure that remains stops the run and is thrown: what ran before it stays done. So does a
   * throw from `each`, once `each` has had the rest of that batch's results (they are done too).
   */
  async runInOrder(items: I[], each: (result: O, index: number) => void = () => undefined): Promise<O[]> {
    const out: O[] = [];
    const take = (results: O[]) => {
      let refused: { error: unknown } | null = null;
      for (const result of results) {
        try {
          each(result, out.length);
        } catch (error) {
          refused ??= { error };
        }
        out.push(result);
      }
      if (refused) throw refused.error;
    };
    const size = this.options.orderedBatch ?? this.options.maxBatch;
    for (let start = 0; start < items.length; start += size) {
      const batch = items.slice(start, start + size);
      let results: O[];
      try {
        results = await this.inLane(() => this.runChecked(batch));
      } catch (error) {
        if (!this.goesAlone(error, batch.length)) throw error;
        for (const item of batch) take(await this.inLane(() => this.runChecked([item])));
        continue;
      }
      take(results);
    }
    return out;
  }

  private inLane<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lane.then(work, work);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Whether a failed batch's items are tried again one by one (counted and told when so). */
  private goesAlone(error: unknown, size: number): boolean {
    if (size === 1 || !this.options.retryAlone(error)) return false;
    this.failedBatches += 1;
    this.options.onBatchFailed?.(error, size);
    return true;
  }

  private async runChecked(items: I[]): Promise<O[]> {
    const results = await this.options.run(items);
    if (results.length !== items.length) throw new Error(`batch of ${items.length} got ${results.length} answers`);
    return results;
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async send(batch: Pending<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.runChecked(batch.map((p) => p.item));
    } catch (error) {
      if (!this.goesAlone(error, batch.length)) {
        for (const p of batch) p.reject(error);
        return;
      }
      await Promise.all(batch.map((p) => this.send([p])));
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]));
  }
}
