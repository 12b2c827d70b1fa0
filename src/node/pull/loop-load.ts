import { performance, type EventLoopUtilization } from 'node:perf_hooks'

/** The event loop counts as saturated from this utilization on... */
export const SATURATED_FROM = 0.85
/** ...and stops counting as such below this one. */
export const SATURATED_UNTIL = 0.7
/**
 * ...and only while pulls in the process receive chunks at least this fast (bytes/s): a loop busy with
 * something else (a pull getting ready, a file being indexed) is not held back by its peers' number.
 */
export const SATURATED_FROM_BPS = 50e6
/** Utilization and the pace of chunks are measured over at least this long. */
export const SAMPLE_MS = 250
/** Samples in a row, busy and fast, before the loop counts as saturated. */
export const SATURATED_AFTER_SAMPLES = 2

type Utilization = (current?: EventLoopUtilization, previous?: EventLoopUtilization) => EventLoopUtilization

/**
 * Whether this process's CPU is what limits its pulls: its event loop has lately been busy nearly all the
 * time while chunks came in fast. Then asking more peers cannot make a pull faster. Measured lazily, when
 * asked, over the time since the last sample (at least SAMPLE_MS), with hysteresis both ways: a short busy
 * moment (a file's end and the next one's start) does not make it saturated, and one quieter moment does
 * not end it.
 */
export class LoopLoad {
  private last: EventLoopUtilization
  private lastAt: number
  private bytes = 0
  private busySamples = 0
  private saturated = false
  private readonly utilization: Utilization
  private readonly now: () => number

  constructor(
    utilization: Utilization = performance.eventLoopUtilization.bind(performance),
    now: () => number = () => performance.now(),
  ) {
    this.utilization = utilization
    this.now = now
    this.last = utilization()
    this.lastAt = now()
  }

  /** Counts chunk bytes that a pull received. */
  received(bytes: number): void {
    this.bytes += bytes
  }

  isSaturated(): boolean {
    const at = this.now()
    if (at - this.lastAt < SAMPLE_MS) return this.saturated
    const current = this.utilization()
    const busy = this.utilization(current, this.last).utilization
    const bytesPerSecond = (this.bytes * 1000) / (at - this.lastAt)
    this.last = current
    this.lastAt = at
    this.bytes = 0
    if (busy >= SATURATED_FROM && bytesPerSecond >= SATURATED_FROM_BPS) {
      if (++this.busySamples >= SATURATED_AFTER_SAMPLES) this.saturated = true
    } else {
      this.busySamples = 0
      if (busy < SATURATED_UNTIL || bytesPerSecond < SATURATED_FROM_BPS / 2) this.saturated = false
    }
    return this.saturated
  }
}

/** The process's event loop, shared by every pull in it (they share the loop). */
export const processLoopLoad = new LoopLoad()
