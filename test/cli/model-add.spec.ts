import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { BIN, runCli } from '../helpers/run-cli.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

describe('hffs-node model add / rm', () => {
  const tmp = useTmpDir()
  let hub: MockHub
  let env: NodeJS.ProcessEnv
  const big = randomBytes(24 * 1024 * 1024)
  const shared = randomBytes(2 * 1024 * 1024)

  beforeEach(async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'a.bin': shared,
      'b.bin': randomBytes(1024 * 1024),
      'c.txt': 'c',
    })
    await writeMockBranch(root, 'models/org/m', 'v2', { 'a.bin': shared, 'd.bin': randomBytes(512 * 1024) })
    await writeMockBranch(root, 'models/org/big', 'main', { 'weights.safetensors': big })
    await writeMockBranch(root, 'models/org/gated', 'main', { 'x.txt': 'secret' })
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(join(root, 'models/org/gated/.mock.json'), JSON.stringify({ gated: true })),
    )
    hub = await startMockHub({ root })
    env = {
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: join(tmp(), 'hub'),
      HFFS_HOME: join(tmp(), 'home'),
      HF_HOME: join(tmp(), 'hf'),
      HF_TOKEN: '',
    }
  })
  afterEach(async () => {
    await hub.close()
  })

  it('downloads a repo, reports it, and rm frees only blobs no other revision uses', async () => {
    let r = await runCli(['model', 'add', 'org/m', '--quiet'], env)
    assert.equal(r.code, 0, r.stderr)
    r = await runCli(['model', 'add', 'org/m', '--revision', 'v2'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stdout,
      /3 files, 1 downloaded .* 2 already cached|2 files, 1 downloaded .*1 already cached/,
    )
    const blobs = join(env.HF_HUB_CACHE as string, 'models--org--m', 'blobs')
    assert.equal((await readdir(blobs)).length, 4)

    r = await runCli(['model', 'rm', 'org/m', '--revision', 'v2', '--yes'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /freed 524\.3KB/)
    assert.equal((await readdir(blobs)).length, 3, 'the shared blob stays')
    const refs = await readdir(join(env.HF_HUB_CACHE as string, 'models--org--m', 'refs'))
    assert.deepEqual(refs, ['main'])

    r = await runCli(['model', 'rm', 'org/m', '--yes'], env)
    assert.equal(r.code, 0, r.stderr)
    await assert.rejects(readdir(blobs), { code: 'ENOENT' }, 'the repo folder goes with its last revision')
  })

  it('after the machine went down, finds a blob that never reached the disk and downloads it again', async () => {
    let r = await runCli(['model', 'add', 'org/big', '--quiet'], env)
    assert.equal(r.code, 0, r.stderr)
    const blobs = join(env.HF_HUB_CACHE as string, 'models--org--big', 'blobs')
    const [name] = await readdir(blobs)
    const blob = join(blobs, name)
    // Committed without a flush: a marker in the home says so.
    const markersDir = join(env.HFFS_HOME as string, 'unsynced')
    const markers = await readdir(markersDir)
    assert.equal(markers.length, 1)
    const marker = JSON.parse(await readFile(join(markersDir, markers[0]), 'utf8')) as { blob: string }
    assert.equal(marker.blob, blob)
    // A power cut before the kernel wrote the bytes back: the name is there, the bytes are zeros, and the
    // marker is from the boot before this one.
    await writeFile(join(markersDir, markers[0]), JSON.stringify({ blob, boot: 'the boot before' }))
    await writeFile(blob, new Uint8Array(big.byteLength))

    const served = hub.stats().totalBytes
    r = await runCli(['model', 'add', 'org/big', '--quiet'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /was not whole after the machine went down; deleted it/)
    assert.ok(hub.stats().totalBytes - served >= big.byteLength, 'downloaded again')
    assert.ok((await readFile(blob)).equals(big))
  })

  it('refuses rm without --yes when not on a terminal', async () => {
    await runCli(['model', 'add', 'org/m', '--quiet'], env)
    const r = await runCli(['model', 'rm', 'org/m'], env)
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /without --yes/)
  })

  it('resumes after the process is killed, fetching under 10% twice', async () => {
    hub.setOptions({ rateBytesPerSec: 12 * 1024 * 1024 })
    const child = spawn(process.execPath, [BIN, 'model', 'add', 'org/big', '--quiet'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    })
    const deadline = Date.now() + 30_000
    while (hub.stats().totalBytes < big.byteLength / 2 && Date.now() < deadline) await sleep(20)
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    const before = hub.stats().totalBytes
    assert.ok(before >= big.byteLength / 2 && before < big.byteLength, `killed at ${before} bytes`)
    const blobs = join(env.HF_HUB_CACHE as string, 'models--org--big', 'blobs')
    assert.ok(
      (await readdir(blobs)).every((n) => n.endsWith('.incomplete')),
      'nothing unverified is visible',
    )

    hub.setOptions({ rateBytesPerSec: 0 })
    const r = await runCli(['model', 'add', 'org/big', '--quiet'], env)
    assert.equal(r.code, 0, r.stderr)
    const total = hub.stats().totalBytes
    console.log(
      `      killed at ${before} of ${big.byteLength} bytes; ${total - big.byteLength} fetched twice`,
    )
    assert.ok(total - big.byteLength < big.byteLength * 0.1, `fetched ${total} bytes for ${big.byteLength}`)
    const path = (
      await runCli(['model', 'ls', '--repo-id', 'org/big', '--file', 'weights.safetensors'], env)
    ).stdout.trim()
    assert.ok(Buffer.from(await readFile(path)).equals(big))
    assert.equal((await stat(path)).size, big.byteLength)
  })

  it('fails with one clear line on an unknown repo, revision or file, a gated repo, and no network', async () => {
    for (const [args, pattern, extraEnv] of [
      [['org/nope'], /not found/, {}],
      [['org/m', '--revision', 'nope'], /revision not found/, {}],
      [['org/m', 'nope.bin'], /no file "nope.bin"/, {}],
      [['org/gated'], /access denied.*HF_TOKEN/, {}],
      [['org/m'], /cannot reach 127\.0\.0\.1:9/, { HF_ENDPOINT: 'http://127.0.0.1:9' }],
      [['org/m', '--revision', 'v2'], /HF_HUB_OFFLINE/, { HF_HUB_OFFLINE: '1' }],
    ] as const) {
      const r = await runCli(['model', 'add', ...args, '--quiet'], { ...env, ...extraEnv })
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, pattern)
    }
  })
})
