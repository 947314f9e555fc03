/**
 * An unbounded FIFO with async consumption. Producers never block and nothing is dropped:
 * file-system notifications cannot be paused, so a burst is held here (a few hundred bytes per
 * event) until the consumer catches up.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiters: Array<(value: IteratorResult<T>) => void> = [];
  private closed = false;

  get size(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.items.push(item);
  }

  /** No more items will be pushed; queued items are still delivered, then iteration ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  private shiftNow(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T; // let it be collected
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Resolves with the next item, or `done` once closed and drained. */
  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) return Promise.resolve({ value: this.shiftNow()!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Waits for at least one item, then returns up to `max` queued items ([] once closed and drained). */
  async take(max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const first = await this.next();
    if (first.done) return [];
    const out = [first.value];
    while (out.length < max && this.size > 0) out.push(this.shiftNow()!);
    return out;
  }

  /** Everything queued right now, without waiting. */
  drain(): T[] {
    const out: T[] = [];
    while (this.size > 0) out.push(this.shiftNow()!);
    return out;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
