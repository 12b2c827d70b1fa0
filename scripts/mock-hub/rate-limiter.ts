import { RATE_BURST_SECONDS, CONTENT_SLICE_BYTES } from './constants.ts'

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (err: unknown) => void
  signal: AbortSignal
  onAbort: () => void
}

/**
 * A token bucket shared by every connection: `take(n)` resolves once n bytes may be sent.
 * The bucket holds at most `RATE_BURST_SECONDS` of bandwidth (and at least one slice), and
 * waiters are served in arrival order so that connections share the rate fairly.
 */
export class RateLimiter {
  private rate = 0
  private tokens = 0
  private last = performance.now()
  private readonly queue: Waiter[] = []
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(bytesPerSec: number) {
    this.setRate(bytesPerSec)
    this.tokens = this.capacity()
  }

  get limited(): boolean {
    return this.rate > 0
  }

  /** 0 means unlimited. */
  setRate(bytesPerSec: number): void {
    this.refill()
    this.rate = bytesPerSec
    this.tokens = Math.min(this.tokens, this.capacity())
    this.pump()
  }

  take(bytes: number, signal: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Error('rate limiter closed'))
    signal.throwIfAborted()
    if (this.rate === 0 && this.queue.length === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.queue.indexOf(waiter)
          if (i >= 0) this.queue.splice(i, 1)
          reject(signal.reason)
          this.pump()
        },
      }
      signal.addEventListener('abort', waiter.onAbort, { once: true })
      this.queue.push(waiter)
      this.pump()
    })
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    this.timer = undefined
    for (const w of this.queue.splice(0)) {
      w.signal.removeEventListener('abort', w.onAbort)
      w.reject(new Error('rate limiter closed'))
    }
  }

  private capacity(): number {
    return Math.max(CONTENT_SLICE_BYTES, this.rate * RATE_BURST_SECONDS)
  }

  private refill(): void {
    const now = performance.now()
    if (this.rate > 0)
      this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
  }

  private pump(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.refill()
    while (this.queue.length > 0) {
      const head = this.queue[0]
      const need = Math.min(head.bytes, this.capacity())
      if (this.rate > 0 && this.tokens < need) {
        const waitMs = Math.max(1, ((need - this.tokens) * 1000) / this.rate)
        this.timer = setTimeout(() => this.pump(), waitMs)
        return
      }
      this.queue.shift()
      if (this.rate > 0) this.tokens -= head.bytes
      head.signal.removeEventListener('abort', head.onAbort)
      head.resolve()
    }
  }
}
