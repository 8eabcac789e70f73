/**
 * `chiral node [node flags…]`: the deployable node (relay + DHT server +
 * signaling server), the same run as `chiral-node`'s. Every flag after
 * `node` is the node's; `chiral node --help` lists them.
 */
import { runNode } from '@chiral/node/run'

export async function nodeCommand (argv: string[]): Promise<number> {
  return runNode(argv, process.env, { name: 'chiral node' })
}
