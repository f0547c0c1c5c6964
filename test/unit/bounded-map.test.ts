import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../src/lib/bounded-map";

describe("BoundedMap", () => {
  it("never holds more than its limit, however many keys arrive", () => {
    const map = new BoundedMap<string, number>(3);
    for (let i = 0; i < 1000; i++) map.set(`host-${i}.example`, i);
    expect(map.size).toBe(3);
    expect([map.get("host-997.example"), map.get("host-998.example"), map.get("host-999.example")]).toEqual([997, 998, 999]);
    expect(map.has("host-0.example")).toBe(false);
  });

  it("drops the least recently used entry first: a read keeps an entry", () => {
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1).set("b", 2);
    expect(map.get("a")).toBe(1);
    map.set("c", 3);
    expect(map.has("a")).toBe(true);
    expect(map.has("b")).toBe(false);
    expect(map.has("c")).toBe(true);
  });

  it("replaces a value in place without counting the key twice", () => {
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1).set("a", 2).set("b", 3);
    expect(map.size).toBe(2);
    expect(map.get("a")).toBe(2);
  });

  it("keeps falsy values and answers undefined for a missing key", () => {
    const map = new BoundedMap<string, number | null>(2);
    map.set("zero", 0).set("null", null);
    expect(map.get("zero")).toBe(0);
    expect(map.get("null")).toBeNull();
    expect(map.get("missing")).toBeUndefined();
    expect(map.delete("zero")).toBe(true);
    expect(map.delete("zero")).toBe(false);
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
    expect(() => new BoundedMap(1.5)).toThrow(RangeError);
  });
});
