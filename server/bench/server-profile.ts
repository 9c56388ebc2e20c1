/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time by package or source
 * file, and the functions with the most self and inclusive time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { repoRoot } from '../src/common/paths';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileEntry {
  name: string;
  /** Percent of all samples (idle included). */
  percent: number;
}

export interface ProfileSummary {
  totalSec: number;
  /** Share of samples the main thread was idle (waiting for I/O). */
  idlePercent: number;
  byPackage: ProfileEntry[];
  selfTop: ProfileEntry[];
  inclusiveTop: ProfileEntry[];
}

/** `node_modules/<pkg>`, `server/src/<folder>`, `node:internal`, or the V8 pseudo-frames ((garbage collector), …). */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = file.slice(modules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (file.startsWith('node:')) return 'node (built-in)';
  const relative = path.relative(repoRoot, file);
  if (!relative.startsWith('..')) return path.dirname(relative);
  return file;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  const where = modules >= 0 ? file.slice(modules + 'node_modules/'.length) : path.relative(repoRoot, file);
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const pct = (hits: number) => (100 * hits) / Math.max(1, totalHits);

  const selfByName = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (node.callFrame.functionName === '(idle)') idle += hits;
    selfByName.set(frameName(node), (selfByName.get(frameName(node)) ?? 0) + hits);
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + hits);
  }

  // Inclusive: a node's self hits count once for every distinct function on its stack (recursion counted once).
  const inclusive = new Map<string, number>();
  const root = profile.nodes[0];
  const walk = (node: ProfileNode, onStack: ReadonlySet<string>) => {
    const name = frameName(node);
    const stack = onStack.has(name) ? onStack : new Set([...onStack, name]);
    const hits = node.hitCount ?? 0;
    if (hits > 0) for (const f of stack) inclusive.set(f, (inclusive.get(f) ?? 0) + hits);
    for (const child of node.children ?? []) walk(byId.get(child)!, stack);
  };
  walk(root, new Set());

  const ranked = (map: Map<string, number>, skip: (name: string) => boolean) =>
    [...map.entries()]
      .filter(([name]) => !skip(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ name, percent: pct(hits) }));
  const pseudo = (name: string) => name.startsWith('(root)') || name.startsWith('(program)') || name.startsWith('(idle)');
  return {
    totalSec: (profile.endTime - profile.startTime) / 1e6,
    idlePercent: pct(idle),
    byPackage: ranked(selfByPackage, (name) => name === '(idle)'),
    selfTop: ranked(selfByName, (name) => name.startsWith('(idle)')),
    // Frames every sample passes through (processTicksAndRejections, listOnTimeout, …) say nothing.
    inclusiveTop: ranked(
      inclusive,
      (name) =>
        pseudo(name) ||
        /^(processTicksAndRejections|listOnTimeout|processTimers|runMicrotasks|emit|emitAfterScript|afterWrite|onStreamRead|parserOnIncoming|parserOnHeadersComplete|parserOnBody|parserOnMessageComplete) /.test(
          name,
        ),
    ),
  };
}
