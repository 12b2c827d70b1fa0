import type { RepoRef } from '../../store/hf-cache/index.ts'
import type { HubConfig } from './hub-config.ts'
import { HubHttpError } from './hub-errors.ts'
import { hubRequest, type FetchLike } from './hub-request.ts'
import { resolvePath } from './hub-urls.ts'

export interface FetchHubRangeParams {
  config: HubConfig
  repo: RepoRef
  commit: string
  path: string
  /** Bytes [start, end) of the file. */
  start: number
  end: number
  fetch?: FetchLike
  signal?: AbortSignal
}

/** A byte range of one file from the Hub (the Hub acting as one more peer for chunks nobody else has). */
export async function fetchHubRange(params: FetchHubRangeParams): Promise<Uint8Array> {
  const { start, end } = params
  const what = `${params.repo.id}/${params.path}`
  const res = await hubRequest({
    config: params.config,
    url: resolvePath(params.repo, params.commit, params.path),
    headers: { range: `bytes=${start}-${end - 1}`, 'accept-encoding': 'identity' },
    what,
    fetch: params.fetch,
    signal: params.signal,
  })
  const body = new Uint8Array(await res.arrayBuffer())
  if (res.status === 206 && body.byteLength === end - start) return body
  if (res.status === 200 && body.byteLength >= end) return body.subarray(start, end)
  throw new HubHttpError(
    `${what}: asked for bytes ${start}-${end - 1}, got HTTP ${res.status} with ${body.byteLength} bytes`,
    502,
  )
}
