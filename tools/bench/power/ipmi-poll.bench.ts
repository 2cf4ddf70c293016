/**
 * Power polling benchmark: N simulated IPMI BMCs (OpenIPMI ipmi_sim processes, one per loopback
 * address, IPMI 2.0 / RMCP+ cipher suite 3) polled once by the rack's power executor under its
 * concurrency cap, against the baseline of freeipmi's `ipmipower` querying the same N hosts in
 * one invocation (`ipmipower -h host1,host2,... --stat`).
 *
 * Rows: the executor as a rack runs it (freeipmi BMCs batched, `maxBatch` hosts per ipmipower
 * run under weighted slots), the executor with batching off (one ipmipower per BMC, as before
 * batching), the executor driving ipmitool (always one process per BMC), and the baseline.
 *
 * For each it prints the wall time of one full polling round and the CPU it cost: the Node
 * process itself plus the tools it ran (children's CPU from /proc/self/stat, in clock ticks).
 * The simulators' own CPU is not counted (they are the BMCs).
 *
 *   node -r ./tools/register.js tools/bench/power/ipmi-poll.bench.ts [bmcs=200] [cap=32] [rounds=3]
 *
 * Needs openipmi and freeipmi-tools (and ipmitool for the ipmitool row).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPowerDrivers } from '@kiln/power/drivers';
import { IpmiSim, startIpmiSims } from '@kiln/power/testing';
import { DEFAULT_EXECUTOR_CONFIG, PowerExecutor } from '../../../apps/rack/src/power/power.executor';

const N = Number(process.argv[2] ?? 200);
const CAP = Number(process.argv[3] ?? 32);
const ROUNDS = Number(process.argv[4] ?? 3);
const TICK_MS = 10; // USER_HZ is 100 on Linux

interface Sample {
  wallMs: number;
  cpuMs: number;
  ok: number;
}

/** CPU of this process (µs precision) plus its reaped children (tick precision), in ms. */
function cpuNow(): { self: number; children: number } {
  const u = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, so cutime/cstime (fields 16, 17) are at 13, 14.
  const children = (Number(f[13]) + Number(f[14])) * TICK_MS;
  return { self: (u.user + u.system) / 1000, children };
}

async function measure(fn: () => Promise<number>): Promise<Sample> {
  const c0 = cpuNow();
  const t0 = performance.now();
  const ok = await fn();
  const wallMs = performance.now() - t0;
  const c1 = cpuNow();
  return { wallMs, cpuMs: c1.self - c0.self + (c1.children - c0.children), ok };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function summarise(samples: Sample[]) {
  return { wallMs: median(samples.map((s) => s.wallMs)), cpuMs: median(samples.map((s) => s.cpuMs)), ok: Math.min(...samples.map((s) => s.ok)) };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  process.stdout.write(`starting ${N} ipmi_sim BMCs... `);
  const sims: IpmiSim[] = await startIpmiSims(N, { chassis: false });
  process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-power-'));
  try {
    const items = sims.map((s) => ({ systemId: s.name, powerType: 'ipmi', params: s.powerParameters() }));
    const policy = { attempts: 3, backoffMs: 500, callTimeoutMs: 10_000 };

    const kiln = (tool: 'freeipmi' | 'ipmitool', maxBatch?: number) => {
      const ex = new PowerExecutor(createPowerDrivers({ ipmi: { tool } }), { maxConcurrent: CAP, jitterMs: 0, policy, ...(maxBatch ? { maxBatch } : {}) });
      return async () => (await ex.queryBatch(items, { spreadMs: 0 })).filter((r) => r.ok).length;
    };

    // The baseline: one ipmipower for every host, credentials in a config file as we pass them.
    const conf = join(dir, 'freeipmi.conf');
    writeFileSync(conf, `username ${sims[0].user}\npassword ${sims[0].password}\n`, { mode: 0o600 });
    const hosts = sims.map((s) => s.address).join(',');
    const baseline = () =>
      new Promise<number>((resolve, reject) =>
        execFile(
          'ipmipower',
          ['--config-file', conf, '--driver-type', 'LAN_2_0', '-I', '3', '-l', 'ADMIN', '-W', 'opensesspriv', '-h', hosts, '--stat'],
          { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
          (err, stdout) => (err ? reject(err) : resolve(stdout.split('\n').filter((l) => /: (on|off)$/.test(l)).length)),
        ),
      );

    // Warm-up (first spawns, page cache), then alternate so background load hits both alike.
    await kiln('freeipmi')();
    await kiln('freeipmi', 1)();
    await baseline();
    const rows: Record<string, Sample[]> = { kilnBatched: [], kilnFreeipmi: [], kilnIpmitool: [], ipmipower: [] };
    for (let r = 0; r < ROUNDS; r++) {
      rows.kilnBatched.push(await measure(kiln('freeipmi')));
      rows.ipmipower.push(await measure(baseline));
      rows.kilnFreeipmi.push(await measure(kiln('freeipmi', 1)));
      rows.kilnIpmitool.push(await measure(kiln('ipmitool')));
    }
    const kb = summarise(rows.kilnBatched);
    const k = summarise(rows.kilnFreeipmi);
    const t = summarise(rows.kilnIpmitool);
    const b = summarise(rows.ipmipower);
    const line = (name: string, s: { wallMs: number; cpuMs: number; ok: number }) =>
      `${name.padEnd(44)} ${String(s.ok).padStart(4)}/${N}  ${s.wallMs.toFixed(0).padStart(7)} ms  ${s.cpuMs.toFixed(0).padStart(7)} ms`;
    const runs = Math.ceil(N / DEFAULT_EXECUTOR_CONFIG.maxBatch);
    console.log(`\n${N} BMCs, cap ${CAP}, median of ${ROUNDS} rounds, ${cpus().length} CPUs; batched: ${runs} ipmipower run(s) of at most ${DEFAULT_EXECUTOR_CONFIG.maxBatch} hosts`);
    console.log(`${'one polling round'.padEnd(44)} answered      wall        CPU`);
    console.log(line('rack executor, batched ipmipower -h <group>', kb));
    console.log(line('rack executor, freeipmi ipmipower per BMC', k));
    console.log(line('rack executor, ipmitool per BMC', t));
    console.log(line('baseline: one ipmipower -h <all> --stat', b));
    console.log(`\nratio rack(batched)/baseline: wall ${(kb.wallMs / b.wallMs).toFixed(2)}x, CPU ${(kb.cpuMs / b.cpuMs).toFixed(2)}x`);
    console.log(`ratio rack(freeipmi per BMC)/baseline: wall ${(k.wallMs / b.wallMs).toFixed(2)}x, CPU ${(k.cpuMs / b.cpuMs).toFixed(2)}x`);
    console.log(`ratio rack(ipmitool per BMC)/baseline: wall ${(t.wallMs / b.wallMs).toFixed(2)}x, CPU ${(t.cpuMs / b.cpuMs).toFixed(2)}x`);
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
