import { xetVectors } from './vectors.ts'

const table = xetVectors.gear_table_u64_hex.map((hex) => BigInt(hex))
const TABLE_HI = Uint32Array.from(table, (v) => Number(v >> 32n))
const TABLE_LO = Uint32Array.from(table, (v) => Number(v & 0xffff_ffffn))

/**
 * The chunker exactly as the spec states it (hub-docs chunking.md, xet-core after #487): one byte
 * at a time from the chunk start, no skip-ahead, the 64-bit gear hash as two 32-bit halves.
 */
export function referenceBoundaries(data: Uint8Array): number[] {
  const { min, max } = xetVectors.chunking
  const ends: number[] = []
  let hi = 0
  let lo = 0
  let start = 0
  for (let i = 0; i < data.length; i++) {
    hi = ((hi << 1) | (lo >>> 31)) >>> 0
    const sum = ((lo << 1) >>> 0) + TABLE_LO[data[i]]
    lo = sum >>> 0
    hi = (hi + TABLE_HI[data[i]] + (sum > 0xffff_ffff ? 1 : 0)) >>> 0
    const size = i + 1 - start
    if (size < min) continue
    if (size >= max || hi >>> 16 === 0) {
      ends.push(i + 1)
      start = i + 1
      hi = lo = 0
    }
  }
  if (start < data.length) ends.push(data.length)
  return ends
}
