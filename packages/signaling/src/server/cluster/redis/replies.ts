/** Reads the replies of the Lua scripts (see scripts.ts) into typed values, once, here. */
import { SignalingClusterReplyError } from '../../../errors.js'
import type { RemoteMember } from '../cluster.js'

export type ClaimReply = { kind: 'taken' } | { kind: 'claimed', version: number, members: RemoteMember[] }

export interface SyncReply {
  /** Listed registrations another live instance holds now: id and the local token. */
  lost: Array<{ id: string, token: string }>
  version: number
  rooms: Array<{ room: string, members: RemoteMember[] }>
}

export function parseClaimReply (reply: unknown): ClaimReply {
  if (Array.isArray(reply) && reply[0] === 'taken') return { kind: 'taken' }
  if (!Array.isArray(reply) || reply[0] !== 'claimed' || typeof reply[1] !== 'number') {
    throw new SignalingClusterReplyError(`unexpected claim reply ${JSON.stringify(reply)}`)
  }
  return { kind: 'claimed', version: reply[1], members: pairs(reply.slice(2)) }
}

export function parseSyncReply (reply: unknown): SyncReply {
  if (!Array.isArray(reply) || !Array.isArray(reply[0]) || typeof reply[1] !== 'number') {
    throw new SignalingClusterReplyError(`unexpected sync reply ${JSON.stringify(reply)}`)
  }
  const lost = pairs(reply[0] as unknown[]).map((p) => ({ id: p.id, token: p.instance }))
  const rooms: SyncReply['rooms'] = []
  for (const entry of reply.slice(2)) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) {
      throw new SignalingClusterReplyError(`unexpected room in sync reply ${JSON.stringify(entry)}`)
    }
    rooms.push({ room: entry[0], members: pairs(entry[1]) })
  }
  return { lost, version: reply[1], rooms }
}

/** A flat `[id, instance, id, instance, …]` list. */
function pairs (flat: unknown[]): RemoteMember[] {
  const out: RemoteMember[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: String(flat[i]), instance: String(flat[i + 1]) })
  return out
}
