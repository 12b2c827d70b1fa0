import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { lstatOrNull, writeFileAtomic } from './fs-util.ts'

/** File name of the cache directory tag (https://bford.info/cachedir/). */
export const CACHEDIR_TAG_NAME = 'CACHEDIR.TAG'

/** The exact content huggingface_hub (>= 1.9) writes into `CACHEDIR.TAG`. */
export const CACHEDIR_TAG_CONTENT =
  'Signature: 8a477f597d28d172789f06886806bc55\n' +
  '# This file is a cache directory tag created by huggingface_hub.\n' +
  '# For information about cache directory tags, see:\n' +
  '#\thttps://bford.info/cachedir/\n'

/** Creates the cache root and its `CACHEDIR.TAG` when missing; an existing tag is left alone. */
export async function ensureCacheDirTag(cacheDir: string): Promise<void> {
  const tagPath = join(cacheDir, CACHEDIR_TAG_NAME)
  if ((await lstatOrNull(tagPath)) !== null) return
  await mkdir(cacheDir, { recursive: true })
  await writeFileAtomic(tagPath, CACHEDIR_TAG_CONTENT)
}
