// Timers by key, as Kafka's coordinator timer keeps them: scheduling a key
// again replaces its earlier timer, so "reschedule the member's heartbeat
// expiry" is one call. Timers never keep the process alive on their own.

export class KeyedTimer {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    const t = setTimeout(() => {
      this.timers.delete(key);
      fn();
    }, Math.max(0, delayMs));
    (t as { unref?: () => void }).unref?.();
    this.timers.set(key, t);
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(key);
    }
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  cancelAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }
}
