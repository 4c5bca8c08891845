import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { checkedGuestTime, GUEST_TIME_END_SEC } from "./guest-time.js";

const invalid = (pattern: RegExp) => ({ code: Code.INVALID_ARGUMENT, message: pattern });

describe("checkedGuestTime()", () => {
  it("passes times the kernel accepts on as numbers", () => {
    assert.deepEqual(checkedGuestTime(1n, 0n), { sec: 1, usec: 0 });
    assert.deepEqual(checkedGuestTime(1_764_201_600n, 999_999n), { sec: 1_764_201_600, usec: 999_999 });
    assert.deepEqual(checkedGuestTime(GUEST_TIME_END_SEC - 1n, 0n), {
      sec: Number(GUEST_TIME_END_SEC) - 1,
      usec: 0,
    });
  });

  it("refuses microseconds outside one second", () => {
    assert.throws(() => checkedGuestTime(1n, -1n), invalid(/Usec -1 is not a microsecond count/));
    assert.throws(() => checkedGuestTime(1n, 1_000_000n), invalid(/Usec 1000000/));
    assert.throws(() => checkedGuestTime(1n, 2n ** 63n - 1n), invalid(/Usec 9223372036854775807/));
  });

  it("refuses Sec 0, what an empty request carries", () => {
    assert.throws(() => checkedGuestTime(0n, 0n), invalid(/Sec 0 is the Unix epoch itself/));
    assert.throws(() => checkedGuestTime(0n, 5n), invalid(/not setting the clock to 1970/));
  });

  it("refuses times before 1970", () => {
    assert.throws(() => checkedGuestTime(-1n, 0n), invalid(/Sec -1 is before 1970/));
    assert.throws(() => checkedGuestTime(-(2n ** 63n), 0n), invalid(/before 1970/));
  });

  it("refuses times from 2232-04-18T23:47:16Z on, where the kernel stops", () => {
    assert.throws(
      () => checkedGuestTime(GUEST_TIME_END_SEC, 0n),
      invalid(/Sec 8277292036 is at or after 2232-04-18T23:47:16.000Z/),
    );
    assert.throws(() => checkedGuestTime(2n ** 63n - 1n, 0n), invalid(/beyond which Linux refuses/));
  });
});
