import {
  REPO_TYPES,
  isCommitHash,
  isEtag,
  validateRefName,
  validateRepoId,
} from '../../store/hf-cache/index.ts'
import { decodeManifest, encodeManifest } from '../../store/index-db/manifest-codec.ts'
import { HASH_BYTES } from '../../store/xet/index.ts'
import { ProtocolError } from '../wire/errors.ts'
import { Message, encodeMessage } from '../wire/message.ts'
import { MANIFEST_ENTRY_BYTES, MANIFEST_PAGE_CHUNKS, MAX_LISTING_PATH_LENGTH } from './constants.ts'
import type { BlobManifest, RepoKind, SnapshotEntry, SnapshotListing } from '../sources.ts'
import type { ChunkRef } from '../../store/xet/index.ts'

/**
 * Messages of /hffs/manifest/1.0.0, each one CBOR map in one length-prefixed frame. One request per stream:
 *   → {type:'snapshot', repoType, repoId, revision}   ← {type:'snapshot', commit, files:[{path, etag, size, xetHash}]}
 *   → {type:'manifest', etag}                          ← {type:'manifest', etag, size, xetHash, chunkCount}
 *                                                        then ceil(chunkCount / 16384) × {type:'chunks', packed}
 * and ← {type:'not-found'} for either. `packed` is 36 bytes per chunk: hash, then u32 LE length.
 */

export type ManifestRequest =
  | { type: 'snapshot'; repoType: RepoKind; repoId: string; revision: string }
  | { type: 'manifest'; etag: string }

/** The first message of a manifest answer; the chunks follow in pages. */
export interface ManifestHeader {
  etag: string
  size: number
  xetHash: Uint8Array
  chunkCount: number
}

const XET_HASH_HEX = /^[0-9a-f]{64}$/
const NOT_FOUND = 'not-found'

export function encodeRequest(request: ManifestRequest): Uint8Array {
  return encodeMessage({ ...request })
}

export function decodeRequest(bytes: Uint8Array): ManifestRequest {
  const msg = Message.decode(bytes, 'manifest request')
  const type = msg.type
  if (type === 'manifest') {
    const etag = msg.expectKeys('type', 'etag').string('etag', 64)
    if (!isEtag(etag)) throw new ProtocolError('manifest request: not an etag')
    return { type, etag }
  }
  if (type !== 'snapshot') throw new ProtocolError(`manifest request: unknown type ${JSON.stringify(type)}`)
  msg.expectKeys('type', 'repoType', 'repoId', 'revision')
  const repoType = msg.string('repoType', 16) as RepoKind
  if (!REPO_TYPES.includes(repoType)) throw new ProtocolError('snapshot request: unknown repo type')
  const repoId = msg.string('repoId', 256)
  const revision = msg.string('revision', 256)
  try {
    validateRepoId(repoId)
    validateRefName(revision)
  } catch (err) {
    throw new ProtocolError(`snapshot request: ${(err as Error).message}`)
  }
  return { type, repoType, repoId, revision }
}

export function encodeNotFound(): Uint8Array {
  return encodeMessage({ type: NOT_FOUND })
}

export function encodeListing(listing: SnapshotListing): Uint8Array {
  const files = listing.files.map(({ path, etag, size, xetHash }) => ({ path, etag, size, xetHash }))
  return encodeMessage({ type: 'snapshot', commit: listing.commit, files })
}

/** The listing, or null when the peer answered not-found. Paths come back unchecked: the caller validates them. */
export function decodeListing(bytes: Uint8Array, maxFiles: number): SnapshotListing | null {
  const msg = Message.decode(bytes, 'snapshot answer')
  if (msg.type === NOT_FOUND) {
    msg.expectKeys('type')
    return null
  }
  if (msg.type !== 'snapshot') throw new ProtocolError(`snapshot answer: unexpected type ${msg.type}`)
  const commit = msg.expectKeys('type', 'commit', 'files').string('commit', 40)
  if (!isCommitHash(commit)) throw new ProtocolError('snapshot answer: commit is not 40 hex digits')
  const files = msg.array('files', maxFiles).map((item, i) => decodeEntry(Message.of(item, `file ${i}`)))
  return { commit, files }
}

function decodeEntry(msg: Message): SnapshotEntry {
  msg.expectKeys('path', 'etag', 'size', 'xetHash')
  const path = msg.string('path', MAX_LISTING_PATH_LENGTH)
  const etag = msg.string('etag', 64)
  if (!isEtag(etag)) throw new ProtocolError(`${msg.what}: etag is not 40 or 64 hex digits`)
  const size = msg.uint('size')
  const xetHash = msg.stringOrNull('xetHash', 64)
  if (xetHash !== null && !XET_HASH_HEX.test(xetHash)) {
    throw new ProtocolError(`${msg.what}: xetHash is not 64 hex digits`)
  }
  return { path, etag, size, xetHash }
}

export function encodeManifestHeader(manifest: BlobManifest): Uint8Array {
  const { etag, size, xetHash } = manifest
  return encodeMessage({ type: 'manifest', etag, size, xetHash, chunkCount: manifest.chunks.length })
}

/** The header, or null when the peer answered not-found. */
export function decodeManifestHeader(bytes: Uint8Array, maxChunks: number): ManifestHeader | null {
  const msg = Message.decode(bytes, 'manifest answer')
  if (msg.type === NOT_FOUND) {
    msg.expectKeys('type')
    return null
  }
  if (msg.type !== 'manifest') throw new ProtocolError(`manifest answer: unexpected type ${msg.type}`)
  msg.expectKeys('type', 'etag', 'size', 'xetHash', 'chunkCount')
  const etag = msg.string('etag', 64)
  const xetHash = msg.bytes('xetHash', HASH_BYTES)
  if (xetHash.byteLength !== HASH_BYTES) throw new ProtocolError('manifest answer: xetHash is not 32 bytes')
  return { etag, size: msg.uint('size'), xetHash, chunkCount: msg.uint('chunkCount', maxChunks) }
}

export function encodeManifestPage(chunks: readonly ChunkRef[]): Uint8Array {
  return encodeMessage({ type: 'chunks', packed: encodeManifest(chunks) })
}

export function decodeManifestPage(bytes: Uint8Array): ChunkRef[] {
  const msg = Message.decode(bytes, 'manifest page')
  if (msg.type !== 'chunks') throw new ProtocolError(`manifest page: unexpected type ${msg.type}`)
  const packed = msg.expectKeys('type', 'packed').bytes('packed', MANIFEST_PAGE_CHUNKS * MANIFEST_ENTRY_BYTES)
  if (packed.byteLength === 0 || packed.byteLength % MANIFEST_ENTRY_BYTES !== 0) {
    throw new ProtocolError(`manifest page: ${packed.byteLength} bytes is not a whole number of entries`)
  }
  return decodeManifest(packed)
}

/** Frame size bound for reading one manifest page (the packed entries plus the CBOR around them). */
export const MAX_PAGE_MESSAGE_BYTES = MANIFEST_PAGE_CHUNKS * MANIFEST_ENTRY_BYTES + 64
