import assert from 'node:assert/strict'
import { parseByteRange } from '../../../src/node/gateway/byte-range.ts'
import { parseRepoPath } from '../../../src/node/gateway/repo-path.ts'

describe('gateway: request paths and ranges', () => {
  it('reads org/name and name repo ids, encoded and unencoded PR revisions, file paths', () => {
    const resolve = (path: string, skip: number, idLength: 1 | 2, type: 'model' | 'dataset' = 'model') =>
      parseRepoPath({ path, type, skip, idLength, needsRevision: true })
    assert.deepEqual(resolve('/org/m/resolve/main/sub%20dir/a.json', 0, 2), {
      repo: { type: 'model', id: 'org/m' },
      revision: 'main',
      rest: 'sub dir/a.json',
    })
    assert.deepEqual(resolve('/gpt2/resolve/refs%2Fpr%2F1/config.json', 0, 1), {
      repo: { type: 'model', id: 'gpt2' },
      revision: 'refs/pr/1',
      rest: 'config.json',
    })
    assert.deepEqual(resolve('/datasets/org/d/resolve/refs/pr/12/data/x.parquet', 1, 2, 'dataset'), {
      repo: { type: 'dataset', id: 'org/d' },
      revision: 'refs/pr/12',
      rest: 'data/x.parquet',
    })
    const tree = parseRepoPath({
      path: '/api/models/org/m/tree/abc/sub',
      type: 'model',
      skip: 2,
      idLength: 2,
      needsRevision: true,
    })
    assert.deepEqual(tree, { repo: { type: 'model', id: 'org/m' }, revision: 'abc', rest: 'sub' })
    const info = parseRepoPath({
      path: '/api/models/org/m',
      type: 'model',
      skip: 2,
      idLength: 2,
      needsRevision: false,
    })
    assert.equal(info.revision, 'main')
  })

  it('refuses bad repo ids and a missing revision with named errors', () => {
    assert.throws(
      () =>
        parseRepoPath({
          path: '/a--b/c/resolve/main/x',
          type: 'model',
          skip: 0,
          idLength: 2,
          needsRevision: true,
        }),
      { name: 'InvalidRepoIdError' },
    )
    assert.throws(
      () =>
        parseRepoPath({ path: '/org/m/resolve', type: 'model', skip: 0, idLength: 2, needsRevision: true }),
      (err: Error & { status?: number }) => err.name === 'GatewayError' && err.status === 400,
    )
  })

  it('parses one byte range as RFC 9110 says; anything else means the whole file', () => {
    assert.deepEqual(parseByteRange(undefined, 10), { kind: 'full' })
    assert.deepEqual(parseByteRange('bytes=0-0', 10), { kind: 'partial', start: 0, end: 0 })
    assert.deepEqual(parseByteRange('bytes=4-', 10), { kind: 'partial', start: 4, end: 9 })
    assert.deepEqual(parseByteRange('bytes=4-100', 10), { kind: 'partial', start: 4, end: 9 })
    assert.deepEqual(parseByteRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 })
    assert.deepEqual(parseByteRange('bytes=10-', 10), { kind: 'unsatisfiable' })
    assert.deepEqual(parseByteRange('bytes=0-1,3-4', 10), { kind: 'full' })
    assert.deepEqual(parseByteRange('items=0-1', 10), { kind: 'full' })
    assert.deepEqual(parseByteRange('bytes=0-0', 0), { kind: 'unsatisfiable' })
  })
})
