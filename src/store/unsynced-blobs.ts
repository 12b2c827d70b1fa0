import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join } from 'node:path'
import { uptime } from 'node:os'
import { etagKind, hashFileAsEtag } from './blob-etag.ts'
import { fsyncDir, fsyncFile } from './hf-cache/fs-util.ts'

/**
 * Blobs that entered the HF cache before their bytes were known to be on disk.
 *
 * A blob's bytes are verified as they arrive, then the file is renamed into `blobs/<etag>`. Flushing 500 MB
 * to disk before that rename cost `model add` 0.4-0.9 s of a 4 s download of 1 GiB here (the disk writes at
 * 300-600 MB/s), and neither huggingface_hub nor @huggingface/hub flushes at all. What a flush guards
 * against is a power cut or a kernel crash: a blob whose name is in place but whose bytes never reached
 * the disk (holes, zeros). Instead of flushing, a small marker, itself flushed, is written before the rename;
 * the blob is flushed later, once the kernel has written it back by itself (`settle`, when the next command
 * or the daemon starts, and in the daemon every minute), and the marker goes. A marker left from an earlier
 * boot means the machine went down before that: the blob is hashed again, and deleted if it does not match
 * its etag, so that it is downloaded again rather than used or served.
 */

/** Markers of this boot younger than this are left alone: the kernel writes dirty pages back within 30 s. */
export const SETTLE_AFTER_MS = 60_000

export interface SettleResult {
  /** Blobs of this boot flushed, and their markers removed. */
  synced: number
  /** Blobs of an earlier boot hashed again and found whole. */
  verified: number
  /** Blobs of an earlier boot that failed their etag, deleted. */
  removed: string[]
}

interface Marker {
  /** Absolute path of the blob: `.../blobs/<etag>`. */
  blob: string
  boot: string
}

export function unsyncedDir(home: string): string {
  return join(home, 'unsynced')
}

/**
 * Records that `blobPath` is about to be renamed into the cache with its bytes maybe not yet on disk: call it
 * before the rename. The marker is on disk when this returns.
 */
export async function noteUnsyncedBlob(home: string, blobPath: string): Promise<void> {
  const dir = unsyncedDir(home)
  await mkdir(dir, { recursive: true })
  const marker: Marker = { blob: blobPath, boot: await bootId() }
  const path = join(dir, `${basename(blobPath)}.${randomBytes(4).toString('hex')}.json`)
  const fh = await open(path, 'wx', 0o600)
  try {
    await fh.writeFile(JSON.stringify(marker))
    await fh.sync()
  } finally {
    await fh.close()
  }
  await fsyncDir(dir)
}

/**
 * Flushes the blobs of this boot noted at least `minAgeMs` ago, and checks again those of an earlier boot
 * (deleting the ones that fail); removes their markers. Markers that name no blob (it was removed since) or
 * that cannot be read go too.
 */
export async function settleUnsyncedBlobs(
  home: string,
  { minAgeMs = SETTLE_AFTER_MS }: { minAgeMs?: number } = {},
): Promise<SettleResult> {
  const result: SettleResult = { synced: 0, verified: 0, removed: [] }
  const dir = unsyncedDir(home)
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json'))
  } catch {
    return result
  }
  const boot = await bootId()
  for (const name of names) {
    // One marker that cannot be settled now (a blob it may not open, say) is left for the next settle; it
    // never stops the others, nor the command or daemon that settles.
    await settleOne(join(dir, name), boot, minAgeMs, result).catch(() => {})
  }
  return result
}

async function settleOne(path: string, boot: string, minAgeMs: number, result: SettleResult): Promise<void> {
  const marker = await readMarker(path)
  if (marker === null) {
    await rm(path, { force: true })
    return
  }
  const info = await stat(marker.blob).catch(() => null)
  if (info === null || !info.isFile()) {
    await rm(path, { force: true })
    return
  }
  if (marker.boot === boot) {
    const noted = await stat(path).catch(() => null)
    if (noted !== null && Date.now() - noted.mtimeMs < minAgeMs) return
    await fsyncFile(marker.blob)
    await fsyncDir(dirname(marker.blob))
    result.synced++
  } else if (await matchesEtag(marker.blob, info.size)) {
    result.verified++
  } else {
    await rm(marker.blob, { force: true })
    await fsyncDir(dirname(marker.blob))
    result.removed.push(marker.blob)
  }
  await rm(path, { force: true })
}

/** What a settle found that a user should hear of: the blobs deleted after a crash. */
export function describeSettled(result: SettleResult): string[] {
  return result.removed.map(
    (blob) => `${blob} was not whole after the machine went down; deleted it, to be downloaded again`,
  )
}

/** A marker as written by noteUnsyncedBlob, naming a blob file (`blobs/<etag>`); null for anything else. */
async function readMarker(path: string): Promise<Marker | null> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Partial<Marker>
    if (typeof m.blob !== 'string' || typeof m.boot !== 'string' || !isAbsolute(m.blob)) return null
    if (basename(dirname(m.blob)) !== 'blobs' || etagKind(basename(m.blob)) === null) return null
    return { blob: m.blob, boot: m.boot }
  } catch {
    return null
  }
}

async function matchesEtag(blob: string, size: number): Promise<boolean> {
  const etag = basename(blob)
  const kind = etagKind(etag)
  if (kind === null) return false
  try {
    const fh = await open(blob, 'r')
    try {
      return (await hashFileAsEtag(fh, kind, size)) === etag
    } finally {
      await fh.close()
    }
  } catch {
    return false
  }
}

let boot: Promise<string> | undefined

/**
 * What tells this boot from the one before: Linux's boot id; elsewhere, the boot time to the minute (a
 * wrong guess only costs hashing a blob again).
 */
export function bootId(): Promise<string> {
  boot ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (id) => id.trim(),
    () => `boot-${Math.round((Date.now() / 1000 - uptime()) / 60)}`,
  )
  return boot
}
