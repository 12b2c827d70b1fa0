import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'

const STOP_TIMEOUT_MS = 5_000
const OUTPUT_TAIL_CHARS = 8 * 1024

export interface StartLineChildParams {
  /** For messages, e.g. "static server". */
  what: string
  /** Arguments of `node` (this process's binary). */
  nodeArgs: string[]
  /** Started once a stdout line matches this. */
  ready: RegExp
  timeoutMs: number
  signal: AbortSignal
  env?: NodeJS.ProcessEnv
}

/** Every child started here that may still run, so that an exit handler can kill them all. */
const running = new Set<LineChild>()

/** SIGKILLs every line child still running. Synchronous: fit for a process 'exit' handler. */
export function killLineChildren(): void {
  for (const child of running) child.killNow()
}

/**
 * A long-lived helper process that talks in lines: it says when it is ready on stdout, takes commands on
 * stdin, and answers on stdout. Every wait is bounded.
 */
export class LineChild {
  readonly what: string
  readonly pid: number
  private readonly child: ChildProcessWithoutNullStreams
  private readonly lines: string[] = []
  private wake: () => void = () => {}
  private stderr = ''
  private readonly exited: Promise<void>

  private constructor(what: string, child: ChildProcessWithoutNullStreams) {
    this.what = what
    this.child = child
    this.pid = child.pid as number
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line)
      this.wake()
    })
    child.stderr.on(
      'data',
      (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-OUTPUT_TAIL_CHARS)),
    )
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(this)
        this.wake()
        resolve()
      }),
    )
  }

  /** Spawns the child and waits for its ready line; returns the child and that line's match. */
  static async start(params: StartLineChildParams): Promise<{ child: LineChild; ready: RegExpExecArray }> {
    const proc = spawn(process.execPath, params.nodeArgs, { stdio: 'pipe', env: params.env ?? process.env })
    if (proc.pid === undefined) throw new Error(`${params.what}: could not start`)
    const child = new LineChild(params.what, proc)
    running.add(child)
    try {
      return { child, ready: await child.waitFor(params.ready, params.timeoutMs, params.signal) }
    } catch (err) {
      await child.close()
      throw err
    }
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`)
  }

  /**
   * The next stdout line matching `pattern` (earlier lines that do not match are dropped). Throws when the
   * child exits, `timeoutMs` passes or `signal` aborts first.
   */
  async waitFor(pattern: RegExp, timeoutMs: number, signal: AbortSignal): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs
    const timer = setInterval(() => this.wake(), 250)
    try {
      for (;;) {
        for (let line = this.lines.shift(); line !== undefined; line = this.lines.shift()) {
          const m = pattern.exec(line)
          if (m !== null) return m
        }
        signal.throwIfAborted()
        if (this.child.exitCode !== null || this.child.signalCode !== null)
          throw new Error(`${this.what} exited: ${this.stderr.trim()}`)
        if (Date.now() > deadline)
          throw new Error(`${this.what}: no "${pattern.source}" within ${timeoutMs} ms`)
        await new Promise<void>((resolve) => (this.wake = resolve))
      }
    } finally {
      clearInterval(timer)
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. Harmless twice. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await this.exited
    clearTimeout(timer)
  }

  killNow(): void {
    this.child.kill('SIGKILL')
  }
}
