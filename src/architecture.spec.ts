import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The import graph of src/ (type imports included): it has no cycle, and the lower layer (the
 * contracts and shared pieces everything else builds on) imports nothing from above it.
 */
const LOWER_LAYER = [
  /^common\//,
  /^errors\/auth\.errors\.ts$/,
  /^auth\.constants\.ts$/,
  /^auth-options\.interface\.ts$/,
  /^tokens\/token-claims\.interface\.ts$/,
  /^context\/auth-request\.ts$/,
  /^revocation\/revocation-store\.ts$/,
  /^rate-limit\/rate-limit\.store\.ts$/,
  /^audit\/audit-event\.ts$/,
];

function importGraph(): Map<string, string[]> {
  const files = (readdirSync(__dirname, { recursive: true }) as string[]).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
  );
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(__dirname, file), 'utf8');
    const imports = [...text.matchAll(/from\s+'(\.{1,2}\/[^']*)'/g)].map(([, specifier = '']) => {
      const target = resolve(__dirname, dirname(file), specifier);
      const path = existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts');
      return relative(__dirname, path);
    });
    graph.set(file, imports);
  }
  return graph;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('has no cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('keeps the lower layer from importing anything above it', () => {
    const lower = (file: string) => LOWER_LAYER.some((pattern) => pattern.test(file));
    const upward = [...graph]
      .filter(([file]) => lower(file))
      .flatMap(([file, imports]) => imports.filter((i) => !lower(i)).map((i) => `${file} -> ${i}`));
    expect(upward).toEqual([]);
  });
});
