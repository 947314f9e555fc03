// What the numbers were measured on and at which commit.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from './paths.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  libvips: string;
  /** the NVIDIA GPUs nvidia-smi lists, or why there is none to run on (the sections then ran on the CPU) */
  gpu?: string;
}

export interface Provenance {
  /** ISO date-time of the measurement. */
  measuredAt: string;
  /** `git rev-parse --short HEAD`, with "+dirty" when the working tree has changes. */
  commit: string;
  machine: MachineInfo;
  /** Share of CPU time the machine spent busy in the second before the section started (0–1):
   * other work on the machine skews the timings. */
  busyAtStart: number;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model.trim() ?? 'unknown CPU';
}

function osName(): string {
  try {
    const pretty = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1];
    if (pretty) return `${pretty} (${os.type()} ${os.release()}, ${os.arch()})`;
  } catch {
    /* not Linux */
  }
  return `${os.type()} ${os.release()} (${os.arch()})`;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function gpuNames(): string {
  try {
    const names = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    if (names.length > 0) return names.join(', ');
  } catch {
    /* no driver */
  }
  return 'none available (no NVIDIA driver here); every section ran on the CPU';
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    node: process.version,
    onnxruntime: `onnxruntime-node ${packageVersion('onnxruntime-node')}`,
    libvips: `sharp ${packageVersion('sharp')} / libvips ${sharp.versions.vips}`,
    gpu: gpuNames(),
  };
}

/** Read-only git queries (no optional index refresh): the commit, marked dirty if anything changed. */
export function gitCommit(): string {
  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain') === '' ? head : `${head}+dirty`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function machineTimes(): { idle: number; total: number } {
  return os.cpus().reduce(
    (acc, cpu) => {
      const t = cpu.times;
      return { idle: acc.idle + t.idle, total: acc.total + t.user + t.nice + t.sys + t.idle + t.irq };
    },
    { idle: 0, total: 0 },
  );
}

/**
 * Starts measuring how much CPU other processes take; the returned function gives the share of
 * all cores' time, since the start, that was busy but not this process's (0–1).
 */
export function startForeignCpuMeter(): () => number {
  const machine0 = machineTimes();
  const own0 = process.cpuUsage();
  return () => {
    const machine = machineTimes();
    const own = process.cpuUsage(own0);
    const total = machine.total - machine0.total;
    const busy = total - (machine.idle - machine0.idle);
    return total > 0 ? Math.max(0, (busy - (own.user + own.system) / 1000) / total) : 0;
  };
}

/** Fraction of all cores' time spent non-idle during the next `windowMs` (this process sleeping). */
export async function cpuBusyFraction(windowMs = 1000): Promise<number> {
  const before = machineTimes();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = machineTimes();
  const total = after.total - before.total;
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0;
}

export async function provenance(): Promise<Provenance> {
  const busyAtStart = await cpuBusyFraction();
  return { measuredAt: new Date().toISOString(), commit: gitCommit(), machine: machineInfo(), busyAtStart };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; ${m.os}; Node ${m.node}; ${m.onnxruntime}; ${m.libvips}`;
}
