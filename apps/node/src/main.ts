/**
 * chiral-node: relay + DHT server + WebSocket signaling server in one process.
 * Exit codes: 0 after a clean SIGTERM/SIGINT shutdown, 2 for bad
 * configuration, 1 for anything else (see run.ts).
 */
import { runNode } from './run.js'

runNode(process.argv.slice(2), process.env).then((code) => {
  process.exitCode = code
  // Nothing should keep the loop alive after a clean stop; make sure it ends.
  setTimeout(() => process.exit(code), 200).unref()
}, (err: unknown) => {
  process.stderr.write(`chiral-node: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
