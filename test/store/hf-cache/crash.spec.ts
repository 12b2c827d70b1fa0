import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { blobPath, repoDir, scanHubCache } from '../../../src/store/hf-cache/index.ts'
import type { RepoRef } from '../../../src/store/hf-cache/index.ts'
import { commitOf, useTempDir } from './helpers.ts'

const INDEX_URL = pathToFileURL(join(import.meta.dirname, '../../../src/store/hf-cache/index.ts')).href
const repo: RepoRef = { type: 'model', id: 'org/crashy' }
const commit = commitOf('crash')
const SIZE = 4 * 1024 * 1024

// Blob i is SIZE bytes of value (i % 251); its (fake) etag is i in 64 hex digits.

// A child that writes and links blobs as fast as it can until it is killed.
function startWriter(cache: string, round: number): ReturnType<typeof spawn> {
  const code = `
    import { writeBlob, linkSnapshotFile, writeRef } from ${JSON.stringify(INDEX_URL)}
    const repo = ${JSON.stringify(repo)}
    process.stdout.write('ready\\n')
    for (let i = ${round * 1000}; ; i++) {
      const etag = i.toString(16).padStart(64, '0')
      await writeBlob(${JSON.stringify(cache)}, repo, etag, new Uint8Array(${SIZE}).fill(i % 251))
      await linkSnapshotFile(${JSON.stringify(cache)}, repo, ${JSON.stringify(commit)}, 'f' + i, etag)
      await writeRef(${JSON.stringify(cache)}, repo, 'main', ${JSON.stringify(commit)})
    }`
  return spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
}

describe('hf-cache crash safety', () => {
  const tmp = useTempDir()

  it('never leaves a partial blobs/<etag>, however the writer dies', async () => {
    const cache = tmp.path
    for (let round = 0; round < 4; round++) {
      const child = startWriter(cache, round)
      const exited = new Promise((resolve) => child.once('exit', resolve))
      await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()))
      await delay(15 + round * 20)
      child.kill('SIGKILL')
      await exited
    }

    const blobsDir = join(repoDir(cache, repo), 'blobs')
    const names = await readdir(blobsDir)
    const complete = names.filter((n) => /^[0-9a-f]{64}$/.test(n))
    assert.ok(complete.length > 0, 'the writer got some blobs done')
    for (const name of names) {
      if (/^[0-9a-f]{64}$/.test(name)) {
        const bytes = await readFile(blobPath(cache, repo, name))
        const i = parseInt(name, 16)
        assert.equal(bytes.length, SIZE, name)
        assert.ok(
          bytes.every((b) => b === i % 251),
          name,
        )
      } else {
        assert.match(name, /^[0-9a-f]{64}\.[0-9a-f]{8}\.incomplete$/, 'only temp files besides blobs')
      }
    }

    const scan = await scanHubCache(cache)
    assert.ok(
      scan.warnings.every((w) => w.startsWith('Leftover temporary file: ')),
      scan.warnings.join('\n'),
    )
    assert.equal(scan.incomplete.length, names.length - complete.length)
    for (const f of scan.repos[0]?.revisions[0]?.files ?? []) {
      assert.equal(f.size, SIZE, f.path)
      assert.ok(complete.includes(f.etag ?? ''), f.path)
    }
    assert.equal(await readFile(join(repoDir(cache, repo), 'refs', 'main'), 'utf8'), commit)
  })
})
