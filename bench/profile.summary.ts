// Self time by function (and by package) of a V8 .cpuprofile: `node --import tsx bench/profile.summary.ts <file>`.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarize(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    total += delta;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url
      .replace(/^.*node_modules\/\.pnpm\/([^/]+)\/.*$/, '$1')
      .replace(/^.*\/work\/main\//, '');
    const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + delta);
    const pkg = where.split(/[/:]/)[0] || frame.functionName;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + delta);
  });
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, us]) =>
          `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`,
      )
      .join('\n');
  return `total ${(total / 1e6).toFixed(2)} s\n-- by function (self)\n${rows(self)}\n-- by package\n${rows(byPackage)}`;
}

if (process.argv[2]) console.log(summarize(process.argv[2], Number(process.argv[3] ?? 25)));
