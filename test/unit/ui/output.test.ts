import { afterEach, beforeEach, expect, spyOn, test } from "bun:test";
import { emit, type Rendered } from "../../../src/ui/output.ts";

let written: string[] = [];
let spy: ReturnType<typeof spyOn>;
beforeEach(() => {
  written = [];
  spy = spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => spy.mockRestore());

const value = { name: "shop", sizes: [1, 2] };

test("--json prints the value as indented JSON and never calls the renderer", () => {
  let rendered = false;
  emit({ json: true }, value, () => {
    rendered = true;
    return "text";
  });
  expect(rendered).toBe(false);
  expect(written.join("")).toBe(`${JSON.stringify(value, null, 2)}\n`);
  expect(JSON.parse(written.join(""))).toEqual(value);
});

test.each<{ render: Rendered; out: string }>([
  { render: "one block\nof two lines", out: "one block\nof two lines\n" },
  { render: ["a", "b"], out: "a\nb\n" },
  { render: [""], out: "\n" },
  { render: [], out: "" },
])("text: the renderer's $render is printed as $out", ({ render, out }) => {
  emit({}, value, (v) => {
    expect(v).toBe(value);
    return render;
  });
  expect(written.join("")).toBe(out);
});

test("text: control characters in what is shown (a label, a unit name from a snapshot) are escaped; JSON escapes its own", () => {
  const label = "db\u001b]0;owned\u0007";
  emit({}, { label }, (v) => [`unit\t${v.label}`]);
  expect(written.join("")).toBe("unit\tdb\\x1b]0;owned\\x07\n");
  written = [];
  emit({ json: true }, { label }, () => "");
  expect(JSON.parse(written.join(""))).toEqual({ label });
  expect(written.join("")).not.toContain("\u001b");
});

test("--json escapes DEL and the C1 controls too (JSON.stringify leaves them, a terminal acts on them)", () => {
  const label = "x\u009b2J\u007fy\u0085";
  emit({ json: true }, { label }, () => "");
  const out = written.join("");
  expect(out).toContain("x\\u009b2J\\u007fy\\u0085");
  expect(out).not.toMatch(/[\u007f-\u009f]/);
  expect(JSON.parse(out)).toEqual({ label });
});
