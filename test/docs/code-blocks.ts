/**
 * The runnable examples of the READMEs: code blocks opened with
 * ```js <name>.mjs. Each is a whole program; tests run them as they are.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface CodeBlock {
  /** The README it is in, relative to the repository. */
  readme: string
  name: string
  code: string
}

/** The `js <name>.mjs` blocks of `readme`, in order. */
export function codeBlocks (repo: string, readme: string): CodeBlock[] {
  const text = readFileSync(join(repo, readme), 'utf8')
  return [...text.matchAll(/^```js (\S+\.mjs)\n([\s\S]*?)^```$/gm)].map((m) => ({ readme, name: m[1]!, code: m[2]! }))
}
