// Marks the package's bin files (package.json "bin", written by tsc without the execute bit)
// executable, so `./build/server/cli/lwstcp-server.js` runs from a checkout and the packed
// tarball carries them as 0755 like any other command.
import { chmodSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./boards.mjs";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
for (const file of Object.values(pkg.bin)) {
  const path = join(ROOT, file);
  chmodSync(path, statSync(path).mode | 0o111);
}
