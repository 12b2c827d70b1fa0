export interface ProgressBar {
  /** Sets done/total (bytes) and an optional label; redraws at most every 100 ms (TTY) or 2 s (plain). */
  update(done: number, total: number, label?: string): void
  done(message?: string): void
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream
  quiet?: boolean
  title: string
}

/** A progress bar with bytes, rate and ETA on a terminal; plain occasional lines when not a TTY. */
export function createProgressBar(options: ProgressOptions): ProgressBar {
  const stream = options.stream ?? process.stderr
  const tty = stream.isTTY === true
  const started = Date.now()
  let lastDraw = 0
  let drawn = false
  const draw = (done: number, total: number, label: string | undefined, force: boolean): void => {
    const now = Date.now()
    if (!force && now - lastDraw < (tty ? 100 : 2000)) return
    lastDraw = now
    const secs = Math.max((now - started) / 1000, 0.001)
    const rate = done / secs
    const pct = total > 0 ? Math.min(100, (done / total) * 100) : 100
    const eta = rate > 0 && total > done ? `${Math.ceil((total - done) / rate)}s` : '-'
    const text = `${options.title} ${pct.toFixed(0).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${eta}${label !== undefined ? ` ${label}` : ''}`
    if (tty) {
      const width = 20
      const filled = Math.round((pct / 100) * width)
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
      stream.write(`\r\x1b[2K${bar} ${text}`.slice(0, (stream.columns ?? 120) + 8))
    } else {
      stream.write(`${text}\n`)
    }
    drawn = true
  }
  let last = { done: 0, total: 0 }
  return {
    update(done, total, label) {
      if (options.quiet === true) return
      last = { done, total }
      draw(done, total, label, false)
    },
    done(message) {
      if (options.quiet === true) return
      if (drawn && tty) {
        draw(last.done, last.total, undefined, true)
        stream.write('\n')
      }
      if (message !== undefined) stream.write(`${message}\n`)
    },
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = n
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(1)}${units[i]}`
}
