import assert from 'node:assert/strict'
import { GearCandidateScanner } from '../../../src/store/xet/gear-scanner.ts'
import { GEAR_SCAN_SLICE } from '../../../src/store/xet/gear-scan-code.ts'
import { splitmix64Bytes } from './splitmix64.ts'
import { xetVectors } from './vectors.ts'

const table = xetVectors.gear_table_u64_hex.map((hex) => BigInt(hex))
const MASK = 0xffffn << 48n

/** Every position (from 63 on) whose 64-byte window gear-hashes to a candidate, one byte at a time. */
function referenceCandidates(data: Uint8Array): number[] {
  const out: number[] = []
  let h = 0n
  for (let i = 0; i < data.length; i++) {
    h = BigInt.asUintN(64, (h << 1n) + table[data[i]])
    if (i >= 63 && (h & MASK) === 0n) out.push(i)
  }
  return out
}

function scanInPieces(data: Uint8Array, sizes: number[]): number[] {
  const scanner = new GearCandidateScanner()
  const out: number[] = []
  let at = 0
  for (let k = 0; at < data.length; k++) {
    const piece = data.subarray(at, at + sizes[k % sizes.length])
    const base = at
    scanner.scan(piece, (i) => out.push(base + i))
    at += piece.length
  }
  return out.filter((i) => i >= 63)
}

describe('GearCandidateScanner', () => {
  // Candidates come about once per 64 KiB: 3 MiB has a few dozen, in both lanes and the byte-wise tail.
  const data = splitmix64Bytes(3 << 20, 11)
  const expected = referenceCandidates(data)

  it('finds the candidates of the spec hash, whatever the piece sizes (lanes, tails, history)', () => {
    assert.ok(expected.length > 20, `${expected.length} candidates`)
    const cases = [
      [data.length],
      [GEAR_SCAN_SLICE],
      [4093],
      [17, 63, 64, 65, 1000],
      [GEAR_SCAN_SLICE + 15, 7],
    ]
    for (const sizes of cases)
      assert.deepEqual(scanInPieces(data, sizes), expected, `pieces of ${sizes.join(', ')} bytes`)
  })

  it('reset() starts a new stream: the window forgets the bytes before it', () => {
    const scanner = new GearCandidateScanner()
    scanner.scan(data.subarray(0, 100_000), () => {})
    scanner.reset()
    const got: number[] = []
    const second = data.subarray(500_000, 800_000)
    scanner.scan(second, (i) => got.push(i))
    assert.deepEqual(
      got.filter((i) => i >= 63),
      referenceCandidates(second),
    )
  })
})
