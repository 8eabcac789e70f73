/**
 * The wire protocol of the WebSocket signaling server: JSON text frames, one
 * object with a `type`. Every frame is validated once, here, against a tagged
 * union; the rest of the package only sees the typed results. See PROTOCOL.md.
 */
import { z } from 'zod'
import { SIGNALING_ERROR_CODES } from '../errors.js'
import type { SignalMessage } from '@chiral/core'

/** Visible ASCII, 1–128 characters: anonymous ids, PeerId strings, room names. */
export const clientIdSchema = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/)
/** Correlates the messages of one WebRTC attempt between two peers. */
export const sessionSchema = z.string().min(1).max(128)
const base64url = z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/)

export const iceCandidateSchema = z.object({
  candidate: z.string().max(4096),
  sdpMid: z.string().max(256).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(65535).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional()
})

/**
 * A session description as `RTCSessionDescription.toJSON()` gives it. The
 * earlier design's clients send and expect the whole object in `sdp`; ours
 * send the SDP text alone. The server accepts both (PROTOCOL.md,
 * "Compatibility with the earlier format").
 */
export const sessionDescriptionSchema = z.object({
  type: z.enum(['offer', 'answer', 'pranswer']),
  sdp: z.string()
})
/** `sdp` of an offer or answer on the WebSocket protocol: the text, or a session description. */
export const sdpSchema = z.union([z.string(), sessionDescriptionSchema])

export type SessionDescription = z.infer<typeof sessionDescriptionSchema>

/** The SDP text of either form of `sdp`. */
export function sdpText (sdp: string | SessionDescription): string {
  return typeof sdp === 'string' ? sdp : sdp.sdp
}

/** The three kinds of signal, as peers exchange them (no addressing). */
export const signalSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer'), sdp: z.string(), session: sessionSchema.optional() }),
  z.object({ type: z.literal('answer'), sdp: z.string(), session: sessionSchema.optional() }),
  z.object({ type: z.literal('candidate'), candidate: iceCandidateSchema.nullable(), session: sessionSchema.optional() })
])

/** Client → server. Unknown fields (e.g. a client-supplied `from`) are dropped. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('register'),
    clientId: clientIdSchema,
    room: clientIdSchema.optional(),
    publicKey: base64url.optional(),
    signature: base64url.optional(),
    /** Our clients say so; an anonymous `register` with none of `room`, `signature`, `publicKey`, `format` is served the earlier format. */
    format: z.literal('chiral').optional()
  }),
  z.object({ type: z.literal('offer'), to: clientIdSchema, sdp: sdpSchema, session: sessionSchema.optional() }),
  z.object({ type: z.literal('answer'), to: clientIdSchema, sdp: sdpSchema, session: sessionSchema.optional() }),
  z.object({ type: z.literal('candidate'), to: clientIdSchema, candidate: iceCandidateSchema.nullable(), session: sessionSchema.optional() }),
  z.object({ type: z.literal('ping'), ts: z.number().finite() })
])

/** Server → client. */
export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('challenge'), nonce: z.string().min(1).max(256) }),
  z.object({ type: z.literal('peers'), peers: z.array(clientIdSchema) }),
  z.object({ type: z.literal('peer-joined'), clientId: clientIdSchema }),
  z.object({ type: z.literal('peer-left'), clientId: clientIdSchema }),
  z.object({ type: z.literal('offer'), from: clientIdSchema, sdp: sdpSchema, session: sessionSchema.optional() }),
  z.object({ type: z.literal('answer'), from: clientIdSchema, sdp: sdpSchema, session: sessionSchema.optional() }),
  z.object({ type: z.literal('candidate'), from: clientIdSchema, candidate: iceCandidateSchema.nullable(), session: sessionSchema.optional() }),
  z.object({ type: z.literal('pong'), ts: z.number() }),
  z.object({ type: z.literal('error'), code: z.enum(SIGNALING_ERROR_CODES), message: z.string() })
])

export type ClientMessage = z.infer<typeof clientMessageSchema>
export type ServerMessage = z.infer<typeof serverMessageSchema>
export type RegisterMessage = Extract<ClientMessage, { type: 'register' }>
export type ForwardMessage = Extract<ClientMessage, { type: 'offer' | 'answer' | 'candidate' }>
export type ForwardedMessage = Extract<ServerMessage, { type: 'offer' | 'answer' | 'candidate' }>

export type ParseResult<T> = { ok: true, message: T } | { ok: false, reason: string }

function parseWith<T> (schema: z.ZodType<T>, text: string): ParseResult<T> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'not JSON' }
  }
  const result = schema.safeParse(json)
  if (result.success) return { ok: true, message: result.data }
  const issue = result.error.issues[0]
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`
  return { ok: false, reason: `${issue?.message ?? 'invalid message'}${where}` }
}

export function parseClientMessage (text: string): ParseResult<ClientMessage> {
  return parseWith(clientMessageSchema, text)
}

export function parseServerMessage (text: string): ParseResult<ServerMessage> {
  return parseWith(serverMessageSchema, text)
}

/** Validates a signal received from a peer (libp2p backend). */
export function parseSignal (text: string): ParseResult<SignalMessage> {
  return parseWith(signalSchema, text) as ParseResult<SignalMessage>
}

/**
 * The signal part of a forwarded frame, with `session` kept when present. A
 * session description object in `sdp` (from an earlier-format sender) becomes
 * its SDP text, as core's `SignalMessage` has it.
 */
export function toSignal (m: ForwardedMessage | ForwardMessage): SignalMessage {
  const session = m.session === undefined ? {} : { session: m.session }
  switch (m.type) {
    case 'offer': return { type: 'offer', sdp: sdpText(m.sdp), ...session }
    case 'answer': return { type: 'answer', sdp: sdpText(m.sdp), ...session }
    case 'candidate': return { type: 'candidate', candidate: m.candidate, ...session }
  }
}

/** The receiver's answer to one signal on the libp2p protocol. */
export const libp2pReplySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ack') }),
  z.object({ type: z.literal('error'), code: z.enum(['bad-message', 'too-large']), message: z.string() })
])

export type Libp2pReply = z.infer<typeof libp2pReplySchema>

export function parseLibp2pReply (text: string): ParseResult<Libp2pReply> {
  return parseWith(libp2pReplySchema, text)
}
