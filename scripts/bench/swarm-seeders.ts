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
 * upload cap or without: the others are stopped, so that no leecher can find them (the DHT would).
 */
export class SeederPool {
  private readonly params: SeederPoolParams
  /** One per seeder prepared; null while stopped. */
  private readonly running: (BenchDaemon | null)[] = []
  /** The upload cap each running seeder was started with, bytes/s (0: none). */
  private readonly caps: number[] = []

  constructor(params: SeederPoolParams) {
    this.params = params
  }

  /** Seeders 1..count, each holding the repo (pulled from the Hub), uncapped and running. */
  async prepare(count: number): Promise<void> {
    for (let i = this.running.length; i < count; i++) {
      const d = await this.params.startDaemon(this.dirOf(i), [])
      this.running.push(d)
      this.caps.push(0)
      await d.cli(['model', 'add', this.params.repo.id, '--quiet'])
    }
  }

  /**
   * Seeders 1..count running with `--max-upload-rate cap` (0: uncapped), every other one stopped; with
   * `fresh`, each of them started anew.
   */
  async use(count: number, cap: number, fresh = false): Promise<BenchDaemon[]> {
    if (count > this.running.length)
      throw new Error(`${count} seeders wanted, ${this.running.length} prepared`)
    for (let i = 0; i < this.running.length; i++) {
      const d = this.running[i]
      const wanted = i < count
      if (d !== null && (!wanted || this.caps[i] !== cap || fresh)) {
        await this.params.stopDaemon(d)
        this.running[i] = null
      }
      if (wanted && this.running[i] === null) {
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

  async stopAll(): Promise<void> {
    await this.use(0, 0)
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
