import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** How a blob download is cut into byte ranges, and how far each range got: persisted for resume. */
export interface DownloadProgress {
  etag: string
  size: number
  partSize: number
  /** Bytes written so far from the start of each part. */
  written: number[]
}

export function planParts(etag: string, size: number, partSize: number): DownloadProgress {
  const n = Math.max(1, Math.ceil(size / partSize))
  return { etag, size, partSize, written: new Array<number>(n).fill(0) }
}

export function partRange(p: DownloadProgress, i: number): { start: number; end: number } {
  const start = i * p.partSize
  return { start, end: Math.min(p.size, start + p.partSize) }
}

/** The number of bytes from offset 0 that are on disk without a gap. */
export function contiguousPrefix(p: DownloadProgress): number {
  for (let i = 0; i < p.written.length; i++) {
    const { start, end } = partRange(p, i)
    const reached = start + p.written[i]
    if (reached < end) return reached
  }
  return p.size
}

/** Progress files live in the node's home, not in the HF cache, so that the cache stays exactly huggingface_hub's. */
export function progressPath(home: string, etag: string): string {
  return join(home, 'downloads', `${etag}.json`)
}

/** The saved progress of this very download, or null when there is none or it does not match. */
export async function loadProgress(
  path: string,
  etag: string,
  size: number,
): Promise<DownloadProgress | null> {
  try {
    const p = JSON.parse(await readFile(path, 'utf8')) as DownloadProgress
    const fresh = planParts(etag, size, p.partSize)
    const valid =
      p.etag === etag &&
      p.size === size &&
      Array.isArray(p.written) &&
      p.written.length === fresh.written.length &&
      p.written.every(
        (w, i) => Number.isSafeInteger(w) && w >= 0 && w <= partRange(p, i).end - partRange(p, i).start,
      )
    return valid ? p : null
  } catch {
    return null
  }
}

export async function saveProgress(path: string, p: DownloadProgress): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(p))
  await rename(tmp, path)
}

export async function dropProgress(path: string): Promise<void> {
  await rm(path, { force: true })
}
