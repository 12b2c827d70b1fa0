import { createHash, randomFillSync } from 'node:crypto'
import { mkdir, open, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** A repo written under a mock Hub root, with what a correct download must reproduce. */
export interface SourceRepo {
  /** `org/name`, a model repo on branch `main`. */
  id: string
  /** Repo file path → sha256 hex of its content. */
  sha256: Map<string, string>
  /** Sum of the file sizes. */
  bytes: number
}

const WRITE_BLOCK = 64 * 1024 * 1024

/**
 * A model as the Hub holds one: two safetensors shards of random data that share `totalBytes`, and a
 * few small json/txt files beside them.
 */
export async function writeShardedModel(root: string, id: string, totalBytes: number): Promise<SourceRepo> {
  const repo: SourceRepo = { id, sha256: new Map(), bytes: 0 }
  const branch = branchDir(root, id)
  const shard = Math.floor(totalBytes / 2)
  for (const name of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) {
    repo.sha256.set(name, await writeRandomFile(join(branch, name), shard))
    repo.bytes += shard
  }
  const config = JSON.stringify({ architectures: ['BenchModel'], hidden_size: 4096, num_hidden_layers: 32 })
  const small: [string, string][] = [
    ['config.json', config],
    ['generation_config.json', JSON.stringify({ do_sample: true, temperature: 0.7 })],
    ['model.safetensors.index.json', JSON.stringify({ metadata: { total_size: 2 * shard } })],
    ['tokenizer.json', randomText(1_500_000)],
    ['vocab.txt', randomText(200_000)],
    ['README.md', '# bench model\n\nRandom weights for the model-add benchmark.\n'],
  ]
  for (const [name, text] of small) await writeSmallFile(repo, branch, name, text)
  return repo
}

/**
 * A repo of `count` files of `fileBytes` each, half of them LFS (`.bin`, served through the CDN
 * redirect) and half regular (`.json`, through resolve-cache), so that per-request latency dominates.
 */
export async function writeManySmallFiles(
  root: string,
  id: string,
  count: number,
  fileBytes: number,
): Promise<SourceRepo> {
  const repo: SourceRepo = { id, sha256: new Map(), bytes: 0 }
  const branch = branchDir(root, id)
  const width = String(count).length
  for (let i = 0; i < count; i++) {
    const name = `shards/part-${String(i).padStart(width, '0')}.${i % 2 === 0 ? 'json' : 'bin'}`
    await writeSmallFile(repo, branch, name, randomText(fileBytes))
  }
  return repo
}

function branchDir(root: string, id: string): string {
  return join(root, 'models', ...id.split('/'), 'main')
}

async function writeSmallFile(repo: SourceRepo, branch: string, name: string, text: string): Promise<void> {
  const data = Buffer.from(text)
  await mkdir(dirname(join(branch, name)), { recursive: true })
  await writeFile(join(branch, name), data)
  repo.sha256.set(name, createHash('sha256').update(data).digest('hex'))
  repo.bytes += data.byteLength
}

/** Writes `size` random bytes block by block (never the whole file in memory); returns their sha256. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true })
  const hash = createHash('sha256')
  const block = Buffer.allocUnsafe(Math.max(1, Math.min(WRITE_BLOCK, size)))
  const fh = await open(path, 'w')
  try {
    for (let at = 0; at < size;) {
      const data = randomFillSync(block).subarray(0, Math.min(block.byteLength, size - at))
      hash.update(data)
      for (let off = 0; off < data.byteLength;) {
        const { bytesWritten } = await fh.write(data, off, data.byteLength - off, at + off)
        off += bytesWritten
      }
      at += data.byteLength
    }
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}

/** `bytes` characters of random base64: text that does not compress. */
function randomText(bytes: number): string {
  return randomFillSync(Buffer.allocUnsafe(Math.ceil((bytes * 3) / 4)))
    .toString('base64')
    .slice(0, bytes)
}
