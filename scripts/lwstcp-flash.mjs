#!/usr/bin/env node
// lwstcp-flash: the package's upload command (scripts/flash.mjs, which `npm run flash` runs in a checkout).
import { runFlash } from "./flash.mjs";

runFlash("lwstcp-flash");
