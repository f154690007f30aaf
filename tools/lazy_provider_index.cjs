"use strict";
// Preloaded into the jsii kernel's Node process (NODE_OPTIONS=--require, set by lib/jsii_runtime.py).
//
// @cdktn/provider-aws ships an index that eagerly requires all ~2,400 resource submodules, which
// costs 4-6 s and ~800 MB on every synthesis although a stack uses a few dozen of them. This hook
// rewrites, in memory only, each `exports.x = __importStar(require("./x/index"));` line of that
// one file into a getter that requires the submodule on first use. Files on disk are untouched;
// if the package changes shape and the pattern stops matching, the original source runs unchanged.
const { registerHooks } = require("node:module");

// Both the kernel's node_modules layout and its package cache (<version>/<hash>/lib/index.js).
const PROVIDER_INDEX = /\/@cdktn\/provider-aws\/(?:[^/]+\/){0,2}lib\/index\.js$/;
const EAGER_EXPORT = /^exports\.(\w+) = __importStar\(require\("(\.\/[\w-]+\/index)"\)\);$/gm;

function lazyExport(_line, name, path) {
  return (
    `Object.defineProperty(exports, "${name}", { enumerable: true, configurable: true, get() {` +
    ` const m = __importStar(require("${path}"));` +
    ` Object.defineProperty(exports, "${name}", { value: m, enumerable: true }); return m; } });`
  );
}

registerHooks({
  load(url, context, nextLoad) {
    const result = nextLoad(url, context);
    if (!PROVIDER_INDEX.test(url) || result.source == null) return result;
    return { ...result, source: String(result.source).replace(EAGER_EXPORT, lazyExport) };
  },
});
