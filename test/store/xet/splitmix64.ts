/** xet-core's test-data generator: SplitMix64 outputs as little-endian u64s, truncated to n bytes. */
export function splitmix64Bytes(n: number, seed: number | bigint): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8) * 8)
  const view = new DataView(out.buffer)
  const M = 0xffff_ffff_ffff_ffffn
  let state = BigInt(seed) & M
  for (let off = 0; off < out.length; off += 8) {
    state = (state + 0x9e3779b97f4a7c15n) & M
    let z = state
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M
    view.setBigUint64(off, z ^ (z >> 31n), true)
  }
  return out.subarray(0, n)
}
