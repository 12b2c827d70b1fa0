import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Caller } from './auth.ts'
import type { CdnSigner } from './cdn-signer.ts'
import type { FaultBook } from './faults.ts'
import type { FileHashCache } from './file-hashes.ts'
import type { MockHubKnobs, ResolvedKnobs } from './options.ts'
import type { RateLimiter } from './rate-limiter.ts'
import type { Repo, RepoStore } from './repo-store.ts'
import type { RepoRoute } from './routes.ts'
import type { StatsRecorder } from './stats.ts'

/** What the request handlers share; built once per hub by `startMockHub`. */
export interface HubContext {
  store: RepoStore
  hashes: FileHashCache
  knobs(): ResolvedKnobs
  /** Changes knobs at run time (`MockHub.setOptions`). */
  setKnobs(partial: MockHubKnobs): void
  limiter: RateLimiter
  faults: FaultBook
  stats: StatsRecorder
  cdn: CdnSigner
  /** The hub's own URL, for requests without a usable Host header. */
  url(): string
}

/** A request on an existing repo that the caller may see. */
export interface RepoRequest {
  ctx: HubContext
  req: IncomingMessage
  res: ServerResponse
  url: URL
  route: RepoRoute
  repo: Repo
  caller: Caller
  /** Aborted when the client goes away or the hub closes. */
  signal: AbortSignal
}
