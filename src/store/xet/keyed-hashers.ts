import { DATA_KEY, FILE_HASH_KEY, INTERNAL_NODE_KEY } from './constants.ts'
import { XetNotInitializedError } from './errors.ts'
import { createKeyedBlake3, type KeyedBlake3 } from './keyed-blake3.ts'
import type { ByteParts } from '../byte-parts.ts'

/** One BLAKE3 instance per Xet key: every Xet hash is a keyed BLAKE3 of 32 bytes. */
export interface KeyedHashers {
  data: KeyedBlake3
  internalNode: KeyedBlake3
  file: KeyedBlake3
}

let hashers: KeyedHashers | undefined
let loading: Promise<void> | undefined

/** Loads the BLAKE3 wasm. Idempotent; the sync hash functions need it to have resolved. */
export function initXet(): Promise<void> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined
    throw err
  })
  return loading
}

async function load(): Promise<void> {
  const [data, internalNode, file] = await Promise.all([
    createKeyedBlake3(DATA_KEY),
    createKeyedBlake3(INTERNAL_NODE_KEY),
    createKeyedBlake3(FILE_HASH_KEY),
  ])
  hashers = { data, internalNode, file }
}

export function keyedHashers(): KeyedHashers {
  if (hashers === undefined) throw new XetNotInitializedError()
  return hashers
}

/** The Xet chunk hash: BLAKE3 keyed with DATA_KEY, of one array or of the pieces a chunk came in. */
export function chunkHash(data: ByteParts): Uint8Array {
  const hasher = keyedHashers().data
  return data instanceof Uint8Array ? hasher.digest(data) : hasher.digestParts(data)
}
