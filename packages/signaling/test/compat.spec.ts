import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createSignalingServer, WebSocketSignaling } from '../src/index.js'
import { nextSignal, untilOpen } from './client-helpers.js'
import type { SignalingServer } from '../src/index.js'

type Frame = Record<string, unknown> & { type: string }

/**
 * A client of the earlier design's format, written from PROTOCOL.md section 2
 * alone: plain `ws`, the earlier field names, and every frame carrying its
 * own `from` as the earlier client does.
 */
class EarlierClient {
  readonly inbox: Frame[] = []
  private wake: (() => void) | undefined

  private constructor (readonly id: string, private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(data.toString()) as Frame)
      this.wake?.()
    })
  }

  static async connect (url: string, id: string): Promise<EarlierClient> {
    const ws = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => { resolve() })
      ws.once('error', reject)
    })
    return new EarlierClient(id, ws)
  }

  send (frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ from: this.id, ...frame }))
  }

  register (extra: Record<string, unknown> = {}): void {
    this.ws.send(JSON.stringify({ type: 'register', clientId: this.id, ...extra }))
  }

  /** Removes and returns the first frame of `type` matching `pred`. */
  async next (type: string, pred: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex((f) => f.type === type && pred(f))
      if (i >= 0) return this.inbox.splice(i, 1)[0]!
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.id}: no ${type} in time; inbox ${JSON.stringify(this.inbox)}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.wake = () => { clearTimeout(t); resolve() }
      })
    }
  }

  close (): void {
    this.ws.close()
  }
}

const offerSdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=offer\r\n'
const answerSdp = 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=answer\r\n'
const iceCandidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' }

describe('earlier-format clients on the signaling server', () => {
  let server: SignalingServer
  let url: string
  let ours: WebSocketSignaling
  const earlier: EarlierClient[] = []
  const connect = async (id: string): Promise<EarlierClient> => {
    const c = await EarlierClient.connect(url, id)
    earlier.push(c)
    return c
  }

  beforeAll(async () => {
    server = createSignalingServer({ port: 0, host: '127.0.0.1' })
    await server.start()
    url = `ws://127.0.0.1:${server.address()!.port}`
    ours = new WebSocketSignaling({ url, WebSocket, privateKey: await generateKeyPair('Ed25519') })
    await ours.start()
    await untilOpen(ours)
  })
  afterAll(async () => {
    for (const c of earlier) c.close()
    await ours.stop()
    await server.stop()
  })

  it('registers with {type, clientId} alone and sees our client in the peer list', async () => {
    const joined = new Promise<string>((resolve) => { ours.addEventListener('peer-joined', (e) => { resolve(e.detail) }, { once: true }) })
    const e = await connect('8c0e7a52-2f1d-4a57-9a3e-5b1f0c6d7e11')
    e.register()
    const peers = await e.next('peers')
    expect(peers).toEqual({ type: 'peers', peers: [ours.id] })
    expect(await joined).toBe(e.id)
    expect(ours.peers).toContain(e.id)
  })

  it('keeps an earlier client\'s list current with a fresh peers list after each change, our client with deltas', async () => {
    const watcher = await connect('client-watcher')
    watcher.register()
    await watcher.next('peers')
    const ourJoined = new Promise<string>((resolve) => {
      const on = (ev: CustomEvent<string>): void => { if (ev.detail === 'client-newcomer') { ours.removeEventListener('peer-joined', on); resolve(ev.detail) } }
      ours.addEventListener('peer-joined', on)
    })
    const newcomer = await connect('client-newcomer')
    newcomer.register()
    await newcomer.next('peers')
    const after = await watcher.next('peers', (f) => (f.peers as string[]).includes('client-newcomer'))
    expect(after.peers).toContain(ours.id)
    expect(after.peers).not.toContain('client-watcher')
    expect(await ourJoined).toBe('client-newcomer')

    const ourLeft = new Promise<string>((resolve) => {
      const on = (ev: CustomEvent<string>): void => { if (ev.detail === 'client-newcomer') { ours.removeEventListener('peer-left', on); resolve(ev.detail) } }
      ours.addEventListener('peer-left', on)
    })
    newcomer.close()
    const gone = await watcher.next('peers', (f) => !(f.peers as string[]).includes('client-newcomer'))
    expect(gone.peers).toContain(ours.id)
    expect(await ourLeft).toBe('client-newcomer')
  })

  it('earlier → ours: an offer with an sdp object, answered; candidates both ways; a spoofed from is replaced', async () => {
    const e = await connect('client-offerer')
    e.register({ nickname: 'extra fields are fine' })
    await e.next('peers')

    const offer = nextSignal(ours, (s) => s.from === e.id)
    // The earlier client writes its own `from`; here a lie, which the server must not trust.
    e.send({ type: 'offer', from: 'mallory', to: ours.id, sdp: { type: 'offer', sdp: offerSdp }, trace: 7 })
    const got = await offer
    expect(got.from).toBe(e.id)
    expect(got.message).toEqual({ type: 'offer', sdp: offerSdp })

    await ours.send(e.id, { type: 'answer', sdp: answerSdp, session: 's-1' })
    const answer = await e.next('answer')
    expect(answer).toMatchObject({ type: 'answer', from: ours.id, sdp: { type: 'answer', sdp: answerSdp } })

    const candidate = nextSignal(ours, (s) => s.from === e.id && s.message.type === 'candidate')
    e.send({ type: 'candidate', to: ours.id, candidate: iceCandidate })
    expect((await candidate).message).toEqual({ type: 'candidate', candidate: iceCandidate })

    await ours.send(e.id, { type: 'candidate', candidate: iceCandidate, session: 's-1' })
    expect(await e.next('candidate')).toMatchObject({ type: 'candidate', from: ours.id, candidate: iceCandidate })
  })

  it('ours → earlier: our string sdp arrives as an object; an answer with sdp as a string comes back', async () => {
    const e = await connect('client-answerer')
    e.register()
    await e.next('peers')

    await ours.send(e.id, { type: 'offer', sdp: offerSdp, session: 's-2' })
    const offer = await e.next('offer')
    expect(offer).toMatchObject({ type: 'offer', from: ours.id, sdp: { type: 'offer', sdp: offerSdp } })

    const answer = nextSignal(ours, (s) => s.from === e.id)
    e.send({ type: 'answer', to: offer.from, sdp: answerSdp })
    expect((await answer).message).toEqual({ type: 'answer', sdp: answerSdp })

    const answerObject = nextSignal(ours, (s) => s.from === e.id)
    e.send({ type: 'answer', to: offer.from, sdp: { type: 'answer', sdp: answerSdp } })
    expect((await answerObject).message).toEqual({ type: 'answer', sdp: answerSdp })
  })

  it('earlier ↔ earlier: signals pass as sent, with a server-stamped from', async () => {
    const a = await connect('client-a')
    const b = await connect('client-b')
    a.register()
    await a.next('peers')
    b.register()
    await b.next('peers')
    a.send({ type: 'offer', to: b.id, from: 'client-b', sdp: { type: 'offer', sdp: offerSdp } })
    expect(await b.next('offer')).toEqual({ type: 'offer', from: a.id, sdp: { type: 'offer', sdp: offerSdp } })
    b.send({ type: 'answer', to: a.id, sdp: { type: 'answer', sdp: answerSdp } })
    expect(await a.next('answer')).toEqual({ type: 'answer', from: b.id, sdp: { type: 'answer', sdp: answerSdp } })
    // Between two earlier-format connections nothing is rewritten: a string stays a string.
    b.send({ type: 'answer', to: a.id, sdp: answerSdp })
    expect(await a.next('answer')).toEqual({ type: 'answer', from: b.id, sdp: answerSdp })
  })

  it('a register with format "chiral" (or a room, or a signature) is served our format: deltas only, sdp as sent', async () => {
    const anon = new WebSocketSignaling({ url, WebSocket, id: 'ours-anonymous' })
    const raw = await connect('raw-ours')
    try {
      await anon.start()
      await untilOpen(anon)
      raw.register({ format: 'chiral' })
      await raw.next('peers')
      const e = await connect('client-mixed')
      e.register()
      await e.next('peers')
      expect(await raw.next('peer-joined')).toEqual({ type: 'peer-joined', clientId: e.id })

      // Our anonymous client, without a room, still sends strings that reach the earlier client as objects.
      await anon.send(e.id, { type: 'offer', sdp: offerSdp })
      expect(await e.next('offer')).toEqual({ type: 'offer', from: anon.id, sdp: { type: 'offer', sdp: offerSdp } })
      const answer = nextSignal(anon, (sig) => sig.from === e.id)
      e.send({ type: 'answer', to: anon.id, sdp: { type: 'answer', sdp: answerSdp } })
      expect((await answer).message).toEqual({ type: 'answer', sdp: answerSdp })

      // The raw client of our format gets the object as it was sent, and no peers lists.
      e.send({ type: 'offer', to: raw.id, sdp: { type: 'offer', sdp: offerSdp } })
      expect(await raw.next('offer')).toEqual({ type: 'offer', from: e.id, sdp: { type: 'offer', sdp: offerSdp } })
      expect(raw.inbox.filter((f) => f.type === 'peers')).toEqual([])
    } finally {
      await anon.stop()
    }
    await raw.next('peer-left', (f) => f.clientId === 'ours-anonymous')
  })

  it('ping with ts and from gets a pong, before and after registering', async () => {
    const e = await connect('client-pinger')
    e.send({ type: 'ping', ts: 1700000000123 })
    expect(await e.next('pong')).toEqual({ type: 'pong', ts: 1700000000123 })
    e.register()
    await e.next('peers')
    e.send({ type: 'ping', ts: 42, extra: true })
    expect(await e.next('pong')).toEqual({ type: 'pong', ts: 42 })
  })

  it('an unknown target is answered with {type: "error", message, code}', async () => {
    const e = await connect('client-lost')
    e.register()
    await e.next('peers')
    e.send({ type: 'offer', to: 'nobody', sdp: { type: 'offer', sdp: offerSdp } })
    const err = await e.next('error')
    expect(err).toEqual({ type: 'error', code: 'unknown-peer', message: expect.any(String) as string })
    expect(err.message).toContain('nobody')
  })

  it('the list on register holds everyone in the room but the client itself', async () => {
    const e = await connect('client-late')
    e.register()
    const { peers } = await e.next('peers')
    const live = earlier.filter((c) => c !== e && c.id !== 'client-newcomer').map((c) => c.id)
    expect(new Set(peers as string[])).toEqual(new Set([ours.id, ...live]))
  })
})
