import assert from 'node:assert/strict'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChunkProgress } from '../../../src/node/pull/chunk-progress.ts'

describe('ChunkProgress', () => {
  let home: string
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'hffs-progress-'))
  })
  afterEach(async () => {
    await rm(home, { recursive: true, force: true })
  })

  it('loads what it saved, for the same manifest only', async () => {
    const progress = await ChunkProgress.load(home, 'e1', 'x1', 20)
    for (const i of [0, 7, 19]) progress.set(i)
    await progress.save(true)
    const again = await ChunkProgress.load(home, 'e1', 'x1', 20)
    assert.deepEqual(
      Array.from({ length: 20 }, (_, i) => again.has(i)),
      Array.from({ length: 20 }, (_, i) => [0, 7, 19].includes(i)),
    )
    const other = await ChunkProgress.load(home, 'e1', 'x2', 20)
    assert.equal(
      other.bits.some((b) => b !== 0),
      false,
      'another manifest starts over',
    )
  })

  it('saves again after its folder went away, and a failed save stops no later one', async () => {
    const progress = await ChunkProgress.load(home, 'e1', 'x1', 8)
    progress.set(1)
    await progress.save(true)
    // The folder is gone, and a file stands where it was: this save fails...
    await rm(join(home, 'downloads'), { recursive: true })
    await rm(home, { recursive: true })
    await writeFile(home, 'not a folder')
    progress.set(2)
    await assert.rejects(progress.save(true))
    // ...and once the home is back, the next one makes the folder again.
    await rm(home)
    progress.set(3)
    await progress.save(true)
    assert.ok((await stat(progress.path)).isFile())
    const again = await ChunkProgress.load(home, 'e1', 'x1', 8)
    assert.deepEqual(
      [1, 2, 3].map((i) => again.has(i)),
      [true, true, true],
    )
  })
})
