import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

/** Every package the library imports at run time must be declared, or installs break for users. */
describe('package.json', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const sources = (readdirSync(__dirname, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
    .map((file) => readFileSync(join(__dirname, file), 'utf8'));
  const imported = new Set(
    sources
      .flatMap((text) => [...text.matchAll(/(?:from|import|require\()\s*'([^'.][^']*)'/g)])
      .map(([, specifier = '']) => {
        const parts = specifier.split('/');
        return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
      })
      .filter((name) => !name.startsWith('node:') && !builtinModules.includes(name)),
  );

  it('declares every package imported from src/', () => {
    expect([...imported].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('imports every package it declares as a dependency or peer', () => {
    // reflect-metadata is a peer the app imports once, for every decorator in the process.
    const appLevel = new Set(['reflect-metadata']);
    expect([...declared].filter((name) => !imported.has(name) && !appLevel.has(name))).toEqual([]);
  });
});
