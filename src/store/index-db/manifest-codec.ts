import type { ChunkRef } from '../xet/index.ts'

/** Manifests are stored packed: per chunk 32 hash bytes then a u32 LE length. */
const ENTRY_BYTES = 36

export class ManifestFormatError extends Error {
  override name = 'ManifestFormatError'
}

export function encodeManifest(chunks: readonly ChunkRef[]): Uint8Array {
  const out = new Uint8Array(chunks.length * ENTRY_BYTES)
  const view = new DataView(out.buffer)
  chunks.forEach((c, i) => {
    out.set(c.hash, i * ENTRY_BYTES)
    view.setUint32(i * ENTRY_BYTES + 32, c.length, true)
  })
  return out
}

export function decodeManifest(packed: Uint8Array): ChunkRef[] {
  if (packed.byteLength % ENTRY_BYTES !== 0) {
    throw new ManifestFormatError(
      `manifest of ${packed.byteLength} bytes is not a multiple of ${ENTRY_BYTES}`,
    )
  }
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength)
  const chunks: ChunkRef[] = []
  for (let off = 0; off < packed.byteLength; off += ENTRY_BYTES) {
    chunks.push({ hash: packed.slice(off, off + 32), length: view.getUint32(off + 32, true) })
  }
  return chunks
}
