import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/** One branch folder's files: path in the repo → content. */
export type BranchFiles = Map<string, Buffer>

export interface HubFixture {
  root: string
  /** `"<type>s/<repo>/<branch folder>"` → files. */
  branches: Map<string, BranchFiles>
}

export const MODEL = 'acme/tiny-model'
export const DATASET = 'acme/tiny-data'
export const UNICODE_PATH = 'dir a/sub/ünï côde file.txt'
export const LFS_PATH = 'model.safetensors'
export const LFS_SIZE = 3 * 1024 * 1024 + 17

/** What the Hub uses as the etag (and blob name): sha256 for LFS files, git blob sha1 otherwise. */
export function expectedEtag(path: string, data: Buffer): string {
  const lfs = /\.(safetensors|bin|parquet)$/.test(path) || data.byteLength >= 10_000_000
  if (lfs) return createHash('sha256').update(data).digest('hex')
  return createHash('sha1').update(`blob ${data.byteLength}\0`).update(data).digest('hex')
}

/**
 * Two repos with everything the clients must get right (several branches sharing files,
 * nested folders, a name with a space and unicode, an empty file, an LFS file of a few MB,
 * `refs/pr/1`), plus a private, a gated, a renamed and an org-less repo.
 */
export async function makeHubFixture(): Promise<HubFixture> {
  const root = await mkdtemp(join(tmpdir(), 'mock-hub-'))
  const branches = new Map<string, BranchFiles>()
  const put = async (branch: string, files: Record<string, Buffer | string>): Promise<void> => {
    const map: BranchFiles = new Map()
    for (const [path, content] of Object.entries(files)) {
      const data = Buffer.isBuffer(content) ? content : Buffer.from(content)
      await mkdir(dirname(join(root, branch, path)), { recursive: true })
      await writeFile(join(root, branch, path), data)
      map.set(path, data)
    }
    branches.set(branch, map)
  }
  const weights = randomBytes(LFS_SIZE)
  const config = '{"model_type": "tiny", "hidden_size": 8}\n'
  await put(`models/${MODEL}/main`, {
    '.gitattributes': '*.safetensors filter=lfs diff=lfs merge=lfs -text\n',
    'README.md': '# tiny model\n',
    'config.json': config,
    'empty.txt': '',
    [UNICODE_PATH]: 'spaces and ünïcode\n',
    'nested/deeper/deepest/weights.json': '{"w": [1, 2, 3]}\n',
    [LFS_PATH]: weights,
  })
  await put(`models/${MODEL}/v2`, {
    'README.md': '# tiny model, version 2\n',
    'config.json': config,
    'tokenizer.json': '{"vocab": {"a": 0}}\n',
    [LFS_PATH]: weights,
  })
  await put(`models/${MODEL}/refs--pr--1`, {
    'README.md': '# tiny model\n',
    'config.json': '{"model_type": "tiny", "hidden_size": 16}\n',
    [LFS_PATH]: weights,
  })
  await put(`datasets/${DATASET}/main`, {
    'README.md': '---\nlicense: mit\n---\n',
    'data/train.parquet': randomBytes(100_000),
    'data/test.csv': 'a,b\n1,2\n',
  })
  await put('models/acme/private-model/main', { 'config.json': '{"private": true}\n' })
  await writeFile(join(root, 'models/acme/private-model/.mock.json'), JSON.stringify({ private: true }))
  await put('models/acme/gated-model/main', {
    'config.json': '{"gated": true}\n',
    'w.bin': randomBytes(1000),
  })
  await writeFile(
    join(root, 'models/acme/gated-model/.mock.json'),
    JSON.stringify({ gated: 'manual', grantedTokens: ['hf_granted'] }),
  )
  await put('models/acme/new-name/main', { 'config.json': '{"renamed": true}\n' })
  await writeFile(
    join(root, 'models/acme/new-name/.mock.json'),
    JSON.stringify({ renamedFrom: ['acme/old-name'] }),
  )
  await put('models/orgless/main', { 'config.json': '{"orgless": true}\n', 'empty.txt': '' })
  return { root, branches }
}
