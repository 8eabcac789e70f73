/**
 * An app of the earlier design against the real built chiral-node, changing
 * only the signaling URL: it speaks the earlier format (PROTOCOL.md of
 * @chiral/signaling, section 2) and sets up signaling with one of our
 * clients in both directions. Build the node first
 * (`pnpm --filter ./apps/node build`).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { WebSocketSignaling } from '@chiral/signaling'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startChiralNode } from '../browser/support/node-process.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'
import type { SignalEvent } from '@chiral/core'

const REPO = new URL('../..', import.meta.url).pathname
const WORK = join(REPO, '.tmp', 'compat-tests')
const NODE_BUNDLE = join(REPO, 'apps', 'node', 'dist', 'chiral-node.mjs')

type Frame = Record<string, unknown> & { type: string }

/**
 * What an earlier-design app does on the wire: registers with its id as soon
 * as the socket opens, adds its own `from` to everything it sends, answers
 * offers with a session description object, and keeps the peers it hears of.
 */
class EarlierApp {
  readonly peers = new Set<string>()
  readonly inbox: Frame[] = []
  private waiters: Array<() => void> = []

  private constructor (readonly clientId: string, private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame
      if (frame.type === 'peers') for (const id of frame.peers as string[]) this.peers.add(id)
      this.inbox.push(frame)
      for (const w of this.waiters.splice(0)) w()
    })
  }

  static async open (url: string, clientId: string): Promise<EarlierApp> {
    const ws = new WebSocket(url)
    await new Promise<void>((resolve, reject) => { ws.once('open', () => { resolve() }); ws.once('error', reject) })
    const app = new EarlierApp(clientId, ws)
    ws.send(JSON.stringify({ type: 'register', clientId }))
    return app
  }

  send (message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ ...message, from: this.clientId }))
  }

  async next (pred: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex(pred)
      if (i >= 0) return this.inbox.splice(i, 1)[0]!
      if (Date.now() > deadline) throw new Error(`${this.clientId}: nothing matching in time; inbox ${JSON.stringify(this.inbox)}`)
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 100) })
    }
  }

  close (): void {
    this.ws.close()
  }
}

async function signalFrom (client: WebSocketSignaling, from: string, type: string): Promise<SignalEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no ${type} from ${from}`)) }, 10_000)
    const on = (e: CustomEvent<SignalEvent>): void => {
      if (e.detail.from !== from || e.detail.message.type !== type) return
      clearTimeout(timer)
      client.removeEventListener('signal', on)
      resolve(e.detail)
    }
    client.addEventListener('signal', on)
  })
}

const offerSdp = 'v=0\r\no=- 11 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'
const answerSdp = 'v=0\r\no=- 12 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'
const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u1' }

describe('an earlier-design app on the built chiral-node', () => {
  let node: ChiralNodeProcess
  let ours: WebSocketSignaling
  let app: EarlierApp

  beforeAll(async () => {
    expect(existsSync(NODE_BUNDLE), 'build the node first: pnpm --filter ./apps/node build').toBe(true)
    rmSync(WORK, { recursive: true, force: true })
    mkdirSync(WORK, { recursive: true })
    node = await startChiralNode({ bundle: NODE_BUNDLE, host: '127.0.0.1', workDir: WORK, args: ['--datastore', 'memory'] })
    app = await EarlierApp.open(node.signalingUrl, globalThis.crypto.randomUUID())
    await app.next((f) => f.type === 'peers')
    ours = new WebSocketSignaling({ url: node.signalingUrl, WebSocket, privateKey: await generateKeyPair('Ed25519') })
    const open = new Promise<void>((resolve) => {
      ours.addEventListener('state', (e) => { if (e.detail.status === 'open') resolve() })
    })
    await ours.start()
    await open
  })

  afterAll(async () => {
    app?.close()
    await ours?.stop()
    await node?.stop()
    rmSync(WORK, { recursive: true, force: true })
  })

  it('hears of our client through a fresh peers list', async () => {
    await app.next((f) => f.type === 'peers' && (f.peers as string[]).includes(ours.id))
    expect(app.peers.has(ours.id)).toBe(true)
    expect(ours.peers).toContain(app.clientId)
  })

  it('offers to our client and gets its answer and candidates', async () => {
    const offer = signalFrom(ours, app.clientId, 'offer')
    app.send({ type: 'offer', to: ours.id, sdp: { type: 'offer', sdp: offerSdp } })
    expect((await offer).message).toEqual({ type: 'offer', sdp: offerSdp })

    await ours.send(app.clientId, { type: 'answer', sdp: answerSdp })
    await ours.send(app.clientId, { type: 'candidate', candidate })
    expect(await app.next((f) => f.type === 'answer')).toMatchObject({ from: ours.id, sdp: { type: 'answer', sdp: answerSdp } })
    expect(await app.next((f) => f.type === 'candidate')).toMatchObject({ from: ours.id, candidate })

    const theirs = signalFrom(ours, app.clientId, 'candidate')
    app.send({ type: 'candidate', to: ours.id, candidate })
    expect((await theirs).message).toEqual({ type: 'candidate', candidate })
  })

  it('answers an offer from our client with a session description object', async () => {
    await ours.send(app.clientId, { type: 'offer', sdp: offerSdp, session: 'compat-1' })
    const offer = await app.next((f) => f.type === 'offer')
    expect(offer).toMatchObject({ from: ours.id, sdp: { type: 'offer', sdp: offerSdp } })
    const answer = signalFrom(ours, app.clientId, 'answer')
    app.send({ type: 'answer', to: offer.from, sdp: { type: 'answer', sdp: answerSdp } })
    expect((await answer).message).toEqual({ type: 'answer', sdp: answerSdp })
  })

  it('gets pong for its heartbeat and an error with message and code for an unknown target', async () => {
    app.send({ type: 'ping', ts: 1_700_000_000_000 })
    expect(await app.next((f) => f.type === 'pong')).toEqual({ type: 'pong', ts: 1_700_000_000_000 })
    app.send({ type: 'offer', to: 'gone-peer', sdp: { type: 'offer', sdp: offerSdp } })
    const error = await app.next((f) => f.type === 'error')
    expect(error).toMatchObject({ code: 'unknown-peer' })
    expect(error.message).toEqual(expect.stringContaining('gone-peer'))
  })
})
