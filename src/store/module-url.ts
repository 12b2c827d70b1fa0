/**
 * The URL of a module next to `base` (an `import.meta.url`): `name.ts` when running from the sources,
 * `name.js` when running from the build in dist/ (worker scripts are loaded by URL, which no compiler
 * rewrites).
 */
export function siblingModuleUrl(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.js') ? '.js' : '.ts'}`, base)
}
