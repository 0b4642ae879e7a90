// As Kafka's Throttler (storage/internals/utils/Throttler.java), which
// LogCleaner uses for log.cleaner.io.max.bytes.per.second: bytes are counted,
// and once a check interval (300 ms for the cleaner) has passed with a rate
// above the desired one, the caller sleeps long enough to bring that
// interval's rate down to it. Here the sleep is a promise, so the event loop
// keeps serving while the cleaner waits.

export interface ThrottlerClock {
  /** monotonic milliseconds */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_CLOCK: ThrottlerClock = {
  now: () => performance.now(),
  sleep: (ms) => Bun.sleep(ms),
};

export class Throttler {
  private periodStart: number;
  private observedSoFar = 0;

  constructor(
    /** units per second; read at every check, so a dynamic update applies at once */
    private readonly desiredRatePerSec: () => number,
    private readonly checkIntervalMs: number,
    private readonly clock: ThrottlerClock = REAL_CLOCK,
  ) {
    this.periodStart = clock.now();
  }

  /** The sleep (ms) this observation calls for, 0 when none; the period restarts after each check. */
  observe(observed: number): number {
    this.observedSoFar += observed;
    const now = this.clock.now();
    const elapsed = now - this.periodStart;
    if (elapsed <= this.checkIntervalMs || this.observedSoFar <= 0) return 0;
    const desired = this.desiredRatePerSec();
    let sleep = 0;
    if ((this.observedSoFar * 1000) / elapsed > desired) sleep = Math.max(0, Math.round(this.observedSoFar / (desired / 1000) - Math.floor(elapsed)));
    // Kafka restarts the period after the sleep: the nap is not counted against the next interval
    this.periodStart = now + sleep;
    this.observedSoFar = 0;
    return sleep;
  }

  /** Sleeps `ms` (what observe() asked for) in slices of at most 100 ms; `check` runs after each (it may throw to give up). */
  async sleep(ms: number, check: () => void = () => {}): Promise<void> {
    while (ms > 0) {
      const step = Math.min(ms, 100);
      await this.clock.sleep(step);
      ms -= step;
      check();
    }
  }
}
