import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A token bucket shared by every transfer it is given to: `take(n)` resolves once n bytes may pass.
 * The burst is small (a quarter second of rate, at least one chunk) so the cap holds over any window of a
 * few seconds. A rate of 0 means no limit.
 */
export class RateLimiter {
  readonly bytesPerSec: number
  private readonly burst: number
  private tokens: number
  private last = performance.now()
  private queue: Promise<void> = Promise.resolve()

  constructor(bytesPerSec: number, burst = Math.max(131072, Math.floor(bytesPerSec / 4))) {
    this.bytesPerSec = bytesPerSec
    this.burst = burst
    this.tokens = burst
  }

  /** Waits until `n` bytes may pass; callers are served in order. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSec <= 0) return Promise.resolve()
    const turn = this.queue.then(async () => {
      this.refill()
      this.tokens -= n
      if (this.tokens < 0) await sleep((-this.tokens / this.bytesPerSec) * 1000, undefined, { signal })
    })
    this.queue = turn.catch(() => {})
    return turn
  }

  private refill(): void {
    const now = performance.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.bytesPerSec)
    this.last = now
  }
}
