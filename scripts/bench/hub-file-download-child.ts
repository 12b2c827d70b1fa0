/**
 * The @huggingface/hub baseline of the peer-pull benchmark, as its own process so that its CPU time and
 * peak RSS can be measured:
 *   node scripts/bench/hub-file-download-child.ts --hub URL --repo ORG/NAME --cache-dir DIR PATH...
 * Downloads each PATH with `downloadFileToCacheDir`, one after the other, and prints `cached <path>` for each (the library logs progress lines of its own).
 */
import { parseArgs } from 'node:util'
import { downloadFileToCacheDir } from '@huggingface/hub'

const { values, positionals } = parseArgs({
  options: { hub: { type: 'string' }, repo: { type: 'string' }, 'cache-dir': { type: 'string' } },
  allowPositionals: true,
  strict: true,
})
if (!values.hub || !values.repo || !values['cache-dir'] || positionals.length === 0) {
  console.error('usage: hub-file-download-child.ts --hub URL --repo ORG/NAME --cache-dir DIR PATH...')
  process.exit(2)
}
for (const path of positionals) {
  const cached = await downloadFileToCacheDir({
    repo: values.repo,
    path,
    hubUrl: values.hub,
    cacheDir: values['cache-dir'],
  })
  console.log(`cached ${cached}`)
}
