/**
 * What every browser scenario suite shares: why it cannot run here, and how
 * a scenario script (run in its own namespace by netns-script.ts) reports.
 */
import { findChromium } from './chromium.js'
import { netnsUnavailable } from './netns.js'

/** Why the browser suites cannot run here, or undefined when they can. */
export async function browserTestsUnavailable (): Promise<string | undefined> {
  const ns = await netnsUnavailable()
  if (ns !== undefined) return ns
  if (findChromium() === undefined) return 'Chromium is not installed (apt-get install chromium; scripts/setup.sh does it as root)'
  return undefined
}

/** Runs a scenario's `main`: its result as the last stdout line (exit 0), or the error and the log on stderr (exit 1). */
export function reportScenario<T> (main: () => Promise<T>, log: string[]): void {
  main().then((result) => {
    process.stdout.write(JSON.stringify(result) + '\n')
    process.exit(0)
  }, (err: Error) => {
    process.stderr.write(`${err.stack ?? String(err)}\n${log.join('\n')}\n`)
    process.exit(1)
  })
}
