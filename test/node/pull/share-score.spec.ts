import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { shareScore } from '../../../src/node/pull/have-maps.ts'

/** How many of `shares` shares each peer owns (the lowest score owns a share). */
function owned(peers: string[], shares: number): Map<string, number> {
  const counts = new Map(peers.map((p) => [p, 0]))
  for (let share = 0; share < shares; share++) {
    let owner = peers[0]
    for (const p of peers) if (shareScore(p, share) < shareScore(owner, share)) owner = p
    counts.set(owner, (counts.get(owner) as number) + 1)
  }
  return counts
}

describe('shareScore (who fetches which share of a blob pulled by several nodes at once)', () => {
  it('splits the shares of a small blob among peers with one-letter ids', () => {
    // 9 shares among x, y and z: FNV-1a gave x all 9.
    for (const [peer, n] of owned(['x', 'y', 'z'], 9)) assert.ok(n >= 1, `${peer} owns ${n} of 9 shares`)
  })

  it('splits the 512 shares of a 1 GiB blob about evenly among real peer ids', () => {
    for (let round = 0; round < 5; round++) {
      const peers = Array.from({ length: 4 }, () => `12D3KooW${randomBytes(33).toString('base64url')}`)
      // Binomial(512, 1/4): mean 128, sd 9.8; these bounds are over 4.5 sd away. FNV-1a gave 27 to 179.
      for (const [peer, n] of owned(peers, 512)) assert.ok(n > 84 && n < 172, `${peer} owns ${n} of 512`)
    }
  })

  it('is the same on every node: a pure function of the peer id and the share', () => {
    assert.equal(shareScore('12D3KooWabc', 7), shareScore('12D3KooWabc', 7))
    assert.notEqual(shareScore('12D3KooWabc', 7), shareScore('12D3KooWabc', 8))
    assert.ok(Number.isSafeInteger(shareScore('12D3KooWabc', 7)))
  })
})
