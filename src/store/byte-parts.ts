/**
 * Bytes as one array, or as the pieces they arrived in: views of the transport's buffers, in order. A chunk
 * from a peer spans two or more decrypted messages about half the time; kept in pieces, it is hashed and
 * copied into the blob's write buffer without first being joined (a copy and an allocation per chunk).
 */
export type ByteParts = Uint8Array | readonly Uint8Array[]

export function partsLength(bytes: ByteParts): number {
  if (bytes instanceof Uint8Array) return bytes.byteLength
  let n = 0
  for (const part of bytes) n += part.byteLength
  return n
}

/** The bytes in one array: `bytes` itself, or its only piece, or the pieces copied together. */
export function joinParts(bytes: ByteParts): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes
  if (bytes.length === 1) return bytes[0]
  const out = new Uint8Array(partsLength(bytes))
  copyParts(bytes, out, 0)
  return out
}

/** Copies the bytes into `target` at `offset`; returns how many. */
export function copyParts(bytes: ByteParts, target: Uint8Array, offset: number): number {
  if (bytes instanceof Uint8Array) {
    target.set(bytes, offset)
    return bytes.byteLength
  }
  let at = offset
  for (const part of bytes) {
    target.set(part, at)
    at += part.byteLength
  }
  return at - offset
}
