import type { ChildProcess } from 'node:child_process'

export class ChildOutputError extends Error {
  override name = 'ChildOutputError'
}

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/**
 * Everything a spawned child prints on stdout, split into lines, with bounded waits for a line or for
 * its exit. Attach it right after spawning, so no output is missed.
 */
export class ChildOutput {
  readonly lines: string[] = []
  stderr = ''
  private partial = ''
  private closed = false
  private readonly exited: Promise<ChildExit>
  private readonly listeners = new Set<() => void>()
  private readonly child: ChildProcess

  constructor(child: ChildProcess) {
    this.child = child
    child.stdout?.setEncoding('utf8').on('data', (text: string) => this.onStdout(text))
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (this.stderr += text))
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        if (this.partial !== '') this.lines.push(this.partial)
        this.partial = ''
        this.closed = true
        resolve({ code, signal })
        this.notify()
      })
    })
  }

  /** Resolves with the first line (seen before or after the call) that matches. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    return this.waitFor(
      () => this.lines.find((line) => pattern.test(line)),
      timeoutMs,
      `a line matching ${pattern}`,
    )
  }

  /** Resolves once the child has exited; kills it (KILL) and rejects if it outlives timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<ChildExit> {
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_resolve, reject) => {
          const timer = setTimeout(
            () => reject(new ChildOutputError(`still running after ${timeoutMs} ms`)),
            timeoutMs,
          )
          void this.exited.finally(() => clearTimeout(timer))
        }),
      ])
    } catch (err) {
      this.child.kill('SIGKILL')
      throw err
    }
  }

  private onStdout(text: string): void {
    const parts = (this.partial + text).split('\n')
    this.partial = parts.pop() ?? ''
    this.lines.push(...parts)
    this.notify()
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener()
  }

  private waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        const found = check()
        if (found === undefined && !this.closed) return
        clearTimeout(timer)
        this.listeners.delete(settle)
        if (found !== undefined) resolve(found)
        else reject(new ChildOutputError(`exited before printing ${what}; stderr: ${this.stderr.trim()}`))
      }
      const timer = setTimeout(() => {
        this.listeners.delete(settle)
        reject(new ChildOutputError(`no ${what} within ${timeoutMs} ms; stderr: ${this.stderr.trim()}`))
      }, timeoutMs)
      this.listeners.add(settle)
      settle()
    })
  }
}
