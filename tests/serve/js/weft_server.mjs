// Starts `weft serve` (tiny random model, GPT-2 tokenizer) on a free loopback port for a
// client test and returns {url, stop}. Skips the test (exit 77) when a module is missing.
import { spawn } from "node:child_process";

export async function importOrSkip(name) {
  try {
    return await import(name);
  } catch {
    console.log(`SKIP: npm module '${name}' not installed (run: npm ci --prefix tests/serve/js, or scripts/setup.sh)`);
    process.exit(77);
  }
}

export function startWeft(exe, extra = []) {
  return new Promise((resolve, reject) => {
    const args = ["serve", "--model", "random", "--tokenizer", "gpt2", "--port", "0", "--context", "256", ...extra];
    const child = spawn(exe, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const timer = setTimeout(() => reject(new Error("weft serve did not start within 60 s")), 60000);
    child.on("exit", (code) => reject(new Error(`weft serve exited with ${code}`)));
    child.stdout.on("data", (d) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ url: m[1], stop: () => child.kill("SIGTERM") });
      }
    });
  });
}
