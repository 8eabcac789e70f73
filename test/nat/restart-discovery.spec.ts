import { afterAll, describe, expect, it } from 'vitest'
import { createLab, labSupport, namespacesWithPrefix, PUB_IP, STUN_PORT } from './lab.js'
import { jsonLine, startNode, startPeer } from './lab-processes.js'
import type { ChildProcess } from 'node:child_process'

/**
 * Discovery across a crash of the node: the real chiral-node in `pub`, a
 * sharer in home a, a fetcher in home b, both connected. The node is killed
 * (SIGKILL) and started again 3 s later with the same key file (same peer id,
 * same addresses); both peers get back to it on their own (libp2p redials a
 * lost relay: 1 s, 2.5 s, 4.75 s, 8.1 s, … after the loss). The fetcher
 * starts its fetch the moment the node is back, and must find the sharer
 * within 5 s of that, and fetch the file.
 *
 * - `datastore on disk`: the node kept the provider record (and the peer
 *   store with the sharer's relay address) in its datastore folder.
 * - `datastore in memory`: the node knows nothing after the restart; only the
 *   sharer's re-announce when it gets back to the node makes it findable.
 */
const SIZE_MIB = 4
const DOWN_MS = 3000
const FOUND_WITHIN_MS = 5000

interface Cell {
  name: string
  args: string[]
}

const CELLS: Cell[] = [
  { name: 'datastore on disk', args: [] },
  { name: 'datastore in memory (the sharer re-announces)', args: ['--datastore', 'memory'] }
]

const support = labSupport()
if (!support.ok) console.warn(`NAT restart discovery skipped: ${support.reason}`)

/** Collects the JSON lines a child prints. */
function jsonLines (child: ChildProcess): Array<Record<string, any>> {
  const lines: Array<Record<string, any>> = []
  let rest = ''
  child.stdout?.on('data', (d: Buffer) => {
    rest += d.toString()
    const parts = rest.split('\n')
    rest = parts.pop() ?? ''
    for (const line of parts) {
      if (!line.startsWith('{')) continue
      try { lines.push(JSON.parse(line) as Record<string, any>) } catch {}
    }
  })
  return lines
}

describe.skipIf(!support.ok)('NAT lab: discovery across a node crash and restart (real chiral-node)', { timeout: 120_000 }, () => {
  const prefixes: string[] = []

  afterAll(() => {
    for (const prefix of prefixes) expect(namespacesWithPrefix(prefix)).toEqual([])
  })

  it.each(CELLS)('$name: the fetcher finds the sharer within 5 s of the node being back', async (cell) => {
    const lab = await createLab({ natA: 'cone', natB: 'cone' })
    prefixes.push(lab.prefix)
    try {
      const node = await startNode(lab, { args: cell.args })
      const common = { relay: node.relay, signalingUrl: node.signalingUrl, stun: `stun:${PUB_IP}:${STUN_PORT}`, signaling: 'hybrid' }
      const sharer = startPeer(lab, lab.namespaces.ha, { ...common, role: 'share', sizeMiB: SIZE_MIB })
      const sharerLines = jsonLines(sharer)
      const shared = await jsonLine(sharer, (v) => v.ready === true, 40_000, 'sharer')
      const fetcher = startPeer(lab, lab.namespaces.hb, { ...common, role: 'fetch', cid: shared.cid, findWithinMs: 10_000, timeoutMs: 40_000, waitForSignal: true })
      const result = jsonLine(fetcher, (v) => typeof v.method === 'string' || typeof v.error === 'string', 90_000, 'fetcher')
      result.catch(() => {}) // awaited below
      await jsonLine(fetcher, (v) => v.waiting === true, 40_000, 'fetcher')

      // A crash: no shutdown, nothing flushed, the sockets just close.
      const killed = new Promise((resolve) => node.child.once('exit', resolve))
      node.child.kill('SIGKILL')
      await killed
      await new Promise((resolve) => setTimeout(resolve, DOWN_MS))
      const again = await startNode(lab, { stateDir: node.stateDir, args: cell.args })
      const backAt = Date.now()
      expect(again.relay).toBe(node.relay) // same key file: same peer id and addresses

      // A search that the node answers before it knows the sharer says "no providers": the fetcher asks again.
      fetcher.kill('SIGUSR2')
      const r = await result
      const reannounces = sharerLines.filter((l) => l.reannounce === shared.cid && l.at >= backAt - 1000)
      console.log(`nat restart (${cell.name}): found ${String(r.foundAt - backAt)} ms after the node was back (search ${String(r.findMs)} ms), ` +
        `sharer re-announced ${reannounces.map((l) => `${String(l.at - backAt)} ms (${String(l.reason)}${l.error === undefined ? '' : `, failed: ${String(l.error)}`})`).join(', ') || 'never'}, ` +
        `fetched by ${String(r.method)}`)
      expect(r.error).toBeUndefined()
      expect(r.sha256).toBe(shared.sha256)
      expect(r.bytes).toBe(SIZE_MIB * 2 ** 20)
      expect(r.foundAt - backAt).toBeLessThan(FOUND_WITHIN_MS)
      // The sharer noticed the node was back and announced again (once), without being told to.
      const returned = reannounces.filter((l) => l.reason === 'server-returned' && l.error === undefined)
      expect(returned).toHaveLength(1)
      expect(returned[0]!.at - backAt).toBeLessThan(FOUND_WITHIN_MS)
    } finally {
      await lab.destroy()
      expect(lab.liveProcesses()).toBe(0)
      expect(namespacesWithPrefix(lab.prefix)).toEqual([])
    }
  })
})
