/**
 * Probes for the WAN lab test, run inside a lab namespace:
 *   node --import tsx probe.ts echo PORT          UDP: answers every datagram
 *   node --import tsx probe.ts sink PORT          UDP: counts datagrams; prints {"received":n} on SIGTERM
 *   node --import tsx probe.ts ping HOST PORT N   UDP: N sequential round trips: {"rtts":[ms…]}
 *   node --import tsx probe.ts blast HOST PORT N  UDP: sends N datagrams: {"sent":n}
 *   node --import tsx probe.ts listen PORT        TCP: accepts and holds connections, {"accepted":n} for each
 *   node --import tsx probe.ts connect HOST PORT  TCP: connects, prints {"connectMs":…}, holds until SIGTERM
 * `echo`, `sink` and `listen` print `ready` once bound.
 */
import { createSocket } from 'node:dgram'
import { connect, createServer } from 'node:net'
import type { Socket } from 'node:net'

const [mode, a, b, c] = process.argv.slice(2)
const socket = createSocket('udp4')
if (mode === 'listen' || mode === 'connect') socket.unref()
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

if (mode === 'echo' || mode === 'sink') {
  let received = 0
  socket.on('message', (msg, from) => {
    received++
    if (mode === 'echo') socket.send(msg, from.port, from.address)
  })
  process.once('SIGTERM', () => {
    console.log(JSON.stringify({ received }))
    socket.close()
  })
  socket.bind(Number(a), () => { console.log('ready') })
} else if (mode === 'ping') {
  const rtts: number[] = []
  let waiting: ((seq: number) => void) | undefined
  socket.on('message', (msg) => waiting?.(msg.readUInt32BE(0)))
  for (let seq = 0; seq < Number(c); seq++) {
    const sent = performance.now()
    const got = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { resolve(false) }, 2000)
      waiting = (s) => { if (s === seq) { clearTimeout(timer); resolve(true) } }
    })
    const msg = Buffer.alloc(64)
    msg.writeUInt32BE(seq, 0)
    socket.send(msg, Number(b), a)
    if (await got) rtts.push(Number((performance.now() - sent).toFixed(2)))
    await sleep(20)
  }
  console.log(JSON.stringify({ rtts }))
  socket.close()
} else if (mode === 'blast') {
  const total = Number(c)
  const msg = Buffer.alloc(200)
  let sent = 0
  // Paced (about 50k datagrams/s at most) so nothing is lost before the router.
  while (sent < total) {
    for (let i = 0; i < 50 && sent < total; i++, sent++) socket.send(msg, Number(b), a)
    await sleep(1)
  }
  await sleep(50)
  console.log(JSON.stringify({ sent }))
  socket.close()
} else if (mode === 'listen') {
  const held: Socket[] = []
  const server = createServer((s) => { held.push(s); console.log(JSON.stringify({ accepted: held.length })) })
  process.once('SIGTERM', () => { for (const s of held) s.destroy(); server.close() })
  server.listen(Number(a), () => { console.log('ready') })
} else if (mode === 'connect') {
  const started = performance.now()
  const s = connect(Number(b), a, () => { console.log(JSON.stringify({ connectMs: Number((performance.now() - started).toFixed(2)) })) })
  process.once('SIGTERM', () => { s.destroy() })
} else {
  console.error(`unknown mode ${String(mode)}`)
  process.exit(2)
}
