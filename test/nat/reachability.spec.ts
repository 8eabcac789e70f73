import { afterAll, describe, expect, it } from 'vitest'
import { createLab, labSupport, namespacesWithPrefix, STUN_PORT } from './lab.js'
import { jsonLine, startNode, startPeer } from './lab-processes.js'

/**
 * Reachability from AutoNAT v2 against the real chiral-node: three lab peers
 * with the same settings, each listening on a TCP port besides its relay
 * reservation. The lab's public side is on `wanRange: 'global'` (see
 * lab.ts): on the default benchmarking range libp2p treats every address as
 * private and AutoNAT checks nothing.
 *
 * - pub, next to the node, port 4010: the node dials 198.20.0.1:4010 back
 *   → `public` with that address (one dial-back confirms a listen address).
 * - pub, port 4011, inbound to that port dropped (a host with a public
 *   address behind a firewall): the address is asked for, the dial-back
 *   never arrives → `private`, `not-confirmed`, once the window has passed.
 * - ha, behind a port-restricted NAT, port 4010: its only listen address is
 *   on the home LAN (private, never checked), and libp2p 3's identify drops
 *   TCP observed addresses (js-libp2p#2620), so it never even learns its
 *   NAT's address → `private`, `no-public-address`, after the window.
 */
const WINDOW_MS = 8000

const support = labSupport()
if (!support.ok) console.warn(`NAT reachability spec skipped: ${support.reason}`)

describe.skipIf(!support.ok)('NAT lab: reachability by AutoNAT v2', { timeout: 60_000 }, () => {
  const prefixes: string[] = []

  afterAll(() => {
    for (const prefix of prefixes) expect(namespacesWithPrefix(prefix)).toEqual([])
  })

  it('a peer behind a NAT or a firewall is private, a peer on the public side is public', async () => {
    const lab = await createLab({ natA: 'port-restricted', natB: 'port-restricted', wanRange: 'global' })
    prefixes.push(lab.prefix)
    try {
      const node = await startNode(lab)
      const common = {
        role: 'reachability',
        relay: node.relay,
        signalingUrl: node.signalingUrl,
        stun: `stun:${lab.pubIp}:${STUN_PORT}`,
        signaling: 'websocket',
        reachabilityWindow: WINDOW_MS
      }
      await lab.run(lab.namespaces.pub, 'iptables', ['-w', '-A', 'INPUT', '-p', 'tcp', '--dport', '4011', '-j', 'DROP'])
      const settledLine = (v: Record<string, any>): boolean => v.reachability?.status === 'public' || v.reachability?.status === 'private'
      const [home, pub, walled] = await Promise.all([
        jsonLine(startPeer(lab, lab.namespaces.ha, { ...common, listen: ['/ip4/0.0.0.0/tcp/4010'] }), settledLine, 40_000, 'peer behind the NAT'),
        jsonLine(startPeer(lab, lab.namespaces.pub, { ...common, listen: ['/ip4/0.0.0.0/tcp/4010'] }), settledLine, 40_000, 'peer on the public side'),
        jsonLine(startPeer(lab, lab.namespaces.pub, { ...common, listen: ['/ip4/0.0.0.0/tcp/4011'] }), settledLine, 40_000, 'firewalled peer on the public side')
      ])
      const show = (v: Record<string, any>): string => `${JSON.stringify(v.reachability)} after ${String(v.ms)} ms`
      console.log(`reachability: behind NAT ${show(home)}; public side ${show(pub)}; public side, firewalled ${show(walled)}`)

      expect(pub.reachability).toEqual({ status: 'public', addresses: [`/ip4/${lab.pubIp}/tcp/4010`] })
      expect(walled.reachability).toEqual({ status: 'private', reason: 'not-confirmed', candidates: [`/ip4/${lab.pubIp}/tcp/4011`], servers: 1 })
      expect(home.reachability).toEqual({ status: 'private', reason: 'no-public-address', candidates: [], servers: 1 })
      // Private only after the whole window: nothing was confirmed in it.
      expect(home.ms).toBeGreaterThanOrEqual(WINDOW_MS)
      expect(walled.ms).toBeGreaterThanOrEqual(WINDOW_MS)
    } finally {
      await lab.destroy()
      expect(lab.liveProcesses()).toBe(0)
      expect(namespacesWithPrefix(lab.prefix)).toEqual([])
    }
  })
})
