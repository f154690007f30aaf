"use strict";
// Preloaded into the jsii kernel's Node process (NODE_OPTIONS=--require, set by tools/jsii_runtime.py).
// Does nothing unless TAP_NODE_COMPILE_CACHE names a directory.
//
// Node's compile cache keeps each module's compiled V8 code on disk, keyed by the module's path.
// The jsii kernel loads every package from a new temporary directory on each run
// (<tmp>/jsii-kernel-XXXXXX/node_modules/<package>, symlinks into its package cache, with
// --preserve-symlinks), so those paths never repeat and a plain NODE_COMPILE_CACHE never hits.
// In portable mode Node keys the cache by the path relative to the cache directory. This hook puts
// the cache directory inside that temporary directory, as a symlink to the persistent one, so the
// relative paths (../node_modules/...) are the same on every run. If anything fails, Node compiles
// as before: the cache is an optimization, never a requirement.
const fs = require("node:fs");
const path = require("node:path");
const nodeModule = require("node:module");
const { fileURLToPath } = require("node:url");

const persistent = process.env.TAP_NODE_COMPILE_CACHE;
const KERNEL_MODULES = /^(.*[\\/]jsii-kernel-[^\\/]+)[\\/]node_modules[\\/]/;
const LINK_NAME = "node-compile-cache";

function enableInside(kernelDir) {
  const link = path.join(kernelDir, LINK_NAME);
  try {
    fs.mkdirSync(persistent, { recursive: true, mode: 0o700 });
    if (!fs.existsSync(link)) fs.symlinkSync(persistent, link, "dir");
    const { status } = nodeModule.enableCompileCache({ directory: link, portable: true });
    return status === nodeModule.constants.compileCacheStatus.ENABLED;
  } catch {
    return false;
  }
}

if (persistent) {
  let enabled = false;
  const hooks = nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      const result = nextResolve(specifier, context);
      const match = result.url.startsWith("file:") && KERNEL_MODULES.exec(fileURLToPath(result.url));
      if (match) {
        enabled = enableInside(match[1]);
        hooks.deregister(); // one attempt per process; later requires pay nothing
      }
      return result;
    },
  });
  // Registered before the kernel's own exit handler, which deletes its temporary directory (and
  // the link in it): the cache must be written while the link still resolves.
  process.once("exit", () => {
    if (enabled) nodeModule.flushCompileCache();
  });
}
