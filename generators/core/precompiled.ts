// Templates compiled by EJS when the bin is bundled (bin/bundle.mjs replaces this module in the
// bundle): per template, relative to templates/, the sha256 of the source it was compiled from
// and the body of the function EJS made of it. render.ts uses one only while the template's
// source is that source, and compiles the template itself otherwise. Empty in tsc's output.
export const PRECOMPILED: ReadonlyMap<string, { sha256: string; body: string }> = new Map();
