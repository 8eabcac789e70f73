/**
 * One peer of bench/webrtc-datachannel.ts (run by it inside a network
 * namespace; signaling goes through the parent over stdio).
 *
 *   node --conditions=source --import tsx bench/webrtc-datachannel-peer.ts <mode> <offer|answer> <trials> <bytes>
 *
 * Modes: `raw` (node-datachannel's RTCPeerConnection used directly, default
 * SDP), `raw-offerer-dtls-client` (the same with the answerer reading the
 * offer as `a=setup:active`, as Chiral's path does), `chiral` (Chiral's
 * WebRTC path dialer/listener and DataChannel MessageChannel).
 * The offerer connects `trials` times (setup time each), then sends `bytes`
 * in 256 KiB messages on one more connection; the answerer reports the
 * receive rate.
 */
import { randomFillSync } from 'node:crypto'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { WebRTCListener } from '../packages/transport/src/paths/webrtc-listener.js'
import { WebRTCPathDialer } from '../packages/transport/src/paths/webrtc.js'
import { NodeRTCPeerConnection } from '../packages/transport/src/webrtc/node-peer-connection.js'
import { candidateFromWire, candidateToWire, offerWithOffererAsDtlsClient } from '../packages/transport/src/webrtc/sdp.js'
import { StdioSignaling, finishWith, printLine } from '../packages/transport/test/support/stdio-signaling.js'
import type { IceCandidate, SignalEvent, SignalMessage } from '@chiral/core'

// CHIRAL_NDC_LOG=Info (Debug, Verbose, Warning) prints libdatachannel's log on stderr.
if (process.env.CHIRAL_NDC_LOG != null) {
  const { initLogger } = await import('node-datachannel')
  initLogger(process.env.CHIRAL_NDC_LOG as 'Info', (level, message) => { process.stderr.write(`${performance.now().toFixed(1)} [${level}] ${message}\n`) })
}

const [mode = 'raw', role = 'offer', trialsArg = '5', bytesArg = String(128 * 1024 * 1024)] = process.argv.slice(2)
const trials = Number(trialsArg)
const bytes = Number(bytesArg)
const MESSAGE = 256 * 1024
const HIGH_WATER = 4 * 1024 * 1024
const LOW_WATER = 1024 * 1024
const PROTOCOL = '/chiral/bench/1.0.0'
const self = role === 'offer' ? 'offerer' : 'answerer'
const remote = role === 'offer' ? 'answerer' : 'offerer'

// The offerer starts when the parent says so (once the answerer listens).
let go: () => void = () => {}
const started = new Promise<void>((resolve) => { go = resolve })
const signaling = new StdioSignaling(self, (line) => { if (line.go === true) go() })
await signaling.start()
if (role === 'offer') await started

/** Receives `bytes`, returns MB/s from the first message to the last byte. */
function receiveRate (onMessage: (cb: (size: number) => void) => void): Promise<{ mbPerSecond: number, ms: number }> {
  return new Promise((resolve) => {
    let got = 0
    let t0 = 0
    onMessage((size) => {
      if (got === 0) t0 = performance.now()
      got += size
      if (got >= bytes) {
        const ms = performance.now() - t0
        resolve({ mbPerSecond: bytes / 1e6 / (ms / 1000), ms })
      }
    })
  })
}

// ---- raw node-datachannel ----------------------------------------------------

interface RawPeer { pc: RTCPeerConnection, dc: Promise<RTCDataChannel> }

function rawPeer (session: string, offer?: string): RawPeer {
  const pc = new RTCPeerConnection({ iceServers: [] }) as unknown as globalThis.RTCPeerConnection
  const queue: IceCandidate[] = []
  let described = false
  pc.addEventListener('icecandidate', (e) => {
    if (e.candidate != null) void signaling.send(remote, { type: 'candidate', candidate: candidateToWire(e.candidate), session })
  })
  const onSignal = (event: CustomEvent<SignalEvent>): void => {
    const m = event.detail.message
    if (m.session !== session) return
    if (m.type === 'candidate' && m.candidate != null) {
      if (described) pc.addIceCandidate(candidateFromWire(m.candidate)).catch(() => {})
      else queue.push(m.candidate)
    } else if (m.type === 'answer') {
      void pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).then(() => {
        described = true
        for (const c of queue.splice(0)) pc.addIceCandidate(candidateFromWire(c)).catch(() => {})
      })
    }
  }
  signaling.addEventListener('signal', onSignal)
  let dc: Promise<RTCDataChannel>
  if (offer == null) {
    const channel = pc.createDataChannel('bench', { ordered: true })
    dc = new Promise(resolve => { channel.addEventListener('open', () => { resolve(channel) }, { once: true }) })
    void pc.createOffer().then(async (o) => {
      await pc.setLocalDescription(o)
      await signaling.send(remote, { type: 'offer', sdp: o.sdp ?? '', session })
    })
  } else {
    dc = new Promise(resolve => { pc.addEventListener('datachannel', (e) => { resolve(e.channel) }, { once: true }) })
    const sdp = mode === 'raw-offerer-dtls-client' ? offerWithOffererAsDtlsClient(offer) : offer
    void pc.setRemoteDescription({ type: 'offer', sdp }).then(async () => {
      described = true
      for (const c of queue.splice(0)) pc.addIceCandidate(candidateFromWire(c)).catch(() => {})
      const a = await pc.createAnswer()
      await pc.setLocalDescription(a)
      await signaling.send(remote, { type: 'answer', sdp: a.sdp ?? '', session })
    })
  }
  void dc.then(() => { signaling.removeEventListener('signal', onSignal) })
  return { pc: pc as unknown as RTCPeerConnection, dc }
}

async function rawSend (dc: RTCDataChannel): Promise<void> {
  dc.bufferedAmountLowThreshold = LOW_WATER
  const done = new Promise<void>(resolve => { dc.addEventListener('message', () => { resolve() }, { once: true }) })
  for (let sent = 0; sent < bytes; sent += MESSAGE) {
    dc.send(randomFillSync(new Uint8Array(MESSAGE)))
    if (dc.bufferedAmount > HIGH_WATER) {
      await new Promise<void>(resolve => { dc.addEventListener('bufferedamountlow', () => { resolve() }, { once: true }) })
    }
  }
  await done
}

async function rawOfferer (): Promise<unknown> {
  const setupMs: number[] = []
  for (let i = 0; i <= trials; i++) {
    const t0 = performance.now()
    const { pc, dc } = rawPeer(`raw-${i}`)
    const channel = await dc
    setupMs.push(performance.now() - t0)
    if (i === trials) await rawSend(channel)
    else await new Promise<void>(resolve => { channel.addEventListener('message', () => { resolve() }, { once: true }) })
    pc.close()
  }
  return { setupMs }
}

async function rawAnswerer (): Promise<unknown> {
  let n = 0
  let rate: { mbPerSecond: number, ms: number } | undefined
  await new Promise<void>((resolve) => {
    signaling.addEventListener('signal', (event) => {
      const m: SignalMessage = event.detail.message
      if (m.type !== 'offer') return
      const last = n++ === trials
      const { dc } = rawPeer(m.session ?? '', m.sdp)
      void dc.then(async (channel) => {
        channel.binaryType = 'arraybuffer'
        if (!last) { channel.send('ok'); return }
        rate = await receiveRate(cb => { channel.addEventListener('message', (e) => { cb((e.data as ArrayBuffer).byteLength) }) })
        channel.send('done')
        setTimeout(resolve, 200)
      })
    })
    printLine({ ready: true })
  })
  return rate
}

// ---- Chiral's path --------------------------------------------------------------

const init = { iceServers: [], connectTimeout: 10_000 }

async function chiralOfferer (): Promise<unknown> {
  const dialer = new WebRTCPathDialer({ signaling, RTCPeerConnection: NodeRTCPeerConnection }, init)
  const setupMs: number[] = []
  for (let i = 0; i <= trials; i++) {
    const t0 = performance.now()
    const channel = await dialer.dial({ peerId: remote, multiaddrs: [] }, PROTOCOL)
    setupMs.push(performance.now() - t0)
    if (i === trials) {
      for (let sent = 0; sent < bytes; sent += MESSAGE) await channel.send(randomFillSync(new Uint8Array(MESSAGE)))
    }
    await channel.close()
    // Like the raw modes, start the next connection once this one is fully closed
    // (back-to-back connections otherwise hit an intermittent DTLS failure, see the report).
    for (let t = 0; t < 100 && channel.status !== 'closed'; t++) await new Promise(resolve => setTimeout(resolve, 20))
  }
  return { setupMs, maxMessageSize: MESSAGE }
}

async function chiralAnswerer (): Promise<unknown> {
  const listener = new WebRTCListener({ signaling, RTCPeerConnection: NodeRTCPeerConnection }, init)
  listener.addEventListener('session:error', (e) => { process.stderr.write(`answerer session ${e.detail.session} failed: ${e.detail.error.stack ?? e.detail.error.message}\n`) })
  let n = 0
  let rate: { mbPerSecond: number, ms: number } | undefined
  await new Promise<void>((resolve) => {
    listener.handle(PROTOCOL, (channel) => {
      const last = n++ === trials
      void (async () => {
        if (last) {
          let got = 0
          let t0 = 0
          for await (const m of channel) {
            if (got === 0) t0 = performance.now()
            got += m.byteLength
          }
          const ms = performance.now() - t0
          rate = { mbPerSecond: got / 1e6 / (ms / 1000), ms }
        } else {
          for await (const _ of channel) { /* until the offerer closes */ }
        }
        await channel.close()
        if (last) resolve()
      })()
    })
    void listener.start().then(() => { printLine({ ready: true }) })
  })
  await listener.stop()
  return rate
}

const run = mode === 'chiral'
  ? (role === 'offer' ? chiralOfferer : chiralAnswerer)
  : (role === 'offer' ? rawOfferer : rawAnswerer)
finishWith(await run())
