import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExactJson } from "./exact-json.js";

describe("parseExactJson()", () => {
  it("reads what JSON.parse reads", () => {
    const text = '{"a": [1, -2.5, 1e3, true, false, null, "x\\n\\u00e9\\"", {}], "b": {"c": []}, "": 0}';
    assert.deepEqual(parseExactJson(text), JSON.parse(text));
  });

  it("keeps integers beyond 2^53 exact, as bigints, and safe ones as numbers", () => {
    assert.deepEqual(parseExactJson("[18446744073709551615, -9223372036854775808, 9007199254740991, 12]"), [
      18446744073709551615n,
      -9223372036854775808n,
      9007199254740991,
      12,
    ]);
  });

  it("makes __proto__ an own member, not a prototype", () => {
    const value = parseExactJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  for (const [text, message] of [
    ['{"a": 1,}', /line 1 column 9: expected a member name/],
    ['{\n  "a" 1\n}', /line 2 column 7: expected ':'/],
    ["[1 2]", /line 1 column 4: expected ',' or '\]'/],
    ["[1] x", /unexpected text after the value/],
    ['"tab\there"', /invalid string/],
    ["01", /unexpected text/],
    ["1e999", /out of range/],
    ["", /unexpected end/],
    ["[".repeat(200), /nested deeper than 128 levels/],
  ] as const) {
    it(`refuses ${JSON.stringify(text.slice(0, 20))}`, () => {
      assert.throws(() => parseExactJson(text), { name: "SyntaxError", message });
    });
  }
});
