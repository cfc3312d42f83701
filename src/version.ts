import pkg from "../package.json" with { type: "json" };

declare const __VERSION__: string | undefined;
declare const __COMMIT__: string | undefined;

/** The tool's version: baked in by build.ts, or package.json's when run from source. */
export const VERSION: string = typeof __VERSION__ === "string" ? __VERSION__ : pkg.version;
/** The git commit the binary was built from ("dev" from source). */
export const COMMIT: string = typeof __COMMIT__ === "string" ? __COMMIT__ : "dev";
