import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  escapeHelp,
  escapeLabelValue,
  exposition,
  FamilySamples,
  type FamilyShape,
  formatValue,
} from "./exposition.js";

const DISK: FamilyShape = { name: "disk_stat", help: "Disks.", type: "gauge", labelNames: ["disk", "item"] };
const COUNT: FamilyShape = { name: "scrapes", help: "Scrape count", type: "counter", labelNames: [] };

describe("exposition", () => {
  it("escapes backslash, double quote and newline in label values, and only those", () => {
    assert.equal(escapeLabelValue("/mnt/plain-name_1"), "/mnt/plain-name_1");
    assert.equal(escapeLabelValue('a\\b"c\nd\te'), 'a\\\\b\\"c\\nd\te');
  });

  it("escapes backslash and newline in HELP, not the double quote", () => {
    assert.equal(escapeHelp('say "a\\b"\nnext'), 'say "a\\\\b"\\nnext');
  });

  it("writes NaN and the infinities as Go does, and finite values in the shortest exact decimal", () => {
    assert.deepEqual(
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 0.07, 2 ** 64, 1e21, -3].map(
        formatValue,
      ),
      ["NaN", "+Inf", "-Inf", "0", "0", "0.07", "18446744073709552000", "1e+21", "-3"],
    );
  });

  it("writes an item family's labels in its order, the item last, and a family without labels bare", () => {
    const disk = new FamilySamples(DISK);
    disk.items({ disk: 'v"da' }, [
      ["reads", 5],
      ["writes", 0.5],
    ]);
    const count = new FamilySamples(COUNT);
    count.value(3);
    assert.equal(
      exposition([disk, count]),
      [
        "# HELP disk_stat Disks.",
        "# TYPE disk_stat gauge",
        'disk_stat{disk="v\\"da",item="reads"} 5',
        'disk_stat{disk="v\\"da",item="writes"} 0.5',
        "",
        "# HELP scrapes Scrape count",
        "# TYPE scrapes counter",
        "scrapes 3",
        "",
      ].join("\n"),
    );
  });

  it("leaves out families without samples, and makes no text of none", () => {
    const empty = new FamilySamples(DISK);
    const count = new FamilySamples(COUNT);
    count.value(1);
    assert.equal(
      exposition([empty, count, new FamilySamples(DISK)]),
      "# HELP scrapes Scrape count\n# TYPE scrapes counter\nscrapes 1\n",
    );
    assert.equal(exposition([empty]), "");
  });
});
