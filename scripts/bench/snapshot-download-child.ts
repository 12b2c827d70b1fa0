/**
 * The baseline of the model-add benchmark, as its own process so that its wall time and peak RSS can
 * be measured like `hffs-node model add`'s:
 *   node scripts/bench/snapshot-download-child.ts --hub URL --repo ORG/NAME --cache-dir DIR [--revision main]
 * Prints the snapshot folder. The parent bounds its run time.
 */
import { parseArgs } from 'node:util'
import { snapshotDownload } from '@huggingface/hub'

const { values } = parseArgs({
  options: {
    hub: { type: 'string' },
    repo: { type: 'string' },
    'cache-dir': { type: 'string' },
    revision: { type: 'string', default: 'main' },
  },
  strict: true,
})
if (!values.hub || !values.repo || !values['cache-dir']) {
  console.error(
    'usage: snapshot-download-child.ts --hub URL --repo ORG/NAME --cache-dir DIR [--revision REV]',
  )
  process.exit(2)
}
const snapshot = await snapshotDownload({
  repo: values.repo,
  revision: values.revision,
  hubUrl: values.hub,
  cacheDir: values['cache-dir'],
})
console.log(snapshot)
