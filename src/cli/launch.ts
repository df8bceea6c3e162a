// `civet train CONFIG --nproc N`: starts N local worker processes of `civet train` (as torchrun
// does), each told its place through torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so a cluster scheduler can start the same workers
// itself. With --nnodes/--node-rank every machine runs one launcher for its own N workers; rank 0
// (node 0, local 0) serves the rendezvous at --master-addr:--master-port.
//
// Faults, as torchrun's elastic agent handles them: when one worker fails (exits non-zero or is
// killed) the others are stopped (SIGTERM, SIGKILL after a grace period), so the group never
// waits for a dead peer; a hung worker makes its peers' next collective fail within the group
// timeout (--timeout), and they exit, which brings the group down. Up to --max-restarts times the
// launcher then starts all workers again, resuming the run from its last checkpoint (rank 0 told
// it the run directory); configuration and usage errors (exit 2) are not retried.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LaunchOptions {
  /** `civet train` arguments of the first attempt (config, --set, --out, ...) */
  trainArgs: string[];
  /** with --resume already among trainArgs */
  resumeDir?: string;
  nproc: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  /** default: a free port on a single node, 29500 across nodes */
  masterPort?: number;
  maxRestarts?: number;
  /** per collective and rendezvous */
  timeoutMs?: number;
  gradSync?: 'reducer' | 'allreduce';
  /** intra-op threads per worker; default: this machine's cores split between its workers */
  threads?: number;
  log?: (line: string) => void;
  /** test hook: called with the children of each attempt once they are started */
  onStart?: (children: ChildProcess[], attempt: number) => void;
}

const CLI = path.resolve(__dirname, '../../../bin/civet');

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); });
  });
}

function checkInt(what: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`--${what}: expected an integer >= ${min}, got ${v}`);
}

/** Runs the workers (and restarts them); resolves with the exit status for the CLI. */
export async function launch(o: LaunchOptions): Promise<number> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const nnodes = o.nnodes ?? 1, nodeRank = o.nodeRank ?? 0, maxRestarts = o.maxRestarts ?? 0;
  checkInt('nproc', o.nproc, 1); checkInt('nnodes', nnodes, 1); checkInt('max-restarts', maxRestarts, 0);
  if (!Number.isInteger(nodeRank) || nodeRank < 0 || nodeRank >= nnodes) throw new RangeError(`--node-rank: expected 0..${nnodes - 1}, got ${nodeRank}`);
  const world = nnodes * o.nproc;
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const threads = o.threads ?? Math.max(1, Math.floor(os.availableParallelism() / o.nproc));
  // rank 0 writes the run directory it trains in here, so a restart resumes that run
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-launch-'));
  const runDirFile = path.join(stateDir, 'run_dir');
  let resumeDir = o.resumeDir ?? null;
  try {
    for (let attempt = 0; ; attempt++) {
      const port = o.masterPort ?? (nnodes === 1 ? await freePort() : 29500);
      const args = resumeDir ? withResume(o.trainArgs, resumeDir, attempt > 0) : o.trainArgs;
      const children: ChildProcess[] = [];
      for (let local = 0; local < o.nproc; local++) {
        const rank = nodeRank * o.nproc + local;
        const env: NodeJS.ProcessEnv = {
          ...process.env, RANK: String(rank), WORLD_SIZE: String(world), LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(o.nproc),
          MASTER_ADDR: masterAddr, MASTER_PORT: String(port), CIVET_LAUNCH_RUN_DIR_FILE: runDirFile,
          TORCHELASTIC_RESTART_COUNT: String(attempt),
        };
        // a worker's own OMP_NUM_THREADS (or run.threads) wins over the split
        if (!process.env.OMP_NUM_THREADS) env.OMP_NUM_THREADS = String(threads);
        if (o.timeoutMs) env.CIVET_DIST_TIMEOUT_MS = String(o.timeoutMs);
        if (o.gradSync) env.CIVET_DDP_GRAD_SYNC = o.gradSync;
        const c = spawn(process.execPath, [CLI, 'train', ...args], { env, stdio: ['ignore', local === 0 && nodeRank === 0 ? 'inherit' : 'ignore', 'pipe'] });
        const tag = `[rank ${rank}] `;
        let pending = '';
        c.stderr!.on('data', (d: Buffer) => {
          const lines = (pending + d.toString()).split('\n');
          pending = lines.pop()!;
          // rank 0 speaks for the run; the others only when something goes wrong
          for (const l of lines) if (rank === 0 || /error|fail|refus|timed out|abort/i.test(l)) log(tag + l);
        });
        c.stderr!.on('end', () => { if (pending) log(tag + pending); });
        children.push(c);
      }
      log(`civet launch: attempt ${attempt + 1}: ${o.nproc} worker(s) on node ${nodeRank} of ${nnodes} (world ${world}), ${process.env.OMP_NUM_THREADS ?? threads} thread(s) each, rendezvous ${masterAddr}:${port}`);
      o.onStart?.(children, attempt);
      const outcome = await superviseAttempt(children, log);
      if (fs.existsSync(runDirFile)) resumeDir = fs.readFileSync(runDirFile, 'utf8').trim() || resumeDir;
      if (outcome.ok) return 0;
      if (outcome.code === 2) { log(`civet launch: ${outcome.what}: configuration or usage error, not restarting`); return 2; }
      if (attempt >= maxRestarts) {
        log(`civet launch: ${outcome.what}; the group is down${maxRestarts ? ` after ${maxRestarts} restart(s)` : ''}`);
        return 1;
      }
      if (!resumeDir) log(`civet launch: ${outcome.what}; no run directory was created yet: starting over`);
      else log(`civet launch: ${outcome.what}; restarting all workers from the last checkpoint of ${resumeDir} (restart ${attempt + 1} of ${maxRestarts})`);
    }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** `--resume DIR` in place of the config (and its --set/--out), breaking the lock a killed rank 0 left. */
function withResume(args: string[], dir: string, afterFailure: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--set' || a === '--out' || a === '--resume') { i++; continue; }
    if (a.startsWith('--set=') || a.startsWith('--out=') || a.startsWith('--resume=') || a === '--break-lock') continue;
    if (!a.startsWith('-')) continue;   // the config file
    out.push(a);
  }
  return ['--resume', dir, ...(afterFailure ? ['--break-lock'] : []), ...out];
}

interface Outcome { ok: boolean; code: number | null; what: string }

/** Waits for all workers; the first failure stops the rest. */
function superviseAttempt(children: ChildProcess[], log: (l: string) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    let left = children.length, first: Outcome | null = null, killTimer: NodeJS.Timeout | null = null;
    const stopOthers = () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      // a stopped (SIGSTOP) or stuck worker ignores SIGTERM
      killTimer = setTimeout(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); }, 3_000);
    };
    children.forEach((c, rank) => {
      c.on('exit', (code, signal) => {
        left--;
        if ((code !== 0 || signal) && !first) {
          first = { ok: false, code, what: `worker ${rank} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}` };
          log(`civet launch: ${first.what}; stopping the other workers`);
          stopOthers();
        }
        if (left === 0) {
          if (killTimer) clearTimeout(killTimer);
          resolve(first ?? { ok: true, code: 0, what: 'done' });
        }
      });
    });
  });
}
