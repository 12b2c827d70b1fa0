import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { diskFullOr } from '../../../src/node/pull/disk-full.ts'
import { formatError } from '../../../src/cli/errors.ts'

describe('disk full during a pull (issue 8)', () => {
  it('turns ENOSPC and EDQUOT into a DiskFullError the CLI prints as one line', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const err = Object.assign(new Error(`${code}: no space left on device, write`), { code })
      const mapped = diskFullOr(err, '/cache/hub') as Error
      assert.equal(mapped.name, 'DiskFullError')
      assert.match(formatError(mapped), /^disk full: .*\/cache\/hub; free some space and pull again/)
    }
  })

  it("turns SQLite's 'database or disk is full' into a DiskFullError", () => {
    const db = new DatabaseSync(':memory:')
    db.exec('CREATE TABLE t (x)')
    db.exec('PRAGMA max_page_count = 2')
    let err: unknown
    try {
      db.exec(`INSERT INTO t VALUES (randomblob(100000))`)
    } catch (e) {
      err = e
    }
    assert.equal((err as { errcode?: number }).errcode, 13, String(err))
    assert.equal((diskFullOr(err, '/cache/hub') as Error).name, 'DiskFullError')
  })

  it('leaves every other error as it is', () => {
    const other = Object.assign(new Error('gone'), { code: 'ENOENT' })
    assert.equal(diskFullOr(other, '/c'), other)
    assert.equal(diskFullOr('a string', '/c'), 'a string')
    assert.equal(diskFullOr(undefined, '/c'), undefined)
  })
})
