import { etagKind } from '../../store/blob-etag.ts'
import { downloadBlob } from '../../protocols/hub/download-blob.ts'
import type { RemoteFile } from '../../protocols/hub/fetch-snapshot.ts'
import { IntegrityError } from '../../protocols/hub/hub-errors.ts'
import type { FileJob } from './pull-large-files.ts'
import type { PulledFile, PullResult, PullSnapshotParams } from './pull-snapshot.ts'
import { recordPulledBlob } from './record-blob.ts'

/**
 * A blob no peer has a manifest for, whole from the Hub (parallel Range requests, chunked and verified as
 * it arrives); its manifest and file go into the index so that peers can pull it from this node.
 */
export async function fetchWholeFromHub(
  params: PullSnapshotParams,
  commit: string,
  file: RemoteFile,
  job: FileJob,
  onBytes: (n: number) => void,
  result: PullResult,
): Promise<PulledFile['source']> {
  const got = await downloadWithRetry(params, commit, file, job, onBytes)
  result.bytesFetched += got.bytesFetched
  result.bytesFromHub += got.bytesFetched
  if (params.index !== undefined) {
    await recordPulledBlob(
      params.index,
      params.cacheDir,
      params.repo,
      { etag: file.etag, kind: etagKind(file.etag) ?? 'sha256', size: file.size, xetHash: got.xetHash },
      got.chunks,
    )
  }
  return 'hub'
}

/** A blob that fails its hash is deleted; it is fetched once more before the error reaches the user. */
async function downloadWithRetry(
  params: PullSnapshotParams,
  commit: string,
  file: RemoteFile,
  job: FileJob,
  onBytes: (n: number) => void,
): ReturnType<typeof downloadBlob> {
  const args = {
    config: params.config,
    repo: params.repo,
    commit,
    file,
    cacheDir: params.cacheDir,
    home: params.home,
    verifier: job.verifier,
    onFetched: job.onFetched,
    connections: params.connections,
    partSize: params.partSize,
    fetch: params.fetch,
    signal: params.signal,
    onBytes,
  }
  try {
    return await downloadBlob(args)
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err
    return await downloadBlob(args)
  }
}
