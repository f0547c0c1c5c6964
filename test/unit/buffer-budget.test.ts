import { describe, expect, it } from "vitest";
import { BufferBudget, PartBuffers, UploadCapacityError } from "../../src/storage/buffer-budget";

describe("BufferBudget", () => {
  it("hands out bytes while they last and takes them back", () => {
    const budget = new BufferBudget(10);
    expect(budget.tryTake(6)).toBe(true);
    expect(budget.tryTake(5)).toBe(false);
    expect(budget.tryTake(4)).toBe(true);
    expect(budget.freeBytes).toBe(0);
    budget.give(6);
    expect(budget.freeBytes).toBe(6);
  });

  it("never grows past its size, whatever is given back", () => {
    const budget = new BufferBudget(10);
    budget.give(5);
    expect(budget.freeBytes).toBe(10);
  });
});

describe("PartBuffers", () => {
  it("allocates new buffers while the budget allows, then refills the ones given back", async () => {
    const budget = new BufferBudget(20);
    const buffers = new PartBuffers(budget, 10);
    const a = await buffers.take();
    const b = await buffers.take();
    expect(budget.freeBytes).toBe(0);
    // Budget spent: the third waits for a part of this upload to come back.
    let third: Uint8Array | undefined;
    const waiting = buffers.take().then((buffer) => {
      third = buffer;
    });
    await Promise.resolve();
    expect(third).toBeUndefined();
    buffers.give(a);
    await waiting;
    expect(third?.buffer).toBe(a.buffer);
    buffers.give(b);
    expect((await buffers.take()).buffer).toBe(b.buffer);
  });

  it("refuses an upload that holds no buffer when the budget is spent", async () => {
    const budget = new BufferBudget(10);
    const first = new PartBuffers(budget, 10);
    await first.take();
    const error = await new PartBuffers(budget, 10).take().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadCapacityError);
    expect(error).toMatchObject({ budgetBytes: 10 });
  });

  it("gives every buffer it held back to the budget when the upload ends", async () => {
    const budget = new BufferBudget(30);
    const buffers = new PartBuffers(budget, 10);
    const a = await buffers.take();
    await buffers.take();
    buffers.give(a.subarray(0, 3));
    expect(budget.freeBytes).toBe(10);
    buffers.release();
    expect(budget.freeBytes).toBe(30);
    // A short last part is a view of a whole buffer; it comes back whole.
    expect((await buffers.take()).byteLength).toBe(10);
  });
});
