import { defineCommand } from "citty";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: { name: "drill", description: "Prove a bundle works" },
  args: { ...commonArgs },
  run() {},
});
