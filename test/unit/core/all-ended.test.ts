import { expect, test } from "bun:test";
import { allEnded } from "../../../src/core/caught.ts";

test("allEnded gives every value in order", async () => {
  expect(await allEnded([Promise.resolve(1), Promise.resolve("two")])).toEqual([1, "two"]);
});

test("allEnded throws the first failure only once every promise has ended", async () => {
  let slowEnded = false;
  const slow = Bun.sleep(150).then(() => {
    slowEnded = true;
    return 2;
  });
  const error = await allEnded([Promise.reject(new Error("first")), slow]).catch((e) => e);
  expect((error as Error).message).toBe("first");
  // Promise.all would reject at once, with the slow one still running.
  expect(slowEnded).toBe(true);
});
