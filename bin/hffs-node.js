#!/usr/bin/env node
// Entry point. libp2p 3 and node:sqlite need Node >= 22; when an older system Node starts us,
// re-run this same script under the Node 22 binary that the `node` package installed (and the daemon
// under its V8 flags, when it was started without them).
import { spawn } from 'node:child_process'
import nodeModule, { createRequire } from 'node:module'
import { constants } from 'node:os'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const major = Number(process.versions.node.split('.')[0])
/**
 * V8 flags of the daemon (src/node/spawn-daemon.ts passes the same). V8's defaults sent a daemon serving
 * chunks into a storm of full collections (one every 50-300 ms, half of its CPU): its old generation's
 * limit was set only 1.3x above the live heap (29 of 39 MB), or within a young generation's reach of it.
 * Here the limit is twice the live heap, and the young generation uses 2 MiB semi-spaces instead of 16
 * (~40 MB less RSS). 1 GiB from 4 seeders on one machine: 61-75 -> 95 MB/s, the seeders' CPU 14-16 -> 9 s.
 * No memory reducer: after a few seconds idle, V8 shrank the heap of a daemon that had served, and its next
 * serve paid to grow it again (4 seeders sending 1/4 GiB each after 25 s idle: 4.5-4.7 CPU-s together
 * against 3.3-4.0 back to back; with the flag 3.0-3.5 either way), for ~20 MB more RSS while idle.
 */
const DAEMON_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=100', '--no-memory-reducer']
const args = process.argv.slice(2)
const missingFlags =
  args[0] === 'start' && args.includes('--foreground')
    ? DAEMON_FLAGS.filter((flag) => !process.execArgv.includes(flag))
    : []
if (major < 22 || missingFlags.length > 0) {
  let node = process.execPath
  if (major < 22) {
    const require = createRequire(import.meta.url)
    try {
      node = join(dirname(require.resolve('node/package.json')), 'bin', 'node')
    } catch {
      console.error(`hffs-node: needs Node >= 22 (this is ${process.version}); run npm install first`)
      process.exit(1)
    }
  }
  const child = spawn(node, [...process.execArgv, ...missingFlags, process.argv[1], ...args], {
    stdio: 'inherit',
  })
  // Signals for the daemon in --foreground reach the real process.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)))
} else {
  // node:sqlite is stable in use but still flagged experimental in Node 22: keep that notice off users' terminals.
  process.removeAllListeners('warning')
  process.on('warning', (w) => {
    if (w.name !== 'ExperimentalWarning') console.error(`hffs-node: ${w.name}: ${w.message}`)
  })
  // V8's code cache on disk (in the OS temp folder, or NODE_COMPILE_CACHE): later runs skip compiling
  // our modules and the libraries', ~0.1 CPU-s of every command here.
  nodeModule.enableCompileCache()
  const { main } = await import(entryModule())
  await main(process.argv.slice(2))
}

/**
 * The build in dist/ (`npm run build`, run by `npm ci`): plain JavaScript loads faster and takes less memory
 * than stripping the types of every source file at start. The sources themselves when there is no build,
 * when a source file is newer than it (someone is editing), or with HFFS_FROM_SOURCE=1.
 */
function entryModule() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const source = '../src/cli/main.ts'
  if (process.env.HFFS_FROM_SOURCE === '1') return source
  let builtAt
  try {
    builtAt = statSync(join(root, 'dist', '.built')).mtimeMs
  } catch {
    return source
  }
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? newer(join(dir, e.name))
        : e.name.endsWith('.ts') && statSync(join(dir, e.name)).mtimeMs > builtAt,
    )
  return newer(join(root, 'src')) ? source : '../dist/src/cli/main.js'
}
