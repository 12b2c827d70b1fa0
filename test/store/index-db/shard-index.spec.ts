import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { decodeManifest, encodeManifest } from '../../../src/store/index-db/manifest-codec.ts'
import { ShardIndex } from '../../../src/store/index-db/shard-index.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

/** `count` chunks of random hashes, chunk i `lengthOf(i)` bytes long. */
function randomChunks(
  count: number,
  lengthOf: (i: number) => number,
): { hash: Uint8Array; length: number }[] {
  return Array.from({ length: count }, (_, i) => ({
    hash: new Uint8Array(randomBytes(32)),
    length: lengthOf(i),
  }))
}

describe('ShardIndex', () => {
  const tmp = useTmpDir()

  it('round-trips manifests and refuses a malformed one', () => {
    const chunks = randomChunks(5, (i) => 1000 * i)
    assert.deepEqual(decodeManifest(encodeManifest(chunks)), chunks)
    assert.throws(() => decodeManifest(new Uint8Array(35)), { name: 'ManifestFormatError' })
  })

  it('passes on the error of a transaction that SQLite already rolled back (a full disk does)', () => {
    const index = ShardIndex.open(':memory:')
    const db = (index as unknown as { db: DatabaseSync }).db
    const full = Object.assign(new Error('database or disk is full'), { errcode: 13 })
    assert.throws(
      () =>
        index.transaction(() => {
          index.setMeta('k', 'v')
          db.exec('ROLLBACK') // what SQLite does by itself on SQLITE_FULL
          throw full
        }),
      (err) => err === full,
    )
    assert.equal(index.getMeta('k'), null)
    index.setMeta('k', 'w') // the index is still usable
    assert.equal(index.getMeta('k'), 'w')
  })

  it('persists blobs, chunk locations, snapshots and refs across a reopen', () => {
    const path = join(tmp(), 'index.sqlite')
    const etag = 'a'.repeat(64)
    const manifest = [
      { hash: new Uint8Array(32).fill(1), length: 10 },
      { hash: new Uint8Array(32).fill(2), length: 20 },
    ]
    let index = ShardIndex.open(path)
    index.putVerifiedBlob({ etag, kind: 'sha256', size: 30, xetHash: new Uint8Array(32).fill(9) }, manifest)
    index.putSnapshot('model', 'org/m', 'c'.repeat(40), [{ path: 'w.bin', etag, size: 30 }])
    index.putRef('model', 'org/m', 'main', 'c'.repeat(40))
    index.close()
    index.close() // harmless twice
    index = ShardIndex.open(path)
    try {
      assert.deepEqual(index.getChunkLocation(manifest[1].hash), { etag, offset: 10, length: 20 })
      assert.deepEqual(index.getManifest(etag), manifest)
      assert.deepEqual(index.getSnapshot('model', 'org/m', 'c'.repeat(40)), [
        { path: 'w.bin', etag, size: 30 },
      ])
      assert.equal(index.getRef('model', 'org/m', 'main'), 'c'.repeat(40))
      assert.equal(index.getRef('model', 'org/m', 'dev'), null)
    } finally {
      index.close()
    }
  })

  it('records every chunk at its offset, in any hash order, a repeated chunk at its first offset', () => {
    const index = ShardIndex.open(join(tmp(), 'index.sqlite'))
    try {
      const etag = 'd'.repeat(64)
      // 200 chunks of random hashes (not in hash order), with chunk 7 repeated at 150
      const manifest = randomChunks(200, (i) => 100 + i)
      manifest[150] = { hash: manifest[7].hash, length: manifest[7].length }
      index.putVerifiedBlob({ etag, kind: 'sha256', size: 0, xetHash: new Uint8Array(32) }, manifest)
      let offset = 0
      const offsets = manifest.map((c) => {
        const at = offset
        offset += c.length
        return at
      })
      for (const [i, c] of manifest.entries()) {
        const at = i === 150 ? offsets[7] : offsets[i]
        assert.deepEqual(index.getChunkLocation(c.hash), { etag, offset: at, length: c.length }, `chunk ${i}`)
      }
    } finally {
      index.close()
    }
  })

  it('looks up a batch of chunk locations in order, unknown and repeated hashes included', () => {
    const index = ShardIndex.open(join(tmp(), 'index.sqlite'))
    try {
      const etag = 'b'.repeat(64)
      const manifest = randomChunks(100, (i) => 1000 + i)
      const size = manifest.reduce((n, c) => n + c.length, 0)
      index.putVerifiedBlob({ etag, kind: 'sha256', size, xetHash: new Uint8Array(32) }, manifest)
      // Recorded in statements of 64 rows and a shorter last one: every chunk at its own offset.
      let offset = 0
      for (const [i, c] of manifest.entries()) {
        assert.deepEqual(index.getChunkLocation(c.hash), { etag, offset, length: c.length }, `chunk ${i}`)
        offset += c.length
      }
      const unknown = new Uint8Array(randomBytes(32))
      // More than one query's worth (64), in a shuffled order, with an unknown hash and a repeat.
      const asked = [...manifest.map((c) => c.hash).reverse(), unknown, manifest[3].hash]
      const got = index.getChunkLocations(asked)
      assert.equal(got.length, asked.length)
      assert.deepEqual(
        got,
        asked.map((h) => index.getChunkLocation(h)),
      )
      assert.equal(got[100], null)
      assert.deepEqual(got[101], { etag, offset: 3000 + 1 + 2, length: 1003 })
    } finally {
      index.close()
    }
  })

  it('answers from memory what it answered before, and forgets it when a blob or blob file changes', () => {
    const index = ShardIndex.open(join(tmp(), 'index.sqlite'))
    const db = (index as unknown as { db: DatabaseSync }).db
    try {
      const etag = 'c'.repeat(64)
      const manifest = Array.from({ length: 10 }, (_, i) => ({
        hash: new Uint8Array(32).fill(i + 1),
        length: 100,
      }))
      index.putVerifiedBlob({ etag, kind: 'sha256', size: 1000, xetHash: new Uint8Array(32) }, manifest)
      const file = (path: string) =>
        ({
          path,
          etag,
          repoType: 'model',
          repoId: 'org/m',
          size: 1000,
          mtimeMs: 1,
          status: 'ok',
          error: null,
        }) as const
      index.putBlobFile(file('/a'))
      const hashes = manifest.map((c) => c.hash)
      const first = index.getChunkLocations(hashes.slice(0, 2))
      assert.deepEqual(first[1], { etag, offset: 100, length: 100 })
      assert.deepEqual(
        index.verifiedFilesOf(etag).map((f) => f.path),
        ['/a'],
      )
      // Rows changed behind its back (no other writer does this) are not seen: the whole blob was loaded
      // with its first chunk, and the files of the blob are kept.
      db.exec('DELETE FROM chunk_locations; DELETE FROM blob_files;')
      assert.deepEqual(index.getChunkLocations([hashes[9]]), [{ etag, offset: 900, length: 100 }])
      assert.deepEqual(index.getChunkLocation(hashes[8]), { etag, offset: 800, length: 100 })
      assert.equal(index.verifiedFilesOf(etag).length, 1)
      // Its own writes drop what it kept.
      index.putBlobFile(file('/b'))
      assert.deepEqual(index.getChunkLocations([hashes[9]]), [null])
      assert.equal(index.getChunkLocation(hashes[8]), null)
      assert.deepEqual(
        index.verifiedFilesOf(etag).map((f) => f.path),
        ['/b'],
      )
      index.removeBlobFile('/b')
      assert.deepEqual(index.verifiedFilesOf(etag), [])
    } finally {
      index.close()
    }
  })

  it('rebuilds an index written by another schema version instead of misreading it', () => {
    const path = join(tmp(), 'index.sqlite')
    const index = ShardIndex.open(path)
    index.putRef('model', 'org/m', 'main', 'c'.repeat(40))
    index.close()
    const raw = new DatabaseSync(path)
    raw.exec("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    raw.close()
    const reopened = ShardIndex.open(path)
    try {
      assert.equal(reopened.getRef('model', 'org/m', 'main'), null)
    } finally {
      reopened.close()
    }
  })
})
