// Admission on its own (server/admission.ts: no sockets, no clock): who keeps a handshake slot
// when they run short, the per-address backstop, silent connections, and address groups.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Admission, addressGroup, type Pending } from "../server/admission.js";
import { REFUSED_ADDRESS_LIMIT } from "../server/reasons.js";

const limits = (maxHandshakes: number, maxPerGroup = 1000, silentTimeoutMs = 2000) => ({ maxHandshakes, maxPerGroup, silentTimeoutMs });

describe("admission: handshake slots under pressure", () => {
  it("admits everyone while slots are free, and counts per address", () => {
    const a = new Admission<string>(limits(4));
    for (const [item, group] of [
      ["a1", "10.0.0.1"],
      ["a2", "10.0.0.1"],
      ["b1", "10.0.0.2"],
    ]) {
      const v = a.admit(item, group, 0);
      assert.ok(v.admitted);
      assert.equal(v.evicted, null);
    }
    assert.equal(a.size, 3);
    assert.equal(a.pendingIn("10.0.0.1"), 2);
    assert.equal(a.largestGroup, 2);
  });

  it("when the slots run short, the newcomer stays and the longest-silent handshake of the busiest address goes", () => {
    const a = new Admission<string>(limits(4));
    a.admit("flood1", "10.0.0.1", 0);
    a.admit("flood2", "10.0.0.1", 1);
    a.admit("flood3", "10.0.0.1", 2);
    a.admit("honest1", "10.0.0.2", 3);
    const v = a.admit("honest2", "10.0.0.3", 4);
    assert.ok(v.admitted);
    assert.equal(v.evicted, "flood1");
    assert.equal(a.size, 4);
    assert.equal(a.pendingIn("10.0.0.1"), 2);
    // A newcomer from the flooding address evicts its own address's oldest, not an honest one.
    assert.equal(a.admit("flood4", "10.0.0.1", 5).evicted, "flood2");
  });

  it("prefers the longest-silent: a handshake that was heard from recently is kept over an older silent one", () => {
    const a = new Admission<string>(limits(3));
    const first = a.admit("talks", "10.0.0.1", 0).admitted as Pending<string>;
    a.admit("silent", "10.0.0.1", 10);
    a.admit("other", "10.0.0.1", 20);
    a.heard(first, 30);
    assert.equal(a.admit("new", "10.0.0.9", 40).evicted, "silent");
  });

  it("never evicts the newcomer, even when its own address is the busiest", () => {
    const a = new Admission<string>(limits(1));
    a.admit("old", "10.0.0.1", 0);
    const v = a.admit("new", "10.0.0.1", 0);
    assert.equal(v.evicted, "old");
    assert.equal((v.admitted as Pending<string>).item, "new");
    assert.equal(a.size, 1);
  });

  it("refuses a newcomer whose address holds maxPerGroup pending handshakes (address-limit), whatever the free slots", () => {
    const a = new Admission<string>(limits(100, 2));
    a.admit("1", "10.0.0.1", 0);
    a.admit("2", "10.0.0.1", 0);
    assert.equal(a.refusal("10.0.0.1"), REFUSED_ADDRESS_LIMIT);
    const v = a.admit("3", "10.0.0.1", 0);
    assert.deepEqual(v, { admitted: null, refusal: REFUSED_ADDRESS_LIMIT, evicted: null });
    assert.ok(a.admit("x", "10.0.0.2", 0).admitted);
  });

  it("hands back handshakes silent for silentTimeoutMs, oldest first, but not one that sent a byte", () => {
    const a = new Admission<string>(limits(100, 100, 1000));
    a.admit("s1", "10.0.0.1", 0);
    const talker = a.admit("t", "10.0.0.1", 100).admitted as Pending<string>;
    a.admit("s2", "10.0.0.2", 500);
    a.heard(talker, 200);
    assert.deepEqual(a.takeSilent(999), []);
    assert.deepEqual(a.takeSilent(1200), ["s1"]);
    assert.deepEqual(a.takeSilent(5000), ["s2"]);
    assert.equal(a.size, 1);
  });

  it("release frees the slot once (twice is harmless), and a released entry is never evicted", () => {
    const a = new Admission<string>(limits(2));
    const e = a.admit("a", "10.0.0.1", 0).admitted as Pending<string>;
    a.admit("b", "10.0.0.1", 1);
    a.release(e);
    a.release(e);
    a.heard(e, 5);
    assert.equal(a.size, 1);
    assert.equal(a.admit("c", "10.0.0.2", 2).evicted, null);
    assert.equal(a.admit("d", "10.0.0.3", 3).evicted, "b");
  });

  it("keeps its counts exact under any sequence of admit, heard, release and takeSilent (property, fixed seed)", () => {
    const seed = 1207;
    const op = fc.record({
      kind: fc.constantFrom("admit", "heard", "release", "silent"),
      group: fc.integer({ min: 0, max: 5 }),
      pick: fc.nat(),
      dt: fc.nat(300),
    });
    try {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 8 }), (ops, maxHandshakes, maxPerGroup) => {
          const a = new Admission<number>(limits(maxHandshakes, maxPerGroup, 500));
          const live: Array<Pending<number>> = [];
          let now = 0;
          let id = 0;
          const drop = (item: number) =>
            live.splice(
              live.findIndex((e) => e.item === item),
              1,
            );
          for (const o of ops) {
            now += o.dt;
            if (o.kind === "admit") {
              const group = "10.0.0." + o.group;
              const before = live.filter((e) => e.group === group).length;
              const v = a.admit(id++, group, now);
              if (before >= maxPerGroup) assert.equal(v.refusal, REFUSED_ADDRESS_LIMIT);
              else {
                if (v.evicted !== null) {
                  // The evicted one came from a group at least as busy as any other.
                  const victim = live.find((e) => e.item === v.evicted) as Pending<number>;
                  const counts = new Map<string, number>();
                  for (const e of [...live, v.admitted as Pending<number>]) counts.set(e.group, (counts.get(e.group) || 0) + 1);
                  assert.equal(counts.get(victim.group), Math.max(...counts.values()));
                  drop(v.evicted);
                }
                live.push(v.admitted as Pending<number>);
              }
            } else if (o.kind === "heard" && live.length) a.heard(live[o.pick % live.length], now);
            else if (o.kind === "release" && live.length) {
              const e = live[o.pick % live.length];
              a.release(e);
              drop(e.item);
            } else if (o.kind === "silent") for (const item of a.takeSilent(now)) drop(item);
            assert.equal(a.size, live.length);
            assert.ok(a.size <= maxHandshakes);
            for (let g = 0; g <= 5; g++) assert.equal(a.pendingIn("10.0.0." + g), live.filter((e) => e.group === "10.0.0." + g).length);
          }
        }),
        { seed, numRuns: 300 },
      );
    } catch (e) {
      throw new Error("seed " + seed + ": " + (e as Error).message);
    }
  });
});

describe("admission: address groups", () => {
  it("IPv4 and IPv4-mapped IPv6 are the address; IPv6 is its /64", () => {
    assert.equal(addressGroup("127.0.0.2"), "127.0.0.2");
    assert.equal(addressGroup("::ffff:10.1.2.3"), "10.1.2.3");
    assert.equal(addressGroup("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
    assert.equal(addressGroup("2001:db8:1:2::1"), "2001:db8:1:2::/64");
    assert.equal(addressGroup("2001:db8:1:2:ffff::9%eth0"), "2001:db8:1:2::/64");
    assert.equal(addressGroup("2001:db8::1"), "2001:db8:0:0::/64");
    assert.equal(addressGroup("::1"), "0:0:0:0::/64");
    assert.equal(addressGroup("2001:0DB8:0001:0002::"), "2001:db8:1:2::/64");
    assert.notEqual(addressGroup("2001:db8:1:3::1"), addressGroup("2001:db8:1:2::1"));
  });
});
