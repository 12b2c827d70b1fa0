import vectors from '../../fixtures/xet-vectors.json' with { type: 'json' }

/** xet-core's test vectors (chunking.rs, aggregated_hashes.rs, data_hash.rs), copied to the fixture. */
export const xetVectors = vectors

/** The 'triggering' data of case `padding`: the pattern then `padding` zero bytes, repeated to n bytes. */
export function triggeringData(padding: number): Uint8Array {
  const { pattern, n } = vectors.vectors.triggering
  const unit = new Uint8Array(pattern.length + padding)
  unit.set(pattern)
  const data = new Uint8Array(n)
  for (let at = 0; at < n; at += unit.length) data.set(unit.subarray(0, Math.min(unit.length, n - at)), at)
  return data
}

/** Stream offsets of the ends of consecutive chunks of these lengths. */
export function endsOf(chunks: readonly { length: number }[]): number[] {
  let end = 0
  return chunks.map((chunk) => (end += chunk.length))
}
