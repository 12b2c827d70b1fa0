/** A read slower than this came from the disk, or its thread was preempted. */
export const SLOW_READ_MS = 2
/** Reads go to the thread pool once this many of the last 8 were slow. */
export const SLOW_READS_OF_8 = 3
/** For this long after that, reads go to the thread pool. */
export const POOL_READS_FOR_MS = 10_000

/**
 * Whether a file read is made synchronously, on the event loop, or handed to the thread pool. A seeder's
 * reads nearly always come from the page cache, where a synchronous read costs ~30-60 us and handing it to
 * the pool costs the event loop ~100 us more (waking a pool thread, on the 2-core VM). A disk is another
 * matter: its reads would hold up the event loop, so several slow reads among the last few send reads to
 * the pool for a while.
 *
 * One slow read is not enough: on a busy machine a read is now and then preempted, and a single read over
 * 2 ms sent every read of a 1 GiB pull to the pool (measured: 14 synchronous reads against 4,144 in the pool
 * in one pull, 3-5 slow reads of 2.0-4.7 ms in ~20,000). A cold disk makes most of its reads slow.
 */
export class SyncReads {
  /** Bit i set: the read i before the last was slow. */
  private recent = 0
  private poolUntil = Number.NEGATIVE_INFINITY

  /** True when a read at `now` (ms, performance.now()) may be made synchronously. */
  allowed(now: number): boolean {
    return now >= this.poolUntil
  }

  /** Records how long a synchronous read took; `now` is when it ended. */
  record(ms: number, now: number): void {
    this.recent = ((this.recent << 1) | (ms > SLOW_READ_MS ? 1 : 0)) & 0xff
    if (bitCount(this.recent) >= SLOW_READS_OF_8) {
      this.poolUntil = now + POOL_READS_FOR_MS
      this.recent = 0
    }
  }
}

function bitCount(bits: number): number {
  let n = 0
  for (let b = bits; b !== 0; b &= b - 1) n++
  return n
}
