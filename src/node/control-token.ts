import { randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { controlTokenPath } from './home.ts'

/** The control API's bearer token from `HFFS_HOME/control.token` (mode 0600), made on first start. */
export async function loadOrCreateControlToken(home: string): Promise<string> {
  const existing = await readControlToken(home)
  if (existing !== null) {
    const path = controlTokenPath(home)
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600)
    return existing
  }
  const token = randomBytes(32).toString('hex')
  await mkdir(home, { recursive: true })
  const path = controlTokenPath(home)
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, token, { mode: 0o600, flag: 'wx' })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  return token
}

/** The token, or null when there is none yet (or it is empty). */
export async function readControlToken(home: string): Promise<string | null> {
  try {
    const token = (await readFile(controlTokenPath(home), 'utf8')).trim()
    return token === '' ? null : token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** Compares an `Authorization` header with `Bearer <token>` in constant time. */
export function isAuthorized(header: string | undefined, token: string): boolean {
  if (header === undefined) return false
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (match === null) return false
  const given = Buffer.from(match[1])
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}
