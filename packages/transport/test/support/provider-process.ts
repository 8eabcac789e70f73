/**
 * A provider in its own process, for tests that kill it mid-transfer:
 *
 *   node --conditions=source --import tsx provider-process.ts <relay multiaddr> <file> [name]
 *
 * Prints one JSON line `{ peerId, multiaddrs, cid }` once it serves the file
 * through its relay reservation, then runs until killed or stdin closes.
 * `CHIRAL_PROVIDER_INIT` (JSON) is passed to `createProvider` as its init.
 */
import { createNode, relayAddresses, waitForRelayReservation } from '@chiral/core'
import { createProvider } from '../../src/index.js'
import type { ProviderInit } from '../../src/index.js'

const [relay, file, name] = process.argv.slice(2)
if (relay == null || file == null) {
  process.stderr.write('usage: provider-process.ts <relay> <file> [name]\n')
  process.exit(2)
}
const node = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true })
await node.start()
await waitForRelayReservation(node, { signal: AbortSignal.timeout(15_000) })
const provider = createProvider({ node }, JSON.parse(process.env.CHIRAL_PROVIDER_INIT ?? '{}') as ProviderInit)
await provider.start()
const manifest = await provider.share(file, name == null ? {} : { name })
process.stdout.write(JSON.stringify({
  peerId: node.peerId.toString(),
  multiaddrs: relayAddresses(node).map(String),
  cid: manifest.cid.toString()
}) + '\n')

const stop = async (): Promise<void> => {
  await provider.stop()
  await node.stop()
  process.exit(0)
}
process.stdin.on('end', () => { void stop() })
process.stdin.resume()
process.on('SIGTERM', () => { void stop() })
