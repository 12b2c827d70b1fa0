import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS = 100
const SAMPLE_EVERY_MS = 100

/** User + system CPU seconds of a running process, all its threads (worker threads included). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3 (state).
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** A `Vm*` line of /proc/<pid>/status, in bytes: VmHWM is the peak RSS of the process's life, VmRSS now. */
export function vmBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(m[1]) * 1024
}

/**
 * The largest VmRSS of each process seen while sampling every 100 ms: the peak over an interval of a
 * process that was running before it (VmHWM cannot be reset).
 */
export class RssSampler {
  private readonly peaks = new Map<number, number>()
  private readonly timer: NodeJS.Timeout

  constructor(pids: readonly number[]) {
    for (const pid of pids) this.peaks.set(pid, 0)
    this.sample()
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS)
  }

  /** Stops sampling (after a last sample); returns the peak VmRSS of each pid in bytes. */
  stop(): Map<number, number> {
    clearInterval(this.timer)
    this.sample()
    return this.peaks
  }

  private sample(): void {
    for (const [pid, peak] of this.peaks) {
      try {
        this.peaks.set(pid, Math.max(peak, vmBytes(pid, 'VmRSS')))
      } catch {
        // exited meanwhile: keep the peak seen so far
      }
    }
  }
}

/** CPU seconds of several running processes over an interval: construct, do the work, `stop()`. */
export class CpuMeter {
  private readonly before = new Map<number, number>()

  constructor(pids: readonly number[]) {
    for (const pid of pids) this.before.set(pid, cpuSeconds(pid))
  }

  /** Seconds of CPU each process used since construction. */
  stop(): Map<number, number> {
    const used = new Map<number, number>()
    for (const [pid, at] of this.before) used.set(pid, cpuSeconds(pid) - at)
    return used
  }
}
