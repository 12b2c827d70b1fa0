import assert from 'node:assert/strict'
import { chmod, mkdir, symlink, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { scanHubCache } from '../../../src/store/hf-cache/index.ts'
import { commitOf, gitBlobSha1, sha256Hex, useTempDir } from './helpers.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const readme = enc('# model card\n')
const weights = new Uint8Array(4096).fill(7)
const nested = enc('{"a": 1}')
const empty = new Uint8Array(0)
const [c1, c2, c3] = [commitOf('one'), commitOf('two'), commitOf('three')]

async function put(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, data)
}

async function link(path: string, target: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await symlink(target, path)
}

// A cache laid out by hand exactly as huggingface_hub writes it, with a few kinds of damage.
async function buildCache(cache: string): Promise<void> {
  const a = join(cache, 'models--org--model')
  await put(join(cache, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n')
  await put(join(cache, '.locks', 'models--org--model', `${sha256Hex(weights)}.lock`), '')
  await put(join(cache, '.DS_Store'), 'junk')
  await put(join(a, 'blobs', gitBlobSha1(readme)), readme)
  await put(join(a, 'blobs', sha256Hex(weights)), weights)
  await put(join(a, 'blobs', gitBlobSha1(nested)), nested)
  await put(join(a, 'blobs', gitBlobSha1(empty)), empty)
  await put(join(a, 'blobs', `${'a'.repeat(64)}.incomplete`), new Uint8Array(100))
  await put(join(a, 'blobs', `${'b'.repeat(64)}.0123abcd.incomplete`), new Uint8Array(7))
  await link(join(a, 'snapshots', c1, 'README.md'), `../../blobs/${gitBlobSha1(readme)}`)
  await link(join(a, 'snapshots', c1, 'model.safetensors'), `../../blobs/${sha256Hex(weights)}`)
  await link(
    join(a, 'snapshots', c1, 'sub', 'dir', 'config.json'),
    `../../../../blobs/${gitBlobSha1(nested)}`,
  )
  await link(join(a, 'snapshots', c1, 'empty.txt'), `../../blobs/${gitBlobSha1(empty)}`)
  await link(join(a, 'snapshots', c1, 'dangling.bin'), `../../blobs/${'c'.repeat(64)}`)
  await link(join(a, 'snapshots', c2, 'README.md'), `../../blobs/${gitBlobSha1(readme)}`)
  await put(join(a, 'snapshots', '.DS_Store'), 'junk')
  await put(join(a, 'snapshots', 'stray-file'), 'not a revision')
  await put(join(a, 'refs', 'main'), c1)
  await put(join(a, 'refs', 'refs', 'pr', '1'), c2)
  await put(join(a, 'refs', 'v1'), c3)
  await put(join(a, '.no_exist', c1, 'missing.txt'), '')

  await put(join(cache, 'datasets--org--data', 'blobs', gitBlobSha1(readme)), readme)
  await put(join(cache, 'spaces--org--space', 'snapshots'), 'a file where the folder belongs')
  await mkdir(join(cache, 'not-a-repo'))
  await put(join(cache, 'blobs', '.huggingface-shared-blobs'), '1\n')

  const d = join(cache, 'models--solo')
  await put(join(d, 'blobs', gitBlobSha1(nested)), nested)
  await link(
    join(d, 'snapshots', c3, 'dir with space', 'ünïcødé 文件.json'),
    `../../../blobs/${gitBlobSha1(nested)}`,
  )
}

describe('hf-cache scanHubCache', () => {
  const tmp = useTempDir()

  it('reads a huggingface_hub cache and reports the damage as warnings', async () => {
    const cache = tmp.path
    await buildCache(cache)
    const t = new Date('2024-01-02T03:04:05Z')
    await utimes(
      join(cache, 'models--org--model', 'blobs', sha256Hex(weights)),
      t,
      new Date('2100-06-01T00:00:00Z'),
    )
    const scan = await scanHubCache(cache)

    assert.equal(scan.cacheDir, cache)
    assert.deepEqual(
      scan.repos.map((r) => `${r.type}:${r.id}`),
      ['model:org/model', 'model:solo'],
    )
    const [model, solo] = scan.repos
    assert.equal(model.path, join(cache, 'models--org--model'))
    assert.equal(model.size, readme.length + weights.length + nested.length)
    assert.equal(model.nbFiles, 4)
    assert.deepEqual(model.refs, { main: c1, 'refs/pr/1': c2 })
    assert.deepEqual(
      model.revisions.map((r) => [r.commit, r.refs, r.files.length, r.size]),
      [c1, c2]
        .sort()
        .map((c) =>
          c === c1
            ? [c1, ['main'], 4, readme.length + weights.length + nested.length]
            : [c2, ['refs/pr/1'], 1, readme.length],
        ),
    )
    const rev1 = model.revisions.find((r) => r.commit === c1)
    assert.ok(rev1)
    assert.deepEqual(
      rev1.files.map((f) => [f.path, f.etag, f.size]),
      [
        ['README.md', gitBlobSha1(readme), readme.length],
        ['empty.txt', gitBlobSha1(empty), 0],
        ['model.safetensors', sha256Hex(weights), weights.length],
        ['sub/dir/config.json', gitBlobSha1(nested), nested.length],
      ],
    )
    const weightsFile = rev1.files[2]
    assert.equal(weightsFile.blobPath, join(model.path, 'blobs', sha256Hex(weights)))
    assert.equal(weightsFile.filePath, join(rev1.path, 'model.safetensors'))
    assert.equal(weightsFile.lastAccessed.getTime(), t.getTime())
    assert.equal(model.lastModified.getTime(), Date.parse('2100-06-01T00:00:00Z'))
    assert.equal(rev1.lastModified.getTime(), Date.parse('2100-06-01T00:00:00Z'))

    assert.deepEqual(
      solo.revisions[0].files.map((f) => [f.path, f.size]),
      [['dir with space/ünïcødé 文件.json', nested.length]],
    )
    assert.equal(scan.size, model.size + solo.size)

    assert.deepEqual(
      scan.incomplete.map((i) => [i.type, i.id, i.etag, i.size]),
      [
        ['model', 'org/model', 'a'.repeat(64), 100],
        ['model', 'org/model', 'b'.repeat(64), 7],
      ],
    )

    const expected = [
      /^Repo folder has no snapshots folder: .*datasets--org--data\/snapshots$/,
      /^Blob missing \(broken symlink\): .*snapshots\/[0-9a-f]{40}\/dangling\.bin$/,
      /^Snapshots folder holds a file, not a revision folder: .*\/stray-file$/,
      new RegExp(`^Ref v1 points to missing snapshot ${c3} in .*models--org--model$`),
      /^Not a repo folder: .*\/not-a-repo$/,
      /^Expected a folder, found a file: .*spaces--org--space\/snapshots$/,
    ]
    assert.equal(scan.warnings.length, expected.length, scan.warnings.join('\n'))
    for (const re of expected)
      assert.ok(
        scan.warnings.some((w) => re.test(w)),
        `${re} in\n${scan.warnings.join('\n')}`,
      )
    for (const w of scan.warnings) assert.ok(!w.includes('\n'))
  })

  it('throws CacheNotFoundError for a missing cache or a file', async () => {
    await assert.rejects(scanHubCache(join(tmp.path, 'nope')), { name: 'CacheNotFoundError' })
    await writeFile(join(tmp.path, 'file'), '')
    await assert.rejects(scanHubCache(join(tmp.path, 'file')), { name: 'CacheNotFoundError' })
  })

  it('returns an empty scan for an empty cache', async () => {
    const scan = await scanHubCache(tmp.path)
    assert.deepEqual(
      { ...scan, cacheDir: '' },
      { cacheDir: '', repos: [], incomplete: [], size: 0, warnings: [] },
    )
  })

  it('calls a leftover temporary of CACHEDIR.TAG what it is', async () => {
    await put(join(tmp.path, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n')
    await put(join(tmp.path, 'CACHEDIR.TAG.c91a8245.tmp'), '')
    await put(join(tmp.path, 'notes.c91a8245.tmp'), '')
    const scan = await scanHubCache(tmp.path)
    const warnings = [...scan.warnings].sort()
    assert.equal(warnings.length, 2, warnings.join('\n'))
    assert.match(warnings[0] ?? '', /^Leftover temporary file: .*\/CACHEDIR\.TAG\.c91a8245\.tmp$/)
    assert.match(warnings[1] ?? '', /^Not a repo folder: .*\/notes\.c91a8245\.tmp$/)
  })

  it('survives unreadable folders, link loops and bad ref contents', async () => {
    const cache = tmp.path
    const r = join(cache, 'models--x')
    await put(join(r, 'blobs', gitBlobSha1(readme)), readme)
    await link(join(r, 'snapshots', c1, 'README.md'), `../../blobs/${gitBlobSha1(readme)}`)
    await link(join(r, 'snapshots', c1, 'loop'), 'loop')
    await link(join(r, 'snapshots', c2), c2)
    await put(join(r, 'refs', 'main'), `${c1}\n`) // tolerated: trailing newline from another tool
    await put(join(r, 'refs', 'bad'), 'not a hash')
    await put(join(r, 'refs', 'main.0123abcd.tmp'), c1)
    const locked = join(r, 'snapshots', c3)
    await mkdir(locked)
    await chmod(locked, 0o000)
    try {
      const scan = await scanHubCache(cache)
      assert.equal(scan.repos.length, 1)
      assert.deepEqual(scan.repos[0].refs, { main: c1 })
      assert.deepEqual(
        scan.repos[0].revisions.find((rev) => rev.commit === c1)?.files.map((f) => f.path),
        ['README.md'],
      )
      const expected = [
        /broken symlink.*\/loop$/,
        /^Cannot stat .*ELOOP$/,
        /^Ref does not hold a commit hash: .*\/bad$/,
        /^Leftover temporary file: .*main\.0123abcd\.tmp$/,
      ]
      if (process.getuid?.() !== 0) expected.push(/^Cannot read folder .*EACCES$/)
      for (const re of expected)
        assert.ok(
          scan.warnings.some((w) => re.test(w)),
          `${re} in\n${scan.warnings.join('\n')}`,
        )
      assert.equal(scan.warnings.length, expected.length, scan.warnings.join('\n'))
    } finally {
      await chmod(locked, 0o755)
    }
  })
})
