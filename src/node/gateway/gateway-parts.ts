import type { Logger } from '../logger.ts'
import type { BlobPulls } from './blob-pulls.ts'
import type { SnapshotKnowledge } from './known-snapshot.ts'
import type { ListingMemo } from './listing-memo.ts'
import type { RepoAccessBook } from './repo-access.ts'
import type { Upstream } from './upstream.ts'

/** What the gateway's routes share. */
export interface GatewayParts {
  /** The node's own HF cache, where pulled blobs land and complete ones are served from. */
  cacheDir: string
  home: string
  upstream: Upstream
  memo: ListingMemo
  knowledge: SnapshotKnowledge
  pulls: BlobPulls
  /** What the upstream showed of each repo's access, for answers made without it. */
  access: RepoAccessBook
  log: Logger
}
