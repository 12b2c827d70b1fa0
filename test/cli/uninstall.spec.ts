import assert from 'node:assert/strict'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { runCli } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'
import { startDaemonCli, useDaemonHomes } from './daemon-helpers.ts'

describe('hffs-node uninstall', function () {
  this.timeout(60_000)
  const tmp = useTmpDir()
  const home = useDaemonHomes()
  let hub: MockHub

  beforeEach(async () => {
    await writeMockBranch(join(tmp(), 'mock'), 'models/org/m', 'main', { 'a.txt': 'hello' })
    hub = await startMockHub({ root: join(tmp(), 'mock') })
  })
  afterEach(async () => {
    await hub.close()
  })

  it('stops the daemon and removes the home, keeping the HF cache', async () => {
    const env = { ...home('a'), HF_ENDPOINT: hub.url }
    assert.equal((await startDaemonCli(env)).code, 0)
    assert.equal((await runCli(['model', 'add', 'org/m', '--quiet'], env)).code, 0)
    const refused = await runCli(['uninstall'], env)
    assert.equal(refused.code, 2, 'no terminal and no --yes: refuse')
    assert.match(refused.stderr, /without --yes/)
    const r = await runCli(['uninstall', '--yes'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /stopped the daemon/)
    assert.equal((await runCli(['status'], env)).code, 3)
    await assert.rejects(stat(env.HFFS_HOME), { code: 'ENOENT' })
    assert.deepEqual(
      await readdir(join(env.HF_HUB_CACHE, 'models--org--m', 'blobs')).then((b) => b.length),
      1,
    )
  })

  it('deletes the HF cache only with --purge-cache', async () => {
    const env = { ...home('a'), HF_ENDPOINT: hub.url }
    assert.equal((await runCli(['model', 'add', 'org/m', '--quiet'], env)).code, 0)
    const r = await runCli(['uninstall', '--yes', '--purge-cache'], env)
    assert.equal(r.code, 0, r.stderr)
    await assert.rejects(stat(env.HF_HUB_CACHE), { code: 'ENOENT' })
  })
})
