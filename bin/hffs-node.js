#!/usr/bin/env node
// Entry point. libp2p 3 and node:sqlite need Node >= 22; when an older system Node starts us,
// re-run this same script under the Node 22 binary that the `node` package installed.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  const require = createRequire(import.meta.url)
  let node22
  try {
    node22 = join(dirname(require.resolve('node/package.json')), 'bin', 'node')
  } catch {
    console.error(`hffs-node: needs Node >= 22 (this is ${process.version}); run npm install first`)
    process.exit(1)
  }
  const child = spawn(node22, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
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
  const { main } = await import('../src/cli/main.ts')
  await main(process.argv.slice(2))
}
