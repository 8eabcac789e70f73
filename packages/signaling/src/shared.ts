// Platform-independent exports (protocol and clients): safe in browsers.
export { parseClientMessage, parseServerMessage, parseSignal, clientMessageSchema, serverMessageSchema, signalSchema } from './protocol/messages.js'
export type { ClientMessage, ServerMessage, ParseResult } from './protocol/messages.js'
export { CHALLENGE_DOMAIN, challengePayload, signChallenge, verifyChallenge, parsePeerId } from './protocol/auth.js'
export type { SignedRegistration } from './protocol/auth.js'
