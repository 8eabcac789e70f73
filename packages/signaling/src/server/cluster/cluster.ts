import type { SignalingErrorCode } from '../../errors.js'
import type { Startable } from '@chiral/core'
import type { TypedEventTarget } from 'main-event'

/**
 * The cross-instance side of the signaling server. One server instance holds
 * its own clients' WebSockets; a cluster lets several instances behave as one
 * server: one id space, rooms that span instances, signals routed to the
 * instance that holds the target.
 *
 * The server consults it at four points:
 *
 *     register ──▶ claim(reg)      the id across all instances (id-taken / takeover),
 *                                   and the room's members on other instances
 *     leave    ──▶ release(reg)    other instances send peer-left
 *     signal   ──▶ forward(to, …)  when `to` is not a local client
 *     events   ◀── member:joined / member:left / forward / replaced / bounce
 *
 * `localCluster()` is the single-instance no-op; `redisCluster()` shares
 * presence and messages through Redis.
 */
export interface SignalingCluster extends TypedEventTarget<SignalingClusterEvents>, Startable {
  /** False for the single-instance no-op: the server then decides everything locally and synchronously. */
  readonly shared: boolean
  readonly instanceId: string
  status(): ClusterStatus
  /** Claims `reg.id` cluster-wide. `signed` claims take the id over; anonymous ones fail while it is live elsewhere. */
  claim(reg: LocalRegistration, signed: boolean): Promise<ClaimOutcome>
  /** Gives up a claim (no-op unless this registration still holds the id). Fire and forget. */
  release(reg: LocalRegistration): void
  /** Sends a serialised signal frame to the instance that holds `to`. */
  forward(to: string, from: string, frame: string): Promise<ForwardOutcome>
  /** Tells the instance `origin` that the signal its client `to` sent could not be delivered. */
  bounce(origin: string, to: string, code: SignalingErrorCode, message: string): void
}

/** What the server gives the cluster (dependencies, not settings). */
export interface ClusterComponents {
  /** The registrations this instance holds now; read whenever presence is published again. */
  localRegistrations(): LocalRegistration[]
}

export type SignalingClusterFactory = (components: ClusterComponents) => SignalingCluster

/** One registered client of this instance. `token` tells two registrations of one id apart. */
export interface LocalRegistration {
  id: string
  room: string
  token: string
}

/** A room member that another instance holds. */
export interface RemoteMember {
  id: string
  instance: string
}

export type ClaimOutcome =
  /** The id is ours; `members` are the room's members on other instances, as of `version`. */
  | { kind: 'claimed', members: RemoteMember[], version: number }
  /** A live anonymous registration elsewhere holds the id. */
  | { kind: 'taken' }
  /** The cluster cannot be reached: register locally; presence is published once it is back. */
  | { kind: 'unavailable' }

/** `unknown`: no live instance holds the id; `unavailable`: the cluster cannot be reached. */
export type ForwardOutcome = 'sent' | 'unknown' | 'unavailable'

export type ClusterState = 'connecting' | 'syncing' | 'ready' | 'unavailable' | 'stopped'

export type ClusterStatus =
  | { mode: 'local' }
  | { mode: 'redis', instanceId: string, state: ClusterState, connected: boolean, since: number, error?: string }

/**
 * Membership news carries a `version`: a number that grows with every
 * membership change, cluster-wide. Events and full lists travel different
 * paths and may be handled out of order; the version says which is newer.
 */
export interface SignalingClusterEvents {
  /** A signal for a local client, from a client on the instance `origin`. */
  forward: CustomEvent<{ to: string, from: string, origin: string, frame: string }>
  /** Someone on another instance joined `room`. */
  'member:joined': CustomEvent<{ room: string, id: string, instance: string, version: number }>
  /** Someone on another instance left `room`. */
  'member:left': CustomEvent<{ room: string, id: string, instance: string, version: number }>
  /** The full list of `room`'s members on other instances (after presence was published again). */
  members: CustomEvent<{ room: string, members: RemoteMember[], version: number }>
  /** Versions start over (the connection was lost; Redis may have restarted): older ones mean nothing now. */
  'versions:reset': CustomEvent<undefined>
  /** The cluster stopped watching `room` (no local member for a while). */
  'room:unwatched': CustomEvent<{ room: string }>
  /** A newer registration elsewhere holds `id`: close the local one with this token. */
  replaced: CustomEvent<{ id: string, token: string }>
  /** A signal sent by the local client `to` could not be delivered on another instance. */
  bounce: CustomEvent<{ to: string, code: SignalingErrorCode, message: string }>
  /** The cluster's connection state changed. */
  status: CustomEvent<ClusterStatus>
}
