import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmod, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chunkBytes, fileHash, hashToHex, initXet } from '../../src/store/xet/index.ts'
import { randomCommit, writeFakeRepo } from '../helpers/fake-cache.ts'
import { runCli } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

describe('hffs-node model ls', () => {
  const tmp = useTmpDir()
  const big = randomBytes(2_000_000)
  let commit = ''
  let env: NodeJS.ProcessEnv = {}

  beforeEach(async () => {
    await initXet()
    commit = randomCommit()
    env = { HF_HUB_CACHE: join(tmp(), 'hub'), HFFS_HOME: join(tmp(), 'home'), HF_HOME: join(tmp(), 'hf') }
    await writeFakeRepo(env.HF_HUB_CACHE as string, 'models--org--m', commit, [
      { path: 'model.safetensors', data: big, lfs: true },
      { path: 'config.json', data: Buffer.from('{}'), lfs: false },
      { path: 'with space/ünï.txt', data: Buffer.from('x'), lfs: false },
      { path: 'empty', data: new Uint8Array(0), lfs: false },
    ])
    await writeFakeRepo(env.HF_HUB_CACHE as string, 'datasets--org--d', randomCommit(), [
      { path: 'a.parquet', data: randomBytes(1000), lfs: true },
    ])
  })

  it('lists cached repos with no daemon running', async () => {
    const r = await runCli(['model', 'ls'], env)
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.match(lines[0], /^TYPE\s+REPO ID\s+SIZE\s+FILES\s+REFS$/)
    assert.ok(
      lines.some((l) => /^model\s+org\/m\s+2\.0MB\s+4\s+main$/.test(l)),
      r.stdout,
    )
    assert.ok(
      lines.some((l) => /^dataset\s+org\/d\s/.test(l)),
      r.stdout,
    )
    assert.equal(r.stderr, '')
  })

  it('gives every file its path, size, etag and Xet hash in --json', async () => {
    const r = await runCli(['model', 'ls', '--repo-id', 'org/m', '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    const repo = JSON.parse(r.stdout) as {
      id: string
      revisions: { commit: string; files: { path: string; size: number; etag: string; xetHash: string }[] }[]
    }
    assert.equal(repo.id, 'org/m')
    assert.equal(repo.revisions[0].commit, commit)
    const files = new Map(repo.revisions[0].files.map((f) => [f.path, f]))
    assert.deepEqual([...files.keys()].sort(), [
      'config.json',
      'empty',
      'model.safetensors',
      'with space/ünï.txt',
    ])
    const model = files.get('model.safetensors')
    assert.equal(model?.size, big.byteLength)
    assert.equal(model?.xetHash, hashToHex(fileHash(await chunkBytes(big))))
    assert.equal(files.get('empty')?.xetHash, '0'.repeat(64))
  })

  it('prints the absolute path of one file', async () => {
    const r = await runCli(['model', 'ls', '--repo-id', 'org/m', '--file', 'with space/ünï.txt'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout.trim(),
      join(env.HF_HUB_CACHE as string, 'models--org--m', 'snapshots', commit, 'with space/ünï.txt'),
    )
  })

  it('fails with one line and a non-zero exit on bad input', async () => {
    for (const [args, pattern] of [
      [['model', 'ls', '--repo-id', 'org/nope'], /not in the cache/],
      [['model', 'ls', '--repo-id', 'org/m', '--file', 'nope.txt'], /no file "nope.txt"/],
      [['model', 'ls', '--repo-id', 'org/m', '--file', '../../etc/passwd'], /\.\./],
      [['model', 'ls', '--repo-id', 'org/m', '--file', 'config.json', '--revision', 'dev'], /revision "dev"/],
      [['model', 'ls', '--repo-id', 'a/b/c'], /Invalid repo id/],
      [['model', 'ls', '--file', 'x'], /--file needs --repo-id/],
    ] as const) {
      const r = await runCli([...args], env)
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail`)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, pattern)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    }
    const missing = await runCli(['model', 'ls'], { ...env, HF_HUB_CACHE: join(tmp(), 'nope') })
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^hffs-node: .*not found.*\n$/i)
  })

  it('warns about a dangling link and a modified blob instead of crashing', async () => {
    const snap = join(env.HF_HUB_CACHE as string, 'models--org--m', 'snapshots', commit)
    await symlink('../../blobs/' + 'f'.repeat(64), join(snap, 'dangling.bin'))
    const r = await runCli(['model', 'ls', '--repo-id', 'org/m'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /dangling\.bin/)
    assert.match(r.stdout, /config\.json/)

    // A blob modified after download: reported, and it gets no Xet hash (it is never served).
    const listed = await runCli(['model', 'ls', '--repo-id', 'org/m', '--json'], env)
    const etag = (
      JSON.parse(listed.stdout) as { revisions: { files: { path: string; etag: string }[] }[] }
    ).revisions[0].files.find((f) => f.path === 'model.safetensors')?.etag as string
    const blob = join(env.HF_HUB_CACHE as string, 'models--org--m', 'blobs', etag)
    await writeFile(blob, randomBytes(big.byteLength))
    await utimes(blob, new Date(), new Date(Date.now() + 10_000))
    const after = await runCli(['model', 'ls', '--repo-id', 'org/m', '--json'], env)
    assert.equal(after.code, 0, after.stderr)
    assert.match(after.stderr, /not its etag; not served/)
    const files = (
      JSON.parse(after.stdout) as { revisions: { files: { path: string; xetHash: string | null }[] }[] }
    ).revisions[0].files
    assert.equal(files.find((f) => f.path === 'model.safetensors')?.xetHash, null)
    assert.notEqual(files.find((f) => f.path === 'config.json')?.xetHash, null)
  })

  it('reports an unreadable cache as one line', async function () {
    if (process.getuid?.() === 0) {
      // root reads everything; simulate with a file where the cache folder belongs
      await rm(env.HF_HUB_CACHE as string, { recursive: true })
      await import('node:fs/promises').then((fs) => fs.writeFile(env.HF_HUB_CACHE as string, 'not a folder'))
    } else {
      await chmod(env.HF_HUB_CACHE as string, 0)
    }
    const r = await runCli(['model', 'ls'], env)
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })
})
