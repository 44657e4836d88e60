// Runs the load generator (bench/loadgen) to completion for the tests that drive a server with it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { roundsBinary } from './server.mjs';

export const loadgenBinary = path.join(path.dirname(roundsBinary), 'bench', 'loadgen', 'rounds-loadgen');

// Resolves with its exit code, the JSON result lines it printed and its stderr; a run still going
// after 25 s is killed (its code is then null).
export function runLoadgen(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(loadgenBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const results = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      resolve({ code, results, stderr });
    });
  });
}
