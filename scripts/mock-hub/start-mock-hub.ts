import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { CdnSigner } from './cdn-signer.ts'
import { DEFAULT_HOST } from './constants.ts'
import type { HubContext } from './context.ts'
import { dispatch } from './dispatch.ts'
import { FaultBook } from './faults.ts'
import { FileHashCache } from './file-hashes.ts'
import { resolveKnobs, type Fault, type MockHubKnobs, type MockHubOptions } from './options.ts'
import { RateLimiter } from './rate-limiter.ts'
import { RepoStore } from './repo-store.ts'
import { StatsRecorder, type MockHubStats } from './stats.ts'

export interface MockHub {
  /** `http://127.0.0.1:PORT`, no trailing slash: the `hubUrl` / `HF_ENDPOINT` to use. */
  readonly url: string
  readonly port: number
  /** File-content bytes served and request counts since start or the last reset. */
  stats(): MockHubStats
  resetStats(): void
  /** Changes knobs while running; the ones not given keep their value. `faults` replaces the list. */
  setOptions(partial: MockHubKnobs): void
  /** Faults still armed (counts go down as they fire). */
  faults(): Fault[]
  /** Hashes every branch of every repo now (with Xet hashes unless `xet: false`). */
  warm(options?: { xet?: boolean }): Promise<void>
  /** Forgets scanned branch folders, so that changes on disk show at once. */
  rescan(): void
  /** Stops listening, drops every connection and timer. Safe to call twice. */
  close(): Promise<void>
}

/** Starts a mock of the Hub's download protocol over the repos under `options.root`. */
export async function startMockHub(options: MockHubOptions): Promise<MockHub> {
  let knobs = resolveKnobs(options)
  const hashes = new FileHashCache()
  const faults = new FaultBook()
  faults.set(knobs.faults)
  const limiter = new RateLimiter(knobs.rateBytesPerSec)
  const stats = new StatsRecorder()
  const store = new RepoStore({ root: resolve(options.root), hashes, scanTtlMs: () => knobs.scanTtlMs })
  const host = options.host ?? DEFAULT_HOST
  let url = ''
  const ctx: HubContext = {
    store,
    hashes,
    knobs: () => knobs,
    setKnobs: (partial) => setOptions(partial),
    limiter,
    faults,
    stats,
    cdn: new CdnSigner(),
    url: () => url,
  }

  const setOptions = (partial: MockHubKnobs): void => {
    knobs = resolveKnobs(partial, knobs)
    if (partial.faults) faults.set(knobs.faults)
    limiter.setRate(knobs.rateBytesPerSec)
  }

  const shutdown = new AbortController()
  const inFlight = new Set<Promise<void>>()
  const log = options.log ?? (() => {})
  const server = createServer((req, res) => {
    const p = dispatch(ctx, req, res, shutdown.signal, log)
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
  })
  server.listen(options.port ?? 0, host)
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  let closing: Promise<void> | undefined
  return {
    url,
    port,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setOptions,
    faults: () => faults.list(),
    warm: (o) => store.warm(o?.xet ?? true),
    rescan: () => store.rescan(),
    close() {
      closing ??= (async () => {
        shutdown.abort(new Error('mock hub closed'))
        limiter.close()
        hashes.close()
        const closed = once(server, 'close')
        server.close()
        server.closeAllConnections()
        await closed
        await Promise.allSettled([...inFlight])
      })()
      return closing
    },
  }
}
