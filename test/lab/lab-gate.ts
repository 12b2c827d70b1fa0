// Lab specs run where a lab can be built (root, Linux, iproute2, tc tbf); elsewhere each says why in one line.
import { labAvailable } from '../../scripts/lab/lab.ts'

const available = await labAvailable()

/** `describe(title, body)` when this machine can build a lab; else one pending line that says why not. */
export function describeLab(title: string, body: (this: Mocha.Suite) => void): void {
  if (available.ok) describe(title, body)
  else it.skip(`${title} — skipped: ${available.why}`)
}
