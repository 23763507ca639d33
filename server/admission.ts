// Who gets a handshake slot when they run short. No sockets and no clock here (the server
// passes `now`), so every rule is unit-tested on its own (test/server-admission.test.ts).
//
// Rules, in order, for a newcomer:
// - its address group (an IPv4 address; an IPv6 /64, the block one subscriber usually holds)
//   already has `maxPerGroup` pending handshakes: it is refused (a backstop only: many devices
//   behind one NAT are normal, so the default is high);
// - the slots are all taken: it is admitted, and the pending handshake that goes is the
//   longest-silent one of the group holding the most — a flood from one address pays for
//   itself, and a newcomer from anywhere else always gets in.
// Pending handshakes that have sent nothing at all are also handed back by takeSilent() after
// `silentTimeoutMs`, a shorter timeout than the handshake's (the server explains the figure).
//
// Cost: O(1) per admit, heard and release, whatever the number of connections or groups
// (a group keeps its handshakes in last-heard order in a Set, and groups sit in buckets by
// their count); choosing among groups tied at the top looks at most TIE_SCAN of them.

import { REFUSED_ADDRESS_LIMIT } from "./reasons.js";

/** Among groups tied for the most pending handshakes, how many are compared for the longest-silent one. */
const TIE_SCAN = 16;

/** One pending handshake, as admission tracks it. */
export interface Pending<T> {
  readonly item: T;
  readonly group: string;
  readonly admittedAt: number;
  /** When the last byte arrived; the admission time while none has. */
  heardAt: number;
  /** Whether any byte has arrived. */
  heard: boolean;
  /** Still holding a slot. */
  active: boolean;
}

export interface AdmissionLimits {
  /** Handshake slots. */
  maxHandshakes: number;
  /** Most pending handshakes per address group. */
  maxPerGroup: number;
  /** A handshake that has sent nothing for this long is handed back by takeSilent(). */
  silentTimeoutMs: number;
}

export interface Verdict<T> {
  /** The newcomer's entry, or null when refused. */
  admitted: Pending<T> | null;
  /** Why the newcomer was refused ("" when admitted). */
  refusal: string;
  /** A pending handshake that lost its slot to the newcomer, already released. */
  evicted: T | null;
}

interface Group<T> {
  readonly key: string;
  /** Pending handshakes, longest-silent first. */
  readonly pending: Set<Pending<T>>;
}

/**
 * The address group of a peer: IPv4 (and IPv4-mapped IPv6) as the address itself, IPv6 as its
 * first 64 bits (one subscriber's block), anything else as given.
 */
export function addressGroup(address: string): string {
  if (address.startsWith("::ffff:") && address.indexOf(".") > 0) return address.slice(7);
  if (address.indexOf(":") < 0) return address;
  const zone = address.indexOf("%");
  const bare = zone >= 0 ? address.slice(0, zone) : address;
  const halves = bare.split("::");
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  // An embedded IPv4 tail counts as two groups of 16 bits.
  const tailWords = tail.reduce((n, part) => n + (part.indexOf(".") >= 0 ? 2 : 1), 0);
  const words = halves.length > 1 ? [...head, ...Array(Math.max(0, 8 - head.length - tailWords)).fill("0"), ...tail] : head;
  const prefix = words.slice(0, 4).map((w) => (Number.parseInt(w, 16) || 0).toString(16));
  return prefix.join(":") + "::/64";
}

export class Admission<T> {
  private readonly limits: AdmissionLimits;
  private readonly groups = new Map<string, Group<T>>();
  /** buckets[c]: the groups with exactly c pending handshakes. */
  private readonly buckets: Array<Set<Group<T>>> = [new Set()];
  private top = 0;
  private count = 0;
  /** Pending handshakes that have not sent a byte, in admission order. */
  private readonly silent = new Set<Pending<T>>();

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
  }

  /** Handshakes holding a slot. */
  get size(): number {
    return this.count;
  }

  /** Pending handshakes of one address group. */
  pendingIn(group: string): number {
    const g = this.groups.get(group);
    return g ? g.pending.size : 0;
  }

  /** The most pending handshakes any one group holds. */
  get largestGroup(): number {
    return this.top;
  }

  /** Why a newcomer from `group` would be refused, or "": the server asks before it builds the connection. */
  refusal(group: string): string {
    return this.pendingIn(group) >= this.limits.maxPerGroup ? REFUSED_ADDRESS_LIMIT : "";
  }

  /** Decides on a newcomer from `group` (see the rules at the top of this file). */
  admit(item: T, group: string, now: number): Verdict<T> {
    const refusal = this.refusal(group);
    if (refusal) return { admitted: null, refusal, evicted: null };
    const entry: Pending<T> = { item, group, admittedAt: now, heardAt: now, heard: false, active: true };
    this.add(entry);
    let evicted: T | null = null;
    if (this.count > this.limits.maxHandshakes) {
      const victim = this.victim(entry);
      if (victim) {
        this.release(victim);
        evicted = victim.item;
      }
    }
    return { admitted: entry, refusal: "", evicted };
  }

  /** Bytes arrived on a pending handshake: it is no longer silent. */
  heard(entry: Pending<T>, now: number): void {
    if (!entry.active) return;
    entry.heardAt = now;
    if (!entry.heard) {
      entry.heard = true;
      this.silent.delete(entry);
    }
    const pending = (this.groups.get(entry.group) as Group<T>).pending;
    // Re-inserting moves it to the end: the group's Set stays in last-heard order.
    pending.delete(entry);
    pending.add(entry);
  }

  /** The handshake ended (success, failure or close): frees its slot. Harmless twice. */
  release(entry: Pending<T>): void {
    if (!entry.active) return;
    entry.active = false;
    this.silent.delete(entry);
    const group = this.groups.get(entry.group) as Group<T>;
    const before = group.pending.size;
    group.pending.delete(entry);
    this.move(group, before, before - 1);
    if (before === 1) this.groups.delete(group.key);
    this.count--;
  }

  /** Releases and returns the handshakes that have sent nothing for silentTimeoutMs, oldest first. */
  takeSilent(now: number): T[] {
    const expired: Pending<T>[] = [];
    for (const entry of this.silent) {
      if (now - entry.admittedAt < this.limits.silentTimeoutMs) break;
      expired.push(entry);
    }
    for (const entry of expired) this.release(entry);
    return expired.map((entry) => entry.item);
  }

  private add(entry: Pending<T>): void {
    let group = this.groups.get(entry.group);
    if (!group) {
      group = { key: entry.group, pending: new Set() };
      this.groups.set(entry.group, group);
    }
    const before = group.pending.size;
    group.pending.add(entry);
    this.move(group, before, before + 1);
    this.silent.add(entry);
    this.count++;
  }

  private move(group: Group<T>, from: number, to: number): void {
    if (from > 0) this.buckets[from].delete(group);
    if (to > 0) {
      while (this.buckets.length <= to) this.buckets.push(new Set());
      this.buckets[to].add(group);
    }
    if (to > this.top) this.top = to;
    while (this.top > 0 && this.buckets[this.top].size === 0) this.top--;
  }

  /** The longest-silent pending handshake of the busiest group, never `newcomer`. */
  private victim(newcomer: Pending<T>): Pending<T> | null {
    let best: Pending<T> | null = null;
    let scanned = 0;
    for (const group of this.buckets[this.top]) {
      for (const entry of group.pending) {
        // The first one not the newcomer is the group's longest-silent.
        if (entry === newcomer) continue;
        if (!best || entry.heardAt < best.heardAt) best = entry;
        break;
      }
      if (++scanned >= TIE_SCAN) break;
    }
    return best;
  }
}
