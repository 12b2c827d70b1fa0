import { indexPath } from '../../node/home.ts'
import { pullSnapshot, type PullProgress, type PullResult } from '../../node/pull/pull-snapshot.ts'
import type { ModelAddRequest } from '../../node/swarm-extension.ts'
import { resolveHubCacheDir } from '../../store/hf-cache/index.ts'
import { ShardIndex } from '../../store/index-db/shard-index.ts'
import { describeSettled, settleUnsyncedBlobs } from '../../store/unsynced-blobs.ts'
import { initXet } from '../../store/xet/index.ts'

/** No daemon: straight from the Hub, in this process. */
export async function pullInProcess(
  home: string,
  request: ModelAddRequest,
  onProgress: (p: PullProgress) => void,
  signal: AbortSignal,
): Promise<PullResult> {
  await initXet()
  // Blobs an earlier run renamed into the cache before they were flushed: checked before any is trusted.
  for (const line of describeSettled(await settleUnsyncedBlobs(home))) console.error(`hffs-node: ${line}`)
  const index = ShardIndex.open(indexPath(home))
  try {
    return await pullSnapshot({
      config: request.hub,
      cacheDir: resolveHubCacheDir(),
      home,
      index,
      repo: request.repo,
      revision: request.revision,
      files: request.files,
      include: request.include,
      exclude: request.exclude,
      signal,
      onProgress,
    })
  } finally {
    index.close()
  }
}
