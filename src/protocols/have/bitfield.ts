/** Have-map bit order: chunk i is bit (i % 8), least significant first, of byte floor(i / 8). */

export function hasBit(bits: Uint8Array, i: number): boolean {
  return (bits[i >> 3] & (1 << (i & 7))) !== 0
}

export function setBit(bits: Uint8Array, i: number): void {
  bits[i >> 3] |= 1 << (i & 7)
}

export function bitfieldBytes(chunkCount: number): number {
  return Math.ceil(chunkCount / 8)
}

/** Whether any bit at or past `chunkCount` is set (a malformed map). */
export function hasBitsPast(bits: Uint8Array, chunkCount: number): boolean {
  const tail = chunkCount & 7
  return tail !== 0 && bits.byteLength > 0 && bits[bits.byteLength - 1] >> tail !== 0
}
