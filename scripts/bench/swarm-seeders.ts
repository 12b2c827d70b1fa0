/** The seeders of the swarm benchmark: daemons that each hold the whole repo, restarted with or without a cap. */
import { join } from 'node:path'
import type { BenchDaemon } from './bench-daemon.ts'
import type { SourceRepo } from './bench-repos.ts'

const INDEX_POLL_MS = 200

export interface SeederPoolParams {
  /** Seeder i lives under `<dir>/seeder-<i>`. */
  dir: string
  repo: SourceRepo
  timeoutMs: number
  signal: AbortSignal
  startDaemon: (dir: string, startArgs: string[]) => Promise<BenchDaemon>
  stopDaemon: (daemon: BenchDaemon) => Promise<void>
}

/**
 * Seeders that each pulled the repo from the Hub once (not timed), then run `count` at a time with an
 * upload cap or without. The others must be out of the leechers' reach (the DHT would find them through
 * seeder 1): those with the cap wanted are paused (SIGSTOP), and keep the state they warmed up in serving
 * (a restarted seeder's first serve costs more); the others are stopped.
 */
export class SeederPool {
  private readonly params: SeederPoolParams
  /** One per seeder prepared; null while stopped. */
  private readonly running: (BenchDaemon | null)[] = []
  /** The upload cap each running seeder was started with, bytes/s (0: none). */
  private readonly caps: number[] = []
  /** Whether each running seeder is paused (SIGSTOP). */
  private readonly paused: boolean[] = []

  constructor(params: SeederPoolParams) {
    this.params = params
  }

  /** Seeders 1..count, each holding the repo (pulled from the Hub), uncapped and running. */
  async prepare(count: number): Promise<void> {
    for (let i = this.running.length; i < count; i++) {
      const d = await this.params.startDaemon(this.dirOf(i), [])
      this.running.push(d)
      this.caps.push(0)
      this.paused.push(false)
      await d.cli(['model', 'add', this.params.repo.id, '--quiet'])
    }
  }

  /**
   * Seeders 1..count running with `--max-upload-rate cap` (0: uncapped), every other one paused (same cap)
   * or stopped; with `fresh`, each of them started anew.
   */
  async use(count: number, cap: number, fresh = false): Promise<BenchDaemon[]> {
    if (count > this.running.length)
      throw new Error(`${count} seeders wanted, ${this.running.length} prepared`)
    for (let i = 0; i < this.running.length; i++) {
      const d = this.running[i]
      const wanted = i < count
      if (d !== null && wanted && this.caps[i] === cap && !fresh) {
        this.resume(i)
        continue
      }
      if (d !== null && !wanted && this.caps[i] === cap) {
        this.pause(i)
        continue
      }
      await this.stop(i)
      if (wanted) {
        const started = await this.params.startDaemon(
          this.dirOf(i),
          cap > 0 ? ['--max-upload-rate', String(cap)] : [],
        )
        this.running[i] = started
        this.caps[i] = cap
        await this.waitIndexed(started)
      }
    }
    return this.running.slice(0, count) as BenchDaemon[]
  }

  /** Every running seeder paused (the raw baseline runs between the uncapped cases): they stay as warm. */
  pauseAll(): void {
    for (let i = 0; i < this.running.length; i++) this.pause(i)
  }

  async stopAll(): Promise<void> {
    for (let i = 0; i < this.running.length; i++) await this.stop(i)
  }

  /** Stops seeder i if it runs, paused or not. */
  private async stop(i: number): Promise<void> {
    const d = this.running[i]
    if (d === null) return
    this.resume(i) // a paused process would not hear the stop
    await this.params.stopDaemon(d)
    this.running[i] = null
  }

  private pause(i: number): void {
    const d = this.running[i]
    if (d === null || this.paused[i]) return
    process.kill(d.pid, 'SIGSTOP')
    this.paused[i] = true
  }

  private resume(i: number): void {
    const d = this.running[i]
    if (d === null || !this.paused[i]) return
    process.kill(d.pid, 'SIGCONT')
    this.paused[i] = false
  }

  private dirOf(i: number): string {
    return join(this.params.dir, `seeder-${i + 1}`)
  }

  /** A restarted daemon re-checks its cache: it serves what it has indexed. */
  private async waitIndexed(d: BenchDaemon): Promise<void> {
    const deadline = Date.now() + this.params.timeoutMs
    for (;;) {
      this.params.signal.throwIfAborted()
      const { indexing } = JSON.parse(await d.cli(['status', '--json'])) as { indexing: { state: string } }
      if (indexing.state === 'done') return
      if (indexing.state === 'failed') throw new Error(`seeder ${d.peerId}: indexing failed`)
      if (Date.now() > deadline)
        throw new Error(`seeder ${d.peerId}: not indexed in ${this.params.timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, INDEX_POLL_MS))
    }
  }
}
