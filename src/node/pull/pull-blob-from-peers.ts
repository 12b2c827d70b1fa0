import { mkdir, open, rm, stat, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ChunkCache } from '../../store/chunk-cache/chunk-cache.ts'
import { etagKind, hashFileAsEtag } from '../../store/blob-etag.ts'
import { partsLength, type ByteParts } from '../../store/byte-parts.ts'
import { commitBlob, incompleteBlobPath, type RepoRef } from '../../store/hf-cache/index.ts'
import type { ShardIndex } from '../../store/index-db/shard-index.ts'
import { readChunk } from '../../store/read-chunk.ts'
import { chunkHash, hashToHex } from '../../store/xet/index.ts'
import type { BlobManifest } from '../../protocols/sources.ts'
import { BadChunkError, MAX_BATCH_SIZE } from '../../protocols/chunks/index.ts'
import { IntegrityError } from '../../protocols/hub/hub-errors.ts'
import { ChunkProgress } from './chunk-progress.ts'
import { recordPulledBlob } from './record-blob.ts'
import { ChunkWriter } from './chunk-writer.ts'
import { sharedWriteWorker, type WriteWorker } from './write-worker.ts'
import type { DownloadsInProgress } from './downloads-in-progress.ts'
import { scheduleChunks, type SchedulerOptions } from './chunk-scheduler.ts'
import { HaveMaps } from './have-maps.ts'
import { ChunksUnavailableError, NoManifestError, type PeerSource } from './peer-source.ts'

export interface PullBlobFromPeersParams {
  cacheDir: string
  repo: RepoRef
  etag: string
  size: number
  /** The Hub's xetHash for this blob, when known: a peer's manifest must match it. */
  xetHash: string | null
  peers: readonly PeerSource[]
  /** This node's peer id: with it, nodes pulling the blob at once split who fetches what (HaveMaps). */
  self?: string
  home: string
  index?: ShardIndex
  chunkCache?: ChunkCache
  /** Bytes [start, end) of the blob from the Hub, for chunks no peer has. */
  hubRange?: (start: number, end: number, signal?: AbortSignal) => Promise<Uint8Array>
  signal?: AbortSignal
  batchSize?: number
  window?: number
  onBytes?: (bytes: number, from: string) => void
  onPeerDropped?: (peerId: string, err: unknown) => void
  /** Waits before each chunk from a peer is written (a download rate cap). */
  beforeChunk?: (bytes: number) => Promise<void>
  /** Every chunk has been asked of a peer: only the tail is left (pullLargeFiles then starts the next file). */
  onAllAsked?: () => void
  /** Few chunks are left to ask of peers (the next file may get ready). */
  onNearlyAllAsked?: () => void
  /** Chunks are asked of peers only once this resolves (the file before is all asked). */
  mayFetch?: Promise<void>
  /** Chunks from the start of the blob first (someone streams it as it arrives); default a random start. */
  inOrder?: boolean
  /** Where the chunks verified so far are announced and served from while the blob is incomplete. */
  inProgress?: DownloadsInProgress
  /**
   * Where chunks from peers are checked (and written); default sharedWriteWorker(). Null checks each chunk
   * on arrival, on the event loop.
   */
  writeWorker?: WriteWorker | null
}

export interface PullBlobResult {
  manifest: BlobManifest
  /** Bytes received per peer id. */
  bytesByPeer: Record<string, number>
  bytesLocal: number
  bytesFromHub: number
  bytesResumed: number
}

/**
 * Assembles a blob from chunks: its manifest from a peer (checked against the Hub's xetHash when known),
 * chunks already on this disk copied locally, the rest spread over the peers, what nobody has from the Hub.
 * Every chunk is verified before it is written at its offsets; progress is persisted for resume; the whole
 * file is checked against its etag before it becomes `blobs/<etag>`.
 */
export async function pullBlobFromPeers(params: PullBlobFromPeersParams): Promise<PullBlobResult> {
  const { cacheDir, repo, etag, signal } = params
  const kind = etagKind(etag)
  if (kind === null) throw new IntegrityError(`not a blob etag: ${etag}`)
  // Started (the first time) while the manifest comes.
  const worker = params.writeWorker === undefined ? sharedWriteWorker() : params.writeWorker
  const manifest = await findManifest(params)
  const offsets: number[] = []
  let pos = 0
  for (const c of manifest.chunks) {
    offsets.push(pos)
    pos += c.length
  }
  const occurrences = new Map<string, number[]>()
  const keyAt: string[] = []
  manifest.chunks.forEach((c, i) => {
    const key = hashToHex(c.hash)
    keyAt.push(key)
    const list = occurrences.get(key)
    if (list === undefined) occurrences.set(key, [i])
    else list.push(i)
  })

  const result: PullBlobResult = {
    manifest,
    bytesByPeer: {},
    bytesLocal: 0,
    bytesFromHub: 0,
    bytesResumed: 0,
  }
  const incomplete = incompleteBlobPath(cacheDir, repo, etag)
  await mkdir(dirname(incomplete), { recursive: true })
  const progress = await ChunkProgress.load(
    params.home,
    etag,
    hashToHex(manifest.xetHash),
    manifest.chunks.length,
  )
  const existing = await stat(incomplete).catch(() => null)
  if (existing === null) progress.bits.fill(0)
  const fh = await open(incomplete, existing === null ? 'w+' : 'r+')
  let done = false
  // Chunks from peers come unchecked when the write worker runs: it checks them as it writes them. One that
  // does not match is asked again of the other peers, and the peer that sent it is dropped.
  const checkOnWrite = worker !== null && (await worker.started())
  const sentBy = new Map<string, PeerSource>()
  const refetch = new Map<string, Uint8Array>()
  const badPeers = new Set<string>()
  // A chunk counts as placed (for resume, and for the peers it is served to) once it is on disk and checked.
  const writer = new ChunkWriter(fh, {
    fileSize: manifest.size,
    worker: checkOnWrite ? worker : null,
    onWritten: (indices) => {
      for (const i of indices) progress.set(i)
      params.inProgress?.mark(etag, indices)
      void progress.save().catch(() => {})
    },
    onBad: (bad) => {
      for (const { tag, got } of bad) {
        const key = keyAt[tag]
        const { hash, length } = manifest.chunks[tag]
        if (refetch.has(key)) continue // another place of the same chunk
        refetch.set(key, hash)
        const peer = sentBy.get(key)
        if (peer === undefined) continue
        result.bytesByPeer[peer.id] -= length
        if (badPeers.has(peer.id)) continue
        badPeers.add(peer.id)
        params.onPeerDropped?.(peer.id, new BadChunkError(peer.id, hash, got))
      }
    },
  })
  try {
    await fh.truncate(manifest.size)
    params.inProgress?.begin(manifest, incomplete, progress.bits)
    /** Writes the chunk at each of its places; `expected` when it still has to be checked. */
    const place = async (key: string, data: ByteParts, expected: Uint8Array | null = null): Promise<void> => {
      for (const i of occurrences.get(key) ?? []) await writer.write(data, offsets[i], i, expected)
    }
    const fromPeer = async (
      hash: Uint8Array,
      data: ByteParts,
      peer: PeerSource,
      key: string,
    ): Promise<void> => {
      const length = partsLength(data)
      await params.beforeChunk?.(length)
      if (checkOnWrite) sentBy.set(key, peer)
      await place(key, data, checkOnWrite ? hash : null)
      result.bytesByPeer[peer.id] = (result.bytesByPeer[peer.id] ?? 0) + length
      params.onBytes?.(length, peer.id)
    }
    const dropped = (peer: PeerSource, err: unknown): void => params.onPeerDropped?.(peer.id, err)
    // How chunks are asked of peers, the first time and again.
    const asking: SchedulerOptions = {
      batchSize: params.batchSize ?? BATCH_SIZE,
      window: params.window ?? 4,
      maxFailures: 3,
      signal,
      verify: !checkOnWrite,
    }

    // Have-maps: which peer holds which chunk, growing while peers still download (rarest first). Asked
    // now, so that their round trips overlap the lookup of local chunks below.
    const subscribing = HaveMaps.subscribe(params.peers, etag, keyAt, occurrences, {
      // A reader streaming the blob wants it in order, not waiting for another node's share.
      self: params.inOrder === true ? undefined : params.self,
      signal,
    })
    subscribing.catch(() => {}) // awaited below; when something fails first, closed in finally
    let haves: HaveMaps | undefined
    let leftover: Map<string, Uint8Array>
    try {
      const wanted = new Map<string, Uint8Array>()
      // Which chunks other local blobs hold, in batched queries: one query per chunk cost ~0.1 s per GiB.
      const entries = [...occurrences]
      const located = params.index?.getChunkLocations(
        entries.map(([, indices]) => manifest.chunks[indices[0]].hash),
      )
      for (const [k, [key, indices]] of entries.entries()) {
        if (indices.every((i) => progress.has(i))) {
          result.bytesResumed += manifest.chunks[indices[0]].length * indices.length
          continue
        }
        const hash = manifest.chunks[indices[0]].hash
        const mayHave = located?.[k] != null || params.chunkCache?.has(hash) === true
        const local =
          params.index !== undefined && mayHave
            ? await readChunk({ index: params.index, cache: params.chunkCache, hash })
            : null
        if (local !== null && hashToHex(chunkHash(local)) === key) {
          await place(key, local)
          result.bytesLocal += local.byteLength * indices.length
        } else wanted.set(key, hash)
      }

      haves = await subscribing
      await params.mayFetch
      leftover = await scheduleChunks(
        wanted,
        params.peers,
        {
          ...asking,
          startAt: params.inOrder === true ? 0 : undefined,
          onAllAsked: params.onAllAsked,
          onNearlyAllAsked: params.onNearlyAllAsked,
        },
        fromPeer,
        dropped,
        haves.any ? haves : undefined,
      )
    } finally {
      if (haves !== undefined) haves.close()
      else
        void subscribing.then(
          (h) => h.close(),
          () => {},
        )
    }

    // Every verdict in: the chunks that did not match are asked again of the peers that sent none such.
    await writer.flush()
    for (let round = 1; refetch.size > 0; round++) {
      const again = new Map(refetch)
      refetch.clear()
      const peers = params.peers.filter((peer) => !badPeers.has(peer.id))
      if (round > MAX_REFETCH_ROUNDS || peers.length === 0) {
        for (const [key, hash] of again) leftover.set(key, hash)
        break
      }
      const left = await scheduleChunks(again, peers, asking, fromPeer, dropped)
      for (const [key, hash] of left) leftover.set(key, hash)
      await writer.flush()
    }

    if (leftover.size > 0) {
      if (params.hubRange === undefined) {
        throw new ChunksUnavailableError(
          `${repo.id}: ${leftover.size} chunks of blob ${etag} are on no reachable peer`,
        )
      }
      // Adjacent chunks go in one Range request (the Hub is slow per request, fast per byte).
      for (const run of contiguousRuns([...leftover.keys()], occurrences, offsets, manifest.chunks)) {
        const first = run[0]
        const last = run[run.length - 1]
        const data = await params.hubRange(
          offsets[first],
          offsets[last] + manifest.chunks[last].length,
          signal,
        )
        for (const i of run) {
          const piece = data.subarray(
            offsets[i] - offsets[first],
            offsets[i] - offsets[first] + manifest.chunks[i].length,
          )
          const key = hashToHex(manifest.chunks[i].hash)
          if (hashToHex(chunkHash(piece)) !== key)
            throw new IntegrityError(`${repo.id}: the Hub sent a bad chunk of ${etag}`)
          await place(key, piece)
          result.bytesFromHub += piece.byteLength
          params.onBytes?.(piece.byteLength, 'hub')
        }
      }
    }
    await writer.flush()
    await progress.save(true)

    // A manifest that matched the Hub's xetHash, with every chunk verified on arrival, proves the content;
    // without the Hub's word, or after a resume (chunks written by an earlier process), hash it whole.
    if (params.xetHash === null || result.bytesResumed > 0)
      await verifyWhole(fh, kind, manifest.size, etag, async () => {
        await fh.close().catch(() => {})
        await rm(incomplete, { force: true })
        await progress.drop()
      })
    await fh.close()
    // Not flushed first: see unsynced-blobs.ts.
    await commitBlob(cacheDir, repo, etag, incomplete, { deferFlushIn: params.home })
    await progress.drop()
    done = true
    if (params.index !== undefined) {
      await recordPulledBlob(
        params.index,
        cacheDir,
        repo,
        { etag, kind, size: manifest.size, xetHash: manifest.xetHash },
        manifest.chunks,
      )
    }
    params.inProgress?.end(etag, true)
    return result
  } finally {
    // Interrupted: keep what was verified for the next attempt.
    if (!done) await writer.flush().catch(() => {})
    if (!done) params.inProgress?.end(etag, false)
    await fh.close().catch(() => {})
    if (!done) await progress.save(true).catch(() => {})
  }
}

/**
 * Chunks asked of a peer in one request (the protocol's most): each request is a stream, and each stream
 * costs both ends a protocol negotiation (a round trip), a peer-store update and its setup and teardown.
 * Measured with pings to a seeding daemon on 127.0.0.1: 0.1-0.2 ms of its CPU for a ping on an open stream,
 * 0.7-0.8 ms for a ping on a stream of its own (a bare libp2p node with the same transport: 0.16-0.17 and
 * 1.1-1.5 ms). One warm seeder to a fresh leecher, 1 GiB, alternated with 32: 236-258 -> 247-273 MiB/s (4
 * of 4 pairs faster), seeder 2.3-3.0 -> 2.2-2.6 CPU-s.
 */
const BATCH_SIZE = MAX_BATCH_SIZE

/** Rounds of asking again for chunks that did not match, before what is left goes to the Hub. */
const MAX_REFETCH_ROUNDS = 3

/** Most bytes asked of the Hub in one Range request. */
const MAX_HUB_RUN = 16 * 1024 * 1024

/** Chunk indices (first occurrence of each wanted hash) grouped into runs of adjacent chunks. */
function contiguousRuns(
  keys: string[],
  occurrences: Map<string, number[]>,
  offsets: number[],
  chunks: readonly { length: number }[],
): number[][] {
  const indices = keys.map((k) => (occurrences.get(k) as number[])[0]).sort((a, b) => a - b)
  const runs: number[][] = []
  for (const i of indices) {
    const run = runs[runs.length - 1]
    const prev = run?.[run.length - 1]
    if (run !== undefined && prev === i - 1 && offsets[i] + chunks[i].length - offsets[run[0]] <= MAX_HUB_RUN)
      run.push(i)
    else runs.push([i])
  }
  return runs
}

async function findManifest(params: PullBlobFromPeersParams): Promise<BlobManifest> {
  const problems: string[] = []
  for (const peer of params.peers) {
    params.signal?.throwIfAborted()
    try {
      const m = await peer.fetchManifest(params.etag, { signal: params.signal })
      if (m === null) continue
      if (m.etag !== params.etag || m.size !== params.size) {
        problems.push(`${peer.id}: manifest for another blob`)
        continue
      }
      if (params.xetHash !== null && hashToHex(m.xetHash) !== params.xetHash) {
        problems.push(`${peer.id}: manifest does not match the Hub's xetHash`)
        params.onPeerDropped?.(peer.id, new IntegrityError('manifest does not match xetHash'))
        continue
      }
      return m
    } catch (err) {
      params.signal?.throwIfAborted()
      problems.push(`${peer.id}: ${(err as Error).message}`)
    }
  }
  const why = problems.length > 0 ? ` (${problems.join('; ')})` : ''
  throw new NoManifestError(`no peer has a manifest for blob ${params.etag}${why}`)
}

async function verifyWhole(
  fh: FileHandle,
  kind: 'sha256' | 'gitsha1',
  size: number,
  etag: string,
  onFail: () => Promise<void>,
): Promise<void> {
  const digest = await hashFileAsEtag(fh, kind, size)
  if (digest !== etag) {
    await onFail()
    throw new IntegrityError(`the assembled blob hashes to ${digest}, not its etag ${etag}; deleted it`)
  }
}
