/**
 * The public side of a fetch scenario, one process: a core `server` node
 * (circuit relay + DHT) and a WebSocket signaling server, both listening on
 * `<address>` (inside a network namespace or the NAT lab's `pub`).
 *
 *   node --conditions=source --import tsx signaling-hub.ts <address>
 *
 * Prints `{"ready":{"relay","url"}}`, then runs until stdin closes, and then
 * prints `{"result":{"messagesRouted",…}}` (the signaling server's counters).
 */
import { createNode } from '@chiral/core'
import { createSignalingServer } from '@chiral/signaling'

const address = process.argv[2] ?? '127.0.0.1'
const node = await createNode({ role: 'server', listen: [`/ip4/${address}/tcp/0`], allowPrivateAddresses: true })
await node.start()
const server = createSignalingServer({ host: address, port: 0 })
await server.start()
const relay = node.getMultiaddrs().find((ma) => ma.toString().includes('/tcp/'))?.toString()
const port = server.address()?.port
process.stdout.write(JSON.stringify({ ready: { relay, url: `ws://${address}:${String(port)}` } }) + '\n')

process.stdin.on('end', () => {
  void (async () => {
    const stats = server.stats()
    await server.stop()
    await node.stop()
    process.stdout.write(JSON.stringify({ result: { messagesRouted: stats.messagesRouted } }) + '\n', () => process.exit(0))
  })()
})
process.stdin.resume()
