import { stat } from 'node:fs/promises'
import { blobPath, type RepoRef } from '../../store/hf-cache/index.ts'
import type { BlobRecord, ShardIndex } from '../../store/index-db/shard-index.ts'
import type { ChunkRef } from '../../store/xet/index.ts'

/**
 * Records a blob just verified and committed to the cache: its manifest, and its file as one to serve its
 * chunks from (with the size and mtime it has now, so a later change to the file is noticed).
 */
export async function recordPulledBlob(
  index: ShardIndex,
  cacheDir: string,
  repo: RepoRef,
  blob: BlobRecord,
  manifest: readonly ChunkRef[],
): Promise<void> {
  index.putVerifiedBlob(blob, manifest)
  const path = blobPath(cacheDir, repo, blob.etag)
  const st = await stat(path)
  index.putBlobFile({
    path,
    etag: blob.etag,
    repoType: repo.type,
    repoId: repo.id,
    size: st.size,
    mtimeMs: st.mtimeMs,
    status: 'ok',
    error: null,
  })
}
